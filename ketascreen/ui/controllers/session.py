"""The records session: who is signed in, today's signed checklists, the open record.

Signed in to the records database, the app lists today's signed checklists (the nurse
worklist) and prints the open one (the bedside double check and the countersignature are the
bedside controller's, :mod:`ketascreen.ui.controllers.bedside`). All records work goes through
:mod:`ketascreen.ui.records_actions` (imported lazily: SQLAlchemy is slow to load).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ketascreen.errors import (
    PermissionDeniedError,
    RecordError,
    StorageError,
    UserAccountError,
)
from ketascreen.ui import actions
from ketascreen.ui.screenings import TodaysChecklists

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtWidgets import QWidget

    from ketascreen.rules import RuleSet
    from ketascreen.ui.dialogs import Dialogs
    from ketascreen.ui.records_actions import Actor, OpenedChecklist, RecordStore
    from ketascreen.ui.screenings import QtScreeningList


class SessionController(QObject):
    """Signs in to and out of the records database and works on its signed checklists.

    Args:
        screenings: the screening list (today's signed checklists are listed first in it).
        dialogs: the questions asked (the window replaces them in tests).
        window: the parent of the print dialog.

    Signals:
        changed: someone signed in or out, or the open record changed (the record actions
            follow).
        message(str, int): a status-bar message and its timeout in ms (0: until replaced).
        recorded: a print was recorded (the lists showing print counts are reloaded).
        rules_changed: a records database was opened or closed, so the rule set in force (its
            clinic policy and formulary) may have changed: the form is screened again.
    """

    changed = Signal()
    message = Signal(str, int)
    recorded = Signal()
    rules_changed = Signal()

    def __init__(self, *, screenings: QtScreeningList, dialogs: Dialogs,
                 window: QWidget) -> None:
        super().__init__(window)
        self.screenings = screenings
        self.dialogs = dialogs
        self.window = window
        self.store: RecordStore | None = None
        self.actor: Actor | None = None
        self.clinic_store: RecordStore | None = None
        """The records database the app opened, kept open after a cancelled sign-in or a sign-out
        so that every screening still uses the clinic policy and formulary installed in it."""
        self.record: OpenedChecklist | None = None
        self.worklist = TodaysChecklists(self._worklist_rows)

    def rule_set(self) -> RuleSet | None:
        """The rule set in force with the open records database: the clinic policy and
        formulary installed in it (read at each screening, so a policy installed meanwhile
        applies to the next screening), signed in or not; ``None`` when no records database is
        open (the rule set in force without one).

        Raises:
            KnowledgeBaseError: an installed or configured data file is invalid.
            StorageError: the records database cannot be read.
        """
        store = self.store or self.clinic_store
        if store is None:
            return None
        from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        return records_actions.rule_set_in_force(store=store)

    def open_records(self, *, url: str | None = None) -> bool:
        """Open the records database (``url``, else the one the environment names) and ask who
        is using the app; without a database or a user the app works with files only."""
        from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        self.close_records()
        try:
            store = records_actions.open_store(url=url)
        except StorageError as error:
            self.message.emit(f"Records database {error.database} cannot be opened "
                              f"({error.reason}): working with case files only.", 0)
            return False
        self.close_database()
        self.clinic_store = store
        self.rules_changed.emit()

        def authenticate(username: str, password: str) -> Actor:
            return records_actions.sign_in(store=store, username=username, password=password)

        actor = self.dialogs.sign_in(authenticate, store.database.name)
        if actor is None:
            self.message.emit("Not signed in: working with case files only "
                              "(Records > Sign in).", 0)
            return False
        self.store, self.actor = store, actor
        if self.worklist not in self.screenings.sources:
            self.screenings.sources.insert(0, self.worklist)
        self.screenings.refresh()
        self.changed.emit()
        self.message.emit(f"Signed in as {actor.display_name} ({actor.role.value})", 0)
        return True

    def close_records(self) -> None:
        """Sign out (the app keeps working with files; the database stays open only to read
        the clinic policy and formulary installed in it)."""
        self.store = self.actor = self.record = None
        if self.worklist in self.screenings.sources:
            self.screenings.sources.remove(self.worklist)
            self.screenings.refresh()
        self.changed.emit()

    def close_database(self) -> None:
        """Sign out and close the records database (when the window closes or another
        database is opened)."""
        self.close_records()
        if self.clinic_store is not None:
            self.clinic_store.close()
            self.clinic_store = None

    def sign_out(self) -> bool:
        """Sign out (Records > Sign out, or the status bar's button): close the records
        database; the app works with case files until Records > Sign in."""
        if self.actor is None:
            return False
        name = self.actor.display_name
        self.close_records()
        self.message.emit(f"{name} signed out: working with case files only "
                          "(Records > Sign in).", 0)
        return True

    def open(self, record: OpenedChecklist | None) -> None:
        """The signed checklist of the records the form shows now (``None``: none)."""
        self.record = record
        self.changed.emit()

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
            self.records_error("Today's signed checklists", self.worklist.problem)

    def permissions(self) -> tuple[bool, bool, str]:
        """Whether the signed-in user may print and may record the bedside double check, and
        why not the double check (empty when they may, or nobody is signed in)."""
        if self.actor is None:
            return False, False, ""
        from ketascreen.ui import records_actions  # noqa: PLC0415

        permission = records_actions.Permission
        may_print = records_actions.may(actor=self.actor, permission=permission.PRINT)
        may_check = records_actions.may(actor=self.actor, permission=permission.DOUBLE_CHECK)
        why_not = "" if may_check else (f"The {self.actor.role.value} role does not record "
                                        "the bedside double check.")
        return may_print, may_check, why_not

    def records_error(self, title: str, error: Exception) -> None:
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

    def registered_signer(self, fingerprint: str) -> str | None:
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

    def record_printed(self, opened: OpenedChecklist, copies: int) -> bool:
        """Record that ``copies`` copies of the signed checklist ``opened`` were printed."""
        from ketascreen.ui import records_actions  # noqa: PLC0415

        if self.store is None or self.actor is None:
            return False
        try:
            records_actions.record_printed(store=self.store, actor=self.actor,
                                           record_id=opened.item.record_id, copies=copies)
        except (PermissionDeniedError, RecordError, StorageError) as error:
            self.records_error("Print", error)
            return False
        self.screenings.refresh()
        self.recorded.emit()
        self.message.emit(f"Printed {opened.item.record_id} ({copies} "
                          f"{'copy' if copies == 1 else 'copies'}); "
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
            self.records_error("Print", error)
            return None
        return self.record

    def print_record(self) -> bool:
        """Print the open signed checklist through the print dialog, then record the print
        (printed with its signatures' stamps: :func:`~ketascreen.ui.actions.display_copy`)."""
        from ketascreen.ui.qt_pdf_preview import print_with_dialog  # noqa: PLC0415

        opened = self._may_print_record()
        if opened is None:
            return False
        copies = print_with_dialog(actions.display_copy(pdf=opened.pdf), self.window)
        return copies > 0 and self.record_printed(opened, copies)

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
            pages = print_pdf_to_file(actions.display_copy(pdf=opened.pdf), path)
        except PdfError as error:
            self.dialogs.error("Print", f"Could not print: {error.status}.")
            return 0
        return pages if self.record_printed(opened, 1) else 0
