"""The course figures and the course status (course-format.md, "Result"): every status branch,
each threshold at, just below and just above, the day windows at their edges across month ends
and a leap day, the milligrams given, and the result's ``course`` key exactly as specified."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pint
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketascreen.course import (
    DEFAULT_THRESHOLDS,
    CourseFigureError,
    CourseStatus,
    CourseThresholds,
    course_figures,
    course_status,
    cumulative_mg,
    days_since_previous,
    infusions_in_window,
    phq9_change,
    status_for_change,
)
from ketascreen.models.doses import MG, in_unit
from ketascreen.units import Q_
from tests.helpers.cases import SHARED

COURSE_FORMAT = SHARED / "spec" / "course-format.md"
ALL_STATUSES = {"too-early", "improving", "no-improvement", "response", "remission", "unknown"}


def at(day: str, time: str = "09:00") -> datetime:
    """A local start time, e.g. at("2028-02-29")."""
    return datetime.fromisoformat(f"{day}T{time}")


# --- the course status: every branch --------------------------------------------------------------

STATUS_VECTORS = [
    # (name, infusion, baseline, latest, expected)
    ("no baseline", 3, None, 9, "unknown"),
    ("no latest", 3, 18, None, "unknown"),
    ("neither", 6, None, None, "unknown"),
    ("no baseline, latest in remission range", 6, None, 3, "unknown"),
    ("remission: latest 4", 3, 9, 4, "remission"),
    ("latest 5 is not remission (-44.4 %)", 3, 9, 5, "improving"),
    ("remission at infusion 1 (baseline itself < 5)", 1, 3, 3, "remission"),
    ("remission beats response", 6, 18, 0, "remission"),
    ("response: exactly -50.0 % (18 -> 9)", 3, 18, 9, "response"),
    ("response: exactly -50.0 % (20 -> 10)", 2, 20, 10, "response"),
    ("response: -55.6 % (18 -> 8)", 3, 18, 8, "response"),
    ("nearest below response: -48.1 % (27 -> 14)", 3, 27, 14, "improving"),
    ("nearest below response: -44.4 % (18 -> 10)", 6, 18, 10, "improving"),
    ("improving: exactly -20.0 % at infusion 4 (10 -> 8)", 4, 10, 8, "improving"),
    ("improving: exactly -20.0 % at infusion 5 (10 -> 8)", 5, 10, 8, "improving"),
    ("improving: exactly -20.0 % at infusion 5 (25 -> 20)", 5, 25, 20, "improving"),
    ("improving: -21.1 % at infusion 2 (19 -> 15)", 2, 19, 15, "improving"),
    ("nearest below improving: -19.2 % at infusion 4 (26 -> 21)", 4, 26, 21, "too-early"),
    ("nearest below improving: -19.2 % at infusion 5 (26 -> 21)", 5, 26, 21, "no-improvement"),
    ("no change at infusion 1", 1, 18, 18, "too-early"),
    ("worse at infusion 4", 4, 18, 22, "too-early"),
    ("worse at infusion 5", 5, 18, 22, "no-improvement"),
    ("no-improvement at infusion 6 (-5.6 %)", 6, 18, 17, "no-improvement"),
    ("no-improvement at infusion 12", 12, 18, 17, "no-improvement"),
    ("baseline 0, latest 0: remission", 6, 0, 0, "remission"),
    ("baseline 0, latest 7 at infusion 4: too-early", 4, 0, 7, "too-early"),
    ("baseline 0, latest 7 at infusion 5: no-improvement", 5, 0, 7, "no-improvement"),
    ("baseline 27, latest 27 at infusion 5", 5, 27, 27, "no-improvement"),
]


@pytest.mark.parametrize(("infusion", "baseline", "latest", "expected"),
                         [v[1:] for v in STATUS_VECTORS], ids=[v[0] for v in STATUS_VECTORS])
def test_course_status_vectors(infusion: int, baseline: int | None, latest: int | None,
                               expected: str) -> None:
    """Each named vector gets exactly the status of course-format.md's precedence."""
    status = course_status(infusion, baseline, latest)
    assert status == expected
    assert status.value == expected


def test_every_status_has_a_vector() -> None:
    """The vectors cover every status of the spec, and the enum has exactly those values."""
    assert {v[4] for v in STATUS_VECTORS} == ALL_STATUSES
    assert {s.value for s in CourseStatus} == ALL_STATUSES


# Exact changes a PHQ-9 pair cannot reach (-49.9 %, -19.9 %), at the threshold and either side.
CHANGE_VECTORS = [
    # (name, infusion, latest, change_percent, expected)
    ("-50.1 %", 3, 9, Fraction(-501, 10), "response"),
    ("-50.0 %", 3, 9, Fraction(-50), "response"),
    ("-49.9 %", 3, 9, Fraction(-499, 10), "improving"),
    ("-20.1 % at infusion 4", 4, 12, Fraction(-201, 10), "improving"),
    ("-20.0 % at infusion 4", 4, 12, Fraction(-20), "improving"),
    ("-19.9 % at infusion 4", 4, 12, Fraction(-199, 10), "too-early"),
    ("-20.1 % at infusion 5", 5, 12, Fraction(-201, 10), "improving"),
    ("-20.0 % at infusion 5", 5, 12, Fraction(-20), "improving"),
    ("-19.9 % at infusion 5", 5, 12, Fraction(-199, 10), "no-improvement"),
    ("+10 % at infusion 5", 5, 12, Fraction(10), "no-improvement"),
    ("undefined change (baseline 0) at infusion 4", 4, 12, None, "too-early"),
    ("undefined change (baseline 0) at infusion 5", 5, 12, None, "no-improvement"),
    ("latest 4 whatever the change", 5, 4, Fraction(10), "remission"),
    ("latest 5 with -50.0 %", 5, 5, Fraction(-50), "response"),
]


@pytest.mark.parametrize(("infusion", "latest", "change", "expected"),
                         [v[1:] for v in CHANGE_VECTORS], ids=[v[0] for v in CHANGE_VECTORS])
def test_status_for_change_at_each_threshold(infusion: int, latest: int,
                                             change: Fraction | None, expected: str) -> None:
    """The thresholds compare the exact change: -50.0 % is response, -49.9 % is not; -20.0 %
    improves, -19.9 % is too early at infusion 4 and no improvement at infusion 5."""
    assert status_for_change(infusion, latest, change) == expected


def test_thresholds_default_to_the_spec() -> None:
    """The defaults are course-format.md's: remission < 5, response 50 %, improvement 20 %,
    judged from infusion 5."""
    spec = CourseThresholds(remission_below=5, response_percent=Decimal(50),
                            improvement_percent=Decimal(20), judged_from_infusion=5)
    assert spec == DEFAULT_THRESHOLDS


def test_other_thresholds_move_each_boundary() -> None:
    """Each threshold is read from CourseThresholds, not hard-coded."""
    stricter = CourseThresholds(remission_below=6, response_percent=Decimal("60"),
                                improvement_percent=Decimal("30"), judged_from_infusion=3)
    assert course_status(3, 9, 5) == "improving"
    assert course_status(3, 9, 5, stricter) == "remission"
    assert course_status(3, 18, 9, stricter) == "improving"      # -50 % < 60 %
    assert course_status(3, 10, 8, stricter) == "no-improvement"  # -20 % < 30 %, infusion 3
    assert course_status(2, 10, 8, stricter) == "too-early"


@pytest.mark.parametrize(("changes", "field"), [
    ({"remission_below": 0}, "thresholds.remission_below"),
    ({"remission_below": 28}, "thresholds.remission_below"),
    ({"remission_below": True}, "thresholds.remission_below"),
    ({"judged_from_infusion": 0}, "thresholds.judged_from_infusion"),
    ({"response_percent": Decimal(0)}, "thresholds.response_percent"),
    ({"response_percent": Decimal(101)}, "thresholds.response_percent"),
    ({"response_percent": Decimal("NaN")}, "thresholds.response_percent"),
    ({"response_percent": 50.0}, "thresholds.response_percent"),
    ({"improvement_percent": Decimal(50)}, "thresholds.improvement_percent"),
])
def test_unusable_thresholds_are_typed_errors(changes: dict[str, object], field: str) -> None:
    """A threshold out of range or of the wrong type is refused, naming it."""
    with pytest.raises(CourseFigureError) as caught:
        CourseThresholds(**changes)  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize(("baseline", "latest", "field"), [
    (28, 9, "baseline"), (-1, 9, "baseline"), (True, 9, "baseline"), (18, 9.0, "latest"),
    (18, "9", "latest"), (18, 28, "latest"),
])
def test_phq9_totals_out_of_range_are_typed_errors(baseline: object, latest: object,
                                                   field: str) -> None:
    """A PHQ-9 total must be a whole number 0-27; anything else names the input."""
    with pytest.raises(CourseFigureError) as caught:
        course_status(3, baseline, latest)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.problem().field == field


@pytest.mark.parametrize("number", [0, -1, True, 2.0])
def test_infusion_number_must_be_one_or_more(number: object) -> None:
    """Infusion 0 (or a non-integer) is an error, not too-early."""
    with pytest.raises(CourseFigureError) as caught:
        course_status(number, 18, 9)  # type: ignore[arg-type]
    assert caught.value.field == "infusion_number"


# --- the PHQ-9 change -----------------------------------------------------------------------------

@pytest.mark.parametrize(("baseline", "latest", "exact", "shown"), [
    (18, 9, Fraction(-50), "-50.0"),
    (16, 15, Fraction(-25, 4), "-6.3"),       # -6.25: half away from zero
    (16, 17, Fraction(25, 4), "6.3"),
    (7, 6, Fraction(-100, 7), "-14.3"),       # -14.2857...
    (3, 3, Fraction(0), "0.0"),
    (26, 21, Fraction(-250, 13), "-19.2"),
    (27, 14, Fraction(-1300, 27), "-48.1"),
])
def test_phq9_change_exact_and_rounded(baseline: int, latest: int, exact: Fraction,
                                       shown: str) -> None:
    """change_percent = (latest - baseline) / baseline * 100, exact; shown to one decimal."""
    change = phq9_change(baseline, latest)
    assert change.change_percent == exact
    assert str(change.change_percent_rounded()) == shown


def test_no_change_is_zero_not_minus_zero() -> None:
    """An unchanged total is 0.0 in the JSON, never -0.0."""
    value = phq9_change(3, 3).change_percent_rounded()
    assert value is not None
    assert math.copysign(1, float(value)) == 1


@pytest.mark.parametrize(("baseline", "latest"), [(None, 9), (18, None), (None, None), (0, 0),
                                                  (0, 7)])
def test_phq9_change_is_null_where_undefined(baseline: int | None, latest: int | None) -> None:
    """No change without both totals, and none from a baseline of 0 (no division by zero)."""
    change = phq9_change(baseline, latest)
    assert change.change_percent is None
    assert change.change_percent_rounded() is None
    assert (change.baseline, change.latest) == (baseline, latest)


# --- dates ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("previous", "start", "days"), [
    (at("2026-11-27"), at("2026-11-27", "15:00"), 0),
    (at("2026-11-27", "23:00"), at("2026-11-28", "08:00"), 1),
    (at("2026-11-27", "08:00"), at("2026-11-28", "23:00"), 1),
    (at("2026-11-30"), at("2026-12-01"), 1),
    (at("2026-12-31"), at("2027-01-01"), 1),
    (at("2027-02-28"), at("2027-03-01"), 1),
    (at("2028-02-28"), at("2028-02-29"), 1),
    (at("2028-02-28"), at("2028-03-01"), 2),
    (at("2028-02-29"), at("2028-03-01"), 1),
    (at("2028-01-31"), at("2028-03-01"), 30),
    (date(2026, 11, 27), date(2026, 11, 29), 2),
])
def test_days_since_previous_counts_calendar_days(previous: date, start: date,
                                                  days: int) -> None:
    """Calendar days between the two start dates, across month ends and a leap day."""
    assert days_since_previous(previous, start) == days


def test_days_since_previous_refuses_a_start_before_the_previous() -> None:
    """A start before the previous one (by day or by time) is an error naming ``start``."""
    for previous, start in [(at("2026-12-01"), at("2026-11-30")),
                            (at("2026-12-01", "14:00"), at("2026-12-01", "09:00"))]:
        with pytest.raises(CourseFigureError) as caught:
            days_since_previous(previous, start)
        assert caught.value.field == "start"


def test_days_since_previous_refuses_times_with_an_offset() -> None:
    """Course times are local without an offset; an aware time is refused."""
    aware = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with pytest.raises(CourseFigureError) as caught:
        days_since_previous(at("2026-11-30"), aware)
    assert caught.value.field == "start"
    with pytest.raises(CourseFigureError) as caught:
        days_since_previous("2026-11-30", at("2026-12-01"))  # type: ignore[arg-type]
    assert caught.value.field == "previous_start"


WINDOW_VECTORS = [
    # (name, earlier starts, current, days, expected count including the current one)
    ("alone", [], at("2026-12-02"), 7, 1),
    ("day 0, earlier the same day", [at("2026-12-02", "07:00")], at("2026-12-02"), 7, 2),
    ("day 6 across November's end", [at("2026-11-26")], at("2026-12-02"), 7, 2),
    ("day 6 at 00:00", [at("2026-11-26", "00:00")], at("2026-12-02", "23:00"), 7, 2),
    ("day 7 across November's end", [at("2026-11-25")], at("2026-12-02"), 7, 1),
    ("day 7 at 23:59", [at("2026-11-25", "23:59")], at("2026-12-02", "00:01"), 7, 1),
    ("day 6 across the leap day", [at("2028-02-28")], at("2028-03-05"), 7, 2),
    ("day 7 across the leap day", [at("2028-02-27")], at("2028-03-05"), 7, 1),
    ("the leap day itself", [at("2028-02-29")], at("2028-03-05"), 7, 2),
    ("day 6 without a leap day", [at("2027-02-27")], at("2027-03-05"), 7, 2),
    ("day 7 without a leap day", [at("2027-02-26")], at("2027-03-05"), 7, 1),
    ("30 days: day 29 across the year end", [at("2026-12-03")], at("2027-01-01"), 30, 2),
    ("30 days: day 30 across the year end", [at("2026-12-02")], at("2027-01-01"), 30, 1),
    ("30 days: day 29 across the leap day", [at("2028-02-15")], at("2028-03-15"), 30, 2),
    ("30 days: day 30 across the leap day", [at("2028-02-14")], at("2028-03-15"), 30, 1),
    ("three a week: 4 in 7 days (frequency high)",
     [at("2026-11-26"), at("2026-11-28"), at("2026-11-30")], at("2026-12-02"), 7, 4),
    ("three a week: 3 in 7 days",
     [at("2026-11-25"), at("2026-11-28"), at("2026-11-30")], at("2026-12-02"), 7, 3),
]


@pytest.mark.parametrize(("earlier", "current", "days", "expected"),
                         [v[1:] for v in WINDOW_VECTORS], ids=[v[0] for v in WINDOW_VECTORS])
def test_infusions_in_window_edges(earlier: list[datetime], current: datetime, days: int,
                                   expected: int) -> None:
    """Day 0 to day N-1 before the current infusion count, day N does not; times do not."""
    assert infusions_in_window([*earlier, current], current, days) == expected


def test_infusions_after_the_current_one_are_not_counted() -> None:
    """A later infusion in the list (the same day later, or a later day) is not counted."""
    current = at("2026-12-02", "09:00")
    starts = [at("2026-11-30"), current, at("2026-12-02", "15:00"), at("2026-12-04")]
    assert infusions_in_window(starts, current, 7) == 2
    assert infusions_in_window(starts, at("2026-12-04"), 7) == 4


def test_dates_without_times_count_by_day() -> None:
    """Plain dates work too: the same day counts, as a date has no time to order by."""
    starts = [date(2028, 2, 23), date(2028, 2, 24), date(2028, 2, 29), date(2028, 3, 1)]
    assert infusions_in_window(starts, date(2028, 3, 1), 7) == 3
    assert infusions_in_window(starts, date(2028, 3, 1), 8) == 4


@pytest.mark.parametrize("days", [0, -7, True, 7.0])
def test_window_length_must_be_whole_days(days: object) -> None:
    """A window of no days (or not a whole number) is an error naming ``days``."""
    with pytest.raises(CourseFigureError) as caught:
        infusions_in_window([at("2026-12-02")], at("2026-12-02"), days)  # type: ignore[arg-type]
    assert caught.value.field == "days"


def test_current_must_be_among_the_starts() -> None:
    """The current infusion counts itself, so it must be in the list given."""
    with pytest.raises(CourseFigureError) as caught:
        infusions_in_window([at("2026-11-30")], at("2026-12-02"), 7)
    assert caught.value.field == "current"


def test_window_names_a_start_that_is_not_a_date() -> None:
    """A start that is not a date names its index."""
    with pytest.raises(CourseFigureError) as caught:
        infusions_in_window([at("2026-11-30"), "2026-12-01", at("2026-12-02")],  # type: ignore[list-item]
                            at("2026-12-02"), 7)
    assert caught.value.field == "starts[1]"


# --- the milligrams given -------------------------------------------------------------------------

def mg(quantity: pint.Quantity) -> float:  # type: ignore[type-arg]
    """A quantity's magnitude in mg."""
    return in_unit(quantity, MG)


def test_cumulative_mg_of_nothing_is_zero_mg() -> None:
    """At infusion 1 nothing was given before."""
    total = cumulative_mg([])
    assert mg(total) == 0
    assert total.units == MG


def test_cumulative_mg_converts_mcg_and_g() -> None:
    """A dose given in mcg or g counts converted to mg."""
    assert mg(cumulative_mg([Q_(42.41, "mg"), Q_(500, "microgram"), Q_(0.1, "gram")])) == 142.91


def test_cumulative_mg_adds_in_decimal() -> None:
    """No float noise: 0.1 + 0.2 mg is 0.3 mg; three times 42.41 mg is 127.23 mg."""
    assert mg(cumulative_mg([Q_(0.1, "mg"), Q_(0.2, "mg")])) == 0.3
    assert mg(cumulative_mg([Q_(42.41, "mg")] * 3)) == 127.23


@pytest.mark.parametrize(("dose", "reason"), [
    (Q_(0.5, "mg/kg"), "has no mass unit"),
    (Q_(5, "mL"), "not a mass"),
    (Q_(20, "mg/h"), "not a mass"),
    (42.41, "not a quantity"),
    ("42.41 mg", "not a quantity"),
    (pint.UnitRegistry().Quantity(42.41, "mg"), "not a quantity"),
    (Q_(-1, "mg"), "0 mg or more"),
    (Q_(float("nan"), "mg"), "finite"),
    (Q_(float("inf"), "mg"), "finite"),
])
def test_cumulative_mg_refuses_what_is_not_a_dose_given(dose: object, reason: str) -> None:
    """A dimensionless, wrong-dimension, bare, foreign-registry, negative or non-finite value is
    a typed error naming its index."""
    with pytest.raises(CourseFigureError) as caught:
        cumulative_mg([Q_(42.41, "mg"), dose])  # type: ignore[list-item]
    assert caught.value.field == "doses_given[1]"
    assert reason in caught.value.reason


# --- the result's course key ----------------------------------------------------------------------

def spec_course_example() -> dict[str, object]:
    """The ``"course": {...}`` example of course-format.md's "Result", comments removed."""
    text = COURSE_FORMAT.read_text(encoding="utf-8").split("## Result", 1)[1]
    block = text.split("```jsonc", 1)[1].split("```", 1)[0]
    without_comments = re.sub(r"//[^\n]*", "", block)
    parsed: dict[str, object] = json.loads("{" + without_comments + "}")["course"]
    return parsed


def test_result_json_is_exactly_the_spec_example() -> None:
    """The spec's example course (infusion 3 of 6, 2 days apart, 18 -> 9) gives its object, with
    the same keys in the same order and the same JSON text."""
    figures = course_figures(
        infusion=3, planned=6,
        starts=[at("2026-11-27"), at("2026-11-29"), at("2026-12-01")],
        doses_given=[Q_(63.6, "mg"), Q_(63600, "microgram")],
        baseline=18, latest=9)
    produced = figures.summary().model_dump()
    expected = spec_course_example()
    assert produced == expected
    assert json.dumps(produced) == json.dumps(expected)
    assert produced["status"] in ALL_STATUSES


def test_result_json_at_infusion_one() -> None:
    """Infusion 1: no previous infusion (null), itself in both windows, nothing given, the
    baseline is the latest (0.0 % change)."""
    figures = course_figures(infusion=1, planned=None, starts=[at("2028-02-29")],
                             doses_given=[], baseline=18, latest=18)
    assert figures.summary().model_dump() == {
        "infusion": 1, "planned": None, "days_since_previous": None,
        "infusions_last_7_days": 1, "infusions_last_30_days": 1, "cumulative_mg": 0.0,
        "phq9": {"baseline": 18, "latest": 18, "change_percent": 0.0}, "status": "too-early"}


def test_result_json_nulls_where_not_given() -> None:
    """No PHQ-9 at all: null baseline, latest and change; status unknown."""
    figures = course_figures(infusion=2, planned=6, starts=[at("2026-11-30"), at("2026-12-01")],
                             doses_given=[Q_(42.41, "mg")], baseline=None, latest=None)
    result = figures.summary().model_dump()
    assert result["phq9"] == {"baseline": None, "latest": None, "change_percent": None}
    assert result["status"] == "unknown"
    assert result["days_since_previous"] == 1
    assert json.loads(json.dumps(result)) == result


def test_result_json_baseline_zero_has_null_change() -> None:
    """A baseline of 0: the change is null, not a division by zero."""
    figures = course_figures(infusion=5, planned=6,
                             starts=[at(f"2026-12-{d:02d}") for d in (1, 3, 5, 8, 10)],
                             doses_given=[], baseline=0, latest=7)
    assert figures.summary().model_dump()["phq9"]["change_percent"] is None
    assert figures.status == "no-improvement"


@pytest.mark.parametrize(("doses", "shown"), [
    ([Q_(127.225, "mg")], 127.23),         # half up, despite 127.225's float noise
    ([Q_(0.005, "mg")], 0.01),
    ([Q_(0.004, "mg")], 0.0),
    ([Q_(1234, "microgram")], 1.23),
])
def test_result_json_rounds_mg_as_the_dose_json(doses: list[pint.Quantity],  # type: ignore[type-arg]
                                                shown: float) -> None:
    """cumulative_mg is rounded to 0.01 mg half up, as the dose JSON rounds mg."""
    figures = course_figures(infusion=2, planned=6, starts=[at("2026-11-30"), at("2026-12-01")],
                             doses_given=doses, baseline=None, latest=None)
    assert figures.summary().model_dump()["cumulative_mg"] == shown


def test_mg_step_is_the_dose_jsons() -> None:
    """The course's mg step is the dose calculation's, so both show the same milligrams."""
    from ketascreen.course import figures
    from ketascreen.dosing import calculate

    assert calculate._JSON_STEP["mg"] == figures._MG_STEP


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"infusion": 3, "starts": [at("2026-11-27"), at("2026-11-29")]}, "starts"),
    ({"infusion": 0, "starts": []}, "infusion"),
    ({"infusion": 3, "starts": [at("2026-11-27"), at("2026-11-29"), at("2026-11-28")]},
     "starts[2]"),
    ({"infusion": 2, "starts": [at("2026-11-27"), "2026-11-29"]}, "starts[1]"),
    ({"infusion": 1, "starts": [at("2026-11-27")], "planned": 0}, "planned"),
    ({"infusion": 1, "starts": [at("2026-11-27")], "baseline": 30}, "baseline"),
    ({"infusion": 2, "starts": [at("2026-11-27"), at("2026-11-29")],
      "doses_given": [Q_(0.5, "mg/kg")]}, "doses_given[0]"),
])
def test_course_figures_names_the_bad_input(kwargs: dict[str, object], field: str) -> None:
    """Starts not one per infusion, out of order or not dates, a plan of 0, a total out of range
    or a dose that is not a mass: each names its input."""
    arguments: dict[str, object] = {"planned": 6, "doses_given": [], "baseline": 18,
                                    "latest": 9, **kwargs}
    with pytest.raises(CourseFigureError) as caught:
        course_figures(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_error_prefix_names_the_course_path() -> None:
    """The caller can put its own path before an error's field."""
    with pytest.raises(CourseFigureError) as caught:
        cumulative_mg([Q_(5, "mL")])
    moved = caught.value.at("course.")
    assert moved.field == "course.doses_given[0]"
    assert str(moved).startswith("course.doses_given[0]: ")


# --- properties -----------------------------------------------------------------------------------

totals = st.one_of(st.none(), st.integers(0, 27))


def spec_status(infusion: int, baseline: int | None, latest: int | None) -> str:
    """course-format.md's status, written independently in integer arithmetic."""
    if baseline is None or latest is None:
        return "unknown"
    if latest < 5:
        return "remission"
    fall = baseline - latest  # points below the baseline
    if baseline > 0 and fall * 100 >= 50 * baseline:
        return "response"
    if baseline > 0 and fall * 100 >= 20 * baseline:
        return "improving"
    return "no-improvement" if infusion >= 5 else "too-early"


@given(st.integers(1, 40), totals, totals)
def test_status_is_total_and_follows_the_spec(infusion: int, baseline: int | None,
                                              latest: int | None) -> None:
    """For any infusion and any totals (or none) there is exactly one status, the spec's."""
    status = course_status(infusion, baseline, latest)
    assert isinstance(status, CourseStatus)
    assert [s for s in CourseStatus if s == status] == [status]
    assert status.value == spec_status(infusion, baseline, latest)


@given(st.integers(1, 27), st.integers(0, 27))
def test_shown_change_is_the_exact_change_rounded(baseline: int, latest: int) -> None:
    """The one-decimal change is (latest - baseline) / baseline * 100 rounded half up."""
    exact = (Decimal(latest - baseline) * 100 / Decimal(baseline))
    expected = exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert phq9_change(baseline, latest).change_percent_rounded() == expected


@given(st.lists(st.dates(date(2027, 12, 1), date(2028, 4, 30)), min_size=1, max_size=12),
       st.integers(1, 40))
def test_window_count_is_a_count_of_days_in_range(days_given: list[date], days: int) -> None:
    """The count is the starts from day N-1 before the current one to it; it is at least 1
    (the current infusion), and a wider window never counts fewer."""
    starts = sorted(days_given)
    current = starts[-1]
    count = infusions_in_window(starts, current, days)
    assert count == sum(1 for s in starts if 0 <= (current - s).days < days)
    assert 1 <= count <= len(starts)
    assert infusions_in_window(starts, current, days + 1) >= count


@given(st.lists(st.tuples(st.integers(0, 200_000), st.sampled_from(["mg", "microgram", "gram"])),
                max_size=12))
def test_cumulative_mg_is_the_exact_sum_in_any_order(doses: list[tuple[int, str]]) -> None:
    """The total is the sum in mg, to the last digit and whatever the order."""
    quantities = [Q_(n / 100, unit) for n, unit in doses]
    factor = {"mg": Decimal(1), "microgram": Decimal("0.001"), "gram": Decimal(1000)}
    expected = sum((Decimal(n) / 100 * factor[unit] for n, unit in doses), Decimal(0))
    assert math.isclose(mg(cumulative_mg(quantities)), float(expected), rel_tol=1e-12,
                        abs_tol=1e-12)
    assert mg(cumulative_mg(quantities)) == mg(cumulative_mg(list(reversed(quantities))))


@given(st.integers(1, 12), st.integers(0, 3))
def test_figures_over_a_course_every_other_day(infusion: int, gap: int) -> None:
    """Infusions ``gap`` days apart from 2028-02-20 (across the leap day): the figures agree
    with a count of the calendar."""
    first = at("2028-02-20")
    starts = [first + timedelta(days=gap * i, hours=i) for i in range(infusion)]
    figures = course_figures(infusion=infusion, planned=6, starts=starts,
                             doses_given=[Q_(40, "mg")] * (infusion - 1), baseline=None,
                             latest=None)
    assert figures.days_since_previous == (gap if infusion > 1 else None)
    assert figures.infusions_last_7_days == sum(
        1 for s in starts if (starts[-1].date() - s.date()).days < 7)
    assert mg(figures.cumulative_mg) == 40 * (infusion - 1)
