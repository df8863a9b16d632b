"""The plain-text report presents the screening's dose decision; it never decides it again."""

from __future__ import annotations

import pytest

from ketascreen.api import parse_case
from ketascreen.reports.text import render_report
from ketascreen.screening import checklist, run
from tests.helpers.cases import example_case, patched

PSYCHOSIS = [{"text": "Schizophrenia", "status": "active"}]


@pytest.mark.parametrize(("changes", "calculated"), [
    pytest.param({"conditions": PSYCHOSIS}, True, id="dose-calculated"),
    pytest.param({"conditions": PSYCHOSIS, "measurements.weight": None}, False,
                 id="dose-refused-too"),
])
def test_do_not_infuse_prints_no_dose_in_the_report(
        changes: dict[str, object], calculated: bool) -> None:
    """DO NOT INFUSE: the report prints no dose and no pump rate; its reason is "do not infuse."
    when a dose was calculated, else the calculation's own refusal (the more specific reason)."""
    screening = run(parse_case(patched(example_case(), changes)))
    assert screening.result.decision == "do-not-infuse"
    assert (screening.dose.programme is not None) is calculated
    report = render_report(screening)
    pump = report.split("PUMP PROGRAMMING", 1)[1].split("\n")[1]
    if calculated:
        assert pump == "  No dose: do not infuse."
    else:
        assert pump.startswith("  No dose: ") and "weight" in pump, pump
    assert "mL/h" not in report.split("PUMP PROGRAMMING", 1)[1].split("Working:", 1)[0]
    assert screening.no_dose_reason == "do not infuse."
    assert checklist(screening).no_dose_reason == "No dose: do not infuse."


def test_a_shown_dose_is_the_checklist_dose_box_row_for_row() -> None:
    """CLEAR: every row of the checklist's dose box is in the report as printed."""
    screening = run(parse_case(patched(example_case(), {"acknowledgements": [
        {"concept": "benzodiazepine", "reason": "Evening dose held; discussed."}]})))
    assert screening.no_dose_reason is None
    box = screening.dose_box
    assert box is not None
    report = render_report(screening)
    for label, text in box.rows:
        assert f"  {label + ':':<21}{text}" in report
