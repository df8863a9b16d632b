"""Help > About names the app, rule-set, policy, formulary and knowledge-base versions."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

import ketascreen
from ketascreen.screening import rule_set_in_force as default_ruleset
from ketascreen.ui.main_window import MainWindow


def test_help_about_shows_every_version_and_digest_of_the_loaded_rule_set(
        qtbot: QtBot, window: MainWindow) -> None:
    """The About box, opened from the Help menu, states each version the core loaded."""
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    assert "&Help" in menus
    about = window.actions_by_name["about"]
    assert about in menus["&Help"].actions()  # type: ignore[union-attr]
    about.trigger()
    box = window.about
    assert isinstance(box, QMessageBox)
    qtbot.waitUntil(box.isVisible, timeout=2000)
    text = box.text()
    rules = default_ruleset()
    expected = [
        f"ketascreen: {ketascreen.__version__}",
        f"Rule set: {rules.info.version} (sha256 {rules.info.sha256[:12]})",
        f"Clinic policy: {rules.policy.version} (sha256 {rules.policy.sha256[:12]})",
        f"Formulary: {rules.formulary.formulary_version} "
        f"(sha256 {rules.formulary.formulary_sha256[:12]})",
        f"Knowledge base: drugs: {rules.drugs.version} (sha256 {rules.drugs.sha256[:12]})",
        f"Knowledge base: conditions: {rules.conditions.version} "
        f"(sha256 {rules.conditions.sha256[:12]})",
    ]
    lines = text.splitlines()
    for line in expected:
        assert line in lines
    assert all(v for v in (rules.info.version, rules.policy.version,
                           rules.formulary.formulary_version, rules.drugs.version,
                           rules.conditions.version))  # no empty version hides behind a label
    box.close()
