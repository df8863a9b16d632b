"""Page 1 carries the order; an unsigned export is marked on every page; no text under 8 pt;
times are local with their offset (issue 10, item 7)."""

from __future__ import annotations

import io
import math
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from ketascreen.display import format_local_time
from ketascreen.models.checklist import AWAITING_SIGNATURE, DECISION_LABELS, UNSIGNED_MARK
from ketascreen.reports.pdf import MIN_FONT_SIZE
from tests.reports.conftest import SigningKey
from tests.reports.helpers import make_pdf, pages_text

CLEAR_ORDER: dict[str, Any] = {
    "acknowledgements": [{"concept": "benzodiazepine", "reason": "Evening dose held."}],
    "protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "vial": "50 mg/mL",
                 "diluent_volume": "100 mL"},
}
CLEAR_BANNER = DECISION_LABELS["clear"][1]


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _signed(directory: Path, key: SigningKey, size: str) -> Path:
    return make_pdf(directory, "--sign", str(key.p12), "--passphrase-file",
                    str(key.passphrase_file), "--page-size", size, changes=CLEAR_ORDER,
                    name=f"signed-{size}.pdf")


@pytest.mark.parametrize("size", ["letter", "a4"])
def test_page_one_has_the_dose_box_and_the_vitals(tmp_path: Path, ec_key: SigningKey,
                                                  size: str) -> None:
    """Page 1 of a signed clear checklist: every dose-box item, the smart-pump dose-mode
    parameters, the vital signs with the policy's limits, and the signature."""
    first = _flat(pages_text(_signed(tmp_path, ec_key, size))[0])
    for item in ("Intended dose 42.4 mg (0.5 mg/kg x 84.82 kg)",
                 "Drawn up 0.85 mL of ketamine 50 mg/mL vial = 42.5 mg",
                 "Diluent add to 100 mL 0.9% sodium chloride",
                 "Final concentration 0.421 mg/mL", "VTBI 100.8 mL",
                 "Dose rate 63.6 mg/h at 0.421 mg/mL (smart-pump dose mode)",
                 "Delivered 42.5 mg", "PUMP RATE 151.3 mL/h"):
        assert item in first, item
    for vital in ("Blood pressure 138/86 mmHg", "Heart rate 72 /min", "SpO2 98 %",
                  "Weight 187 lb", "5 ft 7 in; BMI 29.3 kg/m²",
                  "hypertension elevated: above 140/90 mmHg",
                  "hypertension severe: above 180/100 mmHg",
                  "plausible 30 kg to 300 kg", "plausible BMI 12 to 80 kg/m²"):
        assert vital in first, vital
    assert "Signed by: Dr Jane Smith" in first
    assert "CLEAR" in first and CLEAR_BANNER in first
    assert UNSIGNED_MARK not in first


@pytest.mark.parametrize("size", ["letter", "a4"])
def test_unsigned_export_is_marked_on_every_page_and_never_clear(tmp_path: Path,
                                                                 size: str) -> None:
    """Every page of an unsigned export says UNSIGNED — NOT AN ORDER; none carries the green
    CLEAR banner: page 1 says "Screened: clear — awaiting signature" instead."""
    pages = pages_text(make_pdf(tmp_path, "--page-size", size, changes=CLEAR_ORDER))
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert UNSIGNED_MARK in page, f"page {number}"
        assert CLEAR_BANNER not in _flat(page), f"page {number}"
        assert not re.search(r"^CLEAR$", page, re.MULTILINE), f"page {number}"
    assert AWAITING_SIGNATURE[0] in _flat(pages[0])
    assert "PUMP RATE 151.3 mL/h" in _flat(pages[0])


def _font_sizes(path: Path) -> list[tuple[float, str]]:
    """(effective size in points, text) of every text run of every page."""
    found: list[tuple[float, str]] = []
    for page in PdfReader(io.BytesIO(path.read_bytes())).pages:
        def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
            if not text.strip():
                return
            a, b, c, d = (tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3],
                          tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3])
            found.append((size * math.sqrt(abs(a * d - b * c)), text))
        page.extract_text(visitor_text=visit)
    return found


def test_no_working_text_is_smaller_than_8_pt(tmp_path: Path, ec_key: SigningKey) -> None:
    """Every text run of a signed and an unsigned checklist is at least 8 pt."""
    for path in (_signed(tmp_path, ec_key, "letter"),
                 make_pdf(tmp_path, changes=CLEAR_ORDER, name="unsigned.pdf")):
        sizes = _font_sizes(path)
        assert len(sizes) > 50
        small = [(round(size, 2), text) for size, text in sizes if size < MIN_FONT_SIZE - 0.01]
        assert small == [], small


def test_signing_time_is_local_with_its_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    """A signing time prints as the clinic's local time with its UTC offset, not UTC."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        moment = datetime(2026, 12, 5, 14, 14, tzinfo=UTC)
        assert format_local_time(moment) == "2026-12-05 09:14 -05:00"
        assert format_local_time(datetime(2026, 7, 1, 12, 0, tzinfo=UTC)) == (
            "2026-07-01 08:00 -04:00")
    finally:
        monkeypatch.undo()
        time.tzset()


def test_signed_page_prints_the_local_signing_time(tmp_path: Path, ec_key: SigningKey) -> None:
    """The signature block's time has the form YYYY-MM-DD HH:MM +HH:MM (never "UTC")."""
    first = _flat(pages_text(_signed(tmp_path, ec_key, "letter"))[0])
    match = re.search(r"Date and time: (\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d\d:\d\d)", first)
    assert match is not None, first
