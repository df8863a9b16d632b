"""The screening form: a view of one ``ketascreen-case/1`` document, section by section.

The form shows and edits a case *document* (the JSON shape of the case format) rather than a
validated :class:`~ketascreen.models.case.Case`, because a form being typed is usually not a
valid case yet; the core validates the document on every (debounced) edit and the form shows
the problems it names under the fields concerned.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QScrollBar,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ketascreen.errors import FieldProblem
from ketascreen.ui.actions import FormScreening, case_of
from ketascreen.ui.qt_history import QtHistory
from ketascreen.ui.qt_lists import QtConditions, QtMedications
from ketascreen.ui.qt_measurements import QtMeasurements
from ketascreen.ui.qt_patient import QtPatient
from ketascreen.ui.qt_protocol import QtProtocol
from ketascreen.ui.qt_substance_use import QtSubstanceUse

CASE_FORMAT = "ketascreen-case/1"
_LOCKED = "ketascreen-locked"
"""The dynamic property marking what :meth:`QtCaseForm.set_read_only` changed."""
_PALETTE = "ketascreen-unlocked-palette"
_TEXT_TYPES = (QLineEdit, QPlainTextEdit, QTextEdit, QAbstractSpinBox)
_LOCKED_STYLE = ('QLineEdit[readOnly="true"], QPlainTextEdit[readOnly="true"], '
                 'QTextEdit[readOnly="true"] { background: #e6e9ee; color: #1a1a1a; }')
_CHOICE_TYPES = (QComboBox, QAbstractButton, QAbstractSlider)



_Section = (QtPatient | QtMeasurements | QtHistory | QtConditions | QtMedications
            | QtSubstanceUse | QtProtocol)

class QtCaseForm(QWidget):
    """The whole screening form for one case document.

    Args:
        document: the case document to show (``None`` for an empty form).
        parent: the owning widget.

    Signals:
        edited: the document changed (typed, answered, added or removed; also on load).
        announced(str): a change the user must not miss (a unit changed under an entered
            value); also shown on the status line of the window the form is in.
    """

    edited = Signal()
    announced = Signal(str)

    def __init__(self, document: Mapping[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 8, 16)
        self.patient = QtPatient(self)
        self.measurements = QtMeasurements(self)
        self.history = QtHistory(self)
        self.conditions = QtConditions(self)
        self.medications = QtMedications(self)
        self.substance_use = QtSubstanceUse(self)
        self.protocol = QtProtocol(self)
        self.sections: tuple[_Section, ...] = (
            self.patient, self.measurements, self.history, self.conditions, self.medications,
            self.substance_use, self.protocol)
        for section in self.sections:
            layout.addWidget(section)
            section.edited.connect(self._section_edited)
        layout.addStretch(1)
        self.measurements.announced.connect(self._announce)
        self._acknowledgements: list[dict[str, Any]] = []
        self._loading = False
        self._read_only = False
        self.patient.indication.currentIndexChanged.connect(self._indication_changed)
        self.load(document or {})

    def _section_edited(self) -> None:
        if not self._loading:
            self.edited.emit()

    def _announce(self, text: str) -> None:
        window = self.window()
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(text)  # stays until the next message
        self.announced.emit(text)

    def _indication_changed(self) -> None:
        value = self.patient.indication.currentData()
        self.protocol.show_defaults(value if isinstance(value, str) else None)

    def load(self, document: Mapping[str, Any]) -> None:
        """Show ``document`` (replacing everything shown)."""
        self._loading = True
        try:
            for section in self.sections:
                section.load(document)
            acknowledgements = document.get("acknowledgements")
            self._acknowledgements = [dict(a) for a in acknowledgements
                                      if isinstance(a, Mapping)] if isinstance(
                                          acknowledgements, list) else []
        finally:
            self._loading = False
        self._indication_changed()
        if self._read_only:
            self._lock_children()  # rows made by the load are locked too
        self.edited.emit()

    def _build(self, *, draft: bool) -> dict[str, Any]:
        document: dict[str, Any] = {"format": CASE_FORMAT}
        for section in self.sections:
            section.dump(document, draft=draft)
        document["acknowledgements"] = copy.deepcopy(self._acknowledgements)
        return document

    def document(self) -> dict[str, Any]:
        """The case document to screen or save (incomplete screens left out)."""
        return self._build(draft=False)

    def state(self) -> dict[str, Any]:
        """The form as typed, for the autosaved draft (incomplete screens kept)."""
        return self._build(draft=True)

    def label(self) -> str:
        """The patient shown, for titles and lists."""
        return self.patient.label()

    # -- acknowledgements -------------------------------------------------------------------

    def acknowledgements(self) -> list[dict[str, Any]]:
        """The physician's acknowledgements (concept and reason), as in the document."""
        return copy.deepcopy(self._acknowledgements)

    def acknowledge(self, concept: str, reason: str) -> None:
        """Record the physician's reason for proceeding despite the finding ``concept``
        (ignored while the form is read-only)."""
        if self._read_only:
            return
        self._acknowledgements = [a for a in self._acknowledgements
                                  if a.get("concept") != concept]
        self._acknowledgements.append({"concept": concept, "reason": reason})
        self.edited.emit()

    def withdraw(self, concept: str) -> None:
        """Withdraw the acknowledgement of ``concept`` (ignored while read-only)."""
        if self._read_only:
            return
        self._acknowledgements = [a for a in self._acknowledgements
                                  if a.get("concept") != concept]
        self.edited.emit()

    # -- read-only (a signed checklist) ------------------------------------------------------

    @property
    def read_only(self) -> bool:
        """Whether the form only shows (a signed checklist: changes go through Amend)."""
        return self._read_only

    def set_read_only(self, read_only: bool) -> None:
        """Make every input of the form read-only (text stays legible and selectable; choices,
        buttons, spin boxes and sliders are disabled), or give back exactly what was locked.

        Rows created later by :meth:`load` are locked too; acknowledgements are refused.
        """
        if read_only == self._read_only:
            return
        self._read_only = read_only
        if read_only:
            self._lock_children()
            # A locked form must not look like an editable one: its text fields turn grey (set
            # after locking: the style sheet's readOnly selector is matched when it is set).
            self.setStyleSheet(_LOCKED_STYLE)
            return
        self.setStyleSheet("")
        for widget in self.findChildren(QWidget):
            locked = widget.property(_LOCKED)
            if locked == "read-only" and isinstance(widget, _TEXT_TYPES):
                widget.setReadOnly(False)
            elif locked == "disabled":
                widget.setEnabled(True)
                palette = widget.property(_PALETTE)
                if isinstance(palette, QPalette):
                    widget.setPalette(palette)
            if locked:
                widget.setProperty(_LOCKED, None)
                widget.setProperty(_PALETTE, None)

    def _lock_children(self) -> None:
        for widget in self.findChildren(QWidget):
            if widget.property(_LOCKED):
                continue
            if isinstance(widget, _TEXT_TYPES):
                if not widget.isReadOnly():
                    widget.setReadOnly(True)
                    widget.setProperty(_LOCKED, "read-only")
            elif (isinstance(widget, _CHOICE_TYPES) and widget.isEnabled()
                  and not isinstance(widget, QScrollBar)):  # scrolling reads, never edits
                widget.setEnabled(False)
                widget.setProperty(_LOCKED, "disabled")
                widget.setProperty(_PALETTE, QPalette(widget.palette()))
                widget.setPalette(_legible_when_disabled(widget.palette()))

    # -- outcome ----------------------------------------------------------------------------

    def show_outcome(self, outcome: FormScreening) -> list[FieldProblem]:
        """Show the problems under their fields and what the core derived (age, risk tier).

        Returns:
            The problems no field claimed (shown by the window as general form errors).
        """
        rest: Iterable[FieldProblem] = outcome.problems
        for section in self.sections:
            rest = section.claim(rest)
        case = case_of(outcome)
        self.patient.show_age(None if case is None else case.age_years())
        screening = outcome.screening
        self.substance_use.show_risk(None if screening is None else screening.result.abuse_risk)
        if screening is not None:
            self.protocol.use_rules(screening.rules)
        return list(rest)


def _legible_when_disabled(palette: QPalette) -> QPalette:
    """``palette`` with the disabled texts as dark as the enabled ones: a signed checklist's
    answers (a unit, a Yes/No) must read as clearly as when they were typed, not greyed out."""
    legible = QPalette(palette)
    active, disabled = QPalette.ColorGroup.Active, QPalette.ColorGroup.Disabled
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText,
                 QPalette.ColorRole.ButtonText):
        legible.setColor(disabled, role, palette.color(active, role))
    return legible
