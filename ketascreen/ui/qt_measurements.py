"""The Measurements section: value + unit inputs that show the converted value.

Each input is a value field and a unit box. The unit box starts empty for weight, height and
blood pressure (a pound must never be taken for a kilogram by default); heart rate and SpO2
have a single unit. A unit typed in the value field ("70 mL", "5 ft 7 in") is used as typed and
the unit box steps aside. What is stored is the quantity text the case format holds
("187 lb"); the core parses it, and its typed errors are shown under the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt
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
    ("height", "&Height", ("cm", FEET_AND_INCHES, "in"), None,
     "e.g. 170 and cm, or 5 7 and ft + in"),
    ("blood_pressure", "&Blood pressure", ("mmHg", "kPa"), None, "systolic/diastolic, e.g. 138/86"),
    ("heart_rate", "Heart &rate", ("/min",), "/min", "e.g. 72"),
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
        none of its own: the section listens to ``value.textChanged`` and
        ``unit.currentIndexChanged``.
    """

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
        self.message = InlineMessage(self)
        column.addWidget(self.message)
        self._reset_unit()
        self.value.textChanged.connect(self._refresh)
        self.unit.currentIndexChanged.connect(self._refresh)

    def _reset_unit(self) -> None:
        self.unit.setCurrentIndex(self.unit.findData(self._default_unit)
                                  if self._default_unit else -1)

    def text(self) -> str:
        """The quantity text as the case stores it ("187 lb"), or "" when empty."""
        value = self.value.text().strip()
        unit = self.unit.currentData()
        if not value or _HAS_UNIT.search(value) or not isinstance(unit, str):
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
        self._refresh()

    def _refresh(self) -> None:
        typed_unit = bool(_HAS_UNIT.search(self.value.text()))
        self.unit.setEnabled(not typed_unit)
        self.unit.setPlaceholderText("typed" if typed_unit else "unit")
        self.unit.setToolTip("The unit typed in the value is used." if typed_unit else "")
        text = self.text()
        converted = actions.convert_measurement(kind=self.kind, text=text) if text else None
        if self.converted.text() != (converted or ""):
            self.converted.setText(converted or "")


def _empty(widget: QtQuantityInput) -> Callable[[], bool]:
    return lambda: not widget.text()


class QtMeasurements(QtSection):
    """Weight, height, blood pressure, heart rate, SpO2 and when they were taken.

    Args:
        parent: the owning widget.

    Signals:
        edited: a measurement changed.
    """

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
        title = QLabel("Taken &at", self)
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
