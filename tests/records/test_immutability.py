"""A signed screening is never updated: the store refuses, and so does the database itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ketascreen.errors import RecordError, SignedRecordImmutableError
from ketascreen.records.repository import RecordStore
from ketascreen.records.views import StoredScreening
from ketascreen.screening import Screening
from tests.records.conftest import People
from tests.records.rawsql import raw
from tests.records.support import screening_of

Sign = Callable[[Screening], bytes]


@pytest.fixture
def signed(store: RecordStore, people: People, sign: Sign) -> StoredScreening:
    """A signed record of the example case."""
    screening = screening_of()
    return store.create(people.physician, screening, signed_pdf=sign(screening))


def _refusals(store: RecordStore, people: People, record_id: str) -> list[str]:
    return [e.action for e in store.events(people.physician, record_id)
            if e.outcome == "refused"]


def test_store_refuses_to_update_a_signed_record(store: RecordStore, people: People,
                                                 signed: StoredScreening) -> None:
    """update_draft, acknowledge and sign of a signed record are refused and audited."""
    changed = screening_of({"measurements.weight": "190 lb"})
    with pytest.raises(SignedRecordImmutableError, match="amend it instead"):
        store.update_draft(people.physician, signed.record_id, changed)
    concept = next(f.concept for f in changed.result.findings if f.severity == "relative")
    with pytest.raises(SignedRecordImmutableError):
        store.acknowledge(people.physician, signed.record_id, concept=concept, reason="x")
    with pytest.raises(SignedRecordImmutableError):
        store.sign(people.physician, signed.record_id, b"%PDF-")
    assert _refusals(store, people, signed.record_id) == ["update", "acknowledge", "sign"]
    assert store.get(people.physician, signed.record_id) == signed


@pytest.mark.parametrize("statement", [
    "UPDATE screenings SET result_json = '{}' WHERE record_id = :id",
    "UPDATE screenings SET status = 'draft', signed_at = NULL, signed_by = NULL "
    "WHERE record_id = :id",
    "UPDATE screenings SET decision = 'do-not-infuse' WHERE record_id = :id",
    "DELETE FROM screenings WHERE record_id = :id",
])
def test_database_refuses_raw_sql_on_a_signed_row(database_url: str, store: RecordStore,
                                                  people: People, signed: StoredScreening,
                                                  statement: str) -> None:
    """UPDATE or DELETE of a signed screening by raw SQL is refused by the database."""
    with pytest.raises(IntegrityError, match="a signed screening is never changed"), \
            raw(database_url) as connection:
        connection.execute(text(statement), {"id": signed.record_id})
    assert store.get(people.physician, signed.record_id) == signed


@pytest.mark.parametrize("statement", [
    "UPDATE signed_documents SET pdf = :junk",
    "UPDATE signed_documents SET sha256 = 'x'",
    "DELETE FROM signed_documents",
    "UPDATE audit_events SET username = 'someone'",
    "DELETE FROM audit_events WHERE seq = 1",
])
def test_database_refuses_raw_sql_on_documents_and_audit(database_url: str,
                                                         signed: StoredScreening,
                                                         statement: str) -> None:
    """Signed documents and audit events cannot be changed or deleted by raw SQL either."""
    with pytest.raises(IntegrityError, match=r"never changed|append-only"), \
            raw(database_url) as connection:
        connection.execute(text(statement), {"junk": b"junk"})


def test_emptying_a_table_is_refused(database_url: str, backend: str,
                                     signed: StoredScreening) -> None:
    """TRUNCATE on PostgreSQL (which skips row triggers) and a whole-table DELETE on SQLite
    (its truncate optimisation is off when triggers exist) are refused."""
    for table in ("audit_events", "signed_documents", "screenings"):
        statement = (f"TRUNCATE {table} CASCADE" if backend == "postgresql"
                     else f"DELETE FROM {table}")
        with pytest.raises(IntegrityError), raw(database_url) as connection:
            connection.execute(text(statement))


def test_a_draft_row_can_change_but_gets_no_document(database_url: str, store: RecordStore,
                                                     people: People) -> None:
    """The triggers target signed rows only; a document for a draft is refused."""
    draft = store.create(people.physician, screening_of())
    with raw(database_url) as connection:
        connection.execute(
            text("UPDATE screenings SET decision = 'do-not-infuse' WHERE record_id = :id"),
            {"id": draft.record_id})
    with raw(database_url) as connection:
        screening_id = connection.execute(text(
            "SELECT id FROM screenings WHERE record_id = :id"), {"id": draft.record_id}).scalar()
    insert = text("INSERT INTO signed_documents (screening_id, pdf, sha256, size, created_at) "
                  "VALUES (:s, :p, 'x', 1, CURRENT_TIMESTAMP)")
    with pytest.raises(IntegrityError, match="not a draft"), raw(database_url) as connection:
        connection.execute(insert, {"s": screening_id, "p": b"x"})


def test_constraints_tie_status_to_signature(database_url: str, store: RecordStore,
                                             people: People) -> None:
    """A row cannot claim 'signed' without who and when, or 'amended' without a link."""
    draft = store.create(people.physician, screening_of())
    for statement in ("UPDATE screenings SET status = 'signed' WHERE record_id = :id",
                      "UPDATE screenings SET status = 'amended', signed_at = CURRENT_TIMESTAMP, "
                      "signed_by = created_by WHERE record_id = :id"):
        with pytest.raises(IntegrityError), raw(database_url) as connection:
            connection.execute(text(statement), {"id": draft.record_id})


def test_integrity_error_from_the_store_is_a_record_error(store: RecordStore, people: People,
                                                          signed: StoredScreening) -> None:
    """If the store itself ever tried, the database refusal surfaces as a RecordError."""
    from ketascreen.records.models import ScreeningRow

    def change_it() -> None:
        with store.transaction() as tx:
            row = tx.session.query(ScreeningRow).filter_by(record_id=signed.record_id).one()
            row.decision = "do-not-infuse"

    with pytest.raises(RecordError, match="database refused"):
        change_it()
