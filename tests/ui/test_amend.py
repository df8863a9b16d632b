"""Amend, not edit: a signed checklist changes only through Amend (a typed reason, a new signed
record linked to the one it replaces), and a second checklist for a patient on the same day is
refused with the way to amend."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.screenings import ScreeningEntry
from ketascreen.ui.settings import AppSettings
from tests.ui.helpers import FakeDialogs, type_into, wait_screened
from tests.ui.signing_support import (
    Clinic,
    clear_case_file,
    clinic,
    finish_signing,
    open_sign_dialog,
    signed_in,
)

__all__ = ["clinic"]  # the fixture, imported for pytest


def records_listed(window: MainWindow) -> list[ScreeningEntry]:
    """The worklist entries in the left panel."""
    return [e for e in window.screenings.entries() if e.kind == "record"]


def open_todays(window: MainWindow, clinic: Clinic) -> None:
    """Open the clinic's signed checklist from the worklist."""
    entry = next(e for e in records_listed(window) if e.key == clinic.record_id)
    window.open_entry(entry)
    assert window.signed_view is not None and window.form.read_only


def change_heart_rate(qtbot: QtBot, window: MainWindow, value: str) -> None:
    """Retype the heart rate with keystrokes."""
    field = window.form.measurements.inputs["heart_rate"].value
    field.setFocus()
    field.selectAll()
    type_into(qtbot, field, value)
    wait_screened(qtbot, window)


def test_amend_produces_a_linked_signed_record(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    """Open today's checklist, press Amend, give the reason, correct the form and sign: a new
    signed record amends the old one (the store says so both ways), the worklist lists only the
    newest, marked "amends KS-...", and the form is locked again under the new signature."""
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    open_todays(window, clinic)
    preview = window.preview
    assert preview is not None and preview.isVisible()
    dialogs.amend_reasons.append("Heart rate re-measured at rest")
    qtbot.mouseClick(window.signed_bar.amend_button, Qt.MouseButton.LeftButton)
    assert window.amending is not None and window.amending.record_id == clinic.record_id
    assert not window.form.read_only
    assert not preview.isVisible() and window.preview is None  # the old PDF is not left open
    assert "Amending " + clinic.record_id in window.signed_bar.text.text()
    assert window.decision.signing.text().startswith("Amending " + clinic.record_id)
    acknowledged = window.findings.row("benzodiazepine")
    assert acknowledged is not None and acknowledged.withdraw.isEnabled()  # editable again
    change_heart_rate(qtbot, window, "68")
    assert window.current_outcome().decision == "clear"
    finish_signing(qtbot, open_sign_dialog(qtbot, window, clinic.key), tmp_path / "amend.pdf")
    assert dialogs.errors == []
    view = window.signed_view
    assert view is not None and view.stored and view.amends == clinic.record_id
    assert window.form.read_only and "amends " + clinic.record_id in window.signed_bar.text.text()
    store, physician = clinic.store, clinic.people.physician
    new = store.get(physician, view.record_id)
    assert new.is_signed and new.amends == clinic.record_id
    assert new.amendment_reason == "Heart rate re-measured at rest"
    assert store.get(physician, clinic.record_id).superseded_by == view.record_id
    current = store.list_records(physician, patient_id="MRN-0042", current_only=True)
    assert [r.record_id for r in current] == [view.record_id]
    listed = records_listed(window)
    assert [e.key for e in listed] == [view.record_id]
    assert f"amends {clinic.record_id}" in listed[0].detail


def test_amend_needs_a_typed_reason(qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs,
                                    clinic: Clinic) -> None:
    """Cancelled or blank reason: nothing unlocks; File > Amend does the same as the button."""
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    open_todays(window, clinic)
    dialogs.amend_reasons.extend([None, "   "])
    window.actions_by_name["amend"].trigger()
    window.actions_by_name["amend"].trigger()
    assert window.amending is None and window.form.read_only
    assert window.signed_view is not None


def test_a_nurse_may_not_amend(qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs,
                               clinic: Clinic) -> None:
    """The role decides: a nurse's Amend is refused (recorded) and nothing unlocks."""
    window = signed_in(qtbot, settings, dialogs, clinic, "rnpatel")
    open_todays(window, clinic)
    dialogs.amend_reasons.append("typo")
    qtbot.mouseClick(window.signed_bar.amend_button, Qt.MouseButton.LeftButton)
    assert window.amending is None and window.form.read_only
    assert dialogs.errors and dialogs.errors[0][0] == "Amend"
    assert "rnpatel (nurse) is not allowed to amend" in dialogs.errors[0][1]


def test_same_day_second_signing_is_refused_with_the_way_to_amend(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    """A second CLEAR checklist for MRN-0042 today: refused before the Sign dialog opens, the
    message names the signed record, its signer and Amend; declining leaves nothing signed."""
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    window.open_path(clear_case_file(tmp_path, {"measurements.heart_rate": "70 /min"}))
    assert window.current_outcome().decision == "clear"
    window.actions_by_name["sign"].trigger()
    assert window.sign_dialog is None
    assert len(dialogs.offers) == 1
    title, text = dialogs.offers[0]
    assert title == "Sign" and clinic.record_id in text
    assert "Signed by Dr Jane Smith" in text and "amend " + clinic.record_id in text
    assert window.amending is None and not window.form.read_only
    assert clinic.record_id in window.statusBar().currentMessage()
    assert len(clinic.store.list_records(clinic.people.physician, patient_id="MRN-0042")) == 1


def test_accepting_the_offer_amends_the_signed_checklist(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    """Choosing Amend in that refusal asks the reason and signs the form as the amendment."""
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    window.open_path(clear_case_file(tmp_path, {"measurements.heart_rate": "70 /min"}))
    dialogs.accept_offers = True
    dialogs.amend_reasons.append("Second screening today after a new heart rate")
    dialog = open_sign_dialog(qtbot, window, clinic.key)
    assert window.amending is not None and window.amending.record_id == clinic.record_id
    finish_signing(qtbot, dialog, tmp_path / "second.pdf")
    assert dialogs.errors == []
    view = window.signed_view
    assert view is not None and view.amends == clinic.record_id
    new = clinic.store.get(clinic.people.physician, view.record_id)
    assert new.amends == clinic.record_id
    assert [e.key for e in records_listed(window)] == [view.record_id]


def test_an_amendment_stays_with_its_patient(qtbot: QtBot, settings: AppSettings,
                                             dialogs: FakeDialogs, clinic: Clinic) -> None:
    """Retyping the patient ID of an amendment: signing is refused before any PDF is made."""
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    open_todays(window, clinic)
    dialogs.amend_reasons.append("Wrong patient?")
    window.actions_by_name["amend"].trigger()
    field = window.form.patient.patient_id
    field.setFocus()
    field.selectAll()
    type_into(qtbot, field, "MRN-0099")
    wait_screened(qtbot, window)
    window.actions_by_name["sign"].trigger()
    assert window.sign_dialog is None
    assert dialogs.errors and dialogs.errors[-1][0] == "Sign"
    assert "amendment of " + clinic.record_id in dialogs.errors[-1][1]
    assert "MRN-0042" in dialogs.errors[-1][1] and "MRN-0099" in dialogs.errors[-1][1]
