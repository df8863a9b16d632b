"""The records store: screenings, signed documents and the audit trail, behind role checks.

Every action takes the :class:`~ketascreen.records.users.Actor` who performs it, checks the
role, and writes its change together with its audit event in one transaction: a crash leaves
both or neither. A refused action is recorded as a ``refused`` event before the error is raised.

A signed screening is never updated. A change to it is an *amendment*: a new signed record that
links to the one it replaces (:meth:`RecordStore.amend`). The database refuses updates of signed
rows too (triggers), so a bug or another program cannot slip past the store.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import Row, Select, and_, exists, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, aliased

from ketascreen.errors import (
    AmendmentReasonMissingError,
    PermissionDeniedError,
    RecordError,
    RecordExistsError,
    RecordNotFoundError,
    SameDaySigningError,
    SignedRecordImmutableError,
    StorageError,
)
from ketascreen.records.audit import (
    AuditEvent,
    AuditReport,
    AuditTrail,
    Detail,
    record_problems,
    verify_chain,
)
from ketascreen.records.content import StoredContent, content_of
from ketascreen.records.db import Database
from ketascreen.records.models import (
    AuditEventRow,
    AuditHead,
    Patient,
    ScreeningRow,
    SignedDocument,
    User,
)
from ketascreen.records.users import Actor, Permission, UserInfo
from ketascreen.records.views import (
    CertificateInfo,
    RecordSummary,
    StoredScreening,
    Versions,
    patient_of_case,
)
from ketascreen.visible import normalise_visible, visible_text_problem

if TYPE_CHECKING:
    from ketascreen.records.certificates import CertificateStatus
    from ketascreen.records.documents import DocumentFacts
    from ketascreen.rules.engine import RuleSet, Screening

log = logging.getLogger(__name__)
"""Logs name record ids, event numbers and actions only, never patient data."""

IMMUTABLE_REASON = "a signed record is never changed; amend it instead"


@dataclass(frozen=True)
class Tx:
    """One write transaction: the session and the audit trail appender (holding its lock)."""

    session: Session
    trail: AuditTrail


def day_bounds(day: date, zone: tzinfo | None = None) -> tuple[datetime, datetime]:
    """The start and end (exclusive) of ``day`` in ``zone`` (default: this computer's), in UTC."""
    def midnight(of: date) -> datetime:
        naive = datetime.combine(of, time.min)
        # naive.astimezone() reads the local zone's rules for that date (DST included)
        return naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()

    return midnight(day).astimezone(UTC), midnight(day + timedelta(days=1)).astimezone(UTC)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _normalise_id(record_id: str) -> str:
    return record_id.strip().upper()


class RecordStore:
    """Stored screenings, signed documents, users and the audit trail.

    Args:
        database: an open :class:`Database`.
        clock: the current time, aware (tests and the benchmark set it; default: now, UTC).
        zone: the clinic's time zone, which decides what "the same day" is (default: this
            computer's).
    """

    def __init__(self, database: Database, *,
                 clock: Callable[[], datetime] | None = None,
                 zone: tzinfo | None = None) -> None:
        self.database = database
        self.clock: Callable[[], datetime] = clock or _utc_now
        self.zone = zone

    @classmethod
    def open(cls, url: str | None = None, *, clock: Callable[[], datetime] | None = None,
             zone: tzinfo | None = None) -> RecordStore:
        """Open (creating and migrating when needed) the database named by ``url`` or the
        environment (see :func:`ketascreen.records.db.database_url`).

        Raises:
            StorageError: the database cannot be opened.
        """
        return cls(Database(url), clock=clock, zone=zone)

    def close(self) -> None:
        """Release the database connections."""
        self.database.dispose()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- transactions, permissions and refusals ------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One write transaction with the audit trail locked; committed when the block ends.

        Raises:
            RecordError: the database refused the change (a constraint or trigger).
            StorageError: the database cannot be written.
        """
        try:
            with self.database.write() as session:
                trail = AuditTrail(session, clock=self.clock)
                yield Tx(session, trail)
                trail.finish()
        except IntegrityError as error:
            raise RecordError(None, f"the database refused the change: {_first_line(error)}"
                              ) from None
        except DBAPIError as error:
            raise StorageError(self.database.name, _first_line(error)) from None

    def record_refusal(self, actor: Actor | None, action: str, *, reason: str,
                       record_id: str | None = None, username: str | None = None) -> int:
        """Append a ``refused`` event in its own transaction; returns its number."""
        with self.transaction() as tx:
            seq = tx.trail.append(
                username=actor.username if actor else (username or "(unknown)"),
                role=actor.role.value if actor else "", action=action, outcome="refused",
                record_id=record_id, detail={"reason": reason})
        log.info("refused %s on %s (event %d)", action, record_id or "-", seq)
        return seq

    def authorise(self, actor: Actor, permission: Permission, record_id: str | None = None
                  ) -> None:
        """Check that ``actor``'s role allows ``permission``.

        Raises:
            PermissionDeniedError: it does not; the refusal is recorded in the audit trail first.
        """
        if actor.may(permission):
            return
        self.record_refusal(actor, permission.value, record_id=record_id,
                            reason=f"the {actor.role.value} role may not {permission.value}")
        raise PermissionDeniedError(actor.username, actor.role.value, permission.value, record_id)

    def _refuse_immutable(self, actor: Actor, action: str, record_id: str) -> NoReturn:
        self.record_refusal(actor, action, record_id=record_id, reason=IMMUTABLE_REASON)
        raise SignedRecordImmutableError(record_id, IMMUTABLE_REASON)

    # -- users ----------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> Actor:
        """Log a user in (a ``login`` event either way).

        Raises:
            AuthenticationFailedError: unknown user, wrong password or deactivated account.
        """
        from ketascreen.records.users import authenticate  # noqa: PLC0415

        return authenticate(self, username, password)

    def add_user(self, actor: Actor | None, *, username: str, display_name: str, role: str,
                 password: str) -> UserInfo:
        """Create an account (see :func:`ketascreen.records.users.add_user`)."""
        from ketascreen.records.users import add_user  # noqa: PLC0415

        return add_user(self, actor, username=username, display_name=display_name, role=role,
                        password=password)

    # -- signing certificates -------------------------------------------------------------

    def register_certificate(self, actor: Actor, fingerprint: str, subject_name: str, *,
                             confirmed: bool, username: str | None = None,
                             certificate_der: bytes | None = None) -> CertificateInfo:
        """Register a signing certificate to a physician's account (see
        :func:`ketascreen.records.certificates.register_certificate`)."""
        from ketascreen.records.certificates import register_certificate  # noqa: PLC0415

        return register_certificate(self, actor, fingerprint, subject_name, confirmed=confirmed,
                                    username=username, certificate_der=certificate_der)

    def register_certificate_file(self, actor: Actor, data: bytes, *,
                                  passphrase: bytes | None = None, username: str | None = None,
                                  path: str | None = None) -> CertificateInfo:
        """Register the certificate of a PEM/DER certificate file or PKCS#12 key store (the
        person naming the file confirms it is the physician's).

        Raises:
            SigningError: the file is not a certificate or key store that opens.
            PermissionDeniedError, UserAccountError, CertificateOwnedByAnotherError: see
                :meth:`register_certificate`.
        """
        from ketascreen.reports.signing import read_certificate  # noqa: PLC0415

        facts = read_certificate(data, passphrase=passphrase, path=path)
        return self.register_certificate(actor, facts.sha256, facts.subject_name,
                                         confirmed=True, username=username,
                                         certificate_der=facts.der)

    def certificates(self, actor: Actor, username: str | None = None) -> list[CertificateInfo]:
        """The certificates registered to ``username`` (default: ``actor``; others: admin)."""
        from ketascreen.records.certificates import certificates  # noqa: PLC0415

        return certificates(self, actor, username=username)

    def certificate_status(self, actor: Actor, fingerprint: str) -> CertificateStatus:
        """``registered`` (to ``actor``), ``unregistered`` or ``another-account``; not audited.

        Raises:
            ValueError: the fingerprint is not 64 hex digits.
        """
        from ketascreen.records.certificates import certificate_status  # noqa: PLC0415

        return certificate_status(self, actor, fingerprint)

    def last_certificate_path(self, actor: Actor) -> str | None:
        """The signing key store ``actor`` used last, or ``None``."""
        from ketascreen.records.certificates import last_certificate_path  # noqa: PLC0415

        return last_certificate_path(self, actor)

    def remember_certificate_path(self, actor: Actor, path: str | Path) -> None:
        """Remember the signing key store ``actor`` used (per account)."""
        from ketascreen.records.certificates import remember_certificate_path  # noqa: PLC0415

        remember_certificate_path(self, actor, path)

    # -- storing screenings -----------------------------------------------------------------

    def create(self, actor: Actor, screening: Screening, *, ruleset: RuleSet | None = None,
               signed_pdf: bytes | None = None, register_certificate: bool = False
               ) -> StoredScreening:
        """Store a screening: a draft, or signed when ``signed_pdf`` is given.

        Storing the same content again with a signed document signs the stored draft.

        Args:
            actor: a physician.
            screening: from ``ruleset.run(case)``.
            ruleset: the rule set that produced it (default: the shipped one).
            signed_pdf: the signed checklist of exactly this case and result, signed with a
                certificate registered to ``actor``.
            register_certificate: the physician confirmed that the signing certificate is
                theirs: register it to ``actor`` if it is registered to nobody.

        Raises:
            PermissionDeniedError: the role may not screen, acknowledge (the case carries
                acknowledgements) or sign.
            CertificateNotRegisteredError: the signing certificate is not registered to
                ``actor`` (:class:`~ketascreen.errors.CertificateOwnedByAnotherError`: it is
                another account's); recorded.
            SameDaySigningError: the patient has a checklist signed the same local day
                (amend it instead); recorded.
            RecordExistsError: this content is stored already (and is not a draft to sign).
            RecordError: the document is not a signed checklist of this screening, or the
                patient id is on record with another date of birth.
        """
        content = content_of(screening, ruleset)
        self.authorise(actor, Permission.SCREEN, content.record_id)
        if content.acknowledged:
            self.authorise(actor, Permission.ACKNOWLEDGE, content.record_id)
        facts = None
        register = False
        if signed_pdf is not None:
            self.authorise(actor, Permission.SIGN, content.record_id)
            facts = self._check_document(signed_pdf, content)
            register = self._check_signer(actor, facts, "sign", content.record_id,
                                          register_certificate)
            self.refuse_same_day_signing(actor, content.patient_id, content.record_id)
        with self.transaction() as tx:
            existing = self._row(tx.session, content.record_id)
            if existing is not None:
                if existing.status != "draft" or facts is None:
                    raise RecordExistsError(content.record_id, "this screening is stored "
                                            f"already ({existing.status})", existing.status)
                self._register_signer(tx, actor, facts, register)
                self._sign_row(tx, actor, existing, signed_pdf or b"", facts)
                row = existing
            else:
                if facts is not None:
                    self._register_signer(tx, actor, facts, register)
                row = self._insert(tx, actor, content, status="signed" if facts else "draft",
                                   facts=facts)
                if facts is not None:
                    self._attach(tx, actor, row, signed_pdf or b"", facts, action="sign")
            stored = self._stored(tx.session, row.record_id)
        log.info("stored %s (%s)", stored.record_id, stored.status)
        return stored

    def sign(self, actor: Actor, record_id: str, signed_pdf: bytes, *,
             register_certificate: bool = False) -> StoredScreening:
        """Sign a draft with its signed checklist.

        Args:
            actor: a physician.
            record_id: the draft.
            signed_pdf: its signed checklist, signed with a certificate registered to ``actor``.
            register_certificate: see :meth:`create`.

        Raises:
            PermissionDeniedError: the role may not sign.
            RecordNotFoundError: no such record.
            SignedRecordImmutableError: it is signed already.
            CertificateNotRegisteredError: see :meth:`create`.
            SameDaySigningError: see :meth:`create`.
            RecordError: the document is not a signed checklist of this record.
        """
        record_id = _normalise_id(record_id)
        self.authorise(actor, Permission.SIGN, record_id)
        current = self._get_any(record_id)
        if current.is_signed:
            self._refuse_immutable(actor, "sign", record_id)
        facts = check_document(signed_pdf, record_id, current.case_json, current.result_json)
        self._check_head(signed_pdf, record_id)
        register = self._check_signer(actor, facts, "sign", record_id, register_certificate)
        self.refuse_same_day_signing(actor, current.patient.patient_id, record_id)
        with self.transaction() as tx:
            row = self._row(tx.session, record_id, lock=True)
            if row is None or row.status != "draft":
                raise SignedRecordImmutableError(record_id, "it was signed or changed meanwhile")
            self._register_signer(tx, actor, facts, register)
            self._sign_row(tx, actor, row, signed_pdf, facts)
            stored = self._stored(tx.session, record_id)
        log.info("signed %s", record_id)
        return stored

    def update_draft(self, actor: Actor, record_id: str, screening: Screening, *,
                     ruleset: RuleSet | None = None, action: str = "update",
                     detail: Detail | None = None) -> StoredScreening:
        """Replace a draft's case and result (its record id follows the new content).

        Raises:
            PermissionDeniedError: the role may not screen (or acknowledge).
            RecordNotFoundError: no such record.
            SignedRecordImmutableError: the record is signed (amend it instead); recorded as a
                refusal.
            RecordExistsError: the new content is stored already as another record.
            RecordError: the new screening is of another patient.
        """
        record_id = _normalise_id(record_id)
        content = content_of(screening, ruleset)
        self.authorise(actor, Permission.SCREEN, record_id)
        if content.acknowledged:
            self.authorise(actor, Permission.ACKNOWLEDGE, record_id)
        if self._get_any(record_id).is_signed:
            self._refuse_immutable(actor, action, record_id)
        with self.transaction() as tx:
            row = self._row(tx.session, record_id, lock=True)
            if row is None or row.status != "draft":
                raise SignedRecordImmutableError(record_id, "it was signed or changed meanwhile")
            patient = tx.session.get(Patient, row.patient_id)
            if patient is None or patient.external_id != content.patient_id:
                raise RecordError(record_id, "the new screening is of another patient")
            if content.record_id != record_id and self._row(tx.session, content.record_id):
                raise RecordExistsError(content.record_id, "this screening is stored already",
                                        "draft")
            self._set_content(row, content)
            row.updated_at = self.clock()
            tx.trail.append(username=actor.username, role=actor.role.value, action=action,
                            record_id=content.record_id,
                            detail={"previous_record": record_id,
                                    "content_sha256": content.content_sha256,
                                    **(detail or {})})
            stored = self._stored(tx.session, content.record_id)
        log.info("%s %s -> %s", action, record_id, stored.record_id)
        return stored

    def acknowledge(self, actor: Actor, record_id: str, *, concept: str, reason: str,
                    ruleset: RuleSet | None = None) -> StoredScreening:
        """Acknowledge a finding of a draft with a reason, and screen it again.

        Raises:
            PermissionDeniedError: the role may not acknowledge.
            RecordNotFoundError: no such record.
            SignedRecordImmutableError: the record is signed (amend it instead).
            RecordError: the draft has no finding of ``concept``, or ``reason`` is empty.
        """
        from ketascreen.api import parse_case  # noqa: PLC0415
        from ketascreen.rules.engine import default_ruleset  # noqa: PLC0415

        record_id = _normalise_id(record_id)
        self.authorise(actor, Permission.ACKNOWLEDGE, record_id)
        current = self._get_any(record_id)
        if current.status != "draft":
            self._refuse_immutable(actor, "acknowledge", record_id)
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
        ruleset = ruleset or default_ruleset()
        screening = ruleset.run(parse_case(data, source=record_id))
        return self.update_draft(actor, record_id, screening, ruleset=ruleset,
                                 action="acknowledge", detail={"concept": concept})

    def amend(self, actor: Actor, record_id: str, screening: Screening, *, signed_pdf: bytes,
              reason: str, ruleset: RuleSet | None = None, register_certificate: bool = False
              ) -> StoredScreening:
        """Store a signed amendment of a signed record; the original is left as it is.

        Args:
            actor: a physician.
            record_id: the record amended (the latest of its line).
            screening: the corrected screening.
            signed_pdf: the signed checklist of the corrected screening.
            reason: why the record is amended (kept with the amendment).
            ruleset: the rule set that produced ``screening``.
            register_certificate: see :meth:`create`.

        Raises:
            PermissionDeniedError: the role may not amend (or acknowledge).
            RecordNotFoundError: no such record.
            AmendmentReasonMissingError: the reason is blank.
            CertificateNotRegisteredError: see :meth:`create`.
            RecordError: the record is a draft (change it instead), was amended already,
                is of another patient, or the document does not match.
            RecordExistsError: the corrected content is stored already.
        """
        record_id = _normalise_id(record_id)
        content = content_of(screening, ruleset)
        self.authorise(actor, Permission.AMEND, record_id)
        if content.acknowledged:
            self.authorise(actor, Permission.ACKNOWLEDGE, record_id)
        if not reason.strip():
            raise AmendmentReasonMissingError(record_id, "an amendment needs a reason (typed)")
        if (problem := visible_text_problem(reason)) is not None:
            raise RecordError(record_id, f"amendment reason {problem}")
        facts = self._check_document(signed_pdf, content)
        register = self._check_signer(actor, facts, "amend", record_id, register_certificate)
        with self.transaction() as tx:
            original = self._row(tx.session, record_id)
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
            if self._row(tx.session, content.record_id) is not None:
                raise RecordExistsError(content.record_id, "this screening is stored already",
                                        "signed")
            self._register_signer(tx, actor, facts, register)
            row = self._insert(tx, actor, content, status="amended", facts=facts,
                               amends=original, reason=normalise_visible(reason))
            self._attach(tx, actor, row, signed_pdf, facts, action="amend",
                         extra={"amends": record_id})
            stored = self._stored(tx.session, row.record_id)
        log.info("amended %s by %s", record_id, stored.record_id)
        return stored

    # -- reading ----------------------------------------------------------------------------

    def get(self, actor: Actor, record_id: str) -> StoredScreening:
        """One record in full (a nurse sees signed records only).

        Raises:
            PermissionDeniedError: the role may not view it.
            RecordNotFoundError: no such record.
        """
        record_id = _normalise_id(record_id)
        self.authorise(actor, Permission.VIEW_SIGNED, record_id)
        stored = self._get_any(record_id)
        if not stored.is_signed:
            self.authorise(actor, Permission.VIEW_RECORDS, record_id)
        return stored

    def find(self, actor: Actor, record_id: str) -> StoredScreening | None:
        """Like :meth:`get`, but ``None`` when there is no such record."""
        try:
            return self.get(actor, record_id)
        except RecordNotFoundError:
            return None

    def document(self, actor: Actor, record_id: str) -> bytes:
        """The signed PDF of a record, checked against the sha256 stored with it.

        Raises:
            PermissionDeniedError: the role may not view signed records.
            RecordNotFoundError: no such record.
            RecordError: the record is a draft, or its document no longer matches its sha256.
        """
        record_id = _normalise_id(record_id)
        self.authorise(actor, Permission.VIEW_SIGNED, record_id)
        return self._document(record_id)

    def list_records(self, actor: Actor, *, day: date | None = None,
                     patient_id: str | None = None, limit: int = 100,
                     zone: tzinfo | None = None, current_only: bool = False
                     ) -> list[RecordSummary]:
        """Records, newest first (a nurse sees signed records only).

        Args:
            actor: who asks.
            day: only records signed that day, or drafts stored that day (local day in
                ``zone``).
            patient_id: only this patient's records.
            limit: at most this many.
            zone: the time zone of ``day`` (default: the store's).
            current_only: leave out records replaced by an amendment (the amendment, which
                names the record it amends, is listed instead).

        Raises:
            PermissionDeniedError: the role may not view records.
        """
        self.authorise(actor, Permission.VIEW_SIGNED)
        query = self._summary_query()
        if not actor.may(Permission.VIEW_RECORDS):
            query = query.where(ScreeningRow.status != "draft")
        if current_only:
            replaced = aliased(ScreeningRow)
            query = query.where(~exists().where(replaced.amends_id == ScreeningRow.id))
        if day is not None:
            start, end = day_bounds(day, zone or self.zone)
            query = query.where(or_(
                and_(ScreeningRow.signed_at >= start, ScreeningRow.signed_at < end),
                and_(ScreeningRow.status == "draft", ScreeningRow.created_at >= start,
                     ScreeningRow.created_at < end)))
        if patient_id is not None:
            query = query.where(Patient.external_id == patient_id)
        query = query.order_by(ScreeningRow.id.desc()).limit(limit)
        with self.database.read() as session:
            return [_summary(row) for row in session.execute(query)]

    def signed_today_for_patient(self, actor: Actor, patient_id: str,
                                 day: date | None = None) -> StoredScreening | None:
        """The current signed checklist (not replaced by an amendment) of ``patient_id`` signed
        on ``day`` (the clinic's local day; default today), or ``None``.

        Raises:
            PermissionDeniedError: the role may not view signed records (recorded).
        """
        self.authorise(actor, Permission.VIEW_SIGNED)
        found = self._signed_on(patient_id, day or self.clock().astimezone(self.zone).date())
        return None if found is None else self._get_any(found)

    def events(self, actor: Actor, record_id: str) -> list[AuditEvent]:
        """The audit events of one record, oldest first, including those of the earlier ids
        of a draft (a draft's record id follows its content).

        Raises:
            PermissionDeniedError: the role may not view the record.
            RecordNotFoundError: no such record.
        """
        stored = self.get(actor, record_id)
        pending, seen = [stored.record_id], {stored.record_id}
        found: dict[int, AuditEvent] = {}
        with self.database.read() as session:
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

    # -- printing, exporting, bedside checks -------------------------------------------------

    def log_action(self, actor: Actor, permission: Permission, record_id: str, *,
                   action: str | None = None, detail: Detail | None = None) -> int:
        """Record that ``actor`` did ``permission`` (print, double check ...) on a signed
        record; returns the event number.

        Raises:
            PermissionDeniedError: the role may not.
            RecordNotFoundError: no such record.
            RecordError: the record is a draft.
        """
        record_id = _normalise_id(record_id)
        self.authorise(actor, permission, record_id)
        with self.transaction() as tx:
            row = self._row(tx.session, record_id)
            if row is None:
                raise RecordNotFoundError(record_id, "no such record")
            if row.status == "draft":
                raise RecordError(record_id, "it is a draft: only signed checklists are used "
                                  "at the bedside")
            seq = tx.trail.append(username=actor.username, role=actor.role.value,
                                  action=action or permission.value, record_id=record_id,
                                  detail=detail)
        log.info("%s %s (event %d)", action or permission.value, record_id, seq)
        return seq

    def export(self, actor: Actor, record_id: str, path: Path, *, force: bool = False) -> bool:
        """Write a record's signed PDF to ``path`` (atomically); an ``export`` event.

        Returns:
            Whether a signed document was replaced at ``path``.

        Raises:
            PermissionDeniedError: the role may not export.
            RecordNotFoundError: no such record.
            RecordError: the record is a draft or its document does not match its sha256.
            OutputExistsError: ``path`` exists and ``force`` is false.
        """
        from ketascreen.reports.output import write_atomically  # noqa: PLC0415

        record_id = _normalise_id(record_id)
        self.authorise(actor, Permission.EXPORT, record_id)
        pdf = self._document(record_id)
        replaced = write_atomically(path, pdf, force=force)
        with self.transaction() as tx:
            tx.trail.append(username=actor.username, role=actor.role.value, action="export",
                            record_id=record_id,
                            detail={"document_sha256": hashlib.sha256(pdf).hexdigest()})
        log.info("exported %s", record_id)
        return replaced

    # -- verification -----------------------------------------------------------------------

    def checkpoint(self, actor: Actor) -> tuple[int, str]:
        """Append a ``checkpoint`` event and return it as the head to keep: its number and
        sha256 (``ketascreen audit checkpoint`` signs them into a file kept off the machine)."""
        with self.transaction() as tx:
            tx.trail.append(username=actor.username, role=actor.role.value, action="checkpoint")
            head = tx.trail.head
        log.info("checkpoint at event %d", head[0])
        return head

    def audit_head(self) -> tuple[int, str]:
        """The audit trail's last event now: its number and sha256 (``(0, GENESIS)`` when
        empty). A checklist signed for storing embeds it (see
        :func:`ketascreen.reports.output.produce_checklist`)."""
        with self.database.read() as session:
            head = session.get(AuditHead, 1)
            if head is None:
                raise StorageError("audit trail", "its head record is missing: the trail was "
                                   "tampered with; run `ketascreen audit verify`")
            return head.last_seq, head.last_hash

    def verify_audit(self, *, records: bool = True, anchor: tuple[int, str] | None = None,
                     heads: tuple[tuple[int, str, str], ...] = ()) -> AuditReport:
        """Recompute the audit chain; with ``records``, also check every signed record and
        document against the hashes recorded when it was signed, every row of the tracked
        tables against the hash the trail recorded for it, and the chain against the heads
        embedded in the stored signed checklists.

        Args:
            records: cross-check the signed records, the rows and the embedded heads (reads
                every signed document).
            anchor: an event number and its hash as noted earlier.
            heads: more heads noted earlier: ``(event number, hash, where it was noted)``,
                e.g. from a checkpoint file.
        """
        from ketascreen.records.rowhash import row_problems  # noqa: PLC0415

        signed: dict[str, dict[str, object]] = {}
        seen: set[str] = set()
        rows: dict[str, tuple[int, object]] = {}
        with self.database.read() as session:
            embedded = _embedded_heads(session) if records else []
            wanted = [*heads, *embedded]
            by_seq: dict[int, str] = {seq: "" for seq, _, _ in wanted}
            head = session.get(AuditHead, 1)
            result = session.execute(select(AuditEventRow).order_by(AuditEventRow.seq)
                                     .execution_options(yield_per=500))
            try:
                report = verify_chain(result.scalars(), head, signed, anchor, row_hashes=rows,
                                      hashes_by_seq=by_seq)
            finally:
                result.close()  # a server-side cursor on PostgreSQL, maybe not read to the end
            head_problems = tuple(_head_problems(wanted, by_seq))
            if not records or report.broken_at is not None:
                return dataclasses.replace(report, head_problems=head_problems)
            problems = tuple(record_problems(session, signed, seen))
            checked_rows: set[str] = set()
            changed_rows = tuple(row_problems(session, rows, checked_rows))
        return dataclasses.replace(report, record_problems=problems, records_checked=len(seen),
                                   row_problems=changed_rows, rows_checked=len(checked_rows),
                                   head_problems=head_problems)

    # -- internals -----------------------------------------------------------------------------

    def _check_signer(self, actor: Actor, facts: DocumentFacts, action: str, record_id: str,
                      register: bool) -> bool:
        """Refuse (recorded) a certificate not registered to ``actor``; returns whether it is
        to be registered to ``actor`` with the signature."""
        from ketascreen.records.certificates import check_signer  # noqa: PLC0415

        return check_signer(self, actor, facts.certificate_sha256, facts.signer_name,
                            action=action, record_id=record_id, register=register)

    def _register_signer(self, tx: Tx, actor: Actor, facts: DocumentFacts,
                         register: bool) -> None:
        if not register or facts.certificate_sha256 is None:
            return
        from ketascreen.records.certificates import add_certificate  # noqa: PLC0415

        add_certificate(tx, actor, user_id=actor.user_id, username=actor.username,
                        fingerprint=facts.certificate_sha256, subject_name=facts.signer_name,
                        der=facts.certificate_der, now=self.clock())

    def _signed_on(self, patient_id: str, day: date) -> str | None:
        """The current signed record of a patient signed on the local ``day``, if any."""
        start, end = day_bounds(day, self.zone)
        replaced = aliased(ScreeningRow)
        with self.database.read() as session:
            return session.execute(
                select(ScreeningRow.record_id)
                .join(Patient, Patient.id == ScreeningRow.patient_id)
                .where(Patient.external_id == patient_id)
                .where(ScreeningRow.status != "draft")
                .where(ScreeningRow.signed_at >= start, ScreeningRow.signed_at < end)
                .where(~exists().where(replaced.amends_id == ScreeningRow.id))
                .order_by(ScreeningRow.id.desc()).limit(1)).scalar_one_or_none()

    def refuse_same_day_signing(self, actor: Actor, patient_id: str, record_id: str) -> None:
        """Refuse (recorded) signing ``record_id`` when the patient already has a current
        checklist signed today (the clinic's local day); amending it is the way.

        Raises:
            SameDaySigningError: naming the record signed today, its signer, the time and how
                to amend it.
        """
        day = self.clock().astimezone(self.zone).date()
        existing_id = self._signed_on(patient_id, day)
        if existing_id is None or existing_id == record_id:
            return  # the same content signed again is a RecordExistsError, raised later
        existing = self._get_any(existing_id)
        assert existing.signed_at is not None
        signer = existing.signer_name or existing.signed_by or "?"
        when = existing.signed_at.astimezone(self.zone).isoformat(sep=" ", timespec="minutes")
        how = (f"amend {existing_id} instead: in the app, open it and choose Amend; on the "
               f"command line, `ketascreen screen CASE --save --amends {existing_id} --reason "
               "\"...\" --pdf OUT.pdf --sign KEY.p12 --passphrase-file FILE`")
        reason = (f"this patient already has a checklist signed today: {existing_id}, signed "
                  f"by {signer} at {when}; {how}")
        self.record_refusal(actor, "sign", record_id=record_id,
                            reason=f"a checklist was signed for this patient today: "
                            f"{existing_id}")
        raise SameDaySigningError(existing_id, reason, patient_id, signer, existing.signed_at,
                                  how)

    def _check_document(self, pdf: bytes, content: StoredContent) -> DocumentFacts:
        facts = check_document(pdf, content.record_id, content.case_json, content.result_json)
        self._check_head(pdf, content.record_id)
        return facts

    def _check_head(self, pdf: bytes, record_id: str) -> None:
        """Refuse a document whose embedded audit head is not in this trail at its number."""
        from ketascreen.records.documents import embedded_head  # noqa: PLC0415

        head = embedded_head(pdf)
        if head is None or head[0] == 0:
            return
        with self.database.read() as session:
            found = session.execute(select(AuditEventRow.hash).where(
                AuditEventRow.seq == head[0])).scalar_one_or_none()
        if found != head[1]:
            raise RecordError(record_id, f"the signed document names audit event {head[0]} "
                              f"with hash {head[1]}, which this records database does not "
                              "have: it was signed for another database")

    @staticmethod
    def _row(session: Session, record_id: str, *, lock: bool = False) -> ScreeningRow | None:
        query = select(ScreeningRow).where(ScreeningRow.record_id == record_id)
        if lock:
            query = query.with_for_update()
        return session.execute(query).scalar_one_or_none()

    def _get_any(self, record_id: str) -> StoredScreening:
        with self.database.read() as session:
            return self._stored(session, record_id)

    def _document(self, record_id: str) -> bytes:
        with self.database.read() as session:
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

    def _patient(self, tx: Tx, actor: Actor, content: StoredContent) -> Patient:
        patient = tx.session.execute(select(Patient).where(
            Patient.external_id == content.patient_id)).scalar_one_or_none()
        if patient is None:
            patient = Patient(external_id=content.patient_id, name=content.patient_name,
                              birth_date=content.birth_date, created_at=self.clock())
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

    @staticmethod
    def _set_content(row: ScreeningRow, content: StoredContent) -> None:
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

    def _insert(self, tx: Tx, actor: Actor, content: StoredContent, *, status: str,
                facts: DocumentFacts | None = None, amends: ScreeningRow | None = None,
                reason: str | None = None) -> ScreeningRow:
        patient = self._patient(tx, actor, content)
        now = self.clock()
        signed = status != "draft"
        row = ScreeningRow(patient_id=patient.id, status=status, created_at=now,
                           created_by=actor.user_id, updated_at=now,
                           signed_at=now if signed else None,
                           signed_by=actor.user_id if signed else None,
                           signer_name=facts.signer_name if facts else None,
                           signer_certificate_sha256=facts.certificate_sha256 if facts else None,
                           amends_id=amends.id if amends else None, amendment_reason=reason)
        self._set_content(row, content)
        tx.session.add(row)
        tx.session.flush()
        tx.trail.append(username=actor.username, role=actor.role.value, action="create",
                        record_id=content.record_id,
                        detail={"status": status, "content_sha256": content.content_sha256})
        return row

    def _sign_row(self, tx: Tx, actor: Actor, row: ScreeningRow, pdf: bytes,
                  facts: DocumentFacts) -> None:
        now = self.clock()
        row.status, row.signed_at, row.signed_by, row.updated_at = "signed", now, actor.user_id, now
        row.signer_name = facts.signer_name
        row.signer_certificate_sha256 = facts.certificate_sha256
        tx.session.flush()
        self._attach(tx, actor, row, pdf, facts, action="sign")

    @staticmethod
    def _attach(tx: Tx, actor: Actor, row: ScreeningRow, pdf: bytes, facts: DocumentFacts, *,
                action: str, extra: Detail | None = None) -> None:
        tx.session.add(SignedDocument(screening_id=row.id, pdf=pdf, sha256=facts.sha256,
                                      size=facts.size, created_at=row.updated_at))
        tx.session.flush()
        tx.trail.append(username=actor.username, role=actor.role.value, action=action,
                        record_id=row.record_id,
                        detail={"content_sha256": row.content_sha256,
                                "document_sha256": facts.sha256,
                                "certificate_sha256": facts.certificate_sha256,
                                **(extra or {})})

    @staticmethod
    @functools.cache
    def _summary_query() -> Select[*tuple[Any, ...]]:
        """The summary columns (16, as :func:`_summary` reads them); built once.

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

    def _stored(self, session: Session, record_id: str) -> StoredScreening:
        query = (self._summary_query()
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
        summary = _summary(found)
        rest = tuple(found)[16:]
        return StoredScreening(
            **{name: getattr(summary, name) for name in RecordSummary.__dataclass_fields__},
            case_json=rest[0], result_json=rest[1], content_sha256=rest[2],
            versions=Versions(*rest[3:9]), document_sha256=rest[9], document_size=rest[10],
            amendment_reason=rest[11])


def _summary(row: Row[Any]) -> RecordSummary:
    values = tuple(row)
    return RecordSummary(
        record_id=values[0], status=values[1], decision=values[2],
        patient=patient_of_case(values[15]), screening_date=values[6],
        created_at=values[7], created_by=values[8], signed_at=values[9], signed_by=values[10],
        signer_name=values[11], amends=values[12], superseded_by=values[13],
        signer_certificate_sha256=values[14])


def check_document(pdf: bytes, record_id: str, case_json: str, result_json: str
                   ) -> DocumentFacts:
    """See :func:`ketascreen.records.documents.check_signed_document`."""
    from ketascreen.records.documents import check_signed_document  # noqa: PLC0415

    return check_signed_document(pdf, record_id=record_id, case_json=case_json,
                                 result_json=result_json)


def _embedded_heads(session: Session) -> list[tuple[int, str, str]]:
    """The audit heads embedded in the stored signed checklists: ``(seq, hash, record id)``."""
    from ketascreen.records.documents import embedded_head  # noqa: PLC0415

    found: list[tuple[int, str, str]] = []
    result = session.execute(
        select(ScreeningRow.record_id, SignedDocument.pdf)
        .join(SignedDocument, SignedDocument.screening_id == ScreeningRow.id)
        .order_by(ScreeningRow.id).execution_options(yield_per=100))
    try:
        for record_id, pdf in result:
            head = embedded_head(bytes(pdf))
            if head is not None:
                found.append((head[0], head[1], f"the signed checklist {record_id}"))
    finally:
        result.close()
    return found


def _head_problems(heads: list[tuple[int, str, str]], found: dict[int, str]) -> Iterator[str]:
    """Heads noted earlier that the trail no longer has at their event number."""
    for seq, digest, where in heads:
        if seq == 0:
            continue  # noted on an empty trail: nothing to compare
        now = found.get(seq) or None
        if now is None:
            yield (f"{where} names event {seq} with hash {digest}, but the trail has no event "
                   f"{seq}: the trail was cut or rewritten")
        elif now != digest.lower():
            yield (f"{where} names event {seq} with hash {digest}, but the trail now has "
                   f"{now} there: the trail was rewritten")


def _first_line(error: DBAPIError) -> str:
    text = str(error.orig) if error.orig is not None else str(error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


__all__ = ["PermissionDeniedError", "RecordStore", "StoredScreening", "Tx"]
