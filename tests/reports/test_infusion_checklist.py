"""The checklist of an infusion of a course: content, layout, the PHQ-9 chart, and signing."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.graphics.shapes import Circle, Line, PolyLine, String
from reportlab.lib.units import inch, mm

from ketascreen.cli import main
from ketascreen.course.figures import DEFAULT_THRESHOLDS, CourseThresholds
from ketascreen.course.monitoring import blood_pressure_band, monitoring_times
from ketascreen.course.outcome import CHANGE_ITEMS, DoseChange
from ketascreen.display import ismp_violations
from ketascreen.models.checklist import (
    CADSS6_KEY,
    MOAAS_KEY,
    RESCUE_COLUMNS,
    SIGNATURE_MEANING,
    Signer,
    infusion_signature_meaning,
)
from ketascreen.models.parsing import parse_case
from ketascreen.reports.chart import DASHES, LABEL_SLACK, phq9_chart, reference_lines
from ketascreen.reports.output import SigningRequest, produce_checklist
from ketascreen.reports.pdf import ChecklistRenderer
from ketascreen.reports.pdf_infusion import InfusionChecklistRenderer, renderer_for
from ketascreen.screening import Screening, checklist, run
from ketascreen.units import Dimension, parse_blood_pressure, parse_quantity
from tests.helpers.cases import clean_case
from tests.reports.conftest import SigningKey
from tests.reports.infusion_fixture import course_data, infusion_screening

SIGNED_AT = datetime(2026, 12, 2, 8, 45, tzinfo=UTC)


def _text(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def _flat(text: str) -> str:
    return " ".join(text.split())


ESCALATION = DoseChange("0.5 mg/kg", "0.75 mg/kg", "escalation", ("R10",),
                        "0.5 -> 0.75 mg/kg: escalation, R10")


def _with_new_finding(screening: Screening) -> Screening:
    """The screening with PHQ-9 item 9 a new finding and a dose escalation (what a course
    screening reports; the checklist prints it as given)."""
    course = screening.course
    assert course is not None
    changes = tuple(dataclasses.replace(c, state="new finding", detail="0 -> 2")
                    if c.item == "PHQ-9 item 9" else c for c in course.changes)
    return dataclasses.replace(screening, course=dataclasses.replace(
        course, changes=changes, dose_change=ESCALATION))


@pytest.fixture(scope="module")
def unsigned() -> tuple[bytes, list[str]]:
    """The unsigned checklist of infusion 3 of the example course."""
    data, _ = produce_checklist(_with_new_finding(infusion_screening()),
                                clinic="Riverside Ketamine Clinic")
    return data, [_flat(page) for page in _text(data)]


# --- content --------------------------------------------------------------------------------

def test_infusion_content_is_the_course_screenings() -> None:
    """The section carries infusion N of M, every change item in order with the course
    screening's state and detail (an unchanged vital-signs row shows today's values), the dose
    change line only when there is one, and the reference checklist."""
    screening = infusion_screening()
    section = checklist(screening).infusion
    assert section is not None and screening.course is not None
    assert section.heading == "Infusion 3 of 6" and section.number == 3
    assert section.planned == 6
    assert tuple(row.item for row in section.changes) == CHANGE_ITEMS
    for row, change in zip(section.changes, screening.course.changes, strict=True):
        assert row.state == change.state
        assert row.detail == change.detail or (row.item == "vital signs" and not change.detail)
    assert section.reference == "the signed checklist of infusion 2"
    assert section.start == "2026-12-02 09:00"
    assert section.phq9.series == screening.course.phq9_series
    escalated = checklist(_with_new_finding(screening)).infusion
    assert escalated is not None
    assert escalated.dose_change == "0.5 -> 0.75 mg/kg: escalation, R10"
    no_change = dataclasses.replace(screening.course, dose_change=None)
    plain = checklist(dataclasses.replace(screening, course=no_change)).infusion
    assert plain is not None and plain.dose_change is None
    first = infusion_screening(last_signed=0)
    assert checklist(first).infusion.reference.startswith(  # type: ignore[union-attr]
        "the signed first screening (KS-0123456789AB)")


def test_unchanged_vital_signs_show_today_values() -> None:
    """Page 1 always carries today's vital signs: an unchanged row reads 'today BP ...'."""
    screening = infusion_screening()
    assert screening.course is not None
    unchanged = tuple(dataclasses.replace(c, state="unchanged", detail="")
                      for c in screening.course.changes)
    section = checklist(dataclasses.replace(screening, course=dataclasses.replace(
        screening.course, changes=unchanged))).infusion
    assert section is not None
    vitals = next(row for row in section.changes if row.item == "vital signs")
    assert vitals.detail == "today BP 126/80 mmHg, HR 66 /min, SpO2 98 %"
    assert next(row for row in section.changes if row.item == "escort").detail == ""


def test_signature_meaning_names_the_infusion_and_the_plan() -> None:
    """'Day-of re-check: approved for infusion N of M'; without a plan, no 'of'; the first
    screening's meaning is unchanged."""
    assert infusion_signature_meaning(3, 6) == "Day-of re-check: approved for infusion 3 of 6"
    assert infusion_signature_meaning(7, None) == "Day-of re-check: approved for infusion 7"
    signer = Signer("Dr Jane Smith", "MD", SIGNED_AT)
    first = run(parse_case(clean_case()))
    assert first.signable, first.signing_refusal
    assert checklist(first, signer=signer).signer.meaning == SIGNATURE_MEANING  # type: ignore[union-attr]
    clear = infusion_screening(course_data(clear=True))
    assert clear.signable, clear.signing_refusal
    signed = checklist(clear, signer=signer)
    assert signed.signer is not None
    assert signed.signer.meaning == "Day-of re-check: approved for infusion 3 of 6"


def test_a_first_screening_keeps_its_checklist_and_renderer() -> None:
    """No infusion section, the first checklist's renderer (not a subclass)."""
    content = checklist(run(parse_case(clean_case())))
    assert content.infusion is None
    assert type(renderer_for(content)) is ChecklistRenderer
    infusion = checklist(infusion_screening())
    assert isinstance(renderer_for(infusion, "a4"), InfusionChecklistRenderer)


# --- the patient's own band and the grid's times ---------------------------------------------

@pytest.mark.parametrize(("text", "band"), [
    # 105.6-158.4 / 67.2-100.8: rounded inwards, every printed limit is within 20 %
    ("132/84 mmHg", ((106, 158), (68, 100))),
    # exact multiples: the limits themselves are within 20 % (inclusive)
    ("150/100 mmHg", ((120, 180), (80, 120))),
    ("126/80 mmHg", ((101, 151), (64, 96))),
    # another unit: 17.6 kPa = 132.01 mmHg, 11.2 kPa = 84.01 mmHg
    ("17.6/11.2 kPa", ((106, 158), (68, 100))),
])
def test_blood_pressure_band(text: str, band: tuple[tuple[int, int], tuple[int, int]]) -> None:
    """+/-20 % of today's blood pressure in whole mmHg, rounded inwards (C34, R116)."""
    found = blood_pressure_band(text)
    assert found is not None and (found.systolic, found.diastolic) == band
    (low, high), _ = band
    systolic = float(parse_blood_pressure(text).systolic.to("millimeter_Hg").magnitude)
    assert low >= systolic * 0.8 - 1e-9 and high <= systolic * 1.2 + 1e-9
    assert low - 1 < systolic * 0.8 and high + 1 > systolic * 1.2


def test_no_band_without_a_blood_pressure() -> None:
    """No value, no band; the page says so instead of printing numbers."""
    assert blood_pressure_band(None) is None
    data = course_data()
    del data["infusions"][2]["pre"]["blood_pressure"]
    section = checklist(infusion_screening(data)).infusion
    assert section is not None and section.bp_band.startswith("No band")


def test_monitoring_times_every_10_then_every_15_minutes() -> None:
    """Every 10 min to the end of the infusion (C7, C8), the end always a row, then every
    15 min for 60 min (C7, C36); clock times from the start, across midnight."""
    start = datetime(2026, 11, 30, 23, 35)
    rows = monitoring_times(start, parse_quantity("45 min", Dimension.TIME))
    assert [label for label, _ in rows] == [
        "0 min (start, baseline)", "10 min", "20 min", "30 min", "40 min (BP peak)",
        "45 min (end)", "+15 min after end", "+30 min after end", "+45 min after end",
        "+60 min after end", "Discharge"]
    assert [clock for _, clock in rows] == [
        "23:35", "23:45", "23:55", "00:05", "00:15", "00:20", "00:35", "00:50", "01:05",
        "01:20", ""]
    forty = monitoring_times(start, parse_quantity("40 min", Dimension.TIME))
    assert forty[4][0] == "40 min (end; BP peak)" and len(forty) == 10
    assert all(clock == "" for _, clock in monitoring_times(start, None))


# --- the rendered document -------------------------------------------------------------------

def test_page_count_and_what_each_page_carries(unsigned: tuple[bytes, list[str]]) -> None:
    """Page 1 carries the order (infusion N of M, changes, dose box, today's vitals, the
    signature); the bedside double-check block opens page 2; the bedside flowsheet is the last
    page and fits on it."""
    _, pages = unsigned
    assert len(pages) == 5
    first, last = pages[0], pages[-1]
    assert pages[1].startswith("Bedside independent double check The order as signed "
                               "Patient name Alex Rivera")
    assert "Entered at bedside (nurse countersignature)" in pages[1]
    for words in ("INFUSION 3 OF 6", "Changed since the signed checklist of infusion 2",
                  "PUMP RATE", "BP 126/80 mmHg, HR 66 /min, SpO2 98 %", "Physician signature",
                  "Not signed."):
        assert words in first, words
    for words in ("Monitoring: infusion 3 of 6, start 2026-12-02 09:00", "Patient's own BP band",
                  "MOAA/S", "CADSS-6", "Rescue drugs", "Discharge"):
        assert words in last, words
        assert not any(words in page for page in pages[:-1]), words
    assert all(f"Page {n} of 5" in page for n, page in enumerate(pages, start=1))


def test_every_item_is_printed(unsigned: tuple[bytes, list[str]]) -> None:
    """Each change item with its state and detail, the dose change, the grid's clock times,
    the band, the notify values, both keys, the rescue table, the discharge score, the course
    figures; and no ISMP-forbidden notation."""
    _, pages = unsigned
    text = " ".join(pages)
    for item in CHANGE_ITEMS:
        assert item in text, item
    assert "CHANGED 187 lb -> 186 lb" in text
    assert "NEW FINDING 0 -> 2" in text
    assert "Dose change: 0.5 -> 0.75 mg/kg: escalation, R10" in text
    for clock in ("09:00", "09:10", "09:40", "09:55", "10:40"):
        assert clock in pages[-1], clock
    assert ("Within 20 % of today's pre-infusion 126/80 mmHg: systolic 101 to 151 mmHg, "
            "diastolic 64 to 96 mmHg") in text
    # the notify values are the severe limits (the lower of hypertension_severe_* and
    # prior_severe_*), never the elevated 140/90 screening limit (C8)
    assert ("severe: systolic above 180 mmHg or diastolic above 100 mmHg" in pages[-1]
            and "systolic below 90 mmHg" in pages[-1])
    assert "above 140" not in pages[-1] and "Not 140/90 mmHg" in pages[-1]
    for score, meaning in (*MOAAS_KEY, *CADSS6_KEY):
        assert _flat(f"{score} {meaning}") in pages[-1], meaning
    assert " ".join(RESCUE_COLUMNS) in pages[-1]
    assert "Modified Aldrete score: 9 or more of 10 to leave (R116, R117)" in pages[-1]
    for label in ("Since the previous infusion 2 days", "Infusions in the last 7 days 3",
                  "Infusions in the last 30 days 3",
                  "Ketamine given in this course before today",
                  "PHQ-9 baseline 11, latest 9, change -18.2 %"):
        assert label in text, label
    for page in pages:
        assert ismp_violations(page) == [], page


# --- the chart -------------------------------------------------------------------------------

def _named(drawing: object, name: str) -> Any:
    return getattr(drawing, name, None)


def test_chart_draws_each_infusion_and_the_reference_lines() -> None:
    """Baseline 18: points at 18, 12, 9 and 4; lines at 18 (baseline), 14.4 (20 % below), 9
    (50 % below) and 5 (remission); each its own dash pattern and label (grey print)."""
    series = ((1, 18), (2, 12), (3, 9), (4, 4))
    drawing = phq9_chart(series, DEFAULT_THRESHOLDS, width=400, height=180, planned=6)
    points = [_named(drawing, f"point_{n}") for n in range(1, 5)]
    assert all(isinstance(p, Circle) for p in points)
    ys = [p.cy for p in points]
    assert ys == sorted(ys, reverse=True)
    trend = _named(drawing, "trend_0")
    assert isinstance(trend, PolyLine) and len(trend.points) == 8
    lines = {name: _named(drawing, f"line_{name}")
             for name in ("baseline", "improvement", "response", "remission")}
    assert all(isinstance(line, Line) for line in lines.values())
    heights = {name: line.y1 for name, line in lines.items()}
    assert heights["baseline"] == pytest.approx(ys[0])
    assert heights["response"] == pytest.approx(ys[2])  # 9 = 50 % below 18
    assert heights["baseline"] > heights["improvement"] > heights["response"] > \
        heights["remission"]
    patterns = [tuple(line.strokeDashArray) for line in lines.values()]
    assert len(set(patterns)) == 4 and len(set(DASHES.values())) == 4
    labels = [_named(drawing, f"label_{name}").text for name in lines]
    assert labels == ["baseline 18", "20 % below: improving (14.4)",
                      "50 % below: response (9)", "remission: below 5"]


def test_chart_gaps_and_missing_baseline() -> None:
    """A missing total splits the line; without a baseline only the remission line is drawn."""
    drawing = phq9_chart(((1, 20), (2, None), (3, 10), (4, 8)), DEFAULT_THRESHOLDS,
                         width=300, height=150)
    assert len(drawing.trend_0.points) == 2 and len(drawing.trend_1.points) == 4
    assert _named(drawing, "point_2") is None
    no_baseline = phq9_chart(((1, None), (2, 12)), DEFAULT_THRESHOLDS, width=300, height=150)
    assert _named(no_baseline, "line_remission") is not None
    assert _named(no_baseline, "line_baseline") is None
    assert _named(no_baseline, "line_response") is None
    zero = reference_lines(0, DEFAULT_THRESHOLDS)
    assert [name for name, _, _ in zero] == ["remission"]


@pytest.mark.parametrize("width", [300.0, 170 * mm, 7.5 * inch, 520.0])
@pytest.mark.parametrize("height", [60 * mm, 220.0])
@pytest.mark.parametrize("series", [
    ((1, 11), (2, 8), (3, None), (4, 5)),    # "20 % below: improving (8.8)"
    ((1, 27), (2, 27), (3, 0)),              # the top and bottom of the scale
    ((1, 27), (2, 21)),                      # "20 % below: improving (21.6)": the widest
    ((1, 3), (2, 1)),                        # every line near the bottom: labels pushed up
    ((1, 1),),
    ((1, None), (2, 12)),                    # remission line only
], ids=["improving-8.8", "scale-ends", "widest", "low-baseline", "baseline-1", "no-baseline"])
def test_every_label_is_inside_the_drawing(series: tuple[tuple[int, int | None], ...],
                                           width: float, height: float) -> None:
    """Every string of the chart lies within the drawing at the widths of the PDF (A4 and
    Letter frames) and the app; a reference-line label fits even drawn LABEL_SLACK wider (the
    app's SVG renderer substitutes a wider sans-serif for Helvetica), and labels do not
    overlap."""
    drawing = phq9_chart(series, DEFAULT_THRESHOLDS, width=width, height=height, planned=6)
    strings = [shape for shape in drawing.contents if isinstance(shape, String)]
    assert strings
    for string in strings:
        x0, y0, x1, y1 = string.getBounds()
        if string in [_named(drawing, f"label_{n}") for n in DASHES]:
            x1 = x0 + (x1 - x0) * LABEL_SLACK
        assert x0 >= 0 and x1 <= width and y0 >= 0 and y1 <= height, (string.text, width)
    ys = sorted(label.y for n in DASHES if (label := _named(drawing, f"label_{n}")) is not None)
    assert all(b - a >= 8 for a, b in itertools.pairwise(ys))


def test_reference_lines_follow_the_thresholds() -> None:
    """A stricter clinic threshold moves the lines (exact fractions, one-decimal labels)."""
    stricter = CourseThresholds(remission_below=4, response_percent=Decimal(60),
                                improvement_percent=Decimal(25))
    lines = {name: (value, label) for name, value, label in reference_lines(15, stricter)}
    assert lines["improvement"] == (Fraction(45, 4), "25 % below: improving (11.3)")
    assert lines["response"] == (Fraction(6), "60 % below: response (6)")
    assert lines["remission"] == (Fraction(4), "remission: below 4")


# --- signing ---------------------------------------------------------------------------------

def test_signed_infusion_checklist_verifies(tmp_path: Path, ec_key: SigningKey,
                                            capsys: pytest.CaptureFixture[str],
                                            caplog: pytest.LogCaptureFixture) -> None:
    """Signed through produce_checklist like the first: `ketascreen verify` says VALID and the
    page prints the infusion's meaning; pyHanko's note about the longer stamp text is not
    shown to the user."""
    request = SigningRequest(ec_key.p12.read_bytes(),
                             ec_key.passphrase_file.read_bytes().strip(), str(ec_key.p12))
    data, content = produce_checklist(infusion_screening(course_data(clear=True)),
                                      signing=request, now=SIGNED_AT)
    assert not [r for r in caplog.records if r.name.startswith("pyhanko")]
    pdf = tmp_path / "infusion-3.pdf"
    pdf.write_bytes(data)
    assert content.signer is not None
    text = _flat(" ".join(_text(data)))
    assert "Meaning of signature: Day-of re-check: approved for infusion 3 of 6" in text
    capsys.readouterr()
    assert main(["verify", str(pdf), "--json", "--trust", str(ec_key.certificate)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "VALID", report
