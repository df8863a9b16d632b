"""A clinic's own policy file changes severities and thresholds, and the result says which."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from ketascreen.api import parse_case
from ketascreen.errors import ClinicFileConflictError, KnowledgeBaseError
from ketascreen.rules import RuleSet
from ketascreen.screening import (
    FORMULARY_ENV,
    POLICY_ENV,
    ClinicFiles,
    rule_set_in_force,
    screen,
)
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
    shipped = rule_set_in_force()
    bipolar = parse_case(patched(clean_case(), {"history.bipolar-disorder": "yes"}))
    assert screen(bipolar, rules=shipped).decision == "needs-review"
    assert screen(bipolar, rules=clinic).decision == "do-not-infuse"
    pressure = parse_case(patched(clean_case(), {"measurements.blood_pressure": "145/80 mmHg"}))
    assert screen(pressure, rules=shipped).decision == "needs-review"
    assert screen(pressure, rules=clinic).decision == "clear"
    assert clinic.info.sha256 != shipped.info.sha256
    assert clinic.policy.version == "clinic-7"
    assert ("Clinic policy", f"clinic-7 sha256 {clinic.policy.sha256}") in clinic.versions


def test_policy_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$KETASCREEN_POLICY points the program at the clinic's file."""
    monkeypatch.setenv(POLICY_ENV, str(_clinic_policy(tmp_path)))
    assert rule_set_in_force().policy.version == "clinic-7"
    monkeypatch.delenv(POLICY_ENV)
    # loaded per content: without the variable the shipped policy is in force again
    assert rule_set_in_force().policy.version == "2026.11.0-default"


def test_database_files_come_before_the_shipped_ones(tmp_path: Path) -> None:
    """A policy installed in the records database (passed in as bytes) is the one in force; a
    rule set is loaded once per content."""
    content = _clinic_policy(tmp_path).read_bytes()
    clinic = rule_set_in_force(ClinicFiles(policy=content))
    assert clinic.policy.version == "clinic-7"
    assert rule_set_in_force(ClinicFiles(policy=content)) is clinic
    assert rule_set_in_force(ClinicFiles()) is rule_set_in_force()
    assert rule_set_in_force().policy.version == "2026.11.0-default"
    bipolar = parse_case(patched(clean_case(), {"history.bipolar-disorder": "yes"}))
    assert screen(bipolar, rules=clinic).decision == "do-not-infuse"


def test_database_and_environment_file_of_one_kind_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A policy in the database and another named by $KETASCREEN_POLICY: no silent choice, a
    typed error naming both; a formulary from the environment beside a database policy is
    fine."""
    path = _clinic_policy(tmp_path)
    monkeypatch.setenv(POLICY_ENV, str(path))
    with pytest.raises(ClinicFileConflictError) as caught:
        rule_set_in_force(ClinicFiles(policy=SHIPPED.encode()))
    assert caught.value.kind == "policy"
    assert caught.value.variable == POLICY_ENV
    assert caught.value.file == str(path)
    assert str(path) in str(caught.value) and "records database" in str(caught.value)
    assert isinstance(caught.value, KnowledgeBaseError)
    monkeypatch.delenv(POLICY_ENV)
    formulary = resources.files("ketascreen.knowledge").joinpath("data", "formulary.toml")
    monkeypatch.setenv(FORMULARY_ENV, str(formulary))
    both = rule_set_in_force(ClinicFiles(policy=path.read_bytes()))
    assert both.policy.version == "clinic-7"
