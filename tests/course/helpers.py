"""Course builders shared by the course tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

COURSE_EXAMPLE = Path(__file__).resolve().parent / "data" / "course-example.json"
"""The spec's example course (course-format.md) with the spec's example case as its screening,
and two more infusions across the November/December month end."""

_EXAMPLE: dict[str, Any] = json.loads(COURSE_EXAMPLE.read_text(encoding="utf-8"))


def example_course() -> dict[str, Any]:
    """A fresh copy of the example course."""
    return copy.deepcopy(_EXAMPLE)


def course_with(changes: dict[str, Any]) -> dict[str, Any]:
    """The example course with paths set: ``"infusions.2.pre.phq9"`` (a number indexes a list);
    ``None`` deletes the key."""
    course = example_course()
    for path, value in changes.items():
        *parents, last = path.split(".")
        node: Any = course
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = copy.deepcopy(value)
        elif value is None:
            node.pop(last, None)
        else:
            node[last] = copy.deepcopy(value)
    return course
