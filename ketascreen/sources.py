"""Telling a ketascreen case file from a FHIR record, cheaply and without guessing."""

from __future__ import annotations

import json
from pathlib import Path


def is_fhir_source(path: Path) -> bool:
    """Whether ``path`` is a FHIR record rather than a ``ketascreen-case/1`` file.

    A folder is a FHIR record (one resource per file). A file is FHIR when its top-level JSON
    object has a ``resourceType`` and no ``format`` key. Anything else, including unreadable or
    invalid JSON, is treated as a case file, whose loader then reports the problem by field.
    """
    if path.is_dir():
        return True
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "resourceType" in data and "format" not in data
