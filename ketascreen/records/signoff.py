"""The checks before a signed checklist is stored: the document, its signer, and the day.

A signed checklist is stored with a screening (signing a draft, storing it signed, amending)
only if the document is a signed checklist of exactly that case and result, made against this
records database's audit trail (:func:`check_document`); its certificate is registered to the
signing physician, or is registered now after the physician confirmed it is theirs
(:func:`check_signer`, :func:`register_signer`); and the document is not signed twice
(:func:`refuse_same_day_signing`: one current signed screening checklist per patient per local
day, one current signed checklist per infusion of a course). A refusal is recorded in the audit
trail before its error is raised.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import aliased

from ketascreen.errors import RecordError, SameDaySigningError
from ketascreen.records import certificates
from ketascreen.records.core import StoreCore, Tx
from ketascreen.records.courseviews import InfusionSignedError
from ketascreen.records.documents import DocumentFacts, check_signed_document, embedded_head
from ketascreen.records.models import (
    AuditEventRow,
    CourseInfusionRow,
    CourseRow,
    ScreeningRow,
)
from ketascreen.records.queries import get_any, signed_on
from ketascreen.records.roles import Actor


def check_document(store: StoreCore, pdf: bytes, *, record_id: str, case_json: str,
                   result_json: str) -> DocumentFacts:
    """Check that ``pdf`` is a signed checklist of this case and result
    (:func:`~ketascreen.records.documents.check_signed_document`) whose embedded audit head,
    if any, is in this trail at its number.

    Raises:
        RecordError: it is not, or it was signed for another records database.
    """
    facts = check_signed_document(pdf, record_id=record_id, case_json=case_json,
                                  result_json=result_json)
    head = embedded_head(pdf)
    if head is None or head[0] == 0:
        return facts
    with store.database.read() as session:
        found = session.execute(select(AuditEventRow.hash).where(
            AuditEventRow.seq == head[0])).scalar_one_or_none()
    if found != head[1]:
        raise RecordError(record_id, f"the signed document names audit event {head[0]} "
                          f"with hash {head[1]}, which this records database does not "
                          "have: it was signed for another database")
    return facts


def check_signer(store: StoreCore, actor: Actor, facts: DocumentFacts, *, action: str,
                 record_id: str, register: bool) -> bool:
    """Refuse (recorded) a certificate not registered to ``actor``; returns whether it is
    to be registered to ``actor`` with the signature (see
    :func:`ketascreen.records.certificates.check_signer`)."""
    return certificates.check_signer(store, actor, facts.certificate_sha256, facts.signer_name,
                                     action=action, record_id=record_id, register=register)


def register_signer(store: StoreCore, tx: Tx, actor: Actor, facts: DocumentFacts,
                    register: bool) -> None:
    """Register the document's certificate to ``actor`` inside ``tx`` when ``register``."""
    if not register or facts.certificate_sha256 is None:
        return
    certificates.add_certificate(tx, actor, user_id=actor.user_id, username=actor.username,
                                 fingerprint=facts.certificate_sha256,
                                 subject_name=facts.signer_name, der=facts.certificate_der,
                                 now=store.clock())


def refuse_same_day_signing(store: StoreCore, actor: Actor, patient_id: str, record_id: str,
                            *, infusion: tuple[str, int] | None = None) -> None:
    """Refuse (recorded) a second signed checklist of the same document: one signed SCREENING
    checklist per patient per local day (the clinic's), and one signed checklist per infusion
    of a course. Amending the signed one is the way. An infusion's checklist signed the same
    day as the patient's screening (or another course's infusion) is not refused.

    Args:
        store: the records store.
        actor: who signs.
        patient_id: the patient's id.
        record_id: the record to be signed.
        infusion: (course id, infusion number) when ``record_id`` is the screening of an
            infusion not linked to its course yet; otherwise the record's link (if any) says.

    Raises:
        SameDaySigningError: naming the screening signed today, its signer, the time and how
            to amend it.
        InfusionSignedError: the infusion has a current signed checklist (naming it, its
            signer, the time and how to amend it).
    """
    key = infusion or infusion_of(store, record_id)
    if key is not None:
        _refuse_second_infusion_signing(store, actor, patient_id, record_id, key)
        return
    day = store.clock().astimezone(store.zone).date()
    existing_id = signed_on(store, patient_id, day)
    if existing_id is None or existing_id == record_id:
        return  # the same content signed again is a RecordExistsError, raised later
    existing = get_any(store, existing_id)
    assert existing.signed_at is not None
    signer = existing.signer_name or existing.signed_by or "?"
    when = existing.signed_at.astimezone(store.zone).isoformat(sep=" ", timespec="minutes")
    how = (f"amend {existing_id} instead: in the app, open it and choose Amend; on the "
           f"command line, `ketascreen screen CASE --save --amends {existing_id} --reason "
           "\"...\" --pdf OUT.pdf --sign KEY.p12 --passphrase-file FILE`")
    reason = (f"this patient already has a checklist signed today: {existing_id}, signed "
              f"by {signer} at {when}; {how}")
    store.record_refusal(actor, "sign", record_id=record_id,
                         reason=f"a checklist was signed for this patient today: "
                         f"{existing_id}")
    raise SameDaySigningError(existing_id, reason, patient_id, signer, existing.signed_at, how)


def _refuse_second_infusion_signing(store: StoreCore, actor: Actor, patient_id: str,
                                    record_id: str, key: tuple[str, int]) -> None:
    course_id, number = key
    existing_id = _infusion_signed(store, course_id, number)
    if existing_id is None or existing_id == record_id:
        return
    existing = get_any(store, existing_id)
    assert existing.signed_at is not None
    signer = existing.signer_name or existing.signed_by or "?"
    when = existing.signed_at.astimezone(store.zone).isoformat(sep=" ", timespec="minutes")
    how = (f"amend infusion {number} instead: its corrected day-of check stored as a signed "
           f"amendment of {existing_id} (amend_infusion), never a second signed checklist")
    reason = (f"infusion {number} of course {course_id} already has a signed checklist: "
              f"{existing_id}, signed by {signer} at {when}; {how}")
    store.record_refusal(actor, "sign", record_id=record_id,
                         reason=f"infusion {number} of course {course_id} has a signed "
                         f"checklist: {existing_id}")
    raise InfusionSignedError(existing_id, reason, patient_id, signer, existing.signed_at, how,
                              course_id, number)


def infusion_of(store: StoreCore, record_id: str) -> tuple[str, int] | None:
    """(course id, infusion number) of the infusion whose screening ``record_id`` is, or
    ``None`` for a screening that is no infusion's."""
    with store.database.read() as session:
        found = session.execute(
            select(CourseRow.course_id, CourseInfusionRow.number)
            .join(CourseInfusionRow, CourseInfusionRow.course_id == CourseRow.id)
            .join(ScreeningRow, ScreeningRow.id == CourseInfusionRow.screening_id)
            .where(ScreeningRow.record_id == record_id).limit(1)).first()
    return None if found is None else (found[0], found[1])


def _current(row: type[ScreeningRow]) -> ColumnElement[bool]:
    replaced = aliased(ScreeningRow)
    return ~exists().where(replaced.amends_id == row.id)


def _infusion_signed(store: StoreCore, course_id: str, number: int) -> str | None:
    """The current signed checklist of infusion ``number`` of course ``course_id``, if any."""
    with store.database.read() as session:
        return session.execute(
            select(ScreeningRow.record_id)
            .join(CourseInfusionRow, CourseInfusionRow.screening_id == ScreeningRow.id)
            .join(CourseRow, CourseRow.id == CourseInfusionRow.course_id)
            .where(CourseRow.course_id == course_id, CourseInfusionRow.number == number)
            .where(ScreeningRow.status != "draft")
            .where(_current(ScreeningRow))
            .order_by(ScreeningRow.id.desc()).limit(1)).scalar_one_or_none()
