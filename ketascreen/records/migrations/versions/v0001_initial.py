"""Initial records schema: users, patients, screenings, signed documents, audit trail.

Besides the tables, triggers make the database itself refuse to change a signed screening, a
signed document, an installed clinic file or an audit event (UPDATE, DELETE and, on PostgreSQL,
TRUNCATE), and refuse a document for a draft. They guard against mistakes and other programs;
the audit hash chain is what shows deliberate tampering by someone who drops them.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64
SIGNED_SCREENING = "a signed screening is never changed or deleted (amend it instead)"
IMMUTABLE = {
    "signed_documents": "a signed document is never changed or deleted",
    "audit_events": "the audit trail is append-only",
    "clinic_files": "an installed clinic file is never changed or deleted (install a new one)",
}
DRAFT_DOCUMENT = "a signed document belongs to a signed screening, not a draft"


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the tables, the audit head row and the immutability triggers."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        sa.CheckConstraint("role IN ('physician', 'nurse', 'admin')", name="ck_users_role"),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("external_id", sa.String(128), nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        _timestamp("created_at"),
    )
    op.create_table(
        "screenings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("record_id", sa.String(20), nullable=False, unique=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("decision", sa.String(24), nullable=False),
        sa.Column("screening_date", sa.Date(), nullable=False),
        sa.Column("case_json", sa.Text(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("ruleset_version", sa.String(64), nullable=False),
        sa.Column("ruleset_sha256", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
        sa.Column("formulary_version", sa.String(64), nullable=False),
        sa.Column("formulary_sha256", sa.String(64), nullable=False),
        _timestamp("created_at"),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        _timestamp("updated_at"),
        _timestamp("signed_at", nullable=True),
        sa.Column("signed_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("signer_name", sa.String(300), nullable=True),
        sa.Column("amends_id", sa.Integer(), sa.ForeignKey("screenings.id"), nullable=True,
                  unique=True),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'signed', 'amended')",
                           name="ck_screenings_status"),
        sa.CheckConstraint(
            "(status = 'draft' AND signed_at IS NULL AND signed_by IS NULL) OR "
            "(status <> 'draft' AND signed_at IS NOT NULL AND signed_by IS NOT NULL)",
            name="ck_screenings_signed"),
        sa.CheckConstraint(
            "(status = 'amended' AND amends_id IS NOT NULL) OR "
            "(status <> 'amended' AND amends_id IS NULL)",
            name="ck_screenings_amendment"),
    )
    op.create_index("ix_screenings_status_signed_at", "screenings", ["status", "signed_at"])
    op.create_index("ix_screenings_patient_created", "screenings", ["patient_id", "created_at"])
    op.create_index("ix_screenings_created_at", "screenings", ["created_at"])
    op.create_table(
        "signed_documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("screening_id", sa.Integer(), sa.ForeignKey("screenings.id"), nullable=False,
                  unique=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        _timestamp("created_at"),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("occurred_at", sa.String(32), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("workstation", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("record_id", sa.String(20), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.CheckConstraint("outcome IN ('ok', 'refused')", name="ck_audit_events_outcome"),
    )
    op.create_index("ix_audit_events_record", "audit_events", ["record_id", "action"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_single"),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0, "last_hash": GENESIS}])
    op.create_table(
        "clinic_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        _timestamp("installed_at"),
        sa.Column("installed_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.CheckConstraint("kind IN ('policy', 'formulary')", name="ck_clinic_files_kind"),
    )
    op.create_index("ix_clinic_files_kind", "clinic_files", ["kind", "id"])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER screenings_signed_no_{operation.lower()} BEFORE {operation} "
            f"ON screenings FOR EACH ROW WHEN OLD.status <> 'draft' "
            f"BEGIN SELECT RAISE(ABORT, 'ketascreen: {SIGNED_SCREENING}'); END")
        for table, message in IMMUTABLE.items():
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"FOR EACH ROW BEGIN SELECT RAISE(ABORT, 'ketascreen: {message}'); END")
    op.execute(
        "CREATE TRIGGER signed_documents_signed_only BEFORE INSERT ON signed_documents "
        "FOR EACH ROW WHEN (SELECT status FROM screenings WHERE id = NEW.screening_id) = 'draft' "
        f"BEGIN SELECT RAISE(ABORT, 'ketascreen: {DRAFT_DOCUMENT}'); END")


def _postgresql_triggers() -> None:
    op.execute(
        "CREATE FUNCTION ketascreen_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'ketascreen: %', TG_ARGV[0] USING ERRCODE = 'restrict_violation'; "
        "END $$")
    op.execute(
        "CREATE TRIGGER screenings_signed_no_change BEFORE UPDATE OR DELETE ON screenings "
        "FOR EACH ROW WHEN (OLD.status <> 'draft') "
        f"EXECUTE FUNCTION ketascreen_refuse('{SIGNED_SCREENING}')")
    op.execute(
        "CREATE TRIGGER screenings_no_truncate BEFORE TRUNCATE ON screenings "
        f"FOR EACH STATEMENT EXECUTE FUNCTION ketascreen_refuse('{SIGNED_SCREENING}')")
    for table, message in IMMUTABLE.items():
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION ketascreen_refuse('{message}')")
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION ketascreen_refuse('{message}')")
    op.execute(
        "CREATE FUNCTION ketascreen_document_needs_signature() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF (SELECT status FROM screenings WHERE id = NEW.screening_id) = 'draft' THEN "
        f"RAISE EXCEPTION 'ketascreen: {DRAFT_DOCUMENT}' USING ERRCODE = 'restrict_violation'; "
        "END IF; RETURN NEW; END $$")
    op.execute(
        "CREATE TRIGGER signed_documents_signed_only BEFORE INSERT ON signed_documents "
        "FOR EACH ROW EXECUTE FUNCTION ketascreen_document_needs_signature()")


def downgrade() -> None:
    """Records are never downgraded: a clinic restores a backup instead."""
    raise RuntimeError("records migrations are forward-only: restore a backup instead")
