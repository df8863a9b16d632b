"""The nurse's monitoring form of one infusion: a row per reading, times prefilled.

The rows' minutes come from the cadence (every 10 minutes during the infusion, every 15 after
it: :func:`~ketascreen.ui.actions.monitoring.monitoring_minutes`); the nurse types blood pressure,
heart rate, SpO2, MOAA/S and CADSS-6 with the keyboard (Tab moves along a row and on to the next
one, typing replaces a cell). A value outside the patient's own band (the day's pre-infusion
blood pressure +/-20 %) or beyond one of the clinic's notify values is highlighted with an icon
and the words in the row's flag column, never by colour alone.

Below the readings, a rescue drug given (drug, dose with its unit, minute) with the drugs given
so far and their cumulative total per drug, and the discharge (minute, Aldrete score, escort),
typed in once: the records validate each value and name a refused one by its field path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ketascreen.models.course import Discharge, MonitoringReading, Rescue
from ketascreen.ui.actions.monitoring import (
    BloodPressureBand,
    NotifyValues,
    ReadingFlag,
    check_reading,
    flag_label,
    rescue_totals_text,
)
from ketascreen.ui.widgets import section_title, set_text, standard_icon

MONITORING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("minute", "Minute"), ("blood_pressure", "BP (mmHg)"), ("heart_rate", "HR (/min)"),
    ("spo2", "SpO2 (%)"), ("moaas", "MOAA/S 0-5"), ("cadss6", "CADSS-6 0-24"),
    ("flags", "Flags"))
_COLUMN = {name: index for index, (name, _label) in enumerate(MONITORING_COLUMNS)}
_HIGHLIGHT = {"notify": QColor("#f7d4d4"), "outside band": QColor("#fbe9c6"),
              "invalid": QColor("#e6e6e6")}
_ICON = {"notify": QStyle.StandardPixmap.SP_MessageBoxCritical,
         "outside band": QStyle.StandardPixmap.SP_MessageBoxWarning,
         "invalid": QStyle.StandardPixmap.SP_MessageBoxQuestion}
_RANK = {"notify": 0, "outside band": 1, "invalid": 2}
_UNITS = {"blood_pressure": "mmHg", "heart_rate": "/min", "spo2": "%"}


def with_unit(name: str, text: str) -> str:
    """A typed cell as a quantity string: a bare number gets its column's unit (the column
    header names it), a value with a unit is kept as typed."""
    text = text.strip()
    unit = _UNITS.get(name)
    if unit is None or not text:
        return text
    bare = text.replace("/", "").replace(".", "")
    return f"{text} {unit}" if bare.isdigit() else text


class QtMonitoringForm(QWidget):
    """The monitoring record of one infusion.

    Args:
        parent: the owning widget.

    Signals:
        save_requested: the nurse asked to save the record into the course file (Ctrl+S in
            the form, or the button).
    """

    save_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        self.title = section_title("Monitoring", self)
        self.title.setObjectName("monitoring-title")
        column.addWidget(self.title)
        self.limits = QLabel(self)
        self.limits.setObjectName("monitoring-limits")
        self.limits.setWordWrap(True)
        column.addWidget(self.limits)
        self.table = QTableWidget(0, len(MONITORING_COLUMNS), self)
        self.table.setObjectName("monitoring-table")
        self.table.setHorizontalHeaderLabels([label for _name, label in MONITORING_COLUMNS])
        self.table.verticalHeader().hide()
        self.table.setTabKeyNavigation(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.AnyKeyPressed
                                   | QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Monitoring readings")
        self.table.itemChanged.connect(self._changed)
        column.addWidget(self.table, 1)
        self._build_after(column)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("&Add a row", self)
        self.add_button.setObjectName("monitoring-add")
        self.add_button.clicked.connect(self.add_row)
        self.save_button = QPushButton("&Save the record to the course file", self)
        self.save_button.setObjectName("monitoring-save")
        self.save_button.clicked.connect(self.save_requested)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        save = QShortcut(QKeySequence("Ctrl+S"), self)
        save.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        save.activated.connect(self.save_requested)
        self.problems = QLabel(self)
        self.problems.setObjectName("monitoring-problems")
        self.problems.setWordWrap(True)
        self.problems.hide()
        column.addWidget(self.problems)
        self.band: BloodPressureBand | None = None
        self.notify = NotifyValues()
        self.number = 0
        self._loading = False
        self._loaded: list[dict[str, Any]] = []

    def _build_after(self, column: QVBoxLayout) -> None:
        """The rescue drug and discharge entries, below the readings (Tab order: drug, dose,
        minute, then the discharge's minute, Aldrete score and escort)."""
        form = QFormLayout()
        column.addLayout(form)
        self.rescue_given = QLabel(self)
        self.rescue_given.setObjectName("rescue-given")
        self.rescue_given.setWordWrap(True)
        form.addRow("Rescue drugs given:", self.rescue_given)
        self.rescue = self._line_edits(form, "rescue", (
            ("drug", "Rescue &drug", "e.g. ondansetron"), ("dose", "Rescue d&ose", "e.g. 4 mg"),
            ("minute", "Rescue &minute", "minutes from the start")))
        self.discharge_recorded = QLabel(self)
        self.discharge_recorded.setObjectName("discharge-recorded")
        form.addRow("Discharge:", self.discharge_recorded)
        self.discharge = self._line_edits(form, "discharge", (
            ("minute", "Discharge minu&te", "minutes from the start"),
            ("aldrete", "&Aldrete score", "0-10")))
        self.discharge_escort = QComboBox(self)
        self.discharge_escort.setObjectName("discharge-escort")
        self.discharge_escort.addItems(["unknown", "yes", "no"])
        self.discharge_escort.setAccessibleName("Escort home at discharge")
        form.addRow("&Escort home:", self.discharge_escort)
        self._recorded_rescue: tuple[Rescue, ...] = ()
        self._discharged = False

    def _line_edits(self, form: QFormLayout, prefix: str,
                    rows: tuple[tuple[str, str, str], ...]) -> dict[str, QLineEdit]:
        """One labelled line edit per (name, label with mnemonic, placeholder) row, by name."""
        edits: dict[str, QLineEdit] = {}
        for name, label, hint in rows:
            edit = QLineEdit(self)
            edit.setObjectName(f"{prefix}-{name}")
            edit.setPlaceholderText(hint)
            edit.setAccessibleName(label.replace("&", ""))
            edits[name] = edit
            form.addRow(label + ":", edit)
        return edits

    def load_after(self, rescue: Sequence[Rescue], discharge: Discharge | None) -> None:
        """Show the rescue drugs recorded (with the cumulative total per drug) and the
        discharge if recorded (its entry then closed); the entries start empty."""
        self._recorded_rescue = tuple(rescue)
        lines = [f"{r.drug} {r.dose} at minute {r.minute}" for r in rescue]
        set_text(self.rescue_given, "none" if not lines else
                 "; ".join(lines) + f". Total: {rescue_totals_text(rescue)}")
        for edit in (*self.rescue.values(), *self.discharge.values()):
            edit.clear()
        self.discharge_escort.setCurrentIndex(0)
        self._discharged = discharge is not None
        set_text(self.discharge_recorded, "not recorded yet" if discharge is None else
                 f"recorded: minute {discharge.minute}, Aldrete {discharge.aldrete}, "
                 f"escort {discharge.escort}")
        for widget in (*self.discharge.values(), self.discharge_escort):
            widget.setEnabled(discharge is None)
        self._loaded_after = self._typed_after()

    def _typed_after(self) -> object:
        return (self.new_rescue(), self.new_discharge())

    def new_rescue(self) -> list[dict[str, Any]]:
        """The rescue drug typed (``drug``, ``dose``, ``minute``), or none when its entry is
        empty; a dose as typed and a minute as a whole number where it is one."""
        typed = {name: edit.text().strip() for name, edit in self.rescue.items()}
        if not any(typed.values()):
            return []
        entry: dict[str, Any] = {k: v for k, v in typed.items() if v}
        minute = entry.get("minute")
        if isinstance(minute, str) and minute.isdigit():
            entry["minute"] = int(minute)
        return [entry]

    def new_discharge(self) -> dict[str, Any] | None:
        """The discharge typed (``minute``, ``aldrete``, ``escort``), or ``None`` when it is
        recorded already or nothing of it is typed."""
        if self._discharged:
            return None
        typed = {name: edit.text().strip() for name, edit in self.discharge.items()}
        if not any(typed.values()) and self.discharge_escort.currentIndex() == 0:
            return None
        entry: dict[str, Any] = {k: (int(v) if v.isdigit() else v)
                                 for k, v in typed.items() if v}
        entry["escort"] = self.discharge_escort.currentText()
        return entry

    def load(self, number: int, minutes: Sequence[int],
             readings: Sequence[MonitoringReading], *, band: BloodPressureBand | None,
             notify: NotifyValues, baseline: str | None,
             rescue: Sequence[Rescue] = (), discharge: Discharge | None = None) -> None:
        """Start the form for infusion ``number``: the recorded readings, and an empty row for
        every prefilled minute not recorded yet; the band and notify values named above it;
        the rescue drugs and discharge recorded (:meth:`load_after`)."""
        self.number, self.band, self.notify = number, band, notify
        self.load_after(rescue, discharge)
        set_text(self.title, f"Monitoring: infusion {number}")
        band_text = ("unknown: no pre-infusion blood pressure today" if band is None
                     else f"{band.text()} (pre-infusion {baseline} \u00b120 %, C34)")
        set_text(self.limits,
                 f"Patient's band: {band_text}. Notify the physician (the clinic policy's "
                 f"values, local policy): BP above {notify.systolic_above}/"
                 f"{notify.diastolic_above} mmHg (R41 C12) or systolic below "
                 f"{notify.systolic_below} mmHg (C14), heart rate "
                 f"below {notify.heart_rate_below} or above {notify.heart_rate_above} /min "
                 f"(C14), SpO2 at or below {notify.spo2_at_or_below} % (C15). Times every 10 "
                 "min during the infusion, every 15 min after it (C7 C8).")
        recorded = {reading.minute: reading for reading in readings}
        rows = sorted(set(minutes) | set(recorded))
        self._loading = True
        self.table.setRowCount(0)
        for minute in rows:
            reading = recorded.get(minute)
            values = {} if reading is None else reading.model_dump(exclude_none=True)
            self._append({name: "" if values.get(name) is None else str(values[name])
                          for name, _label in MONITORING_COLUMNS} | {"minute": str(minute)})
        self._loading = False
        for row in range(self.table.rowCount()):
            self._check_row(row)
        self.problems.hide()
        self._loaded = self.rows()
        if self.table.rowCount():
            self.table.setCurrentCell(0, _COLUMN["blood_pressure"])

    def has_input(self) -> bool:
        """Whether any reading, rescue drug or discharge value was typed or changed since the
        form was loaded."""
        return self.rows() != self._loaded or self._typed_after() != self._loaded_after

    def changed_minutes(self, *, up_to: int) -> tuple[int, ...]:
        """The minutes (at or before ``up_to``) of the rows as loaded whose values were changed
        since: readings recorded already, which the records never change."""
        minutes = []
        for now, loaded in zip(self.rows(), self._loaded, strict=False):
            minute = loaded.get("minute")
            if now != loaded and isinstance(minute, int) and minute <= up_to:
                minutes.append(minute)
        return tuple(minutes)

    def _append(self, values: dict[str, str]) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for name, _label in MONITORING_COLUMNS:
            item = QTableWidgetItem(values.get(name, ""))
            if name == "flags":
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.table.setItem(row, _COLUMN[name], item)

    def add_row(self) -> None:
        """Add an empty row after the last (its minute 15 after the last row's)."""
        last = self.table.rowCount() - 1
        minute = ""
        if last >= 0:
            item = self.table.item(last, _COLUMN["minute"])
            if item is not None and item.text().strip().isdigit():
                minute = str(int(item.text()) + 15)
        self._loading = True
        self._append({"minute": minute})
        self._loading = False
        self.table.setCurrentCell(self.table.rowCount() - 1, _COLUMN["minute"])
        self.table.setFocus()

    def cell(self, row: int, name: str) -> str:
        """The text of ``row``'s cell ``name``."""
        item = self.table.item(row, _COLUMN[name])
        return "" if item is None else item.text()

    def flags_of(self, row: int) -> tuple[ReadingFlag, ...]:
        """The flags of ``row`` as typed now."""
        values = {name: with_unit(name, self.cell(row, name)) for name in _UNITS}
        return check_reading(values, band=self.band, notify=self.notify)

    def _changed(self, item: QTableWidgetItem) -> None:
        if not self._loading and item.column() != _COLUMN["flags"]:
            # After the commit: restyling the row's items while the view moves its editor to
            # the next cell (Tab) would lose what is typed there next.
            row = item.row()
            QTimer.singleShot(0, self, lambda: self._check_row(row))

    def _check_row(self, row: int) -> None:
        flags = self.flags_of(row)
        self._loading = True
        try:
            worst: dict[str, str] = {}
            for flag in flags:
                if flag.field not in worst or _RANK[flag.kind] < _RANK[worst[flag.field]]:
                    worst[flag.field] = flag.kind
            for name in _UNITS:
                item = self.table.item(row, _COLUMN[name])
                if item is None:
                    continue
                kind = worst.get(name)
                item.setBackground(QBrush() if kind is None else QBrush(_HIGHLIGHT[kind]))
                item.setIcon(QIcon() if kind is None else standard_icon(_ICON[kind]))
                item.setToolTip("" if kind is None else "; ".join(
                    flag_label(f) for f in flags if f.field == name))
            flag_item = self.table.item(row, _COLUMN["flags"])
            if flag_item is not None:
                flag_item.setText("; ".join(flag_label(f) for f in flags))
        finally:
            self._loading = False

    def rows(self) -> list[dict[str, Any]]:
        """The readings as typed, in the course format's shape (a bare number gets its
        column's unit; MOAA/S and CADSS-6 as whole numbers where they are; the rest as typed,
        for the course model to accept or name)."""
        rows: list[dict[str, Any]] = []
        for row in range(self.table.rowCount()):
            reading: dict[str, Any] = {}
            for name, _label in MONITORING_COLUMNS:
                if name == "flags":
                    continue
                text = self.cell(row, name).strip()
                if not text:
                    continue
                if name in ("minute", "moaas", "cadss6"):
                    reading[name] = int(text) if text.isdigit() else text
                else:
                    reading[name] = with_unit(name, text)
            rows.append(reading)
        return rows

    def show_problems(self, lines: Sequence[str]) -> None:
        """Show why the record was refused (each line names its field), or hide them."""
        if lines:
            set_text(self.problems, "\u2716 " + "\n\u2716 ".join(lines))
            self.problems.show()
        else:
            self.problems.hide()
