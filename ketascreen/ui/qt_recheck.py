"""The day-of re-check form of the next infusion of a course.

The form starts from :class:`~ketascreen.ui.actions.recheck.RecheckPrefill`: the weight, the
medication list and the protocol (dose, duration) carried over from the previous infusion (or
the screening), each marked beside its field with an icon and words ("carried over from
infusion 3: confirm or change"), never by colour alone. A carried value left as it is is not
written into the infusion, so the course file keeps meaning "unchanged"; an edited one is marked
"changed from ...". Everything else (fasting times, escort, pregnancy test, vital signs, PHQ-9,
GAD-7, urinary symptoms) is asked afresh and starts empty or unknown: nothing is assumed. A
draft checked again (stored, its checklist not signed) starts from its own day-of values, marked
as the draft's ("the draft's value (infusion 2, not signed)"), not as carried: they are written
back as they stand, so a draft signed unchanged is signed as it was stored.

Keyboard-first: every field is a Tab stop in reading order, Ctrl+Return screens the form.
"""

from __future__ import annotations

import html
import re
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketascreen.course.outcome import CourseScreening
from ketascreen.errors import FieldProblem
from ketascreen.ui.actions.recheck import (
    Carried,
    RecheckField,
    RecheckPrefill,
    carried_label,
    draft_label,
)
from ketascreen.ui.actions.screening import FormScreening
from ketascreen.ui.qt_dose import QtDoseOutcome
from ketascreen.ui.qt_result import QtDecision, QtFindings
from ketascreen.ui.widgets import describe_problem, section_title, set_text

_TEXT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("last_solids", "Last solid food or milk", "YYYY-MM-DDTHH:MM"),
    ("last_clear_fluids", "Last clear fluids", "YYYY-MM-DDTHH:MM"),
    ("weight", "Weight", "e.g. 187 lb or 85 kg (only when re-weighed)"),
    ("blood_pressure", "Blood pressure", "e.g. 132/84 mmHg"),
    ("heart_rate", "Heart rate", "e.g. 70 /min"),
    ("spo2", "SpO2", "e.g. 98 %"),
    ("phq9", "PHQ-9", "nine item scores 0-3 (item 9 last), e.g. 2 2 1 2 1 1 1 1 0; or a total"),
    ("gad7", "GAD-7", "seven item scores 0-3, or a total (optional)"),
    ("since_last", "Since the last infusion", "free text, printed (optional)"),
)
_CHOICES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("escort", "Escort home", ("unknown", "yes", "no")),
    ("pregnancy_test", "Pregnancy test", ("not-done", "negative", "positive", "not-applicable")),
    ("urinary_symptoms", "New urinary symptoms", ("unknown", "no", "yes")),
)
_PROTOCOL_FIELDS: tuple[tuple[RecheckField, str], ...] = (
    ("dose", "Dose per weight"), ("duration", "Duration"))
_SCORES = re.compile(r"^\s*\d+(?:[\s,]+\d+)+\s*$")


def scale_value(text: str) -> object:
    """A PHQ-9/GAD-7 entry as the course format holds it: item scores (``"2 2 1 ..."``) as a
    list, one number as a total; anything else as typed (the course model names the problem)."""
    text = text.strip()
    if _SCORES.match(text):
        return [int(part) for part in re.split(r"[\s,]+", text)]
    if text.isdigit():
        return int(text)
    return text


_CHANGE_MARK = {"unchanged": "\u2713 unchanged", "changed": "\u270e CHANGED",
                "new finding": "\u26a0 NEW FINDING"}


def changes_html(course: CourseScreening) -> str:
    """What changed since the last signed checklist, item by item (a mark and the words for
    each state, never colour alone), and the change of dose per weight, as the form shows it."""
    since = ("the first screening" if course.last_signed == 0
             else f"infusion {course.last_signed}'s checklist")
    lines = [f"<b>Changed since the last signed checklist ({html.escape(since)})</b>"]
    for change in course.changes:
        text = f"{_CHANGE_MARK[change.state]}: {change.item}"
        if change.detail:
            text += f" \u2014 {change.detail}"
        lines.append(html.escape(text))
    if course.dose_change is not None:
        lines.append("<b>" + html.escape(f"\u21c5 Dose change: {course.dose_change.text}")
                     + "</b>")
    return "<br>".join(lines)


class QtRecheckForm(QWidget):
    """The day-of re-check of the next infusion, its screening and its dose.

    Args:
        parent: the owning widget.

    Signals:
        screen_requested: the user asked to screen the form (button or Ctrl+Return).
        save_requested: the user asked to save the course file with this re-check.
    """

    screen_requested = Signal()
    save_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        self.title = section_title("Day-of re-check", self)
        self.title.setObjectName("recheck-title")
        column.addWidget(self.title)
        form = QFormLayout()
        column.addLayout(form)
        self.start = QLineEdit(self)
        self.start.setObjectName("recheck-start")
        self.start.setPlaceholderText("YYYY-MM-DDTHH:MM")
        form.addRow("&Start of the infusion:", self.start)
        self.edits: dict[str, QLineEdit] = {}
        self.marks: dict[str, QLabel] = {}
        for name, label, hint in _TEXT_FIELDS:
            edit = QLineEdit(self)
            edit.setObjectName(f"recheck-{name}")
            edit.setPlaceholderText(hint)
            edit.setAccessibleName(label)
            self.edits[name] = edit
            form.addRow(label + ":", self._with_mark(name, edit))
        self.choices: dict[str, QComboBox] = {}
        for name, label, options in _CHOICES:
            combo = QComboBox(self)
            combo.setObjectName(f"recheck-{name}")
            combo.addItems(list(options))
            combo.setAccessibleName(label)
            self.choices[name] = combo
            form.addRow(label + ":", self._with_mark(name, combo))
            combo.currentIndexChanged.connect(lambda _index, n=name: self._update_mark(n))
        self.medications = QPlainTextEdit(self)
        self.medications.setObjectName("recheck-medications")
        self.medications.setReadOnly(True)
        self.medications.setTabChangesFocus(True)
        self.medications.setMaximumHeight(80)
        self.medications.setAccessibleName("Medication list in force")
        form.addRow("Medications:", self._with_mark("medications", self.medications))
        for name, label in _PROTOCOL_FIELDS:
            edit = QLineEdit(self)
            edit.setObjectName(f"recheck-{name}")
            edit.setAccessibleName(label)
            self.edits[name] = edit
            form.addRow(label + ":", self._with_mark(name, edit))
        for name, edit in self.edits.items():
            edit.textEdited.connect(lambda _text, n=name: self._update_mark(n))
        self._build_outcome(column)
        self.prefill: RecheckPrefill | None = None
        self._loaded: object = None
        self.acknowledgements: list[dict[str, str]] = []
        """This infusion's acknowledgements: the physician's reasons typed at its findings."""
        self.findings.acknowledge_requested.connect(self.acknowledge)
        self.findings.withdraw_requested.connect(self.withdraw)

    def acknowledge(self, concept: str, reason: str) -> None:
        """Record the physician's reason for proceeding despite the finding ``concept`` of
        this infusion, and screen again."""
        self.acknowledgements = [a for a in self.acknowledgements if a["concept"] != concept]
        self.acknowledgements.append({"concept": concept, "reason": reason})
        self.screen_requested.emit()

    def withdraw(self, concept: str) -> None:
        """Withdraw this infusion's acknowledgement of ``concept``, and screen again."""
        self.acknowledgements = [a for a in self.acknowledgements if a["concept"] != concept]
        self.screen_requested.emit()

    def _build_outcome(self, column: QVBoxLayout) -> None:
        buttons = QHBoxLayout()
        self.screen_button = QPushButton("Sc&reen this infusion (Ctrl+Return)", self)
        self.screen_button.setObjectName("screen-recheck")
        self.screen_button.clicked.connect(self.screen_requested)
        self.save_button = QPushButton("Sa&ve to the course file", self)
        self.save_button.setObjectName("save-recheck")
        self.save_button.clicked.connect(self.save_requested)
        buttons.addWidget(self.screen_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self).activated.connect(self.screen_requested)
        self.problems = QLabel(self)
        self.problems.setObjectName("recheck-problems")
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.hide()
        column.addWidget(self.problems)
        self.decision = QtDecision(self)
        self.changes = QLabel(self)
        self.changes.setObjectName("recheck-changes")
        self.changes.setWordWrap(True)
        self.changes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.changes.hide()
        column.addWidget(self.changes)
        self.dose = QtDoseOutcome(self)
        self.findings = QtFindings(self)
        for widget in (self.decision, self.dose, self.findings):
            column.addWidget(widget)
        column.addStretch(1)

    def _with_mark(self, name: str, field: QWidget) -> QWidget:
        holder = QWidget(self)
        row = QVBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(1)
        row.addWidget(field)
        mark = QLabel(holder)
        mark.setObjectName(f"carried-{name}")
        mark.setStyleSheet("color: #1f3f6e; font-style: italic;")
        mark.hide()
        row.addWidget(mark)
        self.marks[name] = mark
        holder.setFocusProxy(field)
        return holder

    def _carried(self, name: str) -> Carried | None:
        if self.prefill is None:
            return None
        return next((value for key, value in self.prefill.carried.items() if key == name), None)

    def _draft(self, name: str) -> str | None:
        return None if self.prefill is None else self.prefill.draft.get(name)

    def _text(self, name: str) -> str:
        if name in self.edits:
            return self.edits[name].text().strip()
        if name in self.choices:
            return self.choices[name].currentText()
        return self.medications.toPlainText()

    def _update_mark(self, name: str) -> None:
        mark, carried, draft = self.marks[name], self._carried(name), self._draft(name)
        if draft is not None and self.prefill is not None:
            text = self._text(name)
            words = (draft_label(self.prefill.number) if text == draft
                     else f"\u270e changed from the draft's {draft}")
            set_text(mark, words)
            mark.setAccessibleName(words)
            mark.show()
            return
        if carried is None:
            mark.hide()
            return
        text = self.edits[name].text().strip() if name in self.edits else carried.value
        if text == carried.value:
            words = carried_label(carried)
        elif not text:
            words = (f"\u21bb left empty: {carried.value} from {carried.source} still applies")
        else:
            words = f"\u270e changed from {carried.value} ({carried.source})"
        set_text(mark, words)
        mark.setAccessibleName(words)
        mark.show()

    def load(self, prefill: RecheckPrefill, *, start: str = "") -> None:
        """Start the form for ``prefill``'s infusion: carried values in and marked, every other
        answer empty or unknown, no screening shown."""
        self.prefill = prefill
        set_text(self.title, f"Day-of re-check: infusion {prefill.number}"
                 + ("" if prefill.previous == 0 else
                    f" (values carried from infusion {prefill.previous} are marked \u21bb)"))
        self.start.setText(start)
        for name, edit in self.edits.items():
            carried, draft = self._carried(name), self._draft(name)
            edit.setText(draft if draft is not None else "" if carried is None else carried.value)
        for name, combo in self.choices.items():
            draft = self._draft(name)
            found = -1 if draft is None else combo.findText(draft)
            combo.setCurrentIndex(max(found, 0))
        medications, own = self._carried("medications"), self._draft("medications")
        self.medications.setPlainText(own if own is not None else "" if medications is None
                                      else medications.value)
        for name in self.marks:
            self._update_mark(name)
        self.acknowledgements = [dict(a) for a in prefill.acknowledgements]  # a draft's own
        self.show_outcome(None, ())
        self._loaded = self._typed()

    def _typed(self) -> object:
        return (self.values(), [dict(a) for a in self.acknowledgements])

    def has_input(self) -> bool:
        """Whether anything was typed or acknowledged since the form was loaded."""
        return self.prefill is not None and self._typed() != self._loaded

    def mark_text(self, name: str) -> str:
        """The mark shown beside field ``name`` (``""`` when none is shown)."""
        mark = self.marks[name]
        return "" if mark.isHidden() else mark.text()

    def values(self) -> tuple[str, dict[str, Any], dict[str, str]]:
        """(start, ``pre``, protocol fields) as typed; carried values left as they are and
        empty fields are not given (the course file keeps meaning "unchanged")."""
        pre: dict[str, Any] = {}
        protocol: dict[str, str] = {}
        for name, edit in self.edits.items():
            text = edit.text().strip()
            carried = self._carried(name)
            if not text or (carried is not None and text == carried.value
                            and self._draft(name) is None):
                continue  # a draft's own value is its own, written back as typed
            if name in ("dose", "duration"):
                protocol[name] = text
            elif name in ("phq9", "gad7"):
                pre[name] = scale_value(text)
            else:
                pre[name] = text
        for name, combo in self.choices.items():
            pre[name] = combo.currentText()
        return self.start.text().strip(), pre, protocol

    def show_outcome(self, outcome: FormScreening | None,
                     problems: tuple[FieldProblem, ...],
                     course: CourseScreening | None = None) -> None:
        """Show the screening of the re-checked infusion (with what changed since the last
        signed checklist and the dose change, from ``course``), or the fields it refused."""
        if course is None:
            self.changes.hide()
        else:
            set_text(self.changes, changes_html(course))
            self.changes.show()
        if problems:
            set_text(self.problems, "<b>Correct these fields</b><br>" + "<br>".join(
                html.escape("\u2716 " + describe_problem(p, with_field=p.field))
                for p in problems))
            self.problems.show()
        else:
            self.problems.hide()
        self.decision.show_outcome(outcome, pending=False)
        self.dose.show_outcome(outcome)
        self.findings.show_outcome(outcome, ())
