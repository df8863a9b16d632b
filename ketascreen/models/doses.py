"""Typed dose quantities, and the units the dosing engine computes in.

pint's trap: ``mg/kg`` is a mass divided by a mass, so pint treats it as dimensionless.
``Q_(0.5, "mg/kg") + 1`` is ``1.0000005`` (a bare number crept in and the dose vanished), and
``Q_(0.5, "mg/kg")`` converts silently to ``5e-07`` or to ``5e-05 percent``. A dimension check
cannot tell a dose per body weight from a percentage or a plain ratio.

:class:`DosePerWeight` and :class:`DoseRatePerWeight` close the trap. Each holds one pint quantity
in exactly one unit (``mg/kg``, ``mg/kg/h``), admits only a quantity whose *units* are a drug mass
over a body mass (over a time), and offers no arithmetic with bare numbers: no ``float()``, no
``+``, no comparison with anything but its own type. The way from a dose per weight to milligrams
is :meth:`DosePerWeight.for_body_mass`, which takes a mass quantity.

The engine computes in a few fixed units (mg, kg, mL, h), so pint's unit containers cancel
directly (``mg/kg x kg = mg``, ``mL / h = mL/h``) and no conversion is needed between steps.

:func:`times`, :func:`divided_by` and :func:`plus` are pint's ``*``, ``/`` and ``+`` with the
unit algebra of each pair of units done once, and :func:`quantity_of` is pint's constructor for a
float magnitude; each gives exactly the quantity pint gives (see the comment above them).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pint
from pint.facets.plain import PlainUnit

from ketascreen.display import format_number
from ketascreen.errors import UnitInputError
from ketascreen.units import Q_, Dimension, Quantity, parse_quantity, ureg

# Units parsed once: parsing a unit string costs pint tens of microseconds (stack-notes.md 4).
MG = ureg.Unit("milligram")
KG = ureg.Unit("kilogram")
ML = ureg.Unit("milliliter")
HOUR = ureg.Unit("hour")
MINUTE = ureg.Unit("minute")
METER = ureg.Unit("meter")
INCH = ureg.Unit("inch")
PERCENT = ureg.Unit("percent")
MG_PER_ML = ureg.Unit("milligram/milliliter")
MG_PER_H = ureg.Unit("milligram/hour")
ML_PER_H = ureg.Unit("milliliter/hour")
MG_PER_KG = ureg.Unit("milligram/kilogram")
MG_PER_KG_PER_H = ureg.Unit("milligram/kilogram/hour")
MG_PER_KG_PER_MIN = ureg.Unit("milligram/kilogram/minute")
KG_PER_M2 = ureg.Unit("kilogram/meter**2")
KG_PER_INCH = ureg.Unit("kilogram/inch")

_MASS = ureg.get_dimensionality("[mass]")
_TIME = ureg.get_dimensionality("[time]")
_DIMENSIONALITIES: dict[str, Any] = {}


def _dimensionality(dimension: str) -> Any:
    found = _DIMENSIONALITIES.get(dimension)
    if found is None:
        found = _DIMENSIONALITIES[dimension] = ureg.get_dimensionality(dimension)
    return found


UnitType = PlainUnit
"""A pint unit (``ureg.Unit(...)`` or a quantity's ``.units``)."""


def same_unit(value: Quantity, unit: UnitType) -> bool:
    """True when ``value`` is expressed in exactly ``unit`` (no conversion needed)."""
    # pint builds a new Unit object on every `.units` access (~4 us); comparing the unit
    # containers directly is ~0.5 us, and this runs dozens of times per dose.
    return isinstance(value, ureg.Quantity) and (value._units is unit._units
                                                 or bool(value._units == unit._units))


def in_unit(value: Quantity, unit: UnitType) -> float:
    """The magnitude of ``value`` in ``unit``; no conversion when it is already in that unit.

    Raises:
        pint.DimensionalityError: ``value`` cannot be expressed in ``unit``.
    """
    if same_unit(value, unit):
        return float(value.magnitude)
    return float(value.m_as(unit))


# --- typed pint arithmetic ---------------------------------------------------------------------
# pint's operators are typed loosely; these keep the core's arithmetic typed as quantities. They
# are plain pint: no shortcut around pint's own unit handling (which a faster version would have
# to re-implement from pint's private attributes: not worth the risk for ~300 us per dose).


def quantity_of(magnitude: float, unit: UnitType) -> Quantity:
    """``Q_(magnitude, unit)`` with a pre-parsed unit."""
    made: Quantity = Q_(magnitude, unit)
    return made


def times(left: Quantity, right: Quantity) -> Quantity:
    """``left * right``."""
    product: Quantity = left * right
    return product


def divided_by(left: Quantity, right: Quantity) -> Quantity:
    """``left / right``."""
    quotient: Quantity = left / right
    return quotient


def plus(left: Quantity, right: Quantity) -> Quantity:
    """``left + right`` (pint converts ``mL + L``, and refuses ``mL + mg``)."""
    total: Quantity = left + right
    return total


def as_decimal(magnitude: float) -> Decimal:
    """A float magnitude as a Decimal of 12 significant digits.

    pint's float unit factors leave noise (63.615 becomes 63.614999999999995); rounding that
    half up would give 63.61. Twelve significant digits keep every digit a clinical input can
    carry and drop the noise, so 63.615 rounds half up to 63.62 as a pharmacist expects.
    """
    return Decimal(f"{magnitude:.12g}")


def show(value: Quantity, unit: UnitType, symbol: str, decimals: int) -> str:
    """``value`` in ``unit``, written per ISMP with the display ``symbol`` (``42.4 mg``)."""
    return f"{format_number(as_decimal(in_unit(value, unit)), decimals)} {symbol}"


_NUMBER_IN_TEXT = re.compile(r"(?<![\w.])(?:\d+(?:\.\d+)?|\.\d+)(?![\w.])")


def as_typed(text: str) -> str:
    """A quantity as the clinician typed it (``187.0 lb``), with its numbers rewritten per ISMP
    (``187 lb``; ``.5`` becomes ``0.5``), so echoing the input never prints a trailing zero."""
    return _NUMBER_IN_TEXT.sub(
        lambda match: format_number(Decimal(match.group(0)), 6), " ".join(text.split()))


def show_duration(duration: Quantity) -> str:
    """A duration per ISMP in minutes, or in hours from 2 h on whole half hours (``4 h``)."""
    minutes = as_decimal(in_unit(duration, MINUTE))
    if minutes >= 120 and minutes % 30 == 0:
        return f"{format_number(minutes / 60, 2)} h"
    return f"{format_number(minutes, 1)} min"


def decimals_of(step: Quantity) -> int:
    """Decimal places a value rounded to ``step`` is shown with (0.1 mL/h -> 1, 0.01 mL -> 2)."""
    exponent = as_decimal(float(step.magnitude)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def require_dimension(value: object, dimension: str, what: str) -> Quantity:
    """``value`` itself if it is a pint quantity of ``dimension`` (e.g. ``"[mass]"``).

    Raises:
        TypeError: ``value`` is not a quantity (a bare number must never become a dose).
        pint.DimensionalityError: it is a quantity of another dimension.
    """
    if not isinstance(value, ureg.Quantity):
        raise TypeError(f"{what} must be a pint quantity of {dimension}, "
                        f"not {type(value).__name__}")
    if value.dimensionality != _dimensionality(dimension):
        raise pint.DimensionalityError(value.units, ureg.get_dimensionality(dimension),
                                       extra_msg=f" ({what})")
    return value


def _unit_dimensions(value: Quantity) -> list[tuple[Any, Any]]:
    return [(ureg.get_dimensionality(name), power) for name, power in value.unit_items()]


def _is_drug_per_body_mass(value: Quantity, *, per_time: bool) -> bool:
    """True when the units are literally mass / mass (/ time), whatever pint reduces them to."""
    powers = _unit_dimensions(value)
    expected = [(_MASS, 1), (_MASS, -1)] + ([(_TIME, -1)] if per_time else [])
    if len(powers) != len(expected):
        return False
    remaining = list(expected)
    for item in powers:
        if item not in remaining:
            return False
        remaining.remove(item)
    return True


def _check_magnitude(value: Quantity, what: str) -> None:
    magnitude = value.magnitude
    if isinstance(magnitude, bool) or not isinstance(magnitude, int | float):
        raise TypeError(f"{what} must have a real magnitude")
    if not math.isfinite(magnitude) or magnitude <= 0:
        raise ValueError(f"{what} must be a finite amount greater than zero, got {magnitude}")


@dataclass(frozen=True, slots=True)
class DosePerWeight:
    """A drug dose per body mass, e.g. 0.5 mg/kg; never a bare number.

    Attributes:
        per_kg: the dose as a pint quantity in exactly ``milligram/kilogram``. Build instances
            with :meth:`parse` or :meth:`from_quantity`, which accept any mass-per-mass unit.
    """

    per_kg: Quantity

    def __post_init__(self) -> None:
        if not isinstance(self.per_kg, ureg.Quantity) or not same_unit(self.per_kg, MG_PER_KG):
            raise TypeError("DosePerWeight holds a quantity in milligram/kilogram only; "
                            "use DosePerWeight.from_quantity to convert")
        _check_magnitude(self.per_kg, "a dose per body weight")

    @classmethod
    def from_quantity(cls, value: Quantity) -> DosePerWeight:
        """A dose per body weight from a quantity whose units are a mass over a mass.

        Raises:
            TypeError: ``value`` is not a quantity, or its units are not a mass over a mass
                (a percentage or a plain ratio is refused even though pint calls it
                dimensionless too).
        """
        if same_unit(value, MG_PER_KG):  # already mg/kg: a mass over a mass, nothing to check
            return cls(value)
        require_dimension(value, "[]", "a dose per body weight")
        if not _is_drug_per_body_mass(value, per_time=False):
            raise TypeError(f"{value.units} is not a drug mass per body mass (e.g. mg/kg)")
        return cls(value.to(MG_PER_KG))

    @classmethod
    def parse(cls, text: str, *, field: str = "") -> DosePerWeight:
        """Parse ``"0.5 mg/kg"`` (or ``"500 mcg/kg"``).

        Raises:
            UnitInputError: not a dose per body weight.
        """
        return cls.from_quantity(parse_quantity(text, Dimension.DOSE_PER_WEIGHT, field=field))

    def for_body_mass(self, body_mass: Quantity) -> Quantity:
        """The dose in mg for a patient of ``body_mass`` (a mass quantity)."""
        kilograms = (body_mass if same_unit(body_mass, KG)
                     else require_dimension(body_mass, "[mass]", "the body mass").to(KG))
        return times(self.per_kg, kilograms)

    def spread_over(self, duration: Quantity) -> DoseRatePerWeight:
        """The dose rate per body weight when this dose is infused over ``duration``."""
        hours = (duration if same_unit(duration, HOUR)
                 else require_dimension(duration, "[time]", "the duration").to(HOUR))
        return DoseRatePerWeight(divided_by(self.per_kg, hours))

    def mg_per_kg(self) -> float:
        """The magnitude in mg/kg, for the JSON edge and for display only."""
        return float(self.per_kg.magnitude)

    def display(self, decimals: int = 4) -> str:
        """ISMP-safe text, e.g. ``0.5 mg/kg``."""
        return f"{format_number(as_decimal(self.mg_per_kg()), decimals)} mg/kg"

    def __lt__(self, other: DosePerWeight) -> bool:
        if not isinstance(other, DosePerWeight):
            return NotImplemented
        return bool(self.per_kg.magnitude < other.per_kg.magnitude)

    def __le__(self, other: DosePerWeight) -> bool:
        if not isinstance(other, DosePerWeight):
            return NotImplemented
        return bool(self.per_kg.magnitude <= other.per_kg.magnitude)

    def __gt__(self, other: DosePerWeight) -> bool:
        if not isinstance(other, DosePerWeight):
            return NotImplemented
        return bool(self.per_kg.magnitude > other.per_kg.magnitude)

    def __ge__(self, other: DosePerWeight) -> bool:
        if not isinstance(other, DosePerWeight):
            return NotImplemented
        return bool(self.per_kg.magnitude >= other.per_kg.magnitude)


@dataclass(frozen=True, slots=True)
class DoseRatePerWeight:
    """A drug dose rate per body mass, e.g. 0.5 mg/kg/h; never a bare number.

    Attributes:
        per_kg_per_h: the rate as a pint quantity in exactly ``milligram/kilogram/hour``.
            Build instances with :meth:`parse` or :meth:`from_quantity`.
    """

    per_kg_per_h: Quantity

    def __post_init__(self) -> None:
        if (not isinstance(self.per_kg_per_h, ureg.Quantity)
                or not same_unit(self.per_kg_per_h, MG_PER_KG_PER_H)):
            raise TypeError("DoseRatePerWeight holds a quantity in milligram/kilogram/hour "
                            "only; use DoseRatePerWeight.from_quantity to convert")
        _check_magnitude(self.per_kg_per_h, "a dose rate per body weight")

    @classmethod
    def from_quantity(cls, value: Quantity) -> DoseRatePerWeight:
        """A dose rate per body weight from a quantity in mass / mass / time.

        Raises:
            TypeError: not a quantity, or its units are not a mass over a mass over a time.
        """
        if same_unit(value, MG_PER_KG_PER_H):  # already mg/kg/h: nothing to check
            return cls(value)
        require_dimension(value, "1/[time]", "a dose rate per body weight")
        if not _is_drug_per_body_mass(value, per_time=True):
            raise TypeError(f"{value.units} is not a drug mass per body mass per time "
                            "(e.g. mg/kg/h)")
        return cls(value.to(MG_PER_KG_PER_H))

    @classmethod
    def parse(cls, text: str, *, field: str = "") -> DoseRatePerWeight:
        """Parse ``"0.5 mg/kg/h"`` (or ``"mg/kg/min"``, ``"mcg/kg/min"`` ...).

        Raises:
            UnitInputError: not a dose rate per body weight.
        """
        return cls.from_quantity(
            parse_quantity(text, Dimension.DOSE_RATE_PER_WEIGHT, field=field))

    def for_body_mass(self, body_mass: Quantity) -> Quantity:
        """The dose rate in mg/h for a patient of ``body_mass`` (a mass quantity)."""
        kilograms = (body_mass if same_unit(body_mass, KG)
                     else require_dimension(body_mass, "[mass]", "the body mass").to(KG))
        return times(self.per_kg_per_h, kilograms)

    def over(self, duration: Quantity) -> DosePerWeight:
        """The dose per body weight infused at this rate for ``duration``."""
        hours = (duration if same_unit(duration, HOUR)
                 else require_dimension(duration, "[time]", "the duration").to(HOUR))
        return DosePerWeight(times(self.per_kg_per_h, hours))

    def mg_per_kg_per_h(self) -> float:
        """The magnitude in mg/kg/h, for the JSON edge and for display only."""
        return float(self.per_kg_per_h.magnitude)

    def display(self, decimals: int = 4) -> str:
        """ISMP-safe text, e.g. ``0.5 mg/kg/h``."""
        return f"{format_number(as_decimal(self.mg_per_kg_per_h()), decimals)} mg/kg/h"

    def __lt__(self, other: DoseRatePerWeight) -> bool:
        if not isinstance(other, DoseRatePerWeight):
            return NotImplemented
        return bool(self.per_kg_per_h.magnitude < other.per_kg_per_h.magnitude)

    def __le__(self, other: DoseRatePerWeight) -> bool:
        if not isinstance(other, DoseRatePerWeight):
            return NotImplemented
        return bool(self.per_kg_per_h.magnitude <= other.per_kg_per_h.magnitude)

    def __gt__(self, other: DoseRatePerWeight) -> bool:
        if not isinstance(other, DoseRatePerWeight):
            return NotImplemented
        return bool(self.per_kg_per_h.magnitude > other.per_kg_per_h.magnitude)

    def __ge__(self, other: DoseRatePerWeight) -> bool:
        if not isinstance(other, DoseRatePerWeight):
            return NotImplemented
        return bool(self.per_kg_per_h.magnitude >= other.per_kg_per_h.magnitude)


WeightBasedDose = DosePerWeight | DoseRatePerWeight
"""A dose order: a dose per session (mg/kg) or a dose rate (mg/kg/h)."""


def parse_weight_based_dose(text: str, *, field: str = "") -> WeightBasedDose:
    """Parse ``"0.5 mg/kg"`` as a :class:`DosePerWeight` or ``"0.5 mg/kg/h"`` as a
    :class:`DoseRatePerWeight`.

    Raises:
        UnitInputError: neither (the error of the mg/kg attempt is raised).
    """
    try:
        return DosePerWeight.parse(text, field=field)
    except UnitInputError as first:
        try:
            return DoseRatePerWeight.parse(text, field=field)
        except UnitInputError:
            raise first from None
