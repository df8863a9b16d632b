"""A course of infusions in the app: open the course file, word each infusion's state, prefill
the day-of re-check of the next infusion and the nurse's monitoring form, and check a reading.

No Qt here and no clinical decision: the findings, the dose and the course figures are the
screening's (:func:`ketascreen.screening.run_course`). What this module adds is presentation
data: which values of the re-check form were carried over from an earlier infusion (so the form
marks them), the monitoring times from the cadence, and whether a typed reading lies outside the
patient's own blood-pressure band or beyond the clinic's notify values.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from reportlab.graphics import renderSVG

from ketascreen.course import monitoring as core
from ketascreen.course.figures import DEFAULT_THRESHOLDS, CourseThresholds
from ketascreen.course.outcome import CourseScreening
from ketascreen.errors import FieldProblem, UnitInputError
from ketascreen.models.course import COURSE_FORMAT, Course, DayOfCheck, Infusion, Rescue
from ketascreen.models.parsing import CourseValidationError, load_course, parse_course
from ketascreen.reports.chart import phq9_chart
from ketascreen.screening import run_course
from ketascreen.ui.actions.screening import FormScreening, ruleset
from ketascreen.units import Dimension, Quantity, parse_quantity

if TYPE_CHECKING:
    from ketascreen.models.case import Case
    from ketascreen.rules import RuleSet
    from ketascreen.screening import Screening


class InfusionState(enum.StrEnum):
    """Where an infusion of the course stands, in the order it moves through them."""

    PLANNED = "planned"
    """Booked: no day-of re-check typed yet."""
    CHECKED = "checked"
    """The day-of re-check is typed; its checklist is not signed."""
    SIGNED = "signed"
    """Its checklist is signed (known from the records database; a file alone cannot say)."""
    INFUSED = "infused"
    """Monitoring readings or rescue drugs are recorded."""
    DISCHARGED = "discharged"
    """The discharge is recorded."""


_STATE_MARK = {
    InfusionState.PLANNED: "\u25cb",     # white circle
    InfusionState.CHECKED: "\u25d0",     # circle with left half black
    InfusionState.SIGNED: "\u270d",      # writing hand
    InfusionState.INFUSED: "\u25cf",     # black circle
    InfusionState.DISCHARGED: "\u2714",  # heavy check mark
}


def state_label(state: InfusionState) -> str:
    """The state as shown in the infusion list: a mark and the word (never colour alone)."""
    return f"{_STATE_MARK[state]} {state.value}"


def is_course_file(path: Path) -> bool:
    """Whether ``path`` holds a JSON object whose ``format`` is ``ketascreen-course/1``.

    An unreadable or non-JSON file is not a course file (the case opener reports it).
    """
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == COURSE_FORMAT


def open_course_file(*, path: Path) -> Course:
    """Read and validate a ``ketascreen-course/1`` file.

    Raises:
        CourseValidationError: unreadable, not JSON, or invalid; every problem names its full
            field path (``infusions[2].pre.phq9[8]``).
    """
    return load_course(path)


def course_file_bytes(*, course: Course) -> bytes:
    """The bytes of a course file for ``course`` (what :func:`write_file` writes)."""
    data = course.model_dump(mode="json", exclude_none=True)
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def _pre_given(pre: DayOfCheck) -> bool:
    return pre.model_dump(exclude_defaults=True) != {}


def infusion_state(infusion: Infusion, *, signed: bool = False) -> InfusionState:
    """The state of ``infusion``: discharged, infused, signed, checked or planned, the first
    that holds.

    Args:
        signed: whether its checklist is signed (the records database knows; ``False`` for a
            course opened from a file).
    """
    if infusion.discharge is not None:
        return InfusionState.DISCHARGED
    if infusion.monitoring or infusion.rescue:
        return InfusionState.INFUSED
    if signed:
        return InfusionState.SIGNED
    if _pre_given(infusion.pre):
        return InfusionState.CHECKED
    return InfusionState.PLANNED


@dataclass(frozen=True)
class InfusionRow:
    """One row of the course view's infusion list.

    Attributes:
        number: the infusion's number.
        start: its start, ``YYYY-MM-DD HH:MM``.
        state: its state.
        phq9: its PHQ-9 total, or ``None`` when not given.
        dose: the dose per weight its own protocol fields give, or ``""`` (the previous one's).
    """

    number: int
    start: str
    state: InfusionState
    phq9: int | None
    dose: str


def infusion_rows(course: Course, *, signed: Collection[int] = ()) -> tuple[InfusionRow, ...]:
    """The infusion list of ``course``, oldest first.

    Args:
        signed: the numbers of the infusions whose checklists are signed (records).
    """
    return tuple(
        InfusionRow(number=infusion.number,
                    start=infusion.start.strftime("%Y-%m-%d %H:%M"),
                    state=infusion_state(infusion, signed=infusion.number in signed),
                    phq9=infusion.pre.phq9_total(),
                    dose="" if infusion.dose is None or infusion.dose.dose is None
                    else infusion.dose.dose)
        for infusion in course.infusions)


def phq9_points(course: Course) -> tuple[tuple[int, int | None], ...]:
    """(infusion number, PHQ-9 total or ``None``) for every infusion, oldest first (the
    chart's points when no screening is at hand; the screening's own series otherwise)."""
    return tuple((i.number, i.pre.phq9_total()) for i in course.infusions)


_CLIP_PATH = re.compile(r"<clipPath[^>]*>.*?</clipPath>", re.DOTALL)
CHART_WIDTH = 520.0
"""The PHQ-9 chart's size in the app, in points (the same Drawing the checklist prints)."""
CHART_HEIGHT = 220.0


def phq9_chart_svg(series: Sequence[tuple[int, int | None]], *,
                   thresholds: CourseThresholds = DEFAULT_THRESHOLDS,
                   planned: int | None = None) -> bytes:
    """The PHQ-9 trend chart as SVG: the checklist's reportlab Drawing rendered with
    ``reportlab.graphics.renderSVG`` (one drawing for the PDF and the app)."""
    drawing = phq9_chart(series, thresholds, width=CHART_WIDTH, height=CHART_HEIGHT,
                         planned=planned)
    text: str = renderSVG.drawToString(drawing)
    # Qt's SVG renderer (SVG Tiny 1.2) draws a clipPath's shape as an ordinary black rectangle
    # and reads "fill: None" as no valid value (black): both are rewritten to what they mean.
    text = _CLIP_PATH.sub("", text).replace("style=\"clip-path: url(#clip)\"", "")
    return text.replace("fill: None", "fill: none").encode("utf-8")


@dataclass(frozen=True)
class InfusionScreening:
    """The screening of one infusion of a course, as the app shows it.

    Attributes:
        form: the screening in the shape the decision banner, findings and dose box show
            (the same widgets as the screening form).
        course: what the course adds (figures, PHQ-9 series, changes, dose change).
    """

    form: FormScreening
    course: CourseScreening | None


def screen_infusion(*, course: Course, infusion: int,
                    rules: RuleSet | None = None) -> InfusionScreening:
    """Screen infusion ``infusion`` of ``course`` (:func:`ketascreen.screening.run_course`)
    with the rule set in force.

    Raises:
        KnowledgeBaseError: a data file of the rule set in force is invalid.
    """
    return infusion_screening(run_course(course, infusion=infusion, rules=rules or ruleset()))


def infusion_screening(screening: Screening) -> InfusionScreening:
    """An infusion's screening (run here, or by the records store) as the app shows it."""
    box = screening.dose_box
    form = FormScreening(
        document=screening.case.model_dump(mode="json", exclude_none=True), problems=(),
        screening=screening, acknowledgeable=screening.acknowledgeable,
        dose_rows=() if box is None else box.rows, working=() if box is None else box.working,
        no_dose_reason=screening.no_dose_reason)
    return InfusionScreening(form, screening.course)


def monitored_infusion(course: Course) -> int:
    """The infusion the monitoring form records: the last one past its plan (checked, signed,
    infused or discharged), else the first."""
    for infusion in reversed(course.infusions):
        if infusion_state(infusion) is not InfusionState.PLANNED:
            return infusion.number
    return 1


# -- the day-of re-check of the next infusion ---------------------------------------------------

RecheckField = Literal["weight", "medications", "dose", "duration"]
"""The re-check values carried over from an earlier infusion (or the screening) when the next
infusion gives none of its own. Everything else of the day-of re-check (fasting, escort,
pregnancy test, vital signs, PHQ-9, urinary symptoms) is asked afresh on the day."""


@dataclass(frozen=True)
class Carried:
    """A value the re-check form shows before anyone typed it.

    Attributes:
        value: the value as the course file holds it (a quantity string, or the medication
            list's lines for ``medications``).
        source: where it came from, as shown beside it (``"infusion 3"``, ``"the screening"``).
    """

    value: str
    source: str


@dataclass(frozen=True)
class RecheckPrefill:
    """The re-check form of the next infusion, before the nurse types anything.

    Attributes:
        number: the infusion the form checks.
        new: whether that infusion is new (appended to the course) or the course's planned
            last one.
        previous: the infusion the values are carried from (``0``: the first screening).
        carried: the carried-over values, by field (each shown with its mark and source).
        medications: the medication list in force (the case format's shape), unchanged unless
            the nurse edits it.
        draft: a draft checked again (its checklist not signed): its own day-of values by
            form field (``pre`` keys, ``escort``/``pregnancy_test``/``urinary_symptoms``,
            ``dose``, ``duration``, and its own ``medications`` list's lines) as the form
            shows them; loaded as the draft's (not carried:
            they are written back as typed, so an unchanged draft is signed as it is).
    """

    number: int
    new: bool
    previous: int
    carried: Mapping[RecheckField, Carried]
    medications: tuple[dict[str, Any], ...] = field(default=())
    draft: Mapping[str, str] = field(default_factory=dict)
    acknowledgements: tuple[dict[str, str], ...] = ()
    """A draft's own acknowledgements (``concept``, ``reason``), kept when it is checked again."""


def _medication_line(entry: Mapping[str, Any]) -> str:
    text = str(entry.get("text") or entry.get("code") or "")
    if entry.get("daily_dose"):
        text += f" ({entry['daily_dose']} a day)"
    if entry.get("status", "active") != "active":
        text += f" [{entry['status']}]"
    return text


def recheck_prefill(course: Course, *, again: bool = False) -> RecheckPrefill:
    """What the re-check form of the next infusion starts from.

    The next infusion is the course's last one while it is only planned (or, with ``again``,
    while its checklist is not signed: a draft of the records is checked again), else a new
    one. Its weight, medication list and protocol (dose and duration) are the latest given at
    or before the previous infusion (that infusion's own protocol fields first), else the
    screening's: the same values the screening of that infusion reads when the form leaves them
    as they are (``course-format.md``, rules of interpretation).
    """
    last = course.last
    new = not again and infusion_state(last) is not InfusionState.PLANNED
    number = last.number + 1 if new else last.number
    earlier = course.infusions[:number - 1]
    previous = earlier[-1].number if earlier else 0
    carried: dict[RecheckField, Carried] = {}

    weight = next(((i.pre.weight, i.number) for i in reversed(earlier)
                   if i.pre.weight is not None), None)
    if weight is not None:
        carried["weight"] = Carried(weight[0], f"infusion {weight[1]}")
    elif course.screening.measurements.weight is not None:
        carried["weight"] = Carried(course.screening.measurements.weight, "the screening")

    listed = next(((i.pre.medications, i.number) for i in reversed(earlier)
                   if i.pre.medications is not None), None)
    if listed is not None:
        source, medications = f"infusion {listed[1]}", listed[0]
    else:
        source, medications = "the screening", list(course.screening.medications)
    dumped = tuple(m.model_dump(mode="json", exclude_none=True) for m in medications or [])
    carried["medications"] = Carried(
        "\n".join(_medication_line(m) for m in dumped) or "(none)", source)

    protocol_fields: tuple[Literal["dose", "duration"], ...] = ("dose", "duration")
    # a planned infusion's own protocol fields come first; a draft's are its own (not carried)
    dosed = course.infusions[:number - 1] if again else course.infusions[:number]
    for name in protocol_fields:
        own = next(((getattr(i.dose, name), i.number) for i in reversed(dosed)
                    if i.dose is not None and getattr(i.dose, name) is not None), None)
        screened = (None if course.screening.protocol is None
                    else getattr(course.screening.protocol, name))
        if own is not None:
            carried[name] = Carried(str(own[0]), f"infusion {own[1]}")
        elif screened is not None:
            carried[name] = Carried(str(screened), "the screening")
    draft = draft_values(last) if again else {}
    if again and last.pre.medications is not None:  # the draft's own list is the one in force
        dumped = tuple(m.model_dump(mode="json", exclude_none=True) for m in last.pre.medications)
        draft["medications"] = "\n".join(_medication_line(m) for m in dumped) or "(none)"
    acknowledged = tuple({"concept": a.concept, "reason": a.reason}
                         for a in last.acknowledgements) if again else ()
    return RecheckPrefill(number=number, new=new, previous=previous, carried=carried,
                          medications=dumped, draft=draft, acknowledgements=acknowledged)


def draft_values(infusion: Infusion) -> dict[str, str]:
    """The day-of values of a stored draft ``infusion`` as the re-check form shows them (by
    form field; a time as ``YYYY-MM-DDTHH:MM``, PHQ-9/GAD-7 items separated by spaces); the
    fields it does not give are left out."""
    values: dict[str, str] = {}
    for name, value in infusion.pre.model_dump(exclude_none=True).items():
        if isinstance(value, datetime):
            values[name] = value.strftime("%Y-%m-%dT%H:%M")
        elif isinstance(value, (list, tuple)) and name in ("phq9", "gad7"):
            values[name] = " ".join(str(item) for item in value)
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            values[name] = str(value)
    if infusion.dose is not None:
        for name in ("dose", "duration"):
            given = getattr(infusion.dose, name)
            if given is not None:
                values[name] = str(given)
    return values


def draft_label(number: int) -> str:
    """The mark beside a value loaded from a draft: an icon and words, never colour alone."""
    return f"\u270e the draft's value (infusion {number}, not signed): confirm or change"


def carried_label(carried: Carried) -> str:
    """The mark beside a carried-over value: an icon and words, never colour alone."""
    return f"\u21bb carried over from {carried.source}: confirm or change"


def course_with_recheck(course: Course, prefill: RecheckPrefill, *, start: str,
                        pre: Mapping[str, Any], protocol: Mapping[str, str],
                        acknowledgements: Sequence[Mapping[str, str]] = ()) -> Course:
    """``course`` with the re-checked infusion: appended when new, else its planned last one
    replaced (keeping what the file held beyond the day-of re-check).

    Args:
        start: the infusion's start, ``YYYY-MM-DDTHH:MM``.
        pre: the day-of re-check as typed (the course format's ``pre`` keys; a carried value
            the nurse left as it was is *not* given here, so the file keeps meaning
            "unchanged").
        protocol: the protocol fields typed for this infusion (``dose``, ``duration``); empty
            when it keeps the previous one's.
        acknowledgements: this infusion's own acknowledgements (``concept``, ``reason``).

    Raises:
        CourseValidationError: the result is not a valid course; each problem names its full
            field path (``infusions[3].pre.blood_pressure``).
    """
    data = course.model_dump(mode="json", exclude_none=True)
    infusion: dict[str, Any] = {"number": prefill.number, "start": start,
                                "pre": {k: v for k, v in pre.items() if v not in (None, "")}}
    if protocol:
        infusion["dose"] = dict(protocol)
    if acknowledgements:
        infusion["acknowledgements"] = [dict(a) for a in acknowledgements]
    if prefill.new:
        data["infusions"].append(infusion)
    else:
        kept = data["infusions"][prefill.number - 1]
        own = kept.get("pre", {}).get("medications")
        if own is not None and "medications" not in infusion["pre"]:
            infusion["pre"]["medications"] = own  # the form shows the list, never edits it
        kept.update(infusion)
    return parse_course(data)


# -- the nurse's monitoring form ----------------------------------------------------------------

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


def problems_of(error: CourseValidationError) -> tuple[FieldProblem, ...]:
    """The problems of a refused course, each naming its full field path."""
    return tuple(error.problems)


# -- a course from the records database ----------------------------------------------------------

def first_prefill(case: Case) -> RecheckPrefill:
    """The re-check form of infusion 1 of a course just started from the signed screening
    ``case``: its weight, medication list, dose and duration carried over from the screening."""
    carried: dict[RecheckField, Carried] = {}
    if case.measurements.weight is not None:
        carried["weight"] = Carried(case.measurements.weight, "the screening")
    dumped = tuple(m.model_dump(mode="json", exclude_none=True) for m in case.medications)
    carried["medications"] = Carried(
        "\n".join(_medication_line(m) for m in dumped) or "(none)", "the screening")
    if case.protocol is not None:
        for name in ("dose", "duration"):
            value = getattr(case.protocol, name)
            if value is not None:
                carried[name] = Carried(str(value), "the screening")
    return RecheckPrefill(number=1, new=True, previous=0, carried=carried, medications=dumped)


def recheck_infusion(prefill: RecheckPrefill, *, start: str, pre: Mapping[str, Any],
                     protocol: Mapping[str, str],
                     acknowledgements: Sequence[Mapping[str, str]] = ()) -> dict[str, Any]:
    """The infusion object the re-check form holds (``number``, ``start``, ``pre``, ``dose``,
    ``acknowledgements``): what the records store screens and stores as the day-of check (a
    carried value left as it was is not given, as in :func:`course_with_recheck`)."""
    infusion: dict[str, Any] = {"number": prefill.number, "start": start,
                                "pre": {k: v for k, v in pre.items() if v not in (None, "")}}
    if protocol:
        infusion["dose"] = dict(protocol)
    if acknowledgements:
        infusion["acknowledgements"] = [dict(a) for a in acknowledgements]
    return infusion


def stored_rows(states: Sequence[tuple[int, str, str | None]],
                course: Course | None) -> tuple[InfusionRow, ...]:
    """The infusion list of a course stored in the records: every infusion of the records' view
    (``(number, state, start)``, planned ones included) with the state the records hold, and
    the PHQ-9 and own dose of the stored ones from ``course`` (its document)."""
    rows = {row.number: row for row in (() if course is None else infusion_rows(course))}
    shown = []
    for number, state, start in states:
        row = rows.get(number)
        shown.append(InfusionRow(
            number=number, start=row.start if row is not None else (start or "")[:16]
            .replace("T", " "), state=InfusionState(state),
            phq9=None if row is None else row.phq9, dose="" if row is None else row.dose))
    return tuple(shown)


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
