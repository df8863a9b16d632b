"""The course view per patient from the records database, driven with real widgets offscreen:
a physician starts a course from the signed screening (Records > Start a course), screens the
day-of re-check of infusion 1 with the store and signs it through the Sign dialog (the signed
checklist staged and put in place once the store took it); a nurse opens the patient's course,
sees no check or sign control, and records monitoring readings (a refused value named by its
field path, nothing recorded; then recorded, with the thresholds' findings). Refusals are worded
from the typed errors' fields. The wheel changes nothing; a screenshot of the records-backed
view."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QTableWidget
from pytestqt.qtbot import QtBot

from ketascreen.records import users
from ketascreen.records.courseviews import (
    CourseStartError,
    InfusionNotSignedError,
    InfusionOrderError,
    InfusionRecordError,
    InfusionSignedError,
    InfusionState,
)
from ketascreen.records.repository import RecordStore
from ketascreen.reports.output import SigningRequest
from ketascreen.ui import course_records_actions
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.qt_course import QtCourseWindow
from ketascreen.ui.qt_recheck import QtRecheckForm
from ketascreen.ui.settings import AppSettings
from ketascreen.ui.wheel_guard import install_wheel_guard
from tests.records.conftest import add_people
from tests.records.support import KEY_PASSPHRASE, PASSWORDS, screening_of, signed_pdf
from tests.ui.helpers import FakeDialogs, activate, type_into, wheel
from tests.ui.signing_support import (
    Clinic,
    clear_case_file,
    finish_signing,
    make_key,
    open_sign_dialog,
    signed_in,
)

COURSE_EXAMPLE = Path(__file__).resolve().parents[1] / "course" / "data" / "course-example.json"
PASSPHRASE = KEY_PASSPHRASE.decode("utf-8")


def _day_of() -> dict[str, Any]:
    """Infusion 1 of the example course without what is recorded after it."""
    first = json.loads(COURSE_EXAMPLE.read_text(encoding="utf-8"))["infusions"][0]
    return {k: v for k, v in copy.deepcopy(first).items()
            if k not in ("monitoring", "rescue", "discharge")}


class _Clock:
    """The fixture store's clock, some days back: each checklist it signs is the patient's
    only one that day (one signed screening checklist per patient and day)."""

    def __init__(self) -> None:
        self.days_ago = 2

    def __call__(self) -> datetime:
        return datetime.now(UTC) - timedelta(days=self.days_ago)



@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clinic]:
    """A records database whose example screening (Alex Rivera, MRN-0042) was signed by
    Dr Smith two days ago: today's infusion checklist is the patient's only one signed today."""
    monkeypatch.setattr(users, "_HASHER", PasswordHasher.from_parameters(CHEAPEST))
    url = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", url)
    key = make_key(tmp_path, "Dr Jane Smith", "drsmith.p12")
    request = SigningRequest(key.read_bytes(), KEY_PASSPHRASE, str(key))
    clock = _Clock()
    store = RecordStore.open(url, clock=clock)
    people = add_people(store, request)
    screening = screening_of()
    stored = store.create(people.physician, screening, signed_pdf=signed_pdf(screening, request))
    try:
        clock.days_ago = 1  # what the fixture's store signs next is yesterday's
        yield Clinic(url, store, people, stored.record_id, key)
    finally:
        store.close()


def _infusion_signed(clinic: Clinic) -> str:
    """A course of the clinic's screening with infusion 1 checked and signed yesterday."""
    store, physician = clinic.store, clinic.people.physician
    course_id = store.start_course(physician, clinic.record_id).course_id
    infusion = _day_of()
    screening = store.screen_infusion(physician, course_id, infusion)
    request = SigningRequest(clinic.key.read_bytes(), KEY_PASSPHRASE, str(clinic.key))
    store.check_infusion(physician, course_id, infusion,
                         signed_pdf=signed_pdf(screening, request))
    return course_id


def _cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    return "" if item is None else item.text()


def _shown(qtbot: QtBot, window: MainWindow) -> QtCourseWindow:
    view = window.course.view
    assert view is not None and window.course.course_id is not None
    qtbot.waitExposed(view)
    qtbot.waitUntil(view.isActiveWindow, timeout=2000)
    return view


def _keys(qtbot: QtBot, text: str, then: Qt.Key = Qt.Key.Key_Tab) -> None:
    """Type ``text`` where the keyboard focus is, then press ``then`` (Tab: next cell)."""
    qtbot.wait(10)
    for char in text:
        focus = QApplication.focusWidget()
        assert focus is not None
        qtbot.keyClick(focus, char)
    focus = QApplication.focusWidget()
    assert focus is not None
    qtbot.keyClick(focus, then)
    qtbot.wait(10)


def _screenshot(qtbot: QtBot, view: QtCourseWindow, tmp_path: Path, name: str) -> Path:
    qtbot.wait(50)  # the layout follows the rows shown
    shot = view.grab()
    assert not shot.isNull() and shot.width() > 600
    folder = Path(os.environ.get("KETASCREEN_SCREENSHOTS", str(tmp_path)))
    out = folder / name
    assert shot.save(str(out))
    return out


def _type_recheck(qtbot: QtBot, form: QtRecheckForm) -> None:
    """Type infusion 1's day-of re-check of the example course (the weight left carried)."""
    pre = _day_of()["pre"]
    type_into(qtbot, form.start, "2026-11-27T09:00")
    for name in ("last_solids", "last_clear_fluids", "blood_pressure", "heart_rate", "spo2"):
        type_into(qtbot, form.edits[name], pre[name])
    type_into(qtbot, form.edits["phq9"], "2 2 1 2 1 1 1 1 0")
    for name, key in (("escort", Qt.Key.Key_Y), ("pregnancy_test", Qt.Key.Key_N),
                      ("urinary_symptoms", Qt.Key.Key_N)):
        form.choices[name].setFocus()
        qtbot.keyClick(form.choices[name], key)


def _sign(qtbot: QtBot, window: MainWindow, key: Path, out: Path) -> None:
    """In the Sign dialog the course view opened: the key store, its passphrase, the output,
    the attestation, Sign."""
    dialog = window.course.sign_dialog
    assert dialog is not None, window.course.dialogs
    qtbot.addWidget(dialog)
    dialog.certificate.clear()
    type_into(qtbot, dialog.certificate, str(key))
    type_into(qtbot, dialog.passphrase, PASSPHRASE)
    qtbot.keyClick(dialog.passphrase, "\r")
    finish_signing(qtbot, dialog, out)


def test_a_physician_starts_a_course_and_signs_the_recheck_of_infusion_1(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    assert window.open_record(clinic.record_id) is not None  # the signed screening
    start = window.actions_by_name["start-course"]
    assert start.isEnabled()
    start.trigger()  # Records > Start a course from this screening
    assert dialogs.errors == []
    view = _shown(qtbot, window)
    course_id = window.course.course_id
    assert course_id is not None and course_id.startswith("KC-")
    assert "course " + course_id in view.overview.heading.text()
    assert view.overview.infusions.rowCount() == 0  # no plan, nothing stored yet
    assert view.tabs.isTabVisible(1)  # the re-check is offered to a physician

    qtbot.keyClick(view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # Ctrl+2
    form = view.recheck
    assert view.tabs.currentIndex() == 1
    assert "infusion 1" in form.title.text()
    assert form.edits["weight"].text() == "187 lb"
    assert form.mark_text("weight").startswith("\u21bb carried over from the screening")
    assert form.save_button.text().replace("&", "") == "Sign and store in the records..."
    _type_recheck(qtbot, form)
    # a value the course model refuses is named by its path, and nothing is stored
    type_into(qtbot, form.edits["gad7"], "40")
    qtbot.keyClick(form.edits["spo2"], Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "infusions[0].pre.gad7" in form.problems.text()
    assert clinic.store.course(clinic.people.physician, course_id).stored == 0
    form.edits["gad7"].clear()
    qtbot.keyClick(form.edits["spo2"], Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    outcome = window.course.outcome
    assert outcome is not None and outcome.course is not None
    assert outcome.form.decision == "clear", [f.concept for f in outcome.form.findings]
    assert form.problems.isHidden()

    activate(qtbot, form.save_button)  # Sign and store in the records...
    out = tmp_path / "infusion-1.pdf"
    _sign(qtbot, window, clinic.key, out)
    assert dialogs.errors == []

    shown = clinic.store.course(clinic.people.physician, course_id)
    assert [i.state for i in shown.infusions] == [InfusionState.SIGNED]
    record = shown.infusions[0].current_record_id
    assert record is not None
    assert out.read_bytes() == clinic.store.document(clinic.people.physician, record)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging
    assert _cell(view.overview.infusions, 0, 2) == "\u270d signed"
    assert _cell(view.overview.infusions, 0, 3) == "11"  # its PHQ-9
    assert "infusion 2" in form.title.text()  # the next re-check is the next infusion's
    assert view.overview.figure("Course status") != ""
    assert not view.overview.chart.isHidden()
    assert view.monitoring.save_button.isHidden()  # a physician records no monitoring
    view.show_tab(0)
    _screenshot(qtbot, view, tmp_path, "course-records-physician.png")


def test_a_draft_infusion_is_checked_again_and_signed(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    store, physician = clinic.store, clinic.people.physician
    course_id = store.start_course(physician, clinic.record_id).course_id
    draft = store.check_infusion(physician, course_id, _day_of())  # checked, not signed
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    assert window.course.open_record_course(course_id)
    view = _shown(qtbot, window)
    assert _cell(view.overview.infusions, 0, 2) == "\u25d0 checked"
    qtbot.keyClick(view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    form = view.recheck
    assert "infusion 1" in form.title.text()  # the draft, not a new infusion 2
    assert form.start.text() == "2026-11-27T09:00"
    pre = _day_of()["pre"]  # the draft's own day-of values, marked as the draft's
    for name in ("last_solids", "last_clear_fluids", "blood_pressure", "heart_rate", "spo2",
                 "weight", "since_last"):
        assert form.edits[name].text() == pre[name], name
        assert form.mark_text(name).startswith("\u270e the draft's value (infusion 1"), name
    assert form.edits["phq9"].text() == "2 2 1 2 1 1 1 1 0"
    assert form.edits["gad7"].text() == "12"
    assert form.edits["dose"].text() == "0.5 mg/kg"
    assert "draft" in form.mark_text("dose") and "carried" not in form.mark_text("dose")
    assert [form.choices[n].currentText() for n in ("escort", "pregnancy_test",
                                                    "urinary_symptoms")] == ["yes", "negative",
                                                                             "no"]
    assert "draft" in form.mark_text("escort")
    assert not form.has_input()
    form.edits["heart_rate"].setFocus()  # the twin: a value typed over is marked changed
    form.edits["heart_rate"].selectAll()
    type_into(qtbot, form.edits["heart_rate"], "72 /min")
    assert form.mark_text("heart_rate") == "\u270e changed from the draft's 70 /min"
    form.edits["heart_rate"].selectAll()
    type_into(qtbot, form.edits["heart_rate"], "70 /min")  # put back: signed unchanged
    assert not form.has_input()
    activate(qtbot, form.save_button)
    _sign(qtbot, window, clinic.key, tmp_path / "infusion-1.pdf")
    assert dialogs.errors == []
    shown = store.course(physician, course_id)
    assert [i.state for i in shown.infusions] == [InfusionState.SIGNED]
    assert shown.infusions[0].current_record_id == draft.record_id  # the draft itself signed
    assert "infusion 2" in form.title.text()


def test_an_infusion_signed_today_is_no_screening_signed_today(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    """The app warns before signing a screening by the store's rule per document kind: an
    infusion's checklist signed today does not count (no warning, the screening signed), a
    screening signed today does (a second one is refused with the way to amend)."""
    request = SigningRequest(clinic.key.read_bytes(), KEY_PASSPHRASE, str(clinic.key))
    with RecordStore.open(clinic.url) as today:  # the app's clock: infusion 1 signed today
        physician = today.authenticate("drsmith", PASSWORDS["drsmith"])
        course_id = today.start_course(physician, clinic.record_id).course_id
        screening = today.screen_infusion(physician, course_id, _day_of())
        infusion = today.check_infusion(physician, course_id, _day_of(),
                                        signed_pdf=signed_pdf(screening, request))
    assert infusion.is_signed
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    window.open_path(clear_case_file(tmp_path, {"measurements.heart_rate": "68 /min"}))
    assert window.current_outcome().decision == "clear"
    dialog = open_sign_dialog(qtbot, window, clinic.key)
    assert dialogs.offers == []  # no warning: the infusion's checklist is another document
    finish_signing(qtbot, dialog, tmp_path / "screening.pdf")
    assert dialogs.errors == []
    day = datetime.now(UTC).astimezone(clinic.store.zone).date()  # the app's today
    signed = clinic.store.signed_today_for_patient(clinic.people.physician, "MRN-0042", day)
    assert signed is not None and signed.record_id != infusion.record_id

    window.open_path(clear_case_file(tmp_path, {"measurements.heart_rate": "70 /min"},
                                     name="second.json"))
    window.sign_dialog = None
    window.actions_by_name["sign"].trigger()
    assert window.sign_dialog is None  # a second screening today: refused, amend offered
    assert len(dialogs.offers) == 1 and signed.record_id in dialogs.offers[0][1]


def _courses_of_the_open_patient(qtbot: QtBot, window: MainWindow,
                                 record_id: str) -> QtCourseWindow:
    """Open the signed screening ``record_id``, then Records > Courses of this patient."""
    assert window.open_record(record_id) is not None, window.course.dialogs
    courses = window.actions_by_name["patient-courses"]
    assert courses.isEnabled()
    assert not window.actions_by_name["start-course"].isEnabled()  # a nurse starts none
    courses.trigger()
    return _shown(qtbot, window)


def test_a_nurse_records_monitoring_and_sees_no_check_or_sign_control(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    course_id = _infusion_signed(clinic)
    window = signed_in(qtbot, settings, dialogs, clinic, "rnpatel")
    view = _courses_of_the_open_patient(qtbot, window, clinic.record_id)
    assert window.course.course_id == course_id
    assert not view.tabs.isTabVisible(1)  # no day-of re-check for a nurse
    qtbot.keyClick(view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert view.tabs.currentIndex() == 0  # Ctrl+2 does not open a hidden tab
    assert view.recheck.save_button.isHidden() and view.recheck.screen_button.isHidden()
    assert _cell(view.overview.infusions, 0, 2) == "\u270d signed"

    qtbot.keyClick(view, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert view.tabs.currentIndex() == 2
    monitoring = view.monitoring
    assert "infusion 1" in monitoring.title.text()
    assert monitoring.save_button.text().replace("&", "") == "Save the readings to the records"
    table = monitoring.table
    table.setFocus()
    table.setCurrentCell(0, 1)
    for text in ("132/84", "70", "98", "7"):  # minute 0; MOAA/S 7 is refused (0-5)
        _keys(qtbot, text)
    table.setCurrentCell(4, 1)
    _keys(qtbot, "186/96")  # minute 40: a spike
    _keys(qtbot, "88")
    _keys(qtbot, "97", Qt.Key.Key_Return)
    activate(qtbot, monitoring.save_button)
    assert "infusions[0].monitoring[0].moaas" in monitoring.problems.text()
    assert clinic.store.course(clinic.people.nurse, course_id).infusions[0].monitoring == 0

    table.setFocus()
    table.setCurrentCell(0, 4)
    _keys(qtbot, "5", Qt.Key.Key_Return)
    activate(qtbot, monitoring.save_button)
    assert dialogs.errors == []
    assert monitoring.problems.isHidden(), monitoring.problems.text()
    shown = clinic.store.course(clinic.people.nurse, course_id).infusions[0]
    assert shown.state is InfusionState.INFUSED
    assert shown.monitoring == 2
    assert shown.findings  # the spike's findings, stored with the reading
    assert _cell(view.overview.infusions, 0, 2) == "\u25cf infused"
    _screenshot(qtbot, view, tmp_path, "course-records-monitoring.png")
    view.show_tab(0)
    _screenshot(qtbot, view, tmp_path, "course-records-nurse.png")


def test_a_nurse_records_rescue_drugs_and_the_discharge(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic) -> None:
    """With the keyboard in the monitoring tab: a rescue drug whose dose has no unit is refused
    by the store naming its field path (nothing recorded); recorded, then a second, the
    cumulative total per drug shown; the discharge recorded once (its entry then closed)."""
    course_id = _infusion_signed(clinic)
    window = signed_in(qtbot, settings, dialogs, clinic, "rnpatel")
    view = _courses_of_the_open_patient(qtbot, window, clinic.record_id)
    qtbot.keyClick(view, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    monitoring = view.monitoring
    assert monitoring.rescue_given.text() == "none"
    assert monitoring.discharge_recorded.text() == "not recorded yet"
    monitoring.rescue["drug"].setFocus()
    _keys(qtbot, "ondansetron")  # Tab: on to the dose, then the minute
    _keys(qtbot, "4")
    _keys(qtbot, "15", Qt.Key.Key_Return)
    assert monitoring.has_input()
    qtbot.keyClick(monitoring.rescue["minute"], Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert "infusions[0].rescue[0].dose" in monitoring.problems.text()
    assert clinic.store.course(clinic.people.nurse, course_id).infusions[0].state \
        is InfusionState.SIGNED  # nothing recorded

    monitoring.rescue["dose"].selectAll()
    type_into(qtbot, monitoring.rescue["dose"], "4 mg")
    activate(qtbot, monitoring.save_button)
    assert dialogs.errors == [] and monitoring.problems.isHidden(), monitoring.problems.text()
    assert monitoring.rescue_given.text() == ("ondansetron 4 mg at minute 15. Total: "
                                              "ondansetron 4 mg")
    assert monitoring.rescue["drug"].text() == ""  # the entry starts empty again
    monitoring.rescue["drug"].setFocus()
    _keys(qtbot, "ondansetron")
    _keys(qtbot, "4 mg")
    _keys(qtbot, "50")  # and on to the discharge: minute, Aldrete score, escort
    _keys(qtbot, "90")
    _keys(qtbot, "10")
    focus = QApplication.focusWidget()
    assert focus is monitoring.discharge_escort
    qtbot.keyClick(focus, Qt.Key.Key_Y)
    qtbot.keyClick(focus, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert dialogs.errors == [] and monitoring.problems.isHidden(), monitoring.problems.text()
    assert monitoring.rescue_given.text().endswith("Total: ondansetron 8 mg")
    assert monitoring.discharge_recorded.text() == ("recorded: minute 90, Aldrete 10, "
                                                    "escort yes")
    assert not monitoring.discharge["minute"].isEnabled()  # recorded once
    shown = clinic.store.course(clinic.people.nurse, course_id).infusions[0]
    assert shown.state is InfusionState.DISCHARGED
    document = clinic.store.course_document(clinic.people.nurse, course_id).infusion(1)
    assert [(r.drug, r.dose, r.minute) for r in document.rescue] == [
        ("ondansetron", "4 mg", 15), ("ondansetron", "4 mg", 50)]


def test_refusals_are_worded_from_the_typed_errors(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic) -> None:
    course_id = _infusion_signed(clinic)
    infusion_record = clinic.store.course(clinic.people.physician,
                                          course_id).infusions[0].record_id
    assert infusion_record is not None
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    assert not window.course.start_course(infusion_record)
    assert dialogs.errors[-1] == (
        "Start a course", f"No course is started from {infusion_record}: a course starts "
        "from a signed first screening (this record is signed).")
    assert not window.course.open_record_course("KC-000000000000")
    assert dialogs.errors[-1] == ("Open course", "Course KC-000000000000: not found, or no "
                                  "infusion stored in it yet.")

    nurse = signed_in(qtbot, settings, FakeDialogs(), clinic, "rnlee")
    assert not nurse.course.start_course(clinic.record_id)
    title, text = nurse.course.dialogs.errors[-1]  # type: ignore[attr-defined]
    assert title == "Start a course"
    assert text.startswith("rnlee (nurse) is not allowed to screen")
    assert not nurse.course.courses_of_patient("MRN-9999")
    assert "has no course" in nurse.course.dialogs.infos[-1][1]  # type: ignore[attr-defined]


def test_a_recorded_reading_is_never_changed_and_only_later_ones_are_added(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic) -> None:
    course_id = _infusion_signed(clinic)
    clinic.store.record_after_infusion(clinic.people.nurse, course_id, 1, monitoring=[
        {"minute": 0, "blood_pressure": "132/84 mmHg", "heart_rate": "70 /min"},
        {"minute": 40, "blood_pressure": "186/96 mmHg"}])
    window = signed_in(qtbot, settings, dialogs, clinic, "rnpatel")
    view = _courses_of_the_open_patient(qtbot, window, clinic.record_id)
    view.show_tab(2)
    monitoring = view.monitoring
    # a recorded reading is never changed: an edit to it is refused, nothing recorded
    table = monitoring.table
    table.setFocus()
    table.setCurrentCell(0, 2)
    _keys(qtbot, "9", Qt.Key.Key_Return)  # minute 0's heart rate edited
    activate(qtbot, monitoring.save_button)
    assert ("infusions[0].monitoring: the reading at minute 0 is recorded already"
            in monitoring.problems.text())
    assert clinic.store.course(clinic.people.nurse, course_id).infusions[0].monitoring == 2
    table.setFocus()
    table.setCurrentCell(0, 2)
    _keys(qtbot, "70 /min", Qt.Key.Key_Return)  # put back as it was
    # what is recorded is not sent again: only a later reading is new
    row = next(r for r in range(table.rowCount()) if _cell(table, r, 0) == "55")
    table.setFocus()
    table.setCurrentCell(row, 1)
    _keys(qtbot, "130/80", Qt.Key.Key_Return)
    activate(qtbot, monitoring.save_button)
    assert dialogs.errors == []
    assert clinic.store.course(clinic.people.nurse, course_id).infusions[0].monitoring == 3
    assert monitoring.problems.isHidden()


@pytest.mark.parametrize(("error", "text"), [
    pytest.param(CourseStartError("KS-1", "?", "signed", "KS-2"),
                 "No course is started from KS-1: the amendment KS-2 replaces it. Open that "
                 "record and start from it.", id="start-amended"),
    pytest.param(CourseStartError("KS-1", "?", "draft"),
                 "No course is started from KS-1: it is not signed. Sign its checklist first.",
                 id="start-draft"),
    pytest.param(InfusionNotSignedError("KC-1", "?", 3),
                 "Infusion 3 of course KC-1 has no signed checklist: nothing is recorded after "
                 "an infusion before its checklist is signed.", id="not-signed"),
    pytest.param(InfusionOrderError("KC-1", "?", 5, 4),
                 "Infusion 5 cannot be checked in course KC-1: the next infusion of the course "
                 "is 4.", id="order"),
    pytest.param(InfusionRecordError("KC-1", "?", 2, "discharge"),
                 "Not recorded for infusion 2 of course KC-1 (discharge): the discharge is "
                 "recorded already.", id="second-discharge"),
    pytest.param(InfusionSignedError("KS-9", "?", "MRN-0042", "Dr Jane Smith", None, "",
                                     "KC-1", 2),
                 "Infusion 2 of course KC-1 has a signed checklist already: KS-9, signed by "
                 "Dr Jane Smith. Not stored: a signed infusion checklist is never changed; "
                 "amend KS-9 instead.", id="infusion-signed"),
    pytest.param(ValueError("not a course refusal"), None, id="other"),
])
def test_each_course_refusal_is_worded_from_its_type_and_fields(error: Exception,
                                                               text: str | None) -> None:
    """The message text ("?") is never shown: the words come from the error's type and fields."""
    assert course_records_actions.course_error_text(error=error) == text


def test_the_wheel_changes_nothing_in_a_course_of_the_records(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic) -> None:
    install_wheel_guard()
    _infusion_signed(clinic)
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    assert window.course.courses_of_patient("MRN-0042")
    view = _shown(qtbot, window)
    view.show_tab(1)
    combos = view.findChildren(QComboBox)
    assert len(combos) >= 3
    before = [c.currentText() for c in combos]
    for combo in combos:
        combo.setFocus(Qt.FocusReason.TabFocusReason)
        for notches in (-1, 1, -3):
            wheel(combo, notches)
    assert [c.currentText() for c in combos] == before
    assert not window.course.unsaved()


def test_rescue_totals_and_a_course_file_with_rescue_and_discharge() -> None:
    """The cumulative total per drug in mg (a dose in micrograms converted), and the course
    file's monitoring save keeping the rescue drugs given and adding the typed ones."""
    from ketascreen.models.course import Rescue
    from ketascreen.models.parsing import load_course
    from ketascreen.ui.actions.monitoring import course_with_monitoring, rescue_totals_text

    assert rescue_totals_text([]) == "none"
    given = [Rescue(drug="ondansetron", dose="4 mg", minute=15),
             Rescue(drug="midazolam", dose="500 mcg", minute=20),
             Rescue(drug="ondansetron", dose="4 mg", minute=50)]
    assert rescue_totals_text(given) == "ondansetron 8 mg; midazolam 0.5 mg"
    course = load_course(COURSE_EXAMPLE)
    first = course.infusion(1)
    rows = [r.model_dump(mode="json", exclude_none=True) for r in first.monitoring]
    saved = course_with_monitoring(course, 1, rows,
                                   rescue=[{"drug": "ondansetron", "dose": "2 mg",
                                            "minute": 60}])
    assert [r.dose for r in saved.infusion(1).rescue] == ["4 mg", "2 mg"]
    assert saved.infusion(1).discharge == first.discharge


def test_a_drafts_own_medication_list_is_shown_and_kept(qtbot: QtBot) -> None:
    """A draft infusion 2 with its own medication list (the Xanax stopped) and acknowledgement:
    the re-check form shows the list marked as the draft's and loads the acknowledgement, and
    the re-checked infusion keeps both (the form
    never edits the list); the twin, a new infusion 4 after the example, shows it carried from
    infusion 2."""
    from ketascreen.models.parsing import parse_course
    from ketascreen.ui.actions.recheck import course_with_recheck, recheck_prefill

    data = json.loads(COURSE_EXAMPLE.read_text(encoding="utf-8"))
    data["infusions"] = [data["infusions"][0], {
        k: v for k, v in data["infusions"][1].items()
        if k not in ("monitoring", "rescue", "discharge")}]
    seen = {"concept": "benzodiazepine", "reason": "Alprazolam stopped, held the night before."}
    data["infusions"][1]["acknowledgements"] = [seen]
    course = parse_course(data)
    prefill = recheck_prefill(course, again=True)
    assert prefill.acknowledgements == (seen,)
    assert prefill.number == 2 and "Xanax 0.5 mg tablet (1 mg a day) [stopped]" in \
        prefill.draft["medications"]
    form = QtRecheckForm()
    qtbot.addWidget(form)
    form.load(prefill, start=course.infusion(2).start.strftime("%Y-%m-%dT%H:%M"))
    assert "[stopped]" in form.medications.toPlainText()
    assert form.acknowledgements == [seen] and not form.has_input()  # the draft's own
    assert form.mark_text("medications").startswith("\u270e the draft's value (infusion 2")
    start, pre, protocol = form.values()
    kept = course_with_recheck(course, prefill, start=start, pre=pre, protocol=protocol,
                               acknowledgements=form.acknowledgements)
    assert kept.infusion(2) == course.infusion(2)  # the draft as stored, acknowledgement too
    assert kept.infusion(2).pre.medications == course.infusion(2).pre.medications
    assert kept.infusion(2).pre == course.infusion(2).pre  # unchanged: the draft as stored

    nxt = recheck_prefill(parse_course(json.loads(COURSE_EXAMPLE.read_text(encoding="utf-8"))))
    assert nxt.number == 4 and nxt.draft == {} and nxt.acknowledgements == ()
    assert nxt.carried["medications"].source == "infusion 2"
    assert "[stopped]" in nxt.carried["medications"].value
