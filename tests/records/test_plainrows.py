"""``plain_rows`` gives what SQLAlchemy's ``Result`` gives, value for value, read straight from
the DBAPI cursor on SQLite (the Core route elsewhere): every tracked table and the trail of a
real store, with naive and aware times, dates, nulls, bytes, JSON text and non-ASCII text, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Select, func, literal_column, select, text

from ketascreen.records import plainrows
from ketascreen.records.models import (
    AuditEventRow,
    AuditHead,
    LoginThrottle,
    Patient,
    ScreeningRow,
    SignedDocument,
    User,
    UserSetting,
)
from ketascreen.records.plainrows import plain_rows
from ketascreen.records.repository import RecordStore
from ketascreen.records.rowhash import TRACKED
from ketascreen.records.views import StoredScreening
from tests.records.rawsql import drop_protection, raw
from tests.records.test_integrity import signed  # noqa: F401 - the fixture


def _same(connection: Connection, statement: Select[Any], batch: int = 500) -> list[tuple]:
    expected = [tuple(row) for row in connection.execute(statement).all()]
    got = list(plain_rows(connection, statement, batch=batch))
    assert got == expected
    # equal and of the same types (True == 1, an aware time == its naive twin never)
    assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in expected]
    assert all(type(row) is tuple for row in got)
    return got


def _odd_rows(database_url: str) -> None:
    """Rows no ketascreen write makes: non-ASCII text, JSON text, nulls, a blob, a time with
    microseconds, a time written without them, a throttle row with null times."""
    with raw(database_url) as connection:
        drop_protection(connection)
        connection.execute(text(
            "UPDATE patients SET name = :name"), {"name": 'Zoë "Ünïcode" \u200b\U0001f489'})
        connection.execute(text(
            "INSERT INTO user_settings (user_id, name, value, updated_at) "
            "SELECT id, 'odd', :value, :at FROM users WHERE username = 'rnpatel'"),
            {"value": '{"a": [1, "é", null], "b": "\\u00e9"}',
             "at": datetime(2026, 12, 5, 9, 0, 0, 123456)})
        connection.execute(text(
            "INSERT INTO login_throttle (username, failures, last_failure_at, blocked_until) "
            "VALUES ('ghost', 2, NULL, NULL), ('émile', 1, :at, NULL)"),
            {"at": datetime(2026, 12, 5, 9, 0)})


def test_every_tracked_table_reads_the_same(store: RecordStore, database_url: str,
                                            signed: StoredScreening) -> None:  # noqa: F811
    _odd_rows(database_url)
    with store.database.read() as session:
        connection = session.connection()
        counts = {}
        for model in (*TRACKED, AuditEventRow, AuditHead, LoginThrottle):
            table = model.__table__
            rows = _same(connection, select(*table.columns).order_by(  # type: ignore[attr-defined]
                *table.primary_key.columns))  # type: ignore[attr-defined]
            counts[table.name] = len(rows)  # type: ignore[attr-defined]
        assert counts["signed_documents"] == 1 and counts["audit_events"] > 3
        assert counts["login_throttle"] == 2 and counts["user_settings"] >= 2
        # the kinds of values the tables hold came through: aware times, dates, bytes, nulls
        values = [value for model in TRACKED for row in plain_rows(
            connection, select(*model.__table__.columns))  # type: ignore[attr-defined]
            for value in row]
        kinds = {type(value) for value in values}
        assert {datetime, date, bytes, str, int, bool, type(None)} <= kinds
        assert all(value.tzinfo is UTC for value in values if isinstance(value, datetime))
        assert any("\U0001f489" in value for value in values if isinstance(value, str))
        assert all(value is None for row in plain_rows(connection, select(
            LoginThrottle.blocked_until)) for value in row)


def test_statements_with_parameters_joins_and_expressions(
        store: RecordStore, signed: StoredScreening) -> None:  # noqa: F811
    with store.database.read() as session:
        connection = session.connection()
        after = datetime(2000, 1, 1, tzinfo=UTC)
        _same(connection, select(ScreeningRow.id, ScreeningRow.created_at, ScreeningRow.signed_at)
              .where(ScreeningRow.created_at > after, ScreeningRow.status.in_(["signed", "x"]))
              .order_by(ScreeningRow.id))
        _same(connection, select(ScreeningRow.record_id, SignedDocument.pdf,
                                 SignedDocument.created_at.label("at"))
              .outerjoin(SignedDocument, SignedDocument.screening_id == ScreeningRow.id)
              .order_by(ScreeningRow.id))
        _same(connection, select(func.count(), func.max(Patient.birth_date),
                                 literal_column("'x'")).select_from(Patient))
        _same(connection, select(User.id).where(User.id < 0))  # no rows
        # batches of one: every row of a multi-row table, each fetched alone
        assert len(_same(connection, select(*AuditEventRow.__table__.columns)
                         .order_by(AuditEventRow.seq), batch=1)) > 3
        # yield_per: the Core route, the same rows
        _same(connection, select(User.username, User.created_at).order_by(User.id)
              .execution_options(yield_per=1))


def test_reads_the_same_transaction(store: RecordStore, signed: StoredScreening  # noqa: F811
                                    ) -> None:
    names: list[str] = []

    def write_then_fail() -> None:
        with store.database.write() as session:
            connection = session.connection()
            connection.execute(UserSetting.__table__.insert().values(
                user_id=1, name="unseen", value="v",
                updated_at=datetime(2026, 1, 1, tzinfo=UTC)))
            names.extend(name for (name,) in plain_rows(connection, select(UserSetting.name)))
            raise LookupError

    with pytest.raises(LookupError):
        write_then_fail()
    assert "unseen" in names  # written in this transaction, not committed
    with store.database.read() as session:
        assert "unseen" not in [name for (name,) in plain_rows(
            session.connection(), select(UserSetting.name))]


def test_a_stream_left_early_closes_its_cursor(store: RecordStore,
                                               signed: StoredScreening) -> None:  # noqa: F811
    with store.database.read() as session:
        connection = session.connection()
        rows = plain_rows(connection, select(AuditEventRow.seq).order_by(AuditEventRow.seq),
                          batch=1)
        assert next(rows) == (1,)
        rows.close()
        assert [seq for (seq,) in plain_rows(connection, select(AuditEventRow.seq)
                                             .order_by(AuditEventRow.seq))][:2] == [1, 2]


def test_the_cursor_route_is_taken_on_sqlite_only(store: RecordStore, backend: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast route is what SQLite runs (its converters called), the Core route elsewhere."""
    made: list[int] = []
    compiled = plainrows._compiled

    def counting(processors: Any) -> Any:
        made.append(len(processors))
        return compiled(processors)

    monkeypatch.setattr(plainrows, "_compiled", counting)
    with store.database.read() as session:
        list(plain_rows(session.connection(), select(User.id, User.created_at)))
    assert made == ([2] if backend == "sqlite" else [])


def test_compiled_converter() -> None:
    def twice(value: int) -> int:
        return value * 2

    assert plainrows._compiled([None, None]) is None
    convert = plainrows._compiled([None, twice, None, str])
    assert convert is not None and convert((1, 2, 3, 4)) == (1, 4, 3, "4")
    single = plainrows._compiled([twice])
    assert single is not None and single((5,)) == (10,)
