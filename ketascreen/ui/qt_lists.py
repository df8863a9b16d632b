"""The problem list (``conditions``) and the medication list (``medications``).

Each entry is a row; a chip beside it says what the core recognised it as (a history concept,
or each medication class), and an entry the core does not recognise says so, because it is not
checked by any rule. Medication names complete from the drug knowledge base, generic and brand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ketascreen.ui import actions
from ketascreen.ui.qt_patient import combo, combo_value, set_combo_value
from ketascreen.ui.qt_section import FieldTarget, QtSection
from ketascreen.ui.widgets import Chip, InlineMessage, Tone, section_title

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CODE_SYSTEMS = (("http://snomed.info/sct", "SNOMED CT"),
                ("http://hl7.org/fhir/sid/icd-10-cm", "ICD-10-CM"))
CONDITION_STATUSES = tuple((s, s) for s in (
    "active", "recurrence", "relapse", "inactive", "remission", "resolved", "entered-in-error"))
MEDICATION_STATUSES = tuple((s, s) for s in (
    "active", "on-hold", "stopped", "completed", "entered-in-error"))
_COMPLETION_ROLE = Qt.ItemDataRole.UserRole + 1


class _Row(QWidget):
    """One entry of a list section.

    Signals:
        edited: a field of the row changed.
        remove_requested: the row's Remove button was pressed.
    """

    edited = Signal()
    remove_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(0, 4, 0, 4)
        self.column.setSpacing(2)
        self.fields = QHBoxLayout()
        self.column.addLayout(self.fields)
        self.chips = QHBoxLayout()
        self.chips.addStretch(1)
        self.column.addLayout(self.chips)
        self.message = InlineMessage(self)
        self.column.addWidget(self.message)
        self._chip_widgets: list[Chip] = []
        self.system: str | None = None
        self.explicit_status = False

    def line(self, name: str, placeholder: str, stretch: int = 0) -> QLineEdit:
        """A line edit of the row that reports edits."""
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setAccessibleName(placeholder)
        edit.textChanged.connect(self.edited)
        self.fields.addWidget(edit, stretch)
        return edit

    def add_remove_button(self, what: str) -> None:
        """The row's Remove button."""
        button = QToolButton(self)
        button.setText("Remove")
        button.setAccessibleName(f"Remove this {what}")
        button.setToolTip(f"Remove this {what}")
        button.clicked.connect(self.remove_requested)
        self.fields.addWidget(button)

    def set_chips(self, chips: list[tuple[str, str]]) -> None:
        """Replace the chips with (text, tone) pairs."""
        for chip in self._chip_widgets:
            chip.deleteLater()
        self._chip_widgets = []
        for text, tone in chips:
            chip = Chip(text, _CHIP_TONES.get(tone, "ok"), self)
            self.chips.insertWidget(self.chips.count() - 1, chip)
            self._chip_widgets.append(chip)

    def chip_texts(self) -> list[str]:
        """The chips' texts (for tests and accessibility)."""
        return [c.text() for c in self._chip_widgets]


class _DrugNameEdit(QLineEdit):
    """A medication name field that builds the shared completion list on first focus.

    Signals:
        QLineEdit's own (``textChanged`` feeds the row's ``edited``).
    """

    def __init__(self, section: QtMedications, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._section = section

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        """Attach the completer (built once, when a name field is first used)."""
        if self.completer() is None:
            self.setCompleter(self._section.completer())
        super().focusInEvent(event)


class _MedicationRow(_Row):
    """One medication: name (completed), daily dose, status, RxNorm code, class chips.

    Signals:
        edited, remove_requested: as :class:`_Row`.
    """

    def __init__(self, section: QtMedications, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = _DrugNameEdit(section, self)
        self.text.setObjectName("medication-text")
        self.text.setPlaceholderText("medication (generic or brand), strength, form")
        self.text.setAccessibleName("medication")
        self.text.textChanged.connect(self.edited)
        self.fields.addWidget(self.text, 3)
        self.daily_dose = self.line("medication-daily-dose", "daily dose, e.g. 1 mg", 1)
        self.status = combo(MEDICATION_STATUSES, "status", self)
        self.status.setObjectName("medication-status")
        set_combo_value(self.status, "active")
        self.status.currentIndexChanged.connect(self.edited)
        self.fields.addWidget(self.status)
        self.code = self.line("medication-code", "RxNorm code (optional)", 1)
        self.add_remove_button("medication")
        self.edited.connect(self.recognise)
        self.recognise()

    def load(self, entry: Mapping[str, Any]) -> None:
        for edit, key in ((self.text, "text"), (self.daily_dose, "daily_dose"),
                          (self.code, "code")):
            value = entry.get(key)
            edit.setText(value if isinstance(value, str) else "")
        system = entry.get("system")
        self.system = system if isinstance(system, str) else None
        self.explicit_status = "status" in entry
        set_combo_value(self.status, entry.get("status", "active"))

    def dump(self) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        if self.text.text().strip():
            entry["text"] = self.text.text()
        code = self.code.text().strip()
        if code or self.system:
            entry["system"] = self.system or RXNORM
        if code:
            entry["code"] = code
        if self.daily_dose.text().strip():
            entry["daily_dose"] = self.daily_dose.text().strip()
        status = combo_value(self.status)
        if status and (status != "active" or self.explicit_status):
            entry["status"] = status
        return entry

    def recognise(self) -> None:
        """Show the classes the core recognises the entry as."""
        text, code = self.text.text(), self.code.text()
        if not text.strip() and not code.strip():
            self.set_chips([])
            return
        found = actions.recognise_medication(text=text, code=code)
        if found is None:
            self.set_chips([("not recognised: not checked for interactions", "error")])
        elif not found.labels:
            self.set_chips([(f"{found.matched}: no screened class", "ok")])
        else:
            self.set_chips([(label, "ok") for label in found.labels]
                           + [(f"via {found.matched}", "ok")])


class _ConditionRow(_Row):
    """One problem: text, code system, code, status, onset, and the concept chip.

    Signals:
        edited, remove_requested: as :class:`_Row`.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = self.line("condition-text", "problem, e.g. Bipolar I disorder", 3)
        self.code_system = combo(CODE_SYSTEMS, "code system", self)
        self.code_system.setObjectName("condition-system")
        self.code_system.currentIndexChanged.connect(self.edited)
        self.fields.addWidget(self.code_system)
        self.code = self.line("condition-code", "code (optional)", 1)
        self.status = combo(CONDITION_STATUSES, "status", self)
        self.status.setObjectName("condition-status")
        set_combo_value(self.status, "active")
        self.status.currentIndexChanged.connect(self.edited)
        self.fields.addWidget(self.status)
        self.onset = self.line("condition-onset", "onset YYYY-MM-DD", 1)
        self.add_remove_button("problem")
        self.edited.connect(self.recognise)
        self.recognise()

    def load(self, entry: Mapping[str, Any]) -> None:
        for edit, key in ((self.text, "text"), (self.code, "code"), (self.onset, "onset")):
            value = entry.get(key)
            edit.setText(value if isinstance(value, str) else "")
        system = entry.get("system")
        if isinstance(system, str) and self.code_system.findData(system) < 0:
            self.code_system.addItem(system, system)  # keep a system the list does not name
        set_combo_value(self.code_system, system)
        self.explicit_status = "status" in entry
        set_combo_value(self.status, entry.get("status", "active"))

    def dump(self) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        if self.text.text().strip():
            entry["text"] = self.text.text()
        system = combo_value(self.code_system)
        if system:
            entry["system"] = system
        if self.code.text().strip():
            entry["code"] = self.code.text().strip()
        status = combo_value(self.status)
        if status and (status != "active" or self.explicit_status):
            entry["status"] = status
        if self.onset.text().strip():
            entry["onset"] = self.onset.text().strip()
        return entry

    def recognise(self) -> None:
        """Show the history concept the core recognises the problem as."""
        text, code = self.text.text(), self.code.text()
        if not text.strip() and not code.strip():
            self.set_chips([])
            return
        found = actions.recognise_condition(text=text, system=combo_value(self.code_system) or "",
                                            code=code)
        if found is None:
            self.set_chips([("not recognised: answer the questions above for it", "error")])
            return
        chips = [(f"counts as {label}", "ok") for label in found.labels]
        for concept, reading in found.not_counted:
            if reading.startswith("uncertain"):
                chips.append((f"question: {concept} ({reading}): answer it above", "error"))
            else:
                chips.append((f"not counted as {concept} ({reading})", "hint"))
        self.set_chips(chips)


_EntryRow = _MedicationRow | _ConditionRow

_CHIP_TONES: dict[str, Tone] = {"ok": "ok", "error": "error", "hint": "hint", "info": "info"}


def _tab_stop_before(widget: QWidget) -> QWidget | None:
    """The Tab stop just before ``widget`` in its window's focus chain, or ``None``."""
    candidate = widget.previousInFocusChain()
    while candidate is not None and candidate is not widget:
        if candidate.focusPolicy() & Qt.FocusPolicy.TabFocus and candidate.isEnabled():
            return candidate
        candidate = candidate.previousInFocusChain()
    return None


_REVEAL_AGAIN_MS = 120


def _reveal(row: QWidget, field: QWidget) -> None:
    """Scroll the scroll area around ``row`` to show it once the layout has placed it."""
    area = row.parentWidget()
    while area is not None and not isinstance(area, QScrollArea):
        area = area.parentWidget()
    if area is None:
        return
    scroll = area

    def show() -> None:
        if shiboken6.isValid(row) and shiboken6.isValid(scroll):
            content = scroll.widget()
            layout = content.layout() if content is not None else None
            if layout is not None:
                layout.activate()  # place the new row now, not on a later layout pass
            scroll.ensureWidgetVisible(row, 0, 40)
            scroll.ensureWidgetVisible(field, 0, 40)

    QTimer.singleShot(0, scroll, show)
    # Once more after the row's own layout has settled (a busy event loop may place it late).
    QTimer.singleShot(_REVEAL_AGAIN_MS, scroll, show)


class _ListSection(QtSection):
    """A section of rows with an Add button; each row loads and dumps one entry of the case
    list named by ``key``.

    Args:
        new_row: makes an empty row for this section.

    Signals:
        edited: an entry changed, or one was added or removed.
    """

    key = ""
    what = ""

    def __init__(self, title: str, add_label: str, new_row: Callable[[], _EntryRow],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._new_row = new_row
        outer = QVBoxLayout(self)
        outer.addWidget(section_title(title, self))
        self.rows_layout = QVBoxLayout()
        outer.addLayout(self.rows_layout)
        self.empty = QLabel(f"No {self.what} entered.", self)
        outer.addWidget(self.empty)
        self.add_button = QPushButton(add_label, self)
        self.add_button.setObjectName(f"add-{self.key}")
        self.add_button.clicked.connect(self._add_clicked)
        outer.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.general = InlineMessage(self)
        outer.addWidget(self.general)
        self.rows: list[_EntryRow] = []

    def load(self, document: Mapping[str, Any]) -> None:
        """Show this section's list of ``document``."""
        self._clear()
        entries = document.get(self.key)
        for entry in entries if isinstance(entries, list) else []:
            self.add_row().load(entry if isinstance(entry, Mapping) else {})

    def dump(self, document: dict[str, Any], *, draft: bool) -> None:
        """Write this section's list into ``document`` (empty rows are left out)."""
        entries = [row.dump() for row in self.rows]
        document[self.key] = [e for e in entries if set(e) - {"status"}]

    def add_row(self) -> _EntryRow:
        """Append an empty row and return it; in the Tab order it comes after the rows above
        it and before the Add button (a widget made later would otherwise be last of all)."""
        row = self._new_row()
        row.edited.connect(self.edited)
        row.remove_requested.connect(lambda r=row: self.remove_row(r))
        self.rows_layout.addWidget(row)
        previous = _tab_stop_before(self.add_button)
        self.rows.append(row)
        self.empty.setVisible(False)
        items = (row.fields.itemAt(i) for i in range(row.fields.count()))
        chain = [w for w in (item.widget() for item in items if item is not None)
                 if w is not None and w.focusPolicy() & Qt.FocusPolicy.TabFocus]
        for before, after in zip([previous, *chain], [*chain, self.add_button], strict=True):
            if before is not None:
                QWidget.setTabOrder(before, after)
        return row

    def _add_clicked(self) -> None:
        row = self.add_row()
        first = row.fields.itemAt(0)
        widget = first.widget() if first is not None else None
        if widget is not None:
            widget.setFocus(Qt.FocusReason.ShortcutFocusReason)
            _reveal(row, widget)
        self.edited.emit()

    def remove_row(self, row: _EntryRow) -> None:
        """Remove ``row``."""
        self.rows.remove(row)
        row.deleteLater()
        self.empty.setVisible(not self.rows)
        self.edited.emit()

    def _clear(self) -> None:
        for row in self.rows:
            row.deleteLater()
        self.rows = []
        self.empty.setVisible(True)

    def targets(self) -> list[FieldTarget]:
        """One target per row, and one for the list as a whole."""
        kept = [row for row in self.rows if set(row.dump()) - {"status"}]
        targets = [FieldTarget(f"{self.key}[{index}]", row.message, self.what,
                               lambda: False) for index, row in enumerate(kept)]
        for row in self.rows:
            if row not in kept:
                row.message.clear_message()
        targets.append(FieldTarget(self.key, self.general, self.what, lambda: False))
        return targets


class QtMedications(_ListSection):
    """The medication list, with completion from the drug knowledge base.

    Args:
        parent: the owning widget.

    Signals:
        edited: an entry changed, or one was added or removed.
    """

    key = "medications"
    what = "medications"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Medications", "Add &medication", lambda: _MedicationRow(self, self),
                         parent)
        self._completer: QCompleter | None = None

    def completer(self) -> QCompleter:
        """The completion list of generic, brand and combination names (built once)."""
        if self._completer is None:
            model = QStandardItemModel(self)
            for name in actions.drug_names():
                item = QStandardItem(name.label)
                item.setData(name.name, _COMPLETION_ROLE)
                model.appendRow(item)
            completer = QCompleter(model, self)
            completer.setCompletionRole(_COMPLETION_ROLE)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setModelSorting(QCompleter.ModelSorting.UnsortedModel)
            completer.setMaxVisibleItems(12)
            self._completer = completer
        return self._completer


class QtConditions(_ListSection):
    """The problem list.

    Args:
        parent: the owning widget.

    Signals:
        edited: an entry changed, or one was added or removed.
    """

    key = "conditions"
    what = "problems"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Problem list", "Add prob&lem", lambda: _ConditionRow(self), parent)
