"""The dose panel: the pump programming and its working, or why there is no dose.

The rows are the checklist's dose box, word for word, so what the screen shows is what the
printed checklist shows. There is no dose while the form is invalid, when a hard limit or a
missing or implausible weight refuses it, and on a DO NOT INFUSE decision.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ketascreen.ui.actions import FormScreening
from ketascreen.ui.widgets import section_title, standard_icon


class QtDoseOutcome(QFrame):
    """The dose outcome of a :class:`~ketascreen.ui.actions.FormScreening`.

    Args:
        parent: the owning widget.

    Signals:
        none (it only shows).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dose")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.addWidget(section_title("Dose and pump programming", self))
        refusal = QHBoxLayout()
        self.refusal_icon = QLabel(self)
        self.refusal_icon.setPixmap(standard_icon(
            QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(QSize(24, 24)))
        self.refusal = QLabel(self)
        self.refusal.setObjectName("no-dose")
        self.refusal.setWordWrap(True)
        refusal.addWidget(self.refusal_icon, 0, Qt.AlignmentFlag.AlignTop)
        refusal.addWidget(self.refusal, 1)
        layout.addLayout(refusal)
        self.grid_holder = QWidget(self)
        self.grid = QGridLayout(self.grid_holder)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setColumnStretch(1, 1)
        layout.addWidget(self.grid_holder)
        self.working_toggle = QToolButton(self)
        self.working_toggle.setObjectName("working-toggle")
        self.working_toggle.setCheckable(True)
        self.working_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.working_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.working_toggle.toggled.connect(self._toggle_working)
        layout.addWidget(self.working_toggle)
        self.working = QLabel(self)
        self.working.setObjectName("working")
        self.working.setWordWrap(True)
        self.working.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.working.hide()
        layout.addWidget(self.working)
        self.rows: tuple[tuple[str, str], ...] = ()
        self._working: tuple[str, ...] = ()
        self._cells: list[tuple[QLabel, QLabel]] = []
        self._big = QFont(self.font())
        self._big.setPointSizeF(self.font().pointSizeF() * 1.4)
        self._big.setBold(True)
        self.show_outcome(None)

    def _toggle_working(self, shown: bool) -> None:
        self.working_toggle.setArrowType(Qt.ArrowType.DownArrow if shown
                                         else Qt.ArrowType.RightArrow)
        self.working.setVisible(shown)

    def set_pending(self) -> None:
        """The form changed and is being re-screened: grey the dose shown (it is of the form as
        it was) until :meth:`show_outcome` brings the new one; never a stale dose in black."""
        self.grid_holder.setEnabled(False)
        self.grid_holder.setToolTip("Recalculating for the edited form...")

    @property
    def pending(self) -> bool:
        """Whether the dose shown is greyed while the form is re-screened."""
        return not self.grid_holder.isEnabled()

    def show_outcome(self, outcome: FormScreening | None) -> None:
        """Show the dose of ``outcome``, or why there is none."""
        self.grid_holder.setEnabled(True)
        self.grid_holder.setToolTip("")
        rows = () if outcome is None else outcome.dose_rows
        working = () if outcome is None else outcome.working
        reason = "nothing screened yet." if outcome is None else outcome.no_dose_reason or ""
        has_dose = bool(rows)
        self.refusal_icon.setVisible(not has_dose)
        self.refusal.setVisible(not has_dose)
        self.refusal.setText(f"<b>NO DOSE</b>: {reason}")
        if rows != self.rows:
            self._fill(rows)
        if working != self._working:
            self._working = working
            self.working.setText("<br>".join(
                f"{n}. {line}" for n, line in enumerate(working, start=1)))
            self.working_toggle.setText(f"Working ({len(working)} steps, each recomputable "
                                        "by hand)")
        self.working_toggle.setVisible(bool(working))
        self.working.setVisible(bool(working) and self.working_toggle.isChecked())
        self.grid_holder.setVisible(has_dose)
        self.setAccessibleName("Dose: " + ("; ".join(f"{k} {v}" for k, v in rows)
                                           if rows else f"no dose, {reason}"))

    def _fill(self, rows: tuple[tuple[str, str], ...]) -> None:
        """Show ``rows``, reusing the labels already made (a keystroke only changes texts)."""
        while len(self._cells) < len(rows):
            index = len(self._cells)
            key = QLabel(self.grid_holder)
            text = QLabel(self.grid_holder)
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.grid.addWidget(key, index, 0, Qt.AlignmentFlag.AlignTop)
            self.grid.addWidget(text, index, 1)
            self._cells.append((key, text))
        for index, (key, text) in enumerate(self._cells):
            shown = index < len(rows)
            key.setVisible(shown)
            text.setVisible(shown)
            if not shown:
                continue
            label, value = rows[index]
            if key.text() != label:
                key.setText(label)
                pump = label == "PUMP RATE"
                for widget in (key, text):
                    widget.setFont(self._big if pump else self.font())
                text.setObjectName("pump-rate" if pump else "")
            if text.text() != value:
                text.setText(value)
        self.rows = rows

    def pump_rate(self) -> str | None:
        """The programmed pump rate shown, or ``None`` when there is no dose."""
        return next((value for label, value in self.rows if label == "PUMP RATE"), None)
