"""Signing the checklist of the form, and amending a signed one.

Sign opens the Sign dialog (it explains a refusal instead of signing). Signed in to the records,
the signed screening is stored (for the nurses' worklist) before its PDF is put in place; one
signed checklist per patient and day, a change is an amendment with a typed reason.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ketascreen.errors import (
    CertificateNotRegisteredError,
    PermissionDeniedError,
    RecordError,
    SameDaySigningError,
    StorageError,
)
from ketascreen.ui import actions
from ketascreen.ui.controllers.checklist import Amending, SignedView, signature_line

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ketascreen.ui.controllers.checklist import ChecklistController
    from ketascreen.ui.controllers.document import DocumentController
    from ketascreen.ui.controllers.session import SessionController
    from ketascreen.ui.dialogs import Dialogs
    from ketascreen.ui.qt_sign_dialog import QtSignDialog
    from ketascreen.ui.records_actions import StoredScreening


class SigningController(QObject):
    """Signs the checklist of the form, stores it in the records, and starts amendments.

    Args:
        checklist: the checklist controller (the outcome, the signed view, the amendment).
        document: the document controller (unsaved changes, the file, import warnings).
        session: the records session.
        dialogs: the questions asked (the window replaces them in tests).
        window: the window (the parent of the Sign dialog).

    Signals:
        message(str, int): a status-bar message and its timeout in ms (0: until replaced).
    """

    message = Signal(str, int)

    def __init__(self, *, checklist: ChecklistController, document: DocumentController,
                 session: SessionController, dialogs: Dialogs, window: QWidget) -> None:
        super().__init__(window)
        self.checklist = checklist
        self.document = document
        self.session = session
        self.dialogs = dialogs
        self.window = window
        self.sign_dialog: QtSignDialog | None = None

    def amend(self) -> bool:
        """Amend the signed checklist shown: ask for a typed reason, then make the form a new
        draft that replaces the signed record once signed. The signed preview is closed (the
        form will differ from it)."""
        view = self.checklist.signed_view
        if view is None:
            self.dialogs.error("Amend", "No signed checklist is shown. Open it first (from "
                               "today's signed checklists), then press Amend.")
            return False
        return self.start_amending(view.record_id, stored=view.stored)

    def start_amending(self, record_id: str, *, stored: bool) -> bool:
        """Ask why ``record_id`` is amended, then make the form its amendment."""
        session, checklist = self.session, self.checklist
        if stored and session.store is not None and session.actor is not None:
            from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

            try:
                records_actions.require(store=session.store, actor=session.actor,
                                        permission=records_actions.Permission.AMEND,
                                        record_id=record_id)
            except (PermissionDeniedError, StorageError) as error:
                session.records_error("Amend", error)
                return False
        reason = self.dialogs.amend_reason(record_id)
        if reason is None or not reason.strip():
            return False
        checklist.close_signed_preview()
        session.record = None
        checklist.signed_path = None
        checklist.signed_state = None
        checklist.unlock()
        case = actions.case_of(checklist.current_outcome())
        checklist.amending = Amending(record_id, reason.strip(), stored,
                                      None if case is None else case.patient.id)
        checklist.signed_bar.show_amending(record_id, reason.strip())
        session.open(None)
        checklist.rescreen_now()
        checklist.form.patient.patient_id.setFocus()
        self.message.emit(f"Amending {record_id}: correct the form, then sign the "
                          "amendment (File > Sign checklist).", 0)
        return True

    def sign(self) -> None:
        """Open the Sign dialog (it explains a refusal instead of signing); refused outright
        when the signed-in user's role may not sign."""
        from ketascreen.ui.qt_sign_dialog import QtSignDialog  # noqa: PLC0415 - pyHanko, lazily

        checklist, session = self.checklist, self.session
        if checklist.signed_view is not None:
            self.dialogs.error("Sign", "This checklist is signed already "
                               f"({checklist.signed_view.line}). To change it, amend it "
                               "(File > Amend signed checklist).")
            return
        outcome = checklist.current_outcome()
        case = actions.case_of(outcome)
        amending = checklist.amending
        if (amending is not None and amending.patient_id is not None and case is not None
                and case.patient.id != amending.patient_id):
            self.dialogs.error("Sign", f"This form is the amendment of {amending.record_id}, "
                               f"a checklist of patient {amending.patient_id}, but it is now of "
                               f"patient {case.patient.id}. An amendment is of the same "
                               "patient: correct the patient ID, or start a new screening.")
            return
        if session.store is not None and session.actor is not None:
            from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

            try:
                records_actions.require(store=session.store, actor=session.actor,
                                        permission=records_actions.Permission.SIGN)
                existing = None if case is None or checklist.amending is not None else (
                    records_actions.signed_today(store=session.store, actor=session.actor,
                                                 patient_id=case.patient.id))
            except (PermissionDeniedError, StorageError) as error:
                session.records_error("Sign", error)
                return
            if existing is not None:
                # One signed checklist per patient and day: a change is an amendment.
                text = records_actions.same_day_text(existing=existing)
                if not self.dialogs.offer_amend("Sign", text) or not self.start_amending(
                        existing.record_id, stored=True):
                    self.message.emit(f"Not signed: {existing.record_id} was signed "
                                      "for this patient today (amend it instead).", 0)
                    return
                outcome = checklist.current_outcome()
        settings, path = checklist.settings, self.document.path
        folder = Path(settings.folder("checklist") or (path.parent if path else Path.home()))
        name = (f"{case.patient.id}-{case.screening_date.isoformat()}-checklist.pdf"
                if case is not None else "checklist.pdf")
        dialog = QtSignDialog(outcome, settings, folder / name, clinic=checklist.clinic,
                              import_warnings=self.document.warning_lines(),
                              store=session.store, actor=session.actor, parent=self.window)
        dialog.accepted.connect(lambda: self._signed(dialog))
        self.sign_dialog = dialog
        dialog.open()

    def _signed(self, dialog: QtSignDialog) -> None:
        signed = dialog.signed
        if signed is None:
            return
        checklist = self.checklist
        amending = checklist.amending
        record = None
        if signed.staged is not None:
            # Signed into the records: the PDF is put in place only once its record is
            # committed, so no signed checklist exists without its record.
            record = self.store_signed(signed.staged.temporary, amending)
            if record is None:
                signed.staged.discard()
                self.message.emit(
                    f"Signed checklist NOT written to {signed.path}: its record could not be "
                    "stored (see the message)", 0)
                return
            signed.staged.commit()
        checklist.signed_path = signed.path
        checklist.signed_state = actions.normalised(checklist.form.state())
        checklist.settings.add_recent("checklists", signed.path)
        self.session.screenings.refresh()
        check = ("signature verified" if signed.verification.ok
                 else "SIGNATURE CHECK FAILED: " + "; ".join(signed.verification.problems))
        replaced = " (replaced a signed document)" if signed.replaced_signed else ""
        if signed.staged is None:
            record = self.store_signed(signed.path, amending)
        note = ("; NOT saved in the records" if self.session.store is not None and record is None
                else "" if record is None else f"; saved in the records as {record.record_id}")
        if record is None and amending is not None and amending.stored:
            note += f" (the amendment of {amending.record_id} is NOT linked)"
        try:
            pdf = signed.path.read_bytes()
        except OSError:
            pdf = b""
        checklist.close_signed_preview()
        if record is not None:
            line = record.signature_line()
            amends = record.amends
        else:
            line = signature_line(signed.signer, datetime.now().astimezone(), signed.record_id)
            amends = amending.record_id if amending is not None else None
        checklist.lock(SignedView(line, signed.record_id, pdf, amends,
                                  stored=record is not None))
        self.message.emit(f"Signed checklist written: {signed.path} (record "
                          f"{signed.record_id}; {check}){replaced}{note}", 0)
        if not signed.verification.ok:
            self.dialogs.error("Sign", f"The signed checklist {signed.path} did not verify: "
                               + "; ".join(signed.verification.problems))

    def store_signed(self, path: Path, amending: Amending | None = None
                     ) -> StoredScreening | None:
        """With a signed-in user, store the signed screening (for the nurses' worklist); with
        ``amending`` a stored record, as its signed amendment. ``None`` when not stored (the
        reason was shown)."""
        screening = self.checklist.current_outcome().screening
        session = self.session
        if session.store is None or session.actor is None or screening is None:
            return None
        from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        amends = amending.record_id if amending is not None and amending.stored else None
        try:
            stored = records_actions.store_signed(
                store=session.store, actor=session.actor, screening=screening,
                signed_pdf=path.read_bytes(), amends=amends,
                reason=amending.reason if amends and amending else None)
        except SameDaySigningError as error:
            self.dialogs.error("Save the signed record",
                               records_actions.same_day_error_text(error=error))
            return None
        except CertificateNotRegisteredError as error:
            self.dialogs.error("Save the signed record",
                               records_actions.certificate_refusal_text(error=error))
            return None
        except (PermissionDeniedError, RecordError, StorageError, OSError) as error:
            session.records_error("Save the signed record", error)
            return None
        session.screenings.refresh()
        return stored
