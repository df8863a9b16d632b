"""Small building blocks shared by the views: inline messages, chips, icons, section titles.

Meaning is never carried by colour alone: every state has an icon *and* words.
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QLabel, QStyle, QWidget

from ketascreen.errors import FieldProblem

Tone = Literal["error", "hint", "ok", "info"]

_TONE_STYLE = {
    "error": "color: #a00000; font-weight: 600;",
    "hint": "color: #505050;",
    "ok": "color: #185c18;",
    "info": "color: #303030;",
}
_TONE_MARK = {"error": "\u2716 ", "hint": "\u25b8 ", "ok": "\u2714 ", "info": ""}

SEVERITY_TEXT = {"absolute": "ABSOLUTE", "relative": "RELATIVE", "info": "INFO"}
SEVERITY_HEADING = {
    "absolute": "Absolute: do not infuse",
    "relative": "Relative: physician review",
    "info": "Information",
}
_SEVERITY_ICON = {
    "absolute": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "relative": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
}


def standard_icon(pixmap: QStyle.StandardPixmap) -> QIcon:
    """One of the style's standard icons."""
    style = QApplication.style()
    return style.standardIcon(pixmap)


def severity_icon(severity: str) -> QIcon:
    """The icon of a finding's severity (it is always shown with the severity's word)."""
    return standard_icon(_SEVERITY_ICON.get(severity, QStyle.StandardPixmap.SP_MessageBoxQuestion))


def set_text(label: QLabel, text: str) -> None:
    """Set a label's text only when it changes (a change re-lays out the panel around it)."""
    if label.text() != text:
        label.setText(text)


def describe_problem(problem: FieldProblem, *, with_field: str | None = None) -> str:
    """A field problem for display, built from its structured fields (never its message
    string as a whole): ``"70" has no unit (...). Write "70 kg" instead.``"""
    parts = []
    if with_field:
        parts.append(f"{with_field}:")
    if problem.value is not None and problem.value != "":
        shown = problem.value if isinstance(problem.value, str) else repr(problem.value)
        parts.append(f"\u201c{shown}\u201d")
    parts.append(problem.message)
    text = " ".join(parts)
    if problem.suggestion:
        text += f". Write \u201c{problem.suggestion}\u201d instead"
    return text


class InlineMessage(QLabel):
    """A one-line message under an input: an error, a hint or a confirmation, each with a mark.

    Args:
        parent: the owning widget.

    Signals:
        none (it only shows).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tone: Tone | None = None
        self.hide()

    def show_message(self, text: str, tone: Tone) -> None:
        """Show ``text`` with the mark and style of ``tone``."""
        if self.tone != tone:
            self.setStyleSheet(_TONE_STYLE[tone])
        self.tone = tone
        if self.text() != _TONE_MARK[tone] + text:
            self.setText(_TONE_MARK[tone] + text)
        self.setAccessibleName(f"{tone}: {text}")
        self.show()

    def show_problem(self, problem: FieldProblem, *, empty: bool, label: str) -> None:
        """Show a core problem: as a hint on an empty required field, else as an error."""
        if empty:
            self.show_message(f"{label} {problem.message}", "hint")
        else:
            self.show_message(describe_problem(problem), "error")

    def clear_message(self) -> None:
        """Hide the message."""
        if self.tone is None and self.isHidden():
            return  # nothing shown: touching the label would relayout the form for nothing
        self.tone = None
        self.setText("")
        self.hide()


class Chip(QLabel):
    """A small rounded label naming what something was recognised as (text, never colour only).

    Args:
        text: the chip's text.
        tone: ``ok`` for a recognised class, ``error`` for "not recognised".
        parent: the owning widget.

    Signals:
        none (it only shows).
    """

    def __init__(self, text: str, tone: Tone = "ok", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        background = {"ok": "#e3efe3", "error": "#f7e1e1", "hint": "#ececec",
                      "info": "#e4ebf5"}[tone]
        self.setText(_TONE_MARK[tone] + text)
        self.setStyleSheet(f"background: {background}; border: 1px solid #9a9a9a; "
                           "border-radius: 8px; padding: 1px 6px;")


def section_title(text: str, parent: QWidget | None = None) -> QLabel:
    """A bold section heading."""
    label = QLabel(text, parent)
    label.setStyleSheet("font-size: 15px; font-weight: 700; padding-top: 8px;")
    label.setAccessibleName(text)
    return label
