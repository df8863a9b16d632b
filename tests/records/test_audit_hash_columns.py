"""Every column of an audit event is covered by the chain: changing any one of them is caught.

For each column of the ``audit_events`` table, one stored event (the ``create`` of a signed
record, in the middle of the trail) is changed with raw SQL, that column only, and
``audit verify`` must name that event. Content columns must be caught by the event's own hash
("does not match its hash"), not by a side check, so dropping a column from the hash fails here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, text

from ketascreen.cli import main
from ketascreen.records.audit import PlainEvent, plain_events, verify_chain
from ketascreen.records.chain import event_hash, stored_event_hash
from ketascreen.records.models import AuditEventRow, AuditHead
from ketascreen.records.repository import RecordStore
from tests.records.conftest import People
from tests.records.rawsql import audit_events, drop_protection, raw
from tests.records.support import screening_of

EDITED = "its content does not match its hash (edited)"

CHANGES: dict[str, tuple[Callable[[Any], object], str]] = {
    "seq": (lambda seq: seq + 1000, "is missing (deleted)"),
    "occurred_at": (lambda _: "2001-01-01T00:00:00.000000Z", EDITED),
    "username": (lambda _: "rnpatel", EDITED),
    "role": (lambda role: "nurse" if role != "nurse" else "physician", EDITED),
    "workstation": (lambda _: "another-workstation", EDITED),
    "action": (lambda _: "print", EDITED),
    "outcome": (lambda outcome: "refused" if outcome == "ok" else "ok", EDITED),
    "record_id": (lambda _: "KS-000000000000", EDITED),
    "detail": (lambda _: '{"content_sha256":"' + "0" * 64 + '"}', EDITED),
    "prev_hash": (lambda _: "e" * 64, "its link to event"),
    "hash": (lambda _: "e" * 64, EDITED),
    "row_hashes": (lambda _: "{}", EDITED),
}
"""How each column is changed, and what ``audit verify`` must say about the changed event."""


def test_every_column_of_an_audit_event_is_listed_here() -> None:
    """A new column of the table must be added to :data:`CHANGES` (and to the hash)."""
    assert set(CHANGES) == {column.name for column in AuditEventRow.__table__.columns}


def test_the_event_hash_takes_every_column_but_itself() -> None:
    """``event_hash`` is given every column of an event except the hash it computes."""
    parameters = set(inspect.signature(event_hash).parameters)
    assert parameters == set(CHANGES) - {"hash"}


SAMPLE: dict[str, Any] = {
    "seq": 7, "occurred_at": "2026-11-25T09:15:00.123456Z", "username": "drsmith",
    "role": "physician", "workstation": "ws-1", "action": "sign", "outcome": "ok",
    "record_id": "KS-46F455F964BC", "detail": '{"a":1}', "prev_hash": "a" * 64,
    "row_hashes": '{"screenings/1":{"sha256":"' + "b" * 64 + '"}}',
}


@pytest.mark.parametrize("column", sorted(set(CHANGES) - {"hash"}))
def test_each_argument_changes_the_event_hash(column: str) -> None:
    """Changing one value of an event changes its hash (none is left out of the hash)."""
    change, _ = CHANGES[column]
    changed = dict(SAMPLE, **{column: change(SAMPLE[column])})
    assert changed[column] != SAMPLE[column]
    assert event_hash(**changed) != event_hash(**SAMPLE)


def test_a_missing_record_or_row_hashes_hash_differently() -> None:
    """``None`` (no record, no rows) is not the same event as an empty value."""
    assert event_hash(**dict(SAMPLE, record_id=None)) != event_hash(**dict(SAMPLE, record_id=""))
    assert event_hash(**dict(SAMPLE, row_hashes=None)) != event_hash(
        **dict(SAMPLE, row_hashes="{}"))


@pytest.fixture
def trail(store: RecordStore, people: People, sign: Callable[[Any], bytes]) -> RecordStore:
    """A store whose trail has logins, user creation and a created and signed record."""
    screening = screening_of()
    store.create(people.physician, screening, signed_pdf=sign(screening))
    assert store.verify_audit().ok
    return store


def _change(database_url: str, column: str) -> int:
    """Change ``column`` of the stored ``create`` event with raw SQL; returns its number."""
    change, _ = CHANGES[column]
    with raw(database_url) as connection:
        drop_protection(connection)
        events = audit_events(connection)
        event = next(e for e in events if e["action"] == "create")
        assert event is not events[-1] and event["record_id"] and event["row_hashes"]
        value = change(event[column])
        assert value != event[column]
        connection.execute(text(f"UPDATE audit_events SET {column} = :v WHERE seq = :s"),
                           {"v": value, "s": event["seq"]})
    return int(str(event["seq"]))


@pytest.mark.parametrize("column", sorted(CHANGES))
def test_changing_one_column_of_one_event_is_caught(trail: RecordStore, database_url: str,
                                                    column: str) -> None:
    """``audit verify`` names the changed event, for every column of the table."""
    seq = _change(database_url, column)
    report = trail.verify_audit()
    assert not report.ok
    assert report.broken_at == seq, report.reason
    assert CHANGES[column][1] in (report.reason or "")


@pytest.mark.parametrize("column", ["occurred_at", "role", "workstation", "outcome",
                                    "record_id"])
def test_the_command_reports_the_changed_event(trail: RecordStore, database_url: str,
                                               column: str, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """`ketascreen audit verify` exits 1 and names the event whose column was changed."""
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", database_url)
    seq = _change(database_url, column)
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"BROKEN at event {seq}: {EDITED}" in out and "RESULT: NOT VERIFIED" in out


def test_a_stored_row_hashes_as_its_named_columns() -> None:
    """``stored_event_hash`` (the trail read as plain rows) takes the columns in the order of
    :class:`PlainEvent` and ignores the stored hash: the same hash as ``event_hash``, for
    text columns and for values of other types (a tampered row)."""
    stored = {**SAMPLE, "hash": "f" * 64}
    for changed in ({}, {"seq": "7"}, {"role": 3}, {"record_id": None}, {"row_hashes": None},
                    {"detail": 1.5}, {"seq": True}):
        row = PlainEvent(**{**stored, **changed})
        assert stored_event_hash(*row) == event_hash(**{**SAMPLE, **changed})


@pytest.mark.parametrize("column", sorted(CHANGES))
def test_plain_rows_verify_as_orm_rows(trail: RecordStore, database_url: str, column: str
                                       ) -> None:
    """The chain verified over the plain rows reports what it reports over the ORM's rows,
    with the same signed details, row hashes and event hashes, intact and with any column
    of one event changed (here an integer where text was, on SQLite)."""
    def verified(plain: bool) -> tuple[object, ...]:
        signed: dict[str, dict[str, object]] = {}
        rows: dict[str, tuple[int, object]] = {}
        hashes: list[str] = []
        with trail.database.read() as session:
            head = session.get(AuditHead, 1)
            if plain:
                events, close = plain_events(session)
                report = verify_chain(events, head, signed, (2, "x"), row_hashes=rows,
                                      hashes=hashes)
                close()
            else:
                report = verify_chain(session.scalars(select(AuditEventRow).order_by(
                    AuditEventRow.seq)).all(), head, signed, (2, "x"), row_hashes=rows,
                    hashes=hashes)
        return report, signed, rows, hashes

    intact = verified(True)
    assert intact == verified(False) and intact[1] and intact[2]
    _change(database_url, column)
    if trail.database.is_sqlite and column not in ("seq", "prev_hash", "hash", "outcome"):
        with raw(database_url) as connection:  # another type than the ORM's, kept as such
            connection.execute(text(f"UPDATE audit_events SET {column} = 42 WHERE seq = 2"))
    changed = verified(True)
    assert changed == verified(False) and changed != intact
