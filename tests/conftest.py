"""Test configuration: offscreen Qt, and fixtures shared by the whole suite."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
EXAMPLE_CASE = SHARED / "spec" / "examples" / "case-example.json"


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
def clean_case() -> dict[str, Any]:
    """A complete case with no finding at all: the base every rule vector patches."""
    return copy.deepcopy(CLEAN_CASE)


CLEAN_CASE: dict[str, Any] = json.loads(EXAMPLE_CASE.read_text(encoding="utf-8"))
CLEAN_CASE["medications"] = [
    {"text": "Sertraline 100 MG Oral Tablet",
     "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "312941",
     "status": "active"},
]
CLEAN_CASE["measurements"]["height"] = "170 cm"
CLEAN_CASE["measurements"]["weight"] = "70 kg"
CLEAN_CASE["measurements"]["blood_pressure"] = "120/80 mmHg"
