"""The screening form: questionnaire, measurements, medications, screens, protocol."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from ketascreen.concepts import HISTORY_CONCEPTS
from ketascreen.screening import rule_set_in_force as default_ruleset
from ketascreen.ui.instruments import AUDIT_C_QUESTIONS, DAST10_ITEMS
from ketascreen.ui.main_window import MainWindow
from tests.ui.helpers import activate, press, type_into, wait_screened


def test_a_new_form_has_every_history_question_and_nothing_pre_answered(
        window: MainWindow) -> None:
    """All 23 history concepts are asked, worded by their rule titles, none answered."""
    history = window.form.history
    assert list(history.questions) == list(HISTORY_CONCEPTS)
    titles = {r.concept: r.title for r in default_ruleset().catalogue.rules}
    for concept, choice in history.questions.items():
        assert choice.value() is None
        assert titles[concept] in choice.label.text()
    patient = window.form.patient
    assert patient.pregnant.value() is None and patient.breastfeeding.value() is None
    assert patient.sex.currentIndex() == -1 and patient.indication.currentIndex() == -1
    assert all(item.value() is None for item in window.form.substance_use.dast_items)
    assert all(box.currentIndex() == -1 for box in window.form.substance_use.audit_items)
    for kind in ("weight", "height", "blood_pressure"):
        assert window.form.measurements.inputs[kind].unit.currentIndex() == -1
    assert window.form.document()["history"] == {}


def test_questions_are_answered_by_letter_and_the_focus_moves_on(
        qtbot: QtBot, window: MainWindow) -> None:
    """Y, N and U answer a question and move the focus to the next one; Delete clears."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    questions = list(window.form.history.questions.values())
    questions[0].setFocus()
    qtbot.waitUntil(questions[0].hasFocus)
    for key in ("y", "n", "u"):
        qtbot.keyClick(QApplication.focusWidget(), key)
    assert [q.value() for q in questions[:4]] == ["yes", "no", "unknown", None]
    assert questions[3].hasFocus()
    qtbot.keyClick(questions[3], Qt.Key.Key_Right)
    assert questions[3].value() == "yes"
    qtbot.keyClick(questions[3], Qt.Key.Key_Delete)
    assert questions[3].value() is None
    wait_screened(qtbot, window)
    assert window.form.history.progress.text().startswith("3 of 23 answered (1 unknown")


def test_required_fields_show_hints_and_the_banner_says_not_screened(
        qtbot: QtBot, window: MainWindow) -> None:
    """An empty new form is not screened; empty required fields carry a hint, not an error."""
    wait_screened(qtbot, window)
    assert window.decision.decision == "not-screened"
    patient_id = window.form.patient.targets()[1].message
    assert patient_id.tone == "hint" and "Patient ID is required" in patient_id.text()
    type_into(qtbot, window.form.patient.birth_date, "1979-13-40")
    wait_screened(qtbot, window)
    birth = window.form.patient.targets()[3].message
    assert birth.tone == "error" and "\u201c1979-13-40\u201d" in birth.text()
    assert window.dose.pump_rate() is None


def test_measurements_show_the_converted_value(qtbot: QtBot, window: MainWindow) -> None:
    """lb shows kg, kg shows lb, kPa shows mmHg, cm shows ft and in."""
    inputs = window.form.measurements.inputs
    type_into(qtbot, inputs["weight"].value, "187")
    press(qtbot, inputs["weight"].unit, "l")
    assert inputs["weight"].text() == "187 lb"
    assert inputs["weight"].converted.text() == "= 84.82 kg"
    qtbot.keyClick(inputs["weight"].unit, Qt.Key.Key_Up)  # lb -> kg
    assert inputs["weight"].text() == "187 kg"
    assert inputs["weight"].converted.text() == "= 412.3 lb"
    type_into(qtbot, inputs["blood_pressure"].value, "18.4/11.5 kPa")
    assert not inputs["blood_pressure"].unit.isEnabled()  # the typed unit is used
    assert inputs["blood_pressure"].converted.text() == "= 138/86 mmHg"
    type_into(qtbot, inputs["height"].value, "170")
    press(qtbot, inputs["height"].unit, "c")
    assert inputs["height"].converted.text() == "= 5 ft 6.9 in"


def test_an_impossible_weight_is_refused_inline(qtbot: QtBot, window: MainWindow,
                                                case_file: Path) -> None:
    """A weight over 700 kg is not possible: refused under the field, no dose."""
    window.open_path(case_file)
    weight = window.form.measurements.inputs["weight"]
    weight.value.clear()
    type_into(qtbot, weight.value, "800")
    qtbot.keyClick(weight.unit, Qt.Key.Key_Up)  # lb -> kg
    wait_screened(qtbot, window)
    assert weight.message.tone == "error" and "not a possible value" in weight.message.text()
    assert window.dose.pump_rate() is None


def test_an_ismp_unsafe_unit_gets_the_safe_spelling_as_suggestion(
        qtbot: QtBot, window: MainWindow, case_file: Path) -> None:
    """'cc' is refused with 'mL' suggested, from the error's structured suggestion."""
    window.open_path(case_file)
    concentration = window.form.protocol.fields["concentration"]
    concentration.clear()
    type_into(qtbot, concentration, "1 mg/cc")
    wait_screened(qtbot, window)
    message = window.form.protocol.targets()[3].message
    assert message.tone == "error" and "Write \u201c1 mg/mL\u201d instead" in message.text()


def test_dast10_item_3_is_reverse_scored_by_the_program_and_scores_are_live(
        qtbot: QtBot, window: MainWindow) -> None:
    """Item 3 answered No scores 1; the score shows only once all ten are answered."""
    screens = window.form.substance_use
    assert [i.label.text().split(". ", 1)[1].split("  <i>")[0]
            for i in screens.dast_items] == list(DAST10_ITEMS)
    assert "reverse-scored" in screens.dast_items[2].label.text()
    for item in screens.dast_items[:9]:
        press(qtbot, item, "n")
    assert "incomplete, 9 of 10" in screens.dast_score.text()
    press(qtbot, screens.dast_items[9], "n")
    assert screens.dast_score.text() == "DAST-10 score: 1 of 10"
    press(qtbot, screens.dast_items[2], "y")
    assert screens.dast_score.text() == "DAST-10 score: 0 of 10"
    assert not screens.dast_total.isEnabled()  # items or a paper total, never both


def test_audit_c_offers_the_published_answers_with_their_scores(
        qtbot: QtBot, window: MainWindow) -> None:
    """Each AUDIT-C question offers its five answers scored 0-4; the total is live."""
    screens = window.form.substance_use
    for box, (_question, answers) in zip(screens.audit_items, AUDIT_C_QUESTIONS, strict=True):
        assert [box.itemData(i) for i in range(box.count())] == [0, 1, 2, 3, 4]
        assert [box.itemText(i).split(" (")[0] for i in range(box.count())] == list(answers)
    press(qtbot, screens.audit_items[0], "4")   # 4 or more times a week
    press(qtbot, screens.audit_items[1], "3")   # 3 or 4
    assert "incomplete, 2 of 3" in screens.audit_score.text()
    press(qtbot, screens.audit_items[2], "w")   # Weekly
    assert screens.audit_score.text().startswith("AUDIT-C score: 8 of 12")


def test_medication_names_complete_from_the_knowledge_base_and_show_their_class(
        qtbot: QtBot, window: MainWindow) -> None:
    """Typing a brand offers it (with its generic); the chip names each recognised class."""
    medications = window.form.medications
    activate(qtbot, medications.add_button)
    row = medications.rows[0]
    row.text.setFocus()
    completer = medications.completer()
    row.text.setCompleter(completer)
    type_into(qtbot, row.text, "Xan")
    qtbot.waitUntil(lambda: completer.completionCount() > 0)
    offered = [completer.completionModel().index(i, 0).data()
               for i in range(completer.completionCount())]
    assert "Xanax - alprazolam (brand)" in offered
    completer.popup().hide()
    row.text.clear()
    type_into(qtbot, row.text, "Suboxone 8 mg/2 mg film")
    chips = row.chip_texts()
    assert any("opioid" in c for c in chips)
    row.text.clear()
    type_into(qtbot, row.text, "Unknownium 5 mg")
    assert any("not recognised" in c for c in row.chip_texts())


def test_problem_list_entries_show_the_concept_they_count_as(
        qtbot: QtBot, window: MainWindow) -> None:
    """A recognised problem shows its history concept; the problem list feeds the rules."""
    conditions = window.form.conditions
    activate(qtbot, conditions.add_button)
    type_into(qtbot, conditions.rows[0].fields.itemAt(0).widget(), "Bipolar I disorder")
    assert any("bipolar-disorder" in c for c in conditions.rows[0].chip_texts())


@pytest.mark.parametrize(("text", "chip"), [
    ("No history of stroke", "not counted as cerebrovascular-accident-history (negated"),
    ("Family history of aneurysm", "not counted as aneurysmal-vascular-disease (family"),
    ("Glaucoma ruled out", "not counted as raised-intraocular-pressure (negated"),
    ("Possible AAA", "question: aneurysmal-vascular-disease (uncertain: 'possible')"),
])
def test_a_problem_the_text_negates_says_why_it_does_not_count(
        qtbot: QtBot, window: MainWindow, text: str, chip: str) -> None:
    """The row says what was read and why it does not count, never "not recognised"."""
    conditions = window.form.conditions
    activate(qtbot, conditions.add_button)
    type_into(qtbot, conditions.rows[0].fields.itemAt(0).widget(), text)
    chips = conditions.rows[0].chip_texts()
    assert any(chip in c for c in chips), chips
    assert not any("counts as" in c or "not recognised" in c for c in chips), chips


def test_the_protocol_section_states_the_formulary_defaults(
        qtbot: QtBot, window: MainWindow) -> None:
    """The defaults for empty protocol fields are stated in words once an indication is set."""
    press(qtbot, window.form.patient.indication, "d")
    assert "Formulary default for depression: 0.5 mg/kg over 40 min" in (
        window.form.protocol.defaults.text())


def test_the_dose_is_greyed_while_an_edit_is_re_screened(
        qtbot: QtBot, window: MainWindow, case_file: Path) -> None:
    """A keystroke in the weight greys the dose shown (it is the old weight's) until the
    debounced re-screen shows the new one in black."""
    assert window.open_path(case_file, ask=False)
    dose = window.dose
    assert not dose.pending and dose.grid_holder.isEnabled()
    before = dose.pump_rate()
    weight = window.form.measurements.inputs["weight"].value
    weight.setFocus()
    qtbot.keyClick(weight, Qt.Key.Key_End)
    qtbot.keyClick(weight, Qt.Key.Key_Backspace)  # 187 lb -> 18 lb
    assert window.pending and dose.pending and not dose.grid_holder.isEnabled()
    wait_screened(qtbot, window)
    assert not dose.pending
    assert dose.pump_rate() != before
