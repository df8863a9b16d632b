"""The course model: the spec's example loads, and every invalid course is refused with the
full path of the offending field."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from ketascreen.course.figures import days_since_previous
from ketascreen.errors import CaseValidationError
from ketascreen.models.case import Case
from ketascreen.models.course import Course
from ketascreen.models.parsing import (
    CourseValidationError,
    load_course,
    parse_case,
    parse_course,
    parse_course_json,
)
from tests.course.helpers import COURSE_EXAMPLE, course_with, example_course
from tests.helpers.cases import example_case


def _problems(data: Any) -> list[tuple[str, object, str]]:
    with pytest.raises(CourseValidationError) as caught:
        parse_course(data)
    return [(p.field, p.value, p.message) for p in caught.value.problems]


def _only_problem(data: Any) -> tuple[str, object, str]:
    problems = _problems(data)
    assert len(problems) == 1, problems
    return problems[0]


def test_example_course_loads() -> None:
    """The example (the spec's, with the spec's case as its screening) is a valid course."""
    course = load_course(COURSE_EXAMPLE)
    assert isinstance(course.screening, Case)
    assert course.screening.patient.name == "Alex Rivera"
    assert course.screening_record == "KS-0123456789AB"
    assert course.plan is not None
    assert (course.plan.infusions, course.plan.weeks) == (6, 3)
    assert [i.number for i in course.infusions] == [1, 2, 3]
    assert course.last.number == 3
    first = course.infusion(1)
    weight = first.pre.weight_quantity()
    assert weight is not None
    assert weight.to("kilogram").magnitude == pytest.approx(84.82, abs=0.005)
    bp = first.pre.blood_pressure_value()
    assert bp is not None
    assert bp.mmhg() == pytest.approx((132, 84))
    assert first.pre.phq9_total() == 11
    assert first.pre.phq9_item9() == 0
    assert first.pre.gad7_total() == 12
    assert not first.pre.medications_changed()
    assert first.dose is not None
    assert first.dose.dose == "0.5 mg/kg"
    assert [m.minute for m in first.monitoring] == [0, 40]
    assert first.monitoring[1].moaas == 4
    assert first.monitoring[1].cadss6 is None
    assert first.rescue[0].dose_quantity().to("milligram").magnitude == pytest.approx(4)
    assert first.discharge is not None
    assert first.discharge.aldrete == 10
    second = course.infusion(2)
    assert second.pre.weight is None  # not re-weighed: the latest earlier weight applies
    assert second.pre.medications_changed()
    assert second.pre.gad7_total() == 7
    assert second.dose is None
    third = course.last
    assert third.pre.phq9_total() == 9
    assert third.pre.phq9_item9() is None  # a total says nothing about item 9
    assert third.monitoring == [] and third.discharge is None
    assert course.phq9_baseline() == 11


def test_defaults_leave_missing_answers_for_the_rules() -> None:
    """Absent day-of answers stay absent or unknown: the rules report them as data findings."""
    data = course_with({"infusions.2.pre": {}})
    pre = parse_course(data).last.pre
    assert (pre.escort, pre.pregnancy_test, pre.urinary_symptoms) == (
        "unknown", "not-done", "unknown")
    assert pre.last_solids is None and pre.phq9 is None and pre.blood_pressure is None
    assert pre.medications is None


def _intervals(course: Course) -> list[int]:
    starts = [infusion.start for infusion in course.infusions]
    return [days_since_previous(before, after) for before, after in pairwise(starts)]


def test_starts_across_the_month_end() -> None:
    """27 Nov 09:00 -> 30 Nov 09:30 -> 2 Dec 09:00: valid, 3 and 2 calendar days apart."""
    course = parse_course(example_course())
    assert _intervals(course) == [3, 2]
    assert course.infusion(3).start.month == 12
    with pytest.raises(IndexError):
        course.infusion(4)
    with pytest.raises(IndexError):
        course.infusion(0)


def _leap_course(*starts: str) -> dict[str, Any]:
    data = example_course()
    data["screening"]["screening_date"] = "2028-02-28"
    infusions = []
    for number, start in enumerate(starts, start=1):
        infusion = {"number": number, "start": start,
                    "pre": {"last_solids": start[:10] + "T00:00",
                            "last_clear_fluids": start[:10] + "T06:00"}}
        infusions.append(infusion)
    data["infusions"] = infusions
    return data


def test_a_leap_day_is_a_day() -> None:
    """28 Feb 2028 -> 29 Feb (leap day) -> 1 Mar: one calendar day each; 31 Dec -> 1 Jan too."""
    course = parse_course(_leap_course("2028-02-28T23:00", "2028-02-29T09:00",
                                       "2028-03-01T09:00", "2028-12-31T09:00",
                                       "2029-01-01T09:00"))
    assert _intervals(course) == [1, 1, 305, 1]


def test_a_leap_day_in_a_common_year_is_refused() -> None:
    """29 Feb 2027 does not exist."""
    field, value, message = _problems(_leap_course("2027-02-29T09:00"))[0]
    assert field == "infusions[0].start"
    assert value == "2027-02-29T09:00"
    assert "day value is outside expected range" in message


@pytest.mark.parametrize(("start", "valid"), [
    ("2026-11-24T23:59", False),   # the evening before the screening date
    ("2026-11-25T00:00", True),    # the screening date itself
    ("2026-11-25T08:00", True),
])
def test_start_not_before_the_screening_date(start: str, valid: bool) -> None:
    """An infusion may start on the screening date, not the day before."""
    data = course_with({"infusions.0.start": start,
                        "infusions.0.pre.last_solids": "2026-11-24T20:00",
                        "infusions.0.pre.last_clear_fluids": "2026-11-24T22:00"})
    if valid:
        assert parse_course(data).infusion(1).start.isoformat(timespec="minutes") == start
    else:
        assert _only_problem(data) == ("infusions[0].start", start,
                                       "is before the screening date (2026-11-25)")


def test_start_before_a_leap_day_screening_is_refused() -> None:
    """Screened on 29 Feb 2028: an infusion on 28 Feb is before it, on 1 Mar after it."""
    data = _leap_course("2028-02-28T09:00")
    data["screening"]["screening_date"] = "2028-02-29"
    assert _only_problem(data)[0:2] == ("infusions[0].start", "2028-02-28T09:00")
    data = _leap_course("2028-03-01T09:00")
    data["screening"]["screening_date"] = "2028-02-29"
    assert parse_course(data).infusion(1).start.day == 1


def _swap(data: dict[str, Any], first: int, second: int) -> dict[str, Any]:
    infusions = data["infusions"]
    infusions[first], infusions[second] = infusions[second], infusions[first]
    return data


def test_infusions_out_of_order() -> None:
    """Infusion 2 written before infusion 1 is out of order, named at its place in the file."""
    field, value, message = _only_problem(_swap(example_course(), 0, 1))
    assert (field, value) == ("infusions[0].number", 2)
    assert message.startswith("is out of order")


@pytest.mark.parametrize(("changes", "field", "value", "message_part"), [
    ({"infusions.2.number": 4}, "infusions[2].number", 4, "leaves a gap"),
    ({"infusions.1.number": 3}, "infusions[1].number", 3, "leaves a gap"),  # 1, 3, 3
    ({"infusions.2.number": 2}, "infusions[2].number", 2, "repeats infusion 2"),  # 1, 2, 2
    ({"infusions.1.number": 1}, "infusions[1].number", 1, "repeats infusion 1"),  # 1, 1, 3
    ({"infusions.0.number": 0}, "infusions[0].number", 0, "greater than or equal to 1"),
    ({"infusions.0.number": "1"}, "infusions[0].number", "1", "valid integer"),
])
def test_numbering(changes: dict[str, Any], field: str, value: object,
                   message_part: str) -> None:
    """Infusions are numbered 1, 2, 3 ... in file order, without gaps or repeats."""
    got_field, got_value, message = _problems(course_with(changes))[0]
    assert (got_field, got_value) == (field, value)
    assert message_part in message


@pytest.mark.parametrize(("start", "valid"), [
    ("2026-11-27T09:00", False),   # the same moment as infusion 1
    ("2026-11-27T08:59", False),   # going backwards
    ("2026-11-27T09:01", True),
])
def test_starts_go_forward(start: str, valid: bool) -> None:
    """Each infusion starts after the one before it."""
    data = course_with({"infusions.1.start": start,
                        "infusions.1.pre.last_solids": "2026-11-27T01:00",
                        "infusions.1.pre.last_clear_fluids": "2026-11-27T07:00"})
    if valid:
        assert _intervals(parse_course(data))[0] == 0
    else:
        assert _only_problem(data)[0:2] == ("infusions[1].start", start)


@pytest.mark.parametrize(("changes", "field", "value", "message_part"), [
    # unknown keys, at each level
    ({"notes": "x"}, "notes", None, "is not a field of ketascreen-course/1"),
    ({"screening.weight": "80 kg"}, "screening.weight", None, "is not a field"),
    ({"screening.patient.nickname": "Al"}, "screening.patient.nickname", None, "is not a field"),
    ({"plan.months": 1}, "plan.months", None, "is not a field"),
    ({"infusions.0.site": "left arm"}, "infusions[0].site", None, "is not a field"),
    ({"infusions.2.pre.weigth": "80 kg"}, "infusions[2].pre.weigth", None, "is not a field"),
    ({"infusions.1.pre.medications.0.dose": "1 mg"}, "infusions[1].pre.medications[0].dose",
     None, "is not a field"),
    ({"infusions.0.dose.rate": "1 mL/h"}, "infusions[0].dose.rate", None, "is not a field"),
    ({"infusions.0.acknowledgements": [{"concept": "benzodiazepine", "reason": "Held",
                                       "by": "Dr A"}]},
     "infusions[0].acknowledgements[0].by", None, "is not a field"),
    ({"infusions.0.monitoring.1.rr": "12 /min"}, "infusions[0].monitoring[1].rr", None,
     "is not a field"),
    ({"infusions.0.rescue.0.route": "IV"}, "infusions[0].rescue[0].route", None,
     "is not a field"),
    ({"infusions.0.discharge.padss": 9}, "infusions[0].discharge.padss", None, "is not a field"),
    # the format and the record id
    ({"format": "ketascreen-case/1"}, "format", "ketascreen-case/1", "ketascreen-course/1"),
    ({"screening_record": "ks-0123456789ab"}, "screening_record", "ks-0123456789ab",
     "KS- and 12 hex digits"),
    ({"screening_record": "KS-0123456789A"}, "screening_record", "KS-0123456789A",
     "KS- and 12 hex digits"),
    ({"infusions": []}, "infusions", [], "at least 1 item"),
    ({"infusions.0.start": None}, "infusions[0].start", None, "is required"),
    ({"infusions.0.number": None}, "infusions[0].number", None, "is required"),
    ({"plan.infusions": 0}, "plan.infusions", 0, "greater than or equal to 1"),
    # quantities: no unit, wrong dimension, impossible
    ({"infusions.2.pre.weight": "186"}, "infusions[2].pre.weight", "186", "has no unit"),
    ({"infusions.2.pre.weight": 186}, "infusions[2].pre.weight", 186, "text with a unit"),
    ({"infusions.2.pre.weight": "186 mL"}, "infusions[2].pre.weight", "186 mL", "not a mass"),
    ({"infusions.2.pre.weight": "1200 kg"}, "infusions[2].pre.weight", "1200 kg",
     "not a possible"),
    ({"infusions.2.pre.heart_rate": "66"}, "infusions[2].pre.heart_rate", "66", "has no unit"),
    ({"infusions.2.pre.spo2": "98"}, "infusions[2].pre.spo2", "98", "has no unit"),
    ({"infusions.2.pre.spo2": "101 %"}, "infusions[2].pre.spo2", "101 %", "not a possible"),
    ({"infusions.2.pre.blood_pressure": "126/80"}, "infusions[2].pre.blood_pressure", "126/80",
     "unit"),
    ({"infusions.0.monitoring.1.blood_pressure": "152 mmHg"},
     "infusions[0].monitoring[1].blood_pressure", "152 mmHg", "not a blood pressure"),
    ({"infusions.0.monitoring.1.blood_pressure": "400/94 mmHg"},
     "infusions[0].monitoring[1].blood_pressure", "400/94 mmHg", "not a possible"),
    ({"infusions.0.monitoring.0.heart_rate": "72 %"}, "infusions[0].monitoring[0].heart_rate",
     "72 %", "is a percentage, not a rate per minute"),
    ({"infusions.0.rescue.0.dose": "4"}, "infusions[0].rescue[0].dose", "4", "has no unit"),
    ({"infusions.0.rescue.0.dose": "4 mL"}, "infusions[0].rescue[0].dose", "4 mL",
     "not a mass"),
    ({"infusions.0.rescue.0.dose": "0 mg"}, "infusions[0].rescue[0].dose", "0 mg",
     "greater than zero"),
    ({"infusions.0.dose.dose": "0.5"}, "infusions[0].dose.dose", "0.5", "has no unit"),
    ({"infusions.0.dose.duration": "40"}, "infusions[0].dose.duration", "40", "has no unit"),
    ({"infusions.1.pre.medications.1.daily_dose": "1"},
     "infusions[1].pre.medications[1].daily_dose", "1", "has no unit"),
    # PHQ-9 and GAD-7, item by item
    ({"infusions.2.pre.phq9": [1, 1, 1, 1, 1, 1, 1, 1]}, "infusions[2].pre.phq9",
     [1, 1, 1, 1, 1, 1, 1, 1], "at least 9 items"),
    ({"infusions.2.pre.phq9": [0] * 10}, "infusions[2].pre.phq9", [0] * 10, "at most 9 items"),
    ({"infusions.2.pre.phq9": [1, 1, 1, 1, 1, 1, 1, 1, 4]}, "infusions[2].pre.phq9[8]", 4,
     "less than or equal to 3"),
    ({"infusions.2.pre.phq9": [-1, 1, 1, 1, 1, 1, 1, 1, 1]}, "infusions[2].pre.phq9[0]", -1,
     "greater than or equal to 0"),
    ({"infusions.2.pre.phq9": [1, 1, "2", 1, 1, 1, 1, 1, 1]}, "infusions[2].pre.phq9[2]", "2",
     "valid integer"),
    ({"infusions.2.pre.phq9": 28}, "infusions[2].pre.phq9", 28, "less than or equal to 27"),
    ({"infusions.2.pre.phq9": -1}, "infusions[2].pre.phq9", -1, "greater than or equal to 0"),
    ({"infusions.2.pre.phq9": 9.0}, "infusions[2].pre.phq9", 9.0, "valid integer"),
    ({"infusions.2.pre.gad7": 22}, "infusions[2].pre.gad7", 22, "less than or equal to 21"),
    ({"infusions.2.pre.gad7": [1, 1, 1, 1, 1, 1]}, "infusions[2].pre.gad7",
     [1, 1, 1, 1, 1, 1], "at least 7 items"),
    ({"infusions.2.pre.gad7": [1, 1, 1, 1, 1, 1, 4]}, "infusions[2].pre.gad7[6]", 4,
     "less than or equal to 3"),
    # answers
    ({"infusions.2.pre.escort": "maybe"}, "infusions[2].pre.escort", "maybe", "Input should be"),
    ({"infusions.2.pre.pregnancy_test": "pending"}, "infusions[2].pre.pregnancy_test",
     "pending", "Input should be"),
    ({"infusions.2.pre.urinary_symptoms": True}, "infusions[2].pre.urinary_symptoms", True,
     "Input should be"),
    ({"infusions.0.pre.since_last": "Nausea\u200b resolved"}, "infusions[0].pre.since_last",
     "Nausea\u200b resolved", "invisible"),
    ({"infusions.0.pre.since_last": "   "}, "infusions[0].pre.since_last", "   ", "blank"),
    ({"infusions.0.rescue.0.drug": "4"}, "infusions[0].rescue[0].drug", "4", "letters"),
    ({"infusions.0.acknowledgements": [{"concept": "no-such-concept", "reason": "Because"}]},
     "infusions[0].acknowledgements[0].concept", "no-such-concept", "not a concept id"),
    # monitoring, rescue and discharge scores and minutes
    ({"infusions.0.monitoring.0.minute": -1}, "infusions[0].monitoring[0].minute", -1,
     "greater than or equal to 0"),
    ({"infusions.0.monitoring.1.minute": 0}, "infusions[0].monitoring[1].minute", 0,
     "is out of order"),
    ({"infusions.0.monitoring.0.minute": 41}, "infusions[0].monitoring[1].minute", 40,
     "is out of order"),
    ({"infusions.0.monitoring.0.moaas": 6}, "infusions[0].monitoring[0].moaas", 6,
     "less than or equal to 5"),
    ({"infusions.0.monitoring.0.cadss6": 25}, "infusions[0].monitoring[0].cadss6", 25,
     "less than or equal to 24"),
    ({"infusions.0.monitoring.1": {"minute": 40}}, "infusions[0].monitoring[1].minute", 40,
     "has no reading"),
    ({"infusions.0.rescue.0.minute": -5}, "infusions[0].rescue[0].minute", -5,
     "greater than or equal to 0"),
    ({"infusions.0.discharge.aldrete": 11}, "infusions[0].discharge.aldrete", 11,
     "less than or equal to 10"),
    ({"infusions.0.discharge.aldrete": -1}, "infusions[0].discharge.aldrete", -1,
     "greater than or equal to 0"),
    ({"infusions.0.discharge.minute": -1}, "infusions[0].discharge.minute", -1,
     "greater than or equal to 0"),
    ({"infusions.0.discharge.escort": None}, "infusions[0].discharge.escort", None,
     "is required"),
    # times: local, with a time, no offset; fasting not after the start
    ({"infusions.1.start": "2026-11-30T09:30+01:00"}, "infusions[1].start",
     "2026-11-30T09:30+01:00", "time-zone offset"),
    ({"infusions.1.start": "2026-11-30T09:30:00Z"}, "infusions[1].start",
     "2026-11-30T09:30:00Z", "time-zone offset"),
    ({"infusions.1.pre.last_solids": "2026-11-30T00:30Z"}, "infusions[1].pre.last_solids",
     "2026-11-30T00:30Z", "time-zone offset"),
    ({"infusions.1.pre.last_clear_fluids": "2026-11-30T07:15-05:00"},
     "infusions[1].pre.last_clear_fluids", "2026-11-30T07:15-05:00", "time-zone offset"),
    ({"infusions.1.start": "2026-11-30"}, "infusions[1].start", "2026-11-30",
     "YYYY-MM-DDTHH:MM"),
    ({"infusions.1.start": "30/11/2026 09:30"}, "infusions[1].start", "30/11/2026 09:30",
     "YYYY-MM-DDTHH:MM"),
    ({"infusions.1.start": 1796031000}, "infusions[1].start", 1796031000, "YYYY-MM-DDTHH:MM"),
    ({"infusions.1.start": "2026-11-31T09:30"}, "infusions[1].start", "2026-11-31T09:30",
     "day value is outside expected range"),
    ({"infusions.0.pre.last_solids": "2026-11-27T09:01"}, "infusions[0].pre.last_solids",
     "2026-11-27T09:01", "is after the infusion's start"),
    ({"infusions.0.pre.last_clear_fluids": "2026-11-27T10:00"},
     "infusions[0].pre.last_clear_fluids", "2026-11-27T10:00", "is after the infusion's start"),
    # the screening is a whole case, validated as one, its paths under "screening"
    ({"screening.patient.birth_date": "2027-01-01"}, "screening.patient.birth_date",
     "2027-01-01", "is after the screening date"),
    ({"screening.measurements.weight": "187"}, "screening.measurements.weight", "187",
     "has no unit"),
    ({"screening.substance_use.audit_c": [1, 5, 0]}, "screening.substance_use.audit_c[1]", 5,
     "less than or equal"),
])
def test_refused_naming_the_field(changes: dict[str, Any], field: str, value: object,
                                  message_part: str) -> None:
    """Each invalid course is refused, naming the full field path, the value and the reason."""
    problems = _problems(course_with(changes))
    matching = [p for p in problems if p[0] == field]
    assert matching, problems
    _, got_value, message = matching[0]
    assert got_value == value
    assert message_part in message


@pytest.mark.parametrize(("changes", "check"), [
    ({"infusions.2.pre.phq9": [3, 3, 3, 3, 3, 3, 3, 3, 3]}, ("pre", "phq9_total", 27)),
    ({"infusions.2.pre.phq9": 27}, ("pre", "phq9_total", 27)),
    ({"infusions.2.pre.phq9": 0}, ("pre", "phq9_total", 0)),
    ({"infusions.2.pre.phq9": [0, 0, 0, 0, 0, 0, 0, 0, 3]}, ("pre", "phq9_item9", 3)),
    ({"infusions.2.pre.gad7": 21}, ("pre", "gad7_total", 21)),
    ({"infusions.2.pre.gad7": [3, 3, 3, 3, 3, 3, 3]}, ("pre", "gad7_total", 21)),
])
def test_highest_scores_accepted(changes: dict[str, Any], check: tuple[str, str, int]) -> None:
    """The top of each scale is valid (27 and 21; items of 3), one below what is refused."""
    part, method, expected = check
    assert getattr(getattr(parse_course(course_with(changes)).last, part), method)() == expected


@pytest.mark.parametrize("changes", [
    {"infusions.0.discharge.aldrete": 0},
    {"infusions.0.discharge.aldrete": 10},
    {"infusions.0.monitoring.0.moaas": 0},
    {"infusions.0.monitoring.0.cadss6": 24},
    {"infusions.0.monitoring.0.minute": 39},   # just before the next reading
    {"infusions.0.rescue.0.minute": 0},
    {"infusions.0.pre.last_solids": "2026-11-27T09:00"},   # at the start: not after it
    {"infusions.0.start": "2026-11-27T09:00:30"},           # seconds are allowed
    {"infusions.0.monitoring.1.blood_pressure": "20.3/12.5 kPa"},
    {"infusions.0.monitoring.1": {"minute": 40, "moaas": 4}},  # one reading is enough
    {"screening_record": None, "plan": None},
    {"infusions.0.rescue": [], "infusions.0.monitoring": [], "infusions.0.discharge": None},
])
def test_edge_values_accepted(changes: dict[str, Any]) -> None:
    """The values at each limit, on the valid side, are accepted."""
    assert isinstance(parse_course(course_with(changes)), Course)


def test_several_problems_are_all_named() -> None:
    """Problems in different fields are all reported, in document order."""
    data = course_with({"infusions.2.pre.phq9": 28, "infusions.0.discharge.aldrete": 11,
                        "infusions.1.pre.weight": "80"})
    fields = [p[0] for p in _problems(data)]
    assert fields == ["infusions[0].discharge.aldrete", "infusions[1].pre.weight",
                      "infusions[2].pre.phq9"]


def test_json_text_checks_as_for_a_case(tmp_path: Path) -> None:
    """Duplicate keys, NaN, a non-object, oversize text and unreadable files are refused."""
    with pytest.raises(CourseValidationError) as caught:
        parse_course_json('{"format": "ketascreen-course/1", "format": "x"}')
    assert caught.value.problems[0].field == "format"
    assert "appears twice" in caught.value.problems[0].message
    with pytest.raises(CourseValidationError) as caught:
        parse_course_json('{"infusions": [{"number": NaN}]}')
    assert "NaN is not a valid JSON number" in str(caught.value)
    with pytest.raises(CourseValidationError) as caught:
        parse_course_json("[1]")
    assert caught.value.problems[0].message == "must be a JSON object"
    with pytest.raises(CourseValidationError) as caught:
        parse_course_json("{" + " " * 5_000_001 + "}")
    assert "too large for a course file" in str(caught.value)
    with pytest.raises(CourseValidationError) as caught:
        parse_course_json("{not json")
    assert "is not valid JSON" in str(caught.value)
    with pytest.raises(CourseValidationError) as caught:
        load_course(tmp_path / "missing.json")
    assert caught.value.problems[0].field == "(file)"
    assert caught.value.source == str(tmp_path / "missing.json")


def test_course_error_is_a_case_validation_error(tmp_path: Path) -> None:
    """Callers that catch CaseValidationError also catch a bad course; it says "course"."""
    path = tmp_path / "course.json"
    path.write_text(json.dumps(course_with({"infusions.2.number": 4})), encoding="utf-8")
    with pytest.raises(CaseValidationError) as caught:
        load_course(path)
    assert isinstance(caught.value, CourseValidationError)
    assert str(caught.value) == (
        f"{path}: invalid course: infusions[2].number: 4 leaves a gap: infusions are numbered "
        "1, 2, 3 ... without gaps, so this one must be 3")


def test_case_errors_still_name_case_fields() -> None:
    """A case on its own still names its fields without a prefix (the parsing is shared)."""
    data = example_case()
    data["patient"]["birth_date"] = "2027-01-01"
    data["measurements"]["spot"] = 1
    with pytest.raises(CaseValidationError) as caught:
        parse_case(data)
    problems = [(p.field, p.message) for p in caught.value.problems]
    assert ("measurements.spot", "is not a field of ketascreen-case/1 (misspelt?)") in problems
    with pytest.raises(CaseValidationError) as caught:
        parse_case(example_case() | {"patient": data["patient"]})
    assert [(p.field, p.value) for p in caught.value.problems] == [
        ("patient.birth_date", "2027-01-01")]
    assert not isinstance(caught.value, CourseValidationError)
