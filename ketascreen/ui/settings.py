"""Typed access to the app's QSettings: window geometry, last-used folders, recent files."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from PySide6.QtCore import QByteArray, QSettings

FolderPurpose = Literal["open", "save", "import", "certificate", "checklist"]
RECENT_LIMIT = 12


class AppSettings:
    """The settings the app remembers between sessions.

    Args:
        store: the QSettings to read and write (tests pass an INI file in a temporary folder).
    """

    def __init__(self, store: QSettings) -> None:
        self.store = store

    def _bytes(self, key: str) -> QByteArray | None:
        value = self.store.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def _text(self, key: str) -> str:
        value = self.store.value(key)
        return value if isinstance(value, str) else ""

    def _list(self, key: str) -> list[str]:
        value = self.store.value(key)
        if isinstance(value, str):  # an INI file gives one item back as a plain string
            return [value] if value else []
        if isinstance(value, list):
            return [str(v) for v in value if isinstance(v, str) and v]
        return []

    def geometry(self) -> QByteArray | None:
        """The main window's saved geometry."""
        return self._bytes("window/geometry")

    def set_geometry(self, geometry: QByteArray) -> None:
        """Remember the main window's geometry."""
        self.store.setValue("window/geometry", geometry)

    def window_state(self) -> QByteArray | None:
        """The main window's saved state (tool bars, docks)."""
        return self._bytes("window/state")

    def set_window_state(self, state: QByteArray) -> None:
        """Remember the main window's state."""
        self.store.setValue("window/state", state)

    def splitter(self) -> QByteArray | None:
        """The saved sizes of the list, form and findings panes."""
        return self._bytes("window/splitter")

    def set_splitter(self, state: QByteArray) -> None:
        """Remember the sizes of the list, form and findings panes."""
        self.store.setValue("window/splitter", state)

    def folder(self, purpose: FolderPurpose) -> str:
        """The folder last used for ``purpose`` (empty when none yet)."""
        return self._text(f"folders/{purpose}")

    def set_folder(self, purpose: FolderPurpose, path: Path) -> None:
        """Remember the folder of ``path`` (or ``path`` itself if it is a folder)."""
        folder = path if path.is_dir() else path.parent
        self.store.setValue(f"folders/{purpose}", str(folder))

    def certificate(self) -> str:
        """The signing certificate (PKCS#12 key store) last used."""
        return self._text("signing/certificate")

    def set_certificate(self, path: Path) -> None:
        """Remember the signing certificate's path (never its passphrase)."""
        self.store.setValue("signing/certificate", str(path))

    def page_size(self) -> Literal["letter", "a4"]:
        """The checklist's page size."""
        return "a4" if self._text("checklist/page_size") == "a4" else "letter"

    def set_page_size(self, size: Literal["letter", "a4"]) -> None:
        """Remember the checklist's page size."""
        self.store.setValue("checklist/page_size", size)

    def recent(self, kind: Literal["cases", "checklists"]) -> list[Path]:
        """Recently used case files or written checklists, newest first."""
        return [Path(p) for p in self._list(f"recent/{kind}")]

    def add_recent(self, kind: Literal["cases", "checklists"], path: Path) -> None:
        """Put ``path`` first in the recent list of ``kind``."""
        entries = [str(path)] + [p for p in self._list(f"recent/{kind}") if p != str(path)]
        self.store.setValue(f"recent/{kind}", entries[:RECENT_LIMIT])

    def sync(self) -> None:
        """Write pending changes to the store."""
        self.store.sync()
