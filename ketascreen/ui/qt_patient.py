"""The Patient section: who is screened, when, and for what (``patient``, ``screening_date``,
``indication`` of the case)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ketascreen.ui.qt_choice import YES_NO_UNKNOWN, QtChoice
from ketascreen.ui.qt_section import FieldTarget, QtSection
from ketascreen.ui.widgets import InlineMessage, section_title, set_text

SEXES = (("female", "Female"), ("male", "Male"), ("unknown", "Unknown"))
INDICATIONS = (("depression", "Depression"), ("ptsd", "PTSD"), ("anxiety", "Anxiety"),
               ("ocd", "OCD"), ("chronic-pain", "Chronic pain"), ("other", "Other"))


def combo(options: Sequence[tuple[str, str]], placeholder: str,
          parent: QWidget | None = None) -> QComboBox:
    """A combo box of (value, label) options that starts with nothing selected."""
    box = QComboBox(parent)
    for value, label in options:
        box.addItem(label, value)
    box.setPlaceholderText(placeholder)
    box.setCurrentIndex(-1)
    return box


def combo_value(box: QComboBox) -> str | None:
    """The selected option's value, or ``None``."""
    value = box.currentData()
    return value if isinstance(value, str) else None


def set_combo_value(box: QComboBox, value: object) -> bool:
    """Select the option with ``value`` (nothing for ``None``); False if there is none."""
    index = box.findData(value) if isinstance(value, str) else -1
    box.setCurrentIndex(index)
    return index >= 0 or value is None


class QtPatient(QtSection):
    """The patient, the screening date and the indication.

    Args:
        parent: the owning widget.

    Signals:
        edited: anything in the section changed.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.addWidget(section_title("Patient", self))
        form = QFormLayout()
        outer.addLayout(form)
        self.screening_date = self._line("screening-date", "YYYY-MM-DD")
        self.patient_id = self._line("patient-id", "the clinic's identifier, e.g. MRN-0042")
        self.name = self._line("patient-name", "")
        self.birth_date = self._line("birth-date", "YYYY-MM-DD")
        self.age = QLabel(self)
        self.sex = combo(SEXES, "select...", self)
        self.sex.setObjectName("sex")
        self.pregnant = QtChoice("Pregnant?", YES_NO_UNKNOWN, self)
        self.pregnant.setObjectName("pregnant")
        self.breastfeeding = QtChoice("Breastfeeding?", YES_NO_UNKNOWN, self)
        self.breastfeeding.setObjectName("breastfeeding")
        self.indication = combo(INDICATIONS, "select...", self)
        self.indication.setObjectName("indication")
        self._targets: list[FieldTarget] = []
        rows: list[tuple[str, QWidget, str, str]] = [
            ("Screening &date", self.screening_date, "screening_date", "Screening date"),
            ("Patient &ID", self.patient_id, "patient.id", "Patient ID"),
            ("&Name", self.name, "patient.name", "Name"),
            ("Date of &birth", self.birth_date, "patient.birth_date", "Date of birth"),
            ("Se&x", self.sex, "patient.sex", "Sex"),
            ("", self.pregnant, "patient.pregnant", "Pregnancy status"),
            ("", self.breastfeeding, "patient.breastfeeding", "Breastfeeding status"),
            ("Indica&tion", self.indication, "indication", "Indication"),
        ]
        for label, widget, path, name in rows:
            holder = QWidget(self)
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(1)
            column.addWidget(widget)
            if widget is self.birth_date:
                column.addWidget(self.age)
            message = InlineMessage(holder)
            column.addWidget(message)
            if label:
                title = QLabel(label, self)
                title.setBuddy(widget)
                form.addRow(title, holder)
            else:
                form.addRow(holder)
            self._targets.append(FieldTarget(path, message, name, self._emptiness(widget)))
        for box in (self.sex, self.indication):
            box.currentIndexChanged.connect(self.edited)
        for choice in (self.pregnant, self.breastfeeding):
            choice.changed.connect(self.edited)
            choice.answered_by_key.connect(choice.focusNextChild)

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.textChanged.connect(self.edited)
        return edit

    @staticmethod
    def _emptiness(widget: QWidget) -> Any:
        if isinstance(widget, QLineEdit):
            return lambda: not widget.text().strip()
        if isinstance(widget, QComboBox):
            return lambda: widget.currentIndex() < 0
        if isinstance(widget, QtChoice):
            return lambda: widget.value() is None
        return lambda: False  # pragma: no cover - every row is one of the above

    def targets(self) -> list[FieldTarget]:
        """Patient fields, the screening date and the indication."""
        return self._targets

    def load(self, document: Mapping[str, Any]) -> None:
        """Show the patient, screening date and indication of ``document``."""
        patient = document.get("patient")
        patient = patient if isinstance(patient, Mapping) else {}
        self.screening_date.setText(_text(document.get("screening_date")))
        self.patient_id.setText(_text(patient.get("id")))
        self.name.setText(_text(patient.get("name")))
        self.birth_date.setText(_text(patient.get("birth_date")))
        set_combo_value(self.sex, patient.get("sex"))
        self.pregnant.set_value(_choice(patient.get("pregnant")))
        self.breastfeeding.set_value(_choice(patient.get("breastfeeding")))
        set_combo_value(self.indication, document.get("indication"))

    def dump(self, document: dict[str, Any], *, draft: bool) -> None:
        """Write the patient, screening date and indication into ``document``."""
        patient: dict[str, Any] = {}
        for key, value in (("id", self.patient_id.text()), ("name", self.name.text()),
                           ("birth_date", self.birth_date.text().strip()),
                           ("sex", combo_value(self.sex)),
                           ("pregnant", self.pregnant.value()),
                           ("breastfeeding", self.breastfeeding.value())):
            if value:
                patient[key] = value
        document["patient"] = patient
        if self.screening_date.text().strip():
            document["screening_date"] = self.screening_date.text().strip()
        indication = combo_value(self.indication)
        if indication:
            document["indication"] = indication

    def show_age(self, age: int | None) -> None:
        """Show the age on the screening date (computed by the core), or nothing."""
        set_text(self.age, "" if age is None else f"Age on the screening date: {age} years")
        self.age.setVisible(age is not None)

    def label(self) -> str:
        """The patient for lists and titles, e.g. ``Alex Rivera (MRN-0042)``."""
        name = self.name.text().strip() or "Unnamed patient"
        ident = self.patient_id.text().strip()
        return f"{name} ({ident})" if ident else name


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _choice(value: object) -> str | None:
    return value if value in ("yes", "no", "unknown") else None
