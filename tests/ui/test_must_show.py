"""The Must-show behaviours of issue 5, driven through the real widgets with keystrokes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pytestqt.qtbot import QtBot

from ketascreen import cli
from ketascreen.api import parse_case
from ketascreen.reports.keys import generate_self_signed, read_certificate
from ketascreen.ui.drafts import DraftStore
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.settings import AppSettings
from tests.ui.helpers import FakeDialogs, activate, type_example_case, type_into, wait_screened

REPO = Path(__file__).resolve().parents[2]


def test_typing_the_example_case_gives_the_benzodiazepine_finding_and_the_dose(
        qtbot: QtBot, window: MainWindow, example: dict[str, Any]) -> None:
    """Keystrokes alone produce the example case, its benzodiazepine finding and its dose."""
    type_example_case(qtbot, window)
    wait_screened(qtbot, window)
    assert parse_case(window.form.document()) == parse_case(example)
    outcome = window.outcome
    assert outcome is not None and outcome.decision == "needs-review"
    assert [f.concept for f in outcome.screening.result.findings] == ["benzodiazepine"]
    row = window.findings.row("benzodiazepine")
    assert row is not None and row.isVisible()
    assert "RELATIVE" in row.heading.text() and not row.icon.pixmap().isNull()
    assert window.dose.pump_rate() == "63.6 mL/h"
    assert window.dose.refusal.isHidden()
    assert window.decision.title.text().startswith("<span") and "NEEDS REVIEW" in (
        window.decision.title.text())


@pytest.mark.parametrize(("typed", "expected"), [
    ("70", "has no unit"),
    ("70 mL", "is a volume, not a mass"),
])
def test_weight_without_a_mass_unit_shows_an_inline_error_and_no_dose(
        qtbot: QtBot, window: MainWindow, case_file: Path, typed: str, expected: str) -> None:
    """"70" and "70 mL" for the weight are refused under the field, and there is no dose."""
    assert window.open_path(case_file)
    assert window.dose.pump_rate() == "63.6 mL/h"
    weight = window.form.measurements.inputs["weight"]
    weight.value.clear()
    weight.unit.setCurrentIndex(-1)
    type_into(qtbot, weight.value, typed)
    wait_screened(qtbot, window)
    assert weight.message.isVisible() and weight.message.tone == "error"
    assert expected in weight.message.text()
    assert f"\u201c{typed}\u201d" in weight.message.text()  # the value as typed, quoted
    assert window.outcome is not None and not window.outcome.valid
    assert window.dose.pump_rate() is None and window.dose.refusal.isVisible()
    assert "NO DOSE" in window.dose.refusal.text()
    assert window.decision.decision == "not-screened"


def test_acknowledging_a_relative_finding_needs_a_typed_reason(
        qtbot: QtBot, window: MainWindow, case_file: Path) -> None:
    """Confirm stays disabled until a non-blank reason is typed; then the decision clears."""
    window.open_path(case_file)
    row = window.findings.row("benzodiazepine")
    assert row is not None
    activate(qtbot, row.ack_button)
    assert row.reason.isVisible() and not row.confirm.isEnabled()
    type_into(qtbot, row.reason, "   ")
    assert not row.confirm.isEnabled()
    qtbot.keyClick(row.reason, "\r")  # Enter with a blank reason does nothing
    assert window.form.acknowledgements() == []
    type_into(qtbot, row.reason, "Evening dose held; discussed with the patient.")
    assert row.confirm.isEnabled()
    activate(qtbot, row.confirm)
    wait_screened(qtbot, window)
    assert window.form.acknowledgements() == [
        {"concept": "benzodiazepine",
         "reason": "Evening dose held; discussed with the patient."}]
    assert window.outcome is not None and window.outcome.decision == "clear"
    row = window.findings.row("benzodiazepine")
    assert row is not None and "Acknowledged" in row.state.text()
    assert row.withdraw.isVisible()


def _key(tmp_path: Path) -> tuple[Path, str]:
    pair = generate_self_signed("Dr Test Signer", b"correct horse", credentials="MD")
    key = tmp_path / "signer.p12"
    key.write_bytes(pair.pkcs12)
    return key, "correct horse"


def _acknowledged(qtbot: QtBot, window: MainWindow, case_file: Path) -> None:
    window.open_path(case_file)
    row = window.findings.row("benzodiazepine")
    assert row is not None
    activate(qtbot, row.ack_button)
    type_into(qtbot, row.reason, "Held the evening dose.")
    activate(qtbot, row.confirm)
    wait_screened(qtbot, window)


def test_signing_with_a_test_key_writes_a_pdf_that_ketascreen_verify_accepts(
        qtbot: QtBot, window: MainWindow, case_file: Path, tmp_path: Path,
        settings: AppSettings) -> None:
    """The Sign dialog reads the signer from the certificate and writes a valid signed PDF."""
    key, passphrase = _key(tmp_path)
    _acknowledged(qtbot, window, case_file)
    window.sign()
    dialog = window.sign_dialog
    assert dialog is not None and not dialog.refusal.isVisible()
    assert not dialog.sign_button.isEnabled()
    dialog.certificate.clear()
    type_into(qtbot, dialog.certificate, str(key))
    type_into(qtbot, dialog.passphrase, "wrong")
    qtbot.keyClick(dialog.passphrase, "\r")
    assert "wrong passphrase" in dialog.certificate_note.text()
    dialog.passphrase.clear()
    type_into(qtbot, dialog.passphrase, passphrase)
    qtbot.keyClick(dialog.passphrase, "\r")
    assert dialog.name.text() == "Dr Test Signer" and dialog.credentials.text() == "MD"
    assert "Self-signed" in dialog.certificate_note.text()
    out = tmp_path / "signed.pdf"
    dialog.output.clear()
    type_into(qtbot, dialog.output, str(out))
    assert not dialog.sign_button.isEnabled()  # not before the attestation
    activate(qtbot, dialog.attest)
    assert dialog.sign_button.isEnabled()
    with qtbot.waitSignal(dialog.accepted, timeout=20000):
        activate(qtbot, dialog.sign_button)
    assert out.exists() and window.signed_path == out
    # The trial key is trusted because the clinic says so (--trust), never by its own claim.
    trusted = tmp_path / "signer.der"
    trusted.write_bytes(read_certificate(key.read_bytes(), passphrase=b"correct horse").der)
    assert cli.main(["verify", str(out), "--trust", str(trusted)]) == 0
    assert settings.certificate() == str(key)  # remembered, the passphrase is not
    assert "correct horse" not in (tmp_path / "settings.ini").read_text(encoding="utf-8")


def test_print_to_pdf_prints_every_page_of_the_checklist(
        qtbot: QtBot, window: MainWindow, case_file: Path, tmp_path: Path) -> None:
    """Qt's printing path (QPrinter in PDF mode) prints each checklist page."""
    window.open_path(case_file)
    out = tmp_path / "printed.pdf"
    pages = window.print_to_pdf(out)
    assert pages >= 2
    reader = PdfReader(out)
    assert len(reader.pages) == pages
    assert out.read_bytes().startswith(b"%PDF")
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # US Letter


_CRASH_CHILD = """
import os, signal, sys
from pathlib import Path
from PySide6.QtCore import QSettings
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from ketascreen.ui.drafts import DraftStore
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.settings import AppSettings

home = Path(os.environ["KETASCREEN_HOME"])
app = QApplication(["ketascreen"])
window = MainWindow(AppSettings(QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat)),
                    drafts=DraftStore(home / "drafts"), autosave_ms=100)
window.show()
QTest.keyClicks(window.form.patient.patient_id, "MRN-CRASH")
QTest.keyClicks(window.form.patient.name, "Casey Crash")
QTest.keyClicks(window.form.measurements.inputs["weight"].value, "70")
QTest.keyClick(window.form.history.questions["porphyria"], "y")
window.draft_saved.connect(lambda: os.kill(os.getpid(), signal.SIGKILL))
sys.exit(app.exec())
"""


def test_a_draft_survives_a_crash_and_a_new_window_offers_it_back(
        qtbot: QtBot, tmp_path: Path, settings: AppSettings, drafts: DraftStore,
        ketascreen_home: Path) -> None:
    """A window killed with SIGKILL after an autosave leaves a draft the next window restores."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KETASCREEN_HOME": str(ketascreen_home),
           "PYTHONPATH": str(REPO)}
    child = subprocess.run([sys.executable, "-c", _CRASH_CHILD], env=env, cwd=REPO,
                           capture_output=True, timeout=120, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    fake = FakeDialogs()
    window = MainWindow(settings, drafts=drafts, dialogs=fake,  # type: ignore[arg-type]
                        autosave_ms=100)
    qtbot.addWidget(window)
    window.show()
    assert window.draft_bar.isVisible()
    assert "Casey Crash (MRN-CRASH)" in window.draft_text.text()
    assert any(e.kind == "draft" for e in window.screenings.entries())
    activate(qtbot, window.restore_button)
    assert not window.draft_bar.isVisible()
    form = window.form
    assert form.patient.patient_id.text() == "MRN-CRASH"
    assert form.measurements.inputs["weight"].value.text() == "70"
    assert form.history.questions["porphyria"].value() == "yes"
    assert window.is_modified()
    weight = form.measurements.inputs["weight"]
    assert weight.message.tone in ("error", "hint")  # "70" still has no unit, shown again
    # The restored draft keeps autosaving into the same file.
    drafts_on_disk = list((ketascreen_home / "drafts").glob("*.json"))
    assert len(drafts_on_disk) == 1
    type_into(qtbot, form.patient.name, " Jr")
    with qtbot.waitSignal(window.draft_saved, timeout=3000):
        pass
    saved = json.loads(drafts_on_disk[0].read_text(encoding="utf-8"))
    assert saved["state"]["patient"]["name"] == "Casey Crash Jr"
