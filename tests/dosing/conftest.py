"""Fixtures of the dosing tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ketascreen.knowledge.formulary import Formulary
from tests.dosing.support import FORMULARY, SHIPPED_FORMULARY


@pytest.fixture
def formulary() -> Formulary:
    """The shipped formulary."""
    return FORMULARY


@pytest.fixture
def edited_formulary(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a copy of the shipped formulary with one text replaced; returns its path."""
    def write(old: str, new: str) -> Path:
        text = SHIPPED_FORMULARY.read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in the shipped formulary"
        path = tmp_path / "formulary.toml"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path
    return write
