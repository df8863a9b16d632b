"""Step 6: the independent inverse check of a calculated dose.

Second, separate computation in the spirit of an independent double check (ISMP, R139): it
recomputes the dose per body weight *from what the bedside will do* -- the programmed pump rate,
the VTBI, the drawn-up volume -- and compares it with the dose that was ordered.

It deliberately shares no helper with the forward path (:mod:`ketascreen.dosing.calculate`
and its steps, :mod:`~ketascreen.dosing.weight`, the typed quantities of
:mod:`~ketascreen.models.doses`): it reads the order again from the case's and the formulary's
*text*, converts each value to one fixed unit once with pint, recomputes the dosing weight with
its own copy of the Devine formula, and then uses plain :class:`~decimal.Decimal` arithmetic. A
slip in the forward path (a wrong unit factor, a wrong concentration, a wrong rate) therefore
shows up as a disagreement.

Tolerance: 1 % beyond what rounding can explain (half the pump-rate resolution relative to the
rate, half the volume resolution relative to the drawn-up volume, in the worst case).
"""

from __future__ import annotations

import functools
from decimal import Decimal

from ketascreen.display import format_number
from ketascreen.errors import CalculationMismatchError, UnitInputError
from ketascreen.knowledge.formulary import Formulary
from ketascreen.models.case import Case
from ketascreen.units import Dimension, Quantity, parse_quantity, ureg

from .outcome import DosingWeight, InverseCheck, PumpProgramme

MISMATCH_TOLERANCE_PERCENT = Decimal("1")
"""Disagreement allowed beyond what rounding explains (issue 3: "a mismatch beyond 1%")."""

_UNITS = {expression: ureg.Unit(expression) for expression in (
    "kilogram", "inch", "hour", "milliliter", "milligram", "milligram/milliliter",
    "milliliter/hour", "milligram/kilogram", "milligram/kilogram/hour",
)}
# Devine 1974 as given by R17, written out again on purpose (not imported from weight.py).
_IDEAL_BASE_KG = {"male": Decimal("50"), "female": Decimal("45.5")}
_IDEAL_KG_PER_INCH = Decimal("2.3")
_IDEAL_FROM_INCHES = Decimal("60")
_ADJUSTED_FRACTION = Decimal("0.4")
_HUNDRED = Decimal(100)
_TWO = Decimal(2)


@functools.lru_cache(maxsize=2048)
def _text_in(text: str, dimension: Dimension, unit: str) -> Decimal:
    return _value_in(parse_quantity(text, dimension), unit)


def _value_in(value: Quantity, unit: str) -> Decimal:
    target = _UNITS[unit]
    # Comparing pint's unit containers avoids building Unit objects (this check runs often);
    # a value already in the unit needs no conversion (pint's would multiply it by 1).
    magnitude = value.magnitude if value._units == target._units else value.m_as(target)
    return Decimal(repr(float(magnitude)))


def _ordered_mg_per_kg(text: str, hours: Decimal) -> Decimal:
    value, per_hour = _ordered_dose(text)
    return value * hours if per_hour else value


@functools.lru_cache(maxsize=512)
def _ordered_dose(text: str) -> tuple[Decimal, bool]:
    """The ordered dose in mg/kg, or in mg/kg/h (then ``True``); cached, as a dose rate
    (``0.5 mg/kg/h``) would otherwise be parsed and refused as a dose per session every time."""
    try:
        return _text_in(text, Dimension.DOSE_PER_WEIGHT, "milligram/kilogram"), False
    except UnitInputError:
        return _text_in(text, Dimension.DOSE_RATE_PER_WEIGHT, "milligram/kilogram/hour"), True


def _worst_rounding_factor(rounded: Decimal, step: Decimal) -> Decimal:
    half = step / _TWO
    return rounded / (rounded - half) if rounded > half else Decimal("Infinity")


def _tolerance(rounding_factor: Decimal) -> Decimal:
    """1 % beyond what rounding explains, as a percentage."""
    return (rounding_factor * (1 + MISMATCH_TOLERANCE_PERCENT / _HUNDRED) - 1) * _HUNDRED


def _difference_percent(expected: Decimal, found: Decimal) -> Decimal:
    return abs(found - expected) / expected * _HUNDRED


def _compare(check: str, expected: Decimal, found: Decimal, unit: str,
             tolerance: Decimal) -> Decimal:
    difference = _difference_percent(expected, found)
    if difference > tolerance:
        raise CalculationMismatchError(
            check=check, expected=expected.quantize(Decimal("0.0001")),
            found=found.quantize(Decimal("0.0001")), unit=unit,
            difference_percent=difference.quantize(Decimal("0.01")),
            tolerance_percent=tolerance.quantize(Decimal("0.01")))
    return difference


def _missing(check: str) -> CalculationMismatchError:
    zero = Decimal(0)
    return CalculationMismatchError(check=check, expected=zero, found=zero, unit="(missing)",
                                    difference_percent=_HUNDRED, tolerance_percent=zero)


def _own_dosing_weight_kg(case: Case, basis: str) -> Decimal:
    weight_text = case.measurements.weight
    if weight_text is None:
        raise _missing("dosing weight: the case has no weight")
    actual = _text_in(weight_text, Dimension.MASS, "kilogram")
    if basis == "actual":
        return actual
    height_text = case.measurements.height
    if height_text is None:
        raise _missing(f"dosing weight: {basis} body weight without a height")
    inches = _text_in(height_text, Dimension.LENGTH, "inch")
    base = _IDEAL_BASE_KG["male" if case.patient.sex == "male" else "female"]
    ideal = base + _IDEAL_KG_PER_INCH * (inches - _IDEAL_FROM_INCHES)
    if basis == "ideal":
        return ideal
    return ideal + _ADJUSTED_FRACTION * (actual - ideal)


def verify_dose(case: Case, formulary: Formulary, *, dosing_weight: DosingWeight,
                programme: PumpProgramme) -> InverseCheck:
    """Recompute the dose per body weight from the pump programme, independently.

    Args:
        case: the case the dose was calculated for (read again from its text).
        formulary: the formulary (its default texts and resolutions).
        dosing_weight: the forward path's dosing weight (its basis is re-derived here).
        programme: the forward path's pump programme: rate, VTBI, drawn-up volume,
            concentration and delivered dose are checked.

    Returns:
        The passed check, with the working line that states it (written when first read).

    Raises:
        CalculationMismatchError: a recomputed value disagrees beyond the tolerance.
    """
    order = case.protocol
    entry = formulary.protocol(case.indication)
    duration_text = (order.duration if order is not None and order.duration is not None
                     else entry.default_duration.text if entry.default_duration else None)
    dose_text = (order.dose if order is not None and order.dose is not None
                 else entry.default_dose.text if entry.default_dose else None)
    if duration_text is None or dose_text is None:
        raise _missing("ordered dose and duration: neither the case nor the formulary gives them")
    hours = _text_in(duration_text, Dimension.TIME, "hour")
    intended = _ordered_mg_per_kg(dose_text, hours)

    own_weight = _own_dosing_weight_kg(case, dosing_weight.basis)
    _compare(f"dosing weight ({dosing_weight.basis})", own_weight,
             _value_in(dosing_weight.weight, "kilogram"), "kg", MISMATCH_TOLERANCE_PERCENT)

    volume_step = _value_in(formulary.pump.volume_resolution.value, "milliliter")
    rate_step = _value_in(formulary.pump.rate_resolution.value, "milliliter/hour")
    vtbi = _value_in(programme.total_volume, "milliliter")
    if order is not None and order.concentration is not None:
        concentration = _text_in(order.concentration, Dimension.CONCENTRATION,
                                 "milligram/milliliter")
        rounded_volume = vtbi
    else:
        if programme.drug_volume is None:
            raise _missing("drawn-up volume: a vial preparation without a drug volume")
        vial_text = (order.vial if order is not None and order.vial is not None
                     else formulary.default_vial.strength.text)
        diluent_text = (order.diluent_volume if order is not None and order.diluent_volume
                        else formulary.default_diluent_volume.text)
        vial = _text_in(vial_text, Dimension.CONCENTRATION, "milligram/milliliter")
        diluent = _text_in(diluent_text, Dimension.VOLUME, "milliliter")
        drawn = _value_in(programme.drug_volume, "milliliter")
        if drawn <= 0:
            raise _missing("drawn-up volume: zero")
        _compare("total volume (diluent plus drug)", diluent + drawn, vtbi, "mL",
                 MISMATCH_TOLERANCE_PERCENT)
        concentration = vial * drawn / (diluent + drawn)
        rounded_volume = drawn
    _compare("final concentration", concentration,
             _value_in(programme.final_concentration, "milligram/milliliter"), "mg/mL",
             MISMATCH_TOLERANCE_PERCENT)

    rate = _value_in(programme.programmed_rate, "milliliter/hour")
    if rate <= 0:
        raise _missing("programmed pump rate: zero")
    # Worst case of rounding half up: the exact value lay half a step below the rounded one.
    volume_factor = _worst_rounding_factor(rounded_volume, volume_step)
    rate_factor = _worst_rounding_factor(rate, rate_step)
    from_rate = rate * hours * concentration / own_weight
    in_volume = vtbi * concentration / own_weight
    rate_tolerance = _tolerance(volume_factor * rate_factor)
    volume_tolerance = _tolerance(volume_factor)
    rate_difference = _compare("dose per body weight from the programmed pump rate", intended,
                               from_rate, "mg/kg", rate_tolerance)
    volume_difference = _compare("dose per body weight in the volume to be infused", intended,
                                 in_volume, "mg/kg", volume_tolerance)
    _compare("delivered dose per body weight", from_rate,
             _value_in(programme.delivered_dose_per_weight.per_kg, "milligram/kilogram"),
             "mg/kg", MISMATCH_TOLERANCE_PERCENT)

    difference = max(rate_difference, volume_difference)

    def line() -> str:
        # Written at the formulary's display resolutions, so each quantity reads as it does in
        # the dose box (the check itself compares the unrounded values).
        fmt = formulary.formats

        def q(value: Decimal | float, unit: str) -> Quantity:
            made: Quantity = ureg.Quantity(float(value), _UNITS[unit])  # units parsed once
            return made
        return (f"Independent check: {fmt.rate(q(rate, 'milliliter/hour'))} x "
                f"{format_number(hours * 60, 2)} min x "
                f"{fmt.concentration(q(concentration, 'milligram/milliliter'))} ÷ "
                f"{fmt.weight(q(own_weight, 'kilogram'))} = {format_number(from_rate, 4)} "
                f"mg/kg; prepared {fmt.drawn_volume(q(vtbi, 'milliliter'))} holds "
                f"{format_number(in_volume, 4)} mg/kg; ordered "
                f"{format_number(intended, 4)} mg/kg (difference {format_number(difference, 2)} "
                f"%, allowed {format_number(rate_tolerance, 2)} %): passed")
    return InverseCheck(
        intended_mg_per_kg=intended, from_rate_mg_per_kg=from_rate,
        in_volume_mg_per_kg=in_volume, difference_percent=difference,
        tolerance_percent=rate_tolerance, write_line=line,
    )
