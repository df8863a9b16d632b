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

from ketascreen.records.chain import canonical, event_hash
from ketascreen.records.rowhash import (
    COLUMN_DIGEST_LENGTH,
    RowHash,
    hash_values,
    row_sha256,
)


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


@pytest.mark.parametrize("value", [
    True, False, None, 0, -7, 10**30, _Level.HIGH, _Text('a "b"'), "\u2028\x00\\", 1e-7,
    float("inf"), datetime(2026, 12, 5, 9, 0, 1, 7, tzinfo=UTC),
    datetime(2026, 12, 5, 9, 0, tzinfo=timezone(timedelta(hours=-5))),
    datetime(999, 1, 1), date(2026, 1, 2), memoryview(b"x"), b"", [1, "a"], {"b": 1, "a": None}])
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
