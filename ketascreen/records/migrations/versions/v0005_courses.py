"""Courses of infusions: the course, each infusion's day-of content and what the nurse records.

- ``courses``: a course of infusions started from a signed screening (its ``screening_id``),
  with the clinic's plan (count and weeks) when given.
- ``course_infusions``: the infusions of a course: each row holds an infusion's day-of content
  (the infusion object of ``ketascreen-course/1`` without what is recorded afterwards), its
  sha256, and the stored screening of that infusion (a row of ``screenings``: a draft, or
  signed, with the same immutability and amendments as any screening). A corrected day-of
  check is a new row that names the row it replaces (``replaces_id``): the draft it re-checks,
  or the signed infusion its screening amends; the latest row of a number is in force.
- ``infusion_records``: the monitoring readings, rescue drugs and discharge typed in after the
  infusion, each with the findings the thresholds gave.

The three tables are append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL); their rows are recorded in the audit chain's row hashes like the other tables.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APPEND_ONLY = {
    "courses": "a course is never changed or deleted",
    "course_infusions": "a stored infusion is never changed or deleted (amend its screening)",
    "infusion_records": "a monitoring record is append-only",
}
RECORD_KINDS = ("monitoring", "rescue", "discharge")


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    """Create the three tables and their append-only triggers."""
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("course_id", sa.String(20), nullable=False, unique=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("screening_id", sa.Integer(), sa.ForeignKey("screenings.id"),
                  nullable=False),
        sa.Column("plan_infusions", sa.Integer(), nullable=True),
        sa.Column("plan_weeks", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.CheckConstraint("(plan_infusions IS NULL AND plan_weeks IS NULL) OR "
                           "(plan_infusions >= 1 AND plan_weeks >= 1)", name="ck_courses_plan"),
    )
    op.create_index("ix_courses_patient", "courses", ["patient_id"])
    op.create_table(
        "course_infusions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("course_id", sa.Integer(), sa.ForeignKey("courses.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("infusion_json", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("screening_id", sa.Integer(), sa.ForeignKey("screenings.id"),
                  nullable=False, unique=True),
        sa.Column("replaces_id", sa.Integer(), sa.ForeignKey("course_infusions.id"),
                  nullable=True, unique=True),
        _timestamp("created_at"),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.CheckConstraint("number >= 1", name="ck_course_infusions_number"),
    )
    op.create_index("ix_course_infusions_number", "course_infusions",
                    ["course_id", "number", "id"])
    op.create_table(
        "infusion_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("infusion_id", sa.Integer(), sa.ForeignKey("course_infusions.id"),
                  nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("entry_json", sa.Text(), nullable=False),
        sa.Column("findings_json", sa.Text(), nullable=False),
        _timestamp("created_at"),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.CheckConstraint("kind IN ('monitoring', 'rescue', 'discharge')",
                           name="ck_infusion_records_kind"),
    )
    op.create_index("ix_infusion_records_infusion", "infusion_records", ["infusion_id", "id"])
    if op.get_bind().dialect.name == "postgresql":
        for table, message in APPEND_ONLY.items():
            op.execute(
                f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION ketascreen_refuse('{message}')")
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION ketascreen_refuse('{message}')")
    else:
        for table, message in APPEND_ONLY.items():
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
                    f"ON {table} FOR EACH ROW "
                    f"BEGIN SELECT RAISE(ABORT, 'ketascreen: {message}'); END")


def downgrade() -> None:
    """Records are never downgraded: a clinic restores a backup instead."""
    raise RuntimeError("records migrations are forward-only: restore a backup instead")
