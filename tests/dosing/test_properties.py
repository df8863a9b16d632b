"""Property-based tests of the dose calculation (hypothesis)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ketascreen.dosing import DoseOutcome
from ketascreen.models.doses import MG, ML_PER_H, in_unit
from tests.dosing.support import assert_ismp_clean, case_with, dose_of

POUND_IN_GRAMS = Decimal("453.59237")
# Refusals a valid order may still meet: the clinic's pump cannot run it (too fast for the pump
# maximum, too slow for its resolution) or a very short patient's ideal weight is implausible.
ACCEPTABLE_REFUSALS = {"pump-maximum", "pump-resolution", "implausible-weight"}

preparations = st.one_of(
    st.sampled_from(["0.5 mg/mL", "1 mg/mL", "2 mg/mL", "5 mg/mL", "10 mg/mL"]).map(
        lambda c: {"concentration": c}),
    st.tuples(st.sampled_from(["10 mg/mL", "50 mg/mL", "100 mg/mL"]),
              st.sampled_from(["50 mL", "100 mL", "250 mL"])).map(
        lambda v: {"vial": v[0], "diluent_volume": v[1]}),
    st.just({}),
)


@st.composite
def valid_orders(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible patient and an order inside its protocol's limits, in any preparation."""
    indication = draw(st.sampled_from(["depression", "ptsd", "anxiety", "ocd", "other",
                                       "chronic-pain"]))
    if indication == "chronic-pain":
        dose = f"{Decimal(draw(st.integers(10, 40))) / 20} mg/kg/h"        # 0.5-2 mg/kg/h
        duration = f"{Decimal(draw(st.integers(4, 8))) / 2} h"             # 2-4 h
    else:
        dose = f"{Decimal(draw(st.integers(10, 75))) / 100} mg/kg"         # 0.1-0.75 mg/kg
        duration = f"{draw(st.integers(2, 100))} min"
    height_cm = Decimal(draw(st.integers(1400, 2000))) / 10
    bmi = draw(st.floats(13, 79))
    weight_kg = Decimal(bmi * float(height_cm / 100) ** 2).quantize(Decimal("0.1"))
    assume(30 <= weight_kg <= 300)
    protocol = {"dose": dose, "duration": duration, **draw(preparations)}
    basis = draw(st.sampled_from([None, "actual", "ideal", "adjusted"]))
    if basis is not None:
        protocol["weight_basis"] = basis
    return case_with({
        "indication": indication, "patient.sex": draw(st.sampled_from(["female", "male",
                                                                        "unknown"])),
        "measurements.weight": f"{weight_kg} kg", "measurements.height": f"{height_cm} cm",
        "protocol": protocol,
    })


def _dose_mg(outcome: DoseOutcome) -> float:
    assert outcome.programme is not None, outcome.refusal
    return in_unit(outcome.programme.intended_dose, MG)


@settings(max_examples=300, deadline=None)
@given(valid_orders())
def test_inverse_check_passes_for_every_valid_order(case: dict[str, Any]) -> None:
    """No valid order is refused as a mismatch; every dose carries its check; all ISMP-clean."""
    outcome = dose_of(case)
    assert outcome.refusal_code != "calculation-mismatch", outcome.refusal
    if outcome.dose is None:
        assert outcome.refusal_code in ACCEPTABLE_REFUSALS, outcome.refusal
        assert outcome.programme is None
    else:
        assert outcome.inverse_check is not None
        assert outcome.inverse_check.difference_percent <= outcome.inverse_check.tolerance_percent
        assert not any(f.blocks_dose for f in outcome.findings)
    assert_ismp_clean(outcome)


@settings(max_examples=300, deadline=None)
@given(valid_orders())
def test_rounded_rate_is_within_half_the_resolution(case: dict[str, Any]) -> None:
    """The programmed rate never differs from the exact rate by more than 0.05 mL/h."""
    outcome = dose_of(case)
    if outcome.programme is None:
        return
    exact = in_unit(outcome.programme.exact_rate, ML_PER_H)
    programmed = in_unit(outcome.programme.programmed_rate, ML_PER_H)
    assert abs(programmed - exact) <= 0.05 + 1e-9
    assert outcome.dose is not None and outcome.dose.rate_ml_per_h == programmed


@settings(max_examples=200, deadline=None)
@given(grams=st.integers(30_000, 300_000), preparation=preparations,
       dose=st.integers(10, 75))
def test_same_weight_in_kg_lb_or_g_gives_the_same_dose(grams: int, preparation: dict[str, str],
                                                       dose: int) -> None:
    """A weight typed in g, kg or lb gives the same dose and pump programme."""
    in_grams = Decimal(grams)
    texts = [f"{grams} g", f"{in_grams / 1000} kg", f"{in_grams / POUND_IN_GRAMS:.6f} lb"]
    order = {"dose": f"{Decimal(dose) / 100} mg/kg", "duration": "40 min", **preparation}
    outcomes = [dose_of(case_with({"measurements.weight": text, "measurements.height": None,
                                   "protocol": order})) for text in texts]
    grams_outcome, kg_outcome, lb_outcome = outcomes
    if grams_outcome.dose is None:
        assert grams_outcome.refusal_code == "pump-resolution"
        assert kg_outcome.refusal_code == "pump-resolution"
        return
    assert grams_outcome.dose == kg_outcome.dose
    assert lb_outcome.dose is not None
    # 6 decimals of a pound can move the weight across a 0.005 kg rounding boundary: at most
    # 0.01 kg of dosing weight apart.
    assert abs(_dose_mg(lb_outcome) - _dose_mg(kg_outcome)) <= dose / 100 * 0.01 + 1e-9


@settings(max_examples=200, deadline=None)
@given(first=st.integers(30_000, 300_000), second=st.integers(30_000, 300_000),
       preparation=preparations)
def test_dose_is_monotone_in_weight(first: int, second: int,
                                    preparation: dict[str, str]) -> None:
    """A heavier patient never gets a smaller dose, volume or pump rate."""
    lighter, heavier = sorted((first, second))
    outcomes = [dose_of(case_with({"measurements.weight": f"{grams} g",
                                   "measurements.height": None,
                                   "protocol": {"dose": "0.5 mg/kg", "duration": "40 min",
                                                **preparation}}))
                for grams in (lighter, heavier)]
    light, heavy = (o.dose for o in outcomes)
    assume(light is not None and heavy is not None)
    assert light is not None and heavy is not None
    assert light.dose_mg <= heavy.dose_mg
    assert light.volume_ml <= heavy.volume_ml
    assert light.rate_ml_per_h <= heavy.rate_ml_per_h
    assert _dose_mg(outcomes[0]) <= _dose_mg(outcomes[1])


implausible_kg = st.one_of(st.decimals("0.21", "29.98", places=2),
                           st.decimals("300.02", "699.99", places=2))


@settings(max_examples=200, deadline=None)
@given(kilograms=implausible_kg, unit=st.sampled_from(["kg", "g", "lb"]))
def test_no_dose_outside_the_plausible_weight(kilograms: Decimal, unit: str) -> None:
    """A weight outside 30-300 kg, in any unit, never yields a valid-looking dose."""
    text = {"kg": f"{kilograms} kg", "g": f"{kilograms * 1000} g",
            "lb": f"{kilograms * 1000 / POUND_IN_GRAMS:.4f} lb"}[unit]
    outcome = dose_of(case_with({"measurements.weight": text, "measurements.height": None}))
    assert outcome.dose is None and outcome.programme is None
    assert outcome.refusal_code == "implausible-weight"
    assert outcome.working[-1].startswith("No dose: ")


@settings(max_examples=200, deadline=None)
@given(height_cm=st.integers(20, 280), bmi=st.one_of(st.floats(1, 11.9), st.floats(80.1, 200)))
def test_no_dose_outside_the_plausible_bmi(height_cm: int, bmi: float) -> None:
    """A BMI outside 12-80 kg/m² never yields a valid-looking dose, whatever the weight."""
    weight_kg = round(bmi * (height_cm / 100) ** 2, 1)
    assume(0.2 <= weight_kg <= 700)
    real_bmi = weight_kg / (height_cm / 100) ** 2
    assume(not 11.95 <= real_bmi < 80.05)
    outcome = dose_of(case_with({"measurements.weight": f"{weight_kg} kg",
                                 "measurements.height": f"{height_cm} cm"}))
    assert outcome.dose is None and outcome.programme is None
    assert outcome.refusal_code == "implausible-weight"
    assert math.isfinite(real_bmi)
