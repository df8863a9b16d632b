"""The bedside monitoring of an infusion, decided once: the cadence, the patient's own blood
pressure band, the clinic's notify values and the check of one reading against them.

The infusion checklist (its printed grid and notify text), the records (the findings stored with
the nurse's readings) and the app (prefilled times, highlighted values) all call this module;
none of them computes a threshold of its own.

- **Cadence**: every :data:`DURING_EVERY_MIN` min during the infusion (C7, C8), the end always a
  row, then every :data:`AFTER_EVERY_MIN` min after it (C7) for :data:`AFTER_FOR_MIN` min
  (30-60 min of recovery in clinics, C36; the 60 is local policy).
- **Band**: each of systolic and diastolic within :data:`BAND_PERCENT` % of the day's
  pre-infusion blood pressure (Aldrete circulation, C34, R116; PADSS vital signs, C32), in whole
  mmHg rounded inwards so every printed limit is inside the band. Applied here as local policy.
- **Notify values** (DECISION): during and after the infusion the physician is told of a
  *severe* blood pressure, the lower of the policy's ``hypertension_severe_*`` (R41) and
  ``prior_severe_*`` (C8, C12) values, of hypotension and brady- or tachycardia (C14) and of
  hypoxaemia (C15, R116) -- never the elevated 140/90 mmHg *screening* limit (R42): a mean rise
  of +16/+11 mmHg peaking at 40 min is expected during an infusion (C8), so 140/90 would flag
  most infusions. A reading outside the band is flagged separately (kind ``band``). No source
  gives a stop/slow/notify value for ketamine in depression (course-facts 1.2, [U]): every
  number is the clinic policy's (local policy).

Course layer: no Qt, no records, no reports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Final, Literal

from ketascreen.models.checklist import MONITORING_TIMES
from ketascreen.units import (
    BloodPressure,
    Dimension,
    Quantity,
    parse_blood_pressure,
    parse_quantity,
)

if TYPE_CHECKING:
    from ketascreen.knowledge.policy import Policy

DURING_EVERY_MIN: Final = 10
"""Vital signs every 10 min during the infusion (C7, C8)."""
AFTER_EVERY_MIN: Final = 15
"""Every 15 min after it (C7)."""
AFTER_FOR_MIN: Final = 60
"""Rows for 60 min of recovery after the infusion (30-60 min in clinics, C36; local policy)."""
BP_PEAK_MIN: Final = 40
"""Blood pressure peaks at about 40 min (C8)."""
BAND_PERCENT: Final = 20
"""The patient's own band: within 20 % of the pre-infusion blood pressure (C32, C34, R116)."""

LOCAL_POLICY: Final = "local policy"
BAND_SOURCES: Final = (LOCAL_POLICY, "C32", "C34")
"""The sources of a band flag."""
SEVERE_SOURCES: Final = (LOCAL_POLICY, "R41", "C8", "C12")
"""The sources of a severe blood pressure flag."""
HYPOTENSION_SOURCES: Final = (LOCAL_POLICY, "C14")
HEART_RATE_SOURCES: Final = (LOCAL_POLICY, "C14")
SPO2_SOURCES: Final = (LOCAL_POLICY, "C15", "R116")

READING_FIELDS: Final = ("blood_pressure", "heart_rate", "spo2")
"""The fields of a reading that are checked, in this order."""


# -- the cadence --------------------------------------------------------------------------------

def monitoring_minutes(duration_min: int, *, during_every: int = DURING_EVERY_MIN,
                       after_every: int = AFTER_EVERY_MIN,
                       after_for: int = AFTER_FOR_MIN) -> tuple[int, ...]:
    """The minutes from the start at which vital signs are taken: from 0 every
    ``during_every`` minutes to the end of the infusion (the end itself always a row), then
    every ``after_every`` minutes for ``after_for`` minutes.

    ``monitoring_minutes(45)`` -> ``(0, 10, 20, 30, 40, 45, 60, 75, 90, 105)``.

    Raises:
        ValueError: a duration below 1 minute or a step below 1 minute.
    """
    if duration_min < 1 or during_every < 1 or after_every < 1 or after_for < 0:
        raise ValueError("the duration and the steps must be whole minutes of at least 1")
    minutes = [*range(0, duration_min, during_every), duration_min]
    minutes += range(duration_min + after_every, duration_min + after_for + 1, after_every)
    return tuple(minutes)


def duration_minutes(duration: Quantity) -> int:
    """A planned infusion duration (a time quantity) in whole minutes, rounded up (the end row
    is never before the end)."""
    return math.ceil(round(float(duration.to("minute").magnitude), 6))


def monitoring_times(start: datetime, duration: Quantity | None) -> tuple[tuple[str, str], ...]:
    """The pre-printed rows of the monitoring grid: (label, clock time) from the infusion's
    start, at :func:`monitoring_minutes` of the duration, then the discharge row (clock left
    blank). Without a duration the rows are the first screening's
    (:data:`~ketascreen.models.checklist.MONITORING_TIMES`), without clock times.

    Args:
        start: the infusion's start (a local date-time).
        duration: the planned infusion duration (a time quantity), or ``None``.
    """
    if duration is None:
        return tuple((label, "") for label in MONITORING_TIMES)
    end = duration_minutes(duration)
    rows: list[tuple[str, str]] = []
    for minute in monitoring_minutes(end):
        if minute > end:
            label = f"+{minute - end} min after end"
        else:
            notes = [word for word, applies in (("start, baseline", minute == 0),
                                                ("end", minute == end),
                                                ("BP peak", minute == BP_PEAK_MIN)) if applies]
            label = f"{minute} min" + (f" ({'; '.join(notes)})" if notes else "")
        rows.append((label, f"{start + timedelta(minutes=minute):%H:%M}"))
    rows.append(("Discharge", ""))
    return tuple(rows)


# -- the patient's own band ---------------------------------------------------------------------

@dataclass(frozen=True)
class BloodPressureBand:
    """The patient's own band in whole mmHg: (low, high) of systolic and of diastolic, both
    inclusive (C32, C34)."""

    systolic: tuple[int, int]
    diastolic: tuple[int, int]

    def text(self) -> str:
        """``"106-158 / 68-100 mmHg"``."""
        return (f"{self.systolic[0]}-{self.systolic[1]} / "
                f"{self.diastolic[0]}-{self.diastolic[1]} mmHg")


def _mmhg(value: Quantity) -> Decimal:
    return Decimal(repr(float(value.to("millimeter_Hg").magnitude)))


def blood_pressure_band(pre_bp: str | BloodPressure | None) -> BloodPressureBand | None:
    """The band around the day's pre-infusion blood pressure: each value within
    :data:`BAND_PERCENT` % of it, in whole mmHg rounded inwards (a printed limit is inside).

    ``"132/84 mmHg"`` -> systolic (106, 158), diastolic (68, 100): 105.6-158.4 and
    67.2-100.8 mmHg; ``"17.6/11.2 kPa"`` gives the same.

    Returns:
        The band, or ``None`` without a blood pressure.

    Raises:
        UnitInputError: ``pre_bp`` is text that is not a blood pressure.
    """
    if pre_bp is None:
        return None
    pressure = pre_bp if isinstance(pre_bp, BloodPressure) else parse_blood_pressure(pre_bp)
    bands: list[tuple[int, int]] = []
    for value in (pressure.systolic, pressure.diastolic):
        mmhg = _mmhg(value)
        low = mmhg * (100 - BAND_PERCENT) / 100
        high = mmhg * (100 + BAND_PERCENT) / 100
        bands.append((int(low.to_integral_value(ROUND_CEILING)),
                      int(high.to_integral_value(ROUND_FLOOR))))
    return BloodPressureBand(bands[0], bands[1])


# -- the notify values --------------------------------------------------------------------------

@dataclass(frozen=True)
class NotifyValues:
    """The clinic's notify values in whole mmHg, /min and % (local policy: no published value
    exists for ketamine in depression, course-facts 1.2). The defaults are the shipped
    policy's; :func:`notify_values` reads the policy in force.

    Attributes:
        systolic_above, diastolic_above: a severe blood pressure, above either (R41, C8, C12).
        systolic_below: hypotension, systolic below (C14).
        heart_rate_below, heart_rate_above: brady- and tachycardia (C14).
        spo2_at_or_below: hypoxaemia (C15, R116).
    """

    systolic_above: int = 180
    diastolic_above: int = 100
    systolic_below: int = 90
    spo2_at_or_below: int = 92
    heart_rate_below: int = 50
    heart_rate_above: int = 150

    @classmethod
    def from_policy(cls, policy: Policy) -> NotifyValues:
        """The values of ``policy``: :func:`notify_values`."""
        return notify_values(policy)

    def rows(self) -> tuple[tuple[str, str], ...]:
        """(vital sign, words) as printed beside the grid and shown by the app."""
        return (
            ("Blood pressure",
             f"severe: systolic above {self.systolic_above} mmHg or diastolic above "
             f"{self.diastolic_above} mmHg (R41, C12); hypotension: systolic below "
             f"{self.systolic_below} mmHg (C14). Not 140/90 mmHg: a rise of about +16/+11 mmHg "
             "peaking at 40 min is expected (C8)"),
            ("Heart rate", f"below {self.heart_rate_below} /min or above "
                           f"{self.heart_rate_above} /min (C14)"),
            ("SpO2", f"at or below {self.spo2_at_or_below} % (C15, R116)"),
        )


DEFAULT_NOTIFY: Final = NotifyValues()
"""The shipped policy's notify values."""


def notify_values(policy: Policy) -> NotifyValues:
    """The notify values of ``policy``: a severe blood pressure is above the lower of
    ``hypertension_severe_*`` (R41) and ``prior_severe_*`` (C8, C12) -- not the elevated
    screening limit, see the module docstring -- with ``hypotension_systolic``,
    ``bradycardia_heart_rate``, ``tachycardia_heart_rate`` (C14) and ``hypoxaemia_spo2``
    (C15, R116), each in whole units (half up).

    Raises:
        KnowledgeBaseError: a threshold is missing from the policy.
    """
    def whole(key: str, unit: str) -> int:
        value = Decimal(repr(float(policy.quantity(key).to(unit).magnitude)))
        return int(value.to_integral_value(ROUND_HALF_UP))

    return NotifyValues(
        systolic_above=min(whole("hypertension_severe_systolic", "mmHg"),
                           whole("prior_severe_systolic", "mmHg")),
        diastolic_above=min(whole("hypertension_severe_diastolic", "mmHg"),
                            whole("prior_severe_diastolic", "mmHg")),
        systolic_below=whole("hypotension_systolic", "mmHg"),
        spo2_at_or_below=whole("hypoxaemia_spo2", "percent"),
        heart_rate_below=whole("bradycardia_heart_rate", "1/minute"),
        heart_rate_above=whole("tachycardia_heart_rate", "1/minute"))


# -- one reading --------------------------------------------------------------------------------

FlagKind = Literal["band", "notify"]


@dataclass(frozen=True)
class MonitoringFlag:
    """One value of a reading beyond a notify value or outside the band.

    Attributes:
        field: ``blood_pressure``, ``heart_rate`` or ``spo2``.
        value: the value as typed, e.g. ``"24/13 kPa"``.
        limit: the limit crossed, for a clinician, e.g. ``"systolic above 180 mmHg"``.
        kind: ``notify`` (tell the physician) or ``band`` (outside the patient's own band).
        sources: R#/C# keys, and ``local policy`` (every number is the clinic's).
        measured: the value in the limit's unit to 0.1, e.g. ``"181.5/97.5 mmHg"`` for
            ``"24.2/13 kPa"``, ``"49 /min"``, ``"92 %"``.
    """

    field: str
    value: str
    limit: str
    kind: FlagKind
    sources: tuple[str, ...]
    measured: str = ""


def _tenth(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP).normalize(), "f")


def check_reading(reading: Mapping[str, str | None], band: BloodPressureBand | None,
                  notify: NotifyValues = DEFAULT_NOTIFY) -> tuple[MonitoringFlag, ...]:
    """The flags of one reading: each of ``blood_pressure``, ``heart_rate`` and ``spo2`` as
    typed (any unit :mod:`ketascreen.units` reads, e.g. kPa) against ``notify`` and, for the
    blood pressure, ``band``. A missing or empty value is not checked. The comparisons are
    exact: a value at a notify value or at a band edge is silent.

    Args:
        reading: the typed values by field name.
        band: the patient's band, or ``None`` when the day's blood pressure is not known.
        notify: the clinic's notify values.

    Raises:
        UnitInputError: a value is not valid (its ``field`` names it).
    """
    flags: list[MonitoringFlag] = []
    text = (reading.get("blood_pressure") or "").strip()
    if text:
        pressure = parse_blood_pressure(text, field="blood_pressure")
        values = (("systolic", _mmhg(pressure.systolic)),
                  ("diastolic", _mmhg(pressure.diastolic)))
        measured = f"{_tenth(values[0][1])}/{_tenth(values[1][1])} mmHg"
        for (name, value), above in zip(values, (notify.systolic_above, notify.diastolic_above),
                                        strict=True):
            if value > above:
                flags.append(MonitoringFlag("blood_pressure", text,
                                            f"{name} above {above} mmHg", "notify",
                                            SEVERE_SOURCES, measured))
        if values[0][1] < notify.systolic_below:
            flags.append(MonitoringFlag("blood_pressure", text,
                                        f"systolic below {notify.systolic_below} mmHg", "notify",
                                        HYPOTENSION_SOURCES, measured))
        if band is not None:
            for (name, value), (low, high) in zip(values, (band.systolic, band.diastolic),
                                                  strict=True):
                if not low <= value <= high:
                    word = "above" if value > high else "below"
                    flags.append(MonitoringFlag(
                        "blood_pressure", text,
                        f"{name} more than {BAND_PERCENT} % {word} the patient's pre-infusion "
                        f"value (outside {low}-{high} mmHg)", "band", BAND_SOURCES, measured))
    text = (reading.get("heart_rate") or "").strip()
    if text:
        rate = Decimal(repr(float(parse_quantity(text, Dimension.FREQUENCY, field="heart_rate")
                                  .to("1/minute").magnitude)))
        if rate < notify.heart_rate_below:
            flags.append(MonitoringFlag("heart_rate", text,
                                        f"heart rate below {notify.heart_rate_below} /min",
                                        "notify", HEART_RATE_SOURCES, f"{_tenth(rate)} /min"))
        if rate > notify.heart_rate_above:
            flags.append(MonitoringFlag("heart_rate", text,
                                        f"heart rate above {notify.heart_rate_above} /min",
                                        "notify", HEART_RATE_SOURCES, f"{_tenth(rate)} /min"))
    text = (reading.get("spo2") or "").strip()
    if text:
        spo2 = Decimal(repr(float(parse_quantity(text, Dimension.FRACTION, field="spo2")
                                  .to("percent").magnitude)))
        if spo2 <= notify.spo2_at_or_below:
            flags.append(MonitoringFlag("spo2", text,
                                        f"SpO2 at or below {notify.spo2_at_or_below} %",
                                        "notify", SPO2_SOURCES, f"{_tenth(spo2)} %"))
    return tuple(flags)


__all__ = [
    "AFTER_EVERY_MIN", "AFTER_FOR_MIN", "BAND_PERCENT", "BP_PEAK_MIN", "DEFAULT_NOTIFY",
    "DURING_EVERY_MIN", "BloodPressureBand", "FlagKind",
    "MonitoringFlag", "NotifyValues", "blood_pressure_band", "check_reading",
    "duration_minutes", "monitoring_minutes", "monitoring_times", "notify_values",
]
