"""Every output of representative dose calculations, character for character.

``golden_outcomes.json`` holds what the engine wrote for the cases below *before* the working
lines were deferred and the arithmetic was sped up (recorded with the eager implementation of
commit 62c6fd7): the dose JSON, every working line, the findings, the refusal, the bedside
lines, the inverse check and every quantity of the pump programme (magnitude as ``repr`` and
unit). A change of one character in a working line, of one unit or of the last bit of a
magnitude fails here. The formulary's hash is replaced by a placeholder, so a comment edited in
the shipped formulary does not.

Re-recording: a deliberate change of what is shown (issue 10: one display resolution per
quantity, labelled rows) is re-recorded with ``.venv/bin/python -m tests.dosing.record_goldens``
(``make goldens``; deterministic: an unchanged tree records the same bytes), or with
``KETASCREEN_RERECORD_GOLDENS=1 .venv/bin/python -m pytest tests/dosing/test_golden.py``, which
rewrites ``golden_outcomes.json`` and then fails on purpose, so a re-record is never silent.
Read ``git diff tests/dosing/golden_outcomes.json`` value by value before committing it: every
magnitude (``programme``, ``dosing_weight``, the dose JSON numbers) must be unchanged unless
the change is the point of the commit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ketascreen.dosing import DoseOutcome, calculate_dose
from ketascreen.knowledge.formulary import Formulary, load_formulary
from ketascreen.models.case import Case
from tests.dosing.support import FORMULARY, PLAUSIBLE_BMI, PLAUSIBLE_WEIGHT, case_with, dose_of

GOLDEN = Path(__file__).with_name("golden_outcomes.json")
HASH = "<formulary-sha256>"
RERECORD_ENV = "KETASCREEN_RERECORD_GOLDENS"
BMI_POLICY = ("# ideal_weight_when_bmi_at_least", "ideal_weight_when_bmi_at_least")

CASES: dict[str, dict[str, Any]] = {
    "spec example (lb, ft/in, 1 mg/mL)": {},
    "vial into bag, 80 kg": {
        "measurements.weight": "80 kg",
        "protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "vial": "50 mg/mL",
                     "diluent_volume": "100 mL"}},
    "published table, chronic pain, no height": {
        "indication": "chronic-pain", "measurements.weight": "45 kg",
        "measurements.height": None,
        "protocol": {"dose": "0.3 mg/kg/h", "duration": "4 h", "concentration": "2 mg/mL"}},
    "adjusted weight, male, 100 mg/mL into 250 mL": {
        "patient.sex": "male", "measurements.weight": "260 lb", "measurements.height": "178 cm",
        "protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "weight_basis": "adjusted",
                     "vial": "100 mg/mL", "diluent_volume": "250 mL"}},
    "ideal weight above the actual one": {
        "measurements.weight": "52 kg", "measurements.height": "180 cm",
        "protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "weight_basis": "ideal"}},
    "ideal weight, sex unknown, under 60 in": {
        "patient.sex": "unknown", "measurements.weight": "50 kg",
        "measurements.height": "4 ft 11 in",
        "protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "weight_basis": "ideal",
                     "concentration": "1 mg/mL"}},
    "default protocol, mcg/kg, g and m": {
        "indication": "ptsd", "measurements.weight": "72500 g", "measurements.height": "1.75 m",
        "protocol": {"dose": "400 mcg/kg", "duration": "45 minutes"}},
    "soft limit and duration outside range": {
        "protocol": {"dose": "0.8 mg/kg", "duration": "120 min", "concentration": "2 mg/mL"}},
    "dose rate ordered against session limits": {
        "protocol": {"dose": "0.01 mg/kg/min", "duration": "40 min",
                     "concentration": "0.5 mg/mL"}},
    "below range, chronic pain, 2.5 h": {
        "indication": "chronic-pain",
        "protocol": {"dose": "0.35 mg/kg/h", "duration": "2.5 h", "vial": "10 mg/mL",
                     "diluent_volume": "50 mL"}},
    "refused: hard limit": {"protocol": {"dose": "1.2 mg/kg", "duration": "40 min"}},
    "refused: faster than the label's maximum rate": {
        "protocol": {"dose": "0.75 mg/kg", "duration": "1 min"}},
    "refused: pump maximum": {
        "indication": "chronic-pain", "measurements.weight": "150 kg",
        "protocol": {"dose": "2 mg/kg/h", "duration": "2 h", "concentration": "0.01 mg/mL"}},
    "refused: pump resolution": {
        "measurements.weight": "33 kg", "measurements.height": "150 cm",
        "protocol": {"dose": "0.1 mg/kg", "duration": "100 min", "vial": "100 mg/mL",
                     "diluent_volume": "100 mL"}},
    "refused: 100 mg/mL not diluted 1:1": {
        "protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "vial": "100 mg/mL",
                     "diluent_volume": "0.1 mL"}},
    "refused: concentration above any vial's": {
        "protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "concentration": "60 mg/mL"}},
    "refused: unstocked vial": {
        "protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "vial": "25 mg/mL"}},
    "lb entered as kg, BMI 64.7: plausible, not caught": {"measurements.weight": "187 kg",
                                                          "measurements.height": "170 cm"},
    "refused: implausible BMI": {"measurements.weight": "250 kg",
                                 "measurements.height": "150 cm"},
    "refused: implausible weight": {"measurements.weight": "29 kg"},
    "refused: no weight": {"measurements.weight": None},
    "refused: ideal weight below the plausible minimum": {
        "measurements.weight": "45 kg", "measurements.height": "4 ft 2 in",
        "protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "weight_basis": "ideal"}},
    "refused: ideal weight without a height": {
        "measurements.height": None,
        "protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "weight_basis": "ideal"}},
    "refused: other indication without a protocol": {"indication": "other", "protocol": None},
}
BMI_POLICY_CASES: dict[str, dict[str, Any]] = {
    "BMI policy: ideal weight at BMI 30 or more": {
        "protocol": None, "measurements.weight": "110 kg", "measurements.height": "172 cm"},
    "BMI policy: default basis below BMI 30": {"protocol": None},
    "BMI policy refused: no height": {"protocol": None, "measurements.height": None},
}


def _quantity(value: Any) -> list[str] | None:
    return None if value is None else [repr(float(value.magnitude)), str(value.units)]


def snapshot(outcome: DoseOutcome) -> dict[str, Any]:
    """Everything a calculation hands out, as text (the formulary hash replaced)."""
    sha = outcome.formulary_sha256

    def unhashed(text: str) -> str:
        return text.replace(sha[:12], HASH)

    found: dict[str, Any] = {
        "dose": None if outcome.dose is None else outcome.dose.model_dump(mode="json"),
        "working": [unhashed(line) for line in outcome.working],
        "findings": [[f.concept, f.basis, list(f.source_keys), f.blocks_dose]
                     for f in outcome.findings],
        "refusal": outcome.refusal,
        "refusal_code": outcome.refusal_code,
        "reason": outcome.dosing_weight_basis_reason,
        "programme_lines": list(outcome.programme_lines()),
        "mismatch": None if outcome.mismatch is None else str(outcome.mismatch),
        "formulary_version": outcome.formulary_version,
    }
    weight = outcome.dosing_weight
    if weight is not None:
        found["dosing_weight"] = [_quantity(weight.weight), weight.basis, weight.reason,
                                  _quantity(weight.actual), _quantity(weight.ideal),
                                  _quantity(weight.bmi)]
    programme = outcome.programme
    if programme is not None:
        found["programme"] = {
            name: (getattr(programme, name) if name == "diluent"
                   else _quantity(programme.delivered_dose_per_weight.per_kg)
                   if name == "delivered_dose_per_weight"
                   else _quantity(getattr(programme, name)))
            for name in programme.__dataclass_fields__ if name != "formats"}
    check = outcome.inverse_check
    if check is not None:
        found["inverse_check"] = [str(check.intended_mg_per_kg), str(check.from_rate_mg_per_kg),
                                  str(check.in_volume_mg_per_kg), str(check.difference_percent),
                                  str(check.tolerance_percent), check.line]
    return found


def all_snapshots(bmi_policy_formulary: Formulary) -> dict[str, dict[str, Any]]:
    """The snapshot of every case (shipped formulary, then the BMI-policy formulary)."""
    snapshots = {name: snapshot(dose_of(case_with(changes))) for name, changes in CASES.items()}
    for name, changes in BMI_POLICY_CASES.items():
        snapshots[name] = snapshot(dose_of(case_with(changes), bmi_policy_formulary))
    return snapshots


@pytest.fixture
def bmi_policy_formulary(edited_formulary: Callable[[str, str], Path]) -> Formulary:
    """The shipped formulary with the ideal-weight-at-BMI-30 policy switched on."""
    return load_formulary(edited_formulary(*BMI_POLICY))


def test_outputs_are_exactly_the_recorded_ones(bmi_policy_formulary: Formulary) -> None:
    """Dose JSON, working lines, findings, refusals and quantities match the eager engine."""
    found = all_snapshots(bmi_policy_formulary)
    if os.environ.get(RERECORD_ENV) == "1":
        GOLDEN.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        pytest.fail(f"{GOLDEN.name} re-recorded ({RERECORD_ENV}=1): check the diff by hand")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert list(found) == list(expected)
    for name in expected:
        assert found[name] == expected[name], name


def test_golden_cases_cover_every_path() -> None:
    """The recorded cases include doses, every limit finding and most refusal kinds."""
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    codes = {entry["refusal_code"] for entry in expected.values()}
    assert {None, "dose-above-hard-limit", "pump-maximum", "pump-resolution",
            "invalid-preparation", "implausible-weight", "missing-weight", "missing-height",
            "no-protocol"} <= codes
    concepts = {finding[0] for entry in expected.values() for finding in entry["findings"]}
    assert concepts == {"dose-above-hard-limit", "dose-above-soft-limit", "dose-below-range",
                        "duration-outside-range"}
    assert sum(entry["dose"] is not None for entry in expected.values()) >= 10


def test_working_is_written_once_and_kept() -> None:
    """The working is deferred (functions until read), then written once and kept."""
    outcome = dose_of(case_with({}))
    assert any(callable(step) for step in outcome.working_steps)
    first = outcome.working
    assert outcome.working is first
    assert outcome.inverse_check is not None
    assert outcome.inverse_check.line is outcome.inverse_check.line
    assert first[-1] == outcome.inverse_check.line


def test_working_read_late_equals_working_read_at_once() -> None:
    """A working read after many other calculations is the one read at once (no deferred line
    depends on anything a later calculation changes)."""
    names = list(CASES)
    at_once = {name: dose_of(case_with(CASES[name])).working for name in names}
    deferred = {name: dose_of(case_with(CASES[name])) for name in names}
    for name in reversed(names):  # more calculations while the deferred ones wait
        dose_of(case_with(CASES[name])).working  # noqa: B018 - written on purpose
    for name in names:
        assert deferred[name].working == at_once[name], name


def test_working_does_not_follow_a_case_edited_afterwards() -> None:
    """The case is a mutable model: editing it after the calculation leaves the working as
    calculated."""
    case = Case.model_validate(case_with({}))
    outcome = calculate_dose(case, FORMULARY, plausible_weight=PLAUSIBLE_WEIGHT,
                             plausible_bmi=PLAUSIBLE_BMI)
    expected = dose_of(case_with({})).working
    case.indication = "ptsd"
    case.measurements.weight = "70 kg"
    assert outcome.working == expected

