"""The nurse's countersigned checklists.

- ``countersigned_documents``: one per signed screening at most (``screening_id`` unique):
  the physician-signed PDF with the nurse's countersignature appended as an incremental
  update, its sha256 and size, the countersigning nurse (``signer_id``), the name and
  fingerprint of her certificate, when she signed, and the audit event of the bedside double
  check it follows (``double_check_event``). The physician's ``signed_documents`` row is never
  touched.

The table is append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL); its
rows are recorded in the audit chain's row hashes like the other tables.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLE = "countersigned_documents"
MESSAGE = "a countersigned checklist is never changed or deleted"


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    """Create the table and its append-only triggers."""
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("screening_id", sa.Integer(), sa.ForeignKey("screenings.id"),
                  nullable=False, unique=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("signer_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("signer_name", sa.String(300), nullable=False),
        sa.Column("certificate_sha256", sa.String(64), nullable=False),
        _timestamp("signed_at"),
        sa.Column("double_check_event", sa.Integer(), nullable=False),
        _timestamp("created_at"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE} "
                   f"FOR EACH ROW EXECUTE FUNCTION ketascreen_refuse('{MESSAGE}')")
        op.execute(f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION ketascreen_refuse('{MESSAGE}')")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {TABLE}_no_{operation.lower()} BEFORE {operation} "
                       f"ON {TABLE} FOR EACH ROW "
                       f"BEGIN SELECT RAISE(ABORT, 'ketascreen: {MESSAGE}'); END")


def downgrade() -> None:
    """Records are never downgraded: a clinic restores a backup instead."""
    raise RuntimeError("records migrations are forward-only: restore a backup instead")
