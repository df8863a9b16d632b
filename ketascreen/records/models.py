"""The records tables as SQLAlchemy 2 typed models.

The migration scripts (``migrations/versions``) create the same tables, plus the triggers that
make signed screenings, signed documents, clinic files and audit events unchangeable in the
database itself; ``tests/records/test_schema.py`` checks that the two agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

STATUSES: Final = ("draft", "signed", "amended")
"""``draft``: editable, unsigned. ``signed``: a signed record. ``amended``: a signed amendment of
an earlier signed record (it links to it). Signed and amended rows are never updated."""
ROLES: Final = ("physician", "nurse", "admin")
OUTCOMES: Final = ("ok", "refused")
CLINIC_FILE_KINDS: Final = ("policy", "formulary")


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, stored in UTC and returned timezone-aware (UTC) on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """UTC on the way in; naive UTC for SQLite, which has no time zones."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored; give it a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Aware UTC on the way out."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """The declarative base of the records tables."""


class User(Base):
    """A local account."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="ck_users_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Patient(Base):
    """A patient, by the clinic's patient id (the case's ``patient.id``)."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    birth_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScreeningRow(Base):
    """One stored screening: the case and result JSON, the versions that produced it, status."""

    __tablename__ = "screenings"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="ck_screenings_status"),
        CheckConstraint("(status = 'draft' AND signed_at IS NULL AND signed_by IS NULL) OR "
                        "(status <> 'draft' AND signed_at IS NOT NULL AND signed_by IS NOT NULL)",
                        name="ck_screenings_signed"),
        CheckConstraint("(status = 'amended' AND amends_id IS NOT NULL) OR "
                        "(status <> 'amended' AND amends_id IS NULL)",
                        name="ck_screenings_amendment"),
        Index("ix_screenings_status_signed_at", "status", "signed_at"),
        Index("ix_screenings_patient_created", "patient_id", "created_at"),
        Index("ix_screenings_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(20), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    status: Mapped[str] = mapped_column(String(8))
    decision: Mapped[str] = mapped_column(String(24))
    screening_date: Mapped[date] = mapped_column(Date)
    case_json: Mapped[str] = mapped_column(Text)
    result_json: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    ruleset_version: Mapped[str] = mapped_column(String(64))
    ruleset_sha256: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(64))
    policy_sha256: Mapped[str] = mapped_column(String(64))
    formulary_version: Mapped[str] = mapped_column(String(64))
    formulary_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str | None] = mapped_column(String(300))
    signer_certificate_sha256: Mapped[str | None] = mapped_column(String(64))
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("screenings.id"), unique=True)
    amendment_reason: Mapped[str | None] = mapped_column(Text)


class SigningCertificate(Base):
    """A signing certificate registered to a physician's account (by its sha256 fingerprint).

    A certificate belongs to one account; a checklist signed with a certificate that is not
    registered to the signed-in account is refused (revision 0002).
    """

    __tablename__ = "signing_certificates"
    __table_args__ = (Index("ix_signing_certificates_user", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    subject_name: Mapped[str] = mapped_column(String(300))
    certificate: Mapped[bytes | None] = mapped_column(LargeBinary)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class UserSetting(Base):
    """A per-account preference, e.g. the path of the last signing key used (revision 0002)."""

    __tablename__ = "user_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SignedDocument(Base):
    """The signed PDF checklist of a signed screening."""

    __tablename__ = "signed_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screenings.id"), unique=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEventRow(Base):
    """One audit event; ``hash`` is the sha256 of its canonical form, which includes ``prev_hash``.

    ``occurred_at`` is ISO 8601 text in UTC so the hashed bytes are the stored bytes on every
    database.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint(_in("outcome", OUTCOMES), name="ck_audit_events_outcome"),
        Index("ix_audit_events_record", "record_id", "action"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    workstation: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(8))
    record_id: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    row_hashes: Mapped[str | None] = mapped_column(Text)
    """The hashes of the tracked rows the event's transaction added, changed or deleted
    (revision 0003; :mod:`ketascreen.records.rowhash`)."""


class AuditHead(Base):
    """The one row naming the last audit event: the lock writers queue on, and the anchor that
    shows a deleted last event."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="ck_audit_head_single"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class ClinicFile(Base):
    """An installed version of the clinic policy or formulary (TOML bytes)."""

    __tablename__ = "clinic_files"
    __table_args__ = (CheckConstraint(_in("kind", CLINIC_FILE_KINDS), name="ck_clinic_files_kind"),
                      Index("ix_clinic_files_kind", "kind", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    installed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class LoginThrottle(Base):
    """Failed logins in a row per user name (known or not), and until when logins are refused
    without checking the password (revision 0004; :mod:`ketascreen.records.users`)."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


RECORD_KINDS: Final = ("monitoring", "rescue", "discharge")
"""What a nurse types in after an infusion (``infusion_records.kind``)."""


class CourseRow(Base):
    """A course of infusions, started from a signed screening (revision 0005; append-only)."""

    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("(plan_infusions IS NULL AND plan_weeks IS NULL) OR "
                        "(plan_infusions >= 1 AND plan_weeks >= 1)", name="ck_courses_plan"),
        Index("ix_courses_patient", "patient_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[str] = mapped_column(String(20), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    screening_id: Mapped[int] = mapped_column(ForeignKey("screenings.id"))
    plan_infusions: Mapped[int | None] = mapped_column(Integer)
    plan_weeks: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class CourseInfusionRow(Base):
    """An infusion of a course: its day-of content and its stored screening (revision 0005;
    append-only: a corrected day-of check is a new row naming the row it replaces, and the
    latest row of a number is in force)."""

    __tablename__ = "course_infusions"
    __table_args__ = (
        CheckConstraint("number >= 1", name="ck_course_infusions_number"),
        Index("ix_course_infusions_number", "course_id", "number", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    number: Mapped[int] = mapped_column(Integer)
    infusion_json: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    screening_id: Mapped[int] = mapped_column(ForeignKey("screenings.id"), unique=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("course_infusions.id"),
                                                    unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class InfusionRecordRow(Base):
    """A monitoring reading, rescue drug or discharge typed in after an infusion, with the
    findings the thresholds gave (revision 0005; append-only)."""

    __tablename__ = "infusion_records"
    __table_args__ = (
        CheckConstraint(_in("kind", RECORD_KINDS), name="ck_infusion_records_kind"),
        Index("ix_infusion_records_infusion", "infusion_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    infusion_id: Mapped[int] = mapped_column(ForeignKey("course_infusions.id"))
    kind: Mapped[str] = mapped_column(String(16))
    entry_json: Mapped[str] = mapped_column(Text)
    findings_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class CountersignedDocument(Base):
    """The nurse-countersigned PDF of a signed checklist: the physician's signed bytes with the
    nurse's countersignature appended as an incremental update (revision 0006; append-only).
    The physician's :class:`SignedDocument` is never overwritten; this is the bedside copy.

    ``double_check_event`` is the audit event of the double check it follows (match or
    override) by the countersigning nurse.
    """

    __tablename__ = "countersigned_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screenings.id"), unique=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(String(300))
    certificate_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    double_check_event: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
