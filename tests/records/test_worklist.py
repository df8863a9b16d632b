"""The nurse worklist API (no Qt): today's signed checklists, open, print, double check."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from ketascreen.errors import RecordError, RecordNotFoundError, UserAccountError
from ketascreen.records.repository import RecordStore
from ketascreen.records.worklist import (
    open_checklist,
    record_double_check,
    record_print,
    todays_checklists,
)
from ketascreen.screening import Screening
from tests.records.conftest import People
from tests.records.support import screening_of

Sign = Callable[[Screening], bytes]


class FakeClock:
    """A settable clock for the store."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_todays_signed_checklists(store: RecordStore, people: People, sign: Sign) -> None:
    """Signed today: listed; drafts and other days: not; a superseded record gives way to its
    amendment."""
    zone = UTC
    clock = FakeClock(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    store.clock = clock
    yesterday = screening_of({"patient.id": "MRN-1", "patient.name": "Ann One"})
    store.create(people.physician, yesterday, signed_pdf=sign(yesterday))
    clock.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    first = screening_of()
    original = store.create(people.physician, first, signed_pdf=sign(first))
    store.create(people.physician, screening_of({"patient.id": "MRN-2", "patient.name": "Bo"}))
    clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    second = screening_of({"measurements.weight": "190 lb"})
    amendment = store.amend(people.physician, original.record_id, second,
                            signed_pdf=sign(second), reason="weight re-measured")
    other = screening_of({"patient.id": "MRN-3", "patient.name": "Cy Three"})
    clock.now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    third = store.create(people.physician, other, signed_pdf=sign(other))

    items = todays_checklists(store, people.nurse, zone=zone)
    assert [i.record_id for i in items] == [amendment.record_id, third.record_id]
    first_item = items[0]
    assert first_item.status == "amended" and first_item.amends == original.record_id
    assert first_item.patient.name == "Alex Rivera" and first_item.signed_by == "Dr Jane Smith"
    assert first_item.document_sha256 == hashlib.sha256(sign(second)).hexdigest()
    assert not first_item.double_checked and first_item.printed == 0
    assert [i.patient.patient_id for i in todays_checklists(
        store, people.nurse, day=datetime(2026, 11, 24).date(), zone=zone)] == ["MRN-1"]
    assert todays_checklists(store, people.physician,
                             day=datetime(2026, 11, 26).date(), zone=zone) == []


def test_open_print_and_double_check(store: RecordStore, people: People, sign: Sign) -> None:
    """Opening gives the signed PDF; printing and the double check are recorded and shown."""
    screening = screening_of()
    stored = store.create(people.physician, screening, signed_pdf=sign(screening))
    opened = open_checklist(store, people.nurse, stored.record_id.lower())
    assert opened.pdf == sign(screening)
    assert opened.item.record_id == stored.record_id
    first = record_print(store, people.nurse, stored.record_id, copies=2)
    second = record_double_check(store, people.nurse, stored.record_id, witness="rnlee")
    assert second == first + 1
    item = todays_checklists(store, people.nurse)[0]
    assert item.printed == 1 and item.double_checked_by == ("rnpatel",)
    assert item.double_checked
    events = store.events(people.physician, stored.record_id)
    check = events[-1]
    assert check.action == "double-check" and check.detail["witness"] == "rnlee"
    assert "pump rate" in str(check.detail["confirmed"])
    assert events[-2].detail == {"copies": 2}
    assert open_checklist(store, people.nurse, stored.record_id).item.double_checked


def test_witness_must_be_another_clinician(store: RecordStore, people: People,
                                           sign: Sign) -> None:
    """The independent double check names a second, active nurse or physician."""
    screening = screening_of()
    stored = store.create(people.physician, screening, signed_pdf=sign(screening))
    for witness in ("rnpatel", "admin", "nobody"):
        with pytest.raises(UserAccountError):
            record_double_check(store, people.nurse, stored.record_id, witness=witness)
    record_double_check(store, people.nurse, stored.record_id, witness="drsmith")


def test_open_refuses_drafts_and_superseded_records(store: RecordStore, people: People,
                                                    sign: Sign) -> None:
    """A draft is not a checklist; a superseded record names the amendment to open."""
    draft = store.create(people.physician, screening_of({"measurements.weight": "80 kg"}))
    with pytest.raises(RecordError, match="draft"):
        open_checklist(store, people.physician, draft.record_id)
    with pytest.raises(RecordError, match="draft"):
        record_print(store, people.nurse, draft.record_id)
    first = screening_of()
    original = store.create(people.physician, first, signed_pdf=sign(first))
    second = screening_of({"measurements.weight": "190 lb"})
    amendment = store.amend(people.physician, original.record_id, second,
                            signed_pdf=sign(second), reason="weight")
    with pytest.raises(RecordError, match=f"replaced by the amendment {amendment.record_id}"):
        open_checklist(store, people.nurse, original.record_id)
    with pytest.raises(RecordNotFoundError):
        open_checklist(store, people.nurse, "KS-000000000000")
    with pytest.raises(RecordError, match="copies"):
        record_print(store, people.nurse, amendment.record_id, copies=0)


def test_worklist_is_fast_enough_for_a_day(store: RecordStore, people: People,
                                           sign: Sign) -> None:
    """A day of 20 signed checklists lists in well under the 20 ms budget (bench: 10,000)."""
    import time

    clock = FakeClock(datetime.now(UTC) - timedelta(minutes=30))
    store.clock = clock
    for number in range(20):
        case = screening_of({"patient.id": f"MRN-{number}", "patient.name": f"P {number}"},
                            base="clean")
        store.create(people.physician, case, signed_pdf=sign(case))
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        assert len(todays_checklists(store, people.nurse)) == 20
        timings.append(time.perf_counter() - start)
    assert sorted(timings)[2] < 0.2
