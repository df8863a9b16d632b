"""A clinic's own policy file changes severities and thresholds, and the result says which."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from ketascreen.api import parse_case
from ketascreen.rules import RuleSet, default_ruleset
from ketascreen.rules.engine import POLICY_ENV
from tests.helpers.cases import clean_case, patched

SHIPPED = resources.files("ketascreen.knowledge").joinpath("data", "policy.toml").read_text(
    encoding="utf-8")


def _clinic_policy(tmp_path: Path) -> Path:
    path = tmp_path / "clinic-policy.toml"
    path.write_text(SHIPPED.replace('version = "2026.11.0-default"', 'version = "clinic-7"')
                    .replace('"bipolar-disorder" = "relative"', '"bipolar-disorder" = "absolute"')
                    .replace('hypertension_elevated_systolic = "140 mmHg"',
                             'hypertension_elevated_systolic = "150 mmHg"'), encoding="utf-8")
    return path


def test_clinic_policy_changes_severity_threshold_and_hash(tmp_path: Path) -> None:
    """Stricter bipolar, looser BP threshold; the rule-set hash changes with the policy."""
    clinic = RuleSet(policy_path=_clinic_policy(tmp_path))
    shipped = default_ruleset()
    bipolar = parse_case(patched(clean_case(), {"history.bipolar-disorder": "yes"}))
    assert shipped.screen(bipolar).decision == "needs-review"
    assert clinic.screen(bipolar).decision == "do-not-infuse"
    pressure = parse_case(patched(clean_case(), {"measurements.blood_pressure": "145/80 mmHg"}))
    assert shipped.screen(pressure).decision == "needs-review"
    assert clinic.screen(pressure).decision == "clear"
    assert clinic.info.sha256 != shipped.info.sha256
    assert clinic.policy.version == "clinic-7"
    assert ("Clinic policy", f"clinic-7 sha256 {clinic.policy.sha256}") in clinic.versions


def test_policy_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$KETASCREEN_POLICY points the program at the clinic's file."""
    monkeypatch.setenv(POLICY_ENV, str(_clinic_policy(tmp_path)))
    default_ruleset.cache_clear()
    try:
        assert default_ruleset().policy.version == "clinic-7"
    finally:
        monkeypatch.delenv(POLICY_ENV)
        default_ruleset.cache_clear()
