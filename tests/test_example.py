"""The shipped example case screens as the issue requires."""

from __future__ import annotations

from pathlib import Path

import ketascreen


def test_example_case_needs_review_for_benzodiazepine(example_case_path: Path) -> None:
    """needs-review, with a benzodiazepine finding naming alprazolam and the diazepam dose."""
    result = ketascreen.screen(ketascreen.load_case(example_case_path))
    assert result.decision == "needs-review"
    benzo = [f for f in result.findings if f.concept == "benzodiazepine"]
    assert len(benzo) == 1
    assert benzo[0].severity == "relative"
    assert "alprazolam" in benzo[0].basis
    assert "20 mg/day diazepam-equivalent" in benzo[0].basis
    assert [f.concept for f in result.findings] == ["benzodiazepine"]
    assert result.abuse_risk.tier == "low"
    assert result.dose is not None
    assert (result.dose.display.dose, result.dose.display.rate) == ("42.4 mg", "63.6 mL/h")
