"""The course view: a patient's course of infusions, opened from a ``ketascreen-course/1`` file.

One window with three tabs, each reachable from the keyboard (Ctrl+1 to Ctrl+3):

- **Course**: the infusion list with each infusion's state (a mark and the word: planned,
  checked, signed, infused, discharged), the PHQ-9 trend and the course figures;
- **Day-of re-check**: the next infusion's re-check form (:class:`QtRecheckForm`), prefilled
  from the previous infusion with every carried-over value marked;
- **Monitoring**: the nurse's monitoring form (:class:`QtMonitoringForm`).

The view only shows: the figures and the findings are the screening's, handed in by the course
controller (:mod:`ketascreen.ui.controllers.course`).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtSvgWidgets import QSvgWidget
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ketascreen.course.figures import CourseFigures
from ketascreen.ui.actions.course import InfusionRow, state_label
from ketascreen.ui.qt_monitoring import QtMonitoringForm
from ketascreen.ui.qt_recheck import QtRecheckForm
from ketascreen.ui.widgets import section_title, set_text

INFUSION_COLUMNS = ("Infusion", "Start", "State", "PHQ-9", "Dose (own)")


def _dash(value: object) -> str:
    return "\u2014" if value is None else str(value)


def figure_lines(figures: CourseFigures) -> tuple[tuple[str, str], ...]:
    """The course figures as (label, text) rows, as the view shows them."""
    result = figures.summary()
    phq9 = result.phq9
    change = phq9.change_percent
    return (
        ("Infusion", f"{result.infusion} of {_dash(result.planned)}"),
        ("Days since previous", _dash(result.days_since_previous)),
        ("Infusions in 7 days", str(result.infusions_last_7_days)),
        ("Infusions in 30 days", str(result.infusions_last_30_days)),
        ("Ketamine given before this infusion", f"{result.cumulative_mg:g} mg"),
        ("PHQ-9", f"baseline {_dash(phq9.baseline)}, latest {_dash(phq9.latest)}, "
                  f"change {'—' if change is None else f'{change:+g} %'}"),
        ("Course status", result.status),
    )


class QtCourseOverview(QWidget):
    """The infusion list, the PHQ-9 trend and the course figures.

    Args:
        parent: the owning widget.

    Signals:
        none (it only shows).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        self.heading = QLabel(self)
        self.heading.setObjectName("course-heading")
        self.heading.setWordWrap(True)
        column.addWidget(self.heading)
        column.addWidget(section_title("Infusions", self))
        self.infusions = QTableWidget(0, len(INFUSION_COLUMNS), self)
        self.infusions.setObjectName("course-infusions")
        self.infusions.setHorizontalHeaderLabels(list(INFUSION_COLUMNS))
        self.infusions.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.infusions.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.infusions.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.infusions.verticalHeader().hide()
        self.infusions.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.infusions.horizontalHeader().setStretchLastSection(True)
        self.infusions.setAccessibleName("Infusions of the course")
        column.addWidget(self.infusions, 1)
        column.addWidget(section_title("PHQ-9 trend", self))
        self.chart = QSvgWidget(self)
        self.chart.setObjectName("phq9-chart")
        self.chart.setMinimumHeight(220)
        self.chart.setMaximumHeight(320)
        self.chart.setAutoFillBackground(True)
        self.chart.setStyleSheet("QSvgWidget#phq9-chart { background: white; }")
        self.chart.renderer().setAspectRatioMode(Qt.AspectRatioMode.KeepAspectRatio)
        self.chart.setAccessibleName("PHQ-9 trend chart")
        self.chart.hide()
        column.addWidget(self.chart)
        self.trend = QLabel(self)
        self.trend.setObjectName("phq9-trend")
        self.trend.setWordWrap(True)
        self.trend.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.trend)
        column.addWidget(section_title("Course figures", self))
        self.figures = QWidget(self)
        self.figures.setObjectName("course-figures")
        self.figures_form = QFormLayout(self.figures)
        column.addWidget(self.figures)
        self.figures_note = QLabel(self)
        self.figures_note.setObjectName("course-figures-note")
        self.figures_note.setWordWrap(True)
        column.addWidget(self.figures_note)
        self.show_figures(None)

    def show_rows(self, heading: str, rows: Sequence[InfusionRow]) -> None:
        """Show the course's heading line and its infusion list."""
        set_text(self.heading, heading)
        self.infusions.setRowCount(len(rows))
        for index, row in enumerate(rows):
            cells = (str(row.number), row.start, state_label(row.state), _dash(row.phq9),
                     row.dose or "(previous)")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)
                self.infusions.setItem(index, col, item)
        if rows:
            self.infusions.selectRow(len(rows) - 1)

    def show_trend(self, series: Sequence[tuple[int, int | None]], svg: bytes | None) -> None:
        """Show the PHQ-9 series as words and, when given, as the chart (SVG bytes)."""
        parts = [f"{number}: {_dash(total)}" for number, total in series]
        set_text(self.trend, "PHQ-9 by infusion \u2014 " + ", ".join(parts)
                 if parts else "No PHQ-9 recorded.")
        if svg is None:
            self.chart.hide()
        else:
            self.chart.load(QByteArray(svg))
            self.chart.show()

    def show_figures(self, figures: CourseFigures | None, *, note: str = "") -> None:
        """Show the course figures of the screened infusion (``None``: not screened yet)."""
        while self.figures_form.rowCount():
            self.figures_form.removeRow(0)
        if figures is not None:
            for label, text in figure_lines(figures):
                value = QLabel(text, self.figures)
                value.setObjectName(f"figure-{label.lower().replace(' ', '-')}")
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self.figures_form.addRow(label + ":", value)
        set_text(self.figures_note, note if figures is not None or note else
                 "The course figures appear once the course is screened.")

    def figure(self, label: str) -> str:
        """The text shown for the figure ``label`` (``""`` when not shown)."""
        for row in range(self.figures_form.rowCount()):
            name = self.figures_form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            value = self.figures_form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if name is None or value is None:
                continue
            name_label, value_label = name.widget(), value.widget()
            if (isinstance(name_label, QLabel) and isinstance(value_label, QLabel)
                    and name_label.text() == label + ":"):
                return value_label.text()
        return ""


class QtCourseWindow(QMainWindow):
    """The course view's window: the overview, the re-check and the monitoring tabs.

    Args:
        parent: the owning widget (the main window).

    Signals:
        none of its own: the controller connects to its forms' signals.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("course-window")
        self.setWindowTitle("Course of infusions - ketascreen")
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("course-tabs")
        self.overview = QtCourseOverview(self.tabs)
        self.recheck = QtRecheckForm(self.tabs)
        self.monitoring = QtMonitoringForm(self.tabs)
        for page, title in ((self.overview, "&Course"), (self.recheck, "&Day-of re-check"),
                            (self.monitoring, "&Monitoring")):
            scroll = QScrollArea(self.tabs)
            scroll.setWidgetResizable(True)
            scroll.setWidget(page)
            scroll.setFocusProxy(page)
            self.tabs.addTab(scroll, title)
        self.setCentralWidget(self.tabs)
        for index in range(self.tabs.count()):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{index + 1}"), self)
            shortcut.activated.connect(lambda i=index: self.show_tab(i))
        self.resize(1100, 820)

    def show_tab(self, index: int) -> None:
        """Show tab ``index`` and put the keyboard focus in it (a tab not offered to the
        signed-in role stays hidden)."""
        if not self.tabs.isTabVisible(index):
            return
        self.tabs.setCurrentIndex(index)
        page = (self.overview, self.recheck, self.monitoring)[index]
        if page is not None:
            page.setFocus()
            focus = page.nextInFocusChain()
            if focus is not None and page.isAncestorOf(focus):
                focus.setFocus()
