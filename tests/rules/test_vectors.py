"""Named test vectors per rule (tests/rules/vectors/KS-*.toml), both sides of every threshold.

A vector screens a case: :data:`~tests.helpers.cases.CLEAN_CASE` with the dotted paths of its
``[vector.set]`` table set. A vector of a day-of rule screens an infusion of a course instead,
when it has a ``[vector.course]`` table (it may be empty): the example course
(``tests/course/data/course-example.json``, three infusions, no finding at infusion 3) with
these keys applied, in this order:

- ``repeat_last = ["2026-12-04T09:00", ...]``: append a copy of the last infusion per start
  (numbered on, its fasting times moved with its start, no monitoring or discharge);
- every other key is a dotted path set as in ``[vector.set]``; a number indexes a list
  (``"infusions.2.pre.escort"``) and an index one past the end appends;
- ``unset = ["infusions.2.pre.phq9", ...]``: remove these keys (TOML has no null), last.

``infusion`` and ``last_signed`` (top-level keys of the vector) choose the infusion screened
(default: the last) and the last signed checklist (default: the infusion before it).
"""

from __future__ import annotations

import copy
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ketascreen.api import parse_case
from ketascreen.models.parsing import parse_course
from ketascreen.models.result import Result
from ketascreen.screening import rule_set_in_force as default_ruleset
from ketascreen.screening import run_course, screen
from tests.course.helpers import example_course
from tests.helpers.cases import clean_case, patched

VECTORS = Path(__file__).parent / "vectors"


def _vectors() -> list[Any]:
    params = []
    for path in sorted(VECTORS.glob("KS-*.toml")):
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        assert doc["rule"] == path.stem, f"{path.name} declares rule {doc['rule']}"
        for vector in doc["vector"]:
            params.append(pytest.param(doc["rule"], vector, id=f"{doc['rule']}: {vector['name']}"))
    return params


def _set(document: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        index = int(last)
        if index == len(node):
            node.append(copy.deepcopy(value))
        else:
            node[index] = copy.deepcopy(value)
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = copy.deepcopy(value)


def _moved(text: str | None, by: Any) -> str | None:
    return None if text is None else (datetime.fromisoformat(text) + by).isoformat(
        timespec="minutes")


def vector_course(changes: dict[str, Any]) -> dict[str, Any]:
    """The example course with a vector's ``[vector.course]`` keys applied."""
    course = example_course()
    changes = dict(changes)
    for start in changes.pop("repeat_last", []):
        last = copy.deepcopy(course["infusions"][-1])
        by = datetime.fromisoformat(start) - datetime.fromisoformat(last["start"])
        last.update(number=last["number"] + 1, start=start, monitoring=[], rescue=[])
        last.pop("discharge", None)
        for name in ("last_solids", "last_clear_fluids"):
            last["pre"][name] = _moved(last["pre"].get(name), by)
        course["infusions"].append(last)
    unset = changes.pop("unset", [])
    for path, value in changes.items():
        _set(course, path, value)
    for path in unset:
        _set(course, path, None)
    return course


def _result(vector: dict[str, Any]) -> Result:
    if "course" in vector:
        course = parse_course(vector_course(vector["course"]))
        return run_course(course, infusion=vector.get("infusion"),
                          last_signed=vector.get("last_signed")).result
    return screen(parse_case(patched(clean_case(), vector.get("set", {}))))


@pytest.mark.parametrize(("rule_id", "vector"), _vectors())
def test_vector(rule_id: str, vector: dict[str, Any]) -> None:
    """The rule fires, or stays silent, exactly as the vector says."""
    result = _result(vector)
    fired = [f for f in result.findings if f.rule_id == rule_id]
    assert bool(fired) == vector["fires"], (
        f"{rule_id} {'did not fire' if vector['fires'] else 'fired'}: "
        f"{[(f.rule_id, f.basis) for f in result.findings]}")
    if fired:
        finding = fired[0]
        for text in vector.get("basis_contains", []):
            assert text in finding.basis
        if "severity" in vector:
            assert finding.severity == vector["severity"]
        if "acknowledged" in vector:
            assert finding.acknowledged == vector["acknowledged"]
    if "decision" in vector:
        assert result.decision == vector["decision"]


def test_every_rule_has_vectors_on_both_sides() -> None:
    """Each rule of the catalogue has a vector that fires it and one that does not."""
    covered: dict[str, set[bool]] = {}
    for path in VECTORS.glob("KS-*.toml"):
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        covered[doc["rule"]] = {v["fires"] for v in doc["vector"]}
    for rule in default_ruleset().catalogue.rules:
        assert covered.get(rule.id) == {True, False}, f"{rule.id} lacks a firing or silent vector"
