"""Signed means signed: once a checklist is signed (in the app, or opened from the records),
the form is read-only under "Signed by NAME at TIME (record ID)", and what the app shows is the
signed checklist it has open."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from ketascreen.ui import actions
from ketascreen.ui.main_window import MainWindow, SignedView
from ketascreen.ui.settings import AppSettings
from tests.ui.helpers import FakeDialogs, type_into
from tests.ui.helpers import wheel as one_notch
from tests.ui.signing_support import (
    Clinic,
    clear_case_file,
    clinic,
    finish_signing,
    make_key,
    open_sign_dialog,
    signed_in,
)

__all__ = ["clinic"]  # the fixture, imported for pytest

SIGNED_LINE = re.compile(r"^Signed by (?P<name>.+) at \d{4}-\d\d-\d\d \d\d:\d\d "
                         r"[+-]\d\d:\d\d \((?P<record>KS-[0-9A-F]{12})\)$")


def wheel(widget: QWidget, steps: int = 1) -> None:
    """Turn the mouse wheel ``steps`` notches over the middle of ``widget``."""
    for _ in range(abs(steps)):
        one_notch(widget, -1 if steps > 0 else 1)


def try_every_change(qtbot: QtBot, window: MainWindow, qtlog: Any) -> None:
    """Everything a user could do to the form: type, click the add buttons, turn the wheel
    over (and after clicking into) every combo, spin box and slider, press keys on them.

    QTest warns "event not accepted by receiving widget" for each click and key a disabled
    widget refuses: that refusal is the point here, so those warnings are not captured."""
    with qtlog.disabled():
        _try_every_change(qtbot, window)


def _try_every_change(qtbot: QtBot, window: MainWindow) -> None:
    form = window.form
    weight = form.measurements.inputs["weight"].value
    qtbot.mouseClick(weight, Qt.MouseButton.LeftButton)
    type_into(qtbot, weight, "999")
    qtbot.keyClick(weight, Qt.Key.Key_Backspace)
    qtbot.mouseClick(form.medications.add_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(form.conditions.add_button, Qt.MouseButton.LeftButton)
    for widget in form.findChildren(QWidget):
        if isinstance(widget, (QComboBox, QAbstractSpinBox, QAbstractSlider)):
            qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
            wheel(widget, 1)
            wheel(widget, -2)
            qtbot.keyClick(widget, Qt.Key.Key_Down)
        elif isinstance(widget, QLineEdit) and widget.isVisible():
            type_into(qtbot, widget, "x")
    for button in window.findings.findChildren(QWidget):
        if button.objectName().startswith("acknowledge"):
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_signing_in_the_app_locks_the_form(qtbot: QtBot, window: MainWindow, tmp_path: Path,
                                           qtlog: Any) -> None:
    """After signing: the bar names the certificate's signer, local time with its offset and
    the record id; typing, adding rows, the wheel and the keys change nothing; signing again
    is refused; the banner says SIGNED."""
    key = make_key(tmp_path, "Dr Test Signer", "signer.p12")
    assert window.open_path(clear_case_file(tmp_path))
    assert window.current_outcome().decision == "clear"
    finish_signing(qtbot, open_sign_dialog(qtbot, window, key), tmp_path / "signed.pdf")
    bar = window.signed_bar
    assert bar.isVisible() and window.form.read_only
    name = window.form.patient.name
    inside = name.grab().toImage().pixelColor(name.width() - 8, name.height() // 2)
    assert (inside.red(), inside.green(), inside.blue()) == (0xE6, 0xE9, 0xEE), \
        "a locked text field is grey, not white like an editable one"
    found = SIGNED_LINE.match(bar.line)
    assert found is not None, bar.line
    assert found["name"] == "Dr Test Signer"
    assert found["record"] == actions.record_id_of(outcome=window.current_outcome())
    before = window.form.state()
    rows = (len(window.form.medications.rows), len(window.form.conditions.rows))
    try_every_change(qtbot, window, qtlog)
    window.rescreen_now()
    assert window.form.state() == before
    assert (len(window.form.medications.rows), len(window.form.conditions.rows)) == rows
    assert not window.actions_by_name["sign"].isEnabled()
    assert window.actions_by_name["amend"].isEnabled()
    assert "SIGNED" in window.decision.signing.text()
    acknowledged = window.findings.row("benzodiazepine")
    assert acknowledged is not None and acknowledged.withdraw.isVisible()
    assert not acknowledged.withdraw.isEnabled()
    window.sign()  # the shortcut path: refused with the way to amend
    assert window.dialogs.errors[-1][0] == "Sign"  # type: ignore[attr-defined]
    assert "Amend" in window.dialogs.errors[-1][1]  # type: ignore[attr-defined]
    # the preview shows the signed PDF, not a fresh unsigned one
    preview = window.show_preview()
    assert preview is not None and preview.data == (tmp_path / "signed.pdf").read_bytes()


def test_a_new_screening_unlocks_and_closes_the_signed_preview(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """Leaving the signed checklist (new screening) gives an editable form and closes the
    preview of the signed PDF, so no signed PDF stays open beside another form."""
    key = make_key(tmp_path, "Dr Test Signer", "signer.p12")
    window.open_path(clear_case_file(tmp_path))
    finish_signing(qtbot, open_sign_dialog(qtbot, window, key), tmp_path / "signed.pdf")
    preview = window.show_preview()
    assert preview is not None and preview.isVisible()
    assert window.new_screening()
    assert not preview.isVisible() and window.preview is None
    assert not window.form.read_only and not window.signed_bar.isVisible()
    type_into(qtbot, window.form.patient.patient_id, "MRN-7")
    assert window.form.patient.patient_id.text() == "MRN-7"


def test_a_worklist_record_opens_read_only_with_the_signed_dose(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        qtlog: Any) -> None:
    """A nurse opens today's checklist: the form shows its case, read-only, under the record's
    own signature line; the dose panel shows the dose of exactly the signed case and result."""
    window = signed_in(qtbot, settings, dialogs, clinic, "rnpatel")
    entry = next(e for e in window.screenings.entries() if e.kind == "record")
    window.open_entry(entry)
    stored = clinic.store.get(clinic.people.physician, clinic.record_id)
    assert window.signed_bar.line == stored.signature_line()
    assert SIGNED_LINE.match(window.signed_bar.line) is not None
    assert "Dr Jane Smith" in window.signed_bar.line
    assert window.form.read_only and window.form.patient.patient_id.text() == "MRN-0042"
    outcome = window.current_outcome()
    assert actions.record_id_of(outcome=outcome) == clinic.record_id
    assert window.dose.pump_rate() is not None
    assert window.preview is not None and window.record is not None
    assert window.preview.data == window.record.pdf
    before = window.form.state()
    try_every_change(qtbot, window, qtlog)
    window.rescreen_now()
    assert window.form.state() == before
    assert dialogs.errors == []


def test_no_dose_is_shown_that_differs_from_the_signed_checklist(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """If the form's screening is not the signed one (other rules or formulary since), the
    dose panel shows no dose and points to the signed checklist's."""
    window.open_path(clear_case_file(tmp_path))
    assert window.dose.pump_rate() is not None
    window._lock(SignedView("Signed by Dr X at 2026-01-01 09:00 +00:00 (KS-000000000000)",
                            "KS-000000000000", b"%PDF-1.7"))
    assert window.dose.pump_rate() is None
    assert "KS-000000000000" in window.dose.refusal.text()
    assert "signed checklist" in window.dose.refusal.text()


def test_a_signed_checklist_file_opens_read_only(qtbot: QtBot, window: MainWindow,
                                                 tmp_path: Path, qtlog: Any) -> None:
    """A checklist signed on this computer, opened again from the list: the case it embeds is
    shown read-only under its signer, signing time and record id, beside its signed PDF."""
    key = make_key(tmp_path, "Dr Test Signer", "signer.p12")
    window.open_path(clear_case_file(tmp_path))
    record_id = actions.record_id_of(outcome=window.current_outcome())
    finish_signing(qtbot, open_sign_dialog(qtbot, window, key), tmp_path / "signed.pdf")
    assert window.new_screening() and not window.form.read_only
    entry = next(e for e in window.screenings.entries() if e.kind == "checklist")
    window.open_entry(entry)
    found = SIGNED_LINE.match(window.signed_bar.line)
    assert found is not None, window.signed_bar.line
    assert (found["name"], found["record"]) == ("Dr Test Signer", record_id)
    assert window.form.read_only and window.form.patient.patient_id.text() == "MRN-0042"
    assert window.dose.pump_rate() is not None
    assert window.preview is not None
    assert window.preview.data == (tmp_path / "signed.pdf").read_bytes()
    before = window.form.state()
    try_every_change(qtbot, window, qtlog)
    window.rescreen_now()
    assert window.form.state() == before


def test_amend_after_the_user_closed_the_signed_preview(qtbot: QtBot, window: MainWindow,
                                                        tmp_path: Path,
                                                        dialogs: FakeDialogs) -> None:
    """The preview deletes itself when the user closes it: Amend still works."""
    key = make_key(tmp_path, "Dr Test Signer", "signer.p12")
    window.open_path(clear_case_file(tmp_path))
    finish_signing(qtbot, open_sign_dialog(qtbot, window, key), tmp_path / "signed.pdf")
    preview = window.show_preview()
    assert preview is not None
    preview.close()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # as the event loop would
    dialogs.amend_reasons.append("Wrong weight unit")
    assert window.amend()
    assert not window.form.read_only and window.amending is not None
    assert window.amending.stored is False  # a file: nothing in the records to link to


def test_an_edit_closes_a_preview_of_the_form_as_it_was(qtbot: QtBot, window: MainWindow,
                                                        tmp_path: Path) -> None:
    """A previewed (unsigned) checklist is closed at the first keystroke that changes the
    form, so its dose is never shown beside another."""
    window.open_path(clear_case_file(tmp_path))
    preview = window.show_preview()
    assert preview is not None and preview.isVisible()
    field = window.form.measurements.inputs["heart_rate"].value
    field.setFocus()
    type_into(qtbot, field, "0")
    assert not preview.isVisible() and window.preview is None
    assert "preview closed" in window.statusBar().currentMessage()
