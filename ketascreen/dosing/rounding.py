"""Step: rounding to a device resolution (syringe, VTBI, pump rate), shared by the preparation
and the pump programme.

A drawn-up volume and a pump rate are rounded half up to the resolution; a volume to be infused
(VTBI) is rounded down, so the pump is never told to give more than the bag holds.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from ketascreen.models.doses import as_decimal, in_unit, quantity_of
from ketascreen.units import Quantity


def round_half_up(value: Quantity, step: Quantity) -> Quantity:
    """``value`` rounded half up to a whole number of ``step`` (in ``step``'s unit)."""
    return _round_to_step(value, step, ROUND_HALF_UP)


def round_down(value: Quantity, step: Quantity) -> Quantity:
    """``value`` rounded down to a whole number of ``step``: a VTBI never exceeds the bag."""
    return _round_to_step(value, step, ROUND_FLOOR)


def magnitude_half_up(value: float, step: float) -> float:
    """A magnitude rounded half up to a whole number of ``step`` (both in one unit)."""
    return _round_magnitude(value, step, ROUND_HALF_UP)


def magnitude_down(value: float, step: float) -> float:
    """A magnitude rounded down to a whole number of ``step`` (both in one unit)."""
    return _round_magnitude(value, step, ROUND_FLOOR)


def _round_magnitude(value: float, step: float, rounding: str) -> float:
    # as_decimal drops float noise first: an exact 6.75 that pint computed as
    # 6.749999999999999 must still round up to 6.8.
    increment = as_decimal(step)
    steps = (as_decimal(value) / increment).quantize(Decimal(1), rounding=rounding)
    return float(steps * increment)


def _round_to_step(value: Quantity, step: Quantity, rounding: str) -> Quantity:
    unit = step.units
    return quantity_of(_round_magnitude(in_unit(value, unit), float(step.magnitude), rounding),
                       unit)
