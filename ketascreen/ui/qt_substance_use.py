"""The substance-use screens (``substance_use``): DAST-10 and AUDIT-C with live scores.

Each screen is answered item by item (the core scores it; DAST-10 item 3 is reverse-scored by
the program), or, for a screen done on paper, by its total. An incomplete screen is left out
of the screened case, so the core reports it as not done; the draft keeps the answers given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ketascreen.models.result import AbuseRisk
from ketascreen.ui import actions
from ketascreen.ui.instruments import (
    AUDIT_C_QUESTIONS,
    DAST10_INTRODUCTION,
    DAST10_ITEMS,
    DAST10_REVERSED_NOTE,
)
from ketascreen.ui.qt_choice import YES_NO, QtChoice
from ketascreen.ui.qt_section import FieldTarget, QtSection
from ketascreen.ui.widgets import InlineMessage, section_title, set_text

_REVERSED_ITEM = 3


def _points(score: int) -> str:
    return f"{score} point" + ("" if score == 1 else "s")


class QtSubstanceUse(QtSection):
    """DAST-10 and AUDIT-C.

    Args:
        parent: the owning widget.

    Signals:
        edited: an answer or a total changed.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setSpacing(0)
        self._build_dast(outer)
        self._build_audit(outer)
        self.tier = QLabel(self)
        self.tier.setObjectName("abuse-tier")
        self.tier.setWordWrap(True)
        outer.addWidget(self.tier)
        self._risk: AbuseRisk | None = None
        self._changed()

    def _build_dast(self, outer: QVBoxLayout) -> None:
        outer.addWidget(section_title("DAST-10 (Drug Abuse Screening Test)", self))
        intro = QLabel(DAST10_INTRODUCTION, self)
        intro.setWordWrap(True)
        outer.addWidget(intro)
        self.dast_items: list[QtChoice] = []
        for number, text in enumerate(DAST10_ITEMS, start=1):
            note = DAST10_REVERSED_NOTE if number == _REVERSED_ITEM else ""
            item = QtChoice(f"{number}. {text}", YES_NO, self, note=note)
            item.setObjectName(f"dast10-{number}")
            item.changed.connect(self._changed)
            item.answered_by_key.connect(item.focusNextChild)
            outer.addWidget(item)
            self.dast_items.append(item)
        totals = QFormLayout()
        outer.addLayout(totals)
        self.dast_total = QLineEdit(self)
        self.dast_total.setObjectName("dast10-total")
        self.dast_total.setPlaceholderText("only for a DAST-10 done on paper: its total, 0 to 10")
        self.dast_total.textChanged.connect(self._changed)
        totals.addRow("DAST-10 total from paper", self.dast_total)
        self.dast_score = QLabel(self)
        self.dast_score.setObjectName("dast10-score")
        self.dast_score.setStyleSheet("font-weight: 700;")
        outer.addWidget(self.dast_score)
        self.dast_message = InlineMessage(self)
        outer.addWidget(self.dast_message)

    def _build_audit(self, outer: QVBoxLayout) -> None:
        outer.addWidget(section_title("AUDIT-C (alcohol)", self))
        audit = QFormLayout()
        outer.addLayout(audit)
        self.audit_items: list[QComboBox] = []
        for number, (question, answers) in enumerate(AUDIT_C_QUESTIONS, start=1):
            box = QComboBox(self)
            box.setObjectName(f"audit-c-{number}")
            for score, answer in enumerate(answers):
                box.addItem(f"{answer} ({_points(score)})", score)
            box.setPlaceholderText("not answered")
            box.setCurrentIndex(-1)
            box.setAccessibleName(question)
            box.currentIndexChanged.connect(self._changed)
            label = QLabel(f"{number}. {question}", self)
            label.setWordWrap(True)
            label.setBuddy(box)
            audit.addRow(label, box)
            self.audit_items.append(box)
        self.audit_total = QLineEdit(self)
        self.audit_total.setObjectName("audit-c-total")
        self.audit_total.setPlaceholderText("only for an AUDIT-C done on paper: its total, 0 to 12")
        self.audit_total.textChanged.connect(self._changed)
        audit.addRow("AUDIT-C total from paper", self.audit_total)
        self.audit_score = QLabel(self)
        self.audit_score.setObjectName("audit-c-score")
        self.audit_score.setStyleSheet("font-weight: 700;")
        outer.addWidget(self.audit_score)
        self.audit_message = InlineMessage(self)
        outer.addWidget(self.audit_message)

    # -- state ------------------------------------------------------------------------------

    def _dast_answers(self) -> list[str | None]:
        return [item.value() for item in self.dast_items]

    def _audit_answers(self) -> list[int | None]:
        values: list[int | None] = []
        for box in self.audit_items:
            data = box.currentData()
            values.append(data if isinstance(data, int) else None)
        return values

    def _changed(self) -> None:
        dast_answers = self._dast_answers()
        audit_answers = self._audit_answers()
        dast_by_items = any(a is not None for a in dast_answers)
        audit_by_items = any(a is not None for a in audit_answers)
        # A screen is answered item by item or by its paper total, never both.
        self.dast_total.setEnabled(not dast_by_items)
        for item in self.dast_items:
            item.set_enabled_answers(not self.dast_total.text().strip())
        self.audit_total.setEnabled(not audit_by_items)
        for box in self.audit_items:
            box.setEnabled(not self.audit_total.text().strip())
        self._show_scores()
        self.edited.emit()

    def _show_scores(self) -> None:
        dast_answers = self._dast_answers()
        answered = sum(a is not None for a in dast_answers)
        total = actions.dast10_score(answers=dast_answers)
        if self.dast_total.text().strip():
            set_text(self.dast_score, f"DAST-10: total {self.dast_total.text().strip()} of 10, "
                                    "from paper")
        elif total is None:
            set_text(self.dast_score, f"DAST-10: incomplete, {answered} of 10 answered "
                                    "(not scored until all 10 are answered)")
        else:
            set_text(self.dast_score, f"DAST-10 score: {total} of 10")
        audit_answers = self._audit_answers()
        audit = actions.audit_c_score(items=audit_answers)
        answered = sum(a is not None for a in audit_answers)
        if self.audit_total.text().strip():
            set_text(self.audit_score, f"AUDIT-C: total {self.audit_total.text().strip()} of 12, "
                                     "from paper")
        elif audit is None:
            set_text(self.audit_score, f"AUDIT-C: incomplete, {answered} of 3 answered")
        else:
            positive = ""
            if self._risk is not None and self._risk.audit_c == audit:
                positive = (" (positive)" if self._risk.audit_c_positive else " (negative)")
            set_text(self.audit_score, f"AUDIT-C score: {audit} of 12{positive}")

    def show_risk(self, risk: AbuseRisk | None) -> None:
        """Show the abuse-risk tier the core derived (``None`` when not screened)."""
        self._risk = risk
        if risk is None:
            set_text(self.tier, "")
        else:
            set_text(self.tier, f"Abuse-risk tier (clinic policy): {risk.tier.upper()}")
        self._show_scores()

    # -- document ---------------------------------------------------------------------------

    def targets(self) -> list[FieldTarget]:
        """The two screens."""
        return [
            FieldTarget("substance_use.dast10", self.dast_message, "DAST-10", lambda: False),
            FieldTarget("substance_use.audit_c", self.audit_message, "AUDIT-C", lambda: False),
            FieldTarget("substance_use", self.audit_message, "Substance use", lambda: False),
        ]

    def load(self, document: Mapping[str, Any]) -> None:
        """Show the screens of ``document`` (item answers, or a total)."""
        screens = document.get("substance_use")
        screens = screens if isinstance(screens, Mapping) else {}
        dast = screens.get("dast10")
        self.dast_total.setText(str(dast) if isinstance(dast, int) else "")
        answers = dast if isinstance(dast, list) else []
        for index, item in enumerate(self.dast_items):
            value = answers[index] if index < len(answers) else None
            item.set_value(value if value in ("yes", "no") else None)
        audit = screens.get("audit_c")
        self.audit_total.setText(str(audit) if isinstance(audit, int) else "")
        scores = audit if isinstance(audit, list) else []
        for index, box in enumerate(self.audit_items):
            value = scores[index] if index < len(scores) else None
            box.setCurrentIndex(box.findData(value) if isinstance(value, int) else -1)
        self._changed()

    def dump(self, document: dict[str, Any], *, draft: bool) -> None:
        """Write the screens into ``document``; incomplete ones only into a draft."""
        screens: dict[str, Any] = {}
        dast_answers = self._dast_answers()
        if self.dast_total.text().strip():
            screens["dast10"] = _integer(self.dast_total.text())
        elif all(a is not None for a in dast_answers) or (
                draft and any(a is not None for a in dast_answers)):
            screens["dast10"] = dast_answers
        audit_answers = self._audit_answers()
        if self.audit_total.text().strip():
            screens["audit_c"] = _integer(self.audit_total.text())
        elif all(a is not None for a in audit_answers) or (
                draft and any(a is not None for a in audit_answers)):
            screens["audit_c"] = audit_answers
        if screens:
            document["substance_use"] = screens


def _integer(text: str) -> int | str:
    """The total as an integer, or the text as typed (the core names what is wrong with it)."""
    stripped = text.strip()
    return int(stripped) if stripped.isdigit() else stripped
