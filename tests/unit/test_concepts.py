"""The concept vocabulary in code matches spec/concepts.md, and the policy covers it."""

from __future__ import annotations

import re
from typing import get_args

from ketascreen.concepts import (
    ABUSE_RISK_CONCEPTS,
    ALL_CONCEPTS,
    DATA_CONCEPTS,
    DAY_OF_CONCEPTS,
    DERIVED_CONCEPTS,
    DOSE_CONCEPTS,
    HISTORY_CONCEPTS,
    INFUSION_DATA_CONCEPTS,
    MEDICATION_CLASSES,
    VITAL_SIGN_CONCEPTS,
    HistoryConcept,
)
from ketascreen.knowledge.policy import load_policy
from tests.helpers.cases import SHARED

SPEC = (SHARED / "spec" / "concepts.md").read_text(encoding="utf-8")


def _section(heading: str) -> list[str]:
    part = SPEC.split(heading, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z0-9-]+)` \|", part, flags=re.MULTILINE)


def test_vocabulary_matches_spec() -> None:
    """Every table of concepts.md is reproduced exactly, in order."""
    assert list(HISTORY_CONCEPTS) == _section("## History concepts")
    assert list(DERIVED_CONCEPTS) == _section("## Concepts derived from the case")
    assert list(MEDICATION_CLASSES) == _section("## Medication concepts")
    assert list(ABUSE_RISK_CONCEPTS) == _section("## Abuse-risk concept")
    assert list(DATA_CONCEPTS) == _section("## Data concepts")
    assert list(DOSE_CONCEPTS) == _section("## Dose concepts")
    assert list(VITAL_SIGN_CONCEPTS) == _section("## Vital-sign concepts")
    # The day-of table's `pregnancy` row is the derived concept, firing on a positive test too.
    day_of = _section("## Day-of concepts")
    assert list(DAY_OF_CONCEPTS) == [c for c in day_of if c != "pregnancy"]
    assert "pregnancy" in day_of
    infusion_data = SPEC.split("Data concepts of an infusion", 1)[1]
    assert list(INFUSION_DATA_CONCEPTS) == re.findall(r"`(missing-[a-z0-9-]+)`", infusion_data)
    assert list(get_args(HistoryConcept)) == list(HISTORY_CONCEPTS)


# The sections of concepts.md with a default severity column (the day-of table's `pregnancy`
# row is the derived concept, absolute in both).
IMPLEMENTED_SECTIONS = (
    "## History concepts", "## Concepts derived from the case", "## Medication concepts",
    "## Abuse-risk concept", "## Data concepts", "## Dose concepts", "## Vital-sign concepts",
    "## Day-of concepts",
)


def _section_rows(heading: str) -> list[tuple[str, str]]:
    part = SPEC.split(heading, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z0-9-]+)` \| [^|]+ \| (absolute|relative|info)", part,
                      flags=re.MULTILINE)


def test_default_policy_severities_match_spec() -> None:
    """The shipped policy gives each concept the default severity of concepts.md."""
    policy = load_policy()
    rows = [row for heading in IMPLEMENTED_SECTIONS for row in _section_rows(heading)]
    # Data concepts have no severity column (they block); abuse-risk has tiers (below).
    assert {c for c, _ in rows} >= (set(VITAL_SIGN_CONCEPTS) | set(HISTORY_CONCEPTS)
                                    | set(DAY_OF_CONCEPTS))
    for concept, severity in rows:
        assert policy.severity[concept] == severity, concept
    assert policy.severity["abuse-risk.high"] == "relative"
    assert policy.severity["abuse-risk.moderate"] == "info"
    assert all(c in policy.severity for c in ALL_CONCEPTS if c != "abuse-risk")
    # Every data concept of an infusion blocks (the PHQ-9 only at infusion 1: concepts.md).
    assert set(INFUSION_DATA_CONCEPTS) <= policy.blocking_data
    assert policy.severity["missing-phq9.later"] == "info"
