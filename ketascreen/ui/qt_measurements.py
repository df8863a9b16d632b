"""The Measurements section: value + unit inputs that show the converted value.

Each input is a value field and a unit box. The unit box starts empty for weight, height and
blood pressure (a pound must never be taken for a kilogram by default); heart rate and SpO2
have a single unit. A unit typed in the value field ("70 mL", "5 ft 7 in") is used as typed and
the unit box steps aside. What is stored is the quantity text the case format holds
("187 lb"); the core parses it, and its typed errors are shown under the field.

A unit changed after a value was entered keeps the number (the unit box says what the typed
number is in; it is not a display unit) and is never silent: a note beside the field shows what
the value now means and what it meant ("Unit changed: now 176 kg = 388 lb; was 176 lb =
79.83 kg"), and the section announces the change for the window's status line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ketascreen.ui import actions
from ketascreen.ui.actions import MeasurementKind
from ketascreen.ui.qt_section import FieldTarget, QtSection
from ketascreen.ui.widgets import InlineMessage, section_title

FEET_AND_INCHES = "ft + in"
_HAS_UNIT = re.compile(r"[^\d\s./]")
_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_SIMPLE = re.compile(rf"^(?P<num>{_NUMBER}(?:/{_NUMBER})?) (?P<unit>\S+)$")

MEASUREMENTS: tuple[tuple[MeasurementKind, str, tuple[str, ...], str | None, str], ...] = (
    ("weight", "&Weight", ("kg", "lb"), None, "e.g. 70 and kg, or 187 lb"),
    ("height", "H&eight", ("cm", FEET_AND_INCHES, "in"), None,
     "e.g. 170 and cm, or 5 7 and ft + in"),
    ("blood_pressure", "Blood &pressure", ("mmHg", "kPa"), None, "systolic/diastolic, e.g. 138/86"),
    ("heart_rate", "He&art rate", ("/min",), "/min", "e.g. 72"),
    ("spo2", "Sp&O2", ("%",), "%", "e.g. 98"),
)


class QtQuantityInput(QWidget):
    """A value field, a unit box, the converted value and an inline message.

    Args:
        kind: which measurement it is (picks the converter).
        units: the units offered in the unit box.
        default_unit: the unit selected at start (only where there is a single unit).
        placeholder: the value field's placeholder text.
        parent: the owning widget.

    Signals:
        unit_changed(str): the unit was changed while a value was entered; the text says what
            the value now means and what it meant (the value field and unit box keep their own
            ``textChanged`` and ``currentIndexChanged``, which the section listens to).
    """

    unit_changed = Signal(str)

    def __init__(self, kind: MeasurementKind, units: tuple[str, ...], default_unit: str | None,
                 placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self._default_unit = default_unit
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        row = QHBoxLayout()
        column.addLayout(row)
        self.value = QLineEdit(self)
        self.value.setObjectName(f"{kind}-value")
        self.value.setPlaceholderText(placeholder)
        self.unit = QComboBox(self)
        self.unit.setObjectName(f"{kind}-unit")
        for unit in units:
            self.unit.addItem(unit, unit)
        self.unit.setPlaceholderText("unit")
        self.unit.setAccessibleName(f"{kind.replace('_', ' ')} unit")
        self.converted = QLabel(self)
        self.converted.setObjectName(f"{kind}-converted")
        self.converted.setFixedSize(150, self.value.sizeHint().height())  # no relayout per key
        row.addWidget(self.value, 1)
        row.addWidget(self.unit)
        row.addWidget(self.converted)
        self.change = QLabel(self)
        self.change.setObjectName(f"{kind}-unit-change")
        self.change.setWordWrap(True)
        self.change.setStyleSheet(_CHANGE_STYLE)
        self.change.hide()
        column.addWidget(self.change)
        self.message = InlineMessage(self)
        column.addWidget(self.message)
        self._reset_unit()
        self._unit_shown: str | None = self._unit()
        self.value.textChanged.connect(self._refresh)
        self.value.textChanged.connect(self._value_edited)
        self.unit.currentIndexChanged.connect(self._unit_edited)
        self.unit.currentIndexChanged.connect(self._refresh)

    def _unit(self) -> str | None:
        unit = self.unit.currentData()
        return unit if isinstance(unit, str) else None

    def _reset_unit(self) -> None:
        self.unit.setCurrentIndex(self.unit.findData(self._default_unit)
                                  if self._default_unit else -1)

    def text(self) -> str:
        """The quantity text as the case stores it ("187 lb"), or "" when empty."""
        return self._text_in(self._unit())

    def _text_in(self, unit: str | None) -> str:
        value = self.value.text().strip()
        if not value or _HAS_UNIT.search(value) or unit is None:
            return value
        if unit == FEET_AND_INCHES:
            parts = value.split()
            if len(parts) == 2:
                return f"{parts[0]} ft {parts[1]} in"
            return f"{value} ft"
        return f"{value} {unit}"

    def set_text(self, text: str) -> None:
        """Show a stored quantity, split into value and unit where that is exact."""
        self.value.blockSignals(True)
        self.unit.blockSignals(True)
        simple = _SIMPLE.match(text)
        if simple and self.unit.findData(simple.group("unit")) >= 0:
            self.value.setText(simple.group("num"))
            self.unit.setCurrentIndex(self.unit.findData(simple.group("unit")))
        else:  # e.g. "5 ft 7 in": shown as stored, with its units
            self.value.setText(text)
            self._reset_unit()
        self.value.blockSignals(False)
        self.unit.blockSignals(False)
        self._unit_shown = self._unit()
        self._show_change("")
        self._refresh()

    def _unit_edited(self) -> None:
        """Announce a unit changed under an entered value (never a silent change)."""
        before, after = self._unit_shown, self._unit()
        self._unit_shown = after
        was, now = self._text_in(before), self._text_in(after)
        if before is None or after is None or before == after or was == now:
            return  # the first unit chosen, or nothing typed yet: nothing changes meaning
        was_means = actions.convert_measurement(kind=self.kind, text=was)
        now_means = actions.convert_measurement(kind=self.kind, text=now)
        now_shown = f"{now} {now_means}" if now_means else now
        was_shown = f"{was} {was_means}" if was_means else was
        self._show_change(f"\u26a0 Unit changed: now {now_shown}; was {was_shown}")
        name = self.kind.replace("_", " ")
        self.unit_changed.emit(f"{name[0].upper()}{name[1:]} unit changed from "
                               f"{_unit_name(before)} to {_unit_name(after)}: {now_shown} "
                               f"(was {was_shown})")

    def _value_edited(self) -> None:
        self._show_change("")  # a new value: the note about the old one no longer applies

    def _show_change(self, text: str) -> None:
        if self.change.text() == text:
            return
        self.change.setText(text)
        self.change.setAccessibleName(text)
        self.change.setVisible(bool(text))
        self.converted.setStyleSheet(_CHANGED_VALUE_STYLE if text else "")

    def _refresh(self) -> None:
        typed_unit = bool(_HAS_UNIT.search(self.value.text()))
        self.unit.setEnabled(not typed_unit)
        self.unit.setPlaceholderText("typed" if typed_unit else "unit")
        self.unit.setToolTip("The unit typed in the value is used." if typed_unit else "")
        text = self.text()
        converted = actions.convert_measurement(kind=self.kind, text=text) if text else None
        if self.converted.text() != (converted or ""):
            self.converted.setText(converted or "")


_CHANGE_STYLE = ("background: #fff1c2; color: #3a2a00; border: 1px solid #b58a00; "
                 "font-weight: 700; padding: 2px 4px;")
_CHANGED_VALUE_STYLE = "font-weight: 700; color: #3a2a00; background: #fff1c2;"


def _unit_name(unit: str) -> str:
    return "feet and inches" if unit == FEET_AND_INCHES else unit


def _empty(widget: QtQuantityInput) -> Callable[[], bool]:
    return lambda: not widget.text()


class QtMeasurements(QtSection):
    """Weight, height, blood pressure, heart rate, SpO2 and when they were taken.

    Args:
        parent: the owning widget.

    Signals:
        edited: a measurement changed.
        announced(str): a unit was changed under an entered value (the text says how).
    """

    announced = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.addWidget(section_title("Measurements", self))
        form = QFormLayout()
        outer.addLayout(form)
        self.inputs: dict[str, QtQuantityInput] = {}
        self._targets: list[FieldTarget] = []
        for kind, label, units, default, placeholder in MEASUREMENTS:
            widget = QtQuantityInput(kind, units, default, placeholder, self)
            widget.value.textChanged.connect(self.edited)
            widget.unit.currentIndexChanged.connect(self.edited)
            widget.unit_changed.connect(self.announced)
            title = QLabel(label, self)
            title.setBuddy(widget.value)
            form.addRow(title, widget)
            self.inputs[kind] = widget
            self._targets.append(FieldTarget(f"measurements.{kind}", widget.message,
                                             label.replace("&", ""), _empty(widget)))
        self.taken_at = QLineEdit(self)
        self.taken_at.setObjectName("taken-at")
        self.taken_at.setPlaceholderText("YYYY-MM-DDTHH:MM; empty = on the screening date")
        self.taken_at.textChanged.connect(self.edited)
        taken_message = InlineMessage(self)
        holder = QWidget(self)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.taken_at)
        column.addWidget(taken_message)
        title = QLabel("Ta&ken at", self)
        title.setBuddy(self.taken_at)
        form.addRow(title, holder)
        self._targets.append(FieldTarget("measurements.taken_at", taken_message, "Taken at",
                                         lambda: not self.taken_at.text().strip()))
        self._targets.append(FieldTarget("measurements", InlineMessage(self), "Measurements",
                                         lambda: False))
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)

    def targets(self) -> list[FieldTarget]:
        """One target per measurement and the time taken."""
        return self._targets

    def load(self, document: Mapping[str, Any]) -> None:
        """Show the measurements of ``document``."""
        values = document.get("measurements")
        values = values if isinstance(values, Mapping) else {}
        for kind, widget in self.inputs.items():
            value = values.get(kind)
            widget.set_text(value if isinstance(value, str) else "")
        taken = values.get("taken_at")
        self.taken_at.setText(taken if isinstance(taken, str) else "")

    def dump(self, document: dict[str, Any], *, draft: bool) -> None:
        """Write the measurements that were given into ``document``."""
        values: dict[str, Any] = {}
        for kind, widget in self.inputs.items():
            text = widget.text()
            if text:
                values[kind] = text
        if self.taken_at.text().strip():
            values["taken_at"] = self.taken_at.text().strip()
        if values:
            document["measurements"] = values
