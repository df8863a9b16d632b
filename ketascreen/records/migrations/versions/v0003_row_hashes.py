"""Row hashes in the audit chain: every security-relevant row is covered by an event's hash.

- ``audit_events.row_hashes``: the hashes of the tracked rows (accounts and roles, patients,
  screenings, signed documents, signing certificates, account settings, clinic files) that the
  event's transaction added, changed or deleted; the event's hash covers it
  (:mod:`ketascreen.records.rowhash`).
- An existing database gets the hashes of its rows recorded by one ``migrate`` event, so that
  `ketascreen audit verify` names any row edited, inserted or deleted from here on.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ketascreen.records.rowhash import record_all_rows

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column, then record the hash of every existing row in a ``migrate`` event."""
    op.add_column("audit_events", sa.Column("row_hashes", sa.Text(), nullable=True))
    record_all_rows(op.get_bind(), action="migrate", detail={"revision": revision})


def downgrade() -> None:
    """Records are never downgraded: a clinic restores a backup instead."""
    raise RuntimeError("records migrations are forward-only: restore a backup instead")
