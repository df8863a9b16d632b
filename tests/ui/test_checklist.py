"""Signing refusals, the DO NOT INFUSE state, preview and export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.qt_pdf_preview import STAMP_NOTE, UNSIGNED_NOTE
from tests.reports.helpers import write_case
from tests.ui.helpers import FakeDialogs


def _open(window: MainWindow, tmp_path: Path, document: dict[str, Any]) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert window.open_path(path)


@pytest.mark.parametrize("scenario", [
    ({}, "needs-review", "acknowledged with a reason"),
    ({"measurements": {"weight": "70 kg"}}, "insufficient-data", "Insufficient data"),
    ({"history": {"psychotic-disorder": "yes"}}, "do-not-infuse", "cannot be signed"),
])
def test_the_sign_dialog_refuses_unless_the_screening_is_clear(
        window: MainWindow, tmp_path: Path, example: dict[str, Any],
        scenario: tuple[dict[str, Any], str, str]) -> None:
    """Needs review, insufficient data and do-not-infuse are refused, with the reason."""
    change, decision, reason = scenario
    for key, value in change.items():
        example[key] = {**example[key], **value} if key == "history" else value
    _open(window, tmp_path, example)
    assert window.outcome is not None and window.outcome.decision == decision
    window.sign()
    dialog = window.sign_dialog
    assert dialog is not None
    assert dialog.refusal.isVisible() and reason in dialog.refusal.text()
    assert not dialog.sign_button.isEnabled() and not dialog.certificate.isEnabled()
    dialog.reject()


def test_do_not_infuse_shows_no_dose_and_names_the_absolute_finding(
        window: MainWindow, tmp_path: Path, example: dict[str, Any]) -> None:
    """A DO NOT INFUSE decision has no dose; its finding cannot be acknowledged."""
    example["history"]["psychotic-disorder"] = "yes"
    _open(window, tmp_path, example)
    assert window.decision.decision == "do-not-infuse"
    assert "DO NOT INFUSE" in window.decision.title.text()
    assert window.dose.pump_rate() is None and "do not infuse" in window.dose.refusal.text()
    row = window.findings.row("psychotic-disorder")
    assert row is not None and "ABSOLUTE" in row.heading.text()
    assert row.ack_button.isHidden() and "Cannot be acknowledged" in row.state.text()


def test_a_do_not_infuse_checklist_can_be_exported_unsigned(
        window: MainWindow, tmp_path: Path, example: dict[str, Any],
        dialogs: FakeDialogs) -> None:
    """The decision not to infuse is documented on an unsigned checklist."""
    example["history"]["psychotic-disorder"] = "yes"
    _open(window, tmp_path, example)
    out = tmp_path / "dni.pdf"
    dialogs.paths.append(out)
    assert window.export_unsigned()
    assert out.read_bytes().startswith(b"%PDF")


def test_the_preview_shows_the_checklist_and_says_what_it_does_not_draw(
        qtbot: QtBot, window: MainWindow, case_file: Path) -> None:
    """The in-app preview (QtPdf) shows every page and labels an unsigned checklist."""
    window.open_path(case_file)
    preview = window.show_preview()
    assert preview is not None
    qtbot.waitExposed(preview)
    assert preview.page_count() >= 2
    assert preview.note.text() == UNSIGNED_NOTE
    preview.close()


def test_a_signed_checklist_is_previewed_with_the_stamp_caveat(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """Opening a signed checklist from the list says QtPdf does not draw the stamp."""
    from ketascreen.cli import main

    passphrase = tmp_path / "pass"
    passphrase.write_text("pw", encoding="utf-8")
    key = tmp_path / "k.p12"
    assert main(["keygen", "--name", "Dr K", "--out", str(key), "--passphrase-file",
                 str(passphrase)]) == 0
    window.settings.add_recent("checklists", tmp_path / "none.pdf")
    pdf = tmp_path / "signed.pdf"
    case = write_case(tmp_path, {"acknowledgements": [
        {"concept": "benzodiazepine", "reason": "Evening dose held."}]})  # CLEAR: may be signed
    assert main(["screen", str(case), "--pdf", str(pdf), "--sign", str(key),
                 "--passphrase-file", str(passphrase)]) == 0
    window.settings.add_recent("checklists", pdf)
    window.screenings.refresh()
    entry = next(e for e in window.screenings.entries() if e.kind == "checklist")
    assert "TODAY" in entry.detail
    window.open_entry(entry)
    assert window.preview is not None and window.preview.note.text() == STAMP_NOTE
    window.preview.close()
