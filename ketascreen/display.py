"""ISMP-safe display of numbers and quantities: the one formatter for every number shown.

Rules applied (ISMP list of error-prone abbreviations, symbols and dose designations, R131-R134):
a leading zero before a decimal point (``0.5 mg``, never ``.5 mg``), no trailing zero (``1 mg``,
never ``1.0 mg``), a space between number and unit, ``mL`` and ``mcg`` (never ``cc`` or ``µg``),
and thousands separators from 1,000 up.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from ketascreen.units import Quantity, magnitude_in, ureg

# ISMP display symbol -> pint unit expression.
_SYMBOLS: dict[str, str] = {
    "kg": "kilogram", "g": "gram", "mg": "milligram", "mcg": "microgram", "lb": "pound",
    "cm": "centimeter", "m": "meter", "in": "inch",
    "mmHg": "millimeter_Hg", "kPa": "kilopascal",
    "/min": "1/minute", "%": "percent",
    "min": "minute", "h": "hour",
    "mL": "milliliter", "L": "liter",
    "mg/mL": "milligram/milliliter", "mcg/mL": "microgram/milliliter",
    "mg/kg": "milligram/kilogram", "mcg/kg": "microgram/kilogram",
    "mg/kg/h": "milligram/kilogram/hour", "mg/h": "milligram/hour", "mL/h": "milliliter/hour",
    "kg/m²": "kilogram/meter**2",
}


def format_number(value: float | int | Decimal, decimals: int = 2) -> str:
    """Format a number per ISMP: rounded half-up to ``decimals`` places, no trailing zero,
    a leading zero, and comma thousands separators.

    >>> format_number(42.4049, 1), format_number(1.0), format_number(0.5), format_number(1500)
    ('42.4', '1', '0.5', '1,500')
    """
    number = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    step = Decimal(1).scaleb(-decimals)
    rounded = number.quantize(step, rounding=ROUND_HALF_UP)
    if rounded == 0:
        return "0"
    text = f"{rounded:,.{decimals}f}" if decimals > 0 else f"{rounded:,.0f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_quantity(value: Quantity, symbol: str, decimals: int = 2) -> str:
    """Format ``value`` converted to the ISMP display unit ``symbol`` (e.g. ``"mg"``, ``"mL/h"``).

    Raises:
        KeyError: ``symbol`` is not a display unit this module knows.
    """
    return f"{format_number(magnitude_in(value, _SYMBOLS[symbol]), decimals)} {symbol}"


def format_threshold(value: object) -> str:
    """A policy threshold for display: a quantity in its ISMP display unit (``140 mmHg``,
    ``90 %``, ``50 /min``), a plain number as it is (``12``).

    Raises:
        TypeError: ``value`` is neither a number nor a pint quantity.
    """
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return format_number(value)
    if not isinstance(value, ureg.Quantity):
        raise TypeError(f"not a threshold: {value!r}")
    if not _UNITS:
        _UNITS.update({symbol: ureg.Unit(unit) for symbol, unit in _SYMBOLS.items()})
    for symbol, unit in _UNITS.items():
        if value.units == unit:
            return f"{format_number(float(value.magnitude), 2)} {symbol}"
    return f"{format_number(float(value.magnitude), 2)} {value.units:~P}"


_UNITS: dict[str, object] = {}


def format_local_time(moment: datetime, zone: tzinfo | None = None) -> str:
    """A time as the clinic reads it: local time with its UTC offset, to the minute, e.g.
    ``2026-12-05 09:14 -05:00``. A naive time is taken as the clinic's (this computer's)
    local time; an aware one is converted to it (or to ``zone`` when given).
    """
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


_FORBIDDEN: list[tuple[str, re.Pattern[str]]] = [
    ("trailing zero", re.compile(r"(?<![\d.,])\d[\d,]*\.\d*0(?![\d])")),
    ("naked decimal point", re.compile(r"(?<![\w.])\.\d")),
    ("'cc'", re.compile(r"(?<![A-Za-z])cc(?![A-Za-z])")),
    ("'µg'", re.compile(r"[µμ]g")),
    ("'U' for units", re.compile(r"(?<=\d) ?(?:U|IU)(?![A-Za-z])")),
    ("'qd'", re.compile(r"(?<![A-Za-z])q\.?d\.?(?![A-Za-z])", re.IGNORECASE)),
]


def ismp_violations(text: str) -> list[str]:
    """Names and excerpts of ISMP-forbidden notations found in ``text`` (empty if clean).

    Used by the tests and as a last check on every rendered document. Version strings such as
    ``2026.11.0`` and hexadecimal hashes are not dose designations and are skipped.
    """
    cleaned = re.sub(r"\b\d+\.\d+\.\d+(?:[-.\w]*)", " ", text)
    cleaned = re.sub(r"\b[0-9A-Fa-f]{8,}\b", " ", cleaned)  # hashes and record ids
    found: list[str] = []
    for name, pattern in _FORBIDDEN:
        for match in pattern.finditer(cleaned):
            start = max(0, match.start() - 12)
            found.append(f"{name}: ...{cleaned[start:match.end() + 12]}...")
    return found
