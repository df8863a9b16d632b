"""The rendered checklist read back: content, ISMP notation, page sizes, paging, pixels."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from ketascreen.api import load_case
from ketascreen.display import ismp_violations
from ketascreen.screening import screen
from tests.reports.helpers import do_not_infuse_changes, make_pdf, pages_text, write_case


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_pdf_carries_patient_decision_findings_dose(tmp_path: Path) -> None:
    """Patient, decision, every finding, the dose and rate strings are in the PDF text."""
    pdf = make_pdf(tmp_path)
    text = _flat(" ".join(pages_text(pdf)))
    result = screen(load_case(write_case(tmp_path)))
    assert "Alex Rivera" in text
    assert "MRN-0042" in text
    assert "NEEDS REVIEW" in text
    for finding in result.findings:
        assert _flat(finding.title) in text
    assert result.dose is not None
    assert result.dose.display.dose in text
    assert result.dose.display.rate in text
    assert "Not signed." in text


def test_no_ismp_forbidden_notation_anywhere(tmp_path: Path) -> None:
    """No trailing zero, naked decimal, cc, µg, U or qd on any page."""
    for changes in ({}, do_not_infuse_changes()):
        pdf = make_pdf(tmp_path, "--force", changes=changes)
        for page in pages_text(pdf):
            assert ismp_violations(page) == [], page


@pytest.mark.parametrize(("size", "points"), [("letter", (612, 792)), ("a4", (595, 842))])
def test_page_sizes(tmp_path: Path, size: str, points: tuple[int, int]) -> None:
    """Letter and A4 are both available."""
    pdf = make_pdf(tmp_path, "--page-size", size)
    box = PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == points


def test_long_do_not_infuse_checklist_flows_over_pages(tmp_path: Path) -> None:
    """Thirty medications flow onto further pages; every page says page x of y; no dose box."""
    pdf = make_pdf(tmp_path, changes=do_not_infuse_changes())
    pages = pages_text(pdf)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Alex Rivera (MRN-0042)" in page
    text = _flat(" ".join(pages))
    assert "DO NOT INFUSE" in text
    assert "No dose: do not infuse." in text
    assert "PUMP RATE" not in text
    result = screen(load_case(write_case(tmp_path, do_not_infuse_changes())))
    for finding in result.findings:
        assert finding.rule_id in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_first_page_renders_and_is_not_blank(tmp_path: Path) -> None:
    """pdftoppm renders page 1 with a real amount of ink on it (banner, tables, text)."""
    pdf = make_pdf(tmp_path)
    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", str(pdf),
                    str(tmp_path / "page")], check=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    histogram = image.histogram()
    dark = sum(histogram[:200]) / sum(histogram)
    assert 0.05 < dark < 0.6


@pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None,
                    reason="pdftoppm (poppler-utils) or zbarimg (zbar-tools) missing")
def test_qr_code_carries_record_id_and_result_hash(tmp_path: Path) -> None:
    """The printed QR code decodes to the record id and the sha256 of the result JSON."""
    import hashlib
    import json

    from ketascreen.models.checklist import canonical_json

    pdf = make_pdf(tmp_path)
    pages = len(pages_text(pdf))
    subprocess.run(["pdftoppm", "-r", "150", "-f", str(pages), "-l", str(pages), "-png",
                    str(pdf), str(tmp_path / "last")], check=True)
    done = subprocess.run(["zbarimg", "-q", "--raw", str(next(tmp_path.glob("last*.png")))],
                          capture_output=True, text=True, check=False)
    payload = json.loads(done.stdout.strip())
    result = screen(load_case(write_case(tmp_path)))
    expected = hashlib.sha256(canonical_json(result.model_dump(mode="json"))).hexdigest()
    assert payload["result_sha256"] == expected
    assert payload["record"].startswith("KS-")
    assert payload["record"] in " ".join(pages_text(pdf))
