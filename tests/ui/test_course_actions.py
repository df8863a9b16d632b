"""The course view's actions (no Qt): infusion states, the re-check prefill and its carried
values, the monitoring times, the patient's band and the notify values, each on both sides of
its threshold."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from ketascreen.models.parsing import CourseValidationError, parse_course
from ketascreen.rules import RuleSet
from ketascreen.ui.actions import course as ca
from ketascreen.ui.actions import monitoring as mon
from ketascreen.ui.actions import recheck as rc
from tests.course.helpers import example_course


def _course(data: dict[str, Any] | None = None) -> Any:
    return parse_course(data or example_course())


def _with_planned_fourth() -> dict[str, Any]:
    data = example_course()
    data["infusions"].append({"number": 4, "start": "2026-12-04T09:00"})
    return data


# -- states ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("infusion", "signed", "state"), [
    ({}, False, ca.InfusionState.PLANNED),
    ({"pre": {"escort": "yes"}}, False, ca.InfusionState.CHECKED),
    ({"pre": {"escort": "yes"}}, True, ca.InfusionState.SIGNED),
    ({"pre": {"escort": "yes"}, "monitoring": [{"minute": 0, "spo2": "98 %"}]}, True,
     ca.InfusionState.INFUSED),
    ({"rescue": [{"drug": "ondansetron", "dose": "4 mg", "minute": 15}]}, False,
     ca.InfusionState.INFUSED),
    ({"monitoring": [{"minute": 0, "spo2": "98 %"}],
      "discharge": {"minute": 90, "aldrete": 10, "escort": "yes"}}, True,
     ca.InfusionState.DISCHARGED),
])
def test_each_state_of_an_infusion(infusion: dict[str, Any], signed: bool,
                                   state: ca.InfusionState) -> None:
    data = example_course()
    data["infusions"].append({"number": 4, "start": "2026-12-04T09:00", **infusion})
    course = _course(data)
    assert ca.infusion_state(course.infusion(4), signed=signed) is state
    row = ca.infusion_rows(course, signed={4} if signed else ())[3]
    assert row.state is state
    assert ca.state_label(state).endswith(state.value)  # the word, not a colour alone


def test_the_example_course_rows() -> None:
    rows = ca.infusion_rows(_course())
    assert [(r.number, r.state.value, r.phq9, r.dose) for r in rows] == [
        (1, "discharged", 11, "0.5 mg/kg"), (2, "discharged", 8, ""),
        (3, "checked", 9, "0.5 mg/kg")]
    assert rows[1].start == "2026-11-30 09:30"


# -- the re-check prefill ----------------------------------------------------------------------

def test_the_next_infusion_carries_the_latest_weight_medications_and_protocol() -> None:
    prefill = rc.recheck_prefill(_course())
    assert (prefill.number, prefill.new, prefill.previous) == (4, True, 3)
    assert prefill.carried["weight"] == rc.Carried("186 lb", "infusion 3")
    assert prefill.carried["medications"].source == "infusion 2"
    assert "Xanax 0.5 mg tablet (1 mg a day) [stopped]" in prefill.carried["medications"].value
    assert prefill.carried["dose"] == rc.Carried("0.5 mg/kg", "infusion 3")
    assert prefill.carried["duration"] == rc.Carried("40 min", "infusion 3")
    assert set(prefill.carried) == {"weight", "medications", "dose", "duration"}
    assert rc.carried_label(prefill.carried["weight"]).startswith("\u21bb carried over from "
                                                                 "infusion 3")


def test_a_planned_last_infusion_is_the_one_rechecked() -> None:
    prefill = rc.recheck_prefill(_course(_with_planned_fourth()))
    assert (prefill.number, prefill.new, prefill.previous) == (4, False, 3)
    assert prefill.carried["dose"] == rc.Carried("0.5 mg/kg", "infusion 3")
    data = _with_planned_fourth()
    data["infusions"][3]["dose"] = {"dose": "0.75 mg/kg"}  # planned with its own dose
    prefill = rc.recheck_prefill(_course(data))
    assert prefill.carried["dose"] == rc.Carried("0.75 mg/kg", "infusion 4")
    assert prefill.carried["duration"] == rc.Carried("40 min", "infusion 3")


def test_the_first_infusion_carries_the_screenings_values() -> None:
    data = example_course()
    data["infusions"] = [{"number": 1, "start": "2026-11-27T09:00"}]
    prefill = rc.recheck_prefill(_course(data))
    assert (prefill.number, prefill.new, prefill.previous) == (1, False, 0)
    assert prefill.carried["weight"] == rc.Carried("187 lb", "the screening")
    assert prefill.carried["dose"] == rc.Carried("0.5 mg/kg", "the screening")
    assert prefill.carried["medications"].source == "the screening"


def test_a_recheck_leaves_carried_values_out_and_names_a_refused_field() -> None:
    course = _course()
    prefill = rc.recheck_prefill(course)
    pre = {"escort": "yes", "blood_pressure": "130/80 mmHg"}
    new = rc.course_with_recheck(course, prefill, start="2026-12-04T09:00", pre=pre,
                                 protocol={})
    assert new.infusion(4).pre.weight is None  # unchanged: the latest earlier weight applies
    assert new.infusion(4).dose is None
    changed = rc.course_with_recheck(course, prefill, start="2026-12-04T09:00",
                                     pre={**pre, "weight": "186 kg"},
                                     protocol={"dose": "0.75 mg/kg"})
    assert changed.infusion(4).pre.weight == "186 kg"
    assert changed.infusion(4).dose is not None
    assert changed.infusion(4).dose.dose == "0.75 mg/kg"
    with pytest.raises(CourseValidationError) as caught:
        rc.course_with_recheck(course, prefill, start="2026-12-04T09:00",
                               pre={"blood_pressure": "130/80"}, protocol={})
    assert [p.field for p in caught.value.problems] == ["infusions[3].pre.blood_pressure"]


def test_a_recheck_of_a_planned_infusion_keeps_its_number_and_the_course_length() -> None:
    course = _course(_with_planned_fourth())
    prefill = rc.recheck_prefill(course)
    new = rc.course_with_recheck(course, prefill, start="2026-12-04T09:30",
                                 pre={"escort": "no"}, protocol={})
    assert len(new.infusions) == 4
    assert new.infusion(4).pre.escort == "no"
    assert new.infusion(4).start.hour == 9 and new.infusion(4).start.minute == 30


# -- monitoring --------------------------------------------------------------------------------

@pytest.mark.parametrize(("duration", "minutes"), [
    (40, (0, 10, 20, 30, 40, 55, 70, 85, 100)),
    (45, (0, 10, 20, 30, 40, 45, 60, 75, 90, 105)),
    (10, (0, 10, 25, 40, 55, 70)),
    (1, (0, 1, 16, 31, 46, 61)),
])
def test_monitoring_minutes_follow_the_cadence(duration: int, minutes: tuple[int, ...]) -> None:
    assert mon.monitoring_minutes(duration) == minutes


def test_no_monitoring_minutes_without_a_duration() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        mon.monitoring_minutes(0)


def test_the_infusion_minutes_come_from_the_protocol_in_force() -> None:
    course = _course()
    assert mon.infusion_minutes(course, 2) == 40  # infusion 1's, carried
    data = example_course()
    data["infusions"][2]["dose"] = {"duration": "1 h"}
    assert mon.infusion_minutes(_course(data), 3) == 60


def test_the_band_is_the_pre_infusion_pressure_plus_minus_20_percent_rounded_inwards() -> None:
    band = mon.blood_pressure_band("132/84 mmHg")
    assert band.systolic == (106, 158)   # 105.6 .. 158.4
    assert band.diastolic == (68, 100)   # 67.2 .. 100.8
    assert band.text() == "106-158 / 68-100 mmHg"
    assert mon.blood_pressure_band("17.6/11.2 kPa").systolic == (106, 158)  # 132/84 mmHg


@pytest.mark.parametrize(("reading", "outside"), [
    ("158/84 mmHg", False), ("159/84 mmHg", True),
    ("106/84 mmHg", False), ("105/84 mmHg", True),
    ("132/100 mmHg", False), ("132/101 mmHg", True),
    ("132/68 mmHg", False), ("132/67 mmHg", True),
])
def test_outside_the_band_on_both_sides(reading: str, outside: bool) -> None:
    flags = mon.check_reading({"blood_pressure": reading},
                             band=mon.blood_pressure_band("132/84 mmHg"))
    assert [f.kind for f in flags if f.kind != "notify"] == (["outside band"] if outside else [])


@pytest.mark.parametrize(("values", "notify"), [
    ({"blood_pressure": "180/100 mmHg"}, False), ({"blood_pressure": "181/100 mmHg"}, True),
    ({"blood_pressure": "170/100 mmHg"}, False), ({"blood_pressure": "170/101 mmHg"}, True),
    ({"blood_pressure": "90/60 mmHg"}, False), ({"blood_pressure": "89/60 mmHg"}, True),
    ({"blood_pressure": "24.2/13 kPa"}, True),   # 181.5/97.5 mmHg
    ({"heart_rate": "50 /min"}, False), ({"heart_rate": "49 /min"}, True),
    ({"heart_rate": "150 /min"}, False), ({"heart_rate": "151 /min"}, True),
    ({"spo2": "93 %"}, False), ({"spo2": "92 %"}, True),
])
def test_the_notify_values_on_both_sides(values: dict[str, str], notify: bool) -> None:
    flags = mon.check_reading(values, band=None)
    assert [f.kind for f in flags] == (["notify"] if notify else [])
    if notify:
        assert mon.flag_label(flags[0]).startswith("\u26a0 NOTIFY: ")


def test_a_clinic_with_other_notify_values() -> None:
    strict = mon.NotifyValues(systolic_above=160)
    assert mon.check_reading({"blood_pressure": "161/90 mmHg"}, band=None, notify=strict)
    assert not mon.check_reading({"blood_pressure": "160/90 mmHg"}, band=None, notify=strict)


def test_an_invalid_reading_is_flagged_not_guessed() -> None:
    flags = mon.check_reading({"blood_pressure": "13/8 mmHg", "spo2": "98"}, band=None)
    assert [(f.field, f.kind) for f in flags] == [("blood_pressure", "invalid"),
                                                   ("spo2", "invalid")]


def test_monitoring_rows_are_saved_and_a_bad_value_is_named_by_its_path() -> None:
    course = _course()
    new = mon.course_with_monitoring(course, 3, [
        {"minute": 0, "blood_pressure": "126/80 mmHg", "moaas": 5},
        {"minute": 10},  # no reading: left out
        {"minute": 40, "blood_pressure": "186/96 mmHg"}])
    assert [r.minute for r in new.infusion(3).monitoring] == [0, 40]
    assert ca.infusion_state(new.infusion(3)) is ca.InfusionState.INFUSED
    assert course.infusion(3).monitoring == []  # the course given is not changed
    with pytest.raises(CourseValidationError) as caught:
        mon.course_with_monitoring(course, 3, [{"minute": 0, "spo2": "98"}])
    assert [p.field for p in caught.value.problems] == ["infusions[2].monitoring[0].spo2"]


def test_the_course_file_round_trips() -> None:
    course = _course()
    assert parse_course(json.loads(ca.course_file_bytes(course=course))) == course


def test_the_notify_values_are_the_clinic_policys(tmp_path: Path) -> None:
    assert mon.notify_values() == mon.DEFAULT_NOTIFY  # the shipped policy's thresholds
    shipped = files("ketascreen.knowledge").joinpath("data/policy.toml").read_text("utf-8")
    edited = shipped.replace('version = "2026.11.0-default"', 'version = "2026.11.1-clinic"')
    edited = edited.replace('prior_severe_systolic = "180 mmHg"',
                            'prior_severe_systolic = "21.3 kPa"')  # 159.8 mmHg
    edited = edited.replace('hypotension_systolic = "90 mmHg"', 'hypotension_systolic = "95 mmHg"')
    edited = edited.replace('tachycardia_heart_rate = "150 /min"',
                            'tachycardia_heart_rate = "120 /min"')
    path = tmp_path / "policy.toml"
    path.write_text(edited, encoding="utf-8")
    notify = mon.notify_values(rules=RuleSet(policy_path=path))
    assert (notify.systolic_above, notify.diastolic_above) == (160, 100)  # the lower applies
    assert (notify.systolic_below, notify.heart_rate_above) == (95, 120)
    assert mon.check_reading({"heart_rate": "121 /min"}, band=None, notify=notify)
    assert not mon.check_reading({"heart_rate": "120 /min"}, band=None, notify=notify)


def test_the_chart_svg_draws_in_qt_without_clip_path_or_invalid_fill() -> None:
    svg = ca.phq9_chart_svg([(1, 11), (2, 8), (3, None), (4, 5)], planned=6).decode()
    assert "<clipPath" not in svg
    assert "fill: None" not in svg
    assert ">baseline 11<" in svg and ">n/a<" in svg
