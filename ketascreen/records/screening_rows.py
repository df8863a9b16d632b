"""The rows of a stored screening: its patient, its ``screenings`` row and content, its
signed checklist — each written with its audit event inside the caller's transaction.

The actions that check the role and the documents before writing (store, sign, change, amend)
are in :mod:`ketascreen.records.writes`; these helpers only write what they are given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from ketascreen.errors import RecordError
from ketascreen.records.models import Patient, ScreeningRow, SignedDocument

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ketascreen.records.chain import Detail
    from ketascreen.records.content import StoredContent
    from ketascreen.records.core import StoreCore, Tx
    from ketascreen.records.documents import DocumentFacts
    from ketascreen.records.roles import Actor


def screening_row(session: Session, record_id: str, *,
                  lock: bool = False) -> ScreeningRow | None:
    """The ``screenings`` row of ``record_id`` (locked for update when ``lock``), or None."""
    query = select(ScreeningRow).where(ScreeningRow.record_id == record_id)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def _patient(store: StoreCore, tx: Tx, actor: Actor, content: StoredContent) -> Patient:
    patient = tx.session.execute(select(Patient).where(
        Patient.external_id == content.patient_id)).scalar_one_or_none()
    if patient is None:
        patient = Patient(external_id=content.patient_id, name=content.patient_name,
                          birth_date=content.birth_date, created_at=store.clock())
        tx.session.add(patient)
        tx.session.flush()
        return patient
    if patient.birth_date != content.birth_date:
        raise RecordError(content.record_id, "this patient id is on record with another "
                          "date of birth: check the patient's identity")
    if patient.name != content.patient_name:
        patient.name = content.patient_name
        tx.trail.append(username=actor.username, role=actor.role.value,
                        action="patient-update", record_id=content.record_id,
                        detail={"field": "name"})
    return patient


def set_content(row: ScreeningRow, content: StoredContent) -> None:
    """Write a screening's content (record id, decision, case and result, hash, the versions
    and hashes of the clinic files) into its row."""
    row.record_id = content.record_id
    row.decision = content.decision
    row.screening_date = content.screening_date
    row.case_json = content.case_json
    row.result_json = content.result_json
    row.content_sha256 = content.content_sha256
    versions = content.versions
    row.ruleset_version, row.ruleset_sha256 = versions.ruleset_version, versions.ruleset_sha256
    row.policy_version, row.policy_sha256 = versions.policy_version, versions.policy_sha256
    row.formulary_version = versions.formulary_version
    row.formulary_sha256 = versions.formulary_sha256


def insert_row(store: StoreCore, tx: Tx, actor: Actor, content: StoredContent, *, status: str,
               facts: DocumentFacts | None = None, amends: ScreeningRow | None = None,
               reason: str | None = None) -> ScreeningRow:
    """Insert a screening's row (its patient's row added or checked first) with its ``create``
    event.

    Raises:
        RecordError: the patient id is on record with another date of birth.
    """
    patient = _patient(store, tx, actor, content)
    now = store.clock()
    signed = status != "draft"
    row = ScreeningRow(patient_id=patient.id, status=status, created_at=now,
                       created_by=actor.user_id, updated_at=now,
                       signed_at=now if signed else None,
                       signed_by=actor.user_id if signed else None,
                       signer_name=facts.signer_name if facts else None,
                       signer_certificate_sha256=facts.certificate_sha256 if facts else None,
                       amends_id=amends.id if amends else None, amendment_reason=reason)
    set_content(row, content)
    tx.session.add(row)
    tx.session.flush()
    tx.trail.append(username=actor.username, role=actor.role.value, action="create",
                    record_id=content.record_id,
                    detail={"status": status, "content_sha256": content.content_sha256})
    return row


def sign_row(store: StoreCore, tx: Tx, actor: Actor, row: ScreeningRow, *, pdf: bytes,
             facts: DocumentFacts) -> None:
    """Mark a draft's row signed by ``actor`` and attach its signed checklist (``sign``
    event)."""
    now = store.clock()
    row.status, row.signed_at, row.signed_by, row.updated_at = "signed", now, actor.user_id, now
    row.signer_name = facts.signer_name
    row.signer_certificate_sha256 = facts.certificate_sha256
    tx.session.flush()
    attach_document(tx, actor, row, pdf, facts, action="sign")


def attach_document(tx: Tx, actor: Actor, row: ScreeningRow, pdf: bytes,
                    facts: DocumentFacts, *, action: str, extra: Detail | None = None) -> None:
    """Store a row's signed checklist with the event ``action`` naming the content, document
    and certificate hashes (and ``extra``)."""
    tx.session.add(SignedDocument(screening_id=row.id, pdf=pdf, sha256=facts.sha256,
                                  size=facts.size, created_at=row.updated_at))
    tx.session.flush()
    tx.trail.append(username=actor.username, role=actor.role.value, action=action,
                    record_id=row.record_id,
                    detail={"content_sha256": row.content_sha256,
                            "document_sha256": facts.sha256,
                            "certificate_sha256": facts.certificate_sha256,
                            **(extra or {})})
