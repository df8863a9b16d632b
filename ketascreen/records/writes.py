"""Writing the records: storing, signing, changing, acknowledging and amending screenings.

Every function takes the store (:class:`~ketascreen.records.core.StoreCore`) and the
:class:`~ketascreen.records.roles.Actor` who acts, checks the role, and writes its change
together with its audit event in one transaction. A signed screening is never updated: a
change to it is an *amendment*, a new signed record that links to the one it replaces
(:func:`amend`). The database refuses updates of signed rows too (triggers), so a bug or
another program cannot slip past the store. Printing, the bedside double check and exporting
a signed record change nothing but the trail (:mod:`ketascreen.records.actions`). The rows
themselves (patient, screening, signed checklist) are written by
:mod:`ketascreen.records.screening_rows`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from ketascreen.errors import (
    AmendmentReasonMissingError,
    RecordError,
    RecordExistsError,
    RecordNotFoundError,
    SignedRecordImmutableError,
)
from ketascreen.records.chain import Detail
from ketascreen.records.content import StoredContent, content_of
from ketascreen.records.core import StoreCore, normalise_id
from ketascreen.records.documents import DocumentFacts
from ketascreen.records.models import CourseInfusionRow, Patient, ScreeningRow
from ketascreen.records.queries import get_any, stored
from ketascreen.records.roles import Actor, Permission
from ketascreen.records.screening_rows import (
    attach_document,
    insert_row,
    screening_row,
    set_content,
    sign_row,
)
from ketascreen.records.settings import rules_in_force
from ketascreen.records.signoff import (
    check_document,
    check_signer,
    refuse_same_day_signing,
    register_signer,
)
from ketascreen.records.views import StoredScreening
from ketascreen.visible import normalise_visible, visible_text_problem

if TYPE_CHECKING:
    from ketascreen.rules.engine import RuleSet
    from ketascreen.screening import Screening

log = logging.getLogger(__name__)
"""Logs name record ids, event numbers and actions only, never patient data."""


def create(store: StoreCore, actor: Actor, screening: Screening, *,
           ruleset: RuleSet | None = None, signed_pdf: bytes | None = None,
           register_certificate: bool = False,
           infusion: tuple[str, int] | None = None) -> StoredScreening:
    """Store a screening: a draft, or signed when ``signed_pdf`` is given.

    Storing the same content again with a signed document signs the stored draft.

    Args:
        store: the records store.
        actor: a physician.
        screening: from ``ruleset.run(case)``.
        ruleset: the rule set that produced it (default: the shipped one).
        signed_pdf: the signed checklist of exactly this case and result, signed with a
            certificate registered to ``actor``.
        register_certificate: the physician confirmed that the signing certificate is
            theirs: register it to ``actor`` if it is registered to nobody.
        infusion: (course id, number) when the screening is an infusion's, stored by
            :func:`ketascreen.records.courses.check_infusion` (one signed checklist per
            infusion, rather than per patient per day).

    Raises:
        PermissionDeniedError: the role may not screen, acknowledge (the case carries
            acknowledgements) or sign.
        CertificateNotRegisteredError: the signing certificate is not registered to
            ``actor`` (:class:`~ketascreen.errors.CertificateOwnedByAnotherError`: it is
            another account's); recorded.
        SameDaySigningError: the patient has a screening checklist signed the same local day,
            or (:class:`~ketascreen.records.courseviews.InfusionSignedError`) the infusion has
            a signed checklist (amend it instead); recorded.
        RecordExistsError: this content is stored already (and is not a draft to sign).
        RecordError: the document is not a signed checklist of this screening, or the
            patient id is on record with another date of birth.
    """
    content = content_of(screening, ruleset or rules_in_force(store))
    store.authorise(actor, Permission.SCREEN, content.record_id)
    if content.acknowledged:
        store.authorise(actor, Permission.ACKNOWLEDGE, content.record_id)
    facts = None
    register = False
    if signed_pdf is not None:
        store.authorise(actor, Permission.SIGN, content.record_id)
        facts = _check_content_document(store, signed_pdf, content)
        register = check_signer(store, actor, facts, action="sign",
                                record_id=content.record_id, register=register_certificate)
        refuse_same_day_signing(store, actor, content.patient_id, content.record_id,
                                infusion=infusion)
    with store.transaction() as tx:
        existing = screening_row(tx.session, content.record_id)
        if existing is not None:
            if existing.status != "draft" or facts is None:
                raise RecordExistsError(content.record_id, "this screening is stored "
                                        f"already ({existing.status})", existing.status)
            register_signer(store, tx, actor, facts, register)
            sign_row(store, tx, actor, existing, pdf=signed_pdf or b"", facts=facts)
            row = existing
        else:
            if facts is not None:
                register_signer(store, tx, actor, facts, register)
            row = insert_row(store, tx, actor, content,
                             status="signed" if facts else "draft", facts=facts)
            if facts is not None:
                attach_document(tx, actor, row, signed_pdf or b"", facts, action="sign")
        result = stored(tx.session, row.record_id)
    log.info("stored %s (%s)", result.record_id, result.status)
    return result


def sign(store: StoreCore, actor: Actor, record_id: str, signed_pdf: bytes, *,
         register_certificate: bool = False) -> StoredScreening:
    """Sign a draft with its signed checklist.

    Args:
        store: the records store.
        actor: a physician.
        record_id: the draft.
        signed_pdf: its signed checklist, signed with a certificate registered to ``actor``.
        register_certificate: see :func:`create`.

    Raises:
        PermissionDeniedError: the role may not sign.
        RecordNotFoundError: no such record.
        SignedRecordImmutableError: it is signed already.
        CertificateNotRegisteredError: see :func:`create`.
        SameDaySigningError: see :func:`create`.
        RecordError: the document is not a signed checklist of this record.
    """
    record_id = normalise_id(record_id)
    store.authorise(actor, Permission.SIGN, record_id)
    current = get_any(store, record_id)
    if current.is_signed:
        store.refuse_immutable(actor, "sign", record_id)
    facts = check_document(store, signed_pdf, record_id=record_id,
                           case_json=current.case_json, result_json=current.result_json)
    register = check_signer(store, actor, facts, action="sign", record_id=record_id,
                            register=register_certificate)
    refuse_same_day_signing(store, actor, current.patient.patient_id, record_id)
    with store.transaction() as tx:
        row = screening_row(tx.session, record_id, lock=True)
        if row is None or row.status != "draft":
            raise SignedRecordImmutableError(record_id, "it was signed or changed meanwhile")
        register_signer(store, tx, actor, facts, register)
        sign_row(store, tx, actor, row, pdf=signed_pdf, facts=facts)
        result = stored(tx.session, record_id)
    log.info("signed %s", record_id)
    return result


def update_draft(store: StoreCore, actor: Actor, record_id: str, screening: Screening, *,
                 ruleset: RuleSet | None = None, action: str = "update",
                 detail: Detail | None = None) -> StoredScreening:
    """Replace a draft's case and result (its record id follows the new content).

    Raises:
        PermissionDeniedError: the role may not screen (or acknowledge).
        RecordNotFoundError: no such record.
        SignedRecordImmutableError: the record is signed (amend it instead); recorded as a
            refusal.
        RecordExistsError: the new content is stored already as another record.
        RecordError: the new screening is of another patient, or the draft is an infusion's
            screening (check the infusion again; recorded).
    """
    record_id = normalise_id(record_id)
    content = content_of(screening, ruleset or rules_in_force(store))
    store.authorise(actor, Permission.SCREEN, record_id)
    if content.acknowledged:
        store.authorise(actor, Permission.ACKNOWLEDGE, record_id)
    if get_any(store, record_id).is_signed:
        store.refuse_immutable(actor, action, record_id)
    _refuse_infusion(store, actor, action, record_id)
    with store.transaction() as tx:
        row = screening_row(tx.session, record_id, lock=True)
        if row is None or row.status != "draft":
            raise SignedRecordImmutableError(record_id, "it was signed or changed meanwhile")
        patient = tx.session.get(Patient, row.patient_id)
        if patient is None or patient.external_id != content.patient_id:
            raise RecordError(record_id, "the new screening is of another patient")
        if content.record_id != record_id and screening_row(tx.session, content.record_id):
            raise RecordExistsError(content.record_id, "this screening is stored already",
                                    "draft")
        set_content(row, content)
        row.updated_at = store.clock()
        tx.trail.append(username=actor.username, role=actor.role.value, action=action,
                        record_id=content.record_id,
                        detail={"previous_record": record_id,
                                "content_sha256": content.content_sha256,
                                **(detail or {})})
        result = stored(tx.session, content.record_id)
    log.info("%s %s -> %s", action, record_id, result.record_id)
    return result


def acknowledge(store: StoreCore, actor: Actor, record_id: str, *, concept: str, reason: str,
                ruleset: RuleSet | None = None) -> StoredScreening:
    """Acknowledge a finding of a draft with a reason, and screen it again.

    Raises:
        PermissionDeniedError: the role may not acknowledge.
        RecordNotFoundError: no such record.
        SignedRecordImmutableError: the record is signed (amend it instead).
        RecordError: the draft has no finding of ``concept``, ``reason`` is empty, or the
            draft is an infusion's screening (acknowledge in its day-of check; recorded).
    """
    from ketascreen.models.parsing import parse_case  # noqa: PLC0415
    from ketascreen.screening import run  # noqa: PLC0415

    record_id = normalise_id(record_id)
    store.authorise(actor, Permission.ACKNOWLEDGE, record_id)
    current = get_any(store, record_id)
    if current.status != "draft":
        store.refuse_immutable(actor, "acknowledge", record_id)
    _refuse_infusion(store, actor, "acknowledge", record_id)
    if not reason.strip():
        raise RecordError(record_id, "an acknowledgement needs a reason")
    if (problem := visible_text_problem(reason)) is not None:
        raise RecordError(record_id, f"acknowledgement reason {problem}")
    if concept not in {f.concept for f in current.result().findings}:
        raise RecordError(record_id, f"the screening has no finding {concept!r}")
    data = current.case().model_dump(mode="json", exclude_none=True)
    data["acknowledgements"] = [a for a in data.get("acknowledgements", [])
                                if a["concept"] != concept]
    data["acknowledgements"].append({"concept": concept, "reason": normalise_visible(reason)})
    ruleset = ruleset or rules_in_force(store)
    screening = run(parse_case(data, source=record_id), rules=ruleset)
    return update_draft(store, actor, record_id, screening, ruleset=ruleset,
                        action="acknowledge", detail={"concept": concept})


def amend(store: StoreCore, actor: Actor, record_id: str, screening: Screening, *,
          signed_pdf: bytes, reason: str, ruleset: RuleSet | None = None,
          register_certificate: bool = False, of_infusion: bool = False) -> StoredScreening:
    """Store a signed amendment of a signed record; the original is left as it is.

    Args:
        store: the records store.
        actor: a physician.
        record_id: the record amended (the latest of its line).
        screening: the corrected screening.
        signed_pdf: the signed checklist of the corrected screening.
        reason: why the record is amended (kept with the amendment).
        ruleset: the rule set that produced ``screening``.
        register_certificate: see :func:`create`.
        of_infusion: the amendment of an infusion's screening, screened in its course
            (:func:`ketascreen.records.courses.amend_infusion` passes it); otherwise an
            infusion's screening is refused here.

    Raises:
        PermissionDeniedError: the role may not amend (or acknowledge).
        RecordNotFoundError: no such record.
        AmendmentReasonMissingError: the reason is blank.
        CertificateNotRegisteredError: see :func:`create`.
        RecordError: the record is a draft (change it instead), was amended already,
            is of another patient, is an infusion's screening (amend the infusion), or the
            document does not match.
        RecordExistsError: the corrected content is stored already.
    """
    record_id = normalise_id(record_id)
    content = content_of(screening, ruleset or rules_in_force(store))
    store.authorise(actor, Permission.AMEND, record_id)
    if content.acknowledged:
        store.authorise(actor, Permission.ACKNOWLEDGE, record_id)
    if not reason.strip():
        raise AmendmentReasonMissingError(record_id, "an amendment needs a reason (typed)")
    if (problem := visible_text_problem(reason)) is not None:
        raise RecordError(record_id, f"amendment reason {problem}")
    if not of_infusion:
        _refuse_infusion(store, actor, "amend", record_id)
    facts = _check_content_document(store, signed_pdf, content)
    register = check_signer(store, actor, facts, action="amend", record_id=record_id,
                            register=register_certificate)
    with store.transaction() as tx:
        original = screening_row(tx.session, record_id)
        if original is None:
            raise RecordNotFoundError(record_id, "no such record")
        if original.status == "draft":
            raise RecordError(record_id, "a draft is changed, not amended")
        later = tx.session.execute(select(ScreeningRow.record_id).where(
            ScreeningRow.amends_id == original.id)).scalar_one_or_none()
        if later is not None:
            raise RecordError(record_id, f"it was amended already by {later}; amend that")
        patient = tx.session.get(Patient, original.patient_id)
        if patient is None or patient.external_id != content.patient_id:
            raise RecordError(record_id, "the amendment is of another patient")
        if screening_row(tx.session, content.record_id) is not None:
            raise RecordExistsError(content.record_id, "this screening is stored already",
                                    "signed")
        register_signer(store, tx, actor, facts, register)
        row = insert_row(store, tx, actor, content, status="amended", facts=facts,
                         amends=original, reason=normalise_visible(reason))
        attach_document(tx, actor, row, signed_pdf, facts, action="amend",
                        extra={"amends": record_id})
        result = stored(tx.session, row.record_id)
    log.info("amended %s by %s", record_id, result.record_id)
    return result


# -- checks ----------------------------------------------------------------------------------

def _refuse_infusion(store: StoreCore, actor: Actor, action: str, record_id: str) -> None:
    """Refuse (recorded) changing or amending an infusion's screening as a plain case: it is
    screened in its course, so it is checked again (a draft) or amended with its day-of content
    (:mod:`ketascreen.records.courses`)."""
    with store.database.read() as session:
        linked = session.execute(
            select(CourseInfusionRow.id)
            .join(ScreeningRow, ScreeningRow.id == CourseInfusionRow.screening_id)
            .where(ScreeningRow.record_id == record_id)).first() is not None
    if linked:
        reason = ("it is the screening of an infusion of a course: check the infusion again "
                  "with its day-of check (acknowledgements included), or amend the infusion")
        store.record_refusal(actor, action, record_id=record_id, reason=reason)
        raise RecordError(record_id, reason)


def _check_content_document(store: StoreCore, pdf: bytes, content: StoredContent
                            ) -> DocumentFacts:
    return check_document(store, pdf, record_id=content.record_id,
                          case_json=content.case_json, result_json=content.result_json)
