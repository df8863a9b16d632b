"""The Sign dialog: certificate, passphrase, the signer as read from the certificate, the
meaning of the signature, and where the signed checklist goes.

The printed name and credentials are read from the certificate (never typed), the passphrase is
kept only while the dialog is open, and the certificate's path is remembered. Signing is refused
(the dialog says why and offers nothing to sign) unless the screening is CLEAR: insufficient
data and unacknowledged relative findings must be resolved first, and a DO NOT INFUSE checklist
is documented unsigned, because the one meaning a ketascreen signature carries is "Screened and
approved for first infusion".

Signed in to the records database, the certificate must be the signed-in physician's: one
registered to their account signs; one registered to nobody signs only after the physician
ticks "Register certificate 'NAME' (SHA-256 ...) to account USER" (registered, audited, before
the PDF is signed); one registered to another account is refused, and the refusal is recorded in
the audit trail. The certificate path is then remembered per account, in the records database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSize, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ketascreen.errors import (
    CertificateNotRegisteredError,
    InputFileError,
    PermissionDeniedError,
    StorageError,
    UserAccountError,
)
from ketascreen.reports.keys import SignerIdentity, SigningError
from ketascreen.reports.output import OutputExistsError
from ketascreen.ui import actions
from ketascreen.ui.actions import FormScreening, PageSize, SignedChecklist
from ketascreen.ui.settings import AppSettings
from ketascreen.ui.widgets import InlineMessage, standard_icon

if TYPE_CHECKING:
    from ketascreen.ui.records_actions import Actor, RecordStore


_SELF_SIGNED = ("Self-signed trial certificate: the signer's identity is not verified by a "
                "certificate authority. Not for clinical records.")


class CertificatePicker(QObject):
    """The key-store rows of a signing dialog: certificate file, passphrase, Open, the printed
    name and credentials read from the certificate, a note, and "Register ... it is mine".

    Both the physician's Sign dialog and the nurse's Countersign dialog use it, so a key store
    is chosen, opened and checked against the signed-in account in one way. Signed in to the
    records, the certificate must be the account's: registered to it, it may sign; registered to
    nobody, only after the person ticks the Register box; another account's, refused (recorded
    in the audit trail as a refused ``action``).

    Args:
        dialog: the dialog the rows belong to (their parent).
        form: the form layout the rows are added to.
        settings: where the certificate path and folder are remembered.
        store: the records database (``None``: files only).
        actor: who is signed in (with ``store``).
        record_id: the record a refusal is recorded against (``None``: none yet).
        action: the audit action a refused certificate is recorded as (``sign``,
            ``countersign``).

    Signals:
        changed: the certificate was opened, forgotten or the Register box toggled.
    """

    changed = Signal()

    def __init__(self, dialog: QWidget, form: QFormLayout, settings: AppSettings, *,
                 store: RecordStore | None, actor: Actor | None,
                 record_id: Callable[[], str | None], action: str = "sign") -> None:
        super().__init__(dialog)
        self.dialog = dialog
        self.settings = settings
        self.store: RecordStore | None = store if actor is not None else None
        self.actor: Actor | None = actor if store is not None else None
        self._record_id = record_id
        self.action = action
        self.identity: SignerIdentity | None = None
        self.state: str | None = None
        """``registered``, ``unregistered``, ``another-account`` or ``refused`` (records)."""
        self.certificate = QLineEdit(self._remembered_certificate(), dialog)
        self.certificate.setObjectName("certificate")
        self.certificate.setPlaceholderText("PKCS#12 key store (.p12)")
        self.certificate.textChanged.connect(self.forget)
        self.browse = QPushButton("Browse...", dialog)
        self.browse.clicked.connect(self._browse_certificate)
        form.addRow("&Certificate", _row(dialog, self.certificate, self.browse))
        self.passphrase = QLineEdit(dialog)
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.textChanged.connect(self.forget)
        self.passphrase.returnPressed.connect(self.open_certificate)
        self.open_button = QPushButton("&Open certificate", dialog)
        self.open_button.setObjectName("open-certificate")
        self.open_button.clicked.connect(self.open_certificate)
        form.addRow("&Passphrase", _row(dialog, self.passphrase, self.open_button))
        self.name = QLabel("(open the certificate)", dialog)
        self.name.setObjectName("signer-name")
        self.credentials = QLabel("", dialog)
        self.credentials.setObjectName("signer-credentials")
        self.note = InlineMessage(dialog)
        form.addRow("Printed name", self.name)
        form.addRow("Credentials", self.credentials)
        form.addRow("", self.note)
        self.register = QCheckBox(dialog)
        self.register.setObjectName("register-certificate")
        self.register.hide()
        self.register.toggled.connect(self.changed)
        form.addRow("", self.register)

    def widgets(self) -> tuple[QWidget, ...]:
        """The input widgets (to enable or disable together)."""
        return (self.certificate, self.passphrase, self.open_button, self.browse)

    def bound(self) -> bool:
        """Whether the opened certificate may sign for the signed-in account (always, with no
        records): registered to it, or nobody's and the Register box ticked."""
        return (self.store is None or self.state == "registered"
                or (self.state == "unregistered" and self.register.isChecked()))

    def key_path(self) -> Path:
        """The key store typed or chosen."""
        return Path(self.certificate.text().strip())

    def _browse_certificate(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.dialog, "Signing certificate",
                                              self.settings.folder("certificate"),
                                              "PKCS#12 key stores (*.p12 *.pfx);;All files (*)")
        if path:
            self.certificate.setText(path)

    def _remembered_certificate(self) -> str:
        """The key store to suggest: the signed-in account's last one (per account), else
        this computer's last one when nobody is signed in."""
        if self.store is None or self.actor is None:
            return self.settings.certificate()
        from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        try:
            return records_actions.last_certificate_path(store=self.store,
                                                         actor=self.actor) or ""
        except StorageError:
            return ""

    def forget(self) -> None:
        """Forget the opened certificate (its file or passphrase changed)."""
        self.identity = None
        self.state = None
        self.register.setChecked(False)
        self.register.hide()
        self.name.setText("(open the certificate)")
        self.credentials.setText("")
        self.note.clear_message()
        self.changed.emit()

    def open_certificate(self) -> bool:
        """Read the signer's name and credentials from the certificate; False on failure."""
        path = self.key_path()
        if not self.certificate.text().strip():
            self.note.show_message("Choose the certificate file.", "error")
            return False
        try:
            identity = actions.read_signer(key_path=path,
                                           passphrase=self.passphrase.text().encode("utf-8"))
        except SigningError as error:
            self.note.show_message(error.reason, "error")
            return False
        except InputFileError as error:
            self.note.show_message(f"{error.path}: {error.reason}", "error")
            return False
        self.identity = identity
        self.settings.set_folder("certificate", path)
        self.name.setText(identity.name)
        self.credentials.setText(identity.credentials or "(not stated on the certificate)")
        if identity.self_signed:
            self.note.show_message(_SELF_SIGNED, "error")
        else:
            self.note.show_message("Certificate opened.", "ok")
        if self.store is None or self.actor is None:
            self.settings.set_certificate(path)
        else:
            self._check_binding(self.store, self.actor, identity, path)
        self.changed.emit()
        self.dialog.adjustSize()  # make room for the wrapped certificate note
        return True

    def _check_binding(self, store: RecordStore, actor: Actor, identity: SignerIdentity,
                       path: Path) -> None:
        """Is the certificate the signed-in person's? Registered: sign; nobody's: ask to
        register it; another account's: refused (recorded in the audit trail)."""
        from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        try:
            state = records_actions.certificate_status(store=store, actor=actor,
                                                       identity=identity)
            if state == "another-account":
                records_actions.refuse_certificate(
                    store=store, actor=actor, identity=identity, record_id=self._record_id(),
                    action=self.action)
            if state == "unregistered":
                records_actions.refuse_misnamed_certificate(
                    store=store, actor=actor, identity=identity, record_id=self._record_id(),
                    action=self.action)
            records_actions.remember_certificate_path(store=store, actor=actor, path=path)
        except CertificateNotRegisteredError as error:
            self.state = "refused"
            self.note.show_message(records_actions.certificate_refusal_text(error=error),
                                   "error")
            return
        except StorageError as error:
            self.state = "refused"
            self.note.show_message(
                f"The records database {error.database} cannot be used: {error.reason}", "error")
            return
        self.state = state
        if state == "unregistered":
            short = records_actions.fingerprint_text(identity.certificate_sha256)
            self.register.setText(f"Register certificate '{identity.name}' (SHA-256 {short}) "
                                  f"to account {actor.username}: it is mine.")
            self.register.setToolTip(f"SHA-256 {identity.certificate_sha256}")
            self.register.show()
            self.note.show_message(
                f"This certificate is not registered to any account yet. Signing with it "
                f"registers it to {actor.username} (recorded); tick the box to confirm it is "
                "yours.", "error")
        else:
            self.note.show_message(
                (_SELF_SIGNED if identity.self_signed else "Certificate opened.")
                + f" It is registered to your account ({actor.username}).",
                "error" if identity.self_signed else "ok")


def _row(parent: QWidget, *widgets: QWidget) -> QWidget:
    """``widgets`` side by side in one form row (line edits take the room)."""
    holder = QWidget(parent)
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        row.addWidget(widget, 1 if isinstance(widget, QLineEdit) else 0)
    return holder


class QtSignDialog(QDialog):
    """Sign the checklist of a screening.

    Args:
        outcome: the screening to sign.
        settings: where the certificate path and folders are remembered.
        default_output: the suggested file for the signed checklist.
        clinic: the clinic name printed on the checklist (``None``: the default).
        import_warnings: FHIR import warnings to print on the checklist.
        store: the records database the physician is signed in to (``None``: files only).
        actor: who is signed in (with ``store``).
        parent: the owning widget.

    Signals:
        QDialog's own: ``accepted`` once the signed checklist is written and verified
        (:attr:`signed` holds it), ``rejected`` on Cancel.
    """

    def __init__(self, outcome: FormScreening, settings: AppSettings, default_output: Path,
                 *, clinic: str | None = None, import_warnings: tuple[str, ...] = (),
                 store: RecordStore | None = None, actor: Actor | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store: RecordStore | None = store if actor is not None else None
        self.actor: Actor | None = actor if store is not None else None
        self.setWindowTitle("Sign the pre-infusion checklist")
        self.setMinimumWidth(640)
        self.outcome = outcome
        self.settings = settings
        self.clinic = clinic
        self.import_warnings = import_warnings
        self.signed: SignedChecklist | None = None
        layout = QVBoxLayout(self)
        case = actions.case_of(outcome)
        who = (f"{case.patient.name} ({case.patient.id}), born {case.patient.birth_date}, "
               f"screened {case.screening_date}" if case is not None else "no valid case")
        decision = outcome.decision.upper() if outcome.decision else "NOT SCREENED"
        heading = QLabel(f"<b>Sign the pre-infusion checklist</b><br>Patient: {who}<br>"
                         f"Decision: <b>{decision}</b>", self)
        heading.setObjectName("sign-heading")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.refusal = QLabel(self)
        self.refusal.setObjectName("sign-refusal")
        self.refusal.setWordWrap(True)
        refusal = actions.signing_refusal(outcome=outcome)
        refusal_row = QHBoxLayout()
        icon = QLabel(self)
        icon.setPixmap(standard_icon(QStyle.StandardPixmap.SP_MessageBoxCritical)
                       .pixmap(QSize(32, 32)))
        refusal_row.addWidget(icon)
        refusal_row.addWidget(self.refusal, 1)
        layout.addLayout(refusal_row)
        icon.setVisible(refusal is not None)
        self.refusal.setVisible(refusal is not None)
        self.refusal.setText(f"<b>Signing refused.</b> {refusal}" if refusal else "")
        self._build_form(layout, default_output, enabled=refusal is None)
        self._refresh()

    def _build_form(self, layout: QVBoxLayout, default_output: Path, *, enabled: bool) -> None:
        """The certificate, signer, meaning, output and attestation fields, and the buttons."""
        settings = self.settings
        form = QFormLayout()
        layout.addLayout(form)
        self.picker = CertificatePicker(
            self, form, settings, store=self.store, actor=self.actor,
            record_id=lambda: actions.record_id_of(outcome=self.outcome))
        self.picker.changed.connect(self._refresh)
        self.certificate = self.picker.certificate
        self.passphrase = self.picker.passphrase
        self.open_button = self.picker.open_button
        self.name = self.picker.name
        self.credentials = self.picker.credentials
        self.certificate_note = self.picker.note
        self.register = self.picker.register
        meaning = QLabel(f"<b>{actions.SIGNATURE_MEANING_TEXT}</b>", self)
        meaning.setObjectName("signature-meaning")
        form.addRow("Meaning of signature", meaning)
        self.output = QLineEdit(str(default_output), self)
        self.output.setObjectName("output")
        browse_out = QPushButton("Browse...", self)
        browse_out.clicked.connect(self._browse_output)
        form.addRow("Save signed PDF &as", _row(self, self.output, browse_out))
        self.page_size = QComboBox(self)
        self.page_size.addItem("US Letter", "letter")
        self.page_size.addItem("A4", "a4")
        self.page_size.setCurrentIndex(self.page_size.findData(settings.page_size()))
        form.addRow("Page si&ze", self.page_size)
        self.output.textChanged.connect(self._refresh)
        self._build_buttons(layout)
        for widget in (*self.picker.widgets(), browse_out, self.output, self.page_size,
                       self.attest):
            widget.setEnabled(enabled)

    def _build_buttons(self, layout: QVBoxLayout) -> None:
        """The attestation, the error line and Sign / Cancel."""
        self.attest = QCheckBox("I have reviewed this screening, its findings and the dose, and "
                                "sign with the meaning above.", self)
        self.attest.setObjectName("attest")
        self.attest.toggled.connect(self._refresh)
        layout.addWidget(self.attest)
        self.error = InlineMessage(self)
        self.error.setObjectName("sign-error")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.sign_button = QPushButton("&Sign", self)
        self.sign_button.setObjectName("sign")
        buttons.addButton(self.sign_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_button.clicked.connect(self.sign)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _browse_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the signed checklist as",
                                              self.output.text(), "PDF (*.pdf)")
        if path:
            self.output.setText(path)

    @property
    def identity(self) -> SignerIdentity | None:
        """The signer read from the opened certificate, or ``None``."""
        return self.picker.identity

    @property
    def certificate_state(self) -> str | None:
        """Whether the certificate is the signed-in physician's (see
        :attr:`CertificatePicker.state`)."""
        return self.picker.state

    def open_certificate(self) -> bool:
        """Read the signer's name and credentials from the certificate; False on failure."""
        self.error.clear_message()
        return self.picker.open_certificate()

    def _refresh(self) -> None:
        ready = (self.identity is not None and self.attest.isChecked() and self.picker.bound()
                 and bool(self.output.text().strip())
                 and actions.signing_refusal(outcome=self.outcome) is None)
        self.sign_button.setEnabled(ready)

    def sign(self) -> None:
        """Produce, write and verify the signed checklist; stay open on any problem."""
        if actions.signing_refusal(outcome=self.outcome) is not None or self.identity is None:
            return
        if not self._register_if_confirmed():
            return
        out = Path(self.output.text().strip()).expanduser()
        size: PageSize = "a4" if self.page_size.currentData() == "a4" else "letter"
        try:
            signed = actions.sign_checklist(
                outcome=self.outcome, key_path=Path(self.certificate.text().strip()),
                passphrase=self.passphrase.text().encode("utf-8"), out_path=out,
                page_size=size, clinic=self.clinic, import_warnings=self.import_warnings,
                audit_head=None if self.store is None else self.store.audit_head(),
                stage=self.store is not None)  # in place only once its record is committed
        except OutputExistsError as error:
            kind = "A signed checklist" if error.signed else "A file"
            self.error.show_message(f"{kind} already exists at {error.path}; it is not "
                                    "replaced. Choose another file name.", "error")
            return
        except SigningError as error:
            self.error.show_message(error.reason, "error")
            return
        except InputFileError as error:
            self.error.show_message(f"{error.path}: {error.reason}", "error")
            return
        except OSError as error:
            self.error.show_message(f"Cannot write {out}: {error.strerror}", "error")
            return
        self.settings.set_page_size(size)
        self.settings.set_folder("checklist", out)
        if self.store is None:
            self.settings.set_certificate(Path(self.certificate.text().strip()))
        self.passphrase.clear()
        self.signed = signed
        self.accept()

    def _register_if_confirmed(self) -> bool:
        """Register the certificate the physician confirmed as theirs (before signing with
        it); False, with the reason shown, when it cannot be signed with."""
        if self.store is None or self.actor is None:
            return True
        if self.identity is None or self.certificate_state not in ("registered", "unregistered"):
            return False
        if self.certificate_state == "registered":
            return True
        if not self.register.isChecked():
            return False
        from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        try:
            records_actions.register_certificate(store=self.store, actor=self.actor,
                                                 identity=self.identity)
        except CertificateNotRegisteredError as error:
            self.picker.state = "refused"
            self.error.show_message(records_actions.certificate_refusal_text(error=error),
                                    "error")
            self._refresh()
            return False
        except PermissionDeniedError as error:
            self.error.show_message(records_actions.refusal_text(error=error), "error")
            return False
        except (UserAccountError, StorageError) as error:
            self.error.show_message(str(error), "error")
            return False
        self.picker.state = "registered"
        self.register.hide()
        return True
