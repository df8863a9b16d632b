"""The action functions (no Qt): acknowledgeability, signing refusals, file round trip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ketascreen.errors import CaseValidationError
from ketascreen.ui import actions
from ketascreen.ui.actions import convert_measurement
from ketascreen.units import Dimension, parse_quantity


def test_actions_import_no_qt() -> None:
    """The action layer is plain Python: importing it loads no Qt module."""
    code = ("import sys, ketascreen.ui.actions; print(sorted(m for m in sys.modules "
            "if m.startswith(('PySide6', 'shiboken6'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_acknowledgeable_matches_the_engine(example: dict[str, Any]) -> None:
    """A finding the action layer calls acknowledgeable is one the engine acknowledges."""
    example["history"].update({"porphyria": "yes", "psychotic-disorder": "yes"})
    del example["measurements"]["blood_pressure"]
    outcome = actions.screen_document(document=example)
    assert outcome.screening is not None
    findings = outcome.screening.result.findings
    assert {f.concept for f in findings if f.rule_id in outcome.acknowledgeable} == {
        "benzodiazepine", "porphyria"}
    example["acknowledgements"] = [{"concept": f.concept, "reason": "r"} for f in findings]
    again = actions.screen_document(document=example)
    assert again.screening is not None
    acknowledged = {f.rule_id for f in again.screening.result.findings if f.acknowledged}
    assert acknowledged == set(outcome.acknowledgeable)


@pytest.mark.parametrize(("decision", "expected"), [
    ("clear", None), ("needs-review", "acknowledged"), ("insufficient-data", "Insufficient"),
    ("do-not-infuse", "DO NOT INFUSE")])
def test_only_a_clear_screening_may_be_signed(example: dict[str, Any], decision: str,
                                              expected: str | None) -> None:
    """Signing is refused for every decision but clear."""
    if decision == "clear":
        example["acknowledgements"] = [{"concept": "benzodiazepine", "reason": "held"}]
    elif decision == "insufficient-data":
        del example["measurements"]["weight"]
    elif decision == "do-not-infuse":
        example["history"]["mania-current"] = "yes"
    outcome = actions.screen_document(document=example)
    assert outcome.decision == decision
    refusal = actions.signing_refusal(outcome=outcome)
    assert refusal is None if expected is None else expected in (refusal or "")
    if decision == "do-not-infuse":
        assert outcome.dose_rows == () and outcome.no_dose_reason == "do not infuse."


def test_an_invalid_document_is_not_screened(example: dict[str, Any]) -> None:
    """Problems come back with their fields; no screening, no dose."""
    example["measurements"]["weight"] = "70 mL"
    outcome = actions.screen_document(document=example)
    assert outcome.screening is None and outcome.dose_rows == ()
    assert [p.field for p in outcome.problems] == ["measurements.weight"]
    assert actions.signing_refusal(outcome=outcome) is not None


def test_a_case_file_is_written_only_when_valid(example: dict[str, Any], tmp_path: Path) -> None:
    """A valid document saves and reopens unchanged; an invalid one raises."""
    path = actions.save_case_file(path=tmp_path / "c.json", document=example, force=False)
    opened = actions.open_case_file(path=path)
    assert opened.problems == ()
    assert actions.normalised(opened.document) == actions.normalised(example)
    example["patient"]["birth_date"] = "tomorrow"
    with pytest.raises(CaseValidationError):
        actions.save_case_file(path=tmp_path / "d.json", document=example, force=False)


def test_unit_problem_is_the_typed_error() -> None:
    """The measurement check hands back the structured error, not a message string."""
    error = actions.unit_problem(kind="weight", text="70 mL")
    assert error is not None
    assert (error.field, error.got, error.expected) == ("measurements.weight", "70 mL", "mass")
    assert actions.unit_problem(kind="weight", text="70 kg") is None


@pytest.mark.parametrize(("text", "shown"), [
    ("170 cm", "= 5 ft 6.9 in"),
    ("182.8 cm", "= 6 ft 0 in"),   # 71.97 in: rounded before the split, never "5 ft 12 in"
    ("182.9 cm", "= 6 ft 0 in"),
    ("152.4 cm", "= 5 ft 0 in"),
    ("1.83 m", "= 6 ft 0 in"),
])
def test_height_in_feet_and_inches_never_shows_12_inches(text: str, shown: str) -> None:
    """The converted height is a form the parser accepts (inches below 12)."""
    assert convert_measurement(kind="height", text=text) == shown
    parse_quantity(shown.removeprefix("= "), Dimension.LENGTH)


def test_the_context_reader_preloads_on_request_only() -> None:
    """Importing the actions loads no spaCy; the app's background preload does."""
    code = ("import sys; from ketascreen.ui import actions; "
            "assert 'spacy' not in sys.modules; actions.preload_condition_context(); "
            "assert 'spacy' in sys.modules; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
