"""The bedside, in the records: the blinded independent double check and the nurse's
countersignature of a signed checklist (one record: a first screening, or one infusion of a
course).

- :func:`signed_order_of`: the signed order re-derived from the stored case and result
  (:func:`ketascreen.doublecheck.signed_order`), for the surfaces that show it once the check
  is over.
- :func:`perform_double_check`: the checking nurse (signed in) re-enters her password; the
  witness (the clinician who prepared and programmed the pump) authenticates with hers; what the
  nurse entered is compared with the signed order (:func:`ketascreen.doublecheck.compare`).
  Every attempt (match, mismatch, override) is a ``double-check`` audit event naming both
  people, the result, what she entered and which items matched (never an identifier as typed:
  the trail holds no patient data). An override of a mismatch needs a typed reason and a
  second nurse who authenticates (not the checker, the witness or the signer).
- :func:`countersign`: the nurse's countersigned PDF (the physician-signed bytes with her
  signature appended as an incremental update) stored as a new document, never over the
  physician's.

Passwords are checked by :func:`ketascreen.records.users.authenticate` (throttled, audited
logins). A refusal is recorded in the audit trail before its typed error is raised.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select

from ketascreen.doublecheck import BedsideEntries, DoubleCheckOutcome, SignedOrder, compare
from ketascreen.doublecheck import signed_order as derive_order
from ketascreen.errors import (
    AuthenticationFailedError,
    CountersignRefusedError,
    DoubleCheckRefusedError,
    OrderNotRederivableError,
    RecordError,
)
from ketascreen.records import certificates, users
from ketascreen.records.core import StoreCore, normalise_id
from ketascreen.records.models import (
    AuditEventRow,
    CountersignedDocument,
    ScreeningRow,
    User,
)
from ketascreen.records.queries import document_of, get_any
from ketascreen.records.roles import Actor, Permission, Role
from ketascreen.records.settings import rules_in_force
from ketascreen.visible import normalise_visible, visible_text_problem

if TYPE_CHECKING:
    from ketascreen.records.chain import Detail
    from ketascreen.records.views import StoredScreening
    from ketascreen.reports.signing import CountersignStamp

log = logging.getLogger(__name__)
"""Logs name record ids, event numbers and actions only, never patient data."""

DOUBLE_CHECK = "double-check"
"""The audit action of every double-check attempt (and of its refusals)."""
COUNTERSIGN = "countersign"
"""The audit action of a stored countersignature (and of its refusals)."""

CheckResult = Literal["match", "mismatch", "override"]


@dataclass(frozen=True)
class Override:
    """The override of a mismatch: a typed reason and a second nurse who authenticates.

    Attributes:
        reason: why the preparation is given although an item differs (typed).
        nurse: the user name of the second nurse (not the checker, the witness or the signer).
        password: her password.
    """

    reason: str
    nurse: str
    password: str


@dataclass(frozen=True)
class DoubleCheckRecord:
    """A recorded double-check attempt.

    Attributes:
        event: its audit event number.
        outcome: the items compared.
        result: ``match``, ``mismatch`` or ``override``.
        checker: the checking nurse's user name.
        witness: the witness's user name.
        override_by: the second nurse who approved an override, else ``None``.
        checked_at: when (UTC).
        checker_name: the checker's display name (printed on the countersignature stamp).
        witness_name: the witness's display name.
        reason: the override's reason, else ``None``.
    """

    event: int
    outcome: DoubleCheckOutcome
    result: CheckResult
    checker: str
    witness: str
    override_by: str | None
    checked_at: datetime
    checker_name: str = ""
    witness_name: str = ""
    reason: str | None = None


def _signed(store: StoreCore, actor: Actor, record_id: str, action: str) -> StoredScreening:
    """The signed, current record ``record_id``.

    Raises:
        RecordNotFoundError: no such record.
        RecordError: a draft, or replaced by an amendment (recorded).
    """
    stored = get_any(store, record_id)
    reason = ("it is a draft, not a signed checklist" if not stored.is_signed else
              f"replaced by the amendment {stored.superseded_by}; open that"
              if stored.superseded_by is not None else None)
    if reason is not None:
        store.record_refusal(actor, action, record_id=record_id, reason=reason)
        raise RecordError(record_id, reason)
    return stored


def signed_order_of(store: StoreCore, actor: Actor, record_id: str) -> SignedOrder:
    """The signed order of ``record_id``, re-derived with the rules in force (see
    :func:`ketascreen.doublecheck.signed_order`).

    Raises:
        PermissionDeniedError: the role may not view signed checklists (recorded).
        RecordNotFoundError: no such record.
        RecordError: a draft, or replaced by an amendment.
        OrderNotRederivableError: the rules in force give another order than the signed one.
    """
    record_id = normalise_id(record_id)
    store.authorise(actor, Permission.VIEW_SIGNED, record_id)
    stored = _signed(store, actor, record_id, "view-signed")
    return derive_order(record_id, stored.case(), stored.result(), rules_in_force(store))


def _refuse(store: StoreCore, actor: Actor, record_id: str, field: str,
            reason: str) -> DoubleCheckRefusedError:
    store.record_refusal(actor, DOUBLE_CHECK, record_id=record_id, reason=f"{field}: {reason}")
    return DoubleCheckRefusedError(record_id, field, reason)


def _authenticated(store: StoreCore, actor: Actor, record_id: str, field: str, *,
                   username: str, password: str) -> Actor:
    """``username`` logged in with ``password`` (an audited login); a failure is also
    recorded as a refused double check naming who did not authenticate."""
    try:
        return users.authenticate(store, username, password)
    except AuthenticationFailedError:
        store.record_refusal(actor, DOUBLE_CHECK, record_id=record_id,
                             reason=f"{field}: did not authenticate")
        raise


def _active_clinician(store: StoreCore, username: str) -> str | None:
    """The role of an active account named ``username``, or ``None``."""
    with store.database.read() as session:
        user = session.execute(select(User).where(User.username == username)
                               ).scalar_one_or_none()
    return None if user is None or not user.active else user.role


def perform_double_check(store: StoreCore, actor: Actor, record_id: str, *, password: str,
                         witness: str, witness_password: str, entries: BedsideEntries,
                         override: Override | None = None) -> DoubleCheckRecord:
    """The blinded independent double check of a signed checklist, recorded.

    Args:
        store: the records store.
        actor: the checker, signed in (a nurse: her role must have DOUBLE_CHECK).
        record_id: the signed checklist (a first screening, or one infusion of a course).
        password: the checker's password, re-entered.
        witness: the user name of the other clinician at the bedside (a nurse or physician),
            who prepared and programmed the pump.
        witness_password: the witness's password.
        entries: what the checker has in hand (:func:`ketascreen.doublecheck.parse_entries`).
        override: to give the preparation although an item differs: a typed reason and a
            second nurse who authenticates.

    Returns:
        The recorded attempt: ``match``, ``mismatch`` (a recheck is a new attempt) or
        ``override``.

    Raises:
        PermissionDeniedError: the role may not double-check (recorded).
        RecordNotFoundError: no such record.
        RecordError: a draft, or replaced by an amendment (recorded).
        OrderNotRederivableError: the signed order cannot be re-derived (recorded).
        DoubleCheckRefusedError: the checker or the witness signed the order; the witness is
            the checker, or not an active nurse or physician; an override without a mismatch,
            without a reason, or by someone other than an active nurse who is not the checker,
            the witness or the signer (each recorded).
        AuthenticationFailedError: the checker, the witness or the override nurse did not
            authenticate (the login and the refusal recorded).
    """
    record_id = normalise_id(record_id)
    store.authorise(actor, Permission.DOUBLE_CHECK, record_id)
    stored = _signed(store, actor, record_id, DOUBLE_CHECK)
    signer = stored.signed_by
    witness = witness.strip()
    if actor.username == signer:
        raise _refuse(store, actor, record_id, "checker",
                      "the checker signed the order: the double check is independent")
    if witness == actor.username:
        raise _refuse(store, actor, record_id, "witness",
                      "the witness is the checker: the double check needs a second clinician")
    if witness == signer:
        raise _refuse(store, actor, record_id, "witness",
                      "the witness signed the order: the double check is independent")
    reason: str | None = None
    if override is not None:
        problem = visible_text_problem(override.reason)
        if problem is not None:
            raise _refuse(store, actor, record_id, "override",
                          f"an override needs a typed reason (the reason {problem})")
        reason = normalise_visible(override.reason)
        if override.nurse.strip() in {actor.username, witness, signer}:
            raise _refuse(store, actor, record_id, "override",
                          "the override is approved by a second nurse who is not the checker, "
                          "the witness or the signer")
    try:
        order = derive_order(record_id, stored.case(), stored.result(), rules_in_force(store))
    except OrderNotRederivableError as error:
        store.record_refusal(actor, DOUBLE_CHECK, record_id=record_id, reason=error.reason)
        raise
    checker = _authenticated(store, actor, record_id, "checker", username=actor.username,
                             password=password)
    if checker.user_id != actor.user_id:  # pragma: no cover - a user name names one account
        raise _refuse(store, actor, record_id, "checker", "not the signed-in account")
    seconded = _authenticated(store, actor, record_id, "witness", username=witness,
                              password=witness_password)
    if seconded.role not in (Role.NURSE, Role.PHYSICIAN):
        raise _refuse(store, actor, record_id, "witness", "not an active nurse or physician")
    outcome = compare(order, entries)
    approver: Actor | None = None
    if override is not None:
        if outcome.passed:
            raise _refuse(store, actor, record_id, "override",
                          "nothing to override: every item matches")
        approver = _authenticated(store, actor, record_id, "override",
                                  username=override.nurse.strip(), password=override.password)
        if approver.role is not Role.NURSE:
            raise _refuse(store, actor, record_id, "override",
                          "an override is approved by a second nurse")
    result: CheckResult = ("match" if outcome.passed else
                           "override" if approver is not None else "mismatch")
    detail: dict[str, str | int | bool | None] = {
        "result": result, "checker": actor.username, "witness": seconded.username,
        "override_by": approver.username if approver is not None else None,
        "reason": reason if approver is not None else None,
        "mismatches": ",".join(item.key for item in outcome.mismatches),
        "tolerance_percent": str(outcome.detail()["tolerance_percent"]),
    }
    for item in outcome.items:
        detail[f"matches.{item.key}"] = item.matches
        if not item.key.startswith("identifier-"):
            detail[f"entered.{item.key}"] = item.entered
    now = store.clock()
    with store.transaction() as tx:
        seq = tx.trail.append(username=actor.username, role=actor.role.value,
                              action=DOUBLE_CHECK, record_id=record_id, detail=detail, at=now)
    log.info("double check %s of %s (event %d)", result, record_id, seq)
    return DoubleCheckRecord(seq, outcome, result, actor.username, seconded.username,
                             approver.username if approver else None, now,
                             checker_name=actor.display_name,
                             witness_name=seconded.display_name,
                             reason=reason if approver is not None else None)


# --------------------------------------------------------------------------------------------
# Countersigning


@dataclass(frozen=True)
class LatestCheck:
    """The latest double-check attempt of a record (by anyone, or by one nurse).

    Attributes:
        event: its audit event number.
        result: ``match``, ``mismatch`` or ``override``.
        checker: who checked.
        witness: who witnessed.
        reason: an override's reason.
    """

    event: int
    result: str
    checker: str
    witness: str
    reason: str | None


def latest_double_check(store: StoreCore, record_id: str, *, checker: str | None = None
                        ) -> LatestCheck | None:
    """The latest recorded double-check attempt of ``record_id`` (by ``checker`` when
    given), or ``None``. Not audited: a read of the trail."""
    query = (select(AuditEventRow.seq, AuditEventRow.detail)
             .where(AuditEventRow.record_id == normalise_id(record_id))
             .where(AuditEventRow.action == DOUBLE_CHECK, AuditEventRow.outcome == "ok")
             .order_by(AuditEventRow.seq.desc()))
    if checker is not None:
        query = query.where(AuditEventRow.username == checker)
    with store.database.read() as session:
        for seq, text in session.execute(query):
            detail = json.loads(text or "{}")
            if "result" in detail:
                return LatestCheck(seq, str(detail["result"]), str(detail.get("checker")),
                                   str(detail.get("witness")), detail.get("reason"))
    return None


@dataclass(frozen=True)
class _Countersignature:
    count: int
    fields: tuple[str, ...]
    signer_name: str
    fingerprint: str | None
    der: bytes | None


def _countersignature_of(pdf: bytes) -> _Countersignature:
    """The signatures' field names and the last signature's certificate."""
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415

    from ketascreen.reports.signing import quiet_logs  # noqa: PLC0415

    with quiet_logs("pyhanko"):
        signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    fields = tuple(str(s.field_name) for s in signatures)
    certificate = signatures[-1].signer_cert if signatures else None
    if certificate is None:
        return _Countersignature(len(signatures), fields, "(unknown signer)", None, None)
    name = certificate.subject.native.get("common_name")
    der = bytes(certificate.dump())
    return _Countersignature(len(signatures), fields,
                             str(name) if name else "(unnamed certificate)",
                             hashlib.sha256(der).hexdigest(), der)


def _document_problem(store: StoreCore, pdf: bytes, physician_pdf: bytes) -> str | None:
    """Why ``pdf`` is not the physician's document with exactly one countersignature."""
    from ketascreen.reports.signing import (  # noqa: PLC0415
        COUNTERSIGNATURE_FIELD,
        SIGNATURE_FIELD,
    )
    from ketascreen.reports.verification import verify_pdf  # noqa: PLC0415

    if not pdf.startswith(physician_pdf) or len(pdf) == len(physician_pdf):
        return ("it does not start with the physician's signed document as stored (a "
                "countersignature is an incremental update of it)")
    try:
        found = _countersignature_of(pdf)
    except Exception as error:  # noqa: BLE001 - pyHanko raises many kinds on a broken PDF
        return f"its signatures cannot be read ({type(error).__name__})"
    if found.fields != (SIGNATURE_FIELD, COUNTERSIGNATURE_FIELD):
        return (f"it must carry exactly two signatures, the physician's and the countersignature "
                f"in {COUNTERSIGNATURE_FIELD} (found: {', '.join(found.fields) or 'none'})")
    verification = verify_pdf(pdf, registered=lambda fp: certificates.registered_owner(store, fp))
    broken = [p for c in verification.signatures for p in c.problems if "UNTRUSTED" not in p]
    if (verification.status == "INVALID" or broken
            or not all(c.intact and c.valid for c in verification.signatures)):
        return "its signatures do not verify: " + "; ".join(
            broken or list(verification.problems) or ["broken"])
    return None


def countersign(store: StoreCore, actor: Actor, record_id: str, pdf: bytes, *,
                register: bool = False) -> int:
    """Store the nurse-countersigned PDF as a new document (never over the physician's).

    Args:
        store: the records store.
        actor: the countersigning nurse (COUNTERSIGN).
        record_id: the signed checklist.
        pdf: the physician-signed document as stored with her countersignature appended
            (:func:`ketascreen.reports.signing.countersign_pdf`).
        register: register the countersignature's certificate to ``actor`` if it is nobody's
            (she confirmed it is hers; it must name her).

    Returns:
        The ``countersign`` event's number.

    Raises:
        PermissionDeniedError: the role may not countersign (recorded).
        RecordNotFoundError: no such record.
        RecordError: a draft, or replaced by an amendment (recorded).
        CountersignRefusedError: her latest double check of the record did not match and was
            not overridden (or there is none); the record is countersigned already; the PDF
            does not start with the stored physician-signed bytes, does not carry exactly the
            physician's signature and the countersignature, or a signature does not verify
            (each recorded).
        CertificateNotRegisteredError: the countersignature's certificate is not registered to
            ``actor`` (another account's, or nobody's without ``register``; recorded).
    """
    record_id = normalise_id(record_id)
    store.authorise(actor, Permission.COUNTERSIGN, record_id)
    stored = _signed(store, actor, record_id, COUNTERSIGN)

    def refuse(reason: str) -> CountersignRefusedError:
        store.record_refusal(actor, COUNTERSIGN, record_id=record_id, reason=reason)
        return CountersignRefusedError(record_id, reason)

    check = latest_double_check(store, record_id, checker=actor.username)
    if check is None or check.result not in ("match", "override"):
        raise refuse("countersign after your own double check that matched the order or was "
                     "overridden" + ("" if check is None else
                                     f" (your latest, event {check.event}: {check.result})"))
    if countersigned_document(store, record_id) is not None:
        raise refuse("the checklist is countersigned already")
    physician_pdf = document_of(store, record_id)
    problem = _document_problem(store, pdf, physician_pdf)
    if problem is not None:
        raise refuse(problem)
    found = _countersignature_of(pdf)
    assert found.fingerprint is not None  # verified above: the signature carries one
    to_register = certificates.check_signer(store, actor, found.fingerprint, found.signer_name,
                                            action=COUNTERSIGN, record_id=record_id,
                                            register=register)
    digest = hashlib.sha256(pdf).hexdigest()
    now = store.clock()
    with store.transaction() as tx:
        row_id = tx.session.execute(select(ScreeningRow.id).where(
            ScreeningRow.record_id == record_id)).scalar_one()
        if to_register:
            certificates.add_certificate(tx, actor, user_id=actor.user_id,
                                         username=actor.username, fingerprint=found.fingerprint,
                                         subject_name=found.signer_name, der=found.der, now=now)
        tx.session.add(CountersignedDocument(
            screening_id=row_id, pdf=pdf, sha256=digest, size=len(pdf), signer_id=actor.user_id,
            signer_name=found.signer_name[:300], certificate_sha256=found.fingerprint,
            signed_at=now, double_check_event=check.event, created_at=now))
        tx.session.flush()
        detail: Detail = {
            "document_sha256": digest, "certificate_sha256": found.fingerprint,
            "physician_document_sha256": stored.document_sha256,
            "double_check_event": check.event, "result": check.result}
        seq = tx.trail.append(username=actor.username, role=actor.role.value,
                              action=COUNTERSIGN, record_id=record_id, detail=detail)
    log.info("countersigned %s (event %d)", record_id, seq)
    return seq


@dataclass(frozen=True)
class CountersignedInfo:
    """A stored countersignature.

    Attributes:
        pdf: the countersigned PDF (checked against its sha256 by :func:`countersigned_pdf`).
        sha256: of the PDF.
        signer_name: the countersignature certificate's name.
        signer: the countersigning nurse's user name.
        signed_at: when it was stored (UTC).
        double_check_event: the audit event of the double check it follows.
    """

    pdf: bytes
    sha256: str
    signer_name: str
    signer: str
    signed_at: datetime
    double_check_event: int


def countersigned_document(store: StoreCore, record_id: str) -> CountersignedInfo | None:
    """The countersigned document of ``record_id``, or ``None`` (no role check: the callers
    checked it)."""
    with store.database.read() as session:
        row = session.execute(
            select(CountersignedDocument, User.username)
            .join(ScreeningRow, ScreeningRow.id == CountersignedDocument.screening_id)
            .join(User, User.id == CountersignedDocument.signer_id)
            .where(ScreeningRow.record_id == normalise_id(record_id))).one_or_none()
        if row is None:
            return None
        document, username = row
        return CountersignedInfo(bytes(document.pdf), document.sha256, document.signer_name,
                                 username, document.signed_at, document.double_check_event)


_STAMP_ORDER = ("identifier-name", "identifier-birth-date", "identifier-patient-id",
                "vial-concentration", "volume-drawn", "diluent-volume", "pump-rate", "vtbi",
                "dose-mg", "dose-mg-per-kg")
_STAMP_LABELS = {"identifier-name": "Patient name", "identifier-birth-date": "Date of birth",
                 "identifier-patient-id": "Patient ID",
                 "vial-concentration": "Vial concentration", "volume-drawn": "Volume drawn up",
                 "diluent-volume": "Diluent volume", "pump-rate": "Pump rate", "vtbi": "VTBI",
                 "dose-mg": "Dose", "dose-mg-per-kg": "Dose per kg"}


def countersign_stamp(store: StoreCore, actor: Actor, record_id: str) -> CountersignStamp:
    """What the countersignature stamp prints for ``actor``'s latest double check of
    ``record_id``, read from its audit event: checker and witness by their names, the result
    (``MATCHES THE ORDER`` or ``OVERRIDDEN: <reason>``) and what she entered, in the order
    column's order and labels (an identifier she checked as ``checked``: the trail holds no
    patient data), the labels that differed (an override) in ``differs``.

    Raises:
        CountersignRefusedError: her latest double check of the record did not match and was
            not overridden, or there is none (recorded: the countersignature is refused).
    """
    from ketascreen.reports.signing import MATCHES_THE_ORDER, CountersignStamp  # noqa: PLC0415

    record_id = normalise_id(record_id)
    with store.database.read() as session:
        found = session.execute(
            select(AuditEventRow.detail).where(AuditEventRow.record_id == record_id)
            .where(AuditEventRow.action == DOUBLE_CHECK, AuditEventRow.outcome == "ok",
                   AuditEventRow.username == actor.username)
            .order_by(AuditEventRow.seq.desc())).scalars()
        detail: dict[str, Any] = next(
            (d for d in (json.loads(text or "{}") for text in found) if "result" in d), {})
        names = dict(session.execute(select(User.username, User.display_name).where(
            User.username.in_([str(detail.get("checker")), str(detail.get("witness"))]))).all())
    result = detail.get("result")
    if result not in ("match", "override"):
        reason = ("countersign after your own double check that matched the order or was "
                  "overridden" + (f" (your latest: {result})" if result else ""))
        store.record_refusal(actor, COUNTERSIGN, record_id=record_id, reason=reason)
        raise CountersignRefusedError(record_id, reason)
    entered: list[tuple[str, str]] = []
    differs: list[str] = []
    for key in _STAMP_ORDER:
        if f"matches.{key}" not in detail:
            continue
        value = detail.get(f"entered.{key}")
        entered.append((_STAMP_LABELS[key], "checked" if value is None else str(value)))
        if not detail[f"matches.{key}"]:
            differs.append(_STAMP_LABELS[key])
    checker, witness = str(detail.get("checker")), str(detail.get("witness"))
    return CountersignStamp(
        checker=names.get(checker, checker), witness=names.get(witness, witness),
        result=MATCHES_THE_ORDER if result == "match" else f"OVERRIDDEN: {detail.get('reason')}",
        entered=tuple(entered), differs=tuple(differs))
