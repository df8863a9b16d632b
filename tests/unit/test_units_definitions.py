"""The program's registry (``ketascreen/units.txt``) against pint's default one.

The registry is built from the lines of pint's default definition file for the units the program
uses, not from the whole file (a faster start). These tests check that nothing the program does
with a unit can tell the two apart: every spelling in ``units._SPELLINGS``, every unit the
display, the dose types and the inverse check name, and every unit expression written in the
code give the same names, symbols, formats, dimensions, conversion factors (float for float),
products and quotients in both; and that a unit-like word in the code that pint's file knows but
this one does not is on the short list of words that are text, not units.
"""

from __future__ import annotations

import ast
import itertools
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pint
import pytest

from ketascreen import display, units
from ketascreen.dosing import inverse
from ketascreen.models import case as case_model
from ketascreen.units import _SPELLINGS, ureg

PACKAGE = Path(units.__file__).parent
DEFAULT = pint.UnitRegistry()
"""pint's own registry from its whole default file: the reference (used only in this test)."""

_PINT_CALLS = frozenset({"Q_", "Quantity", "Unit", "parse_units", "get_dimensionality",
                         "quantity", "_unit", "to", "m_as", "magnitude_in", "in_unit",
                         "quantity_of", "parse_expression"})
"""Functions and methods whose string arguments are pint unit expressions."""

TEXT_NOT_UNITS = frozenset({
    "A", "D", "MD", "MR", "R", "T", "U", "Zl", "are", "as", "at", "b", "bp", "bytes", "cc", "d",
    "dad", "day", "days", "db", "dbp", "dr", "fh", "has", "mass", "md", "pa", "pint", "point",
    "rb", "t", "unit", "units", "weeks", "years",
})
"""Words in the code that pint's default file reads as units but that the program uses as text
(codes, labels, keys, refused ISMP spellings): never handed to pint as a unit."""

_UNIT_LIKE = re.compile(r"^[A-Za-z_]+(?:\s*(?:/|\*\*?)\s*[A-Za-z_0-9]+)*$")


def _same(ours: Any, theirs: Any) -> bool:
    if isinstance(ours, float) and isinstance(theirs, float):
        return ours.hex() == theirs.hex()
    return bool(type(ours) is type(theirs) and ours == theirs)


def _outcome(registry: pint.UnitRegistry[Any], action: Any) -> tuple[str, Any]:
    try:
        return "value", action(registry)
    except Exception as error:  # noqa: BLE001 - the same refusal is part of the same behaviour
        return "error", type(error).__name__


def _string_constants() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def _pint_call_arguments() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in _PINT_CALLS:
                found.update(arg.value for arg in node.args
                             if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    return found


def _used_expressions() -> list[str]:
    used = {expression for spellings in _SPELLINGS.values() for expression in spellings.values()}
    used |= set(display._SYMBOLS.values())
    used |= set(inverse._UNITS)
    used |= {unit for _, _, unit, _ in case_model._POSSIBLE.values()}
    used |= {text for text in _pint_call_arguments()
             if text not in TEXT_NOT_UNITS and not text.startswith("[")
             and _outcome(DEFAULT, lambda r, t=text: r.parse_units(t))[0] == "value"}
    used |= {"kelvin", "degC", "delta_degC", "dimensionless"}  # what the tests hand pint
    return sorted(used)


USED = _used_expressions()
DIMENSIONS = sorted(
    text for text in _string_constants() if "[" in text and re.fullmatch(r"[\w\[\]/* ]+", text)
    and _outcome(DEFAULT, lambda r, t=text: r.get_dimensionality(t))[0] == "value")
"""Every dimension written in the code (``[mass]``, ``1/[time]``, ``[]`` ...)."""
FORMATS = ("", "~", "P", "~P", "C", "~C", "D", "~D", "H", "~H", "L", "~L")
MAGNITUDES = (1, 3, 0.1, 1e-3, 72.5, 187.0, 84.82177319000002, 13595.1)


def test_the_program_has_one_registry_built_from_its_definitions() -> None:
    """pint's registry class, from units.txt, shared by the module's Quantity."""
    assert isinstance(ureg, pint.UnitRegistry)
    assert units.Q_ is ureg.Quantity
    assert units.DEFINITIONS.is_file() and units.DEFINITIONS.parent == PACKAGE
    assert ureg.default_system == DEFAULT.default_system == "mks"


def test_the_dimensions_named_in_the_code_are_pints() -> None:
    """``[mass]``, ``1/[time]``, ``[]`` ...: the same dimensionality in both registries, and a
    quantity of each unit compared with each the same way."""
    assert {"[mass]", "[time]", "1/[time]", "[]"} <= set(DIMENSIONS)
    for name in DIMENSIONS:
        assert ureg.get_dimensionality(name) == DEFAULT.get_dimensionality(name), name
        for expression in USED:
            assert (ureg.Unit(expression).dimensionality == ureg.get_dimensionality(name)) == \
                (DEFAULT.Unit(expression).dimensionality == DEFAULT.get_dimensionality(name))


def test_the_expressions_cover_what_the_program_names() -> None:
    """The list compared below holds every spelling's unit and the units written in the code."""
    assert {"milligram/kilogram/hour", "millimeter_Hg", "kilopascal", "1/minute", "pound",
            "kilogram/meter**2", "kilogram/inch", "milliliter/hour", "percent"} <= set(USED)
    assert len(USED) > 40


def test_every_unit_like_word_in_the_code_is_defined_or_is_text() -> None:
    """A word of the code that pint's default file reads as a unit is read the same way here,
    or it is one of the words used as text; a unit added to the code without its definition
    fails here."""
    missing = []
    for text in sorted({constant.strip() for constant in _string_constants()}):
        if text in TEXT_NOT_UNITS or not _UNIT_LIKE.match(text):
            continue
        theirs = _outcome(DEFAULT, lambda r, t=text: str(r.parse_units(t)))
        if theirs[0] == "value" and _outcome(ureg, lambda r, t=text: str(r.parse_units(t))) != \
                theirs:
            missing.append(text)
    assert missing == [], missing


def test_text_words_are_text_in_pint_too_for_the_other_side() -> None:
    """The other side of the list above: each word on it is a unit in pint's default file (the
    reason it is listed) and undefined here, so it would fail loudly if handed to pint."""
    for word in TEXT_NOT_UNITS:
        assert _outcome(DEFAULT, lambda r, w=word: r.parse_units(w))[0] == "value", word
        assert _outcome(ureg, lambda r, w=word: r.parse_units(w)) == \
            ("error", "UndefinedUnitError"), word


@pytest.mark.parametrize("expression", USED)
def test_a_unit_is_named_formatted_and_dimensioned_as_pint_does(expression: str) -> None:
    """Name, every format, dimensionality, base and root units of each expression."""
    def facts(registry: pint.UnitRegistry[Any]) -> list[Any]:
        unit = registry.Unit(expression)
        quantity = registry.Quantity(72.5, unit)
        out: list[Any] = [str(unit), repr(unit), str(unit.dimensionality), unit.dimensionless]
        out += [format(unit, spec) for spec in FORMATS]
        out += [format(quantity, spec) for spec in FORMATS]
        for method in ("to_base_units", "to_root_units"):
            converted = _outcome(registry, lambda r, m=method: getattr(quantity, m)())
            out.append(converted if converted[0] == "error"
                       else (converted[1].magnitude.hex(), str(converted[1].units)))
        return out

    assert facts(ureg) == facts(DEFAULT)


def _by_dimension() -> list[tuple[str, str]]:
    dimension = {e: str(DEFAULT.Unit(e).dimensionality) for e in USED}
    return [(a, b) for a, b in itertools.product(USED, USED) if dimension[a] == dimension[b]]


@pytest.mark.parametrize(("source", "target"), _by_dimension())
def test_a_conversion_gives_the_same_float(source: str, target: str) -> None:
    """Every conversion between two units of one dimension, for several magnitudes (ints,
    floats, a Decimal): the same float bit for bit, or the same refusal."""
    for magnitude in (*MAGNITUDES, Decimal("72.5")):
        def convert(registry: pint.UnitRegistry[Any], m: Any = magnitude) -> Any:
            quantity = registry.Quantity(m, registry.Unit(source))
            converted = quantity.to(target)
            return converted.magnitude, str(converted.units), quantity.m_as(target)

        ours, theirs = _outcome(ureg, convert), _outcome(DEFAULT, convert)
        assert ours[0] == theirs[0] and all(
            _same(a, b) for a, b in zip(ours[1], theirs[1], strict=True)) \
            if ours[0] == "value" else ours == theirs, (magnitude, ours, theirs)


def test_products_and_quotients_are_the_same() -> None:
    """The product and quotient of every pair of units: their unit name, dimension and the
    magnitude in root units, float for float."""
    plain = [e for e in USED if "deg" not in e]  # offset units do not multiply in either
    for left, right in itertools.product(plain, plain):
        def combine(registry: pint.UnitRegistry[Any], left: str = left,
                    right: str = right) -> list[Any]:
            a = registry.Quantity(2.5, registry.Unit(left))
            b = registry.Quantity(1.5, registry.Unit(right))
            out: list[Any] = []
            for result in (a * b, a / b):
                root = result.to_root_units()
                out += [str(result.units), str(result.dimensionality), root.magnitude.hex(),
                        str(root.units)]
            return out

        assert combine(ureg) == combine(DEFAULT), (left, right)


@pytest.mark.parametrize(("dimension", "spelling"),
                         [(d, s) for d, spellings in _SPELLINGS.items() for s in spellings])
def test_every_accepted_spelling_parses_to_pints_quantity(dimension: units.Dimension,
                                                          spelling: str) -> None:
    """parse_quantity of each accepted spelling gives the quantity pint's default registry
    gives for the same magnitude and unit: magnitude, unit name and display."""
    parsed = units.parse_quantity(f"72.5 {spelling}", dimension, field="value")
    reference = DEFAULT.Quantity(72.5, DEFAULT.Unit(_SPELLINGS[dimension][spelling]))
    assert (str(parsed.magnitude), str(parsed.units), f"{parsed:~P}") == \
        (str(reference.magnitude), str(reference.units), f"{reference:~P}")
