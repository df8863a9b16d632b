"""The app shows every finding's basis, action and source, read back from the findings panel.

A case with several findings is opened in the real window; each finding's row is expanded with
the keyboard and its details are read as the user sees them (the label's text as plain text),
then compared with the screening of the same file by the public API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QFrame, QLabel, QToolButton
from pytestqt.qtbot import QtBot

from ketascreen.api import load_case, screen
from ketascreen.ui.main_window import MainWindow
from tests.helpers.cases import patched
from tests.ui.helpers import activate

CHANGES: dict[str, Any] = {
    "medications": [{"text": t, "status": "active"} for t in
                    ("Xanax 0.5 mg", "oxycodone 5 mg", "phenelzine 15 mg", "lamotrigine 100 mg",
                     "memantine 10 mg")],
    "history.psychotic-disorder": "yes",
    "measurements.blood_pressure": "190/105 mmHg",
}
"""Absolute, relative and information findings, with long bases, actions and sources."""


def plain(label: QLabel) -> str:
    """The text a label shows, without its markup."""
    document = QTextDocument()
    document.setHtml(label.text())
    return document.toPlainText()


def fields(text: str) -> dict[str, str]:
    """The ``Name: value`` lines of a finding's details, by name."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        name, separator, value = line.partition(":")
        if separator and name in ("Basis", "Action", "Source"):
            found[name] = value.strip()
    return found


def test_every_finding_shows_its_basis_action_and_source(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, example: dict[str, Any]) -> None:
    """Each finding's row, expanded, shows its own basis, action and source, in full."""
    path = tmp_path / "case.json"
    path.write_text(json.dumps(patched(example, CHANGES)), encoding="utf-8")
    findings = screen(load_case(path)).findings
    assert {f.severity for f in findings} == {"absolute", "relative", "info"}
    assert window.open_path(path)
    for finding in findings:
        row = window.findings.findChild(QFrame, f"finding-{finding.rule_id}")
        assert row is not None, finding.rule_id
        details = row.findChild(QLabel, "finding-details")
        expander = row.findChild(QToolButton, "expander")
        assert details is not None and expander is not None
        assert details.isHidden()
        activate(qtbot, expander)
        assert details.isVisible(), finding.rule_id
        shown = fields(plain(details))
        assert shown == {"Basis": finding.basis, "Action": finding.action,
                         "Source": finding.source}, finding.rule_id
        activate(qtbot, expander)
        assert details.isHidden()
