"""The nurse worklist, without Qt: today's signed checklists, opening one (the bedside copy:
the nurse-countersigned PDF when there is one), and printing it. The blinded independent double
check and the countersignature are in :mod:`ketascreen.records.bedside`.

The desktop app calls these from its action functions (house style §2); each call is a few
milliseconds (``bench/bench_records.py``) and returns plain data or raises a typed error:

    actor = store.authenticate(username, password)          # the app asks who is using it
    items = todays_checklists(store, actor)                  # the list
    opened = open_checklist(store, actor, items[0].record_id)
    ...show opened.pdf in a QPdfView, print it with QPrinter...
    record_print(store, actor, opened.item.record_id, copies=1)       # after the print job
    bedside.perform_double_check(store, actor, opened.item.record_id, ...)   # blinded check

``record_double_check`` (a free-text witness, nothing compared) is kept for old callers only;
the app and the command line use :func:`ketascreen.records.bedside.perform_double_check`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from ketascreen.errors import RecordError, RecordNotFoundError, UserAccountError
from ketascreen.records.actions import log_action
from ketascreen.records.core import StoreCore, day_bounds
from ketascreen.records.models import (
    AuditEventRow,
    CountersignedDocument,
    Patient,
    ScreeningRow,
    SignedDocument,
    User,
)
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
        infusion: (number, planned) for an infusion of a course (planned ``None`` when the
            course has no plan); ``None`` for a first screening.
        dose: the signed dose as printed (``33 mg``), or ``None`` when there is none.
        pump_rate: the signed pump rate as printed (``151 mL/h``), or ``None``.
        double_check: the latest bedside double check's result: ``not done``, ``match``,
            ``mismatch`` or ``override``.
        countersigned_by: the name of the nurse's countersignature certificate, or ``None``.
        countersigned_at: when the countersigned copy was stored (UTC), or ``None``.
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
    infusion: tuple[int, int | None] | None = None
    dose: str | None = None
    pump_rate: str | None = None
    double_check: str = "not done"
    countersigned_by: str | None = None
    countersigned_at: datetime | None = None

    @property
    def double_checked(self) -> bool:
        """Whether a bedside double check is recorded."""
        return bool(self.double_checked_by)


@dataclass(frozen=True)
class OpenedChecklist:
    """A checklist opened for preview and printing.

    Attributes:
        item: its worklist row.
        pdf: the bedside copy's bytes (checked against the stored sha256): the
            nurse-countersigned PDF when there is one, else the physician-signed PDF.
        countersigned: whether ``pdf`` is the countersigned copy.
    """

    item: WorklistItem
    pdf: bytes
    countersigned: bool = False


@functools.cache
def _query() -> Select[*tuple[Any, ...]]:
    """The current signed checklists: 17 columns, as :func:`_item` reads them.

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
                   SignedDocument.sha256, signer.username, ScreeningRow.case_json,
                   ScreeningRow.result_json, CountersignedDocument.signer_name,
                   CountersignedDocument.signed_at, CountersignedDocument.sha256)
            .join(Patient, Patient.id == ScreeningRow.patient_id)
            .join(signer, signer.id == ScreeningRow.signed_by)
            .join(SignedDocument, SignedDocument.screening_id == ScreeningRow.id)
            .outerjoin(CountersignedDocument,
                       CountersignedDocument.screening_id == ScreeningRow.id)
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
    return [_item(tuple(row), actions.get(row[0], _Bedside())) for row in rows]


def open_checklist(store: StoreCore, actor: Actor, record_id: str) -> OpenedChecklist:
    """A signed checklist with its bedside copy, for preview and printing: the
    nurse-countersigned PDF when there is one, else the physician-signed PDF.

    Raises:
        PermissionDeniedError: the role may not view signed checklists (recorded).
        RecordNotFoundError: no such record.
        RecordError: the record is a draft, was replaced by an amendment (the message names
            it), or its document no longer matches its sha256.
    """
    record_id = record_id.strip().upper()
    store.authorise(actor, Permission.VIEW_SIGNED, record_id)
    with store.database.read() as session:
        row = session.execute(_query().add_columns(SignedDocument.pdf,
                                                   CountersignedDocument.pdf).where(
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
    countersigned = row[_COLUMNS + 1] is not None
    pdf = bytes(row[_COLUMNS + 1] if countersigned else row[_COLUMNS])
    if hashlib.sha256(pdf).hexdigest() != row[16 if countersigned else 10]:
        raise RecordError(record_id, f"its stored {'countersigned ' if countersigned else ''}"
                          "document no longer matches its sha256: run `ketascreen audit verify`")
    return OpenedChecklist(_item(tuple(row)[:_COLUMNS], actions.get(record_id, _Bedside())),
                           pdf, countersigned)


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


@dataclass
class _Bedside:
    """The bedside events of a record: who printed it, who recorded a double check, and the
    latest double check's result."""

    printed: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    latest: str = "not done"


def _bedside_events(session: Session, record_ids: list[str]) -> dict[str, _Bedside]:
    """Print and double-check events by record; the latest double check's result is the last
    attempt's (``match``, ``mismatch`` or ``override``; a check recorded without comparing
    anything, by ``record_double_check``, leaves it ``not done``)."""
    found: dict[str, _Bedside] = {}
    if not record_ids:
        return found
    rows = session.execute(
        select(AuditEventRow.record_id, AuditEventRow.action, AuditEventRow.username,
               AuditEventRow.detail)
        .where(AuditEventRow.record_id.in_(record_ids))
        .where(AuditEventRow.action.in_(("print", "double-check")))
        .where(AuditEventRow.outcome == "ok").order_by(AuditEventRow.seq))
    for record_id, action, username, detail in rows:
        events = found.setdefault(record_id or "", _Bedside())
        if action == "print":
            events.printed.append(username)
            continue
        events.checked.append(username)
        result = json.loads(detail or "{}").get("result")
        if result in ("match", "mismatch", "override"):
            events.latest = result
    return found


_COLUMNS = 17
"""The columns of :func:`_query`."""


def _course_of(result_json: str) -> tuple[tuple[int, int | None] | None, str | None, str | None]:
    """(infusion, dose, pump rate) of a stored result."""
    result = json.loads(result_json)
    course = result.get("course")
    infusion = (int(course["infusion"]), course.get("planned")) if course else None
    display = (result.get("dose") or {}).get("display") or {}
    return infusion, display.get("dose"), display.get("rate")


def _item(values: tuple[Any, ...], actions: _Bedside) -> WorklistItem:
    infusion, dose, rate = _course_of(values[13])
    return WorklistItem(
        record_id=values[0], status=values[1], amends=values[2], decision=values[3],
        patient=patient_of_case(values[12]), screening_date=values[7],
        signed_at=values[8], signed_by=values[9], document_sha256=values[10],
        printed=len(actions.printed), double_checked_by=tuple(actions.checked),
        signed_by_account=values[11], infusion=infusion, dose=dose, pump_rate=rate,
        double_check=actions.latest, countersigned_by=values[14], countersigned_at=values[15])
