"""Helpers for reading PDFs back in the report tests."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from ketascreen.cli import main
from tests.helpers.cases import example_case, patched

THIRTY_MEDICATIONS = [
    "Xanax 0.5 mg", "lorazepam 1 mg", "Klonopin 0.5 mg", "zolpidem 10 mg", "oxycodone 5 mg",
    "Suboxone film", "tramadol 50 mg", "phenelzine 15 mg", "Adderall 20 mg",
    "methylphenidate 10 mg", "pseudoephedrine 60 mg", "theophylline 300 mg",
    "levothyroxine 75 mcg", "lamotrigine 100 mg", "naltrexone 50 mg", "memantine 10 mg",
    "clarithromycin 500 mg", "clopidogrel 75 mg", "carbamazepine 200 mg", "gabapentin 300 mg",
    "sertraline 100 mg", "fluoxetine 20 mg", "bupropion 150 mg", "lithium 300 mg",
    "quetiapine 50 mg", "cyclobenzaprine 10 mg", "diphenhydramine 25 mg", "metformin 500 mg",
    "lisinopril 10 mg", "ibuprofen 400 mg",
]


def write_case(directory: Path, changes: dict[str, Any] | None = None) -> Path:
    """The example case with ``changes``, written to ``directory``."""
    path = directory / "case.json"
    path.write_text(json.dumps(patched(example_case(), changes or {})), encoding="utf-8")
    return path


def do_not_infuse_changes() -> dict[str, Any]:
    """A do-not-infuse case with 30 medications and several absolute findings."""
    return {"medications": [{"text": t, "status": "active"} for t in THIRTY_MEDICATIONS],
            "history.psychotic-disorder": "yes", "history.aneurysmal-vascular-disease": "yes",
            "measurements.blood_pressure": "190/105 mmHg"}


def make_pdf(directory: Path, *args: str, changes: dict[str, Any] | None = None,
             name: str = "out.pdf") -> Path:
    """Run `ketascreen screen CASE --pdf OUT ...`; returns the PDF path."""
    out = directory / name
    assert main(["screen", str(write_case(directory, changes)), "--pdf", str(out),
                 "--clinic", "Riverside Ketamine Clinic", *args]) == 0
    return out


def pages_text(path: Path) -> list[str]:
    """The text of each page."""
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(path.read_bytes())).pages]
