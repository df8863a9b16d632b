"""Reading the records: one record, its signed document, lists, and its audit events.

Every function takes the store (:class:`~ketascreen.records.core.StoreCore`) and, where a person
asks, the :class:`~ketascreen.records.roles.Actor` whose role is checked first (a refusal is
recorded). Results are plain frozen dataclasses (:mod:`ketascreen.records.views`), never live
database objects. The nurse worklist has its own queries (:mod:`ketascreen.records.worklist`).
"""

from __future__ import annotations

import functools
import hashlib
from datetime import date, tzinfo
from typing import Any

from sqlalchemy import Row, Select, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from ketascreen.errors import RecordError, RecordNotFoundError, StorageError
from ketascreen.records.audit import AuditEvent
from ketascreen.records.core import StoreCore, day_bounds, normalise_id
from ketascreen.records.models import (
    AuditEventRow,
    AuditHead,
    CourseInfusionRow,
    Patient,
    ScreeningRow,
    SignedDocument,
    User,
)
from ketascreen.records.roles import Actor, Permission
from ketascreen.records.views import RecordSummary, StoredScreening, Versions, patient_of_case


@functools.cache
def summary_query() -> Select[*tuple[Any, ...]]:
    """The summary columns (16, as :func:`summary_of` reads them); built once.

    The patient is read from the stored case JSON (what the signed PDF embeds), not from
    the patients table."""
    creator, signer = aliased(User), aliased(User)
    amended, later = aliased(ScreeningRow), aliased(ScreeningRow)
    return (select(ScreeningRow.record_id, ScreeningRow.status, ScreeningRow.decision,
                   Patient.external_id, Patient.name, Patient.birth_date,
                   ScreeningRow.screening_date, ScreeningRow.created_at,
                   creator.username, ScreeningRow.signed_at, signer.username,
                   ScreeningRow.signer_name, amended.record_id, later.record_id,
                   ScreeningRow.signer_certificate_sha256, ScreeningRow.case_json)
            .join(Patient, Patient.id == ScreeningRow.patient_id)
            .join(creator, creator.id == ScreeningRow.created_by)
            .outerjoin(signer, signer.id == ScreeningRow.signed_by)
            .outerjoin(amended, amended.id == ScreeningRow.amends_id)
            .outerjoin(later, later.amends_id == ScreeningRow.id))


def summary_of(row: Row[Any]) -> RecordSummary:
    """The summary of a row of :func:`summary_query`."""
    values = tuple(row)
    return RecordSummary(
        record_id=values[0], status=values[1], decision=values[2],
        patient=patient_of_case(values[15]), screening_date=values[6],
        created_at=values[7], created_by=values[8], signed_at=values[9], signed_by=values[10],
        signer_name=values[11], amends=values[12], superseded_by=values[13],
        signer_certificate_sha256=values[14])


def stored(session: Session, record_id: str) -> StoredScreening:
    """One record in full, read in ``session`` (no role check).

    Raises:
        RecordNotFoundError: no such record.
    """
    query = (summary_query()
             .add_columns(ScreeningRow.case_json, ScreeningRow.result_json,
                          ScreeningRow.content_sha256, ScreeningRow.ruleset_version,
                          ScreeningRow.ruleset_sha256, ScreeningRow.policy_version,
                          ScreeningRow.policy_sha256, ScreeningRow.formulary_version,
                          ScreeningRow.formulary_sha256, SignedDocument.sha256,
                          SignedDocument.size, ScreeningRow.amendment_reason)
             .outerjoin(SignedDocument, SignedDocument.screening_id == ScreeningRow.id)
             .where(ScreeningRow.record_id == record_id))
    found = session.execute(query).one_or_none()
    if found is None:
        raise RecordNotFoundError(record_id, "no such record")
    summary = summary_of(found)
    rest = tuple(found)[16:]
    return StoredScreening(
        **{name: getattr(summary, name) for name in RecordSummary.__dataclass_fields__},
        case_json=rest[0], result_json=rest[1], content_sha256=rest[2],
        versions=Versions(*rest[3:9]), document_sha256=rest[9], document_size=rest[10],
        amendment_reason=rest[11])


def get_any(store: StoreCore, record_id: str) -> StoredScreening:
    """One record in full, whoever asks (no role check).

    Raises:
        RecordNotFoundError: no such record.
    """
    with store.database.read() as session:
        return stored(session, record_id)


def signed_on(store: StoreCore, patient_id: str, day: date) -> str | None:
    """The current signed SCREENING checklist of a patient signed on the local ``day``, if any.

    The store's rule per document kind (:func:`ketascreen.records.signoff.refuse_same_day_signing`
    refuses with it, the app warns with it): one signed screening checklist per patient per day;
    an infusion's checklist (its screening linked to a course) is not counted, it is one per
    infusion of a course. Not counted either: drafts and checklists replaced by an amendment.
    """
    start, end = day_bounds(day, store.zone)
    replaced = aliased(ScreeningRow)
    with store.database.read() as session:
        return session.execute(
            select(ScreeningRow.record_id)
            .join(Patient, Patient.id == ScreeningRow.patient_id)
            .where(Patient.external_id == patient_id)
            .where(ScreeningRow.status != "draft")
            .where(ScreeningRow.signed_at >= start, ScreeningRow.signed_at < end)
            .where(~exists().where(replaced.amends_id == ScreeningRow.id))
            .where(~exists().where(CourseInfusionRow.screening_id == ScreeningRow.id))
            .order_by(ScreeningRow.id.desc()).limit(1)).scalar_one_or_none()


def document_of(store: StoreCore, record_id: str) -> bytes:
    """The signed PDF of a record, checked against its stored sha256 (no role check).

    Raises:
        RecordNotFoundError: no such record.
        RecordError: the record is a draft, or its document no longer matches its sha256.
    """
    with store.database.read() as session:
        found = session.execute(
            select(ScreeningRow.status, SignedDocument.pdf, SignedDocument.sha256)
            .outerjoin(SignedDocument, SignedDocument.screening_id == ScreeningRow.id)
            .where(ScreeningRow.record_id == record_id)).one_or_none()
    if found is None:
        raise RecordNotFoundError(record_id, "no such record")
    status, pdf, sha = found
    if pdf is None:
        raise RecordError(record_id, f"it has no signed document ({status})")
    if hashlib.sha256(pdf).hexdigest() != sha:
        raise RecordError(record_id, "its stored document no longer matches its sha256: "
                          "run `ketascreen audit verify`")
    return bytes(pdf)


def get(store: StoreCore, actor: Actor, record_id: str) -> StoredScreening:
    """One record in full (a nurse sees signed records only).

    Raises:
        PermissionDeniedError: the role may not view it.
        RecordNotFoundError: no such record.
    """
    record_id = normalise_id(record_id)
    store.authorise(actor, Permission.VIEW_SIGNED, record_id)
    found = get_any(store, record_id)
    if not found.is_signed:
        store.authorise(actor, Permission.VIEW_RECORDS, record_id)
    return found


def find(store: StoreCore, actor: Actor, record_id: str) -> StoredScreening | None:
    """Like :func:`get`, but ``None`` when there is no such record."""
    try:
        return get(store, actor, record_id)
    except RecordNotFoundError:
        return None


def document(store: StoreCore, actor: Actor, record_id: str) -> bytes:
    """The signed PDF of a record, checked against the sha256 stored with it.

    Raises:
        PermissionDeniedError: the role may not view signed records.
        RecordNotFoundError: no such record.
        RecordError: the record is a draft, or its document no longer matches its sha256.
    """
    record_id = normalise_id(record_id)
    store.authorise(actor, Permission.VIEW_SIGNED, record_id)
    return document_of(store, record_id)


def list_records(store: StoreCore, actor: Actor, *, day: date | None = None,
                 patient_id: str | None = None, limit: int = 100,
                 zone: tzinfo | None = None, current_only: bool = False
                 ) -> list[RecordSummary]:
    """Records, newest first (a nurse sees signed records only).

    Args:
        store: the records store.
        actor: who asks.
        day: only records signed that day, or drafts stored that day (local day in ``zone``).
        patient_id: only this patient's records.
        limit: at most this many.
        zone: the time zone of ``day`` (default: the store's).
        current_only: leave out records replaced by an amendment (the amendment, which
            names the record it amends, is listed instead).

    Raises:
        PermissionDeniedError: the role may not view records.
    """
    store.authorise(actor, Permission.VIEW_SIGNED)
    query = summary_query()
    if not actor.may(Permission.VIEW_RECORDS):
        query = query.where(ScreeningRow.status != "draft")
    if current_only:
        replaced = aliased(ScreeningRow)
        query = query.where(~exists().where(replaced.amends_id == ScreeningRow.id))
    if day is not None:
        start, end = day_bounds(day, zone or store.zone)
        query = query.where(or_(
            and_(ScreeningRow.signed_at >= start, ScreeningRow.signed_at < end),
            and_(ScreeningRow.status == "draft", ScreeningRow.created_at >= start,
                 ScreeningRow.created_at < end)))
    if patient_id is not None:
        query = query.where(Patient.external_id == patient_id)
    query = query.order_by(ScreeningRow.id.desc()).limit(limit)
    with store.database.read() as session:
        return [summary_of(row) for row in session.execute(query)]


def signed_today_for_patient(store: StoreCore, actor: Actor, patient_id: str,
                             day: date | None = None) -> StoredScreening | None:
    """The current signed screening checklist (not replaced by an amendment; no infusion's, see
    :func:`signed_on`) of ``patient_id`` signed on ``day`` (the clinic's local day; default
    today), or ``None``.

    Raises:
        PermissionDeniedError: the role may not view signed records (recorded).
    """
    store.authorise(actor, Permission.VIEW_SIGNED)
    found = signed_on(store, patient_id, day or store.clock().astimezone(store.zone).date())
    return None if found is None else get_any(store, found)


def events(store: StoreCore, actor: Actor, record_id: str) -> list[AuditEvent]:
    """The audit events of one record, oldest first, including those of the earlier ids
    of a draft (a draft's record id follows its content).

    Raises:
        PermissionDeniedError: the role may not view the record.
        RecordNotFoundError: no such record.
    """
    record = get(store, actor, record_id)
    pending, seen = [record.record_id], {record.record_id}
    found: dict[int, AuditEvent] = {}
    with store.database.read() as session:
        while pending:
            rows = session.execute(select(AuditEventRow).where(
                AuditEventRow.record_id == pending.pop())).scalars()
            for row in rows:
                event = AuditEvent.from_row(row)
                found[event.seq] = event
                previous = event.detail.get("previous_record")
                if isinstance(previous, str) and previous not in seen:
                    seen.add(previous)
                    pending.append(previous)
    return [found[seq] for seq in sorted(found)]


def audit_head(store: StoreCore) -> tuple[int, str]:
    """The audit trail's last event now: its number and sha256 (``(0, GENESIS)`` when
    empty). A checklist signed for storing embeds it (see
    :func:`ketascreen.reports.output.produce_checklist`).

    Raises:
        StorageError: the trail's head record is missing.
    """
    with store.database.read() as session:
        head = session.get(AuditHead, 1)
        if head is None:
            raise StorageError("audit trail", "its head record is missing: the trail was "
                               "tampered with; run `ketascreen audit verify`")
        return head.last_seq, head.last_hash
