"""A row's hash puts its canonical JSON together from each value encoded once (issue 15); it is
the hash of the canonical JSON written whole, as before, for any column values."""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects import sqlite

from ketascreen.records import rowhash
from ketascreen.records.chain import canonical, event_hash
from ketascreen.records.models import UTCDateTime
from ketascreen.records.rowhash import (
    COLUMN_DIGEST_LENGTH,
    RowHash,
    hash_values,
    row_sha256,
)
from tests.records.test_integrity import signed  # noqa: F401 - the fixture


def _digest(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode("utf-8")).hexdigest()


def _old_value(value: object) -> object:
    """A column value as the row hash has always read it."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    return value


def _reference(values: dict[str, object]) -> RowHash:
    """``hash_values`` as it was written before."""
    canonical = {name: _old_value(value) for name, value in values.items()}
    return RowHash(_digest(canonical), {name: _digest([name, value])[:COLUMN_DIGEST_LENGTH]
                                        for name, value in canonical.items()})


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.text(), st.binary(max_size=64),
    st.datetimes(timezones=st.just(UTC)), st.datetimes(), st.dates())
_VALUES = st.one_of(_SCALARS, st.lists(st.one_of(st.none(), st.integers(), st.text()),
                                       max_size=3),
                    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text()),
                                    max_size=3))
_NAMES = st.one_of(st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True),
                   st.text(min_size=1, max_size=8))  # a name JSON must escape: as before


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(_NAMES, _VALUES, max_size=12))
def test_row_hashes_as_before(values: dict[str, object]) -> None:
    assert hash_values(values) == _reference(values)
    assert row_sha256(values) == _reference(values).sha256


def test_named_rows() -> None:
    row = {"id": 3, "name": 'Pat "Two" \u00e9\u200b', "created_at": datetime(2026, 12, 5, 9, 0),
           "birth_date": date(1970, 1, 2), "pdf": b"%PDF-1.7", "active": True, "none": None,
           "ratio": 0.1}
    assert hash_values(row) == _reference(row)
    assert hash_values({}) == _reference({})
    assert row_sha256(row) == _reference(row).sha256 and row_sha256({}) == _reference({}).sha256


class _Level(enum.IntEnum):
    HIGH = 2


class _Text(str):
    __slots__ = ()


class _Moment(datetime):
    """A datetime subclass (its own isoformat could differ): encoded through strftime."""

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return "not this"


@pytest.mark.parametrize("value", [
    True, False, None, 0, -7, 10**30, _Level.HIGH, _Text('a "b"'), "\u2028\x00\\", 1e-7,
    float("inf"), datetime(2026, 12, 5, 9, 0, 1, 7, tzinfo=UTC),
    datetime(2026, 12, 5, 9, 0, tzinfo=timezone(timedelta(hours=-5))),
    datetime(999, 1, 1), date(2026, 1, 2), memoryview(b"x"), b"", [1, "a"], {"b": 1, "a": None},
    datetime(2026, 12, 5, 9, 0, tzinfo=UTC), datetime(1000, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999), datetime(999, 12, 31, 23, 0, tzinfo=UTC),
    datetime(1000, 1, 1, 1, tzinfo=timezone(timedelta(hours=2))),  # year 999 in UTC
    _Moment(2026, 12, 5, 9, 0, 0, 1, tzinfo=UTC), _Moment(2026, 12, 5)])
def test_each_kind_of_value_is_encoded_as_before(value: object) -> None:
    row = {"id": 1, "value": value}
    assert hash_values(row) == _reference(row)
    assert row_sha256(row) == _reference(row).sha256


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _VALUES.filter(
    lambda v: not isinstance(v, bytes | date)), max_size=8))
def test_canonical_event_json_as_before(data: dict[str, object]) -> None:
    assert canonical(data) == json.dumps(data, sort_keys=True, ensure_ascii=False,
                                         separators=(",", ":")).encode("utf-8")


_EVENT_VALUES = st.one_of(st.text(), st.none(), st.integers(), st.booleans())


@settings(max_examples=400, deadline=None)
@given(seq=st.one_of(st.integers(), st.booleans(), st.text(max_size=3)),
       values=st.lists(_EVENT_VALUES, min_size=10, max_size=10),
       plain=st.lists(st.text(), min_size=10, max_size=10), mix=st.booleans())
def test_event_hash_as_the_canonical_json(seq: object, values: list[object], plain: list[str],
                                          mix: bool) -> None:
    """An event's hash written directly (text columns) or through the encoder (any other
    value, e.g. a tampered row): the sha256 of ``json.dumps`` of its fields, as always."""
    texts: list[object] = list(values if mix else plain)
    names = ("occurred_at", "username", "role", "workstation", "action", "outcome",
             "record_id", "detail", "prev_hash", "row_hashes")
    event = dict(zip(names, texts, strict=True))
    fields = {"v": 1, "seq": seq, "at": event["occurred_at"], "user": event["username"],
              "role": event["role"], "workstation": event["workstation"],
              "action": event["action"], "outcome": event["outcome"],
              "record": event["record_id"], "detail": event["detail"],
              "prev": event["prev_hash"]}
    if event["row_hashes"] is not None:
        fields["rows"] = event["row_hashes"]
    expected = hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False,
                                         separators=(",", ":")).encode("utf-8")).hexdigest()
    assert event_hash(seq=seq, **event) == expected  # type: ignore[arg-type]


# -- audit verify's rows read as stored (SQLite) ------------------------------------------------

_STORED = Table(
    "stored", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(20)),
    Column("at", UTCDateTime()), Column("day", Date), Column("flag", Boolean),
    Column("blob", LargeBinary), Column("a_text", Text), Column("zz", Integer))
_SQLITE = sqlite.dialect()
_CONVERTERS = [column.type.dialect_impl(_SQLITE).result_processor(_SQLITE, None)
               for column in _STORED.columns]
_TIMES = st.datetimes(min_value=datetime(1, 1, 1))
_STORED_VALUES = st.one_of(
    st.none(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
    st.binary(max_size=16),
    _TIMES.map(lambda t: f"{t.year:04d}-{t:%m-%d %H:%M:%S}.{t.microsecond:06d}"),  # stored
    _TIMES.map(str), _TIMES.map(lambda t: t.isoformat()),  # without micro, "T"
    _TIMES.map(lambda t: f"{t:%Y-%m-%d %H:%M:%S.%f}+02:00"),  # an offset
    _TIMES.map(lambda t: f"{t.year:04d}-{t:%m-%d}"),  # a date
    st.sampled_from(["2026-13-01 00:00:00.000000", "2026-02-29 00:00:00.000000",
                     "2024-02-29 23:59:59.999999", "2026-02-04 24:00:00.000000",
                     "2026-02-31", "2024-02-29", "0000-01-01", "0999-12-31",
                     "0999-12-31 00:00:00.000001", "1000-01-01 00:00:00.000000",
                     "2026-02-04 21:03:43.59032", "2026-02-04 21:03:43.5903221",
                     "2026-02-04 21:03:43.590+01", "2026-02-04\n21:03:43.590322",
                     "２０２６-02-04 21:03:43.590322", "20260204", "", "true"]))


def _as_converted(row: tuple[object, ...]) -> str:
    """The canonical text of a row the way the Result's values hash (the converted values)."""
    values = {column.name: value if convert is None else convert(value)
              for column, value, convert in zip(_STORED.columns, row, _CONVERTERS, strict=True)}
    return json.dumps({name: _old_value(value) for name, value in values.items()},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _as_stored(row: tuple[object, ...]) -> str:
    text = rowhash._stored_text(_STORED, _CONVERTERS, rowhash.plain_order(_STORED.c.keys()),
                                _SQLITE)
    return text(row)


def _same_text_or_error(row: tuple[object, ...]) -> None:
    try:
        expected = _as_converted(row)
    except Exception as error:  # noqa: BLE001 - the same error, whatever it is
        with pytest.raises(type(error)):
            _as_stored(row)
        return
    assert _as_stored(row) == expected


@settings(max_examples=1500, deadline=None)
@given(st.tuples(*[_STORED_VALUES] * len(_STORED.columns)))
def test_rows_as_stored_hash_as_their_values(row: tuple[object, ...]) -> None:
    """Any value SQLite can hold in any column (times and dates as SQLAlchemy stores them and
    not): the text of the stored values is the text of the values the Result gives, or the
    same error."""
    _same_text_or_error(row)


_FAST_PATHS = {
    "stored time": (1, "x", "2026-02-04 21:03:43.590322", "2026-02-04", 1, b"%PDF", "é", 7),
    "no micro": (1, "x", "2026-02-04 21:03:43", "2026-02-04", 0, None, "", None),
    "zero micro": (1, "x", "2026-02-04 21:03:43.000000", None, None, b"", None, 0),
    "year 999": (1, None, "0999-12-31 23:59:59.000001", "0999-12-31", 2, None, "\u200b", -1),
    "year 1000": (1, None, "1000-01-01 00:00:00.000000", "1000-01-01", 1, None, "\\", 2**70),
    "offset": (1, "Zoë", "2026-02-04 21:03:43.590322+05:30", "2026-02-04", 1, None, "x", 1),
    "T": (1, "\U0001f489", "2026-02-04T21:03:43.590322", "2026-02-04", 1, None, "\n", 1),
    "bool text": (1, "x", None, None, "1", None, None, None),
    "bool float": (1, "x", None, None, 0.5, None, None, 1.5),
    "int name": (1, 42, None, None, 1, None, 3.25, "text in an int column"),
    "json text": (1, "x", None, None, 1, None, '{"a": [1, "\\u00e9", null]}', 1),
}


@pytest.mark.parametrize("row", _FAST_PATHS.values(), ids=_FAST_PATHS.keys())
def test_each_fast_path_and_its_fallback(row: tuple[object, ...]) -> None:
    _same_text_or_error(row)
    assert _as_stored(row) == _as_converted(row)


_BAD = {
    "month 13": (1, "x", "2026-13-01 00:00:00.000000", None, 1, None, None, 1),
    "29 February 2026": (1, "x", None, "2026-02-29", 1, None, None, 1),
    "a time in a date column": (1, "x", None, "2026-02-04 21:03:43.590322", 1, None, None, 1),
    "a number in a time column": (1, "x", 20260204, None, 1, None, None, 1),
}


@pytest.mark.parametrize("row", _BAD.values(), ids=_BAD.keys())
def test_a_value_the_result_cannot_convert_fails_alike(row: tuple[object, ...]) -> None:
    with pytest.raises((ValueError, TypeError)):
        _as_converted(row)
    _same_text_or_error(row)


def test_a_time_as_stored_is_not_converted() -> None:
    """The fast path is taken for the text SQLAlchemy stores, and only for it."""
    calls: list[object] = []
    converters = list(_CONVERTERS)
    convert = converters[2]
    assert convert is not None

    def counted(value: object) -> object:
        calls.append(value)
        return convert(value)

    converters[2] = counted
    text = rowhash._stored_text(_STORED, converters, rowhash.plain_order(_STORED.c.keys()),
                                _SQLITE)
    for name in ("stored time", "zero micro"):
        assert text(_FAST_PATHS[name]) == _as_converted(_FAST_PATHS[name])
    assert calls == []
    for name in ("offset", "T", "year 999", "no micro"):
        assert text(_FAST_PATHS[name]) == _as_converted(_FAST_PATHS[name])
    assert len(calls) == 4


_TAMPERED = {  # raw SQL leaving values the Result converts (or fails to) in every way
    "aware time": "UPDATE users SET created_at = '2026-12-05 09:00:00.000001+02:00' "
                  "WHERE username = 'admin'",
    "time with T": "UPDATE screenings SET updated_at = replace(updated_at, ' ', 'T')",  # same
    "year 999": "UPDATE patients SET created_at = '0999-01-01 00:00:00.000001'",
    "active 2": "UPDATE users SET active = 2 WHERE username = 'rnpatel'",  # still true
    "number name": "UPDATE patients SET name = 42",
    "text id": "UPDATE user_settings SET user_id = 'x'",
    "bad date": "UPDATE patients SET birth_date = '1970-02-30'",
    "bad time": "UPDATE screenings SET signed_at = '2026-13-01 00:00:00.000000' "
                "WHERE signed_at IS NOT NULL",
    "none": "UPDATE users SET role = role",
}


def _row_problems(store: object, recorded: dict[str, tuple[int, object]], *, stored: bool
                  ) -> tuple[list[str], set[str]] | type[Exception]:
    from ketascreen.records.repository import RecordStore

    assert isinstance(store, RecordStore)
    seen: set[str] = set()
    with pytest.MonkeyPatch.context() as patch:
        if not stored:  # the values' route: every row converted by the Result
            patch.setattr(rowhash, "cursor_rows", lambda *_, **__: None)
        with store.database.read() as session:
            try:
                return list(rowhash.row_problems(session, recorded, seen)), seen
            except (ValueError, TypeError) as error:
                return type(error)


@pytest.mark.parametrize("attack", _TAMPERED)
def test_rows_as_stored_report_as_their_values(store: object, database_url: str, attack: str,
                                               signed: object) -> None:  # noqa: F811
    """``row_problems`` reading the rows as stored reports what it reports converting every
    row (the same messages in the same order, the same rows checked, or the same error)."""
    from ketascreen.records.audit import plain_events, verify_chain
    from ketascreen.records.repository import RecordStore
    from tests.records.rawsql import drop_protection, raw

    assert isinstance(store, RecordStore)
    if not store.database.is_sqlite:
        pytest.skip("SQLite's stored values (elsewhere the rows are read as values alone)")
    recorded: dict[str, tuple[int, object]] = {}
    with store.database.read() as session:
        events, close = plain_events(session)
        assert verify_chain(events, None, row_hashes=recorded).events > 3
        close()
    with raw(database_url) as connection:
        drop_protection(connection)
        connection.execute(text(_TAMPERED[attack]))
    found = _row_problems(store, recorded, stored=True)
    assert found == _row_problems(store, recorded, stored=False)
    if attack in ("bad date", "bad time"):
        assert found is ValueError
    elif attack in ("none", "time with T", "active 2"):  # the same values: as recorded
        assert found == ([], set(recorded))
    else:
        assert isinstance(found, tuple) and found[0]


@settings(max_examples=300, deadline=None)
@given(st.tuples(*[_STORED_VALUES] * len(_STORED.columns)))
def test_stored_row_sha256_is_the_row_hash(row: tuple[object, ...]) -> None:
    """``stored_row_sha256`` is ``row_sha256`` of the converted values (or fails alike); a
    bytes value may be given as its ``sha256:`` text."""
    digest = rowhash.stored_row_sha256(_STORED, _CONVERTERS, _SQLITE)
    try:
        values = {column.name: value if convert is None else convert(value) for column, value,
                  convert in zip(_STORED.columns, row, _CONVERTERS, strict=True)}
    except (ValueError, TypeError) as error:
        with pytest.raises(type(error)):
            digest(row)
        return
    assert digest(row) == row_sha256(values) == _reference(values).sha256
    blob = _STORED.columns.keys().index("blob")
    if isinstance(row[blob], bytes):
        named = (*row[:blob], "sha256:" + hashlib.sha256(row[blob]).hexdigest(), *row[blob + 1:])
        assert digest(named) == digest(row)
