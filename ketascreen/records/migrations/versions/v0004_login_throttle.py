"""Login throttling: failed logins in a row per user name, and until when logins wait.

- ``login_throttle``: one row per user name that has tried to log in (known accounts and unknown
  names alike, so the wait does not tell which names exist): the failed logins in a row, the
  last failure and until when a login is refused without checking the password. A successful
  login sets the count back to zero. The state is in the database, so every workstation and
  process sees the same wait.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the ``login_throttle`` table."""
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Records are never downgraded: a clinic restores a backup instead."""
    raise RuntimeError("records migrations are forward-only: restore a backup instead")
