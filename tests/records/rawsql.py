"""Raw SQL on a records database, as another program (or an attacker with the file) would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

PROTECTED = ("screenings", "signed_documents", "audit_events", "clinic_files",
             "signing_certificates")


ADMIN_URLS: dict[str, str] = {}
"""PostgreSQL: the superuser's URL of each test database the store reaches as the application
role (filled by ``tests/records/conftest.py``): raw SQL tampers as a database administrator."""


@contextmanager
def raw(database_url: str) -> Iterator[Connection]:
    """A plain connection in one transaction (committed at the end), outside the store; on
    PostgreSQL as the superuser (see :data:`ADMIN_URLS`)."""
    engine = create_engine(ADMIN_URLS.get(database_url, database_url))
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def drop_protection(connection: Connection) -> None:
    """Remove the immutability triggers, as someone tampering on purpose would first."""
    if make_url(str(connection.engine.url)).get_backend_name() == "postgresql":
        for table in PROTECTED:
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        return
    names = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    for (name,) in names.all():
        connection.execute(text(f"DROP TRIGGER {name}"))
