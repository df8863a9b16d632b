"""The nurse's monitoring form of an infusion: the monitoring times from the cadence, whether a
typed reading lies outside the patient's own blood-pressure band or beyond the clinic's notify
values (the checks of :mod:`ketascreen.course.monitoring`, worded for the form), the rescue
drugs' totals and the course with the readings recorded.

No Qt here and no clinical decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from ketascreen.course import monitoring as core
from ketascreen.errors import UnitInputError
from ketascreen.models.course import Course, Rescue
from ketascreen.models.parsing import parse_course
from ketascreen.ui.actions.screening import ruleset
from ketascreen.units import Dimension, Quantity, parse_quantity

if TYPE_CHECKING:
    from ketascreen.rules import RuleSet


# The cadence, the band, the notify values and the check of a reading are the course layer's
# (ketascreen.course.monitoring), the same for the printed checklist and the records; the app
# only words the flags and catches a value that is not valid. Its names, kept for the app:
DURING_EVERY_MIN: Final = core.DURING_EVERY_MIN
AFTER_EVERY_MIN: Final = core.AFTER_EVERY_MIN
AFTER_FOR_MIN: Final = core.AFTER_FOR_MIN
DEFAULT_NOTIFY: Final = core.DEFAULT_NOTIFY
BloodPressureBand = core.BloodPressureBand
NotifyValues = core.NotifyValues
monitoring_minutes = core.monitoring_minutes


def infusion_minutes(course: Course, number: int) -> int | None:
    """The duration in whole minutes of infusion ``number``'s protocol (its own, an earlier
    one's, else the screening's), or ``None`` when none is given."""
    text = next((i.dose.duration for i in reversed(course.infusions[:number])
                 if i.dose is not None and i.dose.duration is not None),
                None if course.screening.protocol is None
                else course.screening.protocol.duration)
    if text is None:
        return None
    return core.duration_minutes(parse_quantity(text, Dimension.TIME))


def blood_pressure_band(baseline: str) -> BloodPressureBand:
    """The band around ``baseline`` (``"132/84 mmHg"``): the one the printed monitoring grid
    shows (:func:`ketascreen.course.monitoring.blood_pressure_band`).

    Raises:
        UnitInputError: ``baseline`` is not a blood pressure.
    """
    band = core.blood_pressure_band(baseline)
    if band is None:  # pragma: no cover - only for a missing value, and baseline is given
        raise UnitInputError(field="blood_pressure", got="", expected="systolic/diastolic",
                             reason="is missing")
    return band


def notify_values(*, rules: RuleSet | None = None) -> NotifyValues:
    """The notify values of the clinic policy in force
    (:func:`ketascreen.course.monitoring.notify_values`).

    Raises:
        KnowledgeBaseError: a data file of the rule set in force is invalid.
    """
    return core.notify_values((rules or ruleset()).policy)


FlagKind = Literal["outside band", "notify", "invalid"]


@dataclass(frozen=True)
class ReadingFlag:
    """Why one value of a monitoring row is highlighted.

    Attributes:
        field: ``blood_pressure``, ``heart_rate`` or ``spo2``.
        kind: ``outside band``, ``notify`` (beyond a notify value: tell the physician) or
            ``invalid`` (the text is not a valid value).
        text: the words shown beside the value (with its icon).
    """

    field: str
    kind: FlagKind
    text: str


def flag_label(flag: ReadingFlag) -> str:
    """A flag as shown: an icon and words (``"\u26a0 NOTIFY: systolic above 180 mmHg"``)."""
    mark = {"outside band": "\u25b2 OUTSIDE BAND", "notify": "\u26a0 NOTIFY",
            "invalid": "\u2716 INVALID"}[flag.kind]
    return f"{mark}: {flag.text}"


def check_reading(values: Mapping[str, str], *, band: BloodPressureBand | None,
                  notify: NotifyValues = DEFAULT_NOTIFY) -> tuple[ReadingFlag, ...]:
    """The flags of one monitoring row as typed (``blood_pressure``, ``heart_rate``,
    ``spo2``; an empty value is not checked): those of
    :func:`ketascreen.course.monitoring.check_reading`, and ``invalid`` for a value that is not
    valid (the other values are still checked).

    Args:
        band: the patient's band (``None`` when the day's blood pressure is not known).
        notify: the clinic's notify values.
    """
    flags: list[ReadingFlag] = []
    for name in core.READING_FIELDS:
        try:
            found = core.check_reading({name: values.get(name)}, band, notify)
        except UnitInputError as error:
            flags.append(ReadingFlag(name, "invalid", error.reason))
            continue
        flags += _worded(found, band, notify)
    return tuple(flags)


def _worded(found: Sequence[core.MonitoringFlag], band: BloodPressureBand | None,
            notify: NotifyValues) -> list[ReadingFlag]:
    """The core's flags of one value in the form's words: one flag per limit crossed (a
    blood pressure above either severe value is one ``above 180/100 mmHg``)."""
    words: list[ReadingFlag] = []

    def add(field_name: str, kind: FlagKind, text: str) -> None:
        if ReadingFlag(field_name, kind, text) not in words:
            words.append(ReadingFlag(field_name, kind, text))

    for flag in found:
        if flag.kind == "band" and band is not None:
            add(flag.field, "outside band", f"outside {band.text()} (pre-infusion \u00b120 %)")
        elif flag.field == "blood_pressure" and " above " in flag.limit:
            add(flag.field, "notify",
                f"above {notify.systolic_above}/{notify.diastolic_above} mmHg")
        elif flag.field == "heart_rate":
            add(flag.field, "notify", f"{flag.measured} outside {notify.heart_rate_below}-"
                                      f"{notify.heart_rate_above} /min")
        elif flag.field == "spo2":
            add(flag.field, "notify", f"{flag.measured} at or below {notify.spo2_at_or_below} %")
        else:
            add(flag.field, "notify", flag.limit)
    return words


def course_with_monitoring(course: Course, number: int,
                           rows: Sequence[Mapping[str, Any]], *,
                           rescue: Sequence[Mapping[str, Any]] = (),
                           discharge: Mapping[str, Any] | None = None) -> Course:
    """``course`` with infusion ``number``'s monitoring record replaced by ``rows`` (rows with
    no reading left out), the ``rescue`` drugs added after those given, and the ``discharge``
    when given.

    Raises:
        CourseValidationError: a value is invalid; the problem names its full field path
            (``infusions[2].monitoring[1].spo2``).
        IndexError: there is no such infusion.
    """
    course.infusion(number)
    data = course.model_dump(mode="json", exclude_none=True)
    readings = []
    for row in rows:
        reading = {k: v for k, v in row.items() if v not in (None, "")}
        if set(reading) - {"minute"}:
            readings.append(reading)
    target = data["infusions"][number - 1]
    target["monitoring"] = readings
    if rescue:
        target["rescue"] = [*target.get("rescue", []), *(dict(r) for r in rescue)]
    if discharge is not None:
        target["discharge"] = dict(discharge)
    return parse_course(data)


def rescue_totals_text(rescue: Sequence[Rescue]) -> str:
    """The cumulative dose of each rescue drug given, in milligrams, in the order first given
    (``"ondansetron 8 mg; midazolam 1 mg"``); ``"none"`` when none was given."""
    totals: dict[str, Quantity] = {}
    for item in rescue:
        dose = item.dose_quantity().to("mg")
        totals[item.drug] = totals[item.drug] + dose if item.drug in totals else dose
    return "; ".join(f"{drug} {total.magnitude:g} mg" for drug, total in totals.items()) \
        or "none"


def new_readings(course: Course, number: int,
                 rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The monitoring rows typed after the readings of infusion ``number`` already recorded
    (the records only append: a row with a reading at a minute after the last recorded one),
    rows with no reading left out."""
    recorded = course.infusion(number).monitoring
    last = max((r.minute for r in recorded), default=-1)
    fresh = []
    for row in rows:
        reading = {k: v for k, v in row.items() if v not in (None, "")}
        minute = reading.get("minute")
        if set(reading) - {"minute"} and not (isinstance(minute, int) and minute <= last):
            fresh.append(reading)
    return fresh
