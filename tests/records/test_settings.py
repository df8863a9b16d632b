"""Clinic policy and formulary installed by an admin, validated, versioned and audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketascreen.errors import KnowledgeBaseError
from ketascreen.records.repository import RecordStore
from ketascreen.records.settings import clinic_files, install_clinic_file, installed
from ketascreen.screening import rule_set_in_force
from tests.records.conftest import People

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
