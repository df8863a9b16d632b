"""Storing, signing, amending, reading and listing screenings (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ketascreen.errors import (
    RecordError,
    RecordExistsError,
    RecordNotFoundError,
)
from ketascreen.models.checklist import canonical_json
from ketascreen.records.content import record_id_of
from ketascreen.records.repository import RecordStore
from ketascreen.screening import Screening
from tests.records.conftest import People
from tests.records.support import screening_of

Sign = Callable[[Screening], bytes]


def test_draft_is_stored_with_versions_and_hashes(store: RecordStore, people: People) -> None:
    """A draft keeps the canonical case and result JSON and every version that produced it."""
    screening = screening_of()
    stored = store.create(people.physician, screening)
    assert stored.status == "draft" and not stored.is_signed
    assert stored.record_id == record_id_of(screening)
    assert stored.case_json == canonical_json(
        screening.case.model_dump(mode="json", exclude_none=True)).decode()
    assert json.loads(stored.result_json)["decision"] == screening.result.decision
    assert stored.result() == screening.result
    assert stored.case() == screening.case
    assert stored.versions.ruleset_sha256 == screening.result.ruleset.sha256
    assert stored.versions.policy_version == "2026.11.0-default"
    assert len(stored.versions.formulary_sha256) == 64
    assert stored.patient.patient_id == "MRN-0042"
    assert stored.created_by == "drsmith" and stored.signed_at is None
    assert stored.document_sha256 is None


def test_signed_screening_keeps_its_pdf(store: RecordStore, people: People, sign: Sign) -> None:
    """Stored with its signed checklist, the record is signed and the PDF comes back intact."""
    screening = screening_of()
    pdf = sign(screening)
    stored = store.create(people.physician, screening, signed_pdf=pdf)
    assert stored.status == "signed"
    assert stored.signer_name == "Dr Jane Smith" and stored.signed_by == "drsmith"
    assert stored.document_sha256 == hashlib.sha256(pdf).hexdigest()
    assert stored.document_size == len(pdf)
    assert store.document(people.nurse, stored.record_id) == pdf


def test_draft_is_signed_later(store: RecordStore, people: People, sign: Sign) -> None:
    """A draft becomes signed with the signed checklist of exactly its content."""
    screening = screening_of()
    draft = store.create(people.physician, screening)
    signed = store.sign(people.physician, draft.record_id, sign(screening))
    assert signed.status == "signed" and signed.record_id == draft.record_id
    actions = [e.action for e in store.events(people.physician, draft.record_id)]
    assert actions == ["create", "sign"]


def test_saving_the_same_content_again_signs_the_draft(store: RecordStore, people: People,
                                                       sign: Sign) -> None:
    """`screen --save` then `screen --save --sign` of the same case end in one signed record."""
    screening = screening_of()
    store.create(people.physician, screening)
    stored = store.create(people.physician, screening, signed_pdf=sign(screening))
    assert stored.status == "signed"
    assert len(store.list_records(people.physician)) == 1


def test_duplicates_are_refused(store: RecordStore, people: People, sign: Sign) -> None:
    """The same content is one record: storing it again is refused, naming its status."""
    screening = screening_of()
    store.create(people.physician, screening)
    with pytest.raises(RecordExistsError) as caught:
        store.create(people.physician, screening)
    assert caught.value.status == "draft"
    store.sign(people.physician, caught.value.record_id or "", sign(screening))
    with pytest.raises(RecordExistsError, match="signed"):
        store.create(people.physician, screening, signed_pdf=sign(screening))


def test_document_of_another_screening_is_refused(store: RecordStore, people: People,
                                                  sign: Sign) -> None:
    """A signed PDF is stored only with the case and result it embeds (11.70 linking)."""
    screening = screening_of()
    other = screening_of({"measurements.weight": "80 kg"})
    with pytest.raises(RecordError, match="another case"):
        store.create(people.physician, screening, signed_pdf=sign(other))
    assert store.list_records(people.physician) == []
    draft = store.create(people.physician, screening)
    with pytest.raises(RecordError, match="another case"):
        store.sign(people.physician, draft.record_id, sign(other))


def test_unsigned_pdf_is_refused(store: RecordStore, people: People) -> None:
    """An unsigned checklist is not a signed document."""
    from ketascreen.reports.output import produce_checklist

    screening = screening_of()
    unsigned, _ = produce_checklist(screening)
    with pytest.raises(RecordError, match="not signed"):
        store.create(people.physician, screening, signed_pdf=unsigned)


def test_amendment_links_and_leaves_the_original(store: RecordStore, people: People,
                                                 sign: Sign) -> None:
    """An amendment is a new signed record with its own PDF; the original is unchanged."""
    original_screening = screening_of()
    original = store.create(people.physician, original_screening,
                            signed_pdf=sign(original_screening))
    corrected = screening_of({"measurements.weight": "190 lb"})
    amendment = store.amend(people.physician, original.record_id, corrected,
                            signed_pdf=sign(corrected), reason="weight re-measured")
    assert amendment.status == "amended" and amendment.amends == original.record_id
    assert amendment.amendment_reason == "weight re-measured"
    assert amendment.document_sha256 == hashlib.sha256(sign(corrected)).hexdigest()
    again = store.get(people.physician, original.record_id)
    assert again.superseded_by == amendment.record_id
    assert (again.case_json, again.result_json, again.status, again.document_sha256) == (
        original.case_json, original.result_json, "signed", original.document_sha256)
    assert store.document(people.physician, original.record_id) == sign(original_screening)


def test_amendments_form_one_line(store: RecordStore, people: People, sign: Sign) -> None:
    """A record is amended once; the next correction amends the amendment."""
    first = screening_of()
    original = store.create(people.physician, first, signed_pdf=sign(first))
    second = screening_of({"measurements.weight": "190 lb"})
    amendment = store.amend(people.physician, original.record_id, second,
                            signed_pdf=sign(second), reason="weight")
    third = screening_of({"measurements.weight": "191 lb"})
    with pytest.raises(RecordError, match=f"amended already by {amendment.record_id}"):
        store.amend(people.physician, original.record_id, third, signed_pdf=sign(third),
                    reason="weight again")
    latest = store.amend(people.physician, amendment.record_id, third, signed_pdf=sign(third),
                         reason="weight again")
    assert latest.amends == amendment.record_id


def test_amendment_rules(store: RecordStore, people: People, sign: Sign) -> None:
    """No amendment of a draft, of another patient, without a reason."""
    first = screening_of()
    draft = store.create(people.physician, first)
    second = screening_of({"measurements.weight": "190 lb"})
    with pytest.raises(RecordError, match="draft is changed, not amended"):
        store.amend(people.physician, draft.record_id, second, signed_pdf=sign(second),
                    reason="x")
    signed = store.sign(people.physician, draft.record_id, sign(first))
    with pytest.raises(RecordError, match="needs a reason"):
        store.amend(people.physician, signed.record_id, second, signed_pdf=sign(second),
                    reason="  ")
    stranger = screening_of({"patient.id": "MRN-9999"})
    with pytest.raises(RecordError, match="another patient"):
        store.amend(people.physician, signed.record_id, stranger, signed_pdf=sign(stranger),
                    reason="x")


def test_draft_update_and_acknowledgement(store: RecordStore, people: People) -> None:
    """A draft changes with its content (and record id); acknowledging re-screens it."""
    screening = screening_of(base="example-unacknowledged")
    assert screening.result.decision == "needs-review"
    draft = store.create(people.physician, screening)
    concept = next(f.concept for f in screening.result.findings if f.severity == "relative")
    acknowledged = store.acknowledge(people.physician, draft.record_id, concept=concept,
                                     reason="on a stable low dose; reviewed with the patient")
    assert acknowledged.record_id != draft.record_id
    assert acknowledged.decision == "clear"
    assert acknowledged.case().acknowledgements[0].concept == concept
    with pytest.raises(RecordNotFoundError):
        store.get(people.physician, draft.record_id)
    actions = [e.action for e in store.events(people.physician, acknowledged.record_id)]
    assert actions == ["create", "acknowledge"]
    with pytest.raises(RecordError, match="no finding"):
        store.acknowledge(people.physician, acknowledged.record_id, concept="porphyria",
                          reason="x")


def test_patient_identity_guard(store: RecordStore, people: People) -> None:
    """A patient id on record with another date of birth is refused (wrong patient?)."""
    store.create(people.physician, screening_of())
    with pytest.raises(RecordError, match="another date of birth"):
        store.create(people.physician, screening_of({"patient.birth_date": "1980-01-01"}))
    renamed = store.create(people.physician, screening_of({"patient.name": "Alex Rivera-Cole"}))
    assert renamed.patient.name == "Alex Rivera-Cole"


def test_listing_filters(store: RecordStore, people: People, sign: Sign) -> None:
    """Newest first; by patient; by day; a nurse sees signed records only."""
    first = screening_of()
    store.create(people.physician, first, signed_pdf=sign(first))
    draft = store.create(people.physician, screening_of({"measurements.weight": "80 kg"}))
    other = screening_of({"patient.id": "MRN-7", "patient.name": "Bo Chen"})
    store.create(people.physician, other, signed_pdf=sign(other))
    everything = store.list_records(people.physician)
    assert [r.patient.patient_id for r in everything] == ["MRN-7", "MRN-0042", "MRN-0042"]
    assert [r.patient.patient_id for r in store.list_records(
        people.physician, patient_id="MRN-7")] == ["MRN-7"]
    nurse_view = store.list_records(people.nurse)
    assert draft.record_id not in {r.record_id for r in nurse_view} and len(nurse_view) == 2
    today = datetime.now().astimezone().date()
    assert len(store.list_records(people.physician, day=today)) == 3
    assert store.list_records(people.physician, day=today - timedelta(days=1)) == []
    assert len(store.list_records(people.physician, limit=1)) == 1


def test_day_bounds_follow_the_time_zone() -> None:
    """A local day is converted to its UTC interval."""
    from zoneinfo import ZoneInfo

    from ketascreen.records.core import day_bounds

    start, end = day_bounds(date(2026, 11, 25), ZoneInfo("America/New_York"))
    assert start == datetime(2026, 11, 25, 5, tzinfo=UTC)
    assert end == datetime(2026, 11, 26, 5, tzinfo=UTC)


def test_unknown_record(store: RecordStore, people: People) -> None:
    """An unknown record id is RecordNotFoundError, naming it (ids are case-insensitive)."""
    with pytest.raises(RecordNotFoundError, match="KS-000000000000"):
        store.get(people.physician, "ks-000000000000")
    assert store.find(people.physician, "KS-000000000000") is None


def test_export_writes_atomically_and_is_audited(store: RecordStore, people: People,
                                                 sign: Sign, tmp_path: Path) -> None:
    """Export writes the stored PDF and records an export event (without the path)."""
    screening = screening_of()
    stored = store.create(people.physician, screening, signed_pdf=sign(screening))
    out = tmp_path / "Alex Rivera.pdf"
    assert store.export(people.nurse, stored.record_id, out) is False
    assert out.read_bytes() == sign(screening)
    event = store.events(people.physician, stored.record_id)[-1]
    assert (event.action, event.username) == ("export", "rnpatel")
    assert "Alex" not in json.dumps(event.detail)
    from ketascreen.reports.output import OutputExistsError

    with pytest.raises(OutputExistsError):
        store.export(people.nurse, stored.record_id, out)
    assert store.export(people.nurse, stored.record_id, out, force=True) is True
