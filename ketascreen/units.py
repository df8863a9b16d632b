"""The one unit registry, and the parser for every quantity string that enters the program.

Quantities enter as text (``"187 lb"``, ``"5 ft 7 in"``, ``"138/86 mmHg"``) and leave this module
as pint quantities of a checked dimension; nothing inside the core handles a bare float for a
measured value. Only unit spellings on an explicit list are accepted, so a typo or an exotic unit
that pint would happily parse (``"Mg"``, megagram) is refused rather than guessed at. Spellings that
ISMP lists as error-prone (``cc``, ``µg``, ``U``) are refused with the safe spelling as suggestion.
"""

from __future__ import annotations

import enum
import functools
import re
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeAlias


def _import_pint_without_numpy() -> None:
    """Import pint without importing numpy, which nothing here uses.

    pint imports numpy whenever it is installed, for arrays of magnitudes; that import is about a
    third of pint's import time. Every magnitude here is a Python ``float``, ``int`` or
    ``Decimal``, for which pint takes the same scalar path with or without numpy
    (``tests/test_units_startup.py`` compares the outputs of both). A ``None`` entry in
    :data:`sys.modules` makes ``import numpy`` raise :class:`ImportError`, which pint reads as
    "numpy is not installed"; the entry is removed again at once, so numpy imports normally
    afterwards (spaCy needs it for the ConText of a problem-list text). When numpy or pint is
    already imported, nothing is done and pint uses numpy as usual.
    """
    if "pint" in sys.modules or "numpy" in sys.modules:
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]
    try:
        import pint  # noqa: PLC0415, F401 - imported here for the side effect above
    finally:
        del sys.modules["numpy"]


_import_pint_without_numpy()

import pint  # noqa: E402 - after the import above, which decides whether numpy comes with it

from ketascreen.errors import UnitInputError  # noqa: E402

DEFINITIONS = Path(__file__).with_name("units.txt")
"""The units the program uses, as pint's default definition file writes them (see its header)."""

ureg: pint.UnitRegistry[Any] = pint.UnitRegistry(str(DEFINITIONS), cache_folder=":auto:")
"""The program's only unit registry. Quantities from different registries must never meet.

It is built from :data:`DEFINITIONS`, the lines of pint's default file for the units the
program uses, rather than from that whole file: the same names, symbols, conversion factors and
formats (``tests/unit/test_units_definitions.py``), in a fraction of the start-up time."""

Q_ = ureg.Quantity
Quantity: TypeAlias = "pint.Quantity[Any]"  # pint's registry-specific classes are awkward to spell


class Dimension(enum.Enum):
    """The kinds of quantity a case may contain, each with the unit spellings it accepts."""

    MASS = "mass"
    LENGTH = "length"
    PRESSURE = "pressure"
    FREQUENCY = "rate per minute"
    FRACTION = "percentage"
    TIME = "duration"
    VOLUME = "volume"
    CONCENTRATION = "concentration (mass per volume)"
    DOSE_PER_WEIGHT = "dose per body weight (e.g. mg/kg)"
    DOSE_RATE_PER_WEIGHT = "dose rate per body weight (e.g. mg/kg/h)"
    MASS_RATE = "dose rate (e.g. mg/h)"
    VOLUME_RATE = "pump rate (e.g. mL/h)"


# Accepted spellings -> pint unit expression. Keys are matched exactly (case-sensitive, because
# "mg" and "Mg" differ by a factor of 10^9), after whitespace is collapsed.
_SPELLINGS: dict[Dimension, dict[str, str]] = {
    Dimension.MASS: {
        "kg": "kilogram", "kilogram": "kilogram", "kilograms": "kilogram",
        "g": "gram", "gram": "gram", "grams": "gram",
        "mg": "milligram", "milligram": "milligram", "milligrams": "milligram",
        "mcg": "microgram", "microgram": "microgram", "micrograms": "microgram",
        "lb": "pound", "lbs": "pound", "pound": "pound", "pounds": "pound",
        "oz": "ounce", "ounce": "ounce", "ounces": "ounce",
    },
    Dimension.LENGTH: {
        "cm": "centimeter", "m": "meter", "mm": "millimeter",
        "in": "inch", "inch": "inch", "inches": "inch",
        "ft": "foot", "foot": "foot", "feet": "foot",
    },
    Dimension.PRESSURE: {"mmHg": "millimeter_Hg", "kPa": "kilopascal"},
    Dimension.FREQUENCY: {
        "/min": "1/minute", "1/min": "1/minute", "bpm": "1/minute", "beats/min": "1/minute",
        "breaths/min": "1/minute",
    },
    Dimension.FRACTION: {"%": "percent"},
    Dimension.TIME: {
        "min": "minute", "minute": "minute", "minutes": "minute",
        "h": "hour", "hr": "hour", "hour": "hour", "hours": "hour",
    },
    Dimension.VOLUME: {"mL": "milliliter", "ml": "milliliter", "L": "liter"},
    Dimension.CONCENTRATION: {
        "mg/mL": "milligram/milliliter", "mg/ml": "milligram/milliliter",
        "mcg/mL": "microgram/milliliter", "mcg/ml": "microgram/milliliter",
        "mg/L": "milligram/liter", "g/L": "gram/liter",
    },
    Dimension.DOSE_PER_WEIGHT: {
        "mg/kg": "milligram/kilogram", "mcg/kg": "microgram/kilogram",
    },
    Dimension.DOSE_RATE_PER_WEIGHT: {
        "mg/kg/h": "milligram/kilogram/hour", "mg/kg/min": "milligram/kilogram/minute",
        "mcg/kg/h": "microgram/kilogram/hour", "mcg/kg/min": "microgram/kilogram/minute",
    },
    Dimension.MASS_RATE: {
        "mg/h": "milligram/hour", "mg/min": "milligram/minute", "mcg/min": "microgram/minute",
    },
    Dimension.VOLUME_RATE: {
        "mL/h": "milliliter/hour", "ml/h": "milliliter/hour", "mL/hr": "milliliter/hour",
        "mL/min": "milliliter/minute", "L/h": "liter/hour",
    },
}

# Error-prone spellings (ISMP) and the safe spelling to suggest.
_UNSAFE: dict[str, tuple[str, str]] = {
    "cc": ("mL", "'cc' is on the ISMP error-prone list (read as 'u' or '00')"),
    "µg": ("mcg", "'µg' is on the ISMP error-prone list (misread as 'mg', a 1000-fold error)"),
    "μg": ("mcg", "'μg' is on the ISMP error-prone list (misread as 'mg', a 1000-fold error)"),
    "ug": ("mcg", "'ug' is on the ISMP error-prone list (misread as 'mg', a 1000-fold error)"),
    "U": ("units", "'U' is on the ISMP error-prone list (read as 0, 4 or cc)"),
    "IU": ("units", "'IU' is on the ISMP error-prone list (read as IV or 10)"),
}

# The spellings a person is shown when a unit is missing: the usual ones, not every synonym.
_TYPICAL_UNITS: dict[Dimension, str] = {
    Dimension.MASS: "kg or lb", Dimension.LENGTH: "cm, or ft and in",
    Dimension.PRESSURE: "mmHg or kPa", Dimension.FREQUENCY: "/min",
    Dimension.FRACTION: "%", Dimension.TIME: "min or h", Dimension.VOLUME: "mL",
    Dimension.CONCENTRATION: "mg/mL", Dimension.DOSE_PER_WEIGHT: "mg/kg",
    Dimension.DOSE_RATE_PER_WEIGHT: "mg/kg/h", Dimension.MASS_RATE: "mg/h",
    Dimension.VOLUME_RATE: "mL/h",
}

_NUMBER = r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+"
_SINGLE = re.compile(rf"^\s*(?P<num>{_NUMBER})\s*(?P<unit>.*?)\s*$")
_PAIR = re.compile(rf"(?P<num>{_NUMBER})\s*(?P<unit>[^\d\s.][^\d\s]*)")
_BP = re.compile(rf"^\s*(?P<sys>{_NUMBER})\s*/\s*(?P<dia>{_NUMBER})\s*(?P<unit>.*?)\s*$")

_unit_cache: dict[str, pint.Unit] = {}


def _unit(expression: str) -> pint.Unit:
    cached = _unit_cache.get(expression)
    if cached is None:
        cached = _unit_cache[expression] = ureg.Unit(expression)
    return cached


def quantity(magnitude: float | int | Decimal, unit: str) -> Quantity:
    """Build a quantity from a trusted magnitude and a pint unit expression (not user text)."""
    return Q_(float(magnitude), _unit(unit))


def accepted_units(dimension: Dimension) -> list[str]:
    """The unit spellings accepted for ``dimension``, in the order they are listed."""
    return list(_SPELLINGS[dimension])


def _refuse(text: str, field: str, dimension: Dimension, reason: str,
            suggestion: str | None = None) -> UnitInputError:
    return UnitInputError(field=field, got=text, expected=dimension.value, reason=reason,
                          suggestion=suggestion)


def _magnitude(number: str, text: str, field: str, dimension: Dimension) -> Decimal:
    try:
        value = Decimal(number)
    except InvalidOperation:  # pragma: no cover - the regex admits only digits and one dot
        raise _refuse(text, field, dimension, "is not a number") from None
    if value <= 0:
        raise _refuse(text, field, dimension, "must be greater than zero")
    return value


def _resolve_unit(unit_text: str, text: str, field: str, dimension: Dimension) -> str:
    unit_text = " ".join(unit_text.split())
    if not unit_text:
        raise _refuse(text, field, dimension, f"has no unit (expected a {dimension.value} "
                      f"such as {_TYPICAL_UNITS[dimension]})")
    for bad, (safe, why) in _UNSAFE.items():
        if unit_text == bad or unit_text.startswith(bad + "/") or unit_text.endswith("/" + bad):
            raise _refuse(text, field, dimension, f"unit refused: {why}",
                          suggestion=text.replace(bad, safe))
    spelling = _SPELLINGS[dimension].get(unit_text)
    if spelling is not None:
        return spelling
    for other, spellings in _SPELLINGS.items():
        if unit_text in spellings and other is not dimension:
            raise _refuse(text, field, dimension,
                          f"is a {other.value}, not a {dimension.value}")
    accepted = ", ".join(accepted_units(dimension))
    raise _refuse(text, field, dimension,
                  f"unit {unit_text!r} is not accepted for a {dimension.value} "
                  f"(accepted: {accepted})")


def _check_text(text: object, field: str, dimension: Dimension) -> str:
    if not isinstance(text, str):
        shown = repr(text)
        raise UnitInputError(field=field, got=shown, expected=dimension.value,
                             reason="must be text with a unit, e.g. "
                             f"\"{_example(dimension)}\"")
    if "," in text:
        raise _refuse(text, field, dimension,
                      "contains a comma: write decimals with a point and no thousands separator",
                      suggestion=text.replace(",", "") if re.search(r",\d{3}\b", text)
                      else text.replace(",", "."))
    return text


def _example(dimension: Dimension) -> str:
    return {
        Dimension.MASS: "70 kg", Dimension.LENGTH: "170 cm", Dimension.PRESSURE: "120/80 mmHg",
        Dimension.FREQUENCY: "72 /min", Dimension.FRACTION: "98 %", Dimension.TIME: "40 min",
        Dimension.VOLUME: "100 mL", Dimension.CONCENTRATION: "1 mg/mL",
        Dimension.DOSE_PER_WEIGHT: "0.5 mg/kg", Dimension.DOSE_RATE_PER_WEIGHT: "0.5 mg/kg/h",
        Dimension.MASS_RATE: "20 mg/h", Dimension.VOLUME_RATE: "151 mL/h",
    }[dimension]


def parse_quantity(text: object, dimension: Dimension, *, field: str = "") -> Quantity:
    """Parse one quantity string such as ``"187 lb"`` or ``"0.5 mg/kg"``.

    Lengths and masses may be compound (``"5 ft 7 in"``, ``"6 ft 0 in"``, ``"150 lb 4 oz"``):
    two parts, the larger unit first and the smaller below one of the larger; either part may be
    zero, not both. The parts are added, in the larger unit.

    Args:
        text: the string as typed or read from a file.
        dimension: what the field holds.
        field: dotted field path, used in the error.

    Returns:
        A quantity in the unit given (convert with ``.to()`` where needed).

    Raises:
        UnitInputError: no unit, a unit of another dimension, an error-prone unit spelling,
            a number that is zero or negative, a compound not written as above, or text that is
            not a quantity at all.
    """
    text = _check_text(text, field, dimension)
    try:
        magnitude, unit = _parsed(text, dimension)
    except UnitInputError as error:
        raise error.at(field) if field else error from None
    # A new quantity every call: callers may convert theirs in place without touching others.
    return Q_(magnitude, _unit(unit))


# The same strings are parsed again and again (every keystroke re-screens the whole case), so
# the parse, not the quantity, is cached: (magnitude, pint unit expression) per (text, dimension).
@functools.lru_cache(maxsize=4096)
def _parsed(text: str, dimension: Dimension) -> tuple[float, str]:
    if dimension in (Dimension.LENGTH, Dimension.MASS):
        pairs = list(_PAIR.finditer(text))
        if len(pairs) > 1 and _PAIR.sub("", text).strip() == "":
            return _compound(text, pairs, dimension)
    match = _SINGLE.match(text)
    if match is None:
        raise _refuse(text, "", dimension,
                      f"is not a quantity (expected a number and a unit, e.g. "
                      f"\"{_example(dimension)}\")")
    magnitude = _magnitude(match.group("num"), text, "", dimension)
    unit = _resolve_unit(match.group("unit"), text, "", dimension)
    return float(magnitude), unit


# The only compounds a length or mass may be written as: feet then inches (below 12), pounds
# then ounces (below 16) ((larger, smaller) pint units -> how many smaller make one larger).
# Metric units are never compounded ("1 m 70 cm", "70 kg 500 g" are refused: write 170 cm).
_COMPOUNDS: dict[tuple[str, str], int] = {("foot", "inch"): 12, ("pound", "ounce"): 16}
_COMPOUND_EXAMPLE = {Dimension.LENGTH: "5 ft 7 in", Dimension.MASS: "150 lb 4 oz"}


def _compound(text: str, pairs: list[re.Match[str]], dimension: Dimension) -> tuple[float, str]:
    """``"5 ft 7 in"``, ``"6 ft 0 in"``, ``"150 lb 0 oz"``: the parts added, in the larger unit.

    A part may be zero, not both. Refused: more than two parts, a unit given twice (``"85 kg
    70 kg"``), the smaller unit first, units that do not pair, and a smaller part of one larger
    unit or more (``"5 ft 14 in"``, with the normal form as suggestion).
    """
    example = _COMPOUND_EXAMPLE[dimension]
    if len(pairs) != 2:
        raise _refuse(text, "", dimension, f"has {len(pairs)} parts: a compound {dimension.value} "
                      f"has two, the larger unit first (e.g. \"{example}\")")
    numbers = [Decimal(p.group("num")) for p in pairs]
    symbols = [" ".join(p.group("unit").split()) for p in pairs]
    units = [_resolve_unit(p.group("unit"), text, "", dimension) for p in pairs]
    per = _COMPOUNDS.get((units[0], units[1]))
    if per is None:
        if units[0] == units[1]:
            reason = (f"gives {symbols[0]} twice: write one {dimension.value} "
                      f"(e.g. \"{_example(dimension)}\")")
        elif (units[1], units[0]) in _COMPOUNDS:
            raise _refuse(text, "", dimension, "has the smaller unit first",
                          suggestion=f"{pairs[1].group(0).strip()} {pairs[0].group(0).strip()}")
        else:
            reason = (f"mixes {symbols[0]} and {symbols[1]}, which do not make a compound "
                      f"{dimension.value} (e.g. \"{example}\")")
        raise _refuse(text, "", dimension, reason)
    if numbers[0] == 0 and numbers[1] == 0:
        raise _refuse(text, "", dimension, "must be greater than zero")
    if numbers[1] >= per:
        whole, rest = divmod(numbers[0] * per + numbers[1], per)
        raise _refuse(text, "", dimension,
                      f"has {numbers[1]:f} {symbols[1]}, {per} {symbols[1]} or more: carry them "
                      f"into {symbols[0]}",
                      suggestion=f"{whole:f} {symbols[0]} {rest.normalize():f} {symbols[1]}")
    total = (Q_(float(numbers[0]), _unit(units[0]))
             + Q_(float(numbers[1]), _unit(units[1])).to(_unit(units[0])))
    return float(total.magnitude), units[0]


@dataclass(frozen=True)
class BloodPressure:
    """A systolic/diastolic pair, each a pressure quantity."""

    systolic: Quantity
    diastolic: Quantity

    def mmhg(self) -> tuple[float, float]:
        """Both values in mmHg, rounded to 0.1 mmHg (the resolution rules compare at)."""
        return (round(float(self.systolic.to(_unit("millimeter_Hg")).magnitude), 1),
                round(float(self.diastolic.to(_unit("millimeter_Hg")).magnitude), 1))


def parse_blood_pressure(text: object, *, field: str = "") -> BloodPressure:
    """Parse ``"138/86 mmHg"`` or ``"18.4/11.5 kPa"`` into a :class:`BloodPressure`.

    Raises:
        UnitInputError: malformed, unitless, a non-pressure unit, systolic not above diastolic,
            or values impossible at rest (below 40/20 mmHg, local policy; ``"13/8 mmHg"`` is
            refused with ``"130/80 mmHg"`` as the suggestion: it reads like cmHg).
    """
    text = _check_text(text, field, Dimension.PRESSURE)
    try:
        systolic, diastolic, unit = _parsed_pressure(text)
    except UnitInputError as error:
        raise error.at(field) if field else error from None
    return BloodPressure(Q_(systolic, _unit(unit)), Q_(diastolic, _unit(unit)))


@functools.lru_cache(maxsize=1024)
def _parsed_pressure(text: str) -> tuple[float, float, str]:
    match = _BP.match(text)
    if match is None:
        raise _refuse(text, "", Dimension.PRESSURE,
                      "is not a blood pressure (expected systolic/diastolic and a unit, "
                      "e.g. \"138/86 mmHg\")")
    systolic = _magnitude(match.group("sys"), text, "", Dimension.PRESSURE)
    diastolic = _magnitude(match.group("dia"), text, "", Dimension.PRESSURE)
    unit = _resolve_unit(match.group("unit"), text, "", Dimension.PRESSURE)
    if systolic <= diastolic:
        raise _refuse(text, "", Dimension.PRESSURE,
                      "systolic must be higher than diastolic (are the values swapped?)")
    _check_resting_floor(text, systolic, diastolic, unit, match.group("unit").strip())
    return float(systolic), float(diastolic), unit


# Local policy, not a published limit: a blood pressure below 40/20 mmHg is incompatible with a
# conscious outpatient sitting at rest (such a patient is in shock, not in a screening chair), so
# such a value is a unit or typing slip and is refused, not screened.
RESTING_SYSTOLIC_FLOOR_MMHG = 40
"""A systolic below this (mmHg) is refused as impossible at rest (local policy)."""
RESTING_DIASTOLIC_FLOOR_MMHG = 20
"""A diastolic below this (mmHg) is refused as impossible at rest (local policy)."""
POSSIBLE_SYSTOLIC_MMHG = 350
"""No blood pressure has a systolic above this (mmHg): refused at the case boundary."""


def _check_resting_floor(text: str, systolic: Decimal, diastolic: Decimal, unit: str,
                         symbol: str) -> None:
    """Refuse a blood pressure no conscious outpatient has at rest: a unit slip, not a reading.

    ``"13/8 mmHg"`` is 13/8 cmHg as read off an old gauge (or kPa-sized numbers): refused with
    the mmHg values when ten times the numbers are a possible blood pressure.
    """
    to_mmhg = float(Q_(1, _unit(unit)).to(_unit("millimeter_Hg")).magnitude)
    # Compared at 0.1 mmHg, the resolution the rules compare at (BloodPressure.mmhg).
    if (round(float(systolic) * to_mmhg, 1) >= RESTING_SYSTOLIC_FLOOR_MMHG
            and round(float(diastolic) * to_mmhg, 1) >= RESTING_DIASTOLIC_FLOOR_MMHG):
        return
    reason = (f"is impossible at rest in {symbol} (local policy: systolic below "
              f"{RESTING_SYSTOLIC_FLOOR_MMHG} mmHg or diastolic below "
              f"{RESTING_DIASTOLIC_FLOOR_MMHG} mmHg is incompatible with a conscious outpatient)")
    suggestion = None
    tenfold = (systolic * 10, diastolic * 10)
    if (unit == "millimeter_Hg" and RESTING_SYSTOLIC_FLOOR_MMHG <= tenfold[0]
            <= POSSIBLE_SYSTOLIC_MMHG and tenfold[1] >= RESTING_DIASTOLIC_FLOOR_MMHG):
        mmhg = f"{tenfold[0].normalize():f}/{tenfold[1].normalize():f} mmHg"
        reason += f"; was it cmHg? {systolic:f}/{diastolic:f} cmHg = {mmhg}"
        suggestion = mmhg
    raise _refuse(text, "", Dimension.PRESSURE, reason, suggestion=suggestion)


def magnitude_in(value: Quantity, unit: str) -> float:
    """The magnitude of ``value`` expressed in ``unit`` (a pint unit expression)."""
    return float(value.to(_unit(unit)).magnitude)
