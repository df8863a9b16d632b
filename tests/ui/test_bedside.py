"""The nurse's bedside in the desktop app, driven with the mouse and the keyboard: her own page
(no physician control, not even by shortcut), a single click showing the bedside copy, the
blinded independent double check (match, a named mismatch, a recheck, the witness's password,
an override with a reason and a second nurse) and the countersignature (two valid signatures).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QGroupBox,
    QLabel,
    QLineEdit,
    QTableWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketascreen.doublecheck import SignedOrder
from ketascreen.errors import LoginThrottledError
from ketascreen.records.bedside import DoubleCheckRecord, countersigned_document, signed_order_of
from ketascreen.records.models import AuditEventRow
from ketascreen.reports.verification import verify_pdf
from ketascreen.ui import actions, records_actions
from ketascreen.ui.main_window import PHYSICIAN_ONLY, MainWindow
from ketascreen.ui.qt_bedside import COLUMNS
from ketascreen.ui.qt_double_check import CheckAttempt, QtCountersignDialog, QtDoubleCheckDialog
from ketascreen.ui.settings import AppSettings
from tests.records.support import PASSWORDS
from tests.ui.helpers import FakeDialogs, type_into
from tests.ui.signing_support import PASSPHRASE, Clinic, clinic, make_key, signed_in

__all__ = ["clinic"]

THIRD_NURSE = ("rnkim", "Jo Kim RN", "nurse-password-3")


def _order(clinic: Clinic) -> SignedOrder:
    return signed_order_of(clinic.store, clinic.people.nurse, clinic.record_id)


def _number(quantity: object, unit: str) -> str:
    """The magnitude of ``quantity`` in ``unit`` as a nurse types it (``151``, ``0.5``)."""
    return format(float(quantity.to(unit).magnitude), "g")  # type: ignore[attr-defined]


def _click_row(qtbot: QtBot, window: MainWindow, row: int = 0) -> None:
    table = window.bedside_page.table
    item = table.item(row, COLUMNS.index("Patient"))
    assert item is not None
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=table.visualItemRect(item).center())


def _open_check(qtbot: QtBot, window: MainWindow, dialogs: FakeDialogs) -> QtDoubleCheckDialog:
    qtbot.mouseClick(window.bedside_page.double_check_button, Qt.MouseButton.LeftButton)
    dialog = dialogs.double_checks[-1]
    qtbot.waitExposed(dialog)
    return dialog


def _fill(qtbot: QtBot, dialog: QtDoubleCheckDialog, order: SignedOrder, *,
          rate: str | None = None, witness: str = "rnlee",
          witness_password: str | None = None) -> None:
    """Type both people and what the nurse has in hand (the order's values unless given)."""
    type_into(qtbot, dialog.password, PASSWORDS["rnpatel"])
    type_into(qtbot, dialog.witness, witness)
    type_into(qtbot, dialog.witness_password, witness_password or PASSWORDS[witness])
    type_into(qtbot, dialog.identifiers[0].text, order.patient_name)
    assert order.birth_date is not None
    type_into(qtbot, dialog.identifiers[1].text, order.birth_date.isoformat())
    values = {"vial_concentration": _number(order.concentration_in_hand, "mg/mL"),
              "volume_drawn": _number(order.drug_volume, "mL"),
              "diluent_volume": _number(order.diluent_volume, "mL"),
              "pump_rate": rate or _number(order.programmed_rate, "mL/h"),
              "vtbi": _number(order.vtbi, "mL")}
    for key, text in values.items():
        type_into(qtbot, dialog.fields[key].edit, text)


def _press_check(qtbot: QtBot, dialog: QtDoubleCheckDialog) -> None:
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)


def _visible_texts(root: QWidget) -> list[str]:
    """Every text on screen in ``root``: labels, buttons, group titles, non-password line edits
    and the cells of visible tables."""
    texts: list[str] = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisible():
            continue
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        elif isinstance(widget, QLineEdit) and widget.echoMode() == QLineEdit.EchoMode.Normal:
            texts.append(widget.text())
        elif isinstance(widget, QTableWidget):
            texts += [widget.item(r, c).text() for r in range(widget.rowCount())  # type: ignore[union-attr]
                      for c in range(widget.columnCount())
                      if widget.item(r, c) is not None and not widget.isColumnHidden(c)]
    return texts


def _check_events(clinic: Clinic) -> list[dict[str, object]]:
    return [dict(e.detail) for e in clinic.store.events(clinic.people.physician, clinic.record_id)
            if e.action == "double-check" and e.outcome == "ok"]


def _screenshot(qtbot: QtBot, widget: QWidget, tmp_path: Path, name: str) -> None:
    qtbot.wait(600)  # QPdfView draws its pages asynchronously
    shot = widget.grab()
    assert not shot.isNull()
    folder = Path(os.environ.get("KETASCREEN_SCREENSHOTS", str(tmp_path)))
    assert shot.save(str(folder / name))


@pytest.fixture
def nurse(qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs,
          clinic: Clinic) -> Iterator[MainWindow]:
    """The app signed in as Sam Patel RN, on her bedside page (the dialogs it opened are
    closed afterwards; the app deletes those it closed itself)."""
    window = signed_in(qtbot, settings, dialogs, clinic, "rnpatel")
    window.resize(1500, 900)
    yield window
    for dialog in [*dialogs.double_checks, *dialogs.countersigns]:
        if shiboken6.isValid(dialog):
            dialog.close()


def test_a_nurse_opens_on_the_bedside_page_without_physician_controls(
        qtbot: QtBot, nurse: MainWindow, dialogs: FakeDialogs, clinic: Clinic,
        settings: AppSettings) -> None:
    """Her page is the worklist; no physician menu entry or widget is visible, and the
    physician's sign shortcut does nothing (while her own Ctrl+D does open the check)."""
    window = nurse
    assert window.pages.currentWidget() is window.bedside_page
    assert window.bedside_page.record_ids() == [clinic.record_id]
    visible_actions = {action.objectName(): action.text()
                       for menu_action in window.menuBar().actions() if menu_action.isVisible()
                       for action in menu_action.menu().actions()
                       if action.isVisible() and not action.isSeparator()}
    assert not set(PHYSICIAN_ONLY) & set(visible_actions)
    words = " ".join(visible_actions.values()).lower().replace("&", "")
    for word in ("sign checklist", "amend", "acknowledge", "new screening", "import",
                 "go to the form", "start a course"):
        assert word not in words
    assert {"double-check", "countersign", "print-record", "sign-out"} <= set(visible_actions)
    for name in PHYSICIAN_ONLY:
        assert not window.actions_by_name[name].isEnabled()
    for widget in (window.form, window.findings, window.signed_bar, window.dose,
                   window.decision, window.screenings):
        assert not widget.isVisible()
    buttons = [w.text().replace("&", "") for w in window.findChildren(QAbstractButton)
               if w.isVisible()]
    assert not [t for t in buttons if re.search(r"\b(Acknowledge|Sign|Amend)\b(?! out)", t)]
    # Shortcuts: the physician's Sign (Ctrl+G) does nothing; her own Ctrl+D works.
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    _click_row(qtbot, window)
    qtbot.keyClick(window.bedside_page.table, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.bedside_page.table, Qt.Key.Key_G,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.sign_dialog is None and dialogs.errors == [] and window.amending is None
    with clinic.store.database.read() as session:
        refused = session.execute(select(AuditEventRow.action).where(
            AuditEventRow.outcome == "refused")).scalars().all()
    assert refused == []
    qtbot.keyClick(window.bedside_page.table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(dialogs.double_checks) == 1
    dialogs.double_checks[0].reject()
    # Signing out gives the physician's page and menus back; so does a physician signing in.
    assert window.sign_out()
    assert window.pages.currentWidget() is window.physician_page
    assert window.form.isVisible() and window.actions_by_name["sign"].isVisible()
    assert window.actions_by_name["sign"].isEnabled()
    doctor = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    assert doctor.pages.currentWidget() is doctor.physician_page
    assert all(doctor.actions_by_name[name].isVisible() for name in PHYSICIAN_ONLY)


def test_a_nurse_may_still_not_sign_when_asked_directly(
        nurse: MainWindow, dialogs: FakeDialogs) -> None:
    """The store stays the backstop: a sign asked for by code is refused and recorded."""
    nurse.sign()
    assert nurse.sign_dialog is None
    assert dialogs.errors and "rnpatel (nurse) is not allowed to sign" in dialogs.errors[0][1]


def test_a_single_click_shows_the_bedside_copy_of_the_row(
        qtbot: QtBot, nurse: MainWindow, clinic: Clinic, tmp_path: Path) -> None:
    """The row carries the order as signed; one click shows that record's signed PDF."""
    page = nurse.bedside_page
    order = _order(clinic)
    assert page.cell(clinic.record_id, "Infusion") == "First screening"
    assert page.cell(clinic.record_id, "Pump rate") == dict(order.rows())["Pump rate"]
    assert page.cell(clinic.record_id, "Double check") == "NOT DONE"
    assert "Alex Rivera" in page.cell(clinic.record_id, "Patient")
    assert not page.pdf_shown() and nurse.record is None
    _click_row(qtbot, nurse)
    assert page.pdf_shown() and page.page_count() >= 1
    block = page.bedside_page()
    assert block is not None and page.current_page() == block  # opened at the bedside block
    assert nurse.record is not None and nurse.record.item.record_id == clinic.record_id
    assert page.double_check_button.isEnabled() and page.print_button.isEnabled()
    assert "physician-signed copy" in page.caption.text()
    assert not page.countersign_button.isEnabled()  # no double check yet
    qtbot.waitUntil(page.view.isVisible, timeout=2000)
    _screenshot(qtbot, nurse, tmp_path, "u14-worklist.png")
    assert nurse.print_record_to_pdf(tmp_path / "printed.pdf") >= 1
    assert page.cell(clinic.record_id, "Printed") == "1\u00d7"
    assert page.selected() == clinic.record_id and page.pdf_shown()


def test_double_check_match_mismatch_and_recheck(
        qtbot: QtBot, nurse: MainWindow, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    """Rate 15.1 instead of the order's names "Pump rate", marks it and shows no order number;
    the recheck with the right rate matches and shows her values beside the order's."""
    order = _order(clinic)
    rate = _number(order.programmed_rate, "mL/h")
    wrong = format(float(rate) / 10, "g")
    _click_row(qtbot, nurse)
    dialog = _open_check(qtbot, nurse, dialogs)
    page = nurse.bedside_page
    assert page.blinded and not page.pdf_shown() and not page.print_button.isEnabled()
    for column in ("Dose", "Pump rate"):
        assert page.table.isColumnHidden(COLUMNS.index(column))
    assert all(field.unit.isVisible() for field in dialog.fields.values())
    assert dialog.fields["pump_rate"].unit.text() == "mL/h"
    _screenshot(qtbot, dialog, tmp_path, "u14-check-blinded.png")
    _screenshot(qtbot, nurse, tmp_path, "u14-worklist-blinded.png")
    _fill(qtbot, dialog, order, rate=wrong)
    _press_check(qtbot, dialog)
    assert dialog.record is not None and dialog.record.result == "mismatch"
    verdict = dialog.verdict.text()
    assert "Pump rate" in verdict and "DOES NOT MATCH" in verdict
    assert [i.item for i in dialog.record.outcome.mismatches] == ["Pump rate"]
    assert dialog.fields["pump_rate"].edit.styleSheet()  # marked
    assert not dialog.fields["vtbi"].edit.styleSheet()
    shown = " ".join(_visible_texts(dialog) + _visible_texts(nurse))
    assert not re.search(rf"(?<![\d.]){re.escape(rate)}(?![\d.])", shown), shown
    assert dict(order.rows())["Dose"] not in shown
    assert not dialog.comparison.isVisible() and not dialog.countersign_button.isVisible()
    assert dialog.fields["pump_rate"].edit.text() == wrong  # kept for the recheck
    _screenshot(qtbot, dialog, tmp_path, "u14-check-mismatch.png")
    # Recheck: the nurse corrects the rate and presses Enter.
    edit = dialog.fields["pump_rate"].edit
    edit.selectAll()
    type_into(qtbot, edit, rate)
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert dialog.record.result == "match", dialog.message.text()
    assert "MATCHES THE ORDER" in dialog.verdict.text()
    assert dialog.comparison.isVisible() and dialog.countersign_button.isVisible()
    rows = {dialog.comparison.item(r, 0).text(): (dialog.comparison.item(r, 1).text(),  # type: ignore[union-attr]
                                                  dialog.comparison.item(r, 2).text())  # type: ignore[union-attr]
            for r in range(dialog.comparison.rowCount())}
    assert rows["Pump rate"][0] == rows["Pump rate"][1] == dict(order.rows())["Pump rate"]
    assert "Dose" in rows and "Dose per kg" in rows
    _screenshot(qtbot, dialog, tmp_path, "u14-check-match.png")
    assert [e.get("result") for e in _check_events(clinic)] == ["mismatch", "match"]
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert not page.blinded and page.pdf_shown()
    assert page.cell(clinic.record_id, "Double check") == "\u2714 MATCH"
    assert page.countersign_button.isEnabled()


def test_the_witness_must_authenticate(
        qtbot: QtBot, nurse: MainWindow, dialogs: FakeDialogs, clinic: Clinic) -> None:
    """A wrong witness password is refused beside her password, nothing is compared; the
    checker as her own witness is refused; entry errors name the field."""
    order = _order(clinic)
    _click_row(qtbot, nurse)
    dialog = _open_check(qtbot, nurse, dialogs)
    _fill(qtbot, dialog, order, witness_password="not-her-password")
    _press_check(qtbot, dialog)
    assert dialog.record is None
    assert dialog.witness_password_message.isVisible()
    assert "rnlee" in dialog.witness_password_message.text()
    assert "not accepted" in dialog.witness_password_message.text()
    assert dialog.witness_password.text() == "" and not dialog.countersign_button.isVisible()
    assert [e for e in _check_events(clinic) if e.get("result") in ("match", "override")] == []
    # Her own name as witness: refused, named under the witness.
    dialog.witness.selectAll()
    type_into(qtbot, dialog.witness, "rnpatel")
    type_into(qtbot, dialog.witness_password, PASSWORDS["rnpatel"])
    _press_check(qtbot, dialog)
    assert dialog.record is None and dialog.witness_message.isVisible()
    # An entry that is not a number is named, and nothing is recorded.
    dialog.witness.selectAll()
    type_into(qtbot, dialog.witness, "rnlee")
    type_into(qtbot, dialog.witness_password, PASSWORDS["rnlee"])
    dialog.fields["vtbi"].edit.selectAll()
    type_into(qtbot, dialog.fields["vtbi"].edit, "lots")
    _press_check(qtbot, dialog)
    assert dialog.record is None
    assert dialog.fields["vtbi"].message.isVisible()
    assert dialog.fields["vtbi"].message.text().count("VTBI") == 1
    assert [e for e in _check_events(clinic) if e.get("result") == "match"] == []


def test_an_override_needs_a_reason_and_a_second_nurse(
        qtbot: QtBot, nurse: MainWindow, dialogs: FakeDialogs, clinic: Clinic) -> None:
    """Override is offered after a mismatch only; without a reason nothing is recorded; the
    witness cannot be the second nurse; a third nurse with her password overrides."""
    username, name, password = THIRD_NURSE
    clinic.store.add_user(clinic.people.admin, username=username, display_name=name,
                          role="nurse", password=password)
    order = _order(clinic)
    _click_row(qtbot, nurse)
    dialog = _open_check(qtbot, nurse, dialogs)
    assert not dialog.override_button.isVisible()
    _fill(qtbot, dialog, order, rate="15.1")
    _press_check(qtbot, dialog)
    assert dialog.override_button.isVisible()
    qtbot.mouseClick(dialog.override_button, Qt.MouseButton.LeftButton)
    assert dialog.override_box.isVisible()
    before = len(_check_events(clinic))
    qtbot.mouseClick(dialog.record_override, Qt.MouseButton.LeftButton)
    assert "a typed reason" in dialog.override_message.text()
    assert len(_check_events(clinic)) == before
    type_into(qtbot, dialog.override_text, "Pump rate confirmed by pharmacy")
    type_into(qtbot, dialog.override_nurse, "rnlee")
    type_into(qtbot, dialog.override_password, PASSWORDS["rnlee"])
    qtbot.mouseClick(dialog.record_override, Qt.MouseButton.LeftButton)
    assert dialog.record is not None and dialog.record.result == "mismatch"
    assert dialog.override_message.isVisible() and "Refused" in dialog.override_message.text()
    dialog.override_nurse.selectAll()
    type_into(qtbot, dialog.override_nurse, username)
    type_into(qtbot, dialog.override_password, password)
    qtbot.mouseClick(dialog.record_override, Qt.MouseButton.LeftButton)
    assert dialog.record.result == "override", dialog.override_message.text()
    assert dialog.record.override_by == username
    assert "OVERRIDDEN" in dialog.verdict.text() and dialog.countersign_button.isVisible()
    last = _check_events(clinic)[-1]
    assert last.get("result") == "override" and last.get("override_by") == username


def _stamp_shown_and_printed(window: MainWindow, stored: bytes, order: SignedOrder,
                             tmp_path: Path) -> None:
    """QtPdf draws no signature stamp: the page shows (and prints) a copy with the stamps drawn
    in, so her entered values are on screen and paper beside the order's."""
    page = window.bedside_page
    block = page.bedside_page()
    assert block is not None
    shown = page.document.getAllText(block).text()
    assert "Sam Patel RN" in shown and "MATCHES THE ORDER" in shown
    assert "Pump rate: " + dict(order.rows())["Pump rate"] in shown
    copy = actions.display_copy(pdf=stored)
    assert copy != stored and verify_pdf(stored).signatures[1].valid
    assert actions.display_copy(pdf=copy[:100]) == copy[:100]  # unreadable: as given
    assert window.print_record_to_pdf(tmp_path / "printed.pdf") >= 1


def test_countersign_after_a_match_gives_two_valid_signatures(
        qtbot: QtBot, nurse: MainWindow, dialogs: FakeDialogs, clinic: Clinic,
        settings: AppSettings, tmp_path: Path) -> None:
    """Countersign... from the matched check: her key store, registered on the way; the stored
    bedside copy then carries both signatures, valid, and the row names her."""
    key = make_key(tmp_path, "Sam Patel RN", "rnpatel.p12", credentials="RN")
    order = _order(clinic)
    _click_row(qtbot, nurse)
    check = _open_check(qtbot, nurse, dialogs)
    _fill(qtbot, check, order)
    _press_check(qtbot, check)
    assert check.record is not None and check.record.result == "match"
    qtbot.mouseClick(check.countersign_button, Qt.MouseButton.LeftButton)
    assert len(dialogs.countersigns) == 1
    dialog: QtCountersignDialog = dialogs.countersigns[0]
    assert not nurse.bedside_page.blinded
    picker = dialog.picker
    picker.certificate.clear()
    type_into(qtbot, picker.certificate, str(key))
    type_into(qtbot, picker.passphrase, PASSPHRASE)
    qtbot.keyClick(picker.passphrase, Qt.Key.Key_Return)
    assert picker.identity is not None and picker.identity.name == "Sam Patel RN"
    assert picker.register.isVisible()  # nobody's yet: she confirms it is hers
    assert not dialog.sign_button.isEnabled()
    qtbot.mouseClick(picker.register, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.attest, Qt.MouseButton.LeftButton)
    assert dialog.sign_button.isEnabled()
    _screenshot(qtbot, dialog, tmp_path, "u14-countersign.png")
    with qtbot.waitSignal(dialog.accepted, timeout=30000):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert dialog.pdf is not None
    opened = nurse.record
    assert opened is not None and opened.countersigned and opened.pdf == dialog.pdf
    stored = countersigned_document(clinic.store, clinic.record_id)
    assert stored is not None and stored.pdf == dialog.pdf
    folder = os.environ.get("KETASCREEN_SCREENSHOTS")
    if folder:  # to look at the countersigned pages
        (Path(folder) / "u14-countersigned.pdf").write_bytes(stored.pdf)
    verification = verify_pdf(stored.pdf)
    assert [(s.signer, s.intact, s.valid) for s in verification.signatures] == [
        ("Dr Jane Smith", True, True), ("Sam Patel RN", True, True)]
    page = nurse.bedside_page
    assert page.cell(clinic.record_id, "Countersigned by").startswith("Sam Patel RN")
    assert page.pdf_shown() and not page.countersign_button.isEnabled()
    assert "countersigned by Sam Patel RN" in page.caption.text() and page.caption.isVisible()
    _stamp_shown_and_printed(nurse, stored.pdf, order, tmp_path)
    assert not page.double_check_button.isEnabled()
    _screenshot(qtbot, nurse, tmp_path, "u14-worklist-countersigned.png")
    # The physician's list says what was done at the bedside.
    doctor = signed_in(qtbot, settings, FakeDialogs(), clinic, "drsmith")
    entry = next(e for e in doctor.screenings.entries() if e.key == clinic.record_id)
    assert "double check \u2714 MATCH (rnpatel)" in entry.detail
    assert "countersigned by Sam Patel RN" in entry.detail


def test_the_signer_may_not_witness_and_a_throttled_witness_is_told_when(
        qtbot: QtBot, nurse: MainWindow, dialogs: FakeDialogs, clinic: Clinic) -> None:
    """The physician who signed the order is refused as the witness (under the witness, from
    the error's field); a throttled login is shown from its fields (who, how many, when)."""
    order = _order(clinic)
    _click_row(qtbot, nurse)
    dialog = _open_check(qtbot, nurse, dialogs)
    _fill(qtbot, dialog, order, witness="drsmith")
    _press_check(qtbot, dialog)
    assert dialog.record is None
    assert dialog.witness_message.isVisible() and "Refused" in dialog.witness_message.text()
    assert dialog.witness_password.text() == ""  # the next witness types her own
    assert _check_events(clinic) == []
    dialog.reject()

    retry = datetime.now(UTC) + timedelta(seconds=8)

    def throttled(attempt: CheckAttempt) -> DoubleCheckRecord:
        raise LoginThrottledError(attempt.witness, retry_at=retry, wait_seconds=8, failures=4)

    assert nurse.actor is not None
    check = QtDoubleCheckDialog(throttled, nurse.actor, "KS-000000000000")
    qtbot.addWidget(check)
    _fill(qtbot, check, order)
    assert not check.check()
    text = check.witness_password_message.text()
    assert "Too many failed sign-ins in a row for rnlee (4): try again in 8 s" in text
    assert retry.astimezone().strftime("%H:%M:%S") in text
    assert not check.password_message.isVisible()


def test_the_infusion_column_names_the_infusion_of_its_course() -> None:
    """A first screening, infusion 3 of a planned 6, an infusion of a course with no plan."""
    assert records_actions.infusion_text(None) == "First screening"
    assert records_actions.infusion_text((3, 6)) == "Infusion 3 of 6"
    assert records_actions.infusion_text((3, None)) == "Infusion 3"
