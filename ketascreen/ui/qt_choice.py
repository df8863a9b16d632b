"""A keyboard-first answer control: Yes / No / Unknown radio buttons, nothing pre-answered.

The row itself takes the keyboard focus (one Tab stop per question, not three). Typing the first
letter of an answer (Y, N, U) answers it and moves to the next question, so a physician can go
down the questionnaire with one key per question; Left and Right move between the answers, and
Delete clears an answer given by mistake. The mouse works on the radio buttons as usual.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSizePolicy,
    QWidget,
)

YES_NO_UNKNOWN = (("yes", "Yes"), ("no", "No"), ("unknown", "Unknown"))
YES_NO = (("yes", "Yes"), ("no", "No"))
_FOCUSED = "rowFocused"
_ROW_STYLE = (f'QtChoice[{_FOCUSED}="true"] {{ background: #d5e4f7; border: 1px solid #2f62a8; '
              "border-left: 5px solid #2f62a8; }")
"""The focused row's highlight (by a property, so it holds whatever the row's object name). Set
on a row when it first gets the focus: a row never focused looks the same without it, and a form
of dozens of questions is built and laid out faster without a style sheet on each."""


class QtChoice(QFrame):
    """One question answered by one of a few options, or not answered yet.

    Args:
        question: the question's text (also its accessible name).
        options: (value, label) pairs; the label's first letter is its key.
        parent: the owning widget.

    Signals:
        changed: the answer changed (by keyboard, mouse or :meth:`set_value`).
        answered_by_key: the answer was given by its letter key (the form moves on).
    """

    changed = Signal()
    answered_by_key = Signal()

    def __init__(self, question: str, options: Sequence[tuple[str, str]],
                 parent: QWidget | None = None, *, note: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("choice")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAutoFillBackground(True)
        self.setProperty(_FOCUSED, False)  # the highlight's style sheet comes with the focus
        self._question = question
        self._values = [value for value, _ in options]
        self._keys = {label[0].upper(): value for value, label in options}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.label = QLabel(question + (f"  <i>{note}</i>" if note else ""), self)
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.label, 1)
        self._group = QButtonGroup(self)
        self._buttons: dict[str, QRadioButton] = {}
        for value, text in options:
            button = QRadioButton(text, self)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setToolTip(f"Key {text[0].upper()}")
            self._group.addButton(button)
            self._buttons[value] = button
            layout.addWidget(button)
        self._group.buttonToggled.connect(self._toggled)
        self._refresh_accessible()

    def value(self) -> str | None:
        """The answer, or ``None`` while unanswered."""
        for value, button in self._buttons.items():
            if button.isChecked():
                return value
        return None

    def set_value(self, value: str | None) -> None:
        """Answer (or, with ``None``, clear) the question."""
        if value == self.value():
            return
        self._group.blockSignals(True)
        self._group.setExclusive(False)
        for option, button in self._buttons.items():
            button.setChecked(option == value)
        self._group.setExclusive(True)
        self._group.blockSignals(False)
        self._refresh_accessible()
        self.changed.emit()

    def set_enabled_answers(self, enabled: bool) -> None:
        """Enable or disable answering (a total given instead of item answers)."""
        for button in self._buttons.values():
            button.setEnabled(enabled)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus if enabled else Qt.FocusPolicy.NoFocus)

    def _toggled(self, _button: QRadioButton, checked: bool) -> None:
        if checked:
            self._refresh_accessible()
            self.changed.emit()

    def _refresh_accessible(self) -> None:
        answer = self.value()
        self.setAccessibleName(f"{self._question} Answer: "
                               f"{'not answered' if answer is None else answer}")

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        """Answer by letter, move between answers with the arrows, clear with Delete."""
        key = event.text().upper()
        if not self.isEnabled() or not any(b.isEnabled() for b in self._buttons.values()):
            super().keyPressEvent(event)
            return
        if key and key in self._keys:
            self.set_value(self._keys[key])
            self.answered_by_key.emit()
            return
        if event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            current = self.value()
            index = -1 if current is None else self._values.index(current)
            step = 1 if event.key() == Qt.Key.Key_Right else -1
            self.set_value(self._values[(index + step) % len(self._values)])
            return
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.set_value(None)
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        """Keep a wrapped question fully visible (scroll areas ignore height-for-width)."""
        super().resizeEvent(event)
        needed = self.label.heightForWidth(self.label.width())
        if needed > 0 and needed != self.label.minimumHeight():
            self.label.setMinimumHeight(needed)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        """Show the focus with a highlighted row."""
        self._highlight(True)
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        """Remove the focus highlight."""
        self._highlight(False)
        super().focusOutEvent(event)

    def highlighted(self) -> bool:
        """Whether the row shows the focus highlight."""
        return bool(self.property(_FOCUSED))

    def _highlight(self, on: bool) -> None:
        if on and not self.styleSheet():
            self.setStyleSheet(_ROW_STYLE)
        self.setProperty(_FOCUSED, on)
        self.style().unpolish(self)
        self.style().polish(self)
        self.update()
