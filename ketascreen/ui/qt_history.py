"""The screening questionnaire (``history``): every history concept, Yes / No / Unknown.

Nothing is pre-answered and there is no "answer all No" shortcut: an unanswered question is a
data finding in the core, and each answer is a deliberate key press (Y, N or U moves on to the
next question). The question is the rule's title; its statement is the tooltip.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ketascreen.ui import actions
from ketascreen.ui.qt_choice import YES_NO_UNKNOWN, QtChoice
from ketascreen.ui.qt_section import FieldTarget, QtSection
from ketascreen.ui.widgets import InlineMessage, section_title, set_text


def _unanswered(choice: QtChoice) -> Callable[[], bool]:
    return lambda: choice.value() is None


class QtHistory(QtSection):
    """The screening questionnaire, one :class:`QtChoice` per history concept.

    Args:
        parent: the owning widget.

    Signals:
        edited: an answer changed.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setSpacing(0)
        outer.addWidget(section_title("Screening questions", self))
        hint = QLabel("Does this apply to the patient? Answer every question: Y = yes, "
                      "N = no, U = unknown (each key moves on to the next question). Hover a "
                      "question for why it is asked.", self)
        hint.setWordWrap(True)
        outer.addWidget(hint)
        self.progress = QLabel(self)
        self.progress.setObjectName("history-progress")
        outer.addWidget(self.progress)
        self.questions: dict[str, QtChoice] = {}
        self._targets: list[FieldTarget] = []
        for number, question in enumerate(actions.history_questions(), start=1):
            choice = QtChoice(f"{number}. {question.title}", YES_NO_UNKNOWN, self)
            choice.setObjectName(f"history-{question.concept}")
            choice.setToolTip(f"{question.statement}\n(Severity under the clinic policy: "
                              f"{question.severity}.)")
            choice.changed.connect(self._changed)
            choice.answered_by_key.connect(choice.focusNextChild)
            outer.addWidget(choice)
            message = InlineMessage(self)
            outer.addWidget(message)
            self.questions[question.concept] = choice
            self._targets.append(FieldTarget(f"history.{question.concept}", message,
                                             question.title, _unanswered(choice)))
        general = InlineMessage(self)
        outer.addWidget(general)
        self._targets.append(FieldTarget("history", general, "Questionnaire", lambda: False))
        self._changed()

    def _changed(self) -> None:
        answered = sum(1 for q in self.questions.values() if q.value() is not None)
        unknown = sum(1 for q in self.questions.values() if q.value() == "unknown")
        text = f"{answered} of {len(self.questions)} answered"
        if unknown:
            text += f" ({unknown} unknown: an unknown answer counts as unanswered)"
        set_text(self.progress, text)
        self.edited.emit()

    def targets(self) -> list[FieldTarget]:
        """One target per question."""
        return self._targets

    def load(self, document: Mapping[str, Any]) -> None:
        """Show the answers of ``document``; questions it does not answer stay unanswered."""
        answers = document.get("history")
        answers = answers if isinstance(answers, Mapping) else {}
        for concept, choice in self.questions.items():
            value = answers.get(concept)
            choice.set_value(value if value in ("yes", "no", "unknown") else None)

    def dump(self, document: dict[str, Any], *, draft: bool) -> None:
        """Write the answered questions into ``document``."""
        document["history"] = {concept: value for concept, choice in self.questions.items()
                               if (value := choice.value()) is not None}
