"""Helpers of the dosing tests: the shipped formulary, the policy's plausibility ranges, and a
function that calculates the dose of a case dictionary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ketascreen.display import ismp_violations
from ketascreen.dosing import DoseOutcome, calculate_dose
from ketascreen.knowledge.formulary import Formulary, load_formulary
from ketascreen.models.case import Case
from ketascreen.units import Dimension, Quantity, parse_quantity
from tests.helpers.cases import example_case, patched

SHIPPED_FORMULARY = (Path(__file__).resolve().parents[2] / "ketascreen" / "knowledge" / "data"
                     / "formulary.toml")
PLAUSIBLE_WEIGHT: tuple[Quantity, Quantity] = (parse_quantity("30 kg", Dimension.MASS),
                                               parse_quantity("300 kg", Dimension.MASS))
PLAUSIBLE_BMI = (12.0, 80.0)
FORMULARY = load_formulary()


def dose_of(case: dict[str, Any], formulary: Formulary | None = None) -> DoseOutcome:
    """The dose outcome of a case dictionary under the shipped policy's plausibility ranges."""
    return calculate_dose(Case.model_validate(case), formulary or FORMULARY,
                          plausible_weight=PLAUSIBLE_WEIGHT, plausible_bmi=PLAUSIBLE_BMI)


def case_with(changes: dict[str, Any]) -> dict[str, Any]:
    """The spec's example case with dotted-path changes (``{"measurements.weight": "80 kg"}``;
    ``None`` deletes a key)."""
    return patched(example_case(), changes)


def assert_ismp_clean(outcome: DoseOutcome) -> None:
    """Every working line, finding, refusal and bedside line is free of ISMP-forbidden notation."""
    texts = [*outcome.working, *(f.basis for f in outcome.findings), *outcome.programme_lines()]
    if outcome.refusal:
        texts.append(outcome.refusal)
    if outcome.dose is not None:
        texts += [outcome.dose.display.dose, outcome.dose.display.rate]
    for text in texts:
        assert ismp_violations(text) == [], text
