"""The course figures and the course status of one infusion (``course-format.md``, "Result").

Pure functions of plain typed values, so the course screening, the checklist and the app compute
the same figures from whatever holds the course (the course file, the records database):

- :func:`days_since_previous`: calendar days between two infusion starts;
- :func:`infusions_in_window`: infusions in the N calendar days up to and including this one;
- :func:`cumulative_mg`: ketamine given in the course before this infusion, in mg;
- :func:`phq9_change` and :func:`course_status`: the PHQ-9 change from the course baseline and
  the status it means (too-early, improving, no-improvement, response, remission, unknown);
- :func:`course_figures`: all of the above for one infusion, as a :class:`CourseFigures` whose
  :meth:`~CourseFigures.summary` is exactly the result's ``course`` key.

Percentages are computed exactly (:class:`fractions.Fraction` from integer PHQ-9 totals) and
compared exactly with the thresholds; only the JSON rounds (to one decimal). A bad input is a
:class:`CourseFigureError` naming the input, never a wrong figure.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from ketascreen.errors import FieldProblem, KetascreenError
from ketascreen.models.doses import MG, as_decimal, in_unit, quantity_of
from ketascreen.models.result import CoursePhq9, CourseSummary
from ketascreen.units import Quantity, ureg

PHQ9_MAX = 27
"""The highest PHQ-9 total: nine items scored 0-3 (``course-format.md``)."""

SHORT_WINDOW_DAYS = 7
"""The result's ``infusions_last_7_days`` window, in calendar days (``course-format.md``)."""
LONG_WINDOW_DAYS = 30
"""The result's ``infusions_last_30_days`` window, in calendar days (``course-format.md``)."""

# The result rounds milligrams to 0.01 mg, half up, as the dose JSON does (result-format.md:
# 42.41 mg; ketascreen.dosing.calculate rounds "mg" to the same step).
_MG_STEP = Decimal("0.01")
_MASS = ureg.get_dimensionality("[mass]")


# --- errors ---------------------------------------------------------------------------------------

@dataclass
class CourseFigureError(KetascreenError, ValueError):
    """An input of a course figure cannot be used (the wrong type, out of range, out of order).

    Attributes:
        field: the input concerned, e.g. ``doses_given[2]``, ``starts[1]`` or ``baseline``
            (the caller may prefix its own path with :meth:`at`).
        got: the value as given (a quantity as its text, e.g. ``"0.5 milligram / kilogram"``).
        expected: what the input must be, e.g. ``a mass (mg, mcg, g)``.
        reason: why it was refused, for a clinician.
    """

    field: str
    got: object
    expected: str
    reason: str

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return self.problem().describe()

    def problem(self) -> FieldProblem:
        """The error as a :class:`~ketascreen.errors.FieldProblem`."""
        return FieldProblem(field=self.field, message=self.reason, value=self.got)

    def at(self, prefix: str) -> CourseFigureError:
        """The same error with ``prefix`` before its field (``infusions[2].`` + ``start``)."""
        return CourseFigureError(field=f"{prefix}{self.field}", got=self.got,
                                 expected=self.expected, reason=self.reason)


def _shown(value: object) -> object:
    """A value as an error shows it: a quantity as its text, anything else as it is."""
    return str(value) if isinstance(value, ureg.Quantity) else value


# --- dates ----------------------------------------------------------------------------------------

def _calendar_day(when: object, name: str) -> date:
    """The calendar date of a date or a local (naive) date-time."""
    if isinstance(when, datetime):
        if when.utcoffset() is not None:
            raise CourseFigureError(name, when.isoformat(), "a local date-time without an offset",
                                    "has a UTC offset: course times are local times as written")
        return when.date()
    if isinstance(when, date):
        return when
    raise CourseFigureError(name, _shown(when), "a date or a local date-time",
                            "is not a date")


def _starts_after(first: date, second: date) -> bool:
    """Whether ``first`` starts after ``second``: by time when both have one, else by day."""
    if isinstance(first, datetime) and isinstance(second, datetime):
        return first > second
    return _calendar_day(first, "start") > _calendar_day(second, "start")


def days_since_previous(previous_start: date, start: date) -> int:
    """Calendar days between the previous infusion's start and this one's (``course-format.md``).

    Only the dates count, not the times: 27 Nov 23:00 to 28 Nov 08:00 is 1 day; two infusions on
    the same day are 0 days apart. Month ends and leap days count as the calendar has them
    (2028-02-28 to 2028-03-01 is 2 days).

    Args:
        previous_start: the previous infusion's start (a date, or a local date-time).
        start: this infusion's start.

    Returns:
        The number of calendar days, 0 or more.

    Raises:
        CourseFigureError: a value is not a date, has a UTC offset, or ``start`` is before
            ``previous_start`` (field ``start``).
    """
    previous_day = _calendar_day(previous_start, "previous_start")
    day = _calendar_day(start, "start")
    if _starts_after(previous_start, start):
        raise CourseFigureError("start", start.isoformat(),
                                f"at or after the previous start {previous_start.isoformat()}",
                                "is before the previous infusion's start")
    return (day - previous_day).days


def infusions_in_window(starts: Sequence[date], current: date, days: int) -> int:
    """Infusions in the ``days`` calendar days up to and including the current one.

    The window is the current infusion's calendar day and the ``days - 1`` calendar days before
    it: for 7 days and an infusion on Wednesday 9 December, 3 to 9 December. An infusion counts
    when its start falls on a day of the window and is not after the current infusion's start
    (by time when both have one, else by day), so the current infusion counts itself. This is
    the count ``infusion-frequency-high`` compares ("more than 3 infusions in the 7 days up to
    and including this one", ``concepts.md``) and the result's ``infusions_last_7_days`` and
    ``infusions_last_30_days``.

    Args:
        starts: the start of every infusion of the course so far, the current one included (a
            later infusion in the list is not counted).
        current: the current infusion's start; it must be one of ``starts``.
        days: the window's length in calendar days, 1 or more (7 and 30 in the result).

    Returns:
        The number of infusions in the window, 1 or more (the current one).

    Raises:
        CourseFigureError: ``days`` is not a whole number of 1 or more, ``current`` is not among
            ``starts``, or a start is not a local date or date-time (field ``starts[i]``).
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise CourseFigureError("days", days, "a whole number of days, 1 or more",
                                "is not a window length")
    current_day = _calendar_day(current, "current")
    first_day = current_day - timedelta(days=days - 1)
    counted = 0
    found = False
    for index, start in enumerate(starts):
        day = _calendar_day(start, f"starts[{index}]")
        found = found or start == current
        if first_day <= day and not _starts_after(start, current):
            counted += 1
    if not found:
        raise CourseFigureError("current", current.isoformat(), "one of the starts given",
                                "is not among the infusions' starts (the current infusion "
                                "counts itself)")
    return counted


# --- milligrams given -----------------------------------------------------------------------------

def cumulative_mg(doses_given: Iterable[Quantity]) -> Quantity:
    """The ketamine given in the course before this infusion: the sum of the doses, in mg.

    Each dose is a mass quantity of the one unit registry, converted to mg (``"500 mcg"`` counts
    as 0.5 mg). The sum is taken in decimal (12 significant digits per dose, as the dose
    calculation rounds), so ``42.41 mg`` three times is ``127.23 mg``, not ``127.22999...``.

    Args:
        doses_given: the dose given at each earlier infusion of the course (empty at infusion 1).

    Returns:
        The total in mg (``0 mg`` when nothing was given).

    Raises:
        CourseFigureError: a dose is not a quantity, not a mass (``0.5 mg/kg`` is a dose per body
            weight, not a dose given; pint calls it dimensionless), negative, or not finite
            (field ``doses_given[i]``).
    """
    total = Decimal(0)
    for index, dose in enumerate(doses_given):
        name = f"doses_given[{index}]"
        expected = "a mass given (mg, mcg, g)"
        if not isinstance(dose, ureg.Quantity):
            raise CourseFigureError(name, _shown(dose), expected,
                                    "is not a quantity with a unit (of the program's one unit "
                                    "registry)")
        if dose.dimensionality != _MASS:
            what = ("has no mass unit (a dose per body weight such as mg/kg is not a dose given)"
                    if dose.dimensionless else f"is a {dose.dimensionality}, not a mass")
            raise CourseFigureError(name, _shown(dose), expected, what)
        milligrams = in_unit(dose, MG)
        if not math.isfinite(milligrams) or milligrams < 0:
            raise CourseFigureError(name, _shown(dose), expected,
                                    "must be a finite amount of 0 mg or more")
        total += as_decimal(milligrams)
    return quantity_of(float(total), MG)


# --- PHQ-9 and the course status ------------------------------------------------------------------

class CourseStatus(enum.StrEnum):
    """The result's ``course.status``: exactly one per infusion (``course-format.md``)."""

    TOO_EARLY = "too-early"
    IMPROVING = "improving"
    NO_IMPROVEMENT = "no-improvement"
    RESPONSE = "response"
    REMISSION = "remission"
    UNKNOWN = "unknown"


def _threshold_problem(name: str, value: object, expected: str) -> CourseFigureError:
    return CourseFigureError(f"thresholds.{name}", value, expected, "is not a usable threshold")


@dataclass(frozen=True)
class CourseThresholds:
    """The PHQ-9 thresholds of the course status, with the values of ``course-format.md``.

    They will move into the clinic policy file; until then the defaults are the spec's, each
    sourced by its C# key (``course-facts.md``):

    Attributes:
        remission_below: a latest PHQ-9 total below this is ``remission`` (PHQ-9 < 5: C43, C48;
            concept ``course-remission``).
        response_percent: a latest PHQ-9 this many percent or more below the baseline is
            ``response`` (>= 50 % reduction on PHQ-9: C43, C48; on MADRS and QIDS-SR16: C38,
            C39, C41, C47; concept ``course-response``).
        improvement_percent: a latest PHQ-9 this many percent or more below the baseline is
            ``improving``; less than this is ``no-improvement`` from ``judged_from_infusion``
            on ("improvement" = >= 20 % reduction: C44; early improvement >= 20 %: C42;
            concept ``course-no-improvement``).
        judged_from_infusion: the first infusion at which too little improvement is
            ``no-improvement`` rather than ``too-early`` (from infusion 5 on, i.e. after
            infusion 4: C44; some respond only after 10-12 infusions: C45).

    Raises:
        CourseFigureError: a threshold of the wrong type or out of range (``thresholds.NAME``):
            the improvement must be below the response, both above 0 and at most 100 %.
    """

    remission_below: int = 5  # C43 C48
    response_percent: Decimal = field(default=Decimal(50))  # C43 C48 (C38 C39 C41 C47)
    improvement_percent: Decimal = field(default=Decimal(20))  # C44 (C42)
    judged_from_infusion: int = 5  # C44 (C45)

    def __post_init__(self) -> None:
        for name in ("remission_below", "judged_from_infusion"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise _threshold_problem(name, value, "a whole number, 1 or more")
        if self.remission_below > PHQ9_MAX:
            raise _threshold_problem("remission_below", self.remission_below,
                                     f"a PHQ-9 total, 1 to {PHQ9_MAX}")
        for name in ("response_percent", "improvement_percent"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or not 0 < value <= 100:
                raise _threshold_problem(name, value, "a decimal percentage above 0, at most 100")
        if self.improvement_percent >= self.response_percent:
            raise _threshold_problem("improvement_percent", self.improvement_percent,
                                     f"below response_percent ({self.response_percent})")


DEFAULT_THRESHOLDS = CourseThresholds()
"""The thresholds of ``course-format.md`` (C43, C44, C48)."""


def _phq9_total(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= PHQ9_MAX:
        raise CourseFigureError(name, value, f"a PHQ-9 total, a whole number 0 to {PHQ9_MAX}",
                                "is not a PHQ-9 total")
    return value


@dataclass(frozen=True)
class Phq9Change:
    """The PHQ-9 baseline, the latest total and the change between them.

    Attributes:
        baseline: the first infusion's PHQ-9 total, or ``None`` when not given.
        latest: the latest PHQ-9 total at or before this infusion, or ``None``.
        change_percent: ``(latest - baseline) / baseline * 100``, exact (negative = fewer
            symptoms); ``None`` when either total is missing or the baseline is 0 (a change
            relative to zero is undefined: the result shows null, never a made-up number).
    """

    baseline: int | None
    latest: int | None
    change_percent: Fraction | None

    def change_percent_rounded(self) -> Decimal | None:
        """The change to one decimal, half away from zero (``-6.25`` -> ``-6.3``), as the
        result shows it; ``0.0`` rather than ``-0.0``."""
        if self.change_percent is None:
            return None
        tenths = math.floor(abs(self.change_percent) * 10 + Fraction(1, 2))
        signed = -tenths if self.change_percent < 0 else tenths
        return Decimal(signed).scaleb(-1) if signed else Decimal("0.0")


def phq9_change(baseline: int | None, latest: int | None) -> Phq9Change:
    """The change of the PHQ-9 total from the course baseline (``course-format.md``).

    Args:
        baseline: the first infusion's PHQ-9 total (0-27), or ``None`` when not given.
        latest: the latest PHQ-9 total at or before this infusion (0-27), or ``None``.

    Returns:
        Both totals and the exact change in percent; the change is ``None`` without both totals
        or with a baseline of 0 (see :class:`Phq9Change`).

    Raises:
        CourseFigureError: a total that is not a whole number 0-27 (field ``baseline`` or
            ``latest``).
    """
    first = _phq9_total(baseline, "baseline")
    last = _phq9_total(latest, "latest")
    change = None
    if first is not None and last is not None and first > 0:
        change = Fraction(last - first, first) * 100
    return Phq9Change(baseline=first, latest=last, change_percent=change)


def _infusion_number(value: object, name: str = "infusion_number") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CourseFigureError(name, value, "an infusion number, 1 or more",
                                "is not an infusion number")
    return value


def status_for_change(infusion_number: int, latest: int, change_percent: Fraction | None,
                      thresholds: CourseThresholds = DEFAULT_THRESHOLDS) -> CourseStatus:
    """The course status for a latest PHQ-9 total and its exact change from the baseline.

    The precedence of ``course-format.md``, first match wins:

    1. ``remission``: the latest total is below ``remission_below`` (5);
    2. ``response``: the latest is ``response_percent`` (50 %) or more below the baseline
       (a change of -50.0 % or less);
    3. ``improving``: the latest is ``improvement_percent`` (20 %) or more below the baseline;
    4. ``no-improvement``: from infusion ``judged_from_infusion`` (5) on;
    5. ``too-early``: before it.

    ``change_percent`` ``None`` (a baseline of 0) means the latest cannot be below the
    baseline: it is never ``response`` or ``improving``.

    Args:
        infusion_number: this infusion's number in the course (1, 2, 3 ...).
        latest: the latest PHQ-9 total (0-27).
        change_percent: the exact change from the baseline in percent (:class:`Phq9Change`),
            negative when the total fell.
        thresholds: the thresholds (the spec's by default).

    Returns:
        One status; never ``unknown`` (that is :func:`course_status` without both totals).

    Raises:
        CourseFigureError: an infusion number below 1 or a total outside 0-27.
    """
    number = _infusion_number(infusion_number)
    total = _phq9_total(latest, "latest")
    if total is None:
        raise CourseFigureError("latest", latest,
                                f"a PHQ-9 total, a whole number 0 to {PHQ9_MAX}", "is missing")
    if total < thresholds.remission_below:
        return CourseStatus.REMISSION
    below = Fraction(0) if change_percent is None else -change_percent
    if below >= Fraction(thresholds.response_percent):
        return CourseStatus.RESPONSE
    if below >= Fraction(thresholds.improvement_percent):
        return CourseStatus.IMPROVING
    if number >= thresholds.judged_from_infusion:
        return CourseStatus.NO_IMPROVEMENT
    return CourseStatus.TOO_EARLY


def course_status(infusion_number: int, baseline: int | None, latest: int | None,
                  thresholds: CourseThresholds = DEFAULT_THRESHOLDS) -> CourseStatus:
    """The result's ``course.status`` for infusion ``infusion_number`` (``course-format.md``).

    ``unknown`` without both PHQ-9 totals; otherwise :func:`status_for_change` with the exact
    change from :func:`phq9_change`. With a baseline of 0 the latest cannot be below it: a
    latest below 5 is ``remission``, anything else ``too-early`` before infusion 5 and
    ``no-improvement`` from it.

    Args:
        infusion_number: this infusion's number in the course (1, 2, 3 ...).
        baseline: the first infusion's PHQ-9 total, or ``None``.
        latest: the latest PHQ-9 total at or before this infusion, or ``None``.
        thresholds: the thresholds (the spec's by default).

    Returns:
        Exactly one :class:`CourseStatus`.

    Raises:
        CourseFigureError: an infusion number below 1 or a total outside 0-27.
    """
    number = _infusion_number(infusion_number)
    change = phq9_change(baseline, latest)
    if change.latest is None or change.baseline is None:
        return CourseStatus.UNKNOWN
    return status_for_change(number, change.latest, change.change_percent, thresholds)


# --- all figures of one infusion ------------------------------------------------------------------

@dataclass(frozen=True)
class CourseFigures:
    """The course figures of one infusion: what the result's ``course`` key carries.

    Attributes:
        infusion: this infusion's number (1, 2, 3 ...).
        planned: the infusions planned in the course, or ``None`` when no plan is known.
        days_since_previous: calendar days since the previous infusion's start; ``None`` at
            infusion 1.
        infusions_last_7_days: infusions in the 7 calendar days up to and including this one.
        infusions_last_30_days: the same over 30 calendar days.
        cumulative_mg: ketamine given in the course before this infusion (a mass quantity).
        phq9: the PHQ-9 baseline, latest total and change.
        status: the course status.
    """

    infusion: int
    planned: int | None
    days_since_previous: int | None
    infusions_last_7_days: int
    infusions_last_30_days: int
    cumulative_mg: Quantity
    phq9: Phq9Change
    status: CourseStatus

    def summary(self) -> CourseSummary:
        """Exactly the result's ``course`` key: milligrams to 0.01 mg and the change to 0.1 %,
        both rounded half up; ``None`` (JSON ``null``) where a value is not given."""
        milligrams = as_decimal(in_unit(self.cumulative_mg, MG))
        change = self.phq9.change_percent_rounded()
        return CourseSummary(
            infusion=self.infusion, planned=self.planned,
            days_since_previous=self.days_since_previous,
            infusions_last_7_days=self.infusions_last_7_days,
            infusions_last_30_days=self.infusions_last_30_days,
            cumulative_mg=float(milligrams.quantize(_MG_STEP, rounding=ROUND_HALF_UP)),
            phq9=CoursePhq9(baseline=self.phq9.baseline, latest=self.phq9.latest,
                            change_percent=None if change is None else float(change)),
            status=self.status.value)


def course_figures(*, infusion: int, starts: Sequence[date], doses_given: Iterable[Quantity],
                   planned: int | None, baseline: int | None, latest: int | None,
                   thresholds: CourseThresholds = DEFAULT_THRESHOLDS) -> CourseFigures:
    """The course figures of infusion ``infusion``, from plain values.

    Args:
        infusion: this infusion's number (1, 2, 3 ...).
        starts: the starts of infusions 1 to ``infusion``, in order (this one last).
        doses_given: the ketamine dose given at each earlier infusion (mass quantities; an
            infusion with nothing given may be left out or given as ``0 mg``).
        planned: the infusions planned (the course file's plan, else the formulary's course
            default), or ``None``.
        baseline: the first infusion's PHQ-9 total, or ``None``.
        latest: the latest PHQ-9 total at or before this infusion, or ``None``.
        thresholds: the status thresholds (the spec's by default).

    Returns:
        The figures; :meth:`CourseFigures.summary` gives the result's ``course`` key.

    Raises:
        CourseFigureError: an input as described by the functions above, ``starts`` not one per
            infusion 1 to ``infusion``, a start before the previous one (``starts[i]``), or a
            planned count below 1.
    """
    number = _infusion_number(infusion, "infusion")
    if len(starts) != number:
        raise CourseFigureError("starts", len(starts), f"{number} starts (infusions 1 to {number})",
                                "is not one start per infusion up to this one")
    if planned is not None:
        _infusion_number(planned, "planned")
    for index, start in enumerate(starts):
        _calendar_day(start, f"starts[{index}]")
        if index and _starts_after(starts[index - 1], start):
            raise CourseFigureError(f"starts[{index}]", start.isoformat(),
                                    f"at or after starts[{index - 1}]",
                                    "is before the previous infusion's start")
    current = starts[-1]
    return CourseFigures(
        infusion=number,
        planned=planned,
        days_since_previous=(days_since_previous(starts[-2], current) if number > 1 else None),
        infusions_last_7_days=infusions_in_window(starts, current, SHORT_WINDOW_DAYS),
        infusions_last_30_days=infusions_in_window(starts, current, LONG_WINDOW_DAYS),
        cumulative_mg=cumulative_mg(doses_given),
        phq9=phq9_change(baseline, latest),
        status=course_status(number, baseline, latest, thresholds),
    )
