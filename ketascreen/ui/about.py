"""Help > About: the app, rule-set, clinic policy, formulary and knowledge-base versions.

A clinician who reports a finding, and a clinic that audits one, must know which rules, policy,
formulary and drug and condition lists produced it; the checklist prints the same versions and
sha256 digests. They are read from the loaded rule set through :mod:`ketascreen.ui.actions`.
"""

from __future__ import annotations

import sys

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

import ketascreen
from ketascreen.ui import actions

SHORT_SHA = 12
"""How many hex digits of a sha256 the About box shows (the checklist prints them all)."""


def _short(version: str, sha256: str) -> str:
    return f"{version or 'unversioned'} (sha256 {sha256[:SHORT_SHA]})"


def about_lines() -> list[tuple[str, str]]:
    """(what, version) pairs: the app, the rule set, the clinic policy, the formulary, the
    knowledge base (drug list and condition list) and the Qt runtime.

    Raises:
        KnowledgeBaseError: a shipped or clinic-edited data file is invalid.
    """
    rules = actions.ruleset()
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


def about_text() -> str:
    """The About box's text: what ketascreen is, then one line per version."""
    lines = ["ketascreen: pre-infusion safety screening for IV ketamine clinics. It supports "
             "the physician's decision; it does not make it.", ""]
    lines += [f"{what}: {version}" for what, version in about_lines()]
    lines += ["", "The rule-set sha256 covers the rules, sources, policy, formulary and "
              "knowledge base together; the checklist prints every digest in full."]
    return "\n".join(lines)


def about_box(parent: QWidget) -> QMessageBox:
    """The About box (not yet shown; the caller opens it)."""
    box = QMessageBox(QMessageBox.Icon.Information, "About ketascreen", about_text(),
                      QMessageBox.StandardButton.Close, parent)
    box.setObjectName("about")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return box
