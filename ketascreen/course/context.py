"""What the rules read for one infusion of a course (``course-format.md``, "Rules of
interpretation").

:func:`infusion_case` is the case infusion N is screened as: the screening's patient, indication,
history, conditions and substance-use screens; the latest weight, medication list and protocol
given at or before infusion N; today's vital signs from infusion N's ``pre`` (the screening's are
not today's); the screening date is infusion N's start date. :func:`infusion_context` adds the
day-of facts (:class:`~ketascreen.rules.facts.DayOf`) the day-of rules read and the course
figures of the result's ``course`` key.

Which acknowledgements the case carries (the infusion's own and those carried over while a
finding's basis is unchanged) is decided by :mod:`ketascreen.course.carryover`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ketascreen.course.dose import protocol_for
from ketascreen.course.figures import CourseFigures, CourseThresholds, course_figures
from ketascreen.course.outcome import ProtocolChoice
from ketascreen.dosing import DoseOutcome
from ketascreen.knowledge.policy import Policy
from ketascreen.models.case import (
    COUNTING_MEDICATION_STATUSES,
    Acknowledgement,
    Case,
    Measurements,
    Medication,
)
from ketascreen.models.course import Course
from ketascreen.models.doses import MG, quantity_of
from ketascreen.rules.facts import DayOf
from ketascreen.units import Quantity

SCREENING = 0
"""The number that stands for the first screening where an infusion number is expected."""

DoseFor = Callable[[Case], DoseOutcome]
"""The dose calculation of a case under the rule set in force (the screening's ``dose_for``)."""


def course_thresholds(policy: Policy) -> CourseThresholds:
    """The course-status thresholds of the clinic policy (``course_*`` in ``policy.toml``).

    Raises:
        CourseFigureError: the policy's values are not usable thresholds (e.g. the improvement
            not below the response).
    """
    return CourseThresholds(
        remission_below=policy.number("course_remission_below"),
        response_percent=Decimal(policy.number("course_response_percent")),
        improvement_percent=Decimal(policy.number("course_improvement_percent")),
        judged_from_infusion=policy.number("course_judged_from_infusion"))


@dataclass(frozen=True)
class Latest:
    """A value given at or before an infusion, and where: an infusion's number, or
    :data:`SCREENING`."""

    value: str | None
    source: int


def latest_weight(course: Course, number: int) -> Latest:
    """The latest weight given at or before infusion ``number`` (``number`` 0: the screening's).

    An infusion's ``pre.weight`` is given only when the patient was re-weighed; absent, the
    latest earlier weight stands.
    """
    for index in range(number, 0, -1):
        weight = course.infusion(index).pre.weight
        if weight is not None:
            return Latest(weight, index)
    return Latest(course.screening.measurements.weight, SCREENING)


def latest_medications(course: Course, number: int) -> tuple[list[Medication], int]:
    """The latest medication list at or before infusion ``number`` and where it was given
    (``pre.medications`` ``null`` means unchanged since the infusion before)."""
    for index in range(number, 0, -1):
        medications = course.infusion(index).pre.medications
        if medications is not None:
            return medications, index
    return course.screening.medications, SCREENING


def measured_on(course: Course, source: int) -> date:
    """The day a value given at ``source`` was measured (an infusion's start date, or the
    screening's measurement date)."""
    if source == SCREENING:
        taken = course.screening.measurements.taken_at
        return taken.date() if taken is not None else course.screening.screening_date
    return course.infusion(source).start.date()


def infusion_case(course: Course, number: int, *,
                  acknowledgements: Sequence[Acknowledgement] | None = None,
                  protocol: ProtocolChoice | None = None) -> Case:
    """The case the rules read for infusion ``number`` (``number`` 0: the screening as signed).

    Args:
        course: a validated course.
        number: the infusion (1-based), or 0 for the first screening.
        acknowledgements: the acknowledgements in force; ``None``: the infusion's own only (the
            screening's own for ``number`` 0).
        protocol: the protocol in force (default: :func:`~ketascreen.course.dose.protocol_for`).

    Raises:
        IndexError: there is no infusion ``number``.
    """
    screening = course.screening
    if number == SCREENING:
        if acknowledgements is None:
            return screening
        return screening.model_copy(update={"acknowledgements": list(acknowledgements)})
    infusion = course.infusion(number)
    pre = infusion.pre
    measured = screening.measurements
    measurements = Measurements.model_construct(
        weight=latest_weight(course, number).value, height=measured.height,
        blood_pressure=pre.blood_pressure, heart_rate=pre.heart_rate, spo2=pre.spo2,
        taken_at=None)
    chosen = protocol or protocol_for(course, number)
    own = infusion.acknowledgements if acknowledgements is None else acknowledgements
    return screening.model_copy(update={
        "screening_date": infusion.start.date(),
        "measurements": measurements,
        "medications": list(latest_medications(course, number)[0]),
        "protocol": chosen.protocol,
        "acknowledgements": list(own),
    })


def _counted(medications: Sequence[Medication]) -> list[str]:
    return [m.describe() for m in medications if m.status in COUNTING_MEDICATION_STATUSES]


def medication_change(course: Course, number: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The counted medication entries added and removed at infusion ``number`` since the
    infusion before it (the screening before infusion 1), compared by their text or code.

    Only a whole new list given at infusion ``number`` changes anything (``null`` = unchanged).
    """
    medications, source = latest_medications(course, number)
    if source != number:
        return (), ()
    before = _counted(latest_medications(course, number - 1)[0])
    today = _counted(medications)
    added = tuple(m for m in dict.fromkeys(today) if m not in before)
    removed = tuple(m for m in dict.fromkeys(before) if m not in today)
    return added, removed


@dataclass(frozen=True)
class InfusionContext:
    """Infusion N of a course as the rules read it.

    Attributes:
        number: the infusion's number.
        case: the case of :func:`infusion_case` with the infusion's own acknowledgements.
        day_of: the day-of facts.
        protocol: the protocol in force and where it came from.
        figures: the course figures of the result's ``course`` key.
        phq9_series: (infusion, PHQ-9 total or ``None``) for infusions 1 to N, oldest first.
    """

    number: int
    case: Case
    day_of: DayOf
    protocol: ProtocolChoice
    figures: CourseFigures
    phq9_series: tuple[tuple[int, int | None], ...]


def dose_given(course: Course, number: int, dose: DoseFor) -> Quantity:
    """The ketamine calculated for infusion ``number`` from its own case: every infusion
    listed before the one screened is taken as given; one whose dose was refused adds nothing
    (``0 mg``)."""
    outcome = dose(infusion_case(course, number))
    return quantity_of(0.0 if outcome.dose is None else outcome.dose.dose_mg, MG)


def doses_given(course: Course, number: int, dose: DoseFor) -> list[Quantity]:
    """The ketamine calculated for each infusion before ``number`` (what ``cumulative_mg``
    adds up; see :func:`dose_given`)."""
    return [dose_given(course, index, dose) for index in range(1, number)]


def infusion_context(course: Course, number: int, *, policy: Policy, dose: DoseFor,
                     planned: int | None = None,
                     given: Sequence[Quantity] | None = None) -> InfusionContext:
    """Infusion ``number`` of ``course``: its case, its day-of facts and its course figures.

    Args:
        course: a validated course.
        number: the infusion (1-based).
        policy: the clinic policy (the course-status thresholds).
        dose: the dose calculation, for the milligrams given at earlier infusions.
        planned: the infusions planned (default: the course file's plan, else ``None``).
        given: the doses given before it (default: :func:`doses_given` with ``dose``).

    Raises:
        IndexError: there is no infusion ``number``.
        CourseFigureError: a course figure cannot be computed (see
            :func:`~ketascreen.course.figures.course_figures`).
    """
    infusion = course.infusion(number)
    protocol = protocol_for(course, number)
    case = infusion_case(course, number, protocol=protocol)
    if planned is None and course.plan is not None:
        planned = course.plan.infusions
    series = tuple((i.number, i.pre.phq9_total()) for i in course.infusions[:number])
    latest = next(((n, total) for n, total in reversed(series) if total is not None), None)
    figures = course_figures(
        infusion=number, starts=[i.start for i in course.infusions[:number]],
        doses_given=doses_given(course, number, dose) if given is None else given,
        planned=planned,
        baseline=series[0][1], latest=None if latest is None else latest[1],
        thresholds=course_thresholds(policy))
    weight = latest_weight(course, number)
    previous = latest_weight(course, number - 1) if weight.source == number else None
    added, removed = medication_change(course, number)
    day_of = DayOf(
        infusion=number, start=infusion.start, pre=infusion.pre,
        earlier=tuple(course.infusions[:number - 1]), planned=planned,
        days_since_previous=figures.days_since_previous,
        infusions_last_7_days=figures.infusions_last_7_days,
        weight=weight.value, weight_from=weight.source,
        weight_date=None if weight.value is None else measured_on(course, weight.source),
        previous_weight=None if previous is None else previous.value,
        previous_weight_from=None if previous is None else previous.source,
        medications_added=added, medications_removed=removed,
        phq9_baseline=figures.phq9.baseline, phq9_latest=figures.phq9.latest,
        phq9_latest_from=None if latest is None else latest[0],
        phq9_change_percent=figures.phq9.change_percent,
        course_status=figures.status.value)
    return InfusionContext(number=number, case=case, day_of=day_of, protocol=protocol,
                           figures=figures, phq9_series=series)
