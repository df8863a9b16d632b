"""The nurse worklist, without Qt: today's signed checklists, opening one, and the two bedside
actions (printing it, recording the independent double check).

The desktop app calls these from its action functions (house style §2); each call is a few
milliseconds (``bench/bench_records.py``) and returns plain data or raises a typed error:

    actor = store.authenticate(username, password)          # the app asks who is using it
    items = todays_checklists(store, actor)                  # the list
    opened = open_checklist(store, actor, items[0].record_id)
    ...show opened.pdf in a QPdfView, print it with QPrinter...
    record_print(store, actor, opened.item.record_id, copies=1)       # after the print job
    record_double_check(store, actor, opened.item.record_id, witness="rnpatel")
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from ketascreen.errors import RecordError, RecordNotFoundError, UserAccountError
from ketascreen.records.actions import log_action
from ketascreen.records.core import StoreCore, day_bounds
from ketascreen.records.models import AuditEventRow, Patient, ScreeningRow, SignedDocument, User
from ketascreen.records.roles import Actor, Permission, Role
from ketascreen.records.views import PatientInfo, patient_of_case

DOUBLE_CHECK_ITEMS = ("patient identity (two identifiers)", "dose", "dosing weight",
                      "pump rate and volume", "line and concentration")
"""What the independent bedside double check confirms (ISMP high-alert medication practice)."""


@dataclass(frozen=True)
class WorklistItem:
    """One signed checklist on the worklist.

    Attributes:
        record_id: as printed on the checklist.
        status: ``signed``, or ``amended`` for a signed amendment.
        amends: the record an amendment replaces, or ``None``.
        decision: the screening decision.
        patient: who.
        screening_date: the case's screening date.
        signed_at: when it was signed (UTC).
        signed_by: the signing certificate's name: the name the signed page prints.
        document_sha256: sha256 of the signed PDF.
        printed: how many print events it has.
        double_checked_by: users who recorded the bedside double check, in order.
        signed_by_account: the user name of the physician who signed it in ketascreen (the
            certificate is registered to that account).
    """

    record_id: str
    status: str
    amends: str | None
    decision: str
    patient: PatientInfo
    screening_date: date
    signed_at: datetime
    signed_by: str
    document_sha256: str
    printed: int
    double_checked_by: tuple[str, ...]
    signed_by_account: str

    @property
    def double_checked(self) -> bool:
        """Whether a bedside double check is recorded."""
        return bool(self.double_checked_by)


@dataclass(frozen=True)
class OpenedChecklist:
    """A checklist opened for preview and printing.

    Attributes:
        item: its worklist row.
        pdf: the signed PDF bytes (checked against the stored sha256).
    """

    item: WorklistItem
    pdf: bytes


@functools.cache
def _query() -> Select[*tuple[Any, ...]]:
    """The current signed checklists: 13 columns, as :func:`_item` reads them.

    The patient shown is the one of the signed case (its JSON, which the signed PDF embeds),
    not the patients table, which an edit outside ketascreen could change.

    Built once: statements are immutable, and building the aliases costs more than running the
    query (``bench/bench_records.py``).
    """
    signer = aliased(User)
    later = aliased(ScreeningRow)
    amended = aliased(ScreeningRow)
    return (select(ScreeningRow.record_id, ScreeningRow.status, amended.record_id,
                   ScreeningRow.decision, Patient.external_id, Patient.name,
                   Patient.birth_date, ScreeningRow.screening_date, ScreeningRow.signed_at,
                   func.coalesce(ScreeningRow.signer_name, signer.display_name),
                   SignedDocument.sha256, signer.username, ScreeningRow.case_json)
            .join(Patient, Patient.id == ScreeningRow.patient_id)
            .join(signer, signer.id == ScreeningRow.signed_by)
            .join(SignedDocument, SignedDocument.screening_id == ScreeningRow.id)
            .outerjoin(amended, amended.id == ScreeningRow.amends_id)
            .where(ScreeningRow.status.in_(("signed", "amended")))
            .where(~exists().where(later.amends_id == ScreeningRow.id)))


def todays_checklists(store: StoreCore, actor: Actor, *, day: date | None = None,
                      zone: tzinfo | None = None) -> list[WorklistItem]:
    """The current signed checklists signed on ``day`` (default today), oldest first.

    A record replaced by an amendment is left out; its amendment is listed instead.

    Args:
        store: the records store.
        actor: a nurse or physician.
        day: the local day (default: today).
        zone: the time zone of ``day`` (default: this computer's).

    Raises:
        PermissionDeniedError: the role may not view signed checklists (recorded).
    """
    store.authorise(actor, Permission.VIEW_SIGNED)
    start, end = day_bounds(day or store.clock().astimezone(zone).date(), zone)
    query = _query().where(and_(ScreeningRow.signed_at >= start, ScreeningRow.signed_at < end)
                           ).order_by(ScreeningRow.signed_at, ScreeningRow.id)
    with store.database.read() as session:
        rows = session.execute(query).all()
        actions = _bedside_events(session, [row[0] for row in rows])
    return [_item(tuple(row), actions.get(row[0], ([], []))) for row in rows]


def open_checklist(store: StoreCore, actor: Actor, record_id: str) -> OpenedChecklist:
    """A signed checklist with its PDF, for preview and printing.

    Raises:
        PermissionDeniedError: the role may not view signed checklists (recorded).
        RecordNotFoundError: no such record.
        RecordError: the record is a draft, was replaced by an amendment (the message names
            it), or its document no longer matches its sha256.
    """
    record_id = record_id.strip().upper()
    store.authorise(actor, Permission.VIEW_SIGNED, record_id)
    with store.database.read() as session:
        row = session.execute(_query().add_columns(SignedDocument.pdf).where(
            ScreeningRow.record_id == record_id)).one_or_none()
        if row is None:
            status = session.execute(select(ScreeningRow.status).where(
                ScreeningRow.record_id == record_id)).scalar_one_or_none()
            later = aliased(ScreeningRow)
            replacement = session.execute(
                select(later.record_id).join(ScreeningRow, later.amends_id == ScreeningRow.id)
                .where(ScreeningRow.record_id == record_id)).scalar_one_or_none()
        else:
            actions = _bedside_events(session, [record_id])
    if row is None:
        if status is None:
            raise RecordNotFoundError(record_id, "no such record")
        if replacement is not None:
            raise RecordError(record_id, f"replaced by the amendment {replacement}; open that")
        raise RecordError(record_id, "it is a draft, not a signed checklist")
    pdf = bytes(row[13])
    if hashlib.sha256(pdf).hexdigest() != row[10]:
        raise RecordError(record_id, "its stored document no longer matches its sha256: run "
                          "`ketascreen audit verify`")
    return OpenedChecklist(_item(tuple(row)[:13], actions.get(record_id, ([], []))), pdf)


def record_print(store: StoreCore, actor: Actor, record_id: str, *, copies: int = 1) -> int:
    """Record that a checklist was printed; returns the audit event number.

    Raises:
        PermissionDeniedError: the role may not print (recorded).
        RecordNotFoundError: no such record.
        RecordError: the record is a draft, or ``copies`` is not positive.
    """
    if copies < 1:
        raise RecordError(record_id, "copies must be at least 1")
    return log_action(store, actor, Permission.PRINT, record_id, detail={"copies": copies})


def record_double_check(store: StoreCore, actor: Actor, record_id: str, *,
                        witness: str | None = None) -> int:
    """Record the independent bedside double check of a checklist's dose and pump programme.

    Args:
        store: the records store.
        actor: the nurse recording it.
        record_id: the checklist.
        witness: the user name of the second clinician (a nurse or physician other than
            ``actor``), if they are a ketascreen user.

    Returns:
        The audit event number.

    Raises:
        PermissionDeniedError: the role may not record the double check (recorded).
        RecordNotFoundError: no such record.
        RecordError: the record is a draft.
        UserAccountError: ``witness`` is not an active nurse or physician other than ``actor``.
    """
    if witness is not None:
        _check_witness(store, actor, witness)
    detail: dict[str, str | int | bool | None] = {"confirmed": "; ".join(DOUBLE_CHECK_ITEMS)}
    if witness is not None:
        detail["witness"] = witness
    return log_action(store, actor, Permission.DOUBLE_CHECK, record_id, detail=detail)


def _check_witness(store: StoreCore, actor: Actor, witness: str) -> None:
    if witness == actor.username:
        raise UserAccountError(witness, "witness", "the double check needs a second clinician")
    with store.database.read() as session:
        user = session.execute(select(User).where(User.username == witness)).scalar_one_or_none()
        if user is None or not user.active or user.role == Role.ADMIN.value:
            raise UserAccountError(witness, "witness", "not an active nurse or physician")


def _bedside_events(session: Session, record_ids: list[str]
                    ) -> dict[str, tuple[list[str], list[str]]]:
    """Print and double-check events by record: (printed by, double-checked by)."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    if not record_ids:
        return found
    rows = session.execute(
        select(AuditEventRow.record_id, AuditEventRow.action, AuditEventRow.username)
        .where(AuditEventRow.record_id.in_(record_ids))
        .where(AuditEventRow.action.in_(("print", "double-check")))
        .where(AuditEventRow.outcome == "ok").order_by(AuditEventRow.seq))
    for record_id, action, username in rows:
        printed, checked = found.setdefault(record_id or "", ([], []))
        (printed if action == "print" else checked).append(username)
    return found


def _item(values: tuple[Any, ...], actions: tuple[list[str], list[str]]) -> WorklistItem:
    return WorklistItem(
        record_id=values[0], status=values[1], amends=values[2], decision=values[3],
        patient=patient_of_case(values[12]), screening_date=values[7],
        signed_at=values[8], signed_by=values[9], document_sha256=values[10],
        printed=len(actions[0]), double_checked_by=tuple(actions[1]),
        signed_by_account=values[11])

