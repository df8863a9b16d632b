"""The main window: the screening list, the form, the decision banner, findings and dose.

Every edit re-screens the form (debounced), so the decision, the findings and the dose follow
what is typed. The window owns the file work around the screening: open and save case files
(atomically), import FHIR records, autosave a draft every few seconds, offer drafts left by a
crash, sign, preview and print the checklist. Signed in to the records database, it lists today's
signed checklists (the nurse worklist), previews and prints them and records the bedside double
check. All core work goes through :mod:`ketascreen.ui.actions` and
:mod:`ketascreen.ui.records_actions`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ketascreen.display import format_local_time
from ketascreen.errors import (
    CaseValidationError,
    CertificateNotRegisteredError,
    FhirImportError,
    FieldProblem,
    InputFileError,
    PermissionDeniedError,
    RecordError,
    SameDaySigningError,
    StorageError,
    UserAccountError,
)
from ketascreen.ui import actions
from ketascreen.ui.about import about_box
from ketascreen.ui.actions import FormScreening
from ketascreen.ui.dialogs import Dialogs
from ketascreen.ui.drafts import Draft, DraftSlot, DraftStore
from ketascreen.ui.qt_case_form import CASE_FORMAT, QtCaseForm
from ketascreen.ui.qt_dose import QtDoseOutcome
from ketascreen.ui.qt_result import QtDecision, QtFindings
from ketascreen.ui.qt_session import QtSessionStatus
from ketascreen.ui.qt_signed_bar import QtSignedBar
from ketascreen.ui.screenings import (
    QtScreeningList,
    RecentCases,
    RecoveredDrafts,
    ScreeningEntry,
    SignedChecklists,
    TodaysChecklists,
)
from ketascreen.ui.settings import AppSettings
from ketascreen.ui.widgets import describe_problem, set_text

if TYPE_CHECKING:
    from ketascreen.ui.qt_pdf_preview import QtPdfPreview
    from ketascreen.ui.qt_sign_dialog import QtSignDialog
    from ketascreen.ui.records_actions import (
        Actor,
        OpenedChecklist,
        RecordStore,
        StoredScreening,
    )

RESCREEN_DELAY_MS = 200
_LOCKED_BUTTON = "ketascreen-locked"
"""Marks the acknowledgement buttons disabled because a signed checklist is shown."""
AUTOSAVE_INTERVAL_MS = 5000


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


def new_document() -> dict[str, Any]:
    """The document of a new screening: today's date and nothing else."""
    return {"format": CASE_FORMAT, "screening_date": date.today().isoformat()}


class MainWindow(QMainWindow):
    """The ketascreen main window.

    Args:
        settings: the app's settings (tests pass an INI file in a temporary folder).
        drafts: the drafts folder; ``None`` disables autosave (screenshots).
        dialogs: the questions the window asks (tests pass a fake).
        autosave_ms: how often the draft is autosaved.
        clinic: the clinic name printed on checklists (``None``: the default).
        records: a records database URL to open at once, asking who is using the app (``None``:
            files only until Records > Sign in).

    Signals:
        screened: a screening of the form finished (the outcome is in :attr:`outcome`).
        draft_saved: the draft was autosaved.
    """

    screened = Signal()
    draft_saved = Signal()

    def __init__(self, settings: AppSettings, *, drafts: DraftStore | None,
                 dialogs: Dialogs | None = None, autosave_ms: int = AUTOSAVE_INTERVAL_MS,
                 clinic: str | None = None, records: str | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.drafts = drafts
        self.dialogs = dialogs or Dialogs(self)
        self.clinic = clinic
        self.path: Path | None = None
        self.outcome: FormScreening | None = None
        self.import_warnings: tuple[tuple[str, str, str | None], ...] = ()
        self.signed_path: Path | None = None
        self._signed_state: dict[str, Any] | None = None
        self._saved_state: dict[str, Any] | None = None
        self._draft_state: dict[str, Any] | None = None
        self._slot: DraftSlot | None = drafts.claim() if drafts is not None else None
        self._offered: Draft | None = None
        self.sign_dialog: QtSignDialog | None = None
        self.preview: QtPdfPreview | None = None
        self.store: RecordStore | None = None
        self.actor: Actor | None = None
        self.record: OpenedChecklist | None = None
        self.signed_view: SignedView | None = None
        self.amending: Amending | None = None
        self.worklist = TodaysChecklists(self._worklist_rows)
        self.signed_bar = QtSignedBar(self)
        self.signed_bar.amend_requested.connect(self.amend)

        self.decision = QtDecision(self)
        self.findings = QtFindings(self)
        self.dose = QtDoseOutcome(self)
        self.form = QtCaseForm(new_document(), self)
        self.screenings = QtScreeningList(
            [RecoveredDrafts(drafts), RecentCases(settings), SignedChecklists(settings)], self)
        self.screenings.activated.connect(self.open_entry)
        self._build_layout()
        self._build_menus()

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RESCREEN_DELAY_MS)
        self._timer.timeout.connect(self.rescreen_now)
        self._autosave = QTimer(self)
        self._autosave.setInterval(autosave_ms)
        self._autosave.timeout.connect(self.autosave_now)
        if drafts is not None:
            self._autosave.start()
        self.form.edited.connect(self._edited)
        self.findings.acknowledge_requested.connect(self.form.acknowledge)
        self.findings.withdraw_requested.connect(self.form.withdraw)
        self._saved_state = self.form.state()
        self.rescreen_now()
        self._restore_geometry()
        self._offer_draft()
        if records is not None:
            self.open_records(url=records)

    # -- layout -----------------------------------------------------------------------------

    def _build_layout(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(self.decision)
        self.draft_bar = QFrame(central)
        self.draft_bar.setObjectName("draft-bar")
        self.draft_bar.setStyleSheet("QFrame#draft-bar { background: #fff6d5; "
                                     "border: 1px solid #b59b3b; }")
        bar = QHBoxLayout(self.draft_bar)
        self.draft_text = QLabel(self.draft_bar)
        self.draft_text.setObjectName("draft-text")
        self.draft_text.setWordWrap(True)
        self.restore_button = QPushButton("Restore draft", self.draft_bar)
        self.restore_button.setObjectName("restore-draft")
        self.restore_button.clicked.connect(lambda: self._offered and self.restore_draft(
            self._offered))
        self.discard_button = QPushButton("Discard draft", self.draft_bar)
        self.discard_button.setObjectName("discard-draft")
        self.discard_button.clicked.connect(self._discard_offered)
        later = QPushButton("Later", self.draft_bar)
        later.clicked.connect(self.draft_bar.hide)
        bar.addWidget(self.draft_text, 1)
        for button in (self.restore_button, self.discard_button, later):
            bar.addWidget(button)
        self.draft_bar.hide()
        outer.addWidget(self.draft_bar)
        outer.addWidget(self.signed_bar)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, central)
        self.splitter.setObjectName("panes")
        self.splitter.addWidget(self.screenings)
        self.form_scroll = QScrollArea(self.splitter)
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setWidget(self.form)
        self.splitter.addWidget(self.form_scroll)
        right = QScrollArea(self.splitter)
        right.setWidgetResizable(True)
        panel = QWidget(right)
        column = QVBoxLayout(panel)
        column.addWidget(self.dose)
        column.addWidget(self.findings)
        column.addStretch(1)
        right.setWidget(panel)
        self.splitter.addWidget(right)
        self.splitter.setSizes([230, 640, 500])
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        outer.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.resize(1400, 900)

    def _action(self, menu_name: str, text: str,
                shortcut: QKeySequence | QKeySequence.StandardKey | str, slot: Any) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setObjectName(menu_name)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.actions_by_name: dict[str, QAction] = {}
        entries: list[tuple[str, str, QKeySequence.StandardKey | str, Any] | None] = [
            ("new", "&New screening", QKeySequence.StandardKey.New, self.new_screening),
            ("open", "&Open case file...", QKeySequence.StandardKey.Open, self.open_case),
            ("save", "&Save", QKeySequence.StandardKey.Save, self.save),
            ("save-as", "Save &as...", QKeySequence.StandardKey.SaveAs, self.save_as),
            None,
            ("import", "&Import FHIR record...", "Ctrl+I", lambda: self.import_fhir(False)),
            ("import-folder", "Import FHIR &folder...", "Ctrl+Shift+I",
             lambda: self.import_fhir(True)),
            None,
            ("sign", "Si&gn checklist...", "Ctrl+G", self.sign),
            ("amend", "A&mend signed checklist...", "Ctrl+Shift+G", self.amend),
            ("preview", "Pre&view checklist", "Ctrl+Shift+P", self.show_preview),
            ("print", "&Print checklist...", QKeySequence.StandardKey.Print, self.print_checklist),
            ("export", "&Export unsigned checklist PDF...", "Ctrl+E", self.export_unsigned),
            None,
            ("quit", "&Quit", QKeySequence.StandardKey.Quit, self.close),
        ]
        for entry in entries:
            if entry is None:
                file_menu.addSeparator()
                continue
            name, text, shortcut, slot = entry
            action = self._action(name, text, shortcut, slot)
            file_menu.addAction(action)
            self.actions_by_name[name] = action
        self.session = QtSessionStatus(self)  # who is signed in, while anyone is
        self.statusBar().addPermanentWidget(self.session)
        self.session.sign_out_requested.connect(self.sign_out)
        records = bar.addMenu("&Records")
        for name, text, shortcut, slot in (
                ("sign-in", "&Sign in to records...", "Ctrl+Shift+L",
                 lambda: self.open_records(url=None)),
                ("sign-out", "Sign &out", "", self.sign_out),
                ("refresh-worklist", "&Refresh today's checklists", "F5", self.refresh_worklist),
                ("print-record", "&Print open checklist...", "Ctrl+Shift+R", self.print_record),
                ("double-check", "Record bedside &double check...", "Ctrl+D",
                 self.record_double_check)):
            action = self._action(name, text, shortcut, slot)
            records.addAction(action)
            self.actions_by_name[name] = action
        self._update_record_actions()
        go = bar.addMenu("&Go")
        find = self._action("find", "&Find patient", "Ctrl+L", self._focus_filter)
        form = self._action("form", "Go to the f&orm", "Ctrl+1",
                            self.form.patient.patient_id.setFocus)
        findings = self._action("findings", "Go to the f&indings", "Ctrl+2",
                                self._focus_findings)
        for action in (find, form, findings):
            go.addAction(action)
            self.actions_by_name[action.objectName()] = action
        help_menu = bar.addMenu("&Help")
        about = self._action("about", "&About ketascreen", "", self.show_about)
        help_menu.addAction(about)
        self.actions_by_name["about"] = about
        self.about: QMessageBox | None = None

    def show_about(self) -> QMessageBox:
        """Help > About: the app, rule-set, policy, formulary and knowledge-base versions."""
        box = about_box(self)
        self.about = box
        box.open()
        return box

    def _focus_filter(self) -> None:
        self.screenings.filter.setFocus()
        self.screenings.filter.selectAll()

    def _focus_findings(self) -> None:
        rows = self.findings.finding_rows()
        if rows:
            rows[0].expander.setFocus()

    # -- screening --------------------------------------------------------------------------

    def _edited(self) -> None:
        self._timer.start()
        self.decision.show_outcome(self.outcome, pending=True)
        self.dose.set_pending()
        self._update_title()
        if self.preview is not None:
            # The checklist previewed is of the form as it was: never leave it open beside a
            # form (and a dose) that no longer matches it.
            self._close_signed_preview()
            self.statusBar().showMessage("Checklist preview closed: the form changed "
                                         "(Ctrl+Shift+P previews it again).", 5000)

    @property
    def pending(self) -> bool:
        """Whether an edit is waiting to be screened."""
        return self._timer.isActive()

    def rescreen_now(self) -> FormScreening:
        """Screen the form now and show the outcome everywhere."""
        self._timer.stop()
        outcome = actions.screen_document(document=self.form.document())
        self.outcome = outcome
        rest = self.form.show_outcome(outcome)
        self.decision.show_outcome(outcome, pending=False)
        self.findings.show_outcome(outcome, rest)
        self.dose.show_outcome(outcome)
        self.actions_by_name["sign"].setToolTip(actions.signing_refusal(outcome=outcome) or "")
        self._show_signed_state(outcome)
        self._update_title()
        self.screened.emit()
        return outcome

    def current_outcome(self) -> FormScreening:
        """The outcome of the form as it is now (screening first if an edit is pending)."""
        if self.outcome is None or self.pending:
            return self.rescreen_now()
        return self.outcome

    # -- signed checklists: read-only, amend -------------------------------------------------

    def _show_signed_state(self, outcome: FormScreening) -> None:
        """While a signed checklist is shown: the banner says so, no acknowledgement can be
        changed, and the dose panel shows a dose only if it is the signed one (same record id,
        so the same case and result); otherwise it points to the signed PDF."""
        view = self.signed_view
        self.actions_by_name["amend"].setEnabled(view is not None)
        self.actions_by_name["sign"].setEnabled(view is None)
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

    def _lock(self, view: SignedView) -> None:
        """Show the form as the signed checklist ``view``: read-only, with the signed bar."""
        self.signed_view = view
        self.amending = None
        self.form.set_read_only(True)
        self.signed_bar.show_signed(view.line, amends=view.amends)
        self.rescreen_now()

    def _unlock(self) -> None:
        self.signed_view = None
        self.form.set_read_only(False)
        self.signed_bar.clear()

    def _close_signed_preview(self) -> None:
        """Close the preview of a signed checklist the form no longer shows."""
        preview, self.preview = self.preview, None
        if preview is not None:
            with contextlib.suppress(RuntimeError):  # closed by the user: deleted already
                preview.close()

    def amend(self) -> bool:
        """Amend the signed checklist shown: ask for a typed reason, then make the form a new
        draft that replaces the signed record once signed. The signed preview is closed (the
        form will differ from it)."""
        view = self.signed_view
        if view is None:
            self.dialogs.error("Amend", "No signed checklist is shown. Open it first (from "
                               "today's signed checklists), then press Amend.")
            return False
        return self._start_amending(view.record_id, stored=view.stored)

    def _start_amending(self, record_id: str, *, stored: bool) -> bool:
        if stored and self.store is not None and self.actor is not None:
            from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

            try:
                records_actions.require(store=self.store, actor=self.actor,
                                        permission=records_actions.Permission.AMEND,
                                        record_id=record_id)
            except (PermissionDeniedError, StorageError) as error:
                self._records_error("Amend", error)
                return False
        reason = self.dialogs.amend_reason(record_id)
        if reason is None or not reason.strip():
            return False
        self._close_signed_preview()
        self.record = None
        self.signed_path = None
        self._signed_state = None
        self._unlock()
        case = actions.case_of(self.current_outcome())
        self.amending = Amending(record_id, reason.strip(), stored,
                                 None if case is None else case.patient.id)
        self.signed_bar.show_amending(record_id, reason.strip())
        self._update_record_actions()
        self.rescreen_now()
        self.form.patient.patient_id.setFocus()
        self.statusBar().showMessage(f"Amending {record_id}: correct the form, then sign the "
                                     "amendment (File > Sign checklist).")
        return True

    # -- state, title, drafts ---------------------------------------------------------------

    def is_modified(self) -> bool:
        """Whether the form differs from the case file it came from (or from a new form)."""
        return actions.normalised(self.form.state()) != actions.normalised(
            self._saved_state or {})

    def _update_title(self) -> None:
        where = self.path.name if self.path else "not saved"
        self.setWindowTitle(f"ketascreen \u2014 {self.form.label()} \u2014 {where}[*]")
        self.setWindowModified(self.is_modified())

    def autosave_now(self) -> bool:
        """Write the draft if the form changed since the last draft; True if written."""
        if self._slot is None:
            return False
        state = self.form.state()
        if not self.is_modified():
            self._slot.clear()
            self._draft_state = None
            return False
        if state == self._draft_state:
            return False
        try:
            self._slot.write(state=state, label=self.form.label(), source=self.path,
                             import_warnings=self.import_warnings)
        except OSError as error:
            self.statusBar().showMessage(f"Draft not autosaved: {error.strerror}")
            return False
        self._draft_state = state
        self.statusBar().showMessage("Draft autosaved", 3000)
        self.draft_saved.emit()
        return True

    def _warning_lines(self) -> tuple[str, ...]:
        return tuple(f"{code}: {message}" + (f" [{resource}]" if resource else "")
                     for code, message, resource in self.import_warnings)

    def _offer_draft(self) -> None:
        if self.drafts is None:
            return
        orphans = self.drafts.orphans()
        if not orphans:
            return
        self._offered = draft = orphans[0]
        more = f" ({len(orphans) - 1} more in the list on the left)" if len(orphans) > 1 else ""
        self.draft_text.setText(
            f"<b>Unsaved screening found:</b> {draft.label}, autosaved "
            f"{draft.saved_at:%Y-%m-%d %H:%M}. The program closed without saving it "
            f"(a crash or power loss?){more}.")
        self.draft_bar.show()

    def _discard_offered(self) -> None:
        if self._offered is not None and self.drafts is not None:
            self.drafts.discard(self._offered)
        self._offered = None
        self.draft_bar.hide()
        self.screenings.refresh()

    def restore_draft(self, draft: Draft) -> bool:
        """Show a draft left by a crash; its autosave continues in the same draft file."""
        if self.drafts is None or not self._keep_or_drop_changes():
            return False
        slot = self.drafts.adopt(draft)
        if slot is None:
            self.dialogs.error("Restore draft", "Another ketascreen window has this draft open.")
            return False
        if self._slot is not None:
            self._slot.discard()
        self._slot = slot
        self.path = draft.source
        self.import_warnings = draft.import_warnings
        self.findings.show_import_warnings(draft.import_warnings)
        self._close_signed_preview()
        self.record = None
        self.amending = None
        self._unlock()
        self._update_record_actions()
        self.form.load(draft.state)
        self._saved_state = None  # a restored draft is unsaved work
        self._draft_state = draft.state
        self.draft_bar.hide()
        self._offered = None
        self.screenings.refresh()
        self.rescreen_now()
        self.statusBar().showMessage(f"Draft restored: {draft.label}", 5000)
        return True

    # -- files ------------------------------------------------------------------------------

    def _keep_or_drop_changes(self) -> bool:
        """Ask about unsaved changes; True when the caller may replace the form."""
        if not self.is_modified():
            return True
        answer = self.dialogs.ask_unsaved(self.form.label())
        if answer == "cancel":
            return False
        if answer == "save":
            return self.save()
        return True

    def _replace(self, document: dict[str, Any], path: Path | None,
                 warnings: tuple[tuple[str, str, str | None], ...] = ()) -> None:
        if self._slot is not None:
            self._slot.clear()
        self._draft_state = None
        self.path = path
        self.import_warnings = warnings
        self.signed_path = None
        self._signed_state = None
        self._close_signed_preview()
        self.record = None
        self.amending = None
        self._unlock()
        self._update_record_actions()
        self.form.load(document)
        self._saved_state = self.form.state() if path is not None else None
        self.findings.show_import_warnings(warnings)
        self.rescreen_now()

    def new_screening(self) -> bool:
        """Start an empty screening (asking about unsaved changes first)."""
        if not self._keep_or_drop_changes():
            return False
        self._replace(new_document(), None)
        self._saved_state = self.form.state()
        self._update_title()
        self.form.patient.patient_id.setFocus()
        return True

    def open_case(self) -> bool:
        """Choose a case file and open it."""
        if not self._keep_or_drop_changes():
            return False
        path = self.dialogs.open_path(self.settings.folder("open"))
        return False if path is None else self.open_path(path, ask=False)

    def open_path(self, path: Path, *, ask: bool = True) -> bool:
        """Open the case file ``path``; refuse it if the form could not show it losslessly."""
        if ask and not self._keep_or_drop_changes():
            return False
        try:
            opened = actions.open_case_file(path=path)
        except CaseValidationError as error:
            self.dialogs.error("Open case file", _problems_text(path, error.problems))
            return False
        previous = (self.form.state(), self.path, self._saved_state)
        self._replace(opened.document, path)
        if actions.normalised(self.form.document()) != actions.normalised(opened.document):
            # The form cannot show something the file holds (an unknown key, a value of the
            # wrong type): refuse rather than silently drop it on the next save.
            state, old_path, saved = previous
            self._replace(state, old_path)
            self._saved_state = saved
            self._update_title()
            self.dialogs.error("Open case file", _problems_text(path, opened.problems) + (
                "\n\nThe file cannot be shown in the form without losing what it holds; "
                "correct it in a text editor."))
            return False
        self.settings.set_folder("open", path)
        self.settings.add_recent("cases", path)
        self.screenings.refresh()
        if opened.problems:
            self.statusBar().showMessage(
                f"Opened {path.name}: {len(opened.problems)} problem(s) marked on the form")
        else:
            self.statusBar().showMessage(f"Opened {path.name}", 5000)
        return True

    def save(self) -> bool:
        """Save to the open case file (replacing it atomically), or ask where."""
        if self.path is None:
            return self.save_as()
        return self.save_to(self.path, force=True)

    def save_as(self) -> bool:
        """Choose a file and save the case to it."""
        patient = self.form.patient.patient_id.text().strip() or "case"
        folder = self.settings.folder("save") or str(Path.home())
        suggested = str(Path(folder) / f"{patient}-{self.form.patient.screening_date.text()}.json")
        path = self.dialogs.save_path(suggested)
        if path is None:
            return False
        # The file dialog has already asked before replacing an existing file.
        return self.save_to(path, force=True)

    def save_to(self, path: Path, *, force: bool) -> bool:
        """Save the case to ``path``; a case that is not valid yet is refused (the draft
        keeps the work)."""
        from ketascreen.reports.output import OutputExistsError  # noqa: PLC0415

        try:
            actions.save_case_file(path=path, document=self.form.document(), force=force)
        except CaseValidationError as error:
            self.dialogs.error("Save", "The case is not complete or has errors, so it cannot be "
                               "saved as a case file yet (your work is kept in the autosaved "
                               "draft):\n\n" + "\n".join(
                                   describe_problem(p, with_field=p.field)
                                   for p in error.problems))
            return False
        except OutputExistsError as error:
            self.dialogs.error("Save", f"{error.path} already exists and was not replaced.")
            return False
        except OSError as error:
            self.dialogs.error("Save", f"Cannot write {path}: {error.strerror}")
            return False
        self.path = path
        self._saved_state = self.form.state()
        if self._slot is not None:
            self._slot.clear()
        self._draft_state = None
        self.settings.set_folder("save", path)
        self.settings.add_recent("cases", path)
        self.screenings.refresh()
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def import_fhir(self, directory: bool) -> bool:
        """Choose a FHIR record and import it."""
        if not self._keep_or_drop_changes():
            return False
        path = self.dialogs.import_path(self.settings.folder("import"), directory=directory)
        return False if path is None else self.import_path(path, ask=False)

    def import_path(self, path: Path, *, ask: bool = True) -> bool:
        """Import the FHIR record at ``path`` as a new, unsaved screening."""
        if ask and not self._keep_or_drop_changes():
            return False
        try:
            imported = actions.import_fhir_file(path=path)
        except FhirImportError as error:
            where = "".join(f" ({part})" for part in (error.resource, error.field) if part)
            self.dialogs.error("Import FHIR record", f"{error.source}{where}: {error.reason}")
            return False
        self.settings.set_folder("import", path)
        self._replace(imported.document, None, imported.warnings)
        self.statusBar().showMessage(
            f"Imported {imported.label}: {len(imported.warnings)} warning(s). Answer the "
            "screening questions, the substance-use screens and the protocol.")
        return True

    def open_entry(self, entry: ScreeningEntry) -> None:
        """Open an entry of the screening list."""
        if entry.kind == "case":
            self.open_path(Path(entry.key))
        elif entry.kind == "draft" and self.drafts is not None:
            for draft in self.drafts.orphans():
                if str(draft.path) == entry.key:
                    self.restore_draft(draft)
                    return
        elif entry.kind == "record":
            self.open_record(entry.key)
        elif entry.kind == "checklist":
            self.open_signed_file(Path(entry.key))

    def _registered_signer(self, fingerprint: str) -> str | None:
        """Who a signing certificate is registered to in the open records, if any: the
        signatures the app trusts (read-only, no login needed)."""
        if self.store is None:
            return None
        from ketascreen.errors import KetascreenError  # noqa: PLC0415
        from ketascreen.records.certificates import registered_owner  # noqa: PLC0415

        try:
            return registered_owner(self.store, fingerprint)
        except KetascreenError:
            return None

    def open_signed_file(self, path: Path) -> QtPdfPreview | None:
        """Open a signed checklist file: the case it embeds in the form (read-only, under
        "Signed by NAME at TIME (record ID)") and the signed PDF in the preview."""
        if not self._keep_or_drop_changes():
            return None
        try:
            opened = actions.open_signed_checklist(path=path, registered=self._registered_signer)
        except InputFileError as error:
            self.dialogs.error("Open checklist", f"{error.path}: {error.reason}")
            return None
        self._replace(opened.document, None)
        self._saved_state = self.form.state()
        record_id = opened.record_id
        when = opened.signed_at or datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        self.signed_path = path
        self._lock(SignedView(signature_line(opened.signer, when, record_id), record_id,
                              opened.pdf))
        if not opened.verification.ok:
            self.dialogs.error("Open checklist", f"The signature of {path} does not verify: "
                               + "; ".join(opened.verification.problems))
        return self._show_pdf(opened.pdf, path.name, signed=True)

    # -- checklist --------------------------------------------------------------------------

    def _checklist_bytes(self) -> tuple[bytes, bool] | None:
        """The signed checklist of the form as it is, else the unsigned one; ``None`` (after
        saying why) when the form is not a valid case."""
        outcome = self.current_outcome()
        if self.signed_view is not None:
            return self.signed_view.pdf, True
        if (self.signed_path is not None and self._signed_state is not None
                and actions.normalised(self.form.state()) == self._signed_state):
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
                                     import_warnings=self._warning_lines()), False

    def sign(self) -> None:
        """Open the Sign dialog (it explains a refusal instead of signing); refused outright
        when the signed-in user's role may not sign."""
        from ketascreen.ui.qt_sign_dialog import QtSignDialog  # noqa: PLC0415 - pyHanko, lazily

        if self.signed_view is not None:
            self.dialogs.error("Sign", f"This checklist is signed already ({self.signed_view.line})"
                               ". To change it, amend it (File > Amend signed checklist).")
            return
        outcome = self.current_outcome()
        case = actions.case_of(outcome)
        amending = self.amending
        if (amending is not None and amending.patient_id is not None and case is not None
                and case.patient.id != amending.patient_id):
            self.dialogs.error("Sign", f"This form is the amendment of {amending.record_id}, "
                               f"a checklist of patient {amending.patient_id}, but it is now of "
                               f"patient {case.patient.id}. An amendment is of the same "
                               "patient: correct the patient ID, or start a new screening.")
            return
        if self.store is not None and self.actor is not None:
            from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

            try:
                records_actions.require(store=self.store, actor=self.actor,
                                        permission=records_actions.Permission.SIGN)
                existing = None if case is None or self.amending is not None else (
                    records_actions.signed_today(store=self.store, actor=self.actor,
                                                 patient_id=case.patient.id))
            except (PermissionDeniedError, StorageError) as error:
                self._records_error("Sign", error)
                return
            if existing is not None:
                # One signed checklist per patient and day: a change is an amendment.
                text = records_actions.same_day_text(existing=existing)
                if not self.dialogs.offer_amend("Sign", text) or not self._start_amending(
                        existing.record_id, stored=True):
                    self.statusBar().showMessage(f"Not signed: {existing.record_id} was signed "
                                                 "for this patient today (amend it instead).")
                    return
                outcome = self.current_outcome()
        folder = Path(self.settings.folder("checklist") or (
            self.path.parent if self.path else Path.home()))
        name = (f"{case.patient.id}-{case.screening_date.isoformat()}-checklist.pdf"
                if case is not None else "checklist.pdf")
        dialog = QtSignDialog(outcome, self.settings, folder / name, clinic=self.clinic,
                              import_warnings=self._warning_lines(), store=self.store,
                              actor=self.actor, parent=self)
        dialog.accepted.connect(lambda: self._signed(dialog))
        self.sign_dialog = dialog
        dialog.open()

    def _signed(self, dialog: QtSignDialog) -> None:
        signed = dialog.signed
        if signed is None:
            return
        amending = self.amending
        record = None
        if signed.staged is not None:
            # Signed into the records: the PDF is put in place only once its record is
            # committed, so no signed checklist exists without its record.
            record = self._store_signed(signed.staged.temporary, amending)
            if record is None:
                signed.staged.discard()
                self.statusBar().showMessage(
                    f"Signed checklist NOT written to {signed.path}: its record could not be "
                    "stored (see the message)")
                return
            signed.staged.commit()
        self.signed_path = signed.path
        self._signed_state = actions.normalised(self.form.state())
        self.settings.add_recent("checklists", signed.path)
        self.screenings.refresh()
        check = ("signature verified" if signed.verification.ok
                 else "SIGNATURE CHECK FAILED: " + "; ".join(signed.verification.problems))
        replaced = " (replaced a signed document)" if signed.replaced_signed else ""
        if signed.staged is None:
            record = self._store_signed(signed.path, amending)
        note = ("; NOT saved in the records" if self.store is not None and record is None
                else "" if record is None else f"; saved in the records as {record.record_id}")
        if record is None and amending is not None and amending.stored:
            note += f" (the amendment of {amending.record_id} is NOT linked)"
        try:
            pdf = signed.path.read_bytes()
        except OSError:
            pdf = b""
        self._close_signed_preview()
        if record is not None:
            line = record.signature_line()
            amends = record.amends
        else:
            line = signature_line(signed.signer, datetime.now().astimezone(), signed.record_id)
            amends = amending.record_id if amending is not None else None
        self._lock(SignedView(line, signed.record_id, pdf, amends, stored=record is not None))
        self.statusBar().showMessage(f"Signed checklist written: {signed.path} (record "
                                     f"{signed.record_id}; {check}){replaced}{note}")
        if not signed.verification.ok:
            self.dialogs.error("Sign", f"The signed checklist {signed.path} did not verify: "
                               + "; ".join(signed.verification.problems))

    def _store_signed(self, path: Path, amending: Amending | None = None
                      ) -> StoredScreening | None:
        """With a signed-in user, store the signed screening (for the nurses' worklist); with
        ``amending`` a stored record, as its signed amendment. ``None`` when not stored (the
        reason was shown)."""
        screening = self.current_outcome().screening
        if self.store is None or self.actor is None or screening is None:
            return None
        from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        amends = amending.record_id if amending is not None and amending.stored else None
        try:
            stored = records_actions.store_signed(
                store=self.store, actor=self.actor, screening=screening,
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
            self._records_error("Save the signed record", error)
            return None
        self.screenings.refresh()
        return stored

    def show_preview(self) -> QtPdfPreview | None:
        """Preview the checklist (signed if it was signed as the form is now)."""
        found = self._checklist_bytes()
        if found is None:
            return None
        data, signed = found
        name = self.signed_path.name if signed and self.signed_path else "unsigned checklist"
        return self._show_pdf(data, name, signed=signed)

    def _show_pdf(self, data: bytes, name: str, *, signed: bool) -> QtPdfPreview | None:
        from ketascreen.ui.qt_pdf_preview import PdfError, QtPdfPreview  # noqa: PLC0415

        try:
            preview = QtPdfPreview(data, f"Checklist preview \u2014 {name}", signed=signed,
                                   parent=self)
        except PdfError as error:
            self.dialogs.error("Preview", f"Cannot show {name}: {error.status}")
            return None
        self.preview = preview
        preview.show()
        return preview

    def print_checklist(self) -> bool:
        """Print the checklist through the print dialog."""
        from ketascreen.ui.qt_pdf_preview import print_with_dialog  # noqa: PLC0415

        found = self._checklist_bytes()
        return found is not None and print_with_dialog(found[0], self) > 0

    def print_to_pdf(self, path: Path) -> int:
        """Print the checklist through Qt's printing path into a PDF file (no dialog).

        Returns:
            The number of pages printed (0 when the form is not a valid case).
        """
        from ketascreen.ui.qt_pdf_preview import print_pdf_to_file  # noqa: PLC0415

        found = self._checklist_bytes()
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
                                     clinic=self.clinic, import_warnings=self._warning_lines())
        try:
            actions.write_file(path=path, data=data, force=True)  # the dialog confirmed
        except OSError as error:
            self.dialogs.error("Export", f"Cannot write {path}: {error.strerror}")
            return False
        self.statusBar().showMessage(f"Unsigned checklist written: {path}", 5000)
        return True

    # -- records: signing in and the nurse worklist ----------------------------------------

    def open_records(self, *, url: str | None = None) -> bool:
        """Open the records database (``url``, else the one the environment names) and ask who
        is using the app; without a database or a user the app works with files only."""
        from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        self.close_records()
        try:
            store = records_actions.open_store(url=url)
        except StorageError as error:
            self.statusBar().showMessage(f"Records database {error.database} cannot be opened "
                                         f"({error.reason}): working with case files only.")
            return False

        def authenticate(username: str, password: str) -> Actor:
            return records_actions.sign_in(store=store, username=username, password=password)

        actor = self.dialogs.sign_in(authenticate, store.database.name)
        if actor is None:
            store.close()
            self.statusBar().showMessage("Not signed in: working with case files only "
                                         "(Records > Sign in).")
            return False
        self.store, self.actor = store, actor
        if self.worklist not in self.screenings.sources:
            self.screenings.sources.insert(0, self.worklist)
        self.screenings.refresh()
        self._update_record_actions()
        self.statusBar().showMessage(f"Signed in as {actor.display_name} ({actor.role.value})")
        return True

    def close_records(self) -> None:
        """Sign out and close the records database (the app keeps working with files)."""
        if self.store is not None:
            self.store.close()
        self.store = self.actor = self.record = None
        if self.worklist in self.screenings.sources:
            self.screenings.sources.remove(self.worklist)
            self.screenings.refresh()
        self._update_record_actions()

    def sign_out(self) -> bool:
        """Sign out (Records > Sign out, or the status bar's button): close the records
        database; the app works with case files until Records > Sign in."""
        if self.actor is None:
            return False
        name = self.actor.display_name
        self.close_records()
        self.statusBar().showMessage(f"{name} signed out: working with case files only "
                                     "(Records > Sign in).")
        return True

    def _worklist_rows(self) -> list[tuple[str, str, str]]:
        from ketascreen.ui import records_actions  # noqa: PLC0415

        if self.store is None or self.actor is None:
            return []
        items = records_actions.worklist(store=self.store, actor=self.actor)
        return [(*records_actions.describe_item(item=item), item.record_id) for item in items]

    def refresh_worklist(self) -> None:
        """Reload today's signed checklists (and say why when they cannot be read)."""
        self.screenings.refresh()
        if self.worklist.problem is not None:
            self._records_error("Today's signed checklists", self.worklist.problem)

    def _update_record_actions(self) -> None:
        self.session.show_user(None if self.actor is None else self.actor.display_name,
                               None if self.actor is None else self.actor.role.value)
        self.actions_by_name["sign-out"].setEnabled(self.actor is not None)
        may_print = may_check = False
        why_not = ""
        if self.actor is not None:
            from ketascreen.ui import records_actions  # noqa: PLC0415

            permission = records_actions.Permission
            may_print = records_actions.may(actor=self.actor, permission=permission.PRINT)
            may_check = records_actions.may(actor=self.actor, permission=permission.DOUBLE_CHECK)
            if not may_check:
                why_not = (f"The {self.actor.role.value} role does not record the bedside "
                           "double check.")
        opened = self.record is not None
        self.actions_by_name["refresh-worklist"].setEnabled(self.actor is not None)
        self.actions_by_name["print-record"].setEnabled(opened and may_print)
        check = self.actions_by_name["double-check"]
        check.setEnabled(opened and may_check)
        check.setToolTip(why_not)

    def _records_error(self, title: str, error: Exception) -> None:
        """Show a records error from its fields."""
        from ketascreen.ui import records_actions  # noqa: PLC0415

        if isinstance(error, PermissionDeniedError):
            text = records_actions.refusal_text(error=error)
        elif isinstance(error, RecordError):
            text = f"{error.record_id}: {error.reason}" if error.record_id else error.reason
        elif isinstance(error, UserAccountError):
            text = f"{error.user}: {error.reason}"
        elif isinstance(error, StorageError):
            text = f"The records database {error.database} cannot be used: {error.reason}"
        else:
            text = str(error)
        self.dialogs.error(title, text)

    def open_record(self, record_id: str) -> QtPdfPreview | None:
        """Open a signed checklist of the records database: its case in the form (read-only,
        "Signed by ..." above it, the signed dose) and its signed PDF in the preview."""
        from ketascreen.ui import records_actions  # noqa: PLC0415

        if self.store is None or self.actor is None:
            return None
        if not self._keep_or_drop_changes():
            return None
        try:
            opened = records_actions.open_record(store=self.store, actor=self.actor,
                                                 record_id=record_id)
            stored = records_actions.signed_record(store=self.store, actor=self.actor,
                                                   record_id=record_id)
        except (PermissionDeniedError, RecordError, StorageError) as error:
            self._records_error("Open checklist", error)
            return None
        self._replace(json.loads(stored.case_json), None)
        self._saved_state = self.form.state()
        self._lock(SignedView(stored.signature_line(), stored.record_id, opened.pdf,
                              stored.amends, stored=True))
        self.record = opened
        self._update_record_actions()
        patient = opened.item.patient
        preview = self._show_pdf(opened.pdf, f"{patient.name} ({patient.patient_id}) "
                                 f"\u2014 {opened.item.record_id}", signed=True)
        if preview is not None:
            preview.printed.connect(lambda copies: self._record_printed(opened, copies))
        return preview

    def _record_printed(self, opened: OpenedChecklist, copies: int) -> bool:
        from ketascreen.ui import records_actions  # noqa: PLC0415

        if self.store is None or self.actor is None:
            return False
        try:
            records_actions.record_printed(store=self.store, actor=self.actor,
                                           record_id=opened.item.record_id, copies=copies)
        except (PermissionDeniedError, RecordError, StorageError) as error:
            self._records_error("Print", error)
            return False
        self.screenings.refresh()
        self.statusBar().showMessage(f"Printed {opened.item.record_id} ({copies} copies); "
                                     "recorded in the audit trail", 5000)
        return True

    def _may_print_record(self) -> OpenedChecklist | None:
        from ketascreen.ui import records_actions  # noqa: PLC0415

        if self.store is None or self.actor is None or self.record is None:
            return None
        try:
            records_actions.require(store=self.store, actor=self.actor,
                                    permission=records_actions.Permission.PRINT,
                                    record_id=self.record.item.record_id)
        except (PermissionDeniedError, StorageError) as error:
            self._records_error("Print", error)
            return None
        return self.record

    def print_record(self) -> bool:
        """Print the open signed checklist through the print dialog, then record the print."""
        from ketascreen.ui.qt_pdf_preview import print_with_dialog  # noqa: PLC0415

        opened = self._may_print_record()
        if opened is None:
            return False
        copies = print_with_dialog(opened.pdf, self)
        return copies > 0 and self._record_printed(opened, copies)

    def print_record_to_pdf(self, path: Path) -> int:
        """Print the open signed checklist through Qt's printing path into a PDF file (no
        dialog), then record the print.

        Returns:
            The number of pages printed (0 when nothing was printed).
        """
        from ketascreen.ui.qt_pdf_preview import PdfError, print_pdf_to_file  # noqa: PLC0415

        opened = self._may_print_record()
        if opened is None:
            return 0
        try:
            pages = print_pdf_to_file(opened.pdf, path)
        except PdfError as error:
            self.dialogs.error("Print", f"Could not print: {error.status}.")
            return 0
        return pages if self._record_printed(opened, 1) else 0

    def record_double_check(self) -> bool:
        """Ask for the witness and record the bedside double check of the open checklist."""
        from ketascreen.ui import records_actions  # noqa: PLC0415

        if self.store is None or self.actor is None or self.record is None:
            return False
        record_id = self.record.item.record_id
        witness = self.dialogs.witness(record_id)
        if witness is None:
            return False
        try:
            records_actions.record_bedside_check(store=self.store, actor=self.actor,
                                                 record_id=record_id, witness=witness)
        except (PermissionDeniedError, RecordError, StorageError, UserAccountError) as error:
            self._records_error("Bedside double check", error)
            return False
        self.screenings.refresh()
        self.statusBar().showMessage(f"Bedside double check of {record_id} recorded", 5000)
        return True

    # -- window -----------------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        geometry = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.window_state()
        if state is not None:
            self.restoreState(state)
        splitter = self.settings.splitter()
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def save_window_settings(self) -> None:
        """Remember the geometry and pane sizes."""
        self.settings.set_geometry(QByteArray(self.saveGeometry()))
        self.settings.set_window_state(QByteArray(self.saveState()))
        self.settings.set_splitter(QByteArray(self.splitter.saveState()))
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Ask about unsaved changes; on close, drop the draft (the work was saved or
        deliberately discarded)."""
        if not self._keep_or_drop_changes():
            event.ignore()
            return
        self._autosave.stop()
        self._timer.stop()
        if self._slot is not None:
            self._slot.discard()
            self._slot = None
        self.save_window_settings()
        self.close_records()
        event.accept()


def _problems_text(path: Path, problems: tuple[FieldProblem, ...] | list[FieldProblem]) -> str:
    lines = [describe_problem(p, with_field=p.field) for p in problems]
    return f"{path} is not a valid ketascreen case file:\n\n" + "\n".join(lines)
