"""One quantity, one precision, one label: the text report and the checklist PDF of many
generated orders show every dose quantity at exactly its formulary resolution (issue 10,
item 6). The app's dose panel is checked in tests/ui/test_dose_precision.py."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from ketascreen.api import parse_case
from ketascreen.checklist import dose_box_from
from ketascreen.reports.output import produce_checklist
from ketascreen.reports.text import render_report
from ketascreen.screening import run
from tests.helpers.cases import example_case, patched
from tests.reports.precision import expected_strings, generated_orders, precision_problems


def _screened(document: dict[str, object]):  # type: ignore[no-untyped-def]
    case = parse_case(document)
    return case, run(case)


def test_text_report_shows_each_quantity_at_one_precision() -> None:
    """120 generated orders: the text report carries each quantity's one string, never a finer
    one, and its dose rows are the checklist's dose box rows."""
    dosed = 0
    for document in generated_orders(120, seed=10):
        _, screening = _screened(document)
        if screening.dose.programme is None:
            continue
        dosed += 1
        report = render_report(screening)
        assert precision_problems(report, screening.dose) == [], document["protocol"]
        box, _ = dose_box_from(screening.dose)
        assert box is not None
        for label, text in box.rows:
            assert f"{label + ':':<21}{text}" in report
        assert screening.result.dose is not None
        shown = expected_strings(screening.dose)
        assert screening.result.dose.display.dose == shown["intended dose"][0]
        assert screening.result.dose.display.rate == shown["rate"][0]
    assert dosed >= 80


def test_checklist_pdf_shows_each_quantity_at_one_precision() -> None:
    """24 generated orders rendered to PDF and read back: page 1 carries every dose-box row as
    the text report writes it; no page shows a quantity at a finer precision."""
    dosed = 0
    for document in generated_orders(30, seed=7):
        _, screening = _screened(document)
        if screening.dose.programme is None:
            continue
        dosed += 1
        box, _ = dose_box_from(screening.dose)
        assert box is not None
        data, _ = produce_checklist(screening)
        pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]
        everything = " ".join(pages)
        assert precision_problems(everything, screening.dose) == [], document["protocol"]
        first = re.sub(r"\s+", " ", pages[0])
        for label, text in box.rows:
            if label != "Dosing weight":  # its reason wraps in the cell; checked below
                assert f"{label} {text}" in first, (label, text)
        assert expected_strings(screening.dose)["dosing weight"][0] in first
    assert dosed >= 20


def test_the_check_catches_a_finer_precision() -> None:
    """The check is not vacuous: 42.41 mg beside 42.4 mg, or a VTBI to 0.01 mL, is caught."""
    _, screening = _screened(patched(example_case(), {"protocol": {
        "dose": "0.5 mg/kg", "duration": "40 min", "vial": "50 mg/mL",
        "diluent_volume": "100 mL"}}))
    report = render_report(screening)
    assert precision_problems(report, screening.dose) == []
    assert "intended dose: '42.41 mg' shown beside '42.4 mg'" in precision_problems(
        report + " intended 42.41 mg", screening.dose)
    assert "VTBI: '100.8 mL' missing" in precision_problems(
        report.replace("100.8 mL", "100.85 mL"), screening.dose)
    assert "dose rate: '63.62 mg/h' shown beside '63.6 mg/h'" in precision_problems(
        report + " 63.62 mg/h", screening.dose)
