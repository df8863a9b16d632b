"""Parsing of quantity strings at the boundary: what is accepted, what is refused and why."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketascreen.errors import UnitInputError
from ketascreen.units import (
    Dimension,
    magnitude_in,
    parse_blood_pressure,
    parse_quantity,
)


@pytest.mark.parametrize(("text", "dimension", "unit", "expected"), [
    ("187 lb", Dimension.MASS, "kilogram", 84.8218),
    ("70 kg", Dimension.MASS, "kilogram", 70.0),
    ("70000 g", Dimension.MASS, "kilogram", 70.0),
    ("5 ft 7 in", Dimension.LENGTH, "centimeter", 170.18),
    ("170 cm", Dimension.LENGTH, "centimeter", 170.0),
    ("1.70 m", Dimension.LENGTH, "centimeter", 170.0),
    ("72 /min", Dimension.FREQUENCY, "1/minute", 72.0),
    ("72 bpm", Dimension.FREQUENCY, "1/minute", 72.0),
    ("98 %", Dimension.FRACTION, "percent", 98.0),
    ("40 min", Dimension.TIME, "minute", 40.0),
    ("2 h", Dimension.TIME, "minute", 120.0),
    ("0.5 mg/kg", Dimension.DOSE_PER_WEIGHT, "milligram/kilogram", 0.5),
    ("500 mcg/kg", Dimension.DOSE_PER_WEIGHT, "milligram/kilogram", 0.5),
    ("1 mg/mL", Dimension.CONCENTRATION, "milligram/milliliter", 1.0),
    ("100 mL", Dimension.VOLUME, "milliliter", 100.0),
    (".5 mg", Dimension.MASS, "milligram", 0.5),
])
def test_accepted_quantities(text: str, dimension: Dimension, unit: str, expected: float) -> None:
    """Each accepted spelling parses to the right magnitude in the rule's unit."""
    assert magnitude_in(parse_quantity(text, dimension), unit) == pytest.approx(expected,
                                                                               rel=1e-5)


def test_blood_pressure_in_kpa_is_converted() -> None:
    """18.4/11.5 kPa is 138/86 mmHg."""
    assert parse_blood_pressure("18.4/11.5 kPa").mmhg() == (138.0, 86.3)
    assert parse_blood_pressure("138/86 mmHg").mmhg() == (138.0, 86.0)


@pytest.mark.parametrize(("text", "dimension", "reason_part", "suggestion"), [
    ("70", Dimension.MASS, "has no unit", None),
    ("70 mL", Dimension.MASS, "is a volume, not a mass", None),
    ("5 cc", Dimension.VOLUME, "ISMP", "5 mL"),
    ("250 µg", Dimension.MASS, "ISMP", "250 mcg"),
    ("250 ug", Dimension.MASS, "ISMP", "250 mcg"),
    ("1 Mg", Dimension.MASS, "not accepted", None),
    ("0 kg", Dimension.MASS, "greater than zero", None),
    ("-70 kg", Dimension.MASS, "not a quantity", None),
    ("70,5 kg", Dimension.MASS, "comma", "70.5 kg"),
    ("1,000 mg", Dimension.MASS, "comma", "1000 mg"),
    ("seventy kg", Dimension.MASS, "not a quantity", None),
    ("0.5 mg", Dimension.DOSE_PER_WEIGHT, "is a mass", None),
])
def test_refused_quantities(text: str, dimension: Dimension, reason_part: str,
                            suggestion: str | None) -> None:
    """Refusals name the reason and, for ISMP spellings, the safe spelling."""
    with pytest.raises(UnitInputError) as caught:
        parse_quantity(text, dimension, field="measurements.weight")
    assert reason_part in caught.value.reason
    assert caught.value.field == "measurements.weight"
    assert caught.value.got == text
    assert caught.value.suggestion == suggestion


def test_unitless_weight_message_names_field_and_value() -> None:
    """The message reads like the spec's example."""
    with pytest.raises(UnitInputError, match=r'^measurements\.weight: "70" has no unit'):
        parse_quantity("70", Dimension.MASS, field="measurements.weight")


@pytest.mark.parametrize("text", ["120/80", "80/120 mmHg", "120/80 cm", "120 mmHg", "a/b mmHg"])
def test_refused_blood_pressures(text: str) -> None:
    """Unitless, swapped, wrong-dimension and malformed pressures are refused."""
    with pytest.raises(UnitInputError):
        parse_blood_pressure(text, field="measurements.blood_pressure")


@given(st.text(max_size=40), st.sampled_from(list(Dimension)))
def test_arbitrary_text_never_crashes(text: str, dimension: Dimension) -> None:
    """Any string gives a quantity of the right dimension or a typed error, never a crash."""
    try:
        parsed = parse_quantity(text, dimension)
    except UnitInputError:
        return
    assert parsed.magnitude > 0


@given(st.text(max_size=40))
def test_arbitrary_text_blood_pressure_never_crashes(text: str) -> None:
    """Any string gives a blood pressure or a typed error."""
    try:
        bp = parse_blood_pressure(text)
    except UnitInputError:
        return
    systolic, diastolic = bp.mmhg()
    assert systolic >= diastolic


@given(st.floats(min_value=0.01, max_value=1000, allow_nan=False).map(lambda x: round(x, 2)))
def test_pounds_and_kilograms_agree(kg: float) -> None:
    """The same mass in kg, g and lb parses to the same kilograms."""
    pounds = kg / 0.45359237
    a = magnitude_in(parse_quantity(f"{kg} kg", Dimension.MASS), "kilogram")
    b = magnitude_in(parse_quantity(f"{kg * 1000:.4f} g", Dimension.MASS), "kilogram")
    c = magnitude_in(parse_quantity(f"{pounds:.10f} lb", Dimension.MASS), "kilogram")
    assert a == pytest.approx(b, rel=1e-6)
    assert a == pytest.approx(c, rel=1e-6)
