"""The app's dose panel shows every dose quantity as the text report and the checklist do:
the same label, the same string, one precision (issue 10, item 6)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from ketascreen.reports.text import render_report
from ketascreen.ui.actions import screen_document
from ketascreen.ui.qt_dose import QtDoseOutcome
from tests.reports.precision import generated_orders, precision_problems


def test_dose_panel_matches_the_report_for_generated_orders(qtbot: QtBot) -> None:
    """80 generated orders: the panel's label and value widgets read exactly the report's dose
    rows, carry every quantity's one string and never a finer one."""
    panel = QtDoseOutcome()
    qtbot.add_widget(panel)
    panel.show()
    dosed = 0
    for document in generated_orders(80, seed=3):
        outcome = screen_document(document=document)
        assert outcome.screening is not None
        dose = outcome.screening.dose
        if dose.programme is None:
            continue
        dosed += 1
        panel.show_outcome(outcome)
        shown = [(key.text(), text.text()) for key, text in panel._cells if key.isVisible()]
        assert tuple(shown) == outcome.dose_rows
        panel_text = " ".join(f"{k} {v}" for k, v in shown)
        assert precision_problems(panel_text + " " + panel.working.text(), dose) == []
        report = render_report(outcome.screening)
        for label, value in shown:
            assert f"{label + ':':<21}{value}" in report
        result_dose = outcome.screening.result.dose
        assert result_dose is not None and panel.pump_rate() == result_dose.display.rate
    assert dosed >= 50
