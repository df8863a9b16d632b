"""The concept vocabulary in code matches spec/concepts.md, and the policy covers it."""

from __future__ import annotations

import re
from typing import get_args

from ketascreen.concepts import (
    ABUSE_RISK_CONCEPTS,
    ALL_CONCEPTS,
    DATA_CONCEPTS,
    DERIVED_CONCEPTS,
    DOSE_CONCEPTS,
    HISTORY_CONCEPTS,
    MEDICATION_CLASSES,
    HistoryConcept,
)
from ketascreen.rules.policy import load_policy
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
    assert list(get_args(HistoryConcept)) == list(HISTORY_CONCEPTS)


def test_default_policy_severities_match_spec() -> None:
    """The shipped policy gives each concept the default severity of concepts.md."""
    policy = load_policy()
    for line in SPEC.splitlines():
        match = re.match(r"^\| `([a-z0-9-]+)` \| [^|]+ \| (absolute|relative|info)", line)
        if match:
            assert policy.severity[match.group(1)] == match.group(2), match.group(1)
    assert policy.severity["abuse-risk.high"] == "relative"
    assert policy.severity["abuse-risk.moderate"] == "info"
    assert all(c in policy.severity for c in ALL_CONCEPTS if c != "abuse-risk")
