"""Test configuration: offscreen Qt, and fixtures shared by the whole suite."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import

from tests.helpers.cases import EXAMPLE_CASE, clean_case


def pytest_addoption(parser: pytest.Parser) -> None:
    """Without pytest-qt (the headless run, `make test-headless`), accept its ini key."""
    if importlib.util.find_spec("pytestqt") is None:
        parser.addini("qt_api", "pytest-qt's Qt binding (pytest-qt is not installed here)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark Qt tests as gui, and keep them in tests/ui/."""
    for item in items:
        if "qapp" in getattr(item, "fixturenames", ()):
            item.add_marker("gui")
            if "tests/ui/" not in item.nodeid:
                raise pytest.UsageError(f"{item.nodeid}: Qt test outside tests/ui/")


@pytest.fixture
def example_case_path() -> Path:
    """The example case shipped with the spec."""
    return EXAMPLE_CASE


@pytest.fixture
def clean() -> dict[str, Any]:
    """A complete case with no finding: see tests.helpers.cases.CLEAN_CASE."""
    return clean_case()
