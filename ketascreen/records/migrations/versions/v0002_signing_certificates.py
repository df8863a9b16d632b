"""Signing certificates bound to accounts, the certificate of each signed record, account settings.

- ``signing_certificates``: the sha256 fingerprints of the certificates registered to each
  physician's account (one account per certificate). Rows are never changed or deleted
  (triggers); every registration is an audit event.
- ``screenings.signer_certificate_sha256``: the fingerprint of the certificate that signed the
  record (``NULL`` for drafts and for records signed before this revision).
- ``user_settings``: per-account preferences (the path of the last signing key used).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

REGISTERED = "a registered signing certificate is never changed or deleted"


def upgrade() -> None:
    """Add the certificate table, the signer's fingerprint column and the settings table."""
    op.create_table(
        "signing_certificates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("subject_name", sa.String(300), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
    )
    op.create_index("ix_signing_certificates_user", "signing_certificates", ["user_id"])
    op.add_column("screenings", sa.Column("signer_certificate_sha256", sa.String(64),
                                          nullable=True))
    op.create_table(
        "user_settings",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER signing_certificates_no_change BEFORE UPDATE OR DELETE ON "
            "signing_certificates FOR EACH ROW "
            f"EXECUTE FUNCTION ketascreen_refuse('{REGISTERED}')")
        op.execute(
            "CREATE TRIGGER signing_certificates_no_truncate BEFORE TRUNCATE ON "
            "signing_certificates FOR EACH STATEMENT "
            f"EXECUTE FUNCTION ketascreen_refuse('{REGISTERED}')")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER signing_certificates_no_{operation.lower()} BEFORE "
                f"{operation} ON signing_certificates FOR EACH ROW "
                f"BEGIN SELECT RAISE(ABORT, 'ketascreen: {REGISTERED}'); END")


def downgrade() -> None:
    """Records are never downgraded: a clinic restores a backup instead."""
    raise RuntimeError("records migrations are forward-only: restore a backup instead")
