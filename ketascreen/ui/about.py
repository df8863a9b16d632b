"""Help > About: the app, rule-set, clinic policy, formulary and knowledge-base versions.

A clinician who reports a finding, and a clinic that audits one, must know which rules, policy,
formulary and drug and condition lists produced it; the checklist prints the same versions and
sha256 digests. They are read from the loaded rule set through :mod:`ketascreen.ui.actions`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

import ketascreen
from ketascreen.ui import actions

if TYPE_CHECKING:
    from ketascreen.rules import RuleSet

SHORT_SHA = 12
"""How many hex digits of a sha256 the About box shows (the checklist prints them all)."""


def _short(version: str, sha256: str) -> str:
    return f"{version or 'unversioned'} (sha256 {sha256[:SHORT_SHA]})"


def about_lines(rules: RuleSet | None = None) -> list[tuple[str, str]]:
    """(what, version) pairs: the app, the rule set, the clinic policy, the formulary, the
    knowledge base (drug list and condition list) and the Qt runtime.

    Args:
        rules: the rule set that screened the form (``None``: the one in force without a
            records database).

    Raises:
        KnowledgeBaseError: a shipped or clinic-edited data file is invalid.
    """
    rules = rules or actions.ruleset()
    return [
        ("ketascreen", ketascreen.__version__),
        ("Rule set", _short(rules.info.version, rules.info.sha256)),
        ("Clinic policy", _short(rules.policy.version, rules.policy.sha256)),
        ("Formulary", _short(rules.formulary.formulary_version,
                             rules.formulary.formulary_sha256)),
        ("Knowledge base: drugs", _short(rules.drugs.version, rules.drugs.sha256)),
        ("Knowledge base: conditions", _short(rules.conditions.version, rules.conditions.sha256)),
        ("Runtime", f"Python {sys.version.split()[0]}, PySide6 {PySide6.__version__}, "
                    f"Qt {qVersion()}"),
    ]


def about_text(rules: RuleSet | None = None) -> str:
    """The About box's text: what ketascreen is, then one line per version of ``rules``."""
    lines = ["ketascreen: pre-infusion safety screening for IV ketamine clinics. It supports "
             "the physician's decision; it does not make it.", ""]
    lines += [f"{what}: {version}" for what, version in about_lines(rules)]
    lines += ["", "The rule-set sha256 covers the rules, sources, policy, formulary and "
              "knowledge base together; the checklist prints every digest in full."]
    return "\n".join(lines)


def about_box(parent: QWidget, rules: RuleSet | None = None) -> QMessageBox:
    """The About box of ``rules``, the rule set that screened the form (not yet shown; the
    caller opens it)."""
    box = QMessageBox(QMessageBox.Icon.Information, "About ketascreen", about_text(rules),
                      QMessageBox.StandardButton.Close, parent)
    box.setObjectName("about")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return box
