"""times / divided_by / plus / quantity_of give exactly what pint's operators and constructor
give: the same class, the same magnitude to the last bit, the same units."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pint
import pytest

from ketascreen.models.doses import (
    HOUR,
    KG,
    MG,
    MG_PER_KG,
    MG_PER_KG_PER_H,
    MG_PER_ML,
    MINUTE,
    ML,
    ML_PER_H,
    PERCENT,
    divided_by,
    plus,
    quantity_of,
    times,
)
from ketascreen.units import Q_, Dimension, parse_quantity, ureg

Operation = Callable[[Any, Any], Any]
OPERATIONS: list[tuple[Operation, Operation]] = [
    (times, operator.mul), (divided_by, operator.truediv), (plus, operator.add)]

PAIRS: list[tuple[Any, Any]] = [
    (Q_(0.5, MG_PER_KG), Q_(84.82, KG)),
    (Q_(0.35, MG_PER_KG_PER_H), Q_(72.5, KG)),
    (Q_(42.41, MG), Q_(0.6666666666666666, HOUR)),
    (Q_(42.41, MG), Q_(50.0, MG_PER_ML)),
    (Q_(0.85, ML), Q_(50.0, MG_PER_ML)),
    (Q_(100.0, ML), Q_(0.85, ML)),
    (Q_(42.5, MG), Q_(100.85, ML)),
    (Q_(100.85, ML), Q_(0.6666666666666666, HOUR)),
    (Q_(151.3, ML_PER_H), Q_(0.6666666666666666, HOUR)),
    (Q_(100.85, ML), Q_(151.3, ML_PER_H)),
    (Q_(0.66655, HOUR), Q_(60.0, MINUTE / HOUR)),
    (Q_(1.7, ureg.Unit("meter")), Q_(1.7, ureg.Unit("meter"))),
    (Q_(84.82, KG), Q_(2.89, ureg.Unit("meter") ** 2)),
    (parse_quantity("187 lb", Dimension.MASS), parse_quantity("5 ft", Dimension.LENGTH)),
    (Q_(3.0, ML), Q_(1e-17, ML)),
    (Q_(0.1, ML), Q_(0.2, ML)),
]


def _same(found: Any, expected: Any) -> None:
    assert type(found) is type(expected)
    assert type(found.magnitude) is type(expected.magnitude)
    assert repr(found.magnitude) == repr(expected.magnitude)
    assert found.units == expected.units
    assert str(found.units) == str(expected.units)


@pytest.mark.parametrize(("fast", "pint_operator"), OPERATIONS)
@pytest.mark.parametrize(("left", "right"), PAIRS)
def test_same_result_as_pint_first_and_later_calls(fast: Operation, pint_operator: Operation,
                                                   left: Any, right: Any) -> None:
    """The first call (pint computes) and later calls (kept units) equal pint's operator."""
    try:
        expected = pint_operator(left, right)
    except pint.DimensionalityError:
        with pytest.raises(pint.DimensionalityError):
            fast(left, right)
        return
    for _ in range(3):
        _same(fast(left, right), expected)
    # a different magnitude in the same units takes the kept units
    other = Q_(left.magnitude * 1.37, left._units)
    _same(fast(other, right), pint_operator(other, right))


def test_fallbacks_behave_exactly_like_pint() -> None:
    """Ints, bare numbers, offset units and mismatched units go to pint's own operators."""
    whole = Q_(3, MG)
    _same(times(whole, Q_(2, ML)), whole * Q_(2, ML))
    _same(divided_by(whole, Q_(2, ML)), whole / Q_(2, ML))
    _same(times(Q_(2.5, ML), 1.1), Q_(2.5, ML) * 1.1)  # type: ignore[arg-type]
    _same(plus(Q_(100.0, ML), Q_(0.5, ureg.Unit("liter"))),
          Q_(100.0, ML) + Q_(0.5, ureg.Unit("liter")))
    with pytest.raises(pint.DimensionalityError):
        plus(Q_(1.0, ML), Q_(1.0, MG))
    celsius = Q_(20.0, ureg.Unit("degC"))
    for _ in range(2):
        with pytest.raises(pint.OffsetUnitCalculusError):
            times(celsius, Q_(2.0, ureg.Unit("degC")))
        _same(plus(celsius, Q_(5.0, ureg.Unit("delta_degC"))),
              celsius + Q_(5.0, ureg.Unit("delta_degC")))


def test_quantity_of_is_pints_constructor() -> None:
    """quantity_of builds what Q_ builds."""
    for magnitude, unit in ((0.5, MG_PER_KG), (63.6, ML_PER_H), (-0.74, PERCENT), (0.0, ML)):
        made, expected = quantity_of(magnitude, unit), Q_(magnitude, unit)
        _same(made, expected)
        assert vars(made) == vars(expected)
    _same(quantity_of(3, ML), Q_(3, ML))  # an int goes to pint's constructor
