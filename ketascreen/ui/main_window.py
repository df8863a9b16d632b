"""The main window: the screening list, the form, the decision banner, findings and dose; or,
for a nurse, the bedside page.

The window keeps the widgets and the menus and connects them to its controllers
(:mod:`ketascreen.ui.controllers`): the document (open, save, import, autosave, drafts), the
checklist (screen the form, show a signed one read-only, preview, print, export), signing (sign,
amend), the records session (sign in and out, today's signed checklists, printing), the bedside
(the nurse's worklist, the blinded double check, the countersignature) and the course view (its
menu entries are the course controller's, built when first used). The methods and attributes
below that the menus and tests use are the controllers', passed through.

The app is shaped by the role signed in. A nurse opens on the bedside page; the physician's
page (the form, the findings with their Acknowledge buttons, the signed bar with Amend) is not
shown to her, and the physician's menu entries (new, open, save, import, sign, amend, the form's
preview, print and export, start a course, go to the form or the findings) are hidden and
disabled, so neither a click nor a shortcut reaches them. Signing out, or a physician signing
in, gives the physician's page and menus back.

Shell first: ``MainWindow(..., shell_first=True)`` builds only the frame (title, size, the menu
bar's titles, a line saying what is loading), so the window paints before the core (pint,
pydantic, the rule set), the records database and the case are loaded; :meth:`MainWindow.
finish_start` then builds the rest. This module imports no part of the core itself: the
controllers and widgets are imported by :meth:`MainWindow.finish_start`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ketascreen.ui.dialogs import Dialogs
from ketascreen.ui.qt_session import QtSessionStatus
from ketascreen.ui.settings import AppSettings

if TYPE_CHECKING:
    from ketascreen.ui.actions import FormScreening
    from ketascreen.ui.controllers.checklist import Amending, SignedView
    from ketascreen.ui.controllers.course import CourseController
    from ketascreen.ui.drafts import Draft, DraftStore
    from ketascreen.ui.qt_double_check import QtCountersignDialog, QtDoubleCheckDialog
    from ketascreen.ui.qt_pdf_preview import QtPdfPreview
    from ketascreen.ui.qt_sign_dialog import QtSignDialog
    from ketascreen.ui.records_actions import (
        Actor,
        OpenedChecklist,
        RecordStore,
        StoredScreening,
    )
    from ketascreen.ui.screenings import ScreeningEntry, TodaysChecklists

PHYSICIAN_ONLY = ("new", "open", "save", "save-as", "import", "import-folder", "sign", "amend",
                  "preview", "print", "export", "start-course", "form", "findings")
"""The menu entries a nurse does not see (hidden and disabled: no shortcut reaches them)."""
MENUS = (("file", "&File"), ("records", "&Records"), ("go", "&Go"), ("help", "&Help"))
"""The menu bar's menus, shown from the first paint (their entries come with the core)."""
_LAZY = {"AUTOSAVE_INTERVAL_MS": "document", "new_document": "document",
         "RESCREEN_DELAY_MS": "checklist", "Amending": "checklist", "SignedView": "checklist",
         "signature_line": "checklist"}

__all__ = ["MENUS", "PHYSICIAN_ONLY", "MainWindow"]  # and, imported on first use, _LAZY's


def __getattr__(name: str) -> Any:
    """The controllers' names this module re-exports, imported on first use (PEP 562)."""
    if name in _LAZY:
        import importlib  # noqa: PLC0415

        module = importlib.import_module(f"ketascreen.ui.controllers.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
        shell_first: build only the frame; :meth:`finish_start` builds the rest (see the
            module).
        unattended: a window no one uses (a screenshot): it takes no input, so the wheel
            policy (:mod:`ketascreen.ui.wheel_guard`) is not installed for it, and it does not
            remember its geometry when closed.

    Signals:
        screened: a screening of the form finished (the outcome is in :attr:`outcome`).
        draft_saved: the draft was autosaved.
    """

    screened = Signal()
    draft_saved = Signal()

    def __init__(self, settings: AppSettings, *, drafts: DraftStore | None,
                 dialogs: Dialogs | None = None, autosave_ms: int | None = None,
                 clinic: str | None = None, records: str | None = None,
                 shell_first: bool = False, unattended: bool = False) -> None:
        super().__init__()
        self.settings = settings
        self.drafts = drafts
        self.clinic = clinic
        self.ready = False
        """Whether the whole window is built (:meth:`finish_start` ran)."""
        self._start = (dialogs, autosave_ms, records)
        self._unattended = unattended
        self._closed = False
        self._course: CourseController | None = None  # built on first use: see course
        self.setWindowTitle("ketascreen")
        self.resize(1400, 900)
        bar = self.menuBar()
        self._menus = {name: bar.addMenu(title) for name, title in MENUS}
        self.statusBar()  # made now, so the finished window does not shift under the user
        self.loading = QLabel("Loading the rule set...", self)
        self.loading.setObjectName("loading")
        self.loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(self.loading)
        geometry = settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if not shell_first:
            self.finish_start()

    def finish_start(self) -> bool:
        """Build the rest of the window: import the controllers and widgets (and with them the
        core), install the wheel policy, screen the new form, offer a draft and open the records
        database if one was given. Does nothing if already built or closed; True if the window
        is built."""
        if self.ready or self._closed:
            return self.ready
        from ketascreen.ui.controllers.bedside import BedsideController  # noqa: PLC0415
        from ketascreen.ui.controllers.checklist import ChecklistController  # noqa: PLC0415
        from ketascreen.ui.controllers.document import (  # noqa: PLC0415
            AUTOSAVE_INTERVAL_MS,
            DocumentController,
            new_document,
        )
        from ketascreen.ui.controllers.session import SessionController  # noqa: PLC0415
        from ketascreen.ui.controllers.signing import SigningController  # noqa: PLC0415
        from ketascreen.ui.qt_bedside import QtBedside  # noqa: PLC0415
        from ketascreen.ui.qt_case_form import QtCaseForm  # noqa: PLC0415
        from ketascreen.ui.qt_dose import QtDoseOutcome  # noqa: PLC0415
        from ketascreen.ui.qt_result import QtDecision, QtFindings  # noqa: PLC0415
        from ketascreen.ui.qt_signed_bar import QtSignedBar  # noqa: PLC0415
        from ketascreen.ui.screenings import (  # noqa: PLC0415
            QtScreeningList,
            RecentCases,
            RecoveredDrafts,
            SignedChecklists,
        )
        from ketascreen.ui.wheel_guard import install_wheel_guard  # noqa: PLC0415

        given_dialogs, autosave_ms, records = self._start
        settings, drafts, clinic = self.settings, self.drafts, self.clinic
        dialogs = given_dialogs or Dialogs(self)
        self.signed_bar = QtSignedBar(self)
        self.decision = QtDecision(self)
        self.findings = QtFindings(self)
        self.dose = QtDoseOutcome(self)
        self.form = QtCaseForm(new_document(), self)
        self.screenings = QtScreeningList(
            [RecoveredDrafts(drafts), RecentCases(settings), SignedChecklists(settings)], self)

        self.document = DocumentController(
            form=self.form, findings=self.findings, screenings=self.screenings,
            settings=settings, drafts=drafts, dialogs=dialogs,
            autosave_ms=AUTOSAVE_INTERVAL_MS if autosave_ms is None else autosave_ms,
            parent=self)
        self.records_session = SessionController(screenings=self.screenings, dialogs=dialogs,
                                                 window=self)
        self.bedside_page = QtBedside(self)
        self.bedside = BedsideController(page=self.bedside_page, session=self.records_session,
                                         dialogs=dialogs, settings=settings, window=self)
        self._role_shown: tuple[str, str] | None = None
        self.checklist = ChecklistController(
            form=self.form, decision=self.decision, findings=self.findings, dose=self.dose,
            signed_bar=self.signed_bar, document=self.document, session=self.records_session,
            dialogs=dialogs, window=self, clinic=clinic)
        self.signing = SigningController(checklist=self.checklist, document=self.document,
                                         session=self.records_session, dialogs=dialogs,
                                         window=self)
        self._dialogs = dialogs

        self.signed_bar.amend_requested.connect(self.amend)
        self.screenings.activated.connect(self.open_entry)
        self._build_layout()
        self._build_menus()
        self._connect()
        if not self._unattended:
            # Now, not earlier: the widgets' construction sends some thousand events that an
            # application-wide filter would each take into Python; no input reaches them before
            # this (the next lines may open dialogs, with their own event loops).
            install_wheel_guard()
        self.ready = True
        self.document.mark_saved()
        self.rescreen_now()
        self._restore_geometry()
        self.document.offer_draft()
        if records is not None:
            self.open_records(url=records)
        return True

    def _connect(self) -> None:
        document, checklist, session = self.document, self.checklist, self.records_session
        for controller in (document, checklist, self.signing, session, self.bedside):
            controller.message.connect(self._show_message)
        session.recorded.connect(self._bedside_recorded)
        document.replacing.connect(checklist.leave)
        document.replaced.connect(self.rescreen_now)
        document.title_changed.connect(self._update_title)
        document.draft_saved.connect(self.draft_saved)
        document.draft_offered.connect(self._offer_draft)
        document.draft_offer_closed.connect(self.draft_bar.hide)
        session.changed.connect(self._update_record_actions)
        session.rules_changed.connect(self.rescreen_now)
        checklist.screened.connect(self._screened)
        self.form.edited.connect(self._update_title)
        self.form.edited.connect(checklist.edited)
        self.findings.acknowledge_requested.connect(self.form.acknowledge)
        self.findings.withdraw_requested.connect(self.form.withdraw)

    # -- layout -----------------------------------------------------------------------------
    def _build_layout(self) -> None:
        """Two pages: the physician's (the form) and the nurse's (the bedside)."""
        self.physician_page = self._build_physician_page()
        self.pages = QStackedWidget(self)
        self.pages.setObjectName("pages")
        self.pages.addWidget(self.physician_page)
        self.pages.addWidget(self.bedside_page)
        self.setCentralWidget(self.pages)  # replaces (and deletes) the loading line
        self.resize(1400, 900)

    def _build_physician_page(self) -> QWidget:
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
        self.restore_button.clicked.connect(self.document.restore_offered)
        self.discard_button = QPushButton("Discard draft", self.draft_bar)
        self.discard_button.setObjectName("discard-draft")
        self.discard_button.clicked.connect(self.document.discard_offered)
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
        return central

    def _action(self, menu_name: str, text: str,
                shortcut: QKeySequence | QKeySequence.StandardKey | str, slot: Any) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setObjectName(menu_name)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        file_menu = self._menus["file"]
        self.actions_by_name: dict[str, QAction] = {}
        entries: list[tuple[str, str, QKeySequence.StandardKey | str, Any] | None] = [
            ("new", "&New screening", QKeySequence.StandardKey.New, self.new_screening),
            ("open", "&Open case or course file...", QKeySequence.StandardKey.Open,
             self.open_case),
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
        records = self._menus["records"]
        for name, text, shortcut, slot in (
                ("sign-in", "&Sign in to records...", "Ctrl+Shift+L",
                 lambda: self.open_records(url=None)),
                ("sign-out", "Sign &out", "", self.sign_out),
                ("refresh-worklist", "&Refresh today's checklists", "F5", self.refresh_worklist),
                ("print-record", "&Print open checklist...", "Ctrl+Shift+R", self.print_record),
                ("double-check", "Independent bedside &double check...", "Ctrl+D",
                 self.double_check),
                ("countersign", "Cou&ntersign the bedside copy...", "", self.countersign),
                ("patient-courses", "Co&urses of this patient", "",
                 self._courses_of_open_patient),
                ("start-course", "Start a &course from this screening", "",
                 self._start_course)):
            action = self._action(name, text, shortcut, slot)
            records.addAction(action)
            self.actions_by_name[name] = action
        self._update_record_actions()
        go = self._menus["go"]
        find = self._action("find", "&Find patient", "Ctrl+L", self._focus_filter)
        form = self._action("form", "Go to the f&orm", "Ctrl+1",
                            self.form.patient.patient_id.setFocus)
        findings = self._action("findings", "Go to the f&indings", "Ctrl+2",
                                self._focus_findings)
        course = self._action("course", "Go to the &course view", "Ctrl+3",
                              self._show_course)
        for action in (find, form, findings, course):
            go.addAction(action)
            self.actions_by_name[action.objectName()] = action
        help_menu = self._menus["help"]
        about = self._action("about", "&About ketascreen", "", self.show_about)
        help_menu.addAction(about)
        self.actions_by_name["about"] = about
        self.about: QMessageBox | None = None

    def show_about(self) -> QMessageBox:
        """Help > About: the app, rule-set, policy, formulary and knowledge-base versions (of
        the rule set that screened the form)."""
        screening = None if self.outcome is None else self.outcome.screening
        from ketascreen.ui.about import about_box  # noqa: PLC0415

        box = about_box(self, None if screening is None else screening.rules)
        self.about = box
        box.open()
        return box

    def _focus_filter(self) -> None:
        if self.nurse_layout():
            self.bedside_page.table.setFocus()
            return
        self.screenings.filter.setFocus()
        self.screenings.filter.selectAll()

    # The course entries: the controller is built when one is first chosen (see course).
    def _courses_of_open_patient(self) -> bool:
        return self.course.courses_of_open_patient()

    def _start_course(self) -> bool:
        return self.course.start_from_open_screening()

    def _show_course(self) -> bool:
        return self.course.show_window()

    def _focus_findings(self) -> None:
        rows = self.findings.finding_rows()
        if rows:
            rows[0].expander.setFocus()


    def _show_message(self, text: str, timeout: int) -> None:
        self.statusBar().showMessage(text, timeout)

    def _offer_draft(self, text: str) -> None:
        self.draft_text.setText(text)
        self.draft_bar.show()

    def _update_title(self) -> None:
        self.setWindowTitle(self.document.title())
        self.setWindowModified(self.document.is_modified())

    def _screened(self) -> None:
        """A screening finished: the menus follow it (sign or amend, and why not sign)."""
        view = self.checklist.signed_view
        from ketascreen.ui import actions  # noqa: PLC0415 - loaded with the core

        self.actions_by_name["sign"].setToolTip(
            actions.signing_refusal(outcome=self.checklist.outcome) or "")
        self.actions_by_name["amend"].setEnabled(view is not None)
        self.actions_by_name["sign"].setEnabled(view is None)
        self._update_record_actions()
        self._update_title()
        self.screened.emit()

    def _update_record_actions(self) -> None:
        actor, record = self.actor, self.record
        self.session.show_user(None if actor is None else actor.display_name,
                               None if actor is None else actor.role.value)
        self.actions_by_name["sign-out"].setEnabled(actor is not None)
        may_print, may_check, why_not = self.records_session.permissions()
        opened = record is not None
        self.actions_by_name["refresh-worklist"].setEnabled(actor is not None)
        self.actions_by_name["print-record"].setEnabled(opened and may_print)
        # No one signed in: neither course entry is offered (CourseController.offered), and
        # the course controller need not be built to say so.
        patient_courses, start_course = (False, False) if actor is None else self.course.offered()
        self.actions_by_name["patient-courses"].setEnabled(patient_courses)
        self.actions_by_name["start-course"].setEnabled(start_course)
        check = self.actions_by_name["double-check"]
        check.setEnabled(opened and may_check)
        check.setToolTip(why_not)
        countersign = self.actions_by_name["countersign"]
        countersign.setEnabled(may_check and self.bedside.countersign_refusal() is None)
        countersign.setToolTip(why_not or self.bedside.countersign_refusal() or "")
        self._apply_role()

    def _bedside_recorded(self) -> None:
        """A print was recorded: the nurse's table shows the new count."""
        if self.nurse_layout():
            self.bedside.refresh()

    def nurse_layout(self) -> bool:
        """Whether the bedside page is shown (a nurse is signed in)."""
        actor = self.actor
        return actor is not None and actor.role.value == "nurse"

    def _apply_role(self) -> None:
        """Show the page and the menu entries of the role signed in (see the module)."""
        nurse = self.nurse_layout()
        for name in PHYSICIAN_ONLY:
            action = self.actions_by_name.get(name)  # the Go menu is built after Records
            if action is None:
                continue
            action.setVisible(not nurse)
            if nurse:
                action.setEnabled(False)
        if "about" not in self.actions_by_name:
            return  # the menus are still being built
        actor = self.actor
        shown = None if actor is None else (actor.username, actor.role.value)
        if shown == self._role_shown:
            return
        self._role_shown = shown
        if nurse:
            self.checklist.close_signed_preview()
            self.pages.setCurrentWidget(self.bedside_page)
            self.bedside.refresh()
            self.bedside_page.table.setFocus()
        else:
            self.bedside.clear()
            self.pages.setCurrentWidget(self.physician_page)
            for name in PHYSICIAN_ONLY:
                self.actions_by_name[name].setEnabled(True)
            self.actions_by_name["amend"].setEnabled(self.checklist.signed_view is not None)
            self.actions_by_name["sign"].setEnabled(self.checklist.signed_view is None)
            self.actions_by_name["start-course"].setEnabled(self.course.offered()[1])

    # -- the controllers' state ---------------------------------------------------------------

    @property
    def dialogs(self) -> Dialogs:
        """The questions the window asks (tests replace them with a fake)."""
        return self._dialogs

    @dialogs.setter
    def dialogs(self, dialogs: Dialogs) -> None:
        self._dialogs = dialogs
        if not self.ready:
            _, autosave_ms, records = self._start
            self._start = (dialogs, autosave_ms, records)
            return
        for controller in (self.document, self.checklist, self.signing, self.records_session,
                           self._course, self.bedside):
            if controller is not None:
                controller.dialogs = dialogs

    @property
    def course(self) -> CourseController:
        """The course view's controller (a course file, or a course of the records), built on
        first use: a session that opens no course does not import the course modules."""
        if self._course is None:
            from ketascreen.ui.controllers.course import CourseController  # noqa: PLC0415

            self._course = CourseController(dialogs=self._dialogs, window=self,
                                            rule_set=self.records_session.rule_set,
                                            session=self.records_session,
                                            settings=self.settings, clinic=self.clinic,
                                            checklist=self.checklist, open_file=self.open_case)
            self._course.message.connect(self._show_message)
        return self._course

    @property
    def path(self) -> Path | None:
        """The case file the form came from (``None``: not saved)."""
        return self.document.path

    @property
    def import_warnings(self) -> tuple[tuple[str, str, str | None], ...]:
        """(code, message, resource) of the FHIR import warnings of the form."""
        return self.document.import_warnings

    @property
    def outcome(self) -> FormScreening | None:
        """The last screening of the form."""
        return self.checklist.outcome

    @property
    def pending(self) -> bool:
        """Whether an edit is waiting to be screened."""
        return self.checklist.pending

    @property
    def signed_path(self) -> Path | None:
        """The signed checklist file last written or opened for the form."""
        return self.checklist.signed_path

    @property
    def signed_view(self) -> SignedView | None:
        """The signed checklist the read-only form shows, or ``None``."""
        return self.checklist.signed_view

    @property
    def amending(self) -> Amending | None:
        """The signed checklist the form is amending, or ``None``."""
        return self.checklist.amending

    @property
    def preview(self) -> QtPdfPreview | None:
        """The checklist preview open beside the form, or ``None``."""
        return self.checklist.preview

    @property
    def sign_dialog(self) -> QtSignDialog | None:
        """The Sign dialog last opened, or ``None``."""
        return self.signing.sign_dialog

    @sign_dialog.setter
    def sign_dialog(self, dialog: QtSignDialog | None) -> None:
        self.signing.sign_dialog = dialog

    @property
    def store(self) -> RecordStore | None:
        """The records database signed in to, or ``None``."""
        return self.records_session.store

    @property
    def actor(self) -> Actor | None:
        """The user signed in to the records, or ``None``."""
        return self.records_session.actor

    @property
    def record(self) -> OpenedChecklist | None:
        """The signed checklist of the records the form shows, or ``None``."""
        return self.records_session.record

    @property
    def worklist(self) -> TodaysChecklists:
        """Today's signed checklists (listed while someone is signed in)."""
        return self.records_session.worklist

    # -- what the menus and the lists do ------------------------------------------------------

    def rescreen_now(self) -> FormScreening:
        """Screen the form now and show the outcome everywhere."""
        return self.checklist.rescreen_now()

    def current_outcome(self) -> FormScreening:
        """The outcome of the form as it is now (screening first if an edit is pending)."""
        return self.checklist.current_outcome()

    def is_modified(self) -> bool:
        """Whether the form differs from the case file it came from (or from a new form)."""
        return self.document.is_modified()

    def autosave_now(self) -> bool:
        """Write the draft if the form changed since the last draft; True if written."""
        return self.document.autosave_now()

    def restore_draft(self, draft: Draft) -> bool:
        """Show a draft left by a crash; its autosave continues in the same draft file."""
        return self.document.restore_draft(draft)

    def new_screening(self) -> bool:
        """Start an empty screening (asking about unsaved changes first)."""
        return self.document.new_screening()

    def open_case(self) -> bool:
        """Choose a case or course file and open it (a course in the course view)."""
        path = self._dialogs.open_path(self.settings.folder("open"))
        return False if path is None else self.open_path(path)

    def open_path(self, path: Path, *, ask: bool = True) -> bool:
        """Open the case file ``path`` (refused if the form could not show it losslessly), or
        the ``ketascreen-course/1`` file ``path`` in the course view (the form is left as it
        is, so nothing is asked about its changes)."""
        from ketascreen.ui.actions.files import is_course_file  # noqa: PLC0415

        if is_course_file(path):
            return self.course.open_path(path)
        return self.document.open_path(path, ask=ask)

    def save(self) -> bool:
        """Save to the open case file (replacing it atomically), or ask where."""
        return self.document.save()

    def save_as(self) -> bool:
        """Choose a file and save the case to it."""
        return self.document.save_as()

    def save_to(self, path: Path, *, force: bool) -> bool:
        """Save the case to ``path`` (a case that is not valid yet is refused)."""
        return self.document.save_to(path, force=force)

    def import_fhir(self, directory: bool) -> bool:
        """Choose a FHIR record and import it."""
        return self.document.import_fhir(directory)

    def import_path(self, path: Path, *, ask: bool = True) -> bool:
        """Import the FHIR record at ``path`` as a new, unsaved screening."""
        return self.document.import_path(path, ask=ask)

    def open_entry(self, entry: ScreeningEntry) -> None:
        """Open an entry of the screening list."""
        if entry.kind == "case":
            self.open_path(Path(entry.key))
        elif entry.kind == "draft":
            self.document.restore_draft_at(entry.key)
        elif entry.kind == "record":
            self.open_record(entry.key)
        elif entry.kind == "checklist":
            self.open_signed_file(Path(entry.key))

    def open_signed_file(self, path: Path) -> QtPdfPreview | None:
        """Open a signed checklist file, read-only, and preview it."""
        return self.checklist.open_signed_file(path)

    def open_record(self, record_id: str) -> QtPdfPreview | None:
        """Open a signed checklist of the records database, read-only, and preview it."""
        return self.checklist.open_record(record_id)

    def sign(self) -> None:
        """Open the Sign dialog (it explains a refusal instead of signing)."""
        self.signing.sign()

    def amend(self) -> bool:
        """Amend the signed checklist shown (asking for a typed reason)."""
        return self.signing.amend()

    def _lock(self, view: SignedView) -> None:
        self.checklist.lock(view)

    def _store_signed(self, path: Path, amending: Amending | None = None
                      ) -> StoredScreening | None:
        return self.signing.store_signed(path, amending)

    def show_preview(self) -> QtPdfPreview | None:
        """Preview the checklist (signed if it was signed as the form is now)."""
        return self.checklist.show_preview()

    def print_checklist(self) -> bool:
        """Print the checklist through the print dialog."""
        return self.checklist.print_checklist()

    def print_to_pdf(self, path: Path) -> int:
        """Print the checklist into a PDF file (no dialog); the number of pages printed."""
        return self.checklist.print_to_pdf(path)

    def export_unsigned(self) -> bool:
        """Save the unsigned checklist as a PDF (e.g. to document a DO NOT INFUSE decision)."""
        return self.checklist.export_unsigned()

    def open_records(self, *, url: str | None = None) -> bool:
        """Open the records database and ask who is using the app."""
        return self.records_session.open_records(url=url)

    def close_records(self) -> None:
        """Sign out and close the records database (the app keeps working with files)."""
        self.records_session.close_records()

    def sign_out(self) -> bool:
        """Sign out (Records > Sign out, or the status bar's button)."""
        return self.records_session.sign_out()

    def refresh_worklist(self) -> None:
        """Reload today's signed checklists (and say why when they cannot be read)."""
        if self.nurse_layout():
            self.bedside.refresh()
            return
        self.records_session.refresh_worklist()

    def print_record(self) -> bool:
        """Print the open signed checklist through the print dialog, then record the print."""
        return self.records_session.print_record()

    def print_record_to_pdf(self, path: Path) -> int:
        """Print the open signed checklist into a PDF file (no dialog), then record it."""
        return self.records_session.print_record_to_pdf(path)

    def double_check(self) -> QtDoubleCheckDialog | None:
        """Open the blinded independent double check of the open checklist."""
        return self.bedside.double_check()

    def countersign(self) -> QtCountersignDialog | None:
        """Countersign the bedside copy of the open checklist (after its double check)."""
        return self.bedside.countersign()

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
        deliberately discarded). Closed before it was built, the window just closes."""
        if not self.ready:
            self._closed = True
            event.accept()
            return
        if not self.document.keep_or_drop_changes():
            event.ignore()
            return
        self.document.close()
        self.checklist.stop()
        if not self._unattended:  # a screenshot's window leaves no settings behind
            self.save_window_settings()
        self.records_session.close_database()
        event.accept()
