"""The wheel policy: a mouse wheel turned over the form never changes the case (issue 10 item 1).

Real ``QWheelEvent``s are sent to every input widget of the form, after reopening a saved case
and after restoring an autosaved draft, and the case document must come out byte-for-byte the
same; a value widget the user clicked into still reacts, and a unit changed after a value was
typed is announced.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QScrollBar,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from ketascreen.ui.drafts import DraftStore
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.qt_choice import QtChoice
from ketascreen.ui.settings import AppSettings
from ketascreen.ui.wheel_guard import install_wheel_guard
from tests.ui.helpers import FakeDialogs, wait_screened, wheel


def input_widgets(root: QWidget) -> list[QWidget]:
    """Every input widget under ``root``: combo, spin and slider boxes, line edits, questions."""
    kinds = (QComboBox, QAbstractSpinBox, QAbstractSlider, QLineEdit, QtChoice)
    return [w for w in root.findChildren(QWidget)
            if isinstance(w, kinds) and not isinstance(w, QScrollBar)]


def dumped(window: MainWindow) -> str:
    """The case document as the form would save it, and the form as typed, as one string."""
    return json.dumps([window.form.document(), window.form.state()], sort_keys=True)


def wheel_everything(qtbot: QtBot, window: MainWindow) -> int:
    """Turn the wheel both ways over every input widget, also after tabbing into each one."""
    rows = [*window.form.conditions.rows, *window.form.medications.rows]
    qtbot.waitUntil(lambda: all(row.isVisible() for row in rows), timeout=2000)
    widgets = input_widgets(window.form)
    assert not [w for w in widgets if w.focusPolicy() == Qt.FocusPolicy.WheelFocus]
    focused = QApplication.focusWidget()
    for widget in widgets:
        for notches in (-1, 1, -3):
            wheel(widget, notches)
    assert QApplication.focusWidget() is focused  # the wheel gave no widget the focus
    for widget in widgets:
        if widget.isEnabled() and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            widget.setFocus(Qt.FocusReason.TabFocusReason)  # Tab alone is not a choice
            wheel(widget, -1)
            wheel(widget, 2)
    wait_screened(qtbot, window)
    return len(widgets)


def _case_176_lb(tmp_path: Path, example: dict[str, Any]) -> Path:
    document = json.loads(json.dumps(example))
    document["measurements"]["weight"] = "176 lb"
    document["protocol"]["weight_basis"] = "actual"
    path = tmp_path / "case-176-lb.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_the_issue_reproduction_a_wheel_on_the_weight_unit_keeps_lb(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, example: dict[str, Any]) -> None:
    """Reopened "176" + "lb", one wheel notch on the unit box: still lb, the same dose."""
    assert window.open_path(_case_176_lb(tmp_path, example), ask=False)
    weight = window.form.measurements.inputs["weight"]
    assert (weight.value.text(), weight.unit.currentText()) == ("176", "lb")
    before = dumped(window)
    wheel(weight.unit, -1)
    wheel(weight.unit, 1)
    assert weight.unit.currentText() == "lb"
    assert dumped(window) == before
    assert not window.pending  # not even an edit to re-screen


def test_every_input_widget_ignores_the_wheel_after_reopening_a_case(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, example: dict[str, Any]) -> None:
    """After File > Open, a wheel over every input widget leaves the case unchanged."""
    assert window.open_path(_case_176_lb(tmp_path, example), ask=False)
    before = dumped(window)
    count = wheel_everything(qtbot, window)
    assert count > 60  # questions, measurements, list rows, AUDIT-C, protocol
    assert dumped(window) == before
    assert not window.is_modified()


def test_every_input_widget_ignores_the_wheel_after_restoring_a_draft(
        qtbot: QtBot, settings: AppSettings, drafts: DraftStore, example: dict[str, Any]) -> None:
    """A restored autosaved draft (with a half-answered AUDIT-C) survives a wheel everywhere."""
    state = json.loads(json.dumps(example))
    state["measurements"]["weight"] = "176 lb"
    state["substance_use"]["audit_c"] = {"items": [1, None, None]}
    slot = drafts.claim()
    slot.write(state=state, label="Alex Rivera (MRN-0042)", source=None)
    slot.release()
    window = MainWindow(settings, drafts=drafts, dialogs=FakeDialogs(),  # type: ignore[arg-type]
                        autosave_ms=100)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.restore_draft(drafts.orphans()[0])
    assert window.form.substance_use.audit_items[1].currentIndex() == -1
    before = dumped(window)
    wheel_everything(qtbot, window)
    assert dumped(window) == before


def test_the_wheel_over_a_value_widget_scrolls_the_form_instead(
        qtbot: QtBot, window: MainWindow) -> None:
    """The wheel is not swallowed: over an untouched unit box it scrolls the form."""
    window.resize(1200, 600)
    bar = window.form_scroll.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(0)
    wheel(window.form.measurements.inputs["weight"].unit, -2)
    assert bar.value() > 0
    assert window.form.measurements.inputs["weight"].unit.currentIndex() == -1


def test_a_box_clicked_into_does_react_to_the_wheel(qtbot: QtBot, window: MainWindow) -> None:
    """The policy is not "no wheel anywhere": clicked into, the AUDIT-C box follows the wheel."""
    box = window.form.substance_use.audit_items[0]
    window.form_scroll.ensureWidgetVisible(box)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    box.hidePopup()
    qtbot.waitUntil(box.hasFocus, timeout=2000)
    wheel(box, -1)
    assert box.currentIndex() == 0
    wheel(box, -1)
    assert box.currentIndex() == 1
    # Leaving the box (Tab) ends it: the next wheel needs a new click.
    qtbot.keyClick(box, Qt.Key.Key_Tab)
    box.setFocus(Qt.FocusReason.BacktabFocusReason)
    wheel(box, -1)
    assert box.currentIndex() == 1


def test_value_widgets_created_later_are_covered_and_never_take_focus_from_the_wheel(
        qtbot: QtBot, window: MainWindow) -> None:
    """A row added at run time and a spin box made afterwards follow the same policy."""
    qtbot.mouseClick(window.form.medications.add_button, Qt.MouseButton.LeftButton)
    status = window.form.medications.rows[-1].status
    wheel(status, -1)
    assert status.currentText() == "active"
    holder = QWidget()
    qtbot.addWidget(holder)
    spin = QSpinBox(holder)
    QVBoxLayout(holder).addWidget(spin)
    holder.show()
    qtbot.waitExposed(holder)
    assert spin.focusPolicy() == Qt.FocusPolicy.StrongFocus  # not WheelFocus
    wheel(spin, 1)
    assert spin.value() == 0
    assert not spin.hasFocus()
    assert install_wheel_guard() is install_wheel_guard()  # one policy, installed once


def test_a_unit_changed_under_a_value_is_announced_on_the_field_and_the_status_line(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, example: dict[str, Any]) -> None:
    """lb -> kg under "176" keeps the number and says, beside the field and on the status line,
    what the value now means and what it meant."""
    assert window.open_path(_case_176_lb(tmp_path, example), ask=False)
    weight = window.form.measurements.inputs["weight"]
    assert weight.change.isHidden()
    with qtbot.waitSignal(window.form.announced) as announced:
        weight.unit.setFocus()
        qtbot.keyClick(weight.unit, "k")  # the user picks kg on purpose
    assert (weight.value.text(), weight.text()) == ("176", "176 kg")
    expected = "Weight unit changed from lb to kg: 176 kg = 388 lb (was 176 lb = 79.83 kg)"
    assert announced.args == [expected]
    assert window.statusBar().currentMessage() == expected
    assert weight.change.isVisible()
    assert weight.change.text() == "\u26a0 Unit changed: now 176 kg = 388 lb; was 176 lb = 79.83 kg"
    assert weight.converted.text() == "= 388 lb"
    assert "font-weight: 700" in weight.converted.styleSheet()  # prominent, not greyed
    wait_screened(qtbot, window)
    assert window.form.document()["measurements"]["weight"] == "176 kg"
    # Typing a new value ends the note; choosing the first unit for a value is not a change.
    weight.value.clear()
    assert weight.change.isHidden()
    height = window.form.measurements.inputs["height"]
    height.set_text("")
    qtbot.keyClicks(height.value, "170")
    with qtbot.assertNotEmitted(window.form.announced):
        qtbot.keyClick(height.unit, "c")
    assert height.text() == "170 cm"
