"""Autosaved drafts of the screening form, offered back after a crash.

Each open screening owns one draft file, ``<id>.json``, in the drafts folder, and holds a lock
file ``<id>.lock`` (QLockFile: process id, host and application name) while it is open. A draft
whose lock is free belongs to nobody: its process crashed or was killed, so the next window
offers it back. A draft is deleted when its screening is saved to a case file or deliberately
discarded. Drafts hold the form as typed, including values that are not valid yet (``"70"``
with no unit, a half-answered DAST-10), so nothing typed is lost.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile

from ketascreen.ui import actions

DRAFT_FORMAT = "ketascreen-draft/1"


@dataclass(frozen=True)
class Draft:
    """A draft found on disk.

    Attributes:
        id: the draft's id (its file name without suffix).
        path: the draft file.
        saved_at: when it was last written.
        label: the patient as the form showed it (``"Alex Rivera (MRN-0042)"``).
        source: the case file the screening came from, if any.
        state: the form's state, as typed.
        import_warnings: FHIR import warnings (code, message, resource), if it was imported.
    """

    id: str
    path: Path
    saved_at: datetime
    label: str
    source: Path | None
    state: dict[str, Any]
    import_warnings: tuple[tuple[str, str, str | None], ...]


class DraftSlot:
    """The draft file of one open screening, locked while the screening is open.

    Args:
        directory: the drafts folder.
        draft_id: the draft's id.
        lock: the draft's lock, already held.
    """

    def __init__(self, directory: Path, draft_id: str, lock: QLockFile) -> None:
        self.id = draft_id
        self.path = directory / f"{draft_id}.json"
        self._lock = lock

    def write(self, *, state: dict[str, Any], label: str, source: Path | None,
              import_warnings: tuple[tuple[str, str, str | None], ...] = ()) -> None:
        """Write the draft atomically (a crash mid-write leaves the previous draft).

        Raises:
            OSError: the drafts folder is not writable.
        """
        data = {"format": DRAFT_FORMAT, "saved_at": datetime.now().isoformat(timespec="seconds"),
                "label": label, "source": None if source is None else str(source),
                "import_warnings": [list(w) for w in import_warnings], "state": state}
        actions.write_file(path=self.path,
                           data=json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"),
                           force=True)

    def clear(self) -> None:
        """Delete the draft file, keeping the lock (the screening was saved and stays open)."""
        self.path.unlink(missing_ok=True)

    def discard(self) -> None:
        """Delete the draft file and release the lock (the screening was closed)."""
        self.clear()
        self.release()

    def release(self) -> None:
        """Release the lock, keeping the draft file (it will be offered back)."""
        if self._lock.isLocked():
            self._lock.unlock()


class DraftStore:
    """The drafts folder.

    Args:
        directory: the folder; created when missing.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def _lock(self, draft_id: str) -> QLockFile | None:
        lock = QLockFile(str(self.directory / f"{draft_id}.lock"))
        lock.setStaleLockTime(0)  # stale only when the owning process is gone, never by age
        return lock if lock.tryLock(0) else None

    def claim(self) -> DraftSlot:
        """A new, locked draft slot for a screening.

        Raises:
            OSError: the lock file cannot be created.
        """
        draft_id = uuid.uuid4().hex
        lock = self._lock(draft_id)
        if lock is None:  # pragma: no cover - a fresh uuid is never locked
            raise OSError(f"cannot lock draft {draft_id}")
        return DraftSlot(self.directory, draft_id, lock)

    def adopt(self, draft: Draft) -> DraftSlot | None:
        """Take over an orphaned draft (its screening is being restored); ``None`` if another
        window took it first."""
        lock = self._lock(draft.id)
        return None if lock is None else DraftSlot(self.directory, draft.id, lock)

    def orphans(self) -> list[Draft]:
        """Drafts nobody holds (left by a crash), newest first. Unreadable files are skipped."""
        found: list[Draft] = []
        for path in self.directory.glob("*.json"):
            lock = self._lock(path.stem)
            if lock is None:  # an open screening of a running window owns it
                continue
            lock.unlock()
            draft = _read(path)
            if draft is not None:
                found.append(draft)
        return sorted(found, key=lambda d: d.saved_at, reverse=True)

    def discard(self, draft: Draft) -> None:
        """Delete an orphaned draft the user chose not to restore."""
        lock = self._lock(draft.id)
        if lock is None:
            return
        draft.path.unlink(missing_ok=True)
        lock.unlock()
        (self.directory / f"{draft.id}.lock").unlink(missing_ok=True)


def _read(path: Path) -> Draft | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != DRAFT_FORMAT or not isinstance(data.get("state"), dict):
            return None
        source = data.get("source")
        return Draft(id=path.stem, path=path, saved_at=datetime.fromisoformat(data["saved_at"]),
                     label=str(data.get("label") or "Unnamed screening"),
                     source=Path(source) if isinstance(source, str) else None,
                     state=data["state"],
                     import_warnings=tuple(
                         (str(w[0]), str(w[1]), None if w[2] is None else str(w[2]))
                         for w in data.get("import_warnings", [])))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
