"""The document the form shows: case files, FHIR imports, the autosaved draft.

Open and save case files (atomically), import FHIR records, ask about unsaved changes, autosave
a draft every few seconds and offer drafts left by a crash. All core work goes through
:mod:`ketascreen.ui.actions`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from ketascreen.errors import CaseValidationError, FhirImportError, FieldProblem
from ketascreen.ui import actions
from ketascreen.ui.qt_case_form import CASE_FORMAT
from ketascreen.ui.widgets import describe_problem

if TYPE_CHECKING:
    from ketascreen.ui.dialogs import Dialogs
    from ketascreen.ui.drafts import Draft, DraftSlot, DraftStore
    from ketascreen.ui.qt_case_form import QtCaseForm
    from ketascreen.ui.qt_result import QtFindings
    from ketascreen.ui.screenings import QtScreeningList
    from ketascreen.ui.settings import AppSettings

AUTOSAVE_INTERVAL_MS = 5000


def new_document() -> dict[str, Any]:
    """The document of a new screening: today's date and nothing else."""
    return {"format": CASE_FORMAT, "screening_date": date.today().isoformat()}


class DocumentController(QObject):
    """Opens, saves, imports and autosaves the document of the form.

    Args:
        form: the case form.
        findings: the findings panel (it lists the import warnings).
        screenings: the screening list (refreshed when its recent files change).
        settings: the app's settings (folders, recent files).
        drafts: the drafts folder; ``None`` disables autosave.
        dialogs: the questions asked (the window replaces them in tests).
        autosave_ms: how often the draft is autosaved.

    Signals:
        replacing(bool): the form is about to show another document; the argument is false
            for a restored draft (the checklist signed from the form may still be it).
        replaced: the form shows the new document (screen it).
        title_changed: the file or the saved state changed (the window title follows).
        draft_saved: the draft was autosaved.
        draft_offered(str): a draft left by a crash is offered (the text says which).
        draft_offer_closed: the offer was taken up or discarded.
        message(str, int): a status-bar message and its timeout in ms (0: until replaced).
    """

    replacing = Signal(bool)
    replaced = Signal()
    title_changed = Signal()
    draft_saved = Signal()
    draft_offered = Signal(str)
    draft_offer_closed = Signal()
    message = Signal(str, int)

    def __init__(self, *, form: QtCaseForm, findings: QtFindings, screenings: QtScreeningList,
                 settings: AppSettings, drafts: DraftStore | None, dialogs: Dialogs,
                 autosave_ms: int = AUTOSAVE_INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.form = form
        self.findings = findings
        self.screenings = screenings
        self.settings = settings
        self.drafts = drafts
        self.dialogs = dialogs
        self.path: Path | None = None
        self.import_warnings: tuple[tuple[str, str, str | None], ...] = ()
        self.saved_state: dict[str, Any] | None = None
        self._draft_state: dict[str, Any] | None = None
        self._slot: DraftSlot | None = drafts.claim() if drafts is not None else None
        self._offered: Draft | None = None
        self._autosave = QTimer(self)
        self._autosave.setInterval(autosave_ms)
        self._autosave.timeout.connect(self.autosave_now)
        if drafts is not None:
            self._autosave.start()

    # -- state, title, drafts ---------------------------------------------------------------

    def is_modified(self) -> bool:
        """Whether the form differs from the case file it came from (or from a new form)."""
        return actions.normalised(self.form.state()) != actions.normalised(
            self.saved_state or {})

    def mark_saved(self) -> None:
        """The form as it is now is the saved state (a new form, or a signed case opened)."""
        self.saved_state = self.form.state()

    def title(self) -> str:
        """The window title: the patient label and the file."""
        where = self.path.name if self.path else "not saved"
        return f"ketascreen \u2014 {self.form.label()} \u2014 {where}[*]"

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
            self.message.emit(f"Draft not autosaved: {error.strerror}", 0)
            return False
        self._draft_state = state
        self.message.emit("Draft autosaved", 3000)
        self.draft_saved.emit()
        return True

    def warning_lines(self) -> tuple[str, ...]:
        """The import warnings as the checklist prints them."""
        return tuple(f"{code}: {message}" + (f" [{resource}]" if resource else "")
                     for code, message, resource in self.import_warnings)

    def offer_draft(self) -> None:
        """Offer the first draft left by a crash (:attr:`draft_offered`)."""
        if self.drafts is None:
            return
        orphans = self.drafts.orphans()
        if not orphans:
            return
        self._offered = draft = orphans[0]
        more = f" ({len(orphans) - 1} more in the list on the left)" if len(orphans) > 1 else ""
        self.draft_offered.emit(
            f"<b>Unsaved screening found:</b> {draft.label}, autosaved "
            f"{draft.saved_at:%Y-%m-%d %H:%M}. The program closed without saving it "
            f"(a crash or power loss?){more}.")

    def restore_offered(self) -> bool:
        """Restore the draft offered."""
        return self._offered is not None and self.restore_draft(self._offered)

    def discard_offered(self) -> None:
        """Discard the draft offered."""
        if self._offered is not None and self.drafts is not None:
            self.drafts.discard(self._offered)
        self._offered = None
        self.draft_offer_closed.emit()
        self.screenings.refresh()

    def restore_draft(self, draft: Draft) -> bool:
        """Show a draft left by a crash; its autosave continues in the same draft file."""
        if self.drafts is None or not self.keep_or_drop_changes():
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
        self.replacing.emit(False)
        self.form.load(draft.state)
        self.saved_state = None  # a restored draft is unsaved work
        self._draft_state = draft.state
        self.draft_offer_closed.emit()
        self._offered = None
        self.screenings.refresh()
        self.replaced.emit()
        self.message.emit(f"Draft restored: {draft.label}", 5000)
        return True

    def restore_draft_at(self, key: str) -> bool:
        """Restore the draft left by a crash whose file is ``key`` (an entry of the list)."""
        if self.drafts is None:
            return False
        for draft in self.drafts.orphans():
            if str(draft.path) == key:
                return self.restore_draft(draft)
        return False

    def close(self) -> None:
        """The window closes: stop autosaving and drop the draft (the work was saved or
        deliberately discarded)."""
        self._autosave.stop()
        if self._slot is not None:
            self._slot.discard()
            self._slot = None

    # -- files ------------------------------------------------------------------------------

    def keep_or_drop_changes(self) -> bool:
        """Ask about unsaved changes; True when the caller may replace the form."""
        if not self.is_modified():
            return True
        answer = self.dialogs.ask_unsaved(self.form.label())
        if answer == "cancel":
            return False
        if answer == "save":
            return self.save()
        return True

    def replace(self, document: dict[str, Any], path: Path | None,
                warnings: tuple[tuple[str, str, str | None], ...] = ()) -> None:
        """Show ``document`` (from ``path``, or unsaved) in the form and screen it."""
        if self._slot is not None:
            self._slot.clear()
        self._draft_state = None
        self.path = path
        self.import_warnings = warnings
        self.replacing.emit(True)
        self.form.load(document)
        self.saved_state = self.form.state() if path is not None else None
        self.findings.show_import_warnings(warnings)
        self.replaced.emit()

    def new_screening(self) -> bool:
        """Start an empty screening (asking about unsaved changes first)."""
        if not self.keep_or_drop_changes():
            return False
        self.replace(new_document(), None)
        self.mark_saved()
        self.title_changed.emit()
        self.form.patient.patient_id.setFocus()
        return True

    def open_case(self) -> bool:
        """Choose a case file and open it."""
        if not self.keep_or_drop_changes():
            return False
        path = self.dialogs.open_path(self.settings.folder("open"))
        return False if path is None else self.open_path(path, ask=False)

    def open_path(self, path: Path, *, ask: bool = True) -> bool:
        """Open the case file ``path``; refuse it if the form could not show it losslessly."""
        if ask and not self.keep_or_drop_changes():
            return False
        try:
            opened = actions.open_case_file(path=path)
        except CaseValidationError as error:
            self.dialogs.error("Open case file", problems_text(path, error.problems))
            return False
        previous = (self.form.state(), self.path, self.saved_state)
        self.replace(opened.document, path)
        if actions.normalised(self.form.document()) != actions.normalised(opened.document):
            # The form cannot show something the file holds (an unknown key, a value of the
            # wrong type): refuse rather than silently drop it on the next save.
            state, old_path, saved = previous
            self.replace(state, old_path)
            self.saved_state = saved
            self.title_changed.emit()
            self.dialogs.error("Open case file", problems_text(path, opened.problems) + (
                "\n\nThe file cannot be shown in the form without losing what it holds; "
                "correct it in a text editor."))
            return False
        self.settings.set_folder("open", path)
        self.settings.add_recent("cases", path)
        self.screenings.refresh()
        if opened.problems:
            self.message.emit(
                f"Opened {path.name}: {len(opened.problems)} problem(s) marked on the form", 0)
        else:
            self.message.emit(f"Opened {path.name}", 5000)
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
        self.saved_state = self.form.state()
        if self._slot is not None:
            self._slot.clear()
        self._draft_state = None
        self.settings.set_folder("save", path)
        self.settings.add_recent("cases", path)
        self.screenings.refresh()
        self.title_changed.emit()
        self.message.emit(f"Saved {path}", 5000)
        return True

    def import_fhir(self, directory: bool) -> bool:
        """Choose a FHIR record and import it."""
        if not self.keep_or_drop_changes():
            return False
        path = self.dialogs.import_path(self.settings.folder("import"), directory=directory)
        return False if path is None else self.import_path(path, ask=False)

    def import_path(self, path: Path, *, ask: bool = True) -> bool:
        """Import the FHIR record at ``path`` as a new, unsaved screening."""
        if ask and not self.keep_or_drop_changes():
            return False
        try:
            imported = actions.import_fhir_file(path=path)
        except FhirImportError as error:
            where = "".join(f" ({part})" for part in (error.resource, error.field) if part)
            self.dialogs.error("Import FHIR record", f"{error.source}{where}: {error.reason}")
            return False
        self.settings.set_folder("import", path)
        self.replace(imported.document, None, imported.warnings)
        self.message.emit(
            f"Imported {imported.label}: {len(imported.warnings)} warning(s). Answer the "
            "screening questions, the substance-use screens and the protocol.", 0)
        return True


def problems_text(path: Path, problems: tuple[FieldProblem, ...] | list[FieldProblem]) -> str:
    """Why the case file ``path`` is not valid, one problem a line."""
    lines = [describe_problem(p, with_field=p.field) for p in problems]
    return f"{path} is not a valid ketascreen case file:\n\n" + "\n".join(lines)
