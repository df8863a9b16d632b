"""The bedside monitoring decided once: the cadence, the patient's band, the notify values and
the check of a reading; the checklist, the records and the app give the same answer."""

from __future__ import annotations

import json
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from ketascreen.course.monitoring import (
    DEFAULT_NOTIFY,
    BloodPressureBand,
    NotifyValues,
    blood_pressure_band,
    check_reading,
    duration_minutes,
    monitoring_minutes,
    monitoring_times,
    notify_values,
)
from ketascreen.errors import UnitInputError
from ketascreen.knowledge.policy import load_policy
from ketascreen.models.course import MonitoringReading
from ketascreen.records.monitoring import reading_findings
from ketascreen.rules import RuleSet
from ketascreen.ui.actions import monitoring as app
from ketascreen.units import Dimension, parse_blood_pressure, parse_quantity

_VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "monitoring-vectors.json").read_text("utf-8"))


def _band(vector: dict[str, Any]) -> BloodPressureBand | None:
    return blood_pressure_band(vector.get("baseline"))


def _shown(limit: str, kind: str) -> str:
    return limit.split(" the patient", maxsplit=1)[0] if kind == "band" else limit


_CASES = [pytest.param(v, id=v["id"]) for v in _VECTORS["vectors"]]


def test_the_vectors_use_the_shipped_policys_notify_values() -> None:
    assert NotifyValues(**_VECTORS["notify"]) == DEFAULT_NOTIFY
    assert notify_values(RuleSet().policy) == DEFAULT_NOTIFY


@pytest.mark.parametrize("vector", _CASES)
def test_each_reading_at_and_beyond_each_limit(vector: dict[str, Any]) -> None:
    """Silent at each notify value and band edge, a flag beyond it, in mmHg and kPa."""
    flags = check_reading(vector["reading"], _band(vector))
    assert [[f.field, f.kind, _shown(f.limit, f.kind)] for f in flags] == vector["flags"]
    for flag in flags:
        assert flag.value == vector["reading"][flag.field]
        assert "local policy" in flag.sources
        assert any(s[0] in "RC" and s[1:].isdigit() for s in flag.sources), flag.sources


@pytest.mark.parametrize("vector", _CASES)
def test_the_records_and_the_app_give_the_same_flags(vector: dict[str, Any]) -> None:
    """One decision: the findings stored with a reading and the app's highlighted values are
    the core's flags."""
    core = [(f.field, f.kind, f.limit) for f in check_reading(vector["reading"], _band(vector))]
    values = {k: v for k, v in vector["reading"].items() if v.strip()}
    reading = MonitoringReading.model_validate({"minute": 40, "moaas": 5, **values})
    baseline = vector.get("baseline")
    stored = reading_findings(reading, 2, DEFAULT_NOTIFY,
                              None if baseline is None else parse_blood_pressure(baseline))
    assert [(f.field.removeprefix("monitoring[2]."), f.kind, f.limit) for f in stored] == core
    shown = app.check_reading(vector["reading"], band=_band(vector))  # worded for the form
    assert {(f.field, "band" if f.kind == "outside band" else f.kind) for f in shown} == {
        (field, kind) for field, kind, _ in core}


def test_the_value_is_kept_as_typed_and_measured_in_the_limits_unit() -> None:
    flags = check_reading({"blood_pressure": "24.2/13 kPa", "heart_rate": "49 bpm",
                           "spo2": "92 %"}, None)
    assert [(f.value, f.measured) for f in flags] == [("24.2/13 kPa", "181.5/97.5 mmHg"),
                                                      ("49 bpm", "49 /min"), ("92 %", "92 %")]


def test_an_invalid_value_is_refused_with_its_field() -> None:
    with pytest.raises(UnitInputError) as caught:
        check_reading({"spo2": "98"}, None)
    assert caught.value.field == "spo2"
    with pytest.raises(UnitInputError):
        check_reading({"blood_pressure": "13/8 mmHg"}, None)  # reads like cmHg


def test_the_elevated_screening_limit_is_not_a_notify_value() -> None:
    """140/90 is the screening limit (R42); during an infusion a +16/+11 mmHg rise peaking at
    40 min is expected (C8), so only the severe values notify."""
    policy = RuleSet().policy
    assert policy.quantity("hypertension_elevated_systolic").to("mmHg").magnitude == 140
    assert (DEFAULT_NOTIFY.systolic_above, DEFAULT_NOTIFY.diastolic_above) == (180, 100)
    words = " ".join(text for _, text in DEFAULT_NOTIFY.rows())
    assert "above 140" not in words and "above 180 mmHg" in words and "C8" in words


def test_the_lower_of_the_severe_and_prior_severe_values_applies(tmp_path: Path) -> None:
    shipped = files("ketascreen.knowledge").joinpath("data/policy.toml").read_text("utf-8")
    edited = shipped.replace('prior_severe_systolic = "180 mmHg"',
                             'prior_severe_systolic = "21.3 kPa"')  # 159.8 mmHg
    edited = edited.replace('hypertension_severe_diastolic = "100 mmHg"',
                            'hypertension_severe_diastolic = "115 mmHg"')  # prior: 110
    path = tmp_path / "policy.toml"
    path.write_text(edited, encoding="utf-8")
    notify = notify_values(load_policy(path))
    assert (notify.systolic_above, notify.diastolic_above) == (160, 110)
    assert check_reading({"blood_pressure": "161/90 mmHg"}, None, notify)
    assert not check_reading({"blood_pressure": "160/110 mmHg"}, None, notify)


@pytest.mark.parametrize(("text", "systolic", "diastolic"), [
    ("132/84 mmHg", (106, 158), (68, 100)),   # 105.6-158.4 / 67.2-100.8: rounded inwards
    ("150/100 mmHg", (120, 180), (80, 120)),  # exact: the limits themselves are in
    ("126/80 mmHg", (101, 151), (64, 96)),    # 100.8-151.2
    ("17.6/11.2 kPa", (106, 158), (68, 100)),  # 132.01/84.01 mmHg
])
def test_the_band_in_whole_mmhg_rounded_inwards(text: str, systolic: tuple[int, int],
                                                diastolic: tuple[int, int]) -> None:
    assert blood_pressure_band(text) == BloodPressureBand(systolic, diastolic)
    assert blood_pressure_band(parse_blood_pressure(text)) == BloodPressureBand(systolic,
                                                                                 diastolic)


def test_no_band_without_a_blood_pressure() -> None:
    assert blood_pressure_band(None) is None


@pytest.mark.parametrize(("duration", "minutes"), [
    (40, (0, 10, 20, 30, 40, 55, 70, 85, 100)),
    (45, (0, 10, 20, 30, 40, 45, 60, 75, 90, 105)),
    (1, (0, 1, 16, 31, 46, 61)),
])
def test_the_cadence(duration: int, minutes: tuple[int, ...]) -> None:
    """Every 10 min during (C7, C8), the end always a row, every 15 min for 60 min after."""
    assert monitoring_minutes(duration) == minutes


@pytest.mark.parametrize(("text", "minutes"), [("40 min", 40), ("0.75 h", 45), ("40.5 min", 41),
                                               ("1 h", 60)])
def test_a_duration_in_whole_minutes_rounded_up(text: str, minutes: int) -> None:
    assert duration_minutes(parse_quantity(text, Dimension.TIME)) == minutes


def test_the_grid_times_cross_midnight_on_a_leap_day() -> None:
    """The clock times follow the cadence across midnight of 2028-02-29."""
    rows = monitoring_times(datetime(2028, 2, 29, 23, 35), parse_quantity("45 min",
                                                                          Dimension.TIME))
    assert [clock for _, clock in rows] == [
        "23:35", "23:45", "23:55", "00:05", "00:15", "00:20", "00:35", "00:50", "01:05",
        "01:20", ""]
    assert rows[4][0] == "40 min (BP peak)" and rows[5][0] == "45 min (end)"
    assert len(rows) == len(monitoring_minutes(45)) + 1  # the discharge row
