"""The typed dose quantities: a dose per body weight can never be a bare number."""

from __future__ import annotations

import pint
import pytest

from ketascreen.errors import UnitInputError
from ketascreen.models.doses import (
    MG_PER_KG,
    DosePerWeight,
    DoseRatePerWeight,
    parse_weight_based_dose,
)
from ketascreen.units import Q_, ureg


def test_pint_reduces_mg_per_kg_to_a_bare_ratio() -> None:
    """The trap the types exist for: pint lets a plain number join a mg/kg quantity."""
    raw = Q_(0.5, ureg.Unit("mg/kg"))
    assert (raw + 1).magnitude == pytest.approx(1.0000005)
    assert raw.to("percent").magnitude == pytest.approx(5e-05)


def test_dose_per_weight_refuses_a_bare_number() -> None:
    """A float, an int or a dimensionless quantity is refused."""
    for value in (0.5, 1, Q_(0.5, ureg.Unit("dimensionless"))):
        with pytest.raises(TypeError):
            DosePerWeight.from_quantity(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        DosePerWeight(0.5)  # type: ignore[arg-type]


def test_dose_per_weight_refuses_a_percentage() -> None:
    """Percent is dimensionless like mg/kg but not a drug mass per body mass."""
    with pytest.raises(TypeError, match="not a drug mass per body mass"):
        DosePerWeight.from_quantity(Q_(50.0, ureg.Unit("percent")))


def test_dose_per_weight_refuses_other_units_in_its_constructor() -> None:
    """The constructor takes exactly mg/kg; other mass ratios go through from_quantity."""
    with pytest.raises(TypeError, match="from_quantity"):
        DosePerWeight(Q_(500.0, ureg.Unit("mcg/kg")))


def test_dose_per_weight_converts_mass_ratios() -> None:
    """500 mcg/kg and 0.0005 g/kg are both 0.5 mg/kg."""
    assert DosePerWeight.parse("500 mcg/kg") == DosePerWeight.parse("0.5 mg/kg")
    assert DosePerWeight.from_quantity(Q_(0.0005, ureg.Unit("g/kg"))).mg_per_kg() == (
        pytest.approx(0.5))
    assert DosePerWeight.parse("0.5 mg/kg").per_kg.units == MG_PER_KG


def test_dose_per_weight_refuses_zero_negative_and_nan() -> None:
    """A dose per weight is a finite amount above zero."""
    for magnitude in (0.0, -0.5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="greater than zero"):
            DosePerWeight(Q_(magnitude, MG_PER_KG))


def test_dose_per_weight_times_body_mass_is_milligrams() -> None:
    """0.5 mg/kg for 187 lb is 42.41 mg, whatever unit the body mass is in."""
    dose = DosePerWeight.parse("0.5 mg/kg")
    in_pounds = dose.for_body_mass(Q_(187.0, ureg.Unit("pound")))
    assert in_pounds.units == ureg.Unit("milligram")
    assert in_pounds.magnitude == pytest.approx(42.4108866)


def test_dose_per_weight_needs_a_mass() -> None:
    """A bare number or a volume is not a body mass."""
    dose = DosePerWeight.parse("0.5 mg/kg")
    with pytest.raises(TypeError):
        dose.for_body_mass(80)  # type: ignore[arg-type]
    with pytest.raises(pint.DimensionalityError):
        dose.for_body_mass(Q_(80.0, ureg.Unit("milliliter")))


def test_dose_per_weight_compares_only_with_its_own_kind() -> None:
    """Ordering works between doses; a float or a dose rate cannot be compared with one."""
    low, high = DosePerWeight.parse("0.1 mg/kg"), DosePerWeight.parse("1 mg/kg")
    same = DosePerWeight.parse("100 mcg/kg")
    assert low < high
    assert high > low
    assert low <= same
    assert low >= same
    with pytest.raises(TypeError):
        assert low < 0.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        assert low < DoseRatePerWeight.parse("0.5 mg/kg/h")  # type: ignore[operator]
    with pytest.raises(TypeError):
        float(low)  # type: ignore[arg-type]


def test_dose_rate_per_weight_round_trip() -> None:
    """0.5 mg/kg over 40 min is 0.75 mg/kg/h, and 0.75 mg/kg/h for 40 min is 0.5 mg/kg."""
    forty_minutes = Q_(40.0, ureg.Unit("minute"))
    rate = DosePerWeight.parse("0.5 mg/kg").spread_over(forty_minutes)
    assert rate.mg_per_kg_per_h() == pytest.approx(0.75)
    assert rate.over(forty_minutes).mg_per_kg() == pytest.approx(0.5)


def test_dose_rate_per_weight_converts_per_minute() -> None:
    """0.5 mg/kg/min is 30 mg/kg/h; mg/h for a body mass is a mass rate."""
    rate = DoseRatePerWeight.parse("0.5 mg/kg/min")
    assert rate.mg_per_kg_per_h() == pytest.approx(30.0)
    assert rate.for_body_mass(Q_(2.0, ureg.Unit("kg"))).to("mg/h").magnitude == (
        pytest.approx(60.0))


def test_dose_rate_per_weight_refuses_a_mass_rate() -> None:
    """mg/h is a dose rate but not per body mass."""
    with pytest.raises(TypeError):
        DoseRatePerWeight.from_quantity(Q_(20.0, ureg.Unit("mg/h")))


def test_parse_weight_based_dose_tells_the_two_kinds_apart() -> None:
    """mg/kg parses to a dose per weight, mg/kg/h to a dose rate, mg to neither."""
    assert isinstance(parse_weight_based_dose("0.5 mg/kg"), DosePerWeight)
    assert isinstance(parse_weight_based_dose("0.5 mg/kg/h"), DoseRatePerWeight)
    with pytest.raises(UnitInputError):
        parse_weight_based_dose("40 mg")


def test_display_is_ismp_safe() -> None:
    """Leading zero, no trailing zero."""
    assert DosePerWeight.parse(".5 mg/kg").display() == "0.5 mg/kg"
    assert DosePerWeight.parse("1.0 mg/kg").display() == "1 mg/kg"
    assert DoseRatePerWeight.parse("2.00 mg/kg/h").display() == "2 mg/kg/h"
