"""The patient / screening list on the left of the main window, and the small interface that
feeds it.

The list is fed by the files the app knows (recently opened or saved case files, drafts left by
a crash, recently signed checklists) and, once someone has signed in to the records database, by
today's signed checklists there (:class:`TodaysChecklists`, the nurse worklist); the list does
not care where entries come from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ketascreen.errors import KetascreenError
from ketascreen.ui.drafts import DraftStore
from ketascreen.ui.settings import AppSettings

EntryKind = Literal["case", "draft", "checklist", "record"]
_ENTRY_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass(frozen=True)
class ScreeningEntry:
    """One line of the list.

    Attributes:
        kind: a case file, a draft, a signed checklist, or (later) a database record.
        label: the patient, e.g. ``Alex Rivera (MRN-0042)``.
        detail: the second line: date, file name, state.
        key: what opens it: a path for files and drafts, a record id for a database.
    """

    kind: EntryKind
    label: str
    detail: str
    key: str


class ScreeningSource(Protocol):
    """Anything that lists screenings: files today, the records database tomorrow."""

    title: str

    def entries(self) -> list[ScreeningEntry]:
        """The entries to list, most relevant first."""


def _case_label(path: Path) -> tuple[str, str]:
    """The patient and screening date of a case file, read cheaply (no validation)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        patient = data.get("patient", {})
        name = str(patient.get("name") or "Unnamed patient")
        ident = patient.get("id")
        label = f"{name} ({ident})" if ident else name
        return label, str(data.get("screening_date") or "")
    except (OSError, ValueError, AttributeError):
        return path.name, "(cannot be read)"


class RecentCases:
    """Case files recently opened or saved."""

    title = "Recent case files"

    def __init__(self, settings: AppSettings) -> None:
        self._settings = settings

    def entries(self) -> list[ScreeningEntry]:
        """One entry per recent case file that still exists."""
        found = []
        for path in self._settings.recent("cases"):
            if path.exists():
                label, day = _case_label(path)
                found.append(ScreeningEntry("case", label, f"screening {day} \u00b7 {path.name}",
                                            str(path)))
        return found


class RecoveredDrafts:
    """Drafts left behind by a session that ended without saving (a crash)."""

    title = "Unsaved drafts (recovered)"

    def __init__(self, store: DraftStore | None) -> None:
        self._store = store

    def entries(self) -> list[ScreeningEntry]:
        """One entry per orphaned draft."""
        if self._store is None:
            return []
        return [ScreeningEntry("draft", draft.label,
                               f"draft autosaved {draft.saved_at:%Y-%m-%d %H:%M}", str(draft.path))
                for draft in self._store.orphans()]


class SignedChecklists:
    """Checklists signed on this computer, newest first."""

    title = "Signed checklists"

    def __init__(self, settings: AppSettings) -> None:
        self._settings = settings

    def entries(self) -> list[ScreeningEntry]:
        """One entry per recently signed checklist that still exists."""
        found = []
        for path in self._settings.recent("checklists"):
            if path.exists():
                when = datetime.fromtimestamp(path.stat().st_mtime)
                today = when.date() == datetime.now().date()
                found.append(ScreeningEntry(
                    "checklist", path.stem,
                    ("TODAY " if today else "") + f"signed {when:%Y-%m-%d %H:%M} \u00b7 "
                    "open to preview and print", str(path)))
        return found


class TodaysChecklists:
    """Today's signed checklists in the records database (the nurse worklist).

    Args:
        load: today's entries as (label, detail, record id); may raise a core error, which is
            kept in :attr:`problem` and the source lists nothing.
    """

    title = "Today's signed checklists"

    def __init__(self, load: Callable[[], list[tuple[str, str, str]]]) -> None:
        self._load = load
        self.problem: Exception | None = None

    def entries(self) -> list[ScreeningEntry]:
        """One entry per current signed checklist of today, oldest first."""
        self.problem = None
        try:
            rows = self._load()
        except KetascreenError as error:
            self.problem = error
            return []
        return [ScreeningEntry("record", label, detail, key) for label, detail, key in rows]


class QtScreeningList(QWidget):
    """The filterable list of screenings from several sources.

    Args:
        sources: the sources, listed in this order.
        parent: the owning widget.

    Signals:
        activated: an entry was opened (double click or Enter).
    """

    activated = Signal(object)

    def __init__(self, sources: Sequence[ScreeningSource], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sources = list(sources)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        title = QLabel("<b>Patients and screenings</b>", self)
        layout.addWidget(title)
        self.filter = QLineEdit(self)
        self.filter.setObjectName("patient-filter")
        self.filter.setPlaceholderText("Find patient (Ctrl+L)")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        layout.addWidget(self.filter)
        self.list = QListWidget(self)
        self.list.setObjectName("screenings")
        self.list.setWordWrap(True)
        self.list.itemActivated.connect(self._activated)
        layout.addWidget(self.list, 1)
        self.refresh()

    def refresh(self) -> None:
        """Reload every source."""
        self.list.clear()
        bold = QFont()
        bold.setBold(True)
        for source in self.sources:
            header = QListWidgetItem(source.title)
            header.setFont(bold)
            header.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(header)
            entries = source.entries()
            if not entries:
                empty = QListWidgetItem("  (none)")
                empty.setFlags(Qt.ItemFlag.NoItemFlags)
                self.list.addItem(empty)
            for entry in entries:
                item = QListWidgetItem(f"{entry.label}\n  {entry.detail}")
                item.setData(_ENTRY_ROLE, entry)
                item.setToolTip(entry.key)
                self.list.addItem(item)
        self._apply_filter()

    def entries(self) -> list[ScreeningEntry]:
        """The entries listed (all sources, filter ignored)."""
        return [e for i in range(self.list.count())
                if isinstance(e := self.list.item(i).data(_ENTRY_ROLE), ScreeningEntry)]

    def _apply_filter(self) -> None:
        needle = self.filter.text().strip().lower()
        for index in range(self.list.count()):
            item = self.list.item(index)
            entry = item.data(_ENTRY_ROLE)
            if isinstance(entry, ScreeningEntry):
                item.setHidden(bool(needle) and needle not in
                               f"{entry.label} {entry.detail}".lower())

    def _activated(self, item: QListWidgetItem) -> None:
        entry = item.data(_ENTRY_ROLE)
        if isinstance(entry, ScreeningEntry):
            self.activated.emit(entry)

