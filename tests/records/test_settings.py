"""Clinic policy and formulary installed by an admin, validated, versioned and audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ketascreen.cli import main
from ketascreen.errors import KnowledgeBaseError, RecordError
from ketascreen.records.repository import RecordStore
from ketascreen.records.settings import clinic_files, install_clinic_file, installed
from ketascreen.screening import rule_set_in_force, run
from tests.helpers.cases import clean_case, patched
from tests.records.conftest import People
from tests.records.support import PASSWORDS, screening_of

DATA = Path(__file__).resolve().parents[2] / "ketascreen" / "knowledge" / "data"


def test_install_policy_makes_the_clinic_ruleset(store: RecordStore, people: People) -> None:
    """The newest installed policy is current; the clinic rule set screens with it."""
    assert rule_set_in_force(clinic_files(store)) is rule_set_in_force()
    shipped = (DATA / "policy.toml").read_text(encoding="utf-8")
    local = shipped.replace('version = "2026.11.0-default"', 'version = "2026.11.1-riverside"')
    first = install_clinic_file(store, people.admin, "policy", shipped.encode())
    second = install_clinic_file(store, people.admin, "policy", local.encode())
    current = installed(store, "policy")
    assert current is not None and current.version == "2026.11.1-riverside"
    assert current.sha256 == second.sha256 != first.sha256
    ruleset = rule_set_in_force(clinic_files(store))
    assert ruleset.policy.version == "2026.11.1-riverside"
    assert ruleset.info.sha256 != rule_set_in_force().info.sha256


def test_invalid_policy_is_refused_and_not_stored(store: RecordStore, people: People) -> None:
    """A policy that does not load is refused with the knowledge-base error; nothing stored."""
    with pytest.raises(KnowledgeBaseError):
        install_clinic_file(store, people.admin, "policy", b'schema = "ketascreen-policy/1"\n')
    assert installed(store, "policy") is None


def test_install_formulary(store: RecordStore, people: People) -> None:
    """A formulary is installed the same way, and audited."""
    content = (DATA / "formulary.toml").read_bytes()
    info = install_clinic_file(store, people.admin, "formulary", content)
    assert info.version == rule_set_in_force().formulary.formulary_version
    assert rule_set_in_force(clinic_files(store)).formulary.formulary_sha256 == (
        rule_set_in_force().formulary.formulary_sha256)
    assert store.verify_audit().ok


def _pressure_case(directory: Path) -> Path:
    """A complete case whose only finding is a blood pressure of 145/80 mmHg: above the shipped
    policy's elevated threshold (140 mmHg systolic), below the clinic's edited one (150)."""
    path = directory / "pressure.json"
    path.write_text(json.dumps(patched(clean_case(), {
        "measurements.blood_pressure": "145/80 mmHg"})), encoding="utf-8")
    return path


def _screen_json(case: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    assert main(["screen", str(case), "--json", *extra]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_installed_policy_changes_the_next_screening_in_the_cli(
        store: RecordStore, people: People, database_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """An admin installs a clinic policy in the records database (raising the elevated blood
    pressure threshold to 150 mmHg): the next `ketascreen screen` with that database configured
    screens with it, with and without --save; the finding it no longer fires disappears."""
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", database_url)
    case = _pressure_case(tmp_path)
    before = _screen_json(case, capsys)
    assert before["decision"] == "needs-review"
    assert [f["concept"] for f in before["findings"]] == ["hypertension-elevated"]
    assert before["ruleset"]["sha256"] == rule_set_in_force().info.sha256

    shipped = (DATA / "policy.toml").read_text(encoding="utf-8")
    local = (shipped.replace('version = "2026.11.0-default"', 'version = "2026.11.1-riverside"')
             .replace('hypertension_elevated_systolic = "140 mmHg"',
                      'hypertension_elevated_systolic = "150 mmHg"'))
    assert local.count("150 mmHg") == 1
    install_clinic_file(store, people.admin, "policy", local.encode())

    after = _screen_json(case, capsys)
    assert after["decision"] == "clear"
    assert after["findings"] == []
    clinic = rule_set_in_force(clinic_files(store))
    assert after["ruleset"]["sha256"] == clinic.info.sha256 != before["ruleset"]["sha256"]

    password = tmp_path / "drsmith.pw"
    password.write_text(PASSWORDS["drsmith"] + "\n", encoding="utf-8")
    assert main(["screen", str(case), "--json", "--save", "--user", "drsmith",
                 "--password-file", str(password)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["decision"] == "clear"
    record_id = captured.err.split("saved record ")[1].split(maxsplit=1)[0]
    stored = store.get(people.physician, record_id)
    assert stored.decision == "clear"
    assert stored.versions.policy_version == "2026.11.1-riverside"


def test_a_database_policy_and_an_environment_policy_stop_the_cli(
        store: RecordStore, people: People, database_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A policy installed in the records database and another named by $KETASCREEN_POLICY:
    `screen` exits 3 naming both, rather than choosing one silently."""
    install_clinic_file(store, people.admin, "policy", (DATA / "policy.toml").read_bytes())
    elsewhere = tmp_path / "other-policy.toml"
    elsewhere.write_bytes((DATA / "policy.toml").read_bytes())
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", database_url)
    monkeypatch.setenv("KETASCREEN_POLICY", str(elsewhere))
    assert main(["screen", str(_pressure_case(tmp_path))]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "configuration error" in captured.err
    assert str(elsewhere) in captured.err
    assert "$KETASCREEN_POLICY" in captured.err and "records database" in captured.err


def test_the_store_screens_and_stores_under_its_own_clinic_policy(
        store: RecordStore, people: People) -> None:
    """Once a clinic policy is installed, a draft acknowledged in the store is screened again
    under that policy, and a screening made under another rule set (the shipped one) is refused,
    not stored with the clinic's versions."""
    draft = store.create(people.physician, screening_of())  # shipped policy, none installed
    concept = draft.result().findings[0].concept
    shipped = (DATA / "policy.toml").read_text(encoding="utf-8")
    local = shipped.replace('version = "2026.11.0-default"', 'version = "2026.11.1-riverside"')
    install_clinic_file(store, people.admin, "policy", local.encode())
    clinic = rule_set_in_force(clinic_files(store))

    acknowledged = store.acknowledge(people.physician, draft.record_id, concept=concept,
                                     reason="Discussed with the patient")
    assert acknowledged.result().ruleset == clinic.info

    with pytest.raises(RecordError, match="not produced by the given rule set"):
        store.create(people.physician, screening_of({"patient.id": "P-OTHER-RULES"}))
    under_clinic = run(screening_of({"patient.id": "P-OTHER-RULES"}).case, rules=clinic)
    assert store.create(people.physician, under_clinic).result().ruleset == clinic.info
