"""Raw SQL on a records database, as another program (or an attacker with the file) would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


def audit_events(connection: Connection) -> list[dict[str, object]]:
    """Every audit event row, in order, as a dict of its columns."""
    rows = connection.execute(text("SELECT * FROM audit_events ORDER BY seq"))
    return [dict(row._mapping) for row in rows]


def rewrite_trail(database_url: str, change: Callable[[dict[str, object]], None],
                  keep: int | None = None) -> None:
    """Rewrite the audit trail consistently, as a forger with the database would: change each
    event, recompute every hash and the head (and, with ``keep``, cut the trail after that many
    events)."""
    from ketascreen.records.audit import GENESIS, event_hash

    with raw(database_url) as connection:
        drop_protection(connection)
        events = audit_events(connection)[:keep]
        previous = GENESIS
        for event in events:
            change(event)
            event["prev_hash"] = previous
            event["hash"] = event_hash(**{k: v for k, v in event.items()  # type: ignore[arg-type]
                                          if k != "hash"})
            previous = str(event["hash"])
        connection.execute(text("DELETE FROM audit_events"))
        for event in events:
            connection.execute(text(
                "INSERT INTO audit_events (seq, occurred_at, username, role, workstation, "
                "action, outcome, record_id, detail, prev_hash, hash, row_hashes) VALUES (:seq, "
                ":occurred_at, :username, :role, :workstation, :action, :outcome, :record_id, "
                ":detail, :prev_hash, :hash, :row_hashes)"), event)
        connection.execute(text("UPDATE audit_head SET last_seq = :s, last_hash = :h"),
                           {"s": len(events), "h": previous})
