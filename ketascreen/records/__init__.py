"""Records: stored screenings, signed documents, users and roles, and the audit trail.

Core code (no Qt). Open the store, log a user in, act as that user::

    from ketascreen.records import RecordStore
    with RecordStore.open() as store:                 # SQLite in the user data dir by default
        actor = store.authenticate("drsmith", password)
        stored = store.create(actor, screening, signed_pdf=pdf)

The names below are imported on first use, so ``import ketascreen.records.commands`` (which the
command line does for every run) does not load SQLAlchemy. See ``README.md`` (Records).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ketascreen.records.audit import AuditEvent, AuditReport
    from ketascreen.records.db import Database, database_url
    from ketascreen.records.repository import RecordStore
    from ketascreen.records.roles import Actor, Permission, Role, UserInfo
    from ketascreen.records.views import (
        CertificateInfo,
        PatientInfo,
        RecordSummary,
        StoredScreening,
        Versions,
    )

_WHERE = {
    "AuditEvent": "audit", "AuditReport": "audit", "Database": "db", "database_url": "db",
    "RecordStore": "repository", "Actor": "roles", "Permission": "roles", "Role": "roles",
    "UserInfo": "roles", "CertificateInfo": "views", "PatientInfo": "views",
    "RecordSummary": "views", "StoredScreening": "views", "Versions": "views",
}


def __getattr__(name: str) -> Any:
    """Import the public names lazily."""
    if name in _WHERE:
        return getattr(importlib.import_module(f"ketascreen.records.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'ketascreen.records' has no attribute {name!r}")


__all__ = [
    "Actor",
    "AuditEvent",
    "AuditReport",
    "CertificateInfo",
    "Database",
    "PatientInfo",
    "Permission",
    "RecordStore",
    "RecordSummary",
    "Role",
    "StoredScreening",
    "UserInfo",
    "Versions",
    "database_url",
]
