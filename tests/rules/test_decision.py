"""The decision: precedence, acknowledgements, and the property that absolute always wins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketascreen.api import parse_case
from ketascreen.concepts import ALL_CONCEPTS, HISTORY_CONCEPTS
from ketascreen.models.checklist import Signer
from ketascreen.reports.output import SigningRequest, produce_checklist
from ketascreen.screening import (
    INVALID_CASE,
    Screening,
    SigningRefusedError,
    checklist,
    run,
    screen,
)
from tests.helpers.cases import clean_case, patched


def _screen(changes: dict[str, Any]) -> Any:
    return screen(parse_case(patched(clean_case(), changes)))


def test_clean_case_is_clear() -> None:
    """The complete base case has no finding and is clear."""
    result = _screen({})
    assert result.findings == []
    assert result.decision == "clear"
    assert result.abuse_risk.tier == "low"


def test_relative_finding_needs_review_until_acknowledged() -> None:
    """A relative finding needs review; a reasoned acknowledgement clears it."""
    changes = {"history.bipolar-disorder": "yes"}
    assert _screen(changes).decision == "needs-review"
    acknowledged = _screen({**changes, "acknowledgements": [
        {"concept": "bipolar-disorder", "reason": "On lithium, euthymic for 2 years."}]})
    assert acknowledged.decision == "clear"
    assert [f.acknowledged for f in acknowledged.findings] == [True]


def test_absolute_cannot_be_acknowledged() -> None:
    """Acknowledging an absolute finding changes nothing under the default policy."""
    result = _screen({"history.psychotic-disorder": "yes", "acknowledgements": [
        {"concept": "psychotic-disorder", "reason": "Remote, single episode."}]})
    assert result.decision == "do-not-infuse"
    assert not result.findings[0].acknowledged


def test_precedence_absolute_over_data_over_relative() -> None:
    """Absolute beats missing data, which beats relative findings."""
    no_bp = {"measurements": {"weight": "70 kg", "height": "170 cm"}}
    assert _screen({**no_bp, "history.bipolar-disorder": "yes"}).decision == "insufficient-data"
    assert _screen({**no_bp, "history.porphyria": "yes",
                    "history.psychotic-disorder": "yes"}).decision == "do-not-infuse"


def test_data_findings_cannot_be_acknowledged_away() -> None:
    """A blocking data finding keeps the decision insufficient-data even if acknowledged."""
    result = _screen({"substance_use": {},
                      "acknowledgements": [{"concept": "missing-substance-use-screen",
                                            "reason": "Patient declined."}]})
    assert result.decision == "insufficient-data"


def test_info_findings_do_not_change_the_decision() -> None:
    """An info finding alone leaves the case clear."""
    result = _screen({"history.seizure-disorder": "yes"})
    assert [f.severity for f in result.findings] == ["info"]
    assert result.decision == "clear"


answers = st.sampled_from(["yes", "no", "unknown"])
cases = st.fixed_dictionaries({
    "history": st.dictionaries(st.sampled_from(HISTORY_CONCEPTS), answers),
    "acknowledgements": st.lists(st.fixed_dictionaries({
        "concept": st.sampled_from(ALL_CONCEPTS), "reason": st.just("Discussed with patient.")}),
        max_size=6),
    "measurements.blood_pressure": st.sampled_from(
        ["120/80 mmHg", "150/95 mmHg", "190/100 mmHg", "24.1/13 kPa"]),
    "patient.pregnant": answers,
    "patient.birth_date": st.sampled_from(["1979-05-14", "2010-01-01", "1950-01-01"]),
})


@settings(max_examples=200, deadline=None)
@given(cases)
def test_absolute_finding_never_clear(changes: dict[str, Any]) -> None:
    """Whatever else is in the case, an unacknowledged absolute finding means do-not-infuse,
    and clear means no absolute, no blocking data and no unacknowledged relative finding."""
    data = patched(clean_case(), {k: v for k, v in changes.items() if k != "history"})
    data["history"].update(changes["history"])
    result = screen(parse_case(data))
    absolute = [f for f in result.findings if f.severity == "absolute"]
    if absolute:
        assert result.decision == "do-not-infuse"
        assert not any(f.acknowledged for f in absolute)
    if result.decision == "clear":
        assert all(f.severity == "info" or f.acknowledged for f in result.findings)
        assert not any(f.kind == "data" and f.severity != "info" for f in result.findings)


def _run(changes: dict[str, Any]) -> Screening:
    return run(parse_case(patched(clean_case(), changes)))


def test_the_screening_carries_what_may_be_acknowledged() -> None:
    """Relative findings may be acknowledged; absolute ones (none listed acknowledgeable by the
    shipped policy) and blocking data findings may not; the set is the engine's own."""
    screening = _run({"history.bipolar-disorder": "yes", "history.psychotic-disorder": "yes",
                      "substance_use": {}})
    kinds = {f.rule_id: (f.severity, f.kind) for f in screening.result.findings}
    assert {kinds[rule_id] for rule_id in screening.acknowledgeable} == {
        ("relative", "contraindication")}
    assert ("absolute", "contraindication") in kinds.values()
    assert any(kind == "data" for _, kind in kinds.values())
    acknowledged = _run({"history.bipolar-disorder": "yes", "acknowledgements": [
        {"concept": "bipolar-disorder", "reason": "Euthymic for two years."}]})
    assert acknowledged.acknowledgeable == frozenset(
        f.rule_id for f in acknowledged.result.findings if f.acknowledged)


def test_the_signing_refusal_of_each_decision() -> None:
    """Only a CLEAR screening may be signed; each other decision carries its refusal, the
    rules still waiting for an acknowledgement, and the app's and the command line's words."""
    clear = _run({})
    assert clear.signable and clear.signing_refusal is None
    clear.refuse_signing()  # nothing to refuse

    review = _run({"history.bipolar-disorder": "yes"})
    refusal = review.signing_refusal
    assert refusal is not None and not review.signable
    assert (refusal.decision, refusal.code) == ("needs-review", "needs-review")
    assert refusal.waiting == tuple(f.rule_id for f in review.result.findings)
    assert refusal.message == ("Each relative finding must be acknowledged with a reason "
                               "before signing.")
    assert refusal.status == ("Not ready to sign: 1 finding(s) still need an acknowledgement "
                              "with a reason.")
    with pytest.raises(SigningRefusedError) as caught:
        review.refuse_signing()
    assert str(caught.value) == (
        f"record {review.record_id}: not signed: the decision is needs-review; acknowledge "
        "each relative finding with a reason first (a signature means \"Screened and "
        "approved for first infusion\")")
    assert (caught.value.decision, caught.value.record_id) == ("needs-review", review.record_id)

    missing = _run({"substance_use": {}})
    assert missing.signing_refusal is not None
    assert missing.signing_refusal.code == "insufficient-data"
    assert missing.signing_refusal.waiting == ()
    assert "complete the missing data first" in str(missing.signing_refusal.error("KS-1"))

    absolute = _run({"history.psychotic-disorder": "yes"})
    assert absolute.signing_refusal is not None
    assert absolute.signing_refusal.code == "do-not-infuse"
    assert absolute.signing_refusal.message.startswith("DO NOT INFUSE: an absolute "
                                                       "contraindication was found.")
    assert str(absolute.signing_refusal.error("KS-1")) == (
        "record KS-1: not signed: the decision is do-not-infuse; a DO NOT INFUSE checklist "
        "is documented unsigned (a signature means \"Screened and approved for first "
        "infusion\")")
    assert INVALID_CASE.decision is None and INVALID_CASE.code == "invalid"


def test_no_dose_is_shown_on_do_not_infuse_even_when_calculated() -> None:
    """DO NOT INFUSE has no dose, though the calculation gave one; a missing weight says why;
    otherwise the dose box is the one the checklist prints."""
    absolute = _run({"history.psychotic-disorder": "yes"})
    assert absolute.dose.dose is not None
    assert absolute.no_dose_reason == "do not infuse."
    assert absolute.dose_box is None
    assert checklist(absolute).no_dose_reason == "No dose: do not infuse."
    assert checklist(absolute).dose is None

    no_weight = _run({"measurements": {"height": "170 cm", "blood_pressure": "120/80 mmHg"}})
    assert no_weight.no_dose_reason is not None
    assert "weight" in no_weight.no_dose_reason.lower()
    assert checklist(no_weight).no_dose_reason == "No dose: " + no_weight.no_dose_reason

    clear = _run({})
    assert clear.no_dose_reason is None
    assert clear.dose_box is not None
    assert checklist(clear).dose == clear.dose_box


def test_a_checklist_is_signed_only_for_a_clear_screening() -> None:
    """Asking for a signer on a screening that is not CLEAR raises the refusal, before any
    key is opened; a clear one prints the signer and the audit head."""
    signer = Signer("Dr Jane Smith", "MD", datetime(2026, 11, 3, 9, 30, tzinfo=UTC))
    with pytest.raises(SigningRefusedError, match="the decision is needs-review"):
        checklist(_run({"history.bipolar-disorder": "yes"}), signer=signer)
    with pytest.raises(SigningRefusedError, match="the decision is do-not-infuse"):
        produce_checklist(_run({"history.psychotic-disorder": "yes"}),
                          signing=SigningRequest(b"not a key store", b"x", "nowhere.p12"))
    signed = checklist(_run({}), signer=signer, audit_head=(7, "ab" * 32))
    assert signed.signer == signer and signed.audit_head == (7, "ab" * 32)
    assert signed.decision_label == "CLEAR"
    unsigned = checklist(_run({}), audit_head=(7, "ab" * 32))
    assert unsigned.signer is None and unsigned.audit_head is None
