"""Screened infusions of the example course, for the infusion-checklist tests."""

from __future__ import annotations

from typing import Any

from ketascreen.models.parsing import parse_course
from ketascreen.screening import Screening, run_course
from tests.course.helpers import example_course


def course_data(*, clear: bool = False) -> dict[str, Any]:
    """The example course as JSON data; ``clear``: without the benzodiazepine (the screening's
    and infusion 2's lists), so its last infusion can screen CLEAR and be signed."""
    data = example_course()
    if clear:
        for meds in (data["screening"]["medications"],
                     data["infusions"][1]["pre"]["medications"]):
            meds[:] = [m for m in meds if "Xanax" not in m["text"]]
    return data


def infusion_screening(data: dict[str, Any] | None = None, number: int | None = None,
                       *, last_signed: int | None = None) -> Screening:
    """The screening of infusion ``number`` (default the last) of the course ``data``."""
    course = parse_course(data if data is not None else course_data())
    return run_course(course, infusion=number, last_signed=last_signed)
