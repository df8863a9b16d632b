"""The decision: precedence, acknowledgements, and the property that absolute always wins."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ketascreen.api import parse_case
from ketascreen.concepts import ALL_CONCEPTS, HISTORY_CONCEPTS
from ketascreen.screening import screen
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
