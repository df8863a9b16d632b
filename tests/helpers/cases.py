"""Case builders shared by the tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
EXAMPLE_CASE = SHARED / "spec" / "examples" / "case-example.json"
FHIR_SAMPLES = SHARED / "fhir-samples"

_EXAMPLE: dict[str, Any] = json.loads(EXAMPLE_CASE.read_text(encoding="utf-8"))

CLEAN_CASE: dict[str, Any] = copy.deepcopy(_EXAMPLE)
CLEAN_CASE["medications"] = [
    {"text": "Sertraline 100 MG Oral Tablet",
     "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "312941",
     "status": "active"},
]
CLEAN_CASE["measurements"] = {"weight": "70 kg", "height": "170 cm",
                              "blood_pressure": "120/80 mmHg", "heart_rate": "72 /min",
                              "spo2": "98 %"}
"""A complete 47-year-old woman with no finding at all: the base every rule vector patches."""


def example_case() -> dict[str, Any]:
    """A fresh copy of the spec's example case."""
    return copy.deepcopy(_EXAMPLE)


def clean_case() -> dict[str, Any]:
    """A fresh copy of :data:`CLEAN_CASE`."""
    return copy.deepcopy(CLEAN_CASE)


def patched(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with dotted paths set (``"measurements.weight"``); ``None`` deletes the key."""
    case = copy.deepcopy(base)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = case
        for part in parents:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = copy.deepcopy(value)
    return case
