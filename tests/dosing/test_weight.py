"""The dosing weight: actual, Devine ideal, adjusted; the plausibility net and where it ends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ketascreen.knowledge.formulary import load_formulary
from ketascreen.models.doses import KG, in_unit
from tests.dosing.support import assert_ismp_clean, case_with, dose_of

Edit = Callable[[str, str], Path]


def _weight_kg(changes: dict[str, object]) -> float:
    outcome = dose_of(case_with(changes))
    assert outcome.dosing_weight is not None, outcome.refusal
    return in_unit(outcome.dosing_weight.weight, KG)


def test_actual_weight_of_the_example_case() -> None:
    """187 lb is 84.82 kg; the reason names the protocol's order."""
    outcome = dose_of(case_with({}))
    assert outcome.dosing_weight is not None
    assert in_unit(outcome.dosing_weight.weight, KG) == pytest.approx(84.82)
    assert outcome.dosing_weight.basis == "actual"
    assert outcome.dosing_weight_basis_reason == (
        "actual body weight, as ordered in the protocol")
    assert "Actual body weight 187 lb = 84.82 kg" in outcome.working


def test_default_basis_reason_names_the_formulary_and_source() -> None:
    """Without a weight_basis the formulary's default is used and said so, with its source."""
    outcome = dose_of(case_with({"protocol.weight_basis": None}))
    assert outcome.dosing_weight_basis_reason == (
        "actual body weight, the formulary default for depression (R14)")


@pytest.mark.parametrize(("sex", "height", "ideal"), [
    ("male", "5 ft 10 in", 50 + 2.3 * 10),
    ("female", "5 ft 10 in", 45.5 + 2.3 * 10),
    ("female", "5 ft", 45.5),
    ("male", "180 cm", 50 + 2.3 * (180 / 2.54 - 60)),
])
def test_devine_ideal_weight(sex: str, height: str, ideal: float) -> None:
    """Devine (R17): men 50 kg, women 45.5 kg, plus 2.3 kg per inch over 60 in."""
    changes = {"patient.sex": sex, "measurements.height": height,
               "measurements.weight": "120 kg", "protocol.weight_basis": "ideal"}
    assert _weight_kg(changes) == pytest.approx(ideal, abs=0.005)


def test_unknown_sex_uses_the_womens_formula_and_says_so() -> None:
    """Sex unknown: the lower (female) ideal weight, stated in the working."""
    outcome = dose_of(case_with({"patient.sex": "unknown", "measurements.height": "5 ft 10 in",
                                 "measurements.weight": "120 kg",
                                 "protocol.weight_basis": "ideal"}))
    assert outcome.dosing_weight is not None
    assert in_unit(outcome.dosing_weight.weight, KG) == pytest.approx(68.5)
    assert any("sex unknown: the women's formula is used" in line for line in outcome.working)


def test_adjusted_weight() -> None:
    """Adjusted = IBW + 0.4 x (actual - IBW) (R17): 61.6 + 0.4 x (84.82 - 61.6) = 70.89 kg."""
    outcome = dose_of(case_with({"protocol.weight_basis": "adjusted"}))
    assert outcome.dosing_weight is not None
    assert outcome.dosing_weight.basis == "adjusted"
    assert in_unit(outcome.dosing_weight.weight, KG) == pytest.approx(70.89)
    assert "Adjusted body weight 61.6 kg + 0.4 x (84.82 kg - 61.6 kg) = 70.89 kg (R17)" in (
        outcome.working)
    assert_ismp_clean(outcome)


def test_short_stature_subtracts_below_sixty_inches() -> None:
    """Under 60 in the formula subtracts 2.3 kg per inch, and the working says so."""
    outcome = dose_of(case_with({"measurements.height": "4 ft 10 in",
                                 "measurements.weight": "70 kg",
                                 "protocol.weight_basis": "ideal"}))
    assert outcome.dosing_weight is not None
    assert in_unit(outcome.dosing_weight.weight, KG) == pytest.approx(45.5 - 4.6)
    assert any("height under 60 in" in line for line in outcome.working)


def test_ideal_weight_never_exceeds_the_actual_weight() -> None:
    """An underweight patient is dosed on the lower, actual weight, and the reason says so."""
    outcome = dose_of(case_with({"patient.sex": "male", "measurements.height": "6 ft",
                                 "measurements.weight": "55 kg",
                                 "protocol.weight_basis": "ideal"}))
    assert outcome.dosing_weight is not None
    assert outcome.dosing_weight.basis == "actual"
    assert in_unit(outcome.dosing_weight.weight, KG) == pytest.approx(55)
    assert "never dose above the actual weight" in outcome.dosing_weight_basis_reason


def test_implausible_ideal_weight_is_refused() -> None:
    """A very short height gives an ideal weight under 30 kg: no dose."""
    outcome = dose_of(case_with({"measurements.height": "3 ft 6 in",
                                 "measurements.weight": "40 kg",
                                 "protocol.weight_basis": "ideal"}))
    assert outcome.dose is None
    assert outcome.refusal_code == "implausible-weight"
    assert "check the height" in (outcome.refusal or "")


@pytest.mark.parametrize("basis", ["ideal", "adjusted"])
def test_ideal_or_adjusted_without_height_is_refused(basis: str) -> None:
    """No height, no ideal or adjusted weight: refusal, never a silent fallback to actual."""
    outcome = dose_of(case_with({"measurements.height": None, "protocol.weight_basis": basis}))
    assert outcome.dose is None and outcome.programme is None
    assert outcome.refusal_code == "missing-height"
    assert f"the {basis} body weight needs a height" in (outcome.refusal or "")


def test_missing_weight_is_refused() -> None:
    """No weight: no dose, and the refusal says which field is empty."""
    outcome = dose_of(case_with({"measurements.weight": None}))
    assert outcome.dose is None
    assert outcome.refusal_code == "missing-weight"
    assert "measurements.weight" in (outcome.refusal or "")
    assert outcome.working[-1].startswith("No dose: ")


def test_bmi_policy_doses_on_ideal_weight_when_on(edited_formulary: Edit) -> None:
    """With the APA policy on (R14), BMI 29.3 stays on actual weight, BMI 34.5 goes to ideal."""
    formulary = load_formulary(edited_formulary("# ideal_weight_when_bmi_at_least = ",
                                                "ideal_weight_when_bmi_at_least = "))
    below = dose_of(case_with({"protocol.weight_basis": None}), formulary)
    assert below.dosing_weight is not None and below.dosing_weight.basis == "actual"
    assert "is below 30 kg/m²" in below.dosing_weight_basis_reason
    above = dose_of(case_with({"protocol.weight_basis": None, "measurements.weight": "100 kg"}),
                    formulary)
    assert above.dosing_weight is not None and above.dosing_weight.basis == "ideal"
    assert "BMI 34.5 kg/m² is at least 30 kg/m²" in above.dosing_weight_basis_reason
    ordered = dose_of(case_with({"measurements.weight": "100 kg"}), formulary)
    assert ordered.dosing_weight is not None and ordered.dosing_weight.basis == "actual"


def test_bmi_policy_without_height_is_refused(edited_formulary: Edit) -> None:
    """The BMI policy needs a height to decide; without one there is no dose."""
    formulary = load_formulary(edited_formulary("# ideal_weight_when_bmi_at_least = ",
                                                "ideal_weight_when_bmi_at_least = "))
    outcome = dose_of(case_with({"protocol.weight_basis": None, "measurements.height": None}),
                      formulary)
    assert outcome.refusal_code == "missing-height"


@pytest.mark.parametrize(("weight", "has_dose"), [
    ("30 kg", True), ("29.99 kg", False), ("300 kg", True), ("300.01 kg", False),
    ("66.12 lb", False), ("66.13 lb", True), ("29995 g", True), ("29994 g", False),
])
def test_weight_plausibility_boundaries(weight: str, has_dose: bool) -> None:
    """30-300 kg inclusive at 0.01 kg, in any unit (as the implausible-weight rule compares)."""
    outcome = dose_of(case_with({"measurements.weight": weight, "measurements.height": None}))
    assert (outcome.dose is not None) is has_dose, outcome.refusal
    if not has_dose:
        assert outcome.refusal_code == "implausible-weight"
        assert outcome.programme is None and outcome.dosing_weight is None


@pytest.mark.parametrize(("weight", "height", "has_dose"), [
    ("34.68 kg", "170 cm", True),    # BMI 12.0
    ("34.5 kg", "170 cm", False),    # BMI 11.9
    ("231.2 kg", "170 cm", True),    # BMI 80.0
    ("232 kg", "170 cm", False),     # BMI 80.3
    ("70 kg", "90 cm", False),       # BMI 86.4: a height in the wrong unit?
])
def test_bmi_plausibility_boundaries(weight: str, height: str, has_dose: bool) -> None:
    """BMI 12-80 kg/m² inclusive at 0.1 kg/m²; outside it there is no dose."""
    outcome = dose_of(case_with({"measurements.weight": weight, "measurements.height": height}))
    assert (outcome.dose is not None) is has_dose, outcome.refusal
    if not has_dose:
        assert outcome.refusal_code == "implausible-weight"
        assert "BMI" in (outcome.refusal or "")


def test_pounds_typed_as_kilograms_is_not_caught_when_plausible() -> None:
    """Where the net ends: "187 kg" (meant 187 lb) at 170 cm is BMI 64.7, so it is dosed."""
    # Only the clinician's check catches this slip; the working shows the BMI to make it easy.
    outcome = dose_of(case_with({"measurements.weight": "187 kg",
                                 "measurements.height": "170 cm"}))
    assert outcome.dose is not None
    assert outcome.dose.dose_mg == pytest.approx(93.5)
    assert any("BMI 187 kg ÷ (1.7 m)² = 64.7 kg/m²" in line for line in outcome.working)
    meant = dose_of(case_with({"measurements.weight": "187 lb", "measurements.height": "170 cm"}))
    assert meant.dose is not None and meant.dose.dose_mg == pytest.approx(42.41)


def test_pounds_typed_as_kilograms_is_caught_when_implausible() -> None:
    """The same slip at 350 lb -> "350 kg" is outside 30-300 kg and gives no dose."""
    outcome = dose_of(case_with({"measurements.weight": "350 kg"}))
    assert outcome.dose is None
    assert outcome.refusal_code == "implausible-weight"
    assert "lb entered as kg?" in (outcome.refusal or "")
