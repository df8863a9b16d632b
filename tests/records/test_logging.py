"""No patient data in logs: a whole records workflow logged at DEBUG (SQL included)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from ketascreen.errors import PermissionDeniedError
from ketascreen.records.repository import RecordStore
from ketascreen.records.worklist import (
    open_checklist,
    record_double_check,
    record_print,
    todays_checklists,
)
from ketascreen.reports.output import SigningRequest
from ketascreen.screening import Screening
from tests.records.conftest import add_people
from tests.records.support import screening_of

Sign = Callable[[Screening], bytes]
PATIENT_DATA = ("Alex Rivera", "MRN-0042", "1979-05-14", "Rivera")


def test_no_patient_data_in_log_records(database_url: str, sign: Sign,
                                        signing_request: SigningRequest,
                                        caplog: pytest.LogCaptureFixture) -> None:
    """Store, sign, amend, list, open, print, double-check and refuse: logs name record ids,
    never the patient (SQLAlchemy's SQL log hides parameters)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # SQLAlchemy defaults to WARN
    with RecordStore.open(database_url) as store:
        people = add_people(store, signing_request)
        first = screening_of()
        stored = store.create(people.physician, first, signed_pdf=sign(first))
        second = screening_of({"measurements.weight": "190 lb"})
        amendment = store.amend(people.physician, stored.record_id, second,
                                signed_pdf=sign(second), reason="weight")
        store.list_records(people.physician, patient_id="MRN-0042")
        todays_checklists(store, people.nurse)
        open_checklist(store, people.nurse, amendment.record_id)
        record_print(store, people.nurse, amendment.record_id)
        record_double_check(store, people.nurse, amendment.record_id)
        with pytest.raises(PermissionDeniedError):
            store.sign(people.nurse, amendment.record_id, b"")
        assert store.verify_audit().ok
    messages = [record.getMessage() for record in caplog.records]
    assert any(amendment.record_id in message for message in messages)
    assert any("hide_parameters" in message for message in messages)  # SQL was logged
    leaks = [m for m in messages if any(value in m for value in PATIENT_DATA)]
    assert leaks == []
