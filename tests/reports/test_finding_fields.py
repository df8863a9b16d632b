"""The PDF checklist shows every finding's basis, action and source, read back from the page.

The findings table is rebuilt from the positions of the text on each page (pypdf): the header
row gives the columns, each severity cell starts a row, and every line of text is put in the
cell of its column and row. Each finding of the screening must be in its own row with its own
basis, action and source (whitespace aside: the PDF wraps lines, sometimes inside a word).
"""

from __future__ import annotations

import io
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from ketascreen.api import load_case, screen
from ketascreen.models.result import Finding
from tests.reports.helpers import do_not_infuse_changes, make_pdf, write_case

HEADER = ("Severity", "Finding", "Basis", "Action", "Source")
SEVERITY_WORDS = frozenset({"ABSOLUTE", "RELATIVE", "INFO"})
TOLERANCE = 1.0
"""Points: text of one column starts at the same x; the first lines of one row share a y."""


@dataclass(frozen=True)
class Line:
    """One line of text on a page, at the position where it starts."""

    page: int
    x: float
    y: float
    text: str


@dataclass
class Row:
    """One row of the findings table as read from the page: the text of each column."""

    cells: dict[str, list[str]] = field(default_factory=dict)

    def text(self, column: str) -> str:
        """The column's lines joined, whitespace removed (wrapping may split a word)."""
        return squash(" ".join(self.cells.get(column, [])))


def squash(text: str) -> str:
    """``text`` without any whitespace."""
    return "".join(text.split())


def page_lines(pdf: Path) -> list[list[Line]]:
    """Every line of text of each page, top to bottom (unrotated text only)."""
    pages: list[list[Line]] = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf.read_bytes())).pages):
        lines: list[Line] = []

        def visit(text: str, cm: list[float], tm: list[float], _font: Any, _size: Any,
                  number: int = number, lines: list[Line] = lines) -> None:
            upright = cm[1] == 0 and cm[2] == 0 and tm[1] == 0 and tm[2] == 0
            if text.strip() and upright:
                lines.append(Line(number, cm[4] + tm[4], cm[5] + tm[5], text.strip()))

        page.extract_text(visitor_text=visit)
        pages.append(sorted(lines, key=lambda line: -line.y))
    return pages


def findings_table(pdf: Path) -> list[Row]:
    """The rows of the findings table, on every page it spans, in order."""
    rows: list[Row] = []
    for lines in page_lines(pdf):
        header = _header(lines)
        if header is None:
            continue
        columns = sorted(header.items(), key=lambda item: item[1].x)
        left = header["Severity"].x
        bounds: list[float] = []  # the top of each row, then the end of the table
        for line in lines:
            if line.y >= header["Severity"].y - TOLERANCE or abs(line.x - left) > TOLERANCE:
                continue
            bounds.append(line.y)
            if line.text not in SEVERITY_WORDS:
                break  # the first heading after the table: the table ends here
        else:
            bounds.append(-math.inf)  # the table goes on over the page
        for start, end in itertools.pairwise(bounds):
            row = Row()
            for text_line in lines:
                if not end + TOLERANCE < text_line.y <= start + 2 * TOLERANCE:
                    continue
                name = next((name for name, at in reversed(columns)
                             if abs(text_line.x - at.x) <= TOLERANCE), None)
                if name is not None:
                    row.cells.setdefault(name, []).append(text_line.text)
            rows.append(row)
    return rows


def _header(lines: list[Line]) -> dict[str, Line] | None:
    """The header row of the findings table on one page, by column name, if it is there."""
    for line in lines:
        if line.text != "Basis":
            continue
        found = {other.text: other for other in lines
                 if other.text in HEADER and abs(other.y - line.y) <= TOLERANCE}
        if set(found) == set(HEADER):
            return found
    return None


def _acknowledged() -> dict[str, Any]:
    return {"medications": [{"text": t, "status": "active"} for t in
                            ("Xanax 0.5 mg", "lamotrigine 100 mg", "memantine 10 mg")],
            "acknowledgements": [{"concept": "benzodiazepine",
                                  "reason": "Evening alprazolam held the night before."}]}


CASES = {
    "do-not-infuse, 18 findings over several pages": do_not_infuse_changes(),
    "example case, benzodiazepine acknowledged": _acknowledged(),
    "several relative findings": {
        "medications": [{"text": t, "status": "active"} for t in
                        ("Xanax 0.5 mg", "oxycodone 5 mg", "phenelzine 15 mg",
                         "Adderall 20 mg")],
        "measurements.blood_pressure": "150/95 mmHg"},
}


def _findings(tmp_path: Path, changes: dict[str, Any]) -> list[Finding]:
    return list(screen(load_case(write_case(tmp_path, changes))).findings)


@pytest.mark.parametrize("changes", CASES.values(), ids=CASES.keys())
def test_every_finding_shows_its_basis_action_and_source(tmp_path: Path,
                                                         changes: dict[str, Any]) -> None:
    """Each finding has one row naming its rule, with its basis, its action and its source."""
    findings = _findings(tmp_path, changes)
    assert len(findings) >= 2
    pdf = make_pdf(tmp_path, changes=changes)
    rows = findings_table(pdf)
    assert len(rows) == len(findings), [row.cells for row in rows]
    for finding, row in zip(findings, rows, strict=True):
        assert finding.rule_id in row.text("Finding")
        assert squash(finding.title) in row.text("Finding")
        assert row.text("Basis") == squash(finding.basis), finding.rule_id
        assert row.text("Action") == squash(finding.action), finding.rule_id
        assert row.text("Source") == squash(finding.source), finding.rule_id
        assert finding.source and finding.action and finding.basis


def test_an_acknowledgement_is_printed_with_its_finding(tmp_path: Path) -> None:
    """The acknowledged finding's row carries the reason typed by the physician."""
    pdf = make_pdf(tmp_path, changes=_acknowledged())
    rows = findings_table(pdf)
    [row] = [r for r in rows if "KS-INT-0001" in r.text("Finding")]
    assert squash("Acknowledged: Evening alprazolam held the night before.") in row.text(
        "Finding")

