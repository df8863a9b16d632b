"""The independent inverse check: it passes for correct doses and refuses injected faults."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from ketascreen.dosing import order, preparation, pump
from ketascreen.dosing import weight as weight_module
from ketascreen.dosing.inverse import verify_dose
from ketascreen.errors import CalculationMismatchError
from ketascreen.models.case import Case
from ketascreen.models.doses import MG_PER_ML, ML, ML_PER_H, DosePerWeight
from ketascreen.units import Q_
from tests.dosing.support import FORMULARY, assert_ismp_clean, case_with, dose_of

VIAL = {"protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "vial": "50 mg/mL"}}


def test_inverse_check_passes_and_is_in_the_working() -> None:
    """A correct dose carries the passed check and its line ends the working."""
    outcome = dose_of(case_with({}))
    check = outcome.inverse_check
    assert check is not None
    assert check.intended_mg_per_kg == Decimal("0.5")
    assert check.difference_percent < Decimal("0.05")
    assert outcome.working[-1] == check.line
    assert check.line.startswith("Independent check: 63.6 mL/h x 40 min x 1 mg/mL ÷ 84.82 kg")
    assert check.line.endswith(": passed")
    assert_ismp_clean(outcome)


def test_injected_wrong_pump_rate_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A forward path that computes a 10 % fast rate gives no dose: calculation mismatch."""
    original = pump._pump_rate

    def fast(volume: float, hours: float) -> float:
        return original(volume, hours) * 1.1

    monkeypatch.setattr(pump, "_pump_rate", fast)
    outcome = dose_of(case_with({}))
    assert outcome.dose is None and outcome.programme is None
    assert outcome.refusal_code == "calculation-mismatch"
    mismatch = outcome.mismatch
    assert isinstance(mismatch, CalculationMismatchError)
    assert mismatch.check in ("dose per body weight from the programmed pump rate",
                              "delivered dose per body weight")
    assert mismatch.unit == "mg/kg"
    assert mismatch.difference_percent > mismatch.tolerance_percent
    assert (outcome.refusal or "").startswith("calculation mismatch: ")


def test_injected_small_rate_error_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 3 % error is within the 5 % rounding policy but beyond the check's 1 % plus rounding."""
    original = pump._pump_rate

    def slightly_fast(volume: float, hours: float) -> float:
        return original(volume, hours) * 1.03

    monkeypatch.setattr(pump, "_pump_rate", slightly_fast)
    outcome = dose_of(case_with(VIAL))
    assert outcome.refusal_code == "calculation-mismatch"


def test_injected_wrong_concentration_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A forward path that mislabels the bag's concentration tenfold gives no dose."""
    original = preparation._final_concentration

    def tenfold(drug: float, total_volume: float) -> float:
        return original(drug, total_volume) * 10

    monkeypatch.setattr(preparation, "_final_concentration", tenfold)
    outcome = dose_of(case_with(VIAL))
    assert outcome.refusal_code == "calculation-mismatch"
    assert outcome.mismatch is not None
    assert outcome.mismatch.check == "final concentration"
    assert outcome.mismatch.unit == "mg/mL"


def test_injected_wrong_drawn_volume_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drawing up ten times the drug (a decimal slip) gives no dose."""
    original = preparation._draw_up_volume

    def decimal_slip(exact_volume: float, resolution: float) -> float:
        return original(exact_volume, resolution) * 10

    monkeypatch.setattr(preparation, "_draw_up_volume", decimal_slip)
    outcome = dose_of(case_with(VIAL))
    assert outcome.dose is None
    assert outcome.refusal_code == "calculation-mismatch"


def test_injected_wrong_rounding_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rounding that drops a digit (63.6 -> 6.36 mL/h) gives no dose."""
    original = pump.magnitude_half_up  # the pump rounds only its rate half up

    def drop_a_digit(value: float, step: float) -> float:
        return original(value, step) / 10

    monkeypatch.setattr(pump, "magnitude_half_up", drop_a_digit)
    outcome = dose_of(case_with({}))
    assert outcome.refusal_code == "calculation-mismatch"


def test_injected_wrong_ideal_weight_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A forward Devine formula with a wrong base weight disagrees with the inverse's own copy."""
    wrong = {"male": Q_(60.0, "kilogram"), "female": Q_(55.5, "kilogram")}
    monkeypatch.setattr(weight_module, "DEVINE_BASE", wrong)
    outcome = dose_of(case_with({"protocol.weight_basis": "ideal"}))
    assert outcome.refusal_code == "calculation-mismatch"
    assert outcome.mismatch is not None
    assert outcome.mismatch.check == "dosing weight (ideal)"
    assert outcome.dosing_weight is not None  # the forward weight is kept to show what failed


def test_injected_dose_that_ignores_the_order_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A forward path that reads the wrong dose (0.75 for 0.5 mg/kg) gives no dose."""
    original = order._parsed_dose.__wrapped__

    def misread(text: str) -> Any:
        return original("0.75 mg/kg") if text == "0.5 mg/kg" else original(text)

    monkeypatch.setattr(order, "_parsed_dose", misread)
    outcome = dose_of(case_with({}))
    assert outcome.refusal_code == "calculation-mismatch"
    assert outcome.mismatch is not None
    assert outcome.mismatch.expected == Decimal("0.5")


def _verified(changes: dict[str, Any]) -> tuple[Case, Any]:
    case = Case.model_validate(case_with(changes))
    outcome = dose_of(case_with(changes))
    assert outcome.programme is not None and outcome.dosing_weight is not None
    return case, outcome


def test_tampered_programme_fails_the_direct_check() -> None:
    """verify_dose raises a structured error for a programme off by 2 % (beyond 1 % + rounding)."""
    case, outcome = _verified({})
    programme = dataclasses.replace(
        outcome.programme,
        programmed_rate=Q_(63.6 * 1.02, ML_PER_H),
    )
    with pytest.raises(CalculationMismatchError) as caught:
        verify_dose(case, FORMULARY, dosing_weight=outcome.dosing_weight, programme=programme)
    error = caught.value
    assert error.expected == Decimal("0.5000")
    assert error.tolerance_percent == Decimal("1.09")
    assert Decimal("1.9") < error.difference_percent < Decimal("2.1")
    assert "recomputed independently" in str(error)


def test_tolerance_covers_rounding_but_not_more() -> None:
    """The programmed rate may differ by the pump resolution; a further 1.2 % is refused."""
    case, outcome = _verified(VIAL)
    rate = outcome.programme.programmed_rate
    within = dataclasses.replace(outcome.programme, programmed_rate=rate + Q_(0.05, ML_PER_H))
    verify_dose(case, FORMULARY, dosing_weight=outcome.dosing_weight, programme=within)
    beyond = dataclasses.replace(outcome.programme, programmed_rate=rate * 1.012 + Q_(0.05,
                                                                                       ML_PER_H))
    with pytest.raises(CalculationMismatchError):
        verify_dose(case, FORMULARY, dosing_weight=outcome.dosing_weight, programme=beyond)


def test_wrong_total_volume_fails_the_direct_check() -> None:
    """A VTBI that is not diluent plus drug (a 90 mL VTBI for a 100.85 mL bag) is caught."""
    case, outcome = _verified(VIAL)
    programme = dataclasses.replace(outcome.programme, total_volume=Q_(90.0, ML))
    with pytest.raises(CalculationMismatchError, match="total volume"):
        verify_dose(case, FORMULARY, dosing_weight=outcome.dosing_weight, programme=programme)


def test_wrong_delivered_dose_fails_the_direct_check() -> None:
    """A delivered dose that does not follow from the programme is caught."""
    case, outcome = _verified({})
    programme = dataclasses.replace(
        outcome.programme,
        delivered_dose_per_weight=DosePerWeight(Q_(0.55, "mg/kg")),
        final_concentration=Q_(1.0, MG_PER_ML))
    with pytest.raises(CalculationMismatchError, match="delivered dose per body weight"):
        verify_dose(case, FORMULARY, dosing_weight=outcome.dosing_weight, programme=programme)
