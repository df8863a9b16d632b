"""Keyboard-first work (issue 10 item 8): the focused question is highlighted, a row added with a
shortcut comes into view with the focus, and Tab goes down the form in order."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.qt_choice import QtChoice

HIGHLIGHT_BORDER = QColor("#2f62a8")
HIGHLIGHT_BACKGROUND = QColor("#d5e4f7")


def _section_of(window: MainWindow, widget: QWidget) -> str | None:
    """The form section ``widget`` is in (DAST-10 and AUDIT-C told apart), or ``None``."""
    form = window.form
    names = {id(form.patient): "patient", id(form.measurements): "measurements",
             id(form.history): "history questions", id(form.conditions): "conditions",
             id(form.medications): "medications", id(form.protocol): "protocol"}
    current: QWidget | None = widget
    while current is not None and current is not form:
        if current is form.substance_use:
            return "AUDIT-C" if widget.objectName().startswith("audit-c") else "DAST-10"
        if id(current) in names:
            return names[id(current)]
        current = current.parentWidget()
    return None


def test_the_focused_question_row_is_visibly_highlighted(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """The row with the focus is drawn with a blue bar and background; the others are not."""
    questions = list(window.form.history.questions.values())
    focused, other = questions[1], questions[2]
    window.form_scroll.ensureWidgetVisible(focused)
    focused.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(focused.hasFocus, timeout=2000)
    assert focused.highlighted() and not other.highlighted()
    picture = focused.grab().toImage()
    picture.save(str(tmp_path / "focused-row.png"))
    middle = picture.height() // 2
    assert picture.pixelColor(2, middle) == HIGHLIGHT_BORDER  # the bar on the left
    assert picture.pixelColor(picture.width() // 2, 1) == HIGHLIGHT_BACKGROUND
    plain = other.grab().toImage()
    assert plain.pixelColor(2, plain.height() // 2) != HIGHLIGHT_BORDER
    assert plain.pixelColor(plain.width() // 2, 1) != HIGHLIGHT_BACKGROUND
    # The highlight follows the focus: a key answer moves it to the next question.
    qtbot.keyClick(focused, "n")
    assert other.hasFocus() and other.highlighted() and not focused.highlighted()
    moved, left = other.grab().toImage(), focused.grab().toImage()
    assert moved.pixelColor(2, moved.height() // 2) == HIGHLIGHT_BORDER  # its first focus
    assert moved.pixelColor(moved.width() // 2, 1) == HIGHLIGHT_BACKGROUND
    assert left.pixelColor(2, middle) != HIGHLIGHT_BORDER
    assert left.pixelColor(left.width() // 2, 1) != HIGHLIGHT_BACKGROUND


def test_a_row_added_with_its_shortcut_scrolls_into_view_and_takes_the_focus(
        qtbot: QtBot, window: MainWindow) -> None:
    """Alt+M (Add medication) from the top of the form: the new row is shown, focused."""
    window.resize(1200, 600)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    window.form.patient.patient_id.setFocus()
    bar = window.form_scroll.verticalScrollBar()
    bar.setValue(0)
    qtbot.keyClick(window.form.patient.patient_id, Qt.Key.Key_M,
                   Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: len(window.form.medications.rows) == 1, timeout=2000)  # animated
    row = window.form.medications.rows[0]
    assert row.text.hasFocus()
    viewport = window.form_scroll.viewport()

    def shown() -> bool:
        top_left = row.text.mapTo(viewport, row.text.rect().topLeft())
        bottom_right = row.text.mapTo(viewport, row.text.rect().bottomRight())
        return viewport.rect().contains(top_left) and viewport.rect().contains(bottom_right)

    qtbot.waitUntil(shown, timeout=2000)
    assert bar.value() > 0
    # Alt+L adds a problem the same way, further up the form.
    qtbot.keyClick(row.text, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: len(window.form.conditions.rows) == 1, timeout=2000)
    problem = window.form.conditions.rows[0]
    assert problem.text.hasFocus()
    qtbot.waitUntil(lambda: not problem.text.visibleRegion().isEmpty(), timeout=2000)


def test_tab_goes_down_the_form_section_by_section(
        qtbot: QtBot, window: MainWindow, case_file: Path) -> None:
    """From the first field, Tab reaches patient, measurements, the questions, the problem
    list, the medications, DAST-10, AUDIT-C and the protocol, in that order (list rows made
    after the form included)."""
    assert window.open_path(case_file, ask=False)
    qtbot.mouseClick(window.form.conditions.add_button, Qt.MouseButton.LeftButton)
    rows = [*window.form.conditions.rows, *window.form.medications.rows]
    qtbot.waitUntil(lambda: all(row.isVisible() for row in rows), timeout=2000)
    window.form.patient.screening_date.setFocus()
    qtbot.waitUntil(window.form.patient.screening_date.hasFocus, timeout=2000)
    order: list[str] = []
    visited: list[QWidget] = []
    for _ in range(400):
        widget = QApplication.focusWidget()
        assert widget is not None
        section = _section_of(window, widget)
        if section is None:
            break
        visited.append(widget)
        if not order or order[-1] != section:
            order.append(section)
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
    assert order == ["patient", "measurements", "history questions", "conditions",
                     "medications", "DAST-10", "AUDIT-C", "protocol"]
    # Within a list, top to bottom: each row's fields in turn, then its Add button.
    for section in (window.form.conditions, window.form.medications):
        stops = [visited.index(row.text) for row in section.rows]
        assert stops == sorted(stops)
        assert stops[-1] < visited.index(section.add_button)
    assert len(window.form.medications.rows) == 2 and len(window.form.conditions.rows) == 2


def test_every_question_is_one_tab_stop(qtbot: QtBot, window: MainWindow) -> None:
    """A question row is one Tab stop (its radio buttons are not), so Tab steps question by
    question."""
    questions = list(window.form.history.questions.values())
    questions[0].setFocus()
    for expected in questions[1:4]:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is expected
        assert isinstance(expected, QtChoice) and expected.highlighted()
