"""The checklist of the form: screen it, show a signed one read-only, preview, print, export.

Every edit re-screens the form (debounced), so the decision, the findings and the dose follow
what is typed. A signed checklist (a file, or a record of the records database) is shown in a
read-only form under "Signed by ..."; the dose is shown only if it is the signed one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QAbstractButton

from ketascreen.display import format_local_time
from ketascreen.errors import (
    InputFileError,
    KnowledgeBaseError,
    PermissionDeniedError,
    RecordError,
    StorageError,
)
from ketascreen.ui import actions
from ketascreen.ui.actions import FormScreening
from ketascreen.ui.widgets import set_text

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ketascreen.ui.controllers.document import DocumentController
    from ketascreen.ui.controllers.session import SessionController
    from ketascreen.ui.dialogs import Dialogs
    from ketascreen.ui.qt_case_form import QtCaseForm
    from ketascreen.ui.qt_dose import QtDoseOutcome
    from ketascreen.ui.qt_pdf_preview import QtPdfPreview
    from ketascreen.ui.qt_result import QtDecision, QtFindings
    from ketascreen.ui.qt_signed_bar import QtSignedBar

RESCREEN_DELAY_MS = 200
_LOCKED_BUTTON = "ketascreen-locked"
"""Marks the acknowledgement buttons disabled because a signed checklist is shown."""


@dataclass(frozen=True)
class SignedView:
    """The signed checklist the (read-only) form shows.

    Attributes:
        line: "Signed by NAME at TIME (record ID)", local time with its offset.
        record_id: the record id the signed checklist prints.
        pdf: the signed PDF bytes.
        amends: the record it amends, or ``None``.
        stored: whether it is a record of the records database (else a file only).
    """

    line: str
    record_id: str
    pdf: bytes
    amends: str | None = None
    stored: bool = False


@dataclass(frozen=True)
class Amending:
    """The signed checklist the form is amending, and why.

    Attributes:
        record_id: the record amended.
        reason: the typed reason.
        stored: whether it is a record of the records database (the amendment is then stored
            linked to it).
        patient_id: the patient of the signed checklist (an amendment is of the same patient).
    """

    record_id: str
    reason: str
    stored: bool
    patient_id: str | None = None


def signature_line(name: str, when: datetime, record_id: str) -> str:
    """``Signed by NAME at TIME (RECORD)``, local time with its offset."""
    return f"Signed by {name} at {format_local_time(when)} ({record_id})"


class ChecklistController(QObject):
    """Screens the form and shows, previews, prints and exports its checklist.

    Args:
        form: the case form; decision, findings, dose: the panels showing the screening.
        signed_bar: the bar above the form of a signed (or amended) checklist.
        document: the document controller (unsaved changes, the file, import warnings).
        session: the records session (the rule set in force, the open record).
        dialogs: the questions asked (the window replaces them in tests).
        window: the window (the parent of previews and dialogs; its settings and clinic).

    Signals:
        screened: a screening of the form finished (the outcome is in :attr:`outcome`).
        message(str, int): a status-bar message and its timeout in ms (0: until replaced).
    """

    screened = Signal()
    message = Signal(str, int)

    def __init__(self, *, form: QtCaseForm, decision: QtDecision, findings: QtFindings,
                 dose: QtDoseOutcome, signed_bar: QtSignedBar, document: DocumentController,
                 session: SessionController, dialogs: Dialogs, window: QWidget,
                 clinic: str | None) -> None:
        super().__init__(window)
        self.form = form
        self.decision = decision
        self.findings = findings
        self.dose = dose
        self.signed_bar = signed_bar
        self.document = document
        self.session = session
        self.dialogs = dialogs
        self.window = window
        self.settings = document.settings
        self.clinic = clinic
        self.outcome: FormScreening | None = None
        self.signed_path: Path | None = None
        self.signed_state: dict[str, object] | None = None
        self.preview: QtPdfPreview | None = None
        self.signed_view: SignedView | None = None
        self.amending: Amending | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RESCREEN_DELAY_MS)
        self._timer.timeout.connect(self.rescreen_now)

    # -- screening --------------------------------------------------------------------------

    def edited(self) -> None:
        """The form was edited: re-screen it shortly; meanwhile the outcome is pending."""
        self._timer.start()
        self.decision.show_outcome(self.outcome, pending=True)
        self.dose.set_pending()
        if self.preview is not None:
            # The checklist previewed is of the form as it was: never leave it open beside a
            # form (and a dose) that no longer matches it.
            self.close_signed_preview()
            self.message.emit("Checklist preview closed: the form changed "
                              "(Ctrl+Shift+P previews it again).", 5000)

    @property
    def pending(self) -> bool:
        """Whether an edit is waiting to be screened."""
        return self._timer.isActive()

    def stop(self) -> None:
        """Stop the pending re-screen (the window closes)."""
        self._timer.stop()

    def rescreen_now(self) -> FormScreening:
        """Screen the form now and show the outcome everywhere."""
        self._timer.stop()
        document = self.form.document()
        try:
            outcome = actions.screen_document(document=document, rules=self.session.rule_set())
        except (KnowledgeBaseError, StorageError) as error:
            outcome = actions.rules_unavailable(document=document, error=error)
        self.outcome = outcome
        rest = self.form.show_outcome(outcome)
        self.decision.show_outcome(outcome, pending=False)
        self.findings.show_outcome(outcome, rest)
        self.dose.show_outcome(outcome)
        self._show_signed_state(outcome)
        self.screened.emit()
        return outcome

    def current_outcome(self) -> FormScreening:
        """The outcome of the form as it is now (screening first if an edit is pending)."""
        if self.outcome is None or self.pending:
            return self.rescreen_now()
        return self.outcome

    # -- signed checklists: read-only --------------------------------------------------------

    def _show_signed_state(self, outcome: FormScreening) -> None:
        """While a signed checklist is shown: the banner says so, no acknowledgement can be
        changed, and the dose panel shows a dose only if it is the signed one (same record id,
        so the same case and result); otherwise it points to the signed PDF."""
        view = self.signed_view
        for button in self.findings.findChildren(QAbstractButton):
            if view is None and button.property(_LOCKED_BUTTON):
                button.setProperty(_LOCKED_BUTTON, None)
                button.setEnabled(True)
            elif view is not None and button.isEnabled() and (
                    button.objectName().startswith("acknowledge")
                    or button.text() == "Withdraw"):
                button.setProperty(_LOCKED_BUTTON, True)
                button.setEnabled(False)
        if view is None:
            if self.amending is not None:
                set_text(self.decision.signing, "Amending " + self.amending.record_id + ": "
                         + actions.signing_status(outcome=outcome))
            return
        set_text(self.decision.signing, f"SIGNED ({view.record_id}): read-only. To change it, "
                 "Amend it (File > Amend signed checklist).")
        if actions.record_id_of(outcome=outcome) != view.record_id:
            self.dose.show_outcome(dataclasses.replace(
                outcome, dose_rows=(), working=(),
                no_dose_reason=f"this computer's rules or formulary screen the signed case "
                f"differently from when {view.record_id} was signed; the dose is the one "
                "printed on the signed checklist."))

    def lock(self, view: SignedView) -> None:
        """Show the form as the signed checklist ``view``: read-only, with the signed bar."""
        self.signed_view = view
        self.amending = None
        self.form.set_read_only(True)
        self.signed_bar.show_signed(view.line, amends=view.amends)
        self.rescreen_now()

    def unlock(self) -> None:
        """The form is no longer a signed checklist: editable, without the signed bar."""
        self.signed_view = None
        self.form.set_read_only(False)
        self.signed_bar.clear()

    def close_signed_preview(self) -> None:
        """Close the preview of a signed checklist the form no longer shows."""
        preview, self.preview = self.preview, None
        if preview is not None:
            with contextlib.suppress(RuntimeError):  # closed by the user: deleted already
                preview.close()

    def leave(self, forget_signed_file: bool) -> None:
        """The form is about to show another document: nothing signed or amended is shown."""
        if forget_signed_file:
            self.signed_path = None
            self.signed_state = None
        self.close_signed_preview()
        self.amending = None
        self.unlock()
        self.session.open(None)

    def open_signed_file(self, path: Path) -> QtPdfPreview | None:
        """Open a signed checklist file: the case it embeds in the form (read-only, under
        "Signed by NAME at TIME (record ID)") and the signed PDF in the preview."""
        if not self.document.keep_or_drop_changes():
            return None
        try:
            opened = actions.open_signed_checklist(path=path,
                                                   registered=self.session.registered_signer)
        except InputFileError as error:
            self.dialogs.error("Open checklist", f"{error.path}: {error.reason}")
            return None
        self.document.replace(opened.document, None)
        self.document.mark_saved()
        record_id = opened.record_id
        when = opened.signed_at or datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        self.signed_path = path
        self.lock(SignedView(signature_line(opened.signer, when, record_id), record_id,
                             opened.pdf))
        if not opened.verification.ok:
            self.dialogs.error("Open checklist", f"The signature of {path} does not verify: "
                               + "; ".join(opened.verification.problems))
        return self.show_pdf(opened.pdf, path.name, signed=True)

    def open_record(self, record_id: str) -> QtPdfPreview | None:
        """Open a signed checklist of the records database: its case in the form (read-only,
        "Signed by ..." above it, the signed dose) and its signed PDF in the preview."""
        from ketascreen.ui import records_actions  # noqa: PLC0415

        session = self.session
        if session.store is None or session.actor is None:
            return None
        if not self.document.keep_or_drop_changes():
            return None
        try:
            opened = records_actions.open_record(store=session.store, actor=session.actor,
                                                 record_id=record_id)
            stored = records_actions.signed_record(store=session.store, actor=session.actor,
                                                   record_id=record_id)
        except (PermissionDeniedError, RecordError, StorageError) as error:
            session.records_error("Open checklist", error)
            return None
        self.document.replace(json.loads(stored.case_json), None)
        self.document.mark_saved()
        self.lock(SignedView(stored.signature_line(), stored.record_id, opened.pdf,
                             stored.amends, stored=True))
        session.open(opened)
        patient = opened.item.patient
        preview = self.show_pdf(opened.pdf, f"{patient.name} ({patient.patient_id}) "
                                f"\u2014 {opened.item.record_id}", signed=True)
        if preview is not None:
            preview.printed.connect(lambda copies: session.record_printed(opened, copies))
        return preview

    # -- the checklist: preview, print, export -----------------------------------------------

    def checklist_bytes(self) -> tuple[bytes, bool] | None:
        """The signed checklist of the form as it is, else the unsigned one; ``None`` (after
        saying why) when the form is not a valid case."""
        outcome = self.current_outcome()
        if self.signed_view is not None:
            return self.signed_view.pdf, True
        if (self.signed_path is not None and self.signed_state is not None
                and actions.normalised(self.form.state()) == self.signed_state):
            try:
                return self.signed_path.read_bytes(), True
            except OSError:
                pass
        if not outcome.valid:
            self.dialogs.error("Checklist", "The form is incomplete or has errors; correct the "
                               "marked fields first.")
            return None
        return actions.checklist_pdf(outcome=outcome, page_size=self.settings.page_size(),
                                     clinic=self.clinic,
                                     import_warnings=self.document.warning_lines()), False

    def show_preview(self) -> QtPdfPreview | None:
        """Preview the checklist (signed if it was signed as the form is now)."""
        found = self.checklist_bytes()
        if found is None:
            return None
        data, signed = found
        name = self.signed_path.name if signed and self.signed_path else "unsigned checklist"
        return self.show_pdf(data, name, signed=signed)

    def show_pdf(self, data: bytes, name: str, *, signed: bool) -> QtPdfPreview | None:
        """Show a checklist PDF in the preview window."""
        from ketascreen.ui.qt_pdf_preview import PdfError, QtPdfPreview  # noqa: PLC0415

        try:
            preview = QtPdfPreview(data, f"Checklist preview \u2014 {name}", signed=signed,
                                   parent=self.window)
        except PdfError as error:
            self.dialogs.error("Preview", f"Cannot show {name}: {error.status}")
            return None
        self.preview = preview
        preview.show()
        return preview

    def print_checklist(self) -> bool:
        """Print the checklist through the print dialog."""
        from ketascreen.ui.qt_pdf_preview import print_with_dialog  # noqa: PLC0415

        found = self.checklist_bytes()
        return found is not None and print_with_dialog(found[0], self.window) > 0

    def print_to_pdf(self, path: Path) -> int:
        """Print the checklist through Qt's printing path into a PDF file (no dialog).

        Returns:
            The number of pages printed (0 when the form is not a valid case).
        """
        from ketascreen.ui.qt_pdf_preview import print_pdf_to_file  # noqa: PLC0415

        found = self.checklist_bytes()
        return 0 if found is None else print_pdf_to_file(found[0], path)

    def export_unsigned(self) -> bool:
        """Save the unsigned checklist as a PDF (e.g. to document a DO NOT INFUSE decision)."""
        outcome = self.current_outcome()
        if not outcome.valid:
            self.dialogs.error("Export", "The form is incomplete or has errors; correct the "
                               "marked fields first.")
            return False
        folder = self.settings.folder("checklist") or str(Path.home())
        path = self.dialogs.pdf_path(str(Path(folder) / "unsigned-checklist.pdf"))
        if path is None:
            return False
        data = actions.checklist_pdf(outcome=outcome, page_size=self.settings.page_size(),
                                     clinic=self.clinic,
                                     import_warnings=self.document.warning_lines())
        try:
            actions.write_file(path=path, data=data, force=True)  # the dialog confirmed
        except OSError as error:
            self.dialogs.error("Export", f"Cannot write {path}: {error.strerror}")
            return False
        self.message.emit(f"Unsigned checklist written: {path}", 5000)
        return True
