"""The nurse's bedside: today's infusions, the bedside copy, the blinded independent double
check and the countersignature.

A nurse signed in works on the bedside page (:class:`~ketascreen.ui.qt_bedside.QtBedside`): a
single click on a row opens that record (its bedside copy beside the table; the record becomes
the session's open record, so Print and the patient's courses follow it). Double check opens
the blinded dialog (:class:`~ketascreen.ui.qt_double_check.QtDoubleCheckDialog`) and hides the
page's numbers while it is open; after a match or an override, Countersign signs the bedside
copy with the nurse's key and stores it, and the page shows the countersigned copy. All records
work goes through :mod:`ketascreen.ui.records_actions` (imported lazily).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ketascreen.errors import (
    CountersignRefusedError,
    KetascreenError,
    PermissionDeniedError,
    RecordError,
    StorageError,
)
from ketascreen.ui import actions

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ketascreen.records.bedside import DoubleCheckRecord
    from ketascreen.reports.keys import SignerIdentity
    from ketascreen.ui.controllers.session import SessionController
    from ketascreen.ui.dialogs import Dialogs
    from ketascreen.ui.qt_bedside import QtBedside
    from ketascreen.ui.qt_double_check import (
        CheckAttempt,
        QtCountersignDialog,
        QtDoubleCheckDialog,
    )
    from ketascreen.ui.records_actions import BedsideRow, OpenedChecklist
    from ketascreen.ui.settings import AppSettings


class BedsideController(QObject):
    """Fills the bedside page and runs the double check and the countersignature.

    Args:
        page: the nurse's page.
        session: the records session (who is signed in; the open record).
        dialogs: the questions asked (tests replace them).
        settings: where the key store is remembered.
        window: the parent of the dialogs.

    Signals:
        message(str, int): a status-bar message and its timeout in ms (0: until replaced).
    """

    message = Signal(str, int)

    def __init__(self, *, page: QtBedside, session: SessionController, dialogs: Dialogs,
                 settings: AppSettings, window: QWidget) -> None:
        super().__init__(window)
        self.page = page
        self.session = session
        self.dialogs = dialogs
        self.settings = settings
        self.window = window
        self.rows: dict[str, BedsideRow] = {}
        self.check_dialog: QtDoubleCheckDialog | None = None
        self.countersign_dialog: QtCountersignDialog | None = None
        page.record_selected.connect(self.select)
        page.refresh_requested.connect(self.refresh)
        page.double_check_requested.connect(self.double_check)
        page.countersign_requested.connect(self.countersign)
        page.print_requested.connect(self._print)

    def _print(self) -> None:
        self.session.print_record()

    # -- the list and the preview -------------------------------------------------------------

    def refresh(self) -> None:
        """Reload today's infusions, keeping the selected record (its copy shown again)."""
        from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        store, actor = self.session.store, self.session.actor
        if store is None or actor is None:
            self.clear()
            return
        keep = self.page.selected()
        try:
            items = records_actions.worklist(store=store, actor=actor)
        except (PermissionDeniedError, StorageError) as error:
            self.rows = {}
            self.page.show_problem(self._error_text(error))
            self._update_actions()
            return
        rows = [records_actions.bedside_row(item=item) for item in items]
        self.rows = {row.record_id: row for row in rows}
        keep = keep if keep in self.rows else None
        self.page.show_rows(rows, keep=keep)
        if keep is not None:
            self.select(keep)
        else:
            self.page.clear_pdf()
            self._update_actions()

    def clear(self) -> None:
        """Nobody is signed in: no rows, no copy, no open dialog."""
        for dialog in (self.check_dialog, self.countersign_dialog):
            if dialog is not None:
                dialog.reject()
        self.rows = {}
        self.page.show_rows([])
        self.page.clear_pdf()
        self._update_actions()

    def select(self, record_id: str) -> bool:
        """Open ``record_id``: its bedside copy beside the table; it becomes the open record."""
        from ketascreen.ui import records_actions  # noqa: PLC0415
        from ketascreen.ui.qt_pdf_preview import PdfError  # noqa: PLC0415

        store, actor = self.session.store, self.session.actor
        if store is None or actor is None:
            return False
        try:
            opened = records_actions.open_record(store=store, actor=actor, record_id=record_id)
        except (PermissionDeniedError, RecordError, StorageError) as error:
            self.page.clear_pdf(f"{record_id} cannot be shown: {self._error_text(error)}")
            self.session.open(None)
            self._update_actions()
            return False
        self.page.select_row(record_id)
        try:
            self.page.show_pdf(actions.display_copy(pdf=opened.pdf), self.caption(opened))
        except PdfError as error:
            self.page.clear_pdf(f"{record_id} cannot be shown: the PDF could not be loaded "
                                f"({error.status}).")
        self.session.open(opened)
        self._update_actions()
        return True

    @staticmethod
    def caption(opened: OpenedChecklist) -> str:
        """Which copy the preview shows, and who signed it when."""
        item = opened.item
        signed = (f"signed by {item.signed_by} at "
                  f"{item.signed_at.astimezone().strftime('%H:%M')}")
        if opened.countersigned and item.countersigned_by is not None:
            when = ("" if item.countersigned_at is None else
                    " at " + item.countersigned_at.astimezone().strftime("%H:%M"))
            return (f"{item.record_id}, countersigned copy: {signed}; countersigned by "
                    f"{item.countersigned_by}{when} (bedside independent double check).")
        return f"{item.record_id}, physician-signed copy: {signed}; not countersigned yet."

    def _error_text(self, error: KetascreenError) -> str:
        from ketascreen.ui import records_actions  # noqa: PLC0415

        if isinstance(error, PermissionDeniedError):
            return records_actions.refusal_text(error=error)
        if isinstance(error, RecordError):
            return error.reason
        if isinstance(error, StorageError):
            return f"the records database {error.database} cannot be used: {error.reason}"
        return str(error)

    def _selected_row(self) -> BedsideRow | None:
        record = self.session.record
        return None if record is None else self.rows.get(record.item.record_id)

    def countersign_refusal(self) -> str | None:
        """Why the selected record cannot be countersigned now (``None``: it can)."""
        row = self._selected_row()
        if row is None:
            return "Choose a row first."
        if row.countersigned:
            return f"{row.record_id} is countersigned already."
        if row.double_check not in ("match", "override"):
            return ("Do the independent double check first (Double check...): a check that "
                    "matches the order, or an overridden one, is countersigned.")
        return None

    def _update_actions(self) -> None:
        from ketascreen.ui import records_actions  # noqa: PLC0415

        actor = self.session.actor
        row = self._selected_row()
        may_check = records_actions.may(actor=actor,
                                        permission=records_actions.Permission.DOUBLE_CHECK)
        may_print = records_actions.may(actor=actor, permission=records_actions.Permission.PRINT)
        why_not = self.countersign_refusal()
        self.page.set_actions(
            double_check=row is not None and may_check and not row.countersigned,
            countersign=row is not None and may_check and why_not is None,
            print_=row is not None and may_print, why_not_countersign=why_not or "")

    # -- the double check ---------------------------------------------------------------------

    def double_check(self) -> QtDoubleCheckDialog | None:
        """Open the blinded double check of the selected record (the page's numbers hidden
        while it is open)."""
        from ketascreen.ui import records_actions  # noqa: PLC0415

        store, actor, opened = self.session.store, self.session.actor, self.session.record
        if store is None or actor is None or opened is None:
            return None
        record_id = opened.item.record_id
        try:
            records_actions.require(store=store, actor=actor,
                                    permission=records_actions.Permission.DOUBLE_CHECK,
                                    record_id=record_id)
        except (PermissionDeniedError, StorageError) as error:
            self.session.records_error("Independent double check", error)
            return None
        row = self.rows.get(record_id)
        infusion = "" if row is None else f" \u00b7 {row.cells[2]}"
        heading = (f"{record_id}{infusion} \u00b7 signed by {opened.item.signed_by} at "
                   f"{opened.item.signed_at.astimezone().strftime('%H:%M')}")

        def perform(attempt: CheckAttempt) -> DoubleCheckRecord:
            override = (None if attempt.override is None else
                        (attempt.override.reason, attempt.override.nurse,
                         attempt.override.password))
            return records_actions.perform_bedside_check(
                store=store, actor=actor, record_id=record_id, password=attempt.password,
                witness=attempt.witness, witness_password=attempt.witness_password,
                identifiers=attempt.identifiers, fields=attempt.fields, override=override)

        dialog = self.dialogs.double_check(perform, actor, heading)
        self.check_dialog = dialog
        self.page.blind(True)
        dialog.checked.connect(lambda: self._checked(record_id, dialog))
        dialog.countersign_requested.connect(lambda: self._countersign_from(dialog))
        dialog.finished.connect(lambda _: self._check_closed(dialog))
        return dialog

    def _checked(self, record_id: str, dialog: QtDoubleCheckDialog) -> None:
        record = dialog.record
        if record is None:
            return
        words = {"match": "matches the order", "mismatch": "does NOT match the order",
                 "override": "overridden"}[record.result]
        self.message.emit(f"Double check of {record_id} {words}: recorded in the audit trail",
                          0)

    def _check_closed(self, dialog: QtDoubleCheckDialog) -> None:
        if self.check_dialog is dialog:
            self.check_dialog = None
        dialog.deleteLater()
        self.page.blind(False)
        self.refresh()

    def _countersign_from(self, dialog: QtDoubleCheckDialog) -> None:
        dialog.accept()  # the page is shown again, then the countersignature is asked
        self.countersign()

    # -- the countersignature -----------------------------------------------------------------

    def countersign(self) -> QtCountersignDialog | None:
        """Countersign the selected record's bedside copy (after the nurse's own passing or
        overridden double check of it: the stamp carries that check)."""
        from ketascreen.ui import records_actions  # noqa: PLC0415

        store, actor, opened = self.session.store, self.session.actor, self.session.record
        if store is None or actor is None or opened is None:
            return None
        refusal = self.countersign_refusal()
        if refusal is not None:
            self.dialogs.error("Countersign", refusal)
            return None
        record_id = opened.item.record_id
        try:
            stamp = records_actions.countersign_stamp(store=store, actor=actor,
                                                      record_id=record_id)
        except (CountersignRefusedError, StorageError) as error:
            text = (f"{error.reason}. The refusal is recorded in the audit trail."
                    if isinstance(error, CountersignRefusedError) else self._error_text(error))
            self.dialogs.error("Countersign", text)
            return None
        summary = [("Checker", stamp.checker), ("Witness", stamp.witness),
                   ("Result", stamp.result), *stamp.entered]

        def countersign(identity: SignerIdentity, register: bool) -> bytes:
            return records_actions.countersign_record(
                store=store, actor=actor, record_id=record_id, identity=identity, stamp=stamp,
                register=register)

        dialog = self.dialogs.countersign(countersign, summary, self.settings, store=store,
                                          actor=actor, record_id=record_id)
        self.countersign_dialog = dialog
        dialog.accepted.connect(lambda: self._countersigned(record_id))
        dialog.finished.connect(lambda _: self._countersign_closed(dialog))
        return dialog

    def _countersigned(self, record_id: str) -> None:
        self.message.emit(f"{record_id} countersigned: the bedside copy now carries both "
                          "signatures", 0)

    def _countersign_closed(self, dialog: QtCountersignDialog) -> None:
        if self.countersign_dialog is dialog:
            self.countersign_dialog = None
        dialog.deleteLater()
        self.refresh()
