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
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from reportlab.graphics import renderSVG

from ketascreen.checklist import blood_pressure_band as checklist_band
from ketascreen.course.figures import DEFAULT_THRESHOLDS, CourseThresholds
from ketascreen.course.outcome import CourseScreening
from ketascreen.errors import FieldProblem, UnitInputError
from ketascreen.models.course import COURSE_FORMAT, Course, DayOfCheck, Infusion
from ketascreen.models.parsing import CourseValidationError, load_course, parse_course
from ketascreen.reports.chart import phq9_chart
from ketascreen.screening import run_course
from ketascreen.ui.actions.screening import FormScreening, ruleset
from ketascreen.units import Dimension, parse_blood_pressure, parse_quantity

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
    """

    number: int
    new: bool
    previous: int
    carried: Mapping[RecheckField, Carried]
    medications: tuple[dict[str, Any], ...] = field(default=())


def _medication_line(entry: Mapping[str, Any]) -> str:
    text = str(entry.get("text") or entry.get("code") or "")
    if entry.get("daily_dose"):
        text += f" ({entry['daily_dose']} a day)"
    if entry.get("status", "active") != "active":
        text += f" [{entry['status']}]"
    return text


def recheck_prefill(course: Course) -> RecheckPrefill:
    """What the re-check form of the next infusion starts from.

    The next infusion is the course's last one while it is only planned, else a new one. Its
    weight, medication list and protocol (dose and duration) are the latest given at or before
    the previous infusion (a planned infusion's own protocol fields first), else the
    screening's: the same values the screening of that infusion reads when the form leaves them
    as they are (``course-format.md``, rules of interpretation).
    """
    last = course.last
    new = infusion_state(last) is not InfusionState.PLANNED
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
    dosed = course.infusions[:number]  # a planned infusion's own protocol fields come first
    for name in protocol_fields:
        own = next(((getattr(i.dose, name), i.number) for i in reversed(dosed)
                    if i.dose is not None and getattr(i.dose, name) is not None), None)
        screened = (None if course.screening.protocol is None
                    else getattr(course.screening.protocol, name))
        if own is not None:
            carried[name] = Carried(str(own[0]), f"infusion {own[1]}")
        elif screened is not None:
            carried[name] = Carried(str(screened), "the screening")
    return RecheckPrefill(number=number, new=new, previous=previous, carried=carried,
                          medications=dumped)


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
        kept.update(infusion)
    return parse_course(data)


# -- the nurse's monitoring form ----------------------------------------------------------------

DURING_EVERY_MIN = 10
"""Readings every 10 minutes during the infusion (C7 C8)."""
AFTER_EVERY_MIN = 15
"""Readings every 15 minutes after it (C7)."""
AFTER_FOR_MIN = 60
"""How long after the infusion readings are prefilled (local policy)."""


def monitoring_minutes(duration_min: int, *, during_every: int = DURING_EVERY_MIN,
                       after_every: int = AFTER_EVERY_MIN,
                       after_for: int = AFTER_FOR_MIN) -> tuple[int, ...]:
    """The minutes of the monitoring form's rows: from 0 every ``during_every`` minutes to the
    end of the infusion (the end itself always a row), then every ``after_every`` minutes for
    ``after_for`` minutes.

    Raises:
        ValueError: a duration below 1 minute or a step below 1 minute.
    """
    if duration_min < 1 or during_every < 1 or after_every < 1 or after_for < 0:
        raise ValueError("the duration and the steps must be whole minutes of at least 1")
    minutes = [*range(0, duration_min, during_every), duration_min]
    minutes += list(range(duration_min + after_every, duration_min + after_for + 1,
                          after_every))
    return tuple(minutes)


def infusion_minutes(course: Course, number: int) -> int | None:
    """The duration in whole minutes of infusion ``number``'s protocol (its own, an earlier
    one's, else the screening's), or ``None`` when none is given."""
    text = next((i.dose.duration for i in reversed(course.infusions[:number])
                 if i.dose is not None and i.dose.duration is not None),
                None if course.screening.protocol is None
                else course.screening.protocol.duration)
    if text is None:
        return None
    return round(float(parse_quantity(text, Dimension.TIME).to("minute").magnitude))


@dataclass(frozen=True)
class BloodPressureBand:
    """The patient's own band: each of systolic and diastolic within 20 % of the day's
    pre-infusion value (C34), in whole mmHg (the band rounded inwards)."""

    systolic: tuple[int, int]
    diastolic: tuple[int, int]

    def text(self) -> str:
        """``"106-158 / 67-101 mmHg"``."""
        return (f"{self.systolic[0]}-{self.systolic[1]} / "
                f"{self.diastolic[0]}-{self.diastolic[1]} mmHg")


def blood_pressure_band(baseline: str) -> BloodPressureBand:
    """The band around ``baseline`` (``"132/84 mmHg"``): the one the printed monitoring grid
    shows (:func:`ketascreen.checklist.blood_pressure_band`).

    Raises:
        UnitInputError: ``baseline`` is not a blood pressure.
    """
    band = checklist_band(baseline)
    if band is None:  # pragma: no cover - only for a missing value, and baseline is given
        raise UnitInputError(field="blood_pressure", got="", expected="systolic/diastolic",
                             reason="is missing")
    return BloodPressureBand(*band)


@dataclass(frozen=True)
class NotifyValues:
    """The clinic's notify values: a reading beyond one is reported to the physician.

    No published stop/slow/notify rule exists for ketamine infusions for depression, so these
    are local policy (course-facts 1.2). The app reads them from the clinic policy in force
    (:func:`notify_values`), the same thresholds the printed monitoring grid lists; the
    defaults are the shipped policy's: systolic above 180 or diastolic above 100 mmHg (severe
    hypertension, R41; "very elevated" above 180/110, C12), systolic below 90 mmHg (C14), SpO2
    at or below 92 % (C15), heart rate below 50 or above 150 /min (C14).
    """

    systolic_above: int = 180
    diastolic_above: int = 100
    systolic_below: int = 90
    spo2_at_or_below: int = 92
    heart_rate_below: int = 50
    heart_rate_above: int = 150


DEFAULT_NOTIFY = NotifyValues()


def notify_values(*, rules: RuleSet | None = None) -> NotifyValues:
    """The notify values of the clinic policy in force: the thresholds its rules already use
    for a severe blood pressure (the lower of ``hypertension_severe_*`` and
    ``prior_severe_*``), hypotension, bradycardia, tachycardia and hypoxaemia, in whole mmHg,
    /min and %.

    Raises:
        KnowledgeBaseError: a data file of the rule set in force is invalid.
    """
    policy = (rules or ruleset()).policy

    def whole(key: str, unit: str) -> int:
        return round(float(policy.quantity(key).to(unit).magnitude))

    return NotifyValues(
        systolic_above=min(whole("hypertension_severe_systolic", "mmHg"),
                           whole("prior_severe_systolic", "mmHg")),
        diastolic_above=min(whole("hypertension_severe_diastolic", "mmHg"),
                            whole("prior_severe_diastolic", "mmHg")),
        systolic_below=whole("hypotension_systolic", "mmHg"),
        spo2_at_or_below=whole("hypoxaemia_spo2", "percent"),
        heart_rate_below=whole("bradycardia_heart_rate", "1/minute"),
        heart_rate_above=whole("tachycardia_heart_rate", "1/minute"))

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
    """A flag as shown: an icon and words (``"\u26a0 NOTIFY: systolic 186 > 180 mmHg"``)."""
    mark = {"outside band": "\u25b2 OUTSIDE BAND", "notify": "\u26a0 NOTIFY",
            "invalid": "\u2716 INVALID"}[flag.kind]
    return f"{mark}: {flag.text}"


def _number(value: float) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP).normalize())


def check_reading(values: Mapping[str, str], *, band: BloodPressureBand | None,
                  notify: NotifyValues = DEFAULT_NOTIFY) -> tuple[ReadingFlag, ...]:
    """The flags of one monitoring row as typed (``blood_pressure``, ``heart_rate``,
    ``spo2``; an empty value is not checked).

    Args:
        band: the patient's band (``None`` when the day's blood pressure is not known).
        notify: the clinic's notify values.
    """
    flags: list[ReadingFlag] = []
    text = values.get("blood_pressure", "").strip()
    if text:
        try:
            systolic, diastolic = parse_blood_pressure(text, field="blood_pressure").mmhg()
        except UnitInputError as error:
            flags.append(ReadingFlag("blood_pressure", "invalid", error.reason))
        else:
            if systolic > notify.systolic_above or diastolic > notify.diastolic_above:
                flags.append(ReadingFlag(
                    "blood_pressure", "notify",
                    f"above {notify.systolic_above}/{notify.diastolic_above} mmHg"))
            if systolic < notify.systolic_below:
                flags.append(ReadingFlag("blood_pressure", "notify",
                                         f"systolic below {notify.systolic_below} mmHg"))
            if band is not None and not (
                    band.systolic[0] <= systolic <= band.systolic[1]
                    and band.diastolic[0] <= diastolic <= band.diastolic[1]):
                flags.append(ReadingFlag("blood_pressure", "outside band",
                                         f"outside {band.text()} (pre-infusion \u00b120 %)"))
    text = values.get("heart_rate", "").strip()
    if text:
        try:
            rate = float(parse_quantity(text, Dimension.FREQUENCY, field="heart_rate")
                         .to("1/minute").magnitude)
        except UnitInputError as error:
            flags.append(ReadingFlag("heart_rate", "invalid", error.reason))
        else:
            if rate < notify.heart_rate_below or rate > notify.heart_rate_above:
                flags.append(ReadingFlag(
                    "heart_rate", "notify",
                    f"{_number(rate)} /min outside {notify.heart_rate_below}-"
                    f"{notify.heart_rate_above} /min"))
    text = values.get("spo2", "").strip()
    if text:
        try:
            spo2 = float(parse_quantity(text, Dimension.FRACTION, field="spo2")
                         .to("percent").magnitude)
        except UnitInputError as error:
            flags.append(ReadingFlag("spo2", "invalid", error.reason))
        else:
            if spo2 <= notify.spo2_at_or_below:
                flags.append(ReadingFlag("spo2", "notify",
                                         f"{_number(spo2)} % at or below "
                                         f"{notify.spo2_at_or_below} %"))
    return tuple(flags)


def course_with_monitoring(course: Course, number: int,
                           rows: Sequence[Mapping[str, Any]]) -> Course:
    """``course`` with infusion ``number``'s monitoring record replaced by ``rows`` (rows with
    no reading left out).

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
    data["infusions"][number - 1]["monitoring"] = readings
    return parse_course(data)


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
