"""Screening an infusion of a course: the case the rules read, the result's course key, the
acknowledgements carried over, what changed, and `ketascreen screen COURSE.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ketascreen.cli import main
from ketascreen.course.context import infusion_case
from ketascreen.models.parsing import parse_course
from ketascreen.screening import Screening, run, run_course
from tests.course.helpers import COURSE_EXAMPLE, course_with, example_course


def _screen(course: dict[str, Any], **options: Any) -> Screening:
    return run_course(parse_course(course), **options)


def _concepts(screening: Screening) -> list[str]:
    return [f.concept for f in screening.result.findings]


# --- the case of infusion N -------------------------------------------------------------------

def test_infusion_case_takes_latest_weight_medications_protocol_and_todays_vitals() -> None:
    """Infusion 3: weight re-measured (186 lb), infusion 2's list (Xanax stopped), own dose,
    today's BP; the screening's history and the start date as the screening date."""
    course = parse_course(example_course())
    case = infusion_case(course, 3)
    assert case.measurements.weight == "186 lb"
    assert case.measurements.height == "5 ft 7 in"
    assert case.measurements.blood_pressure == "126/80 mmHg"
    assert [m.status for m in case.medications] == ["active", "stopped"]
    assert case.screening_date.isoformat() == "2026-12-02"
    assert case.history == course.screening.history
    assert case.protocol is not None and case.protocol.dose == "0.5 mg/kg"


def test_infusion_case_keeps_an_earlier_weight_when_not_reweighed() -> None:
    """Infusion 2 gives no weight: infusion 1's 187 lb stands; no vitals today -> none."""
    course = parse_course(course_with({"infusions.1.pre.blood_pressure": None}))
    case = infusion_case(course, 2)
    assert case.measurements.weight == "187 lb"
    assert case.measurements.blood_pressure is None


def test_screening_vitals_are_not_todays() -> None:
    """Without today's blood pressure the screening's is not used: missing-blood-pressure."""
    screening = _screen(course_with({"infusions.2.pre.blood_pressure": None}))
    assert "missing-blood-pressure" in _concepts(screening)
    assert screening.result.decision == "insufficient-data"


# --- the result's course key ------------------------------------------------------------------

def test_course_key_is_the_figures_of_the_last_infusion() -> None:
    """The example's infusion 3: 2 days after infusion 2, 3 in 7 days, two doses before it."""
    screening = _screen(example_course())
    data = json.loads(screening.result.model_dump_json())
    course = data["course"]
    assert course["infusion"] == 3
    assert course["planned"] == 6
    assert course["days_since_previous"] == 2
    assert course["infusions_last_7_days"] == 3
    assert course["phq9"] == {"baseline": 11, "latest": 9, "change_percent": -18.2}
    assert course["status"] == "too-early"
    # Infusions 1 and 2 at 187 lb and 0.5 mg/kg: 42.41 mg each.
    assert course["cumulative_mg"] == pytest.approx(84.82)
    assert list(data) == ["format", "decision", "findings", "abuse_risk", "dose", "ruleset",
                          "course"]
    assert screening.course is not None and screening.course.infusion == 3


def test_case_result_has_no_course_key() -> None:
    """A case screening's JSON has no course key at all (not null)."""
    course = parse_course(example_course())
    result = run(course.screening).result
    assert "course" not in json.loads(result.model_dump_json())
    assert "course" not in result.model_dump(mode="json")


def test_an_earlier_infusion_can_be_screened() -> None:
    """infusion=2 screens infusion 2 with only infusion 1 before it."""
    screening = _screen(example_course(), infusion=2)
    assert screening.course is not None
    assert screening.course.figures.infusion == 2
    assert screening.case.screening_date.isoformat() == "2026-11-30"


@pytest.mark.parametrize("last_signed", [3, -1, 4])
def test_last_signed_must_be_before_the_infusion(last_signed: int) -> None:
    """The last signed checklist is the screening's (0) or an earlier infusion's."""
    with pytest.raises(IndexError):
        _screen(example_course(), last_signed=last_signed)


def test_no_such_infusion() -> None:
    """Infusion 4 of a three-infusion course does not exist."""
    with pytest.raises(IndexError):
        _screen(example_course(), infusion=4)


# --- the command line ---------------------------------------------------------------------------

def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(list(args))
    return status, capsys.readouterr().out


def test_cli_screens_the_last_infusion_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`screen COURSE.json --json` prints the result with the course key."""
    status, text = _cli(capsys, "screen", str(COURSE_EXAMPLE), "--json")
    assert status == 0
    data = json.loads(text)
    assert data["course"]["infusion"] == 3
    assert data == json.loads(run_course(parse_course(example_course())).result
                              .model_dump_json())


def test_cli_report_has_the_course_block(capsys: pytest.CaptureFixture[str]) -> None:
    """The readable report ends with the course figures and the changes."""
    status, text = _cli(capsys, "screen", str(COURSE_EXAMPLE))
    assert status == 0
    assert "COURSE: infusion 3 of 6; status too-early" in text
    assert "weight: changed (187 lb -> 186 lb)" in text


def test_cli_invalid_course_exits_2_naming_the_field(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """An invalid course prints no result: exit 2, the field path on stderr."""
    path = tmp_path / "course.json"
    path.write_text(json.dumps(course_with({"infusions.2.pre.phq9": [1, 1, 1, 1, 1, 1, 1, 1, 4]})),
                    encoding="utf-8")
    status = main(["screen", str(path), "--json"])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert "infusions[2].pre.phq9[8]" in captured.err
