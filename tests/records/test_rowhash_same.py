"""A row's hash puts its canonical JSON together from each value encoded once (issue 15); it is
the hash of the canonical JSON written whole, as before, for any column values."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from ketascreen.records.chain import canonical
from ketascreen.records.rowhash import COLUMN_DIGEST_LENGTH, RowHash, _value, hash_values


def _digest(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode("utf-8")).hexdigest()


def _reference(values: dict[str, object]) -> RowHash:
    """``hash_values`` as it was written before."""
    canonical = {name: _value(value) for name, value in values.items()}
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


def test_named_rows() -> None:
    row = {"id": 3, "name": 'Pat "Two" \u00e9\u200b', "created_at": datetime(2026, 12, 5, 9, 0),
           "birth_date": date(1970, 1, 2), "pdf": b"%PDF-1.7", "active": True, "none": None,
           "ratio": 0.1}
    assert hash_values(row) == _reference(row)
    assert hash_values({}) == _reference({})


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _VALUES.filter(
    lambda v: not isinstance(v, bytes | date)), max_size=8))
def test_canonical_event_json_as_before(data: dict[str, object]) -> None:
    assert canonical(data) == json.dumps(data, sort_keys=True, ensure_ascii=False,
                                         separators=(",", ":")).encode("utf-8")
