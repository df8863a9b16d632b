"""The records store: screenings, signed documents, accounts and the audit trail, behind role
checks.

:class:`RecordStore` is the one object the app and the command line hold. It is a thin facade:
every method is one call into the module that does the work, each over the store's core
(:class:`~ketascreen.records.core.StoreCore`: the database, the clock, transactions with the
audit trail, role checks):

- accounts and logins: :mod:`ketascreen.records.users` (roles: :mod:`~ketascreen.records.roles`);
- signing certificates: :mod:`ketascreen.records.certificates`;
- storing, signing, changing and amending screenings: :mod:`ketascreen.records.writes` (the
  checks before a signed document is stored: :mod:`~ketascreen.records.signoff`);
- printing, exporting, checkpoints: :mod:`ketascreen.records.actions`; the blinded bedside
  double check and the nurse's countersignature: :mod:`ketascreen.records.bedside`;
- reading records: :mod:`ketascreen.records.queries`; verifying the trail:
  :mod:`ketascreen.records.integrity`;
- courses of infusions: :mod:`ketascreen.records.courses` (start, each infusion's day-of check
  and screening), :mod:`ketascreen.records.aftercare` (what the nurse records after it, the
  thresholds in :mod:`~ketascreen.records.monitoring`), :mod:`ketascreen.records.coursequeries`
  (show) and :mod:`ketascreen.records.course_export` (export).

Every action takes the :class:`~ketascreen.records.roles.Actor` who performs it, checks the
role, and writes its change together with its audit event in one transaction: a crash leaves
both or neither. A refused action is recorded as a ``refused`` event before the error is raised.
A signed screening is never updated; a change to it is an amendment (:meth:`RecordStore.amend`).

The modules that screen or dose (``writes``, ``bedside``, ``courses``, ``aftercare``) import the
core (pint, the case model, the rules): the methods that call them import them, so a command
that reads or verifies the records (``audit verify``) starts without the core.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketascreen.errors import PermissionDeniedError
from ketascreen.records import (
    actions,
    certificates,
    course_export,
    coursequeries,
    integrity,
    queries,
    signoff,
    users,
)
from ketascreen.records.core import StoreCore
from ketascreen.records.db import Database
from ketascreen.records.views import StoredScreening

if TYPE_CHECKING:
    from ketascreen.doublecheck import BedsideEntries, SignedOrder
    from ketascreen.models.course import Course, Infusion
    from ketascreen.records import bedside
    from ketascreen.records.audit import AuditEvent, AuditReport
    from ketascreen.records.certificates import CertificateStatus
    from ketascreen.records.chain import Detail
    from ketascreen.records.courseviews import CourseView
    from ketascreen.records.monitoring import MonitoringFinding
    from ketascreen.records.roles import Actor, Permission, UserInfo
    from ketascreen.records.views import CertificateInfo, RecordSummary
    from ketascreen.rules.engine import RuleSet
    from ketascreen.screening import Screening


class RecordStore(StoreCore):
    """Stored screenings, signed documents, users and the audit trail.

    Args:
        database: an open :class:`Database`.
        clock: the current time, aware (tests and the benchmark set it; default: now, UTC).
        zone: the clinic's time zone, which decides what "the same day" is (default: this
            computer's).
    """

    @classmethod
    def open(cls, url: str | None = None, *, clock: Callable[[], datetime] | None = None,
             zone: tzinfo | None = None) -> RecordStore:
        """Open (creating and migrating when needed) the database named by ``url`` or the
        environment (see :func:`ketascreen.records.db.database_url`).

        Raises:
            StorageError: the database cannot be opened.
        """
        return cls(Database(url), clock=clock, zone=zone)

    # -- users and signing certificates -------------------------------------------------------

    def authenticate(self, username: str, password: str) -> Actor:
        """Log a user in (see :func:`ketascreen.records.users.authenticate`)."""
        return users.authenticate(self, username, password)

    def add_user(self, actor: Actor | None, *, username: str, display_name: str, role: str,
                 password: str) -> UserInfo:
        """Create an account (see :func:`ketascreen.records.users.add_user`)."""
        return users.add_user(self, actor, username=username, display_name=display_name,
                              role=role, password=password)

    def register_certificate(self, actor: Actor, fingerprint: str, subject_name: str, *,
                             confirmed: bool, username: str | None = None,
                             certificate_der: bytes | None = None) -> CertificateInfo:
        """Register a signing certificate to a physician's account (see
        :func:`ketascreen.records.certificates.register_certificate`)."""
        return certificates.register_certificate(
            self, actor, fingerprint, subject_name, confirmed=confirmed, username=username,
            certificate_der=certificate_der)

    def register_certificate_file(self, actor: Actor, data: bytes, *,
                                  passphrase: bytes | None = None, username: str | None = None,
                                  path: str | None = None) -> CertificateInfo:
        """Register the certificate of a certificate file or key store (see
        :func:`ketascreen.records.certificates.register_certificate_file`)."""
        return certificates.register_certificate_file(
            self, actor, data, passphrase=passphrase, username=username, path=path)

    def certificates(self, actor: Actor, username: str | None = None) -> list[CertificateInfo]:
        """The certificates registered to ``username`` (default: ``actor``; others: admin)."""
        return certificates.certificates(self, actor, username=username)

    def certificate_status(self, actor: Actor, fingerprint: str) -> CertificateStatus:
        """``registered`` (to ``actor``), ``unregistered`` or ``another-account``; not audited
        (see :func:`ketascreen.records.certificates.certificate_status`)."""
        return certificates.certificate_status(self, actor, fingerprint)

    def last_certificate_path(self, actor: Actor) -> str | None:
        """The signing key store ``actor`` used last, or ``None``."""
        return certificates.last_certificate_path(self, actor)

    def remember_certificate_path(self, actor: Actor, path: str | Path) -> None:
        """Remember the signing key store ``actor`` used (per account)."""
        certificates.remember_certificate_path(self, actor, path)

    # -- storing screenings -------------------------------------------------------------------

    def create(self, actor: Actor, screening: Screening, *, ruleset: RuleSet | None = None,
               signed_pdf: bytes | None = None, register_certificate: bool = False
               ) -> StoredScreening:
        """Store a screening: a draft, or signed when ``signed_pdf`` is given (see
        :func:`ketascreen.records.writes.create`)."""
        from ketascreen.records import writes  # noqa: PLC0415 - imports the core

        return writes.create(self, actor, screening, ruleset=ruleset, signed_pdf=signed_pdf,
                             register_certificate=register_certificate)

    def sign(self, actor: Actor, record_id: str, signed_pdf: bytes, *,
             register_certificate: bool = False) -> StoredScreening:
        """Sign a draft with its signed checklist (see :func:`ketascreen.records.writes.sign`)."""
        from ketascreen.records import writes  # noqa: PLC0415 - imports the core

        return writes.sign(self, actor, record_id, signed_pdf,
                           register_certificate=register_certificate)

    def update_draft(self, actor: Actor, record_id: str, screening: Screening, *,
                     ruleset: RuleSet | None = None, action: str = "update",
                     detail: Detail | None = None) -> StoredScreening:
        """Replace a draft's case and result (see
        :func:`ketascreen.records.writes.update_draft`)."""
        from ketascreen.records import writes  # noqa: PLC0415 - imports the core

        return writes.update_draft(self, actor, record_id, screening, ruleset=ruleset,
                                   action=action, detail=detail)

    def acknowledge(self, actor: Actor, record_id: str, *, concept: str, reason: str,
                    ruleset: RuleSet | None = None) -> StoredScreening:
        """Acknowledge a finding of a draft with a reason, and screen it again (see
        :func:`ketascreen.records.writes.acknowledge`)."""
        from ketascreen.records import writes  # noqa: PLC0415 - imports the core

        return writes.acknowledge(self, actor, record_id, concept=concept, reason=reason,
                                  ruleset=ruleset)

    def amend(self, actor: Actor, record_id: str, screening: Screening, *, signed_pdf: bytes,
              reason: str, ruleset: RuleSet | None = None, register_certificate: bool = False
              ) -> StoredScreening:
        """Store a signed amendment of a signed record; the original is left as it is (see
        :func:`ketascreen.records.writes.amend`)."""
        from ketascreen.records import writes  # noqa: PLC0415 - imports the core

        return writes.amend(self, actor, record_id, screening, signed_pdf=signed_pdf,
                            reason=reason, ruleset=ruleset,
                            register_certificate=register_certificate)

    def refuse_same_day_signing(self, actor: Actor, patient_id: str, record_id: str) -> None:
        """Refuse (recorded) a second checklist signed for a patient on one local day (see
        :func:`ketascreen.records.signoff.refuse_same_day_signing`)."""
        signoff.refuse_same_day_signing(self, actor, patient_id, record_id)

    # -- reading ------------------------------------------------------------------------------

    def get(self, actor: Actor, record_id: str) -> StoredScreening:
        """One record in full (see :func:`ketascreen.records.queries.get`)."""
        return queries.get(self, actor, record_id)

    def find(self, actor: Actor, record_id: str) -> StoredScreening | None:
        """Like :meth:`get`, but ``None`` when there is no such record."""
        return queries.find(self, actor, record_id)

    def document(self, actor: Actor, record_id: str) -> bytes:
        """The signed PDF of a record, checked against the sha256 stored with it (see
        :func:`ketascreen.records.queries.document`)."""
        return queries.document(self, actor, record_id)

    def list_records(self, actor: Actor, *, day: date | None = None,
                     patient_id: str | None = None, limit: int = 100,
                     zone: tzinfo | None = None, current_only: bool = False
                     ) -> list[RecordSummary]:
        """Records, newest first (see :func:`ketascreen.records.queries.list_records`)."""
        return queries.list_records(self, actor, day=day, patient_id=patient_id, limit=limit,
                                    zone=zone, current_only=current_only)

    def signed_today_for_patient(self, actor: Actor, patient_id: str,
                                 day: date | None = None) -> StoredScreening | None:
        """The current signed checklist of ``patient_id`` signed on ``day`` (see
        :func:`ketascreen.records.queries.signed_today_for_patient`)."""
        return queries.signed_today_for_patient(self, actor, patient_id, day)

    def events(self, actor: Actor, record_id: str) -> list[AuditEvent]:
        """The audit events of one record, oldest first (see
        :func:`ketascreen.records.queries.events`)."""
        return queries.events(self, actor, record_id)

    def audit_head(self) -> tuple[int, str]:
        """The audit trail's last event now: its number and sha256 (see
        :func:`ketascreen.records.queries.audit_head`)."""
        return queries.audit_head(self)

    # -- printing, exporting, bedside checks, verification ------------------------------------

    def log_action(self, actor: Actor, permission: Permission, record_id: str, *,
                   action: str | None = None, detail: Detail | None = None) -> int:
        """Record that ``actor`` did ``permission`` on a signed record (see
        :func:`ketascreen.records.actions.log_action`)."""
        return actions.log_action(self, actor, permission, record_id, action=action,
                                  detail=detail)

    def signed_order(self, actor: Actor, record_id: str) -> SignedOrder:
        """The signed order of a record, re-derived (see
        :func:`ketascreen.records.bedside.signed_order_of`)."""
        from ketascreen.records import bedside  # noqa: PLC0415 - imports the core

        return bedside.signed_order_of(self, actor, record_id)

    def perform_double_check(self, actor: Actor, record_id: str, *, password: str,
                             witness: str, witness_password: str, entries: BedsideEntries,
                             override: bedside.Override | None = None
                             ) -> bedside.DoubleCheckRecord:
        """The blinded bedside double check, recorded (see
        :func:`ketascreen.records.bedside.perform_double_check`)."""
        from ketascreen.records import bedside  # noqa: PLC0415 - imports the core

        return bedside.perform_double_check(self, actor, record_id, password=password,
                                            witness=witness, witness_password=witness_password,
                                            entries=entries, override=override)

    def countersign(self, actor: Actor, record_id: str, pdf: bytes, *,
                    register: bool = False) -> int:
        """Store the nurse-countersigned checklist (see
        :func:`ketascreen.records.bedside.countersign`)."""
        from ketascreen.records import bedside  # noqa: PLC0415 - imports the core

        return bedside.countersign(self, actor, record_id, pdf, register=register)

    def export(self, actor: Actor, record_id: str, path: Path, *, force: bool = False) -> bool:
        """Write a record's signed PDF to ``path`` (see
        :func:`ketascreen.records.actions.export`)."""
        return actions.export(self, actor, record_id, path, force=force)

    def checkpoint(self, actor: Actor) -> tuple[int, str]:
        """Append a ``checkpoint`` event and return it as the head to keep (see
        :func:`ketascreen.records.actions.checkpoint`)."""
        return actions.checkpoint(self, actor)

    def verify_audit(self, *, records: bool = True, anchor: tuple[int, str] | None = None,
                     heads: tuple[tuple[int, str, str], ...] = ()) -> AuditReport:
        """Recompute the audit chain and cross-check the records (see
        :func:`ketascreen.records.integrity.verify_audit`)."""
        return integrity.verify_audit(self, records=records, anchor=anchor, heads=heads)

    # -- courses of infusions -----------------------------------------------------------------

    def start_course(self, actor: Actor, record_id: str, *,
                     plan: tuple[int, int] | None = None) -> CourseView:
        """Start a course after a signed screening (see
        :func:`ketascreen.records.courses.start_course`)."""
        from ketascreen.records import courses  # noqa: PLC0415 - imports the core

        return courses.start_course(self, actor, record_id, plan=plan)

    def check_infusion(self, actor: Actor, course_id: str, infusion: Infusion | dict[str, Any],
                       *, signed_pdf: bytes | None = None, register_certificate: bool = False
                       ) -> StoredScreening:
        """Store the next infusion's day-of check with its screening (see
        :func:`ketascreen.records.courses.check_infusion`)."""
        from ketascreen.records import courses  # noqa: PLC0415 - imports the core

        return courses.check_infusion(self, actor, course_id, infusion, signed_pdf=signed_pdf,
                                      register_certificate=register_certificate)

    def amend_infusion(self, actor: Actor, course_id: str, infusion: Infusion | dict[str, Any],
                       *, signed_pdf: bytes, reason: str, register_certificate: bool = False
                       ) -> StoredScreening:
        """Correct a signed infusion by a signed amendment of its screening (see
        :func:`ketascreen.records.courses.amend_infusion`)."""
        from ketascreen.records import courses  # noqa: PLC0415 - imports the core

        return courses.amend_infusion(self, actor, course_id, infusion, signed_pdf=signed_pdf,
                                      reason=reason, register_certificate=register_certificate)

    def screen_infusion(self, actor: Actor, course_id: str,
                        infusion: Infusion | dict[str, Any]) -> Screening:
        """Screen the next infusion of a course without storing it (see
        :func:`ketascreen.records.courses.screen_infusion`)."""
        from ketascreen.records import courses  # noqa: PLC0415 - imports the core

        return courses.screen_infusion(self, actor, course_id, infusion)

    def record_after_infusion(self, actor: Actor, course_id: str, number: int, *,
                              monitoring: list[dict[str, Any]] | None = None,
                              rescue: list[dict[str, Any]] | None = None,
                              discharge: dict[str, Any] | None = None
                              ) -> list[MonitoringFinding]:
        """Record monitoring, rescue drugs and the discharge of an infusion (see
        :func:`ketascreen.records.aftercare.record_after_infusion`)."""
        from ketascreen.records import aftercare  # noqa: PLC0415 - imports the core

        return aftercare.record_after_infusion(self, actor, course_id, number,
                                               monitoring=monitoring, rescue=rescue,
                                               discharge=discharge)

    def course(self, actor: Actor, course_id: str) -> CourseView:
        """A course with each infusion's state and the course figures (see
        :func:`ketascreen.records.coursequeries.show`)."""
        return coursequeries.show(self, actor, course_id)

    def course_document(self, actor: Actor, course_id: str) -> Course:
        """A course as a validated ``ketascreen-course/1`` course (see
        :func:`ketascreen.records.coursequeries.document`)."""
        return coursequeries.document(self, actor, course_id)

    def course_events(self, actor: Actor, course_id: str) -> list[AuditEvent]:
        """The audit events of a course, oldest first (see
        :func:`ketascreen.records.coursequeries.events`)."""
        return coursequeries.events(self, actor, course_id)

    def courses_of_patient(self, actor: Actor, patient_id: str) -> list[str]:
        """A patient's course ids, oldest first (see
        :func:`ketascreen.records.coursequeries.courses_of_patient`)."""
        return coursequeries.courses_of_patient(self, actor, patient_id)

    def export_course(self, actor: Actor, course_id: str, path: Path, *,
                      force: bool = False) -> bool:
        """Write a course as a ``ketascreen-course/1`` file (see
        :func:`ketascreen.records.course_export.export_course`)."""
        return course_export.export_course(self, actor, course_id, path, force=force)


__all__ = ["PermissionDeniedError", "RecordStore", "StoredScreening"]
