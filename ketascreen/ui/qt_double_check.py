"""The blinded independent double check at the bedside, and the nurse's countersignature.

The checking nurse (signed in) re-enters her password; the witness, the other clinician at the
bedside who prepared the infusion and programmed the pump, types her user name and password.
The checker then types two patient identifiers from the wristband and what she has in hand:
the vial (or prepared bag) concentration, the volume drawn up, the diluent volume, and the pump
rate and VTBI as programmed. The dialog shows none of the order's numbers, and the nurse's page
behind it hides its preview and dose columns while it is open, so the check is independent.

Check compares her entries with the signed order (the records' ``perform_double_check``, which
records every attempt in the audit trail):

- match: her values beside the order's, the mg and mg/kg recomputed from what she entered, and
  Countersign...;
- mismatch: the differing items named in words and their fields marked, the values kept for a
  recheck; the order's values stay hidden. Override... asks for a typed reason and a second
  nurse's user name and password.

Every refusal is shown from the typed error's fields (who, which field, why), never by parsing
its message. Entries are plain line edits with the unit beside them: nothing changes under the
mouse wheel.

:class:`QtCountersignDialog` then countersigns the bedside copy with the nurse's own key store,
chosen, opened and checked against her account as the physician's Sign dialog does
(:class:`~ketascreen.ui.qt_sign_dialog.CertificatePicker`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ketascreen.display import format_number
from ketascreen.errors import (
    AuthenticationFailedError,
    CertificateNotRegisteredError,
    CountersignRefusedError,
    DoubleCheckEntryError,
    DoubleCheckRefusedError,
    KetascreenError,
    LoginThrottledError,
    OrderNotRederivableError,
    PermissionDeniedError,
    RecordError,
    StorageError,
    UserAccountError,
)
from ketascreen.ui.widgets import InlineMessage, describe_problem

if TYPE_CHECKING:
    from ketascreen.records.bedside import DoubleCheckRecord
    from ketascreen.reports.keys import SignerIdentity
    from ketascreen.ui.qt_sign_dialog import CertificatePicker
    from ketascreen.ui.records_actions import Actor, RecordStore
    from ketascreen.ui.settings import AppSettings

IDENTIFIER_KINDS = (("Patient name", "name"), ("Date of birth", "birth-date"),
                    ("Patient ID", "patient-id"))
"""The identifier kinds offered: (label, the kind's value in the core)."""

FIELDS = (
    ("vial_concentration", "Vial concentration", "mg/mL",
     "vial or bag label"),
    ("volume_drawn", "Volume drawn up", "mL", "in the syringe"),
    ("diluent_volume", "Diluent (bag) volume", "mL", "0 if none"),
    ("pump_rate", "Pump rate", "mL/h", "as programmed"),
    ("vtbi", "VTBI", "mL", "as programmed"),
)
"""The values typed at the bedside: (key, label, unit shown beside the field, hint)."""

ITEM_FIELDS = {"vial-concentration": "vial_concentration", "volume-drawn": "volume_drawn",
               "diluent-volume": "diluent_volume", "pump-rate": "pump_rate", "vtbi": "vtbi"}
"""The compared item of each typed field (the core's stable item keys)."""

_MARKED = "QLineEdit { border: 2px solid #a00000; background: #fff0f0; }"


@dataclass(frozen=True)
class OverrideAttempt:
    """An override of a mismatch: why, and the second nurse who authorises it."""

    reason: str
    nurse: str
    password: str


@dataclass(frozen=True)
class CheckAttempt:
    """What the dialog hands to the records for one check (nothing is parsed here).

    Attributes:
        password: the checker's password, typed again.
        witness: the witness's user name.
        witness_password: the witness's password.
        identifiers: two (kind, text) pairs; kinds as in :data:`IDENTIFIER_KINDS`.
        fields: the typed values by key of :data:`FIELDS`, as typed.
        override: the override of the last mismatch, or ``None``.
    """

    password: str
    witness: str
    witness_password: str
    identifiers: tuple[tuple[str, str], ...]
    fields: dict[str, str]
    override: OverrideAttempt | None = None


PerformCheck = Callable[[CheckAttempt], "DoubleCheckRecord"]
"""Compares and records one attempt; raises the records' typed errors."""


class _IdentifierRow:
    """A kind combo and the identifier's text, with a message under them."""

    def __init__(self, parent: QWidget, number: int, kind: str) -> None:
        self.kind = QComboBox(parent)
        self.kind.setObjectName(f"identifier-kind-{number}")
        for label, value in IDENTIFIER_KINDS:
            self.kind.addItem(label, value)
        self.kind.setCurrentIndex(self.kind.findData(kind))
        self.text = QLineEdit(parent)
        self.text.setObjectName(f"identifier-{number}")
        self.text.setPlaceholderText("wristband")
        self.text.setMinimumWidth(parent.fontMetrics().averageCharWidth() * 18)
        self.message = InlineMessage(parent)
        self.holder = QWidget(parent)
        row = QHBoxLayout(self.holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.kind)
        row.addWidget(self.text, 1)


class _ValueField:
    """A line edit with its unit beside it and a message under it."""

    def __init__(self, parent: QWidget, key: str, unit: str, hint: str) -> None:
        self.edit = QLineEdit(parent)
        self.edit.setObjectName(key)
        self.edit.setPlaceholderText(hint)
        self.unit = QLabel(unit, parent)
        self.unit.setObjectName(f"{key}-unit")
        self.unit.setMinimumWidth(parent.fontMetrics().horizontalAdvance("mg/mL") + 8)
        self.message = InlineMessage(parent)
        self.holder = QWidget(parent)
        row = QHBoxLayout(self.holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.unit)

    def mark(self, marked: bool) -> None:
        """Mark the field as differing from the order (a red frame and a message)."""
        self.edit.setStyleSheet(_MARKED if marked else "")


class QtDoubleCheckDialog(QDialog):
    """The blinded independent double check of one signed checklist.

    Args:
        perform: compares and records one attempt (bound to the store, the checker and the
            record); raises the records' typed errors.
        checker: the signed-in nurse.
        heading: which record is checked (the record, the infusion, who signed it when; no
            number of the order).
        parent: the owning widget.

    Signals:
        checked: an attempt was recorded (match, mismatch or override): :attr:`record` holds it.
        countersign_requested: Countersign... was pressed after a match or an override.
        QDialog's own (``finished`` when closed).
    """

    checked = Signal()
    countersign_requested = Signal()

    def __init__(self, perform: PerformCheck, checker: Actor, heading: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("double-check-dialog")
        self.setWindowTitle("Independent double check")
        self._perform = perform
        self.checker = checker
        self.record: DoubleCheckRecord | None = None
        layout = QVBoxLayout(self)
        title = QLabel(f"<b>Independent double check</b><br>{heading}", self)
        title.setObjectName("double-check-heading")
        title.setWordWrap(True)
        layout.addWidget(title)
        intro = QLabel("Work from what you have in hand: the wristband, the vial or bag label, "
                       "the syringe and the pump. The order's numbers are not shown until "
                       "the check is over.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        columns = QHBoxLayout()
        self.people_box = self._build_people()
        self.entries_box = self._build_entries()
        columns.addWidget(self.people_box, 2)
        columns.addWidget(self.entries_box, 3)
        layout.addLayout(columns)
        self._build_result(layout)
        self._build_override(layout)
        self.message = InlineMessage(self)
        self.message.setObjectName("double-check-message")
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.check_button = QPushButton("C&heck", self)
        self.check_button.setObjectName("double-check-check")
        self.check_button.setDefault(True)
        self.check_button.clicked.connect(self.check)
        self.countersign_button = QPushButton("C&ountersign...", self)
        self.countersign_button.setObjectName("double-check-countersign")
        self.countersign_button.clicked.connect(self.countersign_requested)
        buttons.addButton(self.check_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.countersign_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.countersign_button.hide()  # after a match or an override only
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 130)
        self.password.setFocus()

    # -- building -----------------------------------------------------------------------------

    def _build_people(self) -> QGroupBox:
        box = QGroupBox("Who checks", self)
        form = QFormLayout(box)
        me = QLabel(f"{self.checker.display_name} ({self.checker.username}), checking", box)
        me.setObjectName("double-check-checker")
        form.addRow("Checker", me)
        self.password = QLineEdit(box)
        self.password.setObjectName("checker-password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_message = InlineMessage(box)
        form.addRow("&Your password", self.password)
        form.addRow("", self.password_message)
        self.witness = QLineEdit(box)
        self.witness.setObjectName("witness")
        self.witness.setPlaceholderText("who prepared it and set the pump")
        self.witness_message = InlineMessage(box)
        form.addRow("&Witness user name", self.witness)
        form.addRow("", self.witness_message)
        self.witness_password = QLineEdit(box)
        self.witness_password.setObjectName("witness-password")
        self.witness_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.witness_password_message = InlineMessage(box)
        form.addRow("W&itness password", self.witness_password)
        form.addRow("", self.witness_password_message)
        return box

    def _build_entries(self) -> QGroupBox:
        box = QGroupBox("What you have in hand", self)
        form = QFormLayout(box)
        self.identifiers = [_IdentifierRow(box, 1, "name"), _IdentifierRow(box, 2, "birth-date")]
        for number, row in enumerate(self.identifiers, start=1):
            form.addRow(f"Identifier &{number}", row.holder)
            form.addRow("", row.message)
        self.fields: dict[str, _ValueField] = {}
        for key, label, unit, hint in FIELDS:
            field = _ValueField(box, key, unit, hint)
            self.fields[key] = field
            form.addRow(label, field.holder)
            form.addRow("", field.message)
        return box

    def _build_result(self, layout: QVBoxLayout) -> None:
        self.verdict = QLabel(self)
        self.verdict.setObjectName("double-check-result")
        self.verdict.setWordWrap(True)
        self.verdict.hide()
        layout.addWidget(self.verdict)
        self.comparison = QTableWidget(0, 4, self)
        self.comparison.setObjectName("double-check-comparison")
        self.comparison.setHorizontalHeaderLabels(["Item", "You entered", "Order", "Result"])
        self.comparison.verticalHeader().hide()
        self.comparison.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.comparison.hide()
        layout.addWidget(self.comparison)

    def _build_override(self, layout: QVBoxLayout) -> None:
        self.override_button = QPushButton("O&verride...", self)
        self.override_button.setObjectName("double-check-override")
        self.override_button.setToolTip("Record the infusion as checked despite the mismatch: "
                                        "a typed reason and a second nurse")
        self.override_button.hide()
        self.override_button.clicked.connect(self.show_override)
        row = QHBoxLayout()
        row.addWidget(self.override_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.override_box = QGroupBox("Override the mismatch (a second nurse authorises it)",
                                      self)
        form = QFormLayout(self.override_box)
        self.override_text = QLineEdit(self.override_box)
        self.override_text.setObjectName("override-reason")
        self.override_text.setPlaceholderText("why the infusion goes ahead as prepared")
        form.addRow("&Reason", self.override_text)
        self.override_nurse = QLineEdit(self.override_box)
        self.override_nurse.setObjectName("override-nurse")
        form.addRow("Second &nurse user name", self.override_nurse)
        self.override_password = QLineEdit(self.override_box)
        self.override_password.setObjectName("override-password")
        self.override_password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Second nurse &password", self.override_password)
        self.override_message = InlineMessage(self.override_box)
        form.addRow("", self.override_message)
        self.record_override = QPushButton("Recor&d override", self.override_box)
        self.record_override.setObjectName("double-check-record-override")
        self.record_override.clicked.connect(self.override)
        form.addRow("", self.record_override)
        self.override_box.hide()
        layout.addWidget(self.override_box)

    # -- what the buttons do ------------------------------------------------------------------

    def attempt(self, override: OverrideAttempt | None = None) -> CheckAttempt:
        """What is typed now, as one attempt."""
        return CheckAttempt(
            password=self.password.text(), witness=self.witness.text().strip(),
            witness_password=self.witness_password.text(),
            identifiers=tuple((str(row.kind.currentData()), row.text.text())
                              for row in self.identifiers),
            fields={key: field.edit.text() for key, field in self.fields.items()},
            override=override)

    def check(self) -> bool:
        """Compare what is typed with the signed order; True when it was recorded."""
        return self._run(None)

    def show_override(self) -> None:
        """Show the override: a reason and a second nurse."""
        self.override_box.show()
        self.override_text.setFocus()
        self.adjustSize()

    def override(self) -> bool:
        """Record the override of the last mismatch; True when it was recorded."""
        self.override_message.clear_message()
        reason = self.override_text.text().strip()
        nurse = self.override_nurse.text().strip()
        missing = [what for what, text in (("a typed reason", reason),
                                           ("the second nurse's user name", nurse),
                                           ("her password", self.override_password.text()))
                   if not text]
        if missing:
            self.override_message.show_message("An override needs " + ", ".join(missing)
                                                + ".", "error")
            return False
        return self._run(OverrideAttempt(reason, nurse, self.override_password.text()))

    def _run(self, override: OverrideAttempt | None) -> bool:
        self._clear_messages()
        missing = [(message, text) for message, edit, text in (
            (self.password_message, self.password, "Type your password again."),
            (self.witness_message, self.witness, "Type the witness's user name."),
            (self.witness_password_message, self.witness_password,
             "The witness types her password."))
            if not edit.text().strip()]
        for message, text in missing:
            message.show_message(text, "error")
        if missing:
            self.message.show_message("Both of you authenticate before the check.", "error")
            return False
        try:
            record = self._perform(self.attempt(override))
        except KetascreenError as error:
            self.show_error(error)
            return False
        self.record = record
        self._show_record(record)
        self.checked.emit()
        return True

    def _clear_messages(self) -> None:
        for message in (self.password_message, self.witness_message,
                        self.witness_password_message, self.override_message, self.message):
            message.clear_message()
        for row in self.identifiers:
            row.message.clear_message()
        for field in self.fields.values():
            field.message.clear_message()
            field.mark(False)

    # -- showing what happened ----------------------------------------------------------------

    def _show_record(self, record: DoubleCheckRecord) -> None:
        outcome = record.outcome
        if record.result == "mismatch":
            names = [item.item for item in outcome.mismatches]
            for item in outcome.mismatches:
                self._mark_item(item.key, item.item)
            self.verdict.setText(
                "<b>\u2716 DOES NOT MATCH THE ORDER:</b> " + ", ".join(names)
                + ".<br>Check what you have in hand and the pump, correct the marked field"
                + ("s" if len(names) > 1 else "") + " and press Check again. The order's "
                "values stay hidden. Recorded in the audit trail.")
            self.verdict.setStyleSheet("color: #a00000;")
            self.verdict.show()
            self.comparison.hide()
            self.override_button.show()
            self.countersign_button.hide()
            self.adjustSize()
            return
        word = ("\u2714 MATCHES THE ORDER" if record.result == "match"
                else f"\u26a0 OVERRIDDEN by {record.override_by}: {record.reason}")
        per_kg = next((i.entered for i in outcome.items if i.key == "dose-mg-per-kg"), "")
        dose = next((i.entered for i in outcome.items if i.key == "dose-mg"), "")
        recomputed = (f" From your entries the pump delivers {dose} ({per_kg})."
                      if dose else "")
        self.verdict.setText(f"<b>{word}</b>.{recomputed} Recorded in the audit trail; "
                            "countersign the bedside copy next.")
        self.verdict.setStyleSheet("color: #185c18;" if record.result == "match"
                                  else "color: #7a5200;")
        self.verdict.show()
        self._fill_comparison(record)
        self.override_button.hide()
        self.override_box.hide()
        self.check_button.setEnabled(False)
        self.check_button.hide()
        for widget in self._inputs():
            widget.setEnabled(False)
        # the check is over: her entries are in the comparison, beside the order's
        self.people_box.hide()
        self.entries_box.hide()
        self.countersign_button.show()
        self.countersign_button.setDefault(True)
        self.countersign_button.setFocus()
        self.adjustSize()

    def _inputs(self) -> list[QWidget]:
        widgets: list[QWidget] = [self.password, self.witness, self.witness_password]
        for row in self.identifiers:
            widgets += [row.kind, row.text]
        return widgets + [field.edit for field in self.fields.values()]

    def _fill_comparison(self, record: DoubleCheckRecord) -> None:
        items = record.outcome.items
        self.comparison.setRowCount(len(items))
        within = format_number(record.outcome.tolerance_percent, 2)
        for number, item in enumerate(items):
            verdict = "\u2714 matches" if item.matches else "\u2716 differs"
            if item.key in ("dose-mg", "dose-mg-per-kg"):
                # Recomputed from her entries: the drawn volume and the VTBI are rounded to the
                # devices' resolutions, so 0.4999 beside 0.5 mg/kg is a match; say why.
                verdict += f" (within {within} %: device rounding)"
            for column, text in enumerate((item.item, item.entered, item.ordered, verdict)):
                self.comparison.setItem(number, column, QTableWidgetItem(text))
        self.comparison.resizeColumnsToContents()
        self.comparison.horizontalHeader().setStretchLastSection(True)
        self.comparison.setMinimumHeight(self.comparison.horizontalHeader().height()
                                         + sum(self.comparison.rowHeight(row)
                                               for row in range(len(items))) + 4)
        self.comparison.show()

    def _mark_item(self, key: str, label: str) -> None:
        field_key = ITEM_FIELDS.get(key)
        if field_key is not None:
            field = self.fields[field_key]
            field.mark(True)
            field.message.show_message(f"{label} differs from the order.", "error")
            return
        kind = key.removeprefix("identifier-")
        for row in self.identifiers:
            if row.kind.currentData() == kind:
                row.text.setStyleSheet(_MARKED)
                row.message.show_message(f"{label} differs from the order.", "error")

    def show_error(self, error: KetascreenError) -> None:
        """Show a refusal from the typed error's fields, beside the field it concerns."""
        if isinstance(error, DoubleCheckEntryError):
            self._show_entry_problems(error)
        elif isinstance(error, AuthenticationFailedError):
            self._show_login_refusal(error)
        elif isinstance(error, DoubleCheckRefusedError):
            target = {"checker": self.password_message, "witness": self.witness_message,
                      "override": self.override_message}.get(error.field, self.message)
            target.show_message(f"Refused: {error.reason}. The refusal is recorded in the "
                                "audit trail.", "error")
            retype = {"witness": self.witness_password,
                      "override": self.override_password}.get(error.field)
            if retype is not None:
                retype.clear()  # another person: she types her own password
        elif isinstance(error, UserAccountError):
            target = self._message_for_user(error.user)
            target.show_message(f"{error.user}: {error.reason}.", "error")
        elif isinstance(error, PermissionDeniedError):
            from ketascreen.ui import records_actions  # noqa: PLC0415

            self.message.show_message(records_actions.refusal_text(error=error), "error")
        elif isinstance(error, OrderNotRederivableError):
            self.message.show_message(
                f"{error.record_id}: the signed order cannot be checked here ({error.reason}). "
                "Ask the physician to review the checklist.", "error")
        elif isinstance(error, RecordError):
            self.message.show_message(f"{error.record_id}: {error.reason}." if error.record_id
                                      else f"{error.reason}.", "error")
        elif isinstance(error, StorageError):
            self.message.show_message(f"The records database {error.database} cannot be used: "
                                      f"{error.reason}.", "error")
        else:
            self.message.show_message(str(error), "error")
        self.adjustSize()

    def _message_for_user(self, user: str) -> InlineMessage:
        name = user.strip().lower()
        if name == self.checker.username.lower():
            return self.password_message
        if name == self.witness.text().strip().lower():
            return self.witness_password_message
        if name == self.override_nurse.text().strip().lower():
            return self.override_message
        return self.message

    def _show_login_refusal(self, error: AuthenticationFailedError) -> None:
        target = self._message_for_user(error.user)
        who = ("Your password" if target is self.password_message
               else f"The password of {error.user}")
        if isinstance(error, LoginThrottledError):
            at = ("" if error.retry_at is None
                  else " (at " + error.retry_at.astimezone().strftime("%H:%M:%S") + ")")
            text = (f"Too many failed sign-ins in a row for {error.user} ({error.failures}): "
                    f"try again in {error.wait_seconds} s{at}. Nothing was checked.")
        else:
            text = f"{who} was not accepted ({error.reason}). Nothing was checked."
        target.show_message(text, "error")
        edit = {id(self.password_message): self.password,
                id(self.witness_password_message): self.witness_password,
                id(self.override_message): self.override_password}.get(id(target))
        if edit is not None:
            edit.clear()
            edit.setFocus()

    def _show_entry_problems(self, error: DoubleCheckEntryError) -> None:
        labels = {key: label for key, label, _, _ in FIELDS}
        for problem in error.problems:
            field = self.fields.get(problem.field)
            if field is not None:
                field.message.show_message(describe_problem(
                    problem, with_field=labels[problem.field]), "error")
                continue
            number = _identifier_index(problem.field)
            if number is not None and number < len(self.identifiers):
                self.identifiers[number].message.show_message(
                    describe_problem(problem, with_field=f"Identifier {number + 1}"), "error")
                continue
            self.message.show_message(describe_problem(problem, with_field=problem.field),
                                      "error")
        if not self.message.isVisibleTo(self):
            self.message.show_message("Nothing was checked: correct the marked entries.",
                                      "error")


def _identifier_index(field: str) -> int | None:
    """``identifiers[1]`` -> 1 (``None`` for another field)."""
    if field.startswith("identifiers[") and field.endswith("]"):
        inner = field.removeprefix("identifiers[").removesuffix("]")
        return int(inner) if inner.isdigit() else None
    return None


Countersign = Callable[["SignerIdentity", bool], bytes]
"""Countersigns with (the opened identity, register it) and stores it; returns the stored
countersigned PDF; raises the records' and the signing typed errors."""


class QtCountersignDialog(QDialog):
    """Countersign the bedside copy after a passing or overridden double check.

    Args:
        countersign: countersigns and stores (bound to the store, the nurse and the record).
        summary: what the stamp will carry (checker, witness, result, entered values) as rows.
        settings: where the key store is remembered.
        store: the records database.
        actor: the signed-in nurse.
        record_id: the record countersigned.
        parent: the owning widget.

    Signals:
        QDialog's own: ``accepted`` once the countersigned copy is stored (:attr:`pdf` holds
        it), ``rejected`` on Cancel.
    """

    def __init__(self, countersign: Countersign, summary: list[tuple[str, str]],
                 settings: AppSettings, *, store: RecordStore | None, actor: Actor,
                 record_id: str, parent: QWidget | None = None) -> None:
        from ketascreen.ui.qt_sign_dialog import CertificatePicker  # noqa: PLC0415 - pyHanko

        super().__init__(parent)
        self.setObjectName("countersign-dialog")
        self.setWindowTitle("Countersign the bedside copy")
        self._countersign = countersign
        self.record_id = record_id
        self.pdf: bytes | None = None
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>Countersign {record_id}</b><br>Your signature is added to the "
                         "physician's signed checklist as a second signature; the physician's "
                         "signature stays valid.", self)
        heading.setWordWrap(True)
        layout.addWidget(heading)
        stamp = QGroupBox("Your countersignature's stamp carries", self)
        stamp.setObjectName("countersign-summary")
        grid = QGridLayout(stamp)
        half = (len(summary) + 1) // 2
        for number, (label, value) in enumerate(summary):
            row, column = number % half, 2 * (number // half)
            grid.addWidget(QLabel(label, stamp), row, column)
            shown = QLabel(f"<b>{value}</b>", stamp)
            shown.setWordWrap(True)
            grid.addWidget(shown, row, column + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        layout.addWidget(stamp)
        form = QFormLayout()
        layout.addLayout(form)
        self.picker: CertificatePicker = CertificatePicker(
            self, form, settings, store=store, actor=actor, record_id=lambda: record_id,
            action="countersign")
        self.picker.changed.connect(self._refresh)
        meaning = QLabel("<b>Bedside independent double check</b>", self)
        meaning.setObjectName("countersign-meaning")
        form.addRow("Meaning of signature", meaning)
        self.attest = QCheckBox("I did this double check with the witness named above and "
                                "countersign with the meaning above.", self)
        self.attest.setObjectName("countersign-attest")
        self.attest.toggled.connect(self._refresh)
        layout.addWidget(self.attest)
        self.error = InlineMessage(self)
        self.error.setObjectName("countersign-error")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.sign_button = QPushButton("Co&untersign", self)
        self.sign_button.setObjectName("countersign")
        buttons.addButton(self.sign_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_button.clicked.connect(self.countersign)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 130)
        self._refresh()

    def _refresh(self) -> None:
        self.sign_button.setEnabled(self.picker.identity is not None and self.picker.bound()
                                    and self.attest.isChecked())

    def countersign(self) -> bool:
        """Countersign and store; stay open (saying why) on any refusal."""
        from ketascreen.reports.keys import SigningError  # noqa: PLC0415
        from ketascreen.ui import records_actions  # noqa: PLC0415

        identity = self.picker.identity
        if identity is None or not self.picker.bound():
            return False
        self.error.clear_message()
        try:
            self.pdf = self._countersign(identity, self.picker.register.isChecked())
        except SigningError as error:
            self.error.show_message(error.reason, "error")
            return False
        except CertificateNotRegisteredError as error:
            self.error.show_message(records_actions.certificate_refusal_text(error=error),
                                    "error")
            return False
        except CountersignRefusedError as error:
            self.error.show_message(f"Not stored: {error.reason}. The refusal is recorded in "
                                    "the audit trail.", "error")
            return False
        except PermissionDeniedError as error:
            self.error.show_message(records_actions.refusal_text(error=error), "error")
            return False
        except RecordError as error:
            self.error.show_message(f"{error.record_id}: {error.reason}.", "error")
            return False
        except StorageError as error:
            self.error.show_message(f"The records database {error.database} cannot be used: "
                                    f"{error.reason}.", "error")
            return False
        except KetascreenError as error:
            self.error.show_message(str(error), "error")
            return False
        self.picker.passphrase.clear()
        self.accept()
        return True
