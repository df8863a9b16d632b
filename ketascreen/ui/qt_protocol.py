"""The Protocol and preparation section (``protocol``): dose, duration, dosing-weight basis and
the preparation (a final concentration, or a vial strength and a diluent volume).

Every field is optional: an empty field takes the clinic formulary's default, which the section
states in words (never as placeholder text that could be mistaken for a value).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ketascreen.ui import actions
from ketascreen.ui.qt_patient import combo, combo_value, set_combo_value
from ketascreen.ui.qt_section import FieldTarget, QtSection
from ketascreen.ui.widgets import InlineMessage, section_title

if TYPE_CHECKING:
    from ketascreen.rules import RuleSet

WEIGHT_BASES = (("actual", "Actual body weight"), ("ideal", "Ideal body weight (Devine)"),
                ("adjusted", "Adjusted body weight"))
_FIELDS = (
    ("dose", "Do&se", "e.g. 0.5 mg/kg (or mg/kg/h)"),
    ("duration", "D&uration", "e.g. 40 min"),
    ("concentration", "Final &concentration", "e.g. 1 mg/mL"),
    ("vial", "or &vial strength", "e.g. 50 mg/mL"),
    ("diluent_volume", "and diluent volume", "e.g. 100 mL"),
)


class QtProtocol(QtSection):
    """The infusion as ordered.

    Args:
        parent: the owning widget.

    Signals:
        edited: a field changed.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.addWidget(section_title("Protocol and preparation", self))
        self.defaults = QLabel(self)
        self.defaults.setObjectName("protocol-defaults")
        self.defaults.setWordWrap(True)
        outer.addWidget(self.defaults)
        form = QFormLayout()
        outer.addLayout(form)
        self.fields: dict[str, QLineEdit] = {}
        self._targets: list[FieldTarget] = []
        for key, label, placeholder in _FIELDS[:2]:
            self._add(form, key, label, placeholder)
        self.weight_basis = combo(WEIGHT_BASES, "formulary default", self)
        self.weight_basis.setObjectName("protocol-weight_basis")
        self.weight_basis.currentIndexChanged.connect(self.edited)
        basis_message = InlineMessage(self)
        title = QLabel("Weight basis", self)
        title.setBuddy(self.weight_basis)
        holder = QWidget(self)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.weight_basis)
        column.addWidget(basis_message)
        form.addRow(title, holder)
        self._targets.append(FieldTarget("protocol.weight_basis", basis_message, "Weight basis",
                                         lambda: False))
        for key, label, placeholder in _FIELDS[2:]:
            self._add(form, key, label, placeholder)
        self.general = InlineMessage(self)
        outer.addWidget(self.general)
        self._targets.append(FieldTarget("protocol", self.general, "Protocol", lambda: False))
        self._indication: str | None = None
        self._rules: RuleSet | None = None
        self.show_defaults(None)

    def _add(self, form: QFormLayout, key: str, label: str, placeholder: str) -> None:
        edit = QLineEdit(self)
        edit.setObjectName(f"protocol-{key}")
        edit.setPlaceholderText(placeholder)
        edit.textChanged.connect(self.edited)
        message = InlineMessage(self)
        holder = QWidget(self)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(edit)
        column.addWidget(message)
        title = QLabel(label, self)
        title.setBuddy(edit)
        form.addRow(title, holder)
        self.fields[key] = edit
        self._targets.append(FieldTarget(f"protocol.{key}", message, label.replace("&", ""),
                                         lambda: not edit.text().strip()))

    def show_defaults(self, indication: str | None) -> None:
        """State the formulary's defaults for ``indication`` (used for empty fields)."""
        self._indication = indication
        text = (actions.protocol_defaults(indication=indication, rules=self._rules)
                if indication else None)
        self.defaults.setText(
            (text + " Empty fields take these defaults.") if text
            else "Empty fields take the clinic formulary's defaults for the indication.")

    def use_rules(self, rules: RuleSet) -> None:
        """State the defaults of the formulary of ``rules``, the rule set that screened the
        form (the clinic's formulary while one is installed)."""
        if rules is not self._rules:
            self._rules = rules
            self.show_defaults(self._indication)

    def targets(self) -> list[FieldTarget]:
        """One target per field, and one for the protocol as a whole (the preparation)."""
        return self._targets

    def load(self, document: Mapping[str, Any]) -> None:
        """Show the protocol of ``document``."""
        protocol = document.get("protocol")
        protocol = protocol if isinstance(protocol, Mapping) else {}
        for key, edit in self.fields.items():
            value = protocol.get(key)
            edit.setText(value if isinstance(value, str) else "")
        set_combo_value(self.weight_basis, protocol.get("weight_basis"))

    def dump(self, document: dict[str, Any], *, draft: bool) -> None:
        """Write the fields given into ``document`` (no protocol when all are empty)."""
        protocol: dict[str, Any] = {key: edit.text().strip() for key, edit in self.fields.items()
                                    if edit.text().strip()}
        basis = combo_value(self.weight_basis)
        if basis:
            protocol["weight_basis"] = basis
        if protocol:
            document["protocol"] = protocol
