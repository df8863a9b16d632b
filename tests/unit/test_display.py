"""ISMP-safe display of numbers and quantities."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketascreen.display import format_number, format_quantity, ismp_violations
from ketascreen.units import Q_


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (42.41, 1, "42.4"), (42.45, 1, "42.5"), (1.0, 2, "1"), (0.5, 2, "0.5"), (0.85, 2, "0.85"),
    (151.2, 1, "151.2"), (1500, 0, "1,500"), (1234567.891, 2, "1,234,567.89"), (0.004, 2, "0"),
    (40.0, 1, "40"), (100.8, 1, "100.8"), (Decimal("2.50"), 2, "2.5"),
])
def test_format_number(value: float, decimals: int, expected: str) -> None:
    """Leading zero, no trailing zero, half-up rounding, comma thousands."""
    assert format_number(value, decimals) == expected


def test_format_quantity_uses_ismp_symbols() -> None:
    """Quantities are shown in mL, mcg and mg/kg, converted as needed."""
    assert format_quantity(Q_(0.85, "milliliter"), "mL") == "0.85 mL"
    assert format_quantity(Q_(0.25, "milligram"), "mcg") == "250 mcg"
    assert format_quantity(Q_(151.2, "milliliter/hour"), "mL/h", 1) == "151.2 mL/h"


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False), st.integers(0, 3))
def test_formatted_numbers_are_ismp_clean(value: float, decimals: int) -> None:
    """Whatever the number, the formatter never produces a forbidden notation."""
    text = format_number(value, decimals) + " mg"
    assert ismp_violations(text) == []
    assert not text.startswith(".")


@pytest.mark.parametrize("text", ["1.0 mg", "42.40 mg", ".5 mg", "5 cc", "250 µg", "10 U",
                                  "give qd"])
def test_violations_are_detected(text: str) -> None:
    """Each forbidden notation is caught by the checker the PDF tests use."""
    assert ismp_violations(text)


@pytest.mark.parametrize("text", ["42.4 mg", "0.5 mg", "1 mg", "1,500 units",
                                  "rule set 2026.11.0", "10 units"])
def test_clean_text_passes(text: str) -> None:
    """Safe notations and version strings are not flagged."""
    assert ismp_violations(text) == []
