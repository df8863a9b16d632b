"""The audit trail: every action is an event, the hash chain verifies, tampering is named."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, text

from ketascreen.cli import main
from ketascreen.errors import AuditChainBrokenError
from ketascreen.records.audit import GENESIS, AuditReport, event_hash
from ketascreen.records.repository import RecordStore
from ketascreen.records.views import StoredScreening
from ketascreen.records.worklist import record_double_check, record_print
from ketascreen.screening import Screening
from tests.records.conftest import People
from tests.records.rawsql import drop_protection, raw, rewrite_trail
from tests.records.support import screening_of

Sign = Callable[[Screening], bytes]


@pytest.fixture
def history(store: RecordStore, people: People, sign: Sign) -> StoredScreening:
    """A small clinic history: logins, a signed record, an amendment, prints and checks."""
    first = screening_of()
    original = store.create(people.physician, first, signed_pdf=sign(first))
    second = screening_of({"measurements.weight": "190 lb"})
    amendment = store.amend(people.physician, original.record_id, second,
                            signed_pdf=sign(second), reason="weight re-measured")
    record_print(store, people.nurse, amendment.record_id)
    record_double_check(store, people.nurse, amendment.record_id, witness="rnlee")
    return amendment


def _events(connection: Connection) -> list[dict[str, object]]:
    rows = connection.execute(text("SELECT * FROM audit_events ORDER BY seq"))
    return [dict(row._mapping) for row in rows]


def _verify(store: RecordStore) -> AuditReport:
    return store.verify_audit()


def test_every_action_is_an_event(store: RecordStore, people: People,
                                  history: StoredScreening) -> None:
    """Logins, user creation, create, sign, amend, print and double check are all events."""
    with store.database.read() as session:
        actions = [row[0] for row in session.execute(
            text("SELECT action FROM audit_events ORDER BY seq"))]
    assert actions[:4] == ["user-create", "login", "user-create", "user-create"]
    assert actions.count("login") == 4
    assert actions[-6:] == ["create", "sign", "create", "amend", "print", "double-check"]
    report = _verify(store)
    assert report.ok and report.events == len(actions) and report.records_checked == 2


def test_events_carry_who_when_what_and_the_previous_hash(store: RecordStore,
                                                          history: StoredScreening,
                                                          database_url: str) -> None:
    """Each event links to the one before by its sha256; the first links to zeros."""
    with raw(database_url) as connection:
        events = _events(connection)
    assert events[0]["prev_hash"] == GENESIS
    for before, after in itertools.pairwise(events):
        assert after["prev_hash"] == before["hash"]
        assert after["seq"] == before["seq"] + 1  # type: ignore[operator]
    last = events[-1]
    assert last["action"] == "double-check" and last["username"] == "rnpatel"
    assert last["record_id"] == history.record_id
    assert str(last["occurred_at"]).endswith("Z")
    recomputed = event_hash(**{k: v for k, v in last.items()  # type: ignore[arg-type]
                               if k not in ("hash",)})
    assert recomputed == last["hash"]


def test_edited_event_is_named(store: RecordStore, history: StoredScreening,
                               database_url: str) -> None:
    """Changing who signed, with raw SQL, breaks the hash of that event."""
    with raw(database_url) as connection:
        drop_protection(connection)
        seq = connection.execute(text(
            "SELECT seq FROM audit_events WHERE action = 'sign'")).scalar_one()
        connection.execute(text("UPDATE audit_events SET username = 'rnpatel' WHERE seq = :s"),
                           {"s": seq})
    report = _verify(store)
    assert report.broken_at == seq
    assert "content does not match its hash (edited)" in (report.reason or "")
    with pytest.raises(AuditChainBrokenError, match=f"event {seq}"):
        report.raise_if_broken()


def test_edited_event_with_recomputed_hash_breaks_the_next_link(
        store: RecordStore, history: StoredScreening, database_url: str) -> None:
    """A forger who recomputes the edited event's hash breaks the next event's link."""
    with raw(database_url) as connection:
        drop_protection(connection)
        event = next(e for e in _events(connection) if e["action"] == "sign")
        event["username"] = "rnpatel"
        forged = event_hash(**{k: v for k, v in event.items()  # type: ignore[arg-type]
                               if k != "hash"})
        connection.execute(text("UPDATE audit_events SET username = 'rnpatel', hash = :h "
                                "WHERE seq = :s"), {"h": forged, "s": event["seq"]})
    report = _verify(store)
    assert report.broken_at == int(event["seq"]) + 1  # type: ignore[call-overload]
    assert "link to event" in (report.reason or "")


def test_deleted_event_is_named(store: RecordStore, history: StoredScreening,
                                database_url: str) -> None:
    """Deleting an event from the middle leaves a gap that names it."""
    with raw(database_url) as connection:
        drop_protection(connection)
        seq = connection.execute(text(
            "SELECT seq FROM audit_events WHERE action = 'amend'")).scalar_one()
        connection.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": seq})
    report = _verify(store)
    assert report.broken_at == seq
    assert f"event {seq} is missing (deleted)" in (report.reason or "")


def test_deleted_last_event_is_named(store: RecordStore, history: StoredScreening,
                                     database_url: str) -> None:
    """Deleting the newest event is caught by the head record."""
    with raw(database_url) as connection:
        drop_protection(connection)
        last = connection.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
        connection.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": last})
    report = _verify(store)
    assert report.broken_at == last
    assert "were deleted" in (report.reason or "")


def test_inserted_event_is_named(store: RecordStore, history: StoredScreening,
                                 database_url: str) -> None:
    """An event inserted with raw SQL does not link (nor is it named by the head)."""
    with raw(database_url) as connection:
        last = _events(connection)[-1]
        seq = int(last["seq"]) + 1  # type: ignore[call-overload]
        connection.execute(text(
            "INSERT INTO audit_events (seq, occurred_at, username, role, workstation, action, "
            "outcome, record_id, detail, prev_hash, hash) VALUES (:seq, "
            "'2026-11-25T08:00:00.000000Z', 'drsmith', 'physician', 'ws', 'sign', 'ok', NULL, "
            "'{}', :prev, :hash)"), {"seq": seq, "prev": "1" * 64, "hash": "2" * 64})
    report = _verify(store)
    assert report.broken_at == seq
    assert "link to event" in (report.reason or "")


def test_well_forged_insert_is_caught_by_the_head(store: RecordStore, history: StoredScreening,
                                                  database_url: str) -> None:
    """Even a correctly chained extra event is named: the head says the trail ended before."""
    with raw(database_url) as connection:
        last = _events(connection)[-1]
        forged = dict(last, seq=int(last["seq"]) + 1, action="print",  # type: ignore[call-overload]
                      prev_hash=last["hash"])
        forged["hash"] = event_hash(**{k: v for k, v in forged.items()  # type: ignore[arg-type]
                                       if k != "hash"})
        connection.execute(text(
            "INSERT INTO audit_events (seq, occurred_at, username, role, workstation, action, "
            "outcome, record_id, detail, prev_hash, hash) VALUES (:seq, :occurred_at, "
            ":username, :role, :workstation, :action, :outcome, :record_id, :detail, "
            ":prev_hash, :hash)"), forged)
    report = _verify(store)
    assert report.broken_at == forged["seq"]
    assert "added outside ketascreen" in (report.reason or "")


def test_rewritten_trail_is_caught_by_an_anchor(store: RecordStore, history: StoredScreening,
                                                database_url: str) -> None:
    """A full rewrite (every later hash and the head) is caught by a head noted earlier."""
    noted = _verify(store)
    anchor = (noted.events, noted.head_hash)
    def forge(event: dict[str, object]) -> None:
        if event["action"] == "sign":
            event["username"] = "rnpatel"

    rewrite_trail(database_url, forge)
    assert _verify(store).broken_at is None  # undetectable without an anchor ...
    report = store.verify_audit(anchor=anchor)
    assert not report.ok and "rewritten" in (report.anchor_problem or "")


def test_changed_signed_document_is_named(store: RecordStore, history: StoredScreening,
                                          database_url: str) -> None:
    """A signed PDF replaced in the database no longer matches the hash in its sign event."""
    with raw(database_url) as connection:
        drop_protection(connection)
        connection.execute(text(
            "UPDATE signed_documents SET pdf = :p, sha256 = :s WHERE screening_id = "
            "(SELECT id FROM screenings WHERE record_id = :id)"),
            {"p": b"%PDF-1.7 forged", "s": "0" * 64, "id": history.record_id})
    report = _verify(store)
    assert report.broken_at is None
    assert report.record_problems == (
        (history.record_id, "its signed document changed after it was signed"),)


def test_changed_signed_result_is_named(store: RecordStore, history: StoredScreening,
                                        database_url: str) -> None:
    """A signed result edited in the database no longer matches the hash in its sign event."""
    with raw(database_url) as connection:
        drop_protection(connection)
        connection.execute(text("UPDATE screenings SET result_json = :r WHERE record_id = :id"),
                           {"r": json.dumps({"decision": "clear"}), "id": history.record_id})
    report = _verify(store)
    assert (history.record_id, "its case or result changed after it was signed") in (
        report.record_problems)


def test_cli_audit_verify(store: RecordStore, history: StoredScreening, database_url: str,
                          monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    """`ketascreen audit verify` exits 0 on an intact trail and 1 naming the broken event."""
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", database_url)
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "every link verifies" in out and "RESULT: VERIFIED" in out
    assert "Signed records:  2 checked" in out
    with raw(database_url) as connection:
        drop_protection(connection)
        connection.execute(text("UPDATE audit_events SET detail = '{}' WHERE seq = 3"))
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "BROKEN at event 3: its content does not match its hash (edited)" in out
    assert "RESULT: NOT VERIFIED" in out


def test_cli_expect_head(store: RecordStore, history: StoredScreening, database_url: str,
                         monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    """--expect-head N:SHA checks a head noted earlier; a malformed one is an input error."""
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", database_url)
    report = _verify(store)
    assert main(["audit", "verify", "--expect-head",
                 f"{report.events}:{report.head_hash}"]) == 0
    assert main(["audit", "verify", "--expect-head", f"{report.events}:{'a' * 64}"]) == 1
    assert "the trail was rewritten" in capsys.readouterr().out
    assert main(["audit", "verify", "--expect-head", "x"]) == 2


def test_concurrent_writers_keep_one_chain(database_url: str, people: People,
                                           store: RecordStore, history: StoredScreening) -> None:
    """Writers in several threads (each with its own store) queue on the head: one chain."""
    import threading

    errors: list[BaseException] = []

    def work() -> None:
        other = RecordStore.open(database_url)
        try:
            for _ in range(10):
                record_print(other, people.nurse, history.record_id)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            other.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = _verify(store)
    assert report.ok
    prints = [e for e in store.events(people.physician, history.record_id)
              if e.action == "print"]
    assert len(prints) == 41
