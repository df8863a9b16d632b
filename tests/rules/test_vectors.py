"""Named test vectors per rule (tests/rules/vectors/KS-*.toml), both sides of every threshold."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from ketascreen.api import parse_case
from ketascreen.screening import rule_set_in_force as default_ruleset
from ketascreen.screening import screen
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


@pytest.mark.parametrize(("rule_id", "vector"), _vectors())
def test_vector(rule_id: str, vector: dict[str, Any]) -> None:
    """The rule fires, or stays silent, exactly as the vector says."""
    case = parse_case(patched(clean_case(), vector.get("set", {})))
    result = screen(case)
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
