"""The course view, driven with real widgets: File > Open of a ketascreen-course/1 file, the
infusion list and its states, the figures and the PHQ-9 chart, the day-of re-check typed with
the keyboard (carried values marked, screened with Ctrl+Return, saved), the monitoring form
(times prefilled, values outside the band or beyond a notify value flagged with icon and word,
saved), the wheel changing nothing, and a screenshot of each tab."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QTableWidget
from pytestqt.qtbot import QtBot

from ketascreen.models.parsing import load_course
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.qt_course import QtCourseWindow
from ketascreen.ui.wheel_guard import install_wheel_guard
from tests.course.helpers import example_course
from tests.ui.helpers import FakeDialogs, type_into, wheel


@pytest.fixture
def course_file(tmp_path: Path) -> Path:
    """A copy of the example course (infusions 1 and 2 discharged, 3 checked)."""
    path = tmp_path / "course.json"
    path.write_text(json.dumps(example_course()), encoding="utf-8")
    return path


def _open(qtbot: QtBot, window: MainWindow, dialogs: FakeDialogs,
          path: Path) -> QtCourseWindow:
    dialogs.paths.append(path)
    window.actions_by_name["open"].trigger()  # File > Open, as the user does it
    view = window.course.view
    assert view is not None
    qtbot.waitExposed(view)
    qtbot.waitUntil(view.isActiveWindow, timeout=2000)
    return view


def _keys(qtbot: QtBot, text: str, then: Qt.Key = Qt.Key.Key_Tab) -> None:
    """Type ``text`` where the keyboard focus is (a table cell starts its editor at the first
    key), then press ``then`` there (Tab: commit and move to the next cell)."""
    qtbot.wait(10)  # an event loop: the editor the last Tab closed is deleted
    for char in text:
        focus = QApplication.focusWidget()
        assert focus is not None
        qtbot.keyClick(focus, char)
    focus = QApplication.focusWidget()
    assert focus is not None
    qtbot.keyClick(focus, then)
    qtbot.wait(10)  # the commit and the row's flags follow in the event loop


def _cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    return "" if item is None else item.text()


def test_file_open_shows_a_course_in_the_course_view(
        qtbot: QtBot, window: MainWindow, dialogs: FakeDialogs, course_file: Path) -> None:
    before = window.form.document()
    view = _open(qtbot, window, dialogs, course_file)
    table = view.overview.infusions
    assert [_cell(table, r, 2) for r in range(table.rowCount())] == [
        "\u2714 discharged", "\u2714 discharged", "\u25d0 checked"]
    assert [_cell(table, r, 3) for r in range(3)] == ["11", "8", "9"]
    assert view.overview.figure("Infusion") == "3 of 6"
    assert view.overview.figure("Days since previous") == "2"
    assert view.overview.figure("Course status") == "too-early"
    assert view.overview.figure("PHQ-9") == "baseline 11, latest 9, change -18.2 %"
    assert view.overview.chart.isVisible()
    assert view.overview.chart.renderer().isValid()
    assert "1: 11, 2: 8, 3: 9" in view.overview.trend.text()
    # The case form is left as it was, and nothing was asked about it.
    assert window.form.document() == before
    assert dialogs.asked_unsaved == [] and dialogs.errors == []


def test_an_invalid_course_file_is_refused_naming_the_field(
        qtbot: QtBot, window: MainWindow, dialogs: FakeDialogs, tmp_path: Path) -> None:
    data = example_course()
    data["infusions"][2]["pre"]["phq9"] = [1, 1, 1, 1, 1, 1, 1, 1, 4]
    path = tmp_path / "bad-course.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    dialogs.paths.append(path)
    window.actions_by_name["open"].trigger()
    assert window.course.course is None
    assert len(dialogs.errors) == 1
    assert "infusions[2].pre.phq9[8]" in dialogs.errors[0][1]


def test_the_recheck_marks_carried_values_and_screens_from_the_keyboard(
        qtbot: QtBot, window: MainWindow, dialogs: FakeDialogs, course_file: Path) -> None:
    view = _open(qtbot, window, dialogs, course_file)
    qtbot.keyClick(view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # Ctrl+2
    form = view.recheck
    assert view.tabs.currentIndex() == 1
    assert "infusion 4" in form.title.text()
    assert form.edits["weight"].text() == "186 lb"
    assert form.mark_text("weight") == ("\u21bb carried over from infusion 3: confirm or "
                                        "change")
    assert form.mark_text("medications").startswith("\u21bb carried over from infusion 2")
    assert form.mark_text("dose").startswith("\u21bb carried over from infusion 3")
    assert form.mark_text("blood_pressure") == ""  # asked afresh, not carried
    assert form.edits["blood_pressure"].text() == ""
    assert form.choices["escort"].currentText() == "unknown"  # nothing assumed

    typed = {"last_solids": "2026-12-04T01:00", "last_clear_fluids": "2026-12-04T07:00",
             "blood_pressure": "128/82 mmHg", "heart_rate": "45 /min", "spo2": "98 %",
             "phq9": "1 1 1 1 1 1 1 0 2"}
    type_into(qtbot, form.start, "2026-12-04T09:00")
    for name, text in typed.items():
        type_into(qtbot, form.edits[name], text)
    form.edits["weight"].selectAll()
    type_into(qtbot, form.edits["weight"], "186 kg")  # typed in kg instead of lb
    assert form.mark_text("weight") == "\u270e changed from 186 lb (infusion 3)"
    for name, key in (("escort", Qt.Key.Key_Y), ("pregnancy_test", Qt.Key.Key_N),
                      ("urinary_symptoms", Qt.Key.Key_N)):
        form.choices[name].setFocus()
        qtbot.keyClick(form.choices[name], key)
    assert form.choices["escort"].currentText() == "yes"
    qtbot.keyClick(form.edits["spo2"], Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    outcome = window.course.outcome
    assert outcome is not None and outcome.course is not None
    assert outcome.course.infusion == 4
    assert outcome.form.decision == "needs-review"
    for concept in ("bradycardia", "weight-change", "suicidal-ideation"):  # 186 kg; item 9 = 2
        assert form.findings.row(concept) is not None, concept
    assert form.decision.decision == "needs-review"
    assert any("186 kg" in text for _label, text in outcome.form.dose_rows)
    assert form.problems.isHidden()
    changes = form.changes.text()
    assert "Changed since the last signed checklist (infusion 3&#x27;s checklist)" in changes
    assert "\u26a0 NEW FINDING: weight \u2014 186 lb -&gt; 186 kg" in changes
    assert "\u2713 unchanged: medications" in changes
    assert "Dose change" not in changes  # the dose per weight is carried unchanged
    assert load_course(course_file).last.number == 3  # screening writes nothing


def test_a_refused_recheck_lists_the_field_and_saving_writes_an_accepted_one(
        qtbot: QtBot, window: MainWindow, dialogs: FakeDialogs, course_file: Path) -> None:
    view = _open(qtbot, window, dialogs, course_file)
    form = view.recheck
    type_into(qtbot, form.start, "2026-12-04T09:00")
    type_into(qtbot, form.edits["blood_pressure"], "128/82")  # no unit
    form.save_button.click()
    assert not form.problems.isHidden()
    assert "infusions[3].pre.blood_pressure" in form.problems.text()
    assert load_course(course_file).last.number == 3  # not saved

    type_into(qtbot, form.edits["blood_pressure"], " mmHg")
    form.save_button.click()
    saved = load_course(course_file)
    assert saved.last.number == 4
    assert saved.last.pre.blood_pressure == "128/82 mmHg"
    assert saved.last.pre.weight is None  # the carried weight left as it was: unchanged
    assert saved.last.dose is None
    assert _cell(view.overview.infusions, 3, 2) == "\u25d0 checked"
    assert "infusion 5" in form.title.text()  # the next re-check is the next infusion's


def test_the_monitoring_form_flags_with_icon_and_word_and_saves(
        qtbot: QtBot, window: MainWindow, dialogs: FakeDialogs, course_file: Path) -> None:
    view = _open(qtbot, window, dialogs, course_file)
    qtbot.keyClick(view, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # Ctrl+3
    monitoring = view.monitoring
    table = monitoring.table
    assert "infusion 3" in monitoring.title.text()
    assert [_cell(table, r, 0) for r in range(table.rowCount())] == [
        "0", "10", "20", "30", "40", "55", "70", "85", "100"]
    assert "101-151 / 64-96 mmHg" in monitoring.limits.text()  # 126/80 mmHg +/-20 %
    assert "local policy" in monitoring.limits.text()
    assert "BP above 180/100 mmHg" in monitoring.limits.text()

    table.setFocus()
    table.setCurrentCell(0, 1)
    for text in ("126/80", "72", "98", "5"):  # minute 0: BP, HR, SpO2, MOAA/S, Tab between
        _keys(qtbot, text)
    table.setCurrentCell(4, 1)
    _keys(qtbot, "186/96")  # minute 40: the spike
    _keys(qtbot, "88")
    _keys(qtbot, "92", Qt.Key.Key_Return)

    assert _cell(table, 0, 6) == ""
    flags = _cell(table, 4, 6)
    assert "\u26a0 NOTIFY: above 180/100 mmHg" in flags
    assert "\u25b2 OUTSIDE BAND: outside 101-151 / 64-96 mmHg" in flags
    assert "\u26a0 NOTIFY: 92 % at or below 92 %" in flags
    bp, spo2, hr = table.item(4, 1), table.item(4, 3), table.item(4, 2)
    assert bp is not None and spo2 is not None and hr is not None
    assert not bp.icon().isNull() and "NOTIFY" in bp.toolTip()
    assert not spo2.icon().isNull()
    assert hr.icon().isNull() and hr.toolTip() == ""  # 88 /min: inside every limit

    qtbot.keyClick(table, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    saved = load_course(course_file).infusion(3)
    assert [(r.minute, r.blood_pressure, r.spo2) for r in saved.monitoring] == [
        (0, "126/80 mmHg", "98 %"), (40, "186/96 mmHg", "92 %")]
    assert saved.monitoring[0].moaas == 5
    assert _cell(view.overview.infusions, 2, 2) == "\u25cf infused"


def test_a_refused_monitoring_value_is_named_and_nothing_is_saved(
        qtbot: QtBot, window: MainWindow, dialogs: FakeDialogs, course_file: Path) -> None:
    view = _open(qtbot, window, dialogs, course_file)
    table = view.monitoring.table
    table.setFocus()
    table.setCurrentCell(1, 4)
    _keys(qtbot, "7", Qt.Key.Key_Return)  # MOAA/S is 0-5
    view.monitoring.save_button.click()
    assert "infusions[2].monitoring[0].moaas" in view.monitoring.problems.text()
    assert load_course(course_file).infusion(3).monitoring == []


def test_the_wheel_changes_no_choice_of_the_recheck(
        qtbot: QtBot, window: MainWindow, dialogs: FakeDialogs, course_file: Path) -> None:
    install_wheel_guard()
    view = _open(qtbot, window, dialogs, course_file)
    view.show_tab(1)
    combos = view.recheck.findChildren(QComboBox)
    assert len(combos) == 3
    before = [c.currentText() for c in combos]
    for combo in combos:
        combo.setFocus(Qt.FocusReason.TabFocusReason)  # Tab alone is not a choice
        for notches in (-1, 1, -3):
            wheel(combo, notches)
    assert [c.currentText() for c in combos] == before


@pytest.mark.parametrize("tab", [0, 1, 2])
def test_a_screenshot_of_each_tab(qtbot: QtBot, window: MainWindow, dialogs: FakeDialogs,
                                  course_file: Path, tmp_path: Path, tab: int) -> None:
    view = _open(qtbot, window, dialogs, course_file)
    view.show_tab(tab)
    shot = view.grab()
    assert not shot.isNull() and shot.width() > 600
    out: Any = tmp_path / f"course-tab-{tab}.png"
    assert shot.save(str(out))


def test_a_finding_of_the_recheck_is_acknowledged_with_a_typed_reason(
        qtbot: QtBot, window: MainWindow, dialogs: FakeDialogs, course_file: Path) -> None:
    view = _open(qtbot, window, dialogs, course_file)
    form = view.recheck
    type_into(qtbot, form.start, "2026-12-04T09:00")
    for name, text in {"last_solids": "2026-12-04T01:00",
                       "last_clear_fluids": "2026-12-04T07:00",
                       "blood_pressure": "128/82 mmHg", "heart_rate": "45 /min",
                       "spo2": "98 %", "phq9": "1 1 1 1 1 1 1 0 0"}.items():
        type_into(qtbot, form.edits[name], text)
    form.screen_button.click()
    row = form.findings.row("bradycardia")
    assert row is not None and row.acknowledgeable
    row.ack_button.click()
    type_into(qtbot, row.reason, "Athlete, resting rate 45 for years")
    qtbot.keyClick(row.reason, Qt.Key.Key_Return)
    assert form.acknowledgements == [{"concept": "bradycardia",
                                      "reason": "Athlete, resting rate 45 for years"}]
    outcome = window.course.outcome
    assert outcome is not None and outcome.form.screening is not None
    acknowledged = [f.concept for f in outcome.form.screening.result.findings if f.acknowledged]
    assert acknowledged == ["bradycardia"]
    form.save_button.click()
    saved = load_course(course_file).infusion(4)
    assert [(a.concept, a.reason) for a in saved.acknowledgements] == [
        ("bradycardia", "Athlete, resting rate 45 for years")]
    assert form.acknowledgements == []  # the next infusion's form starts without any


def test_a_dose_typed_over_the_carried_one_is_shown_as_a_dose_change(
        qtbot: QtBot, window: MainWindow, dialogs: FakeDialogs, course_file: Path) -> None:
    view = _open(qtbot, window, dialogs, course_file)
    qtbot.keyClick(view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # Ctrl+2
    form = view.recheck
    type_into(qtbot, form.start, "2026-12-04T09:00")
    form.edits["dose"].selectAll()
    type_into(qtbot, form.edits["dose"], "0.75 mg/kg")
    assert form.mark_text("dose") == "\u270e changed from 0.5 mg/kg (infusion 3)"
    qtbot.keyClick(form.edits["dose"], Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert form.problems.isHidden(), form.problems.text()
    assert "\u21c5 Dose change: 0.5 -&gt; 0.75 mg/kg: escalation, R10" in form.changes.text()
    outcome = window.course.outcome
    assert outcome is not None and outcome.course is not None
    assert outcome.course.protocol.protocol.dose == "0.75 mg/kg"


def test_typed_values_are_never_thrown_away_unasked(
        qtbot: QtBot, window: MainWindow, dialogs: FakeDialogs, course_file: Path) -> None:
    view = _open(qtbot, window, dialogs, course_file)
    form, table = view.recheck, view.monitoring.table
    assert not form.has_input() and not view.monitoring.has_input()
    type_into(qtbot, form.start, "2026-12-04T09:00")
    view.show_tab(2)
    table.setFocus()
    table.setCurrentCell(0, 1)
    _keys(qtbot, "126/80", Qt.Key.Key_Return)
    assert form.has_input() and view.monitoring.has_input()

    # Saving the re-check would move the monitoring form to infusion 4: refused.
    form.save_button.click()
    assert dialogs.errors[-1][0] == "Save course file"
    assert "monitoring record of infusion 3 first" in dialogs.errors[-1][1]
    assert load_course(course_file).last.number == 3

    # Saving the monitoring record keeps the re-check as typed.
    view.monitoring.save_button.click()
    assert load_course(course_file).infusion(3).monitoring[0].blood_pressure == "126/80 mmHg"
    assert form.start.text() == "2026-12-04T09:00" and form.has_input()
    assert not view.monitoring.has_input()

    # Opening a course over typed values is refused; closing the window discards them.
    dialogs.paths.append(course_file)
    window.actions_by_name["open"].trigger()
    assert "typed and not saved" in dialogs.errors[-1][1]
    view.close()
    assert window.open_path(course_file)
    assert view.recheck.start.text() == "" and not view.recheck.has_input()
