"""Preparing one infusion of a course for the screening: the facts the rules read (with the
acknowledgements in force) and the :class:`~ketascreen.course.outcome.CourseScreening` the
surfaces present. :func:`ketascreen.screening.run_course` evaluates the facts and decides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ketascreen.course.carryover import CourseRun
from ketascreen.course.dose import dose_change, planned_infusions
from ketascreen.course.outcome import CourseScreening
from ketascreen.dosing import DoseOutcome
from ketascreen.models.case import Case
from ketascreen.models.course import Course
from ketascreen.models.result import Finding
from ketascreen.rules.engine import Evaluation, RuleSet
from ketascreen.rules.facts import DayOf, Facts

_DOSE_INPUTS: dict[str, bool | set[str]] = {
    "indication": True, "patient": {"sex"}, "measurements": {"weight", "height"},
    "protocol": True}
"""What the dose calculation reads of a case: infusions alike in these share one calculation."""


@dataclass(frozen=True)
class PreparedInfusion:
    """An infusion ready to be screened.

    Attributes:
        facts: the facts of the infusion's case, carrying its dose outcome, its day-of facts
            and the acknowledgements in force (its own and those carried over).
        course: what the course adds to the screening.
        evaluation: the rules' evaluation of ``facts`` when it is already final (no
            acknowledgement was carried over); ``None``: evaluate ``facts``.
    """

    facts: Facts
    course: CourseScreening
    evaluation: Evaluation | None = None


def prepare_infusion(course: Course, infusion: int | None = None, *,
                     last_signed: int | None = None, rules: RuleSet,
                     dose_for: Callable[[Case], DoseOutcome]) -> PreparedInfusion:
    """The facts and course data of infusion ``infusion`` (default: the last of the file).

    Args:
        last_signed: the infusion whose checklist was signed last (0: the first screening's;
            default: the infusion before this one).
        rules: the rule set in force.
        dose_for: the dose calculation of a case under ``rules``.

    Raises:
        IndexError: there is no infusion ``infusion``, or ``last_signed`` is not before it.
        CourseFigureError: a course figure cannot be computed.
    """
    number = len(course.infusions) if infusion is None else infusion
    course.infusion(number)
    reference = number - 1 if last_signed is None else last_signed
    if isinstance(reference, bool) or not 0 <= reference < number:
        raise IndexError(f"last_signed must be 0 (the screening) to {number - 1}, "
                         f"not {reference}")
    doses: dict[str, DoseOutcome] = {}

    def dose(case: Case) -> DoseOutcome:
        key = case.model_dump_json(include=_DOSE_INPUTS)
        if key not in doses:
            doses[key] = dose_for(case)
        return doses[key]

    def facts_of(case: Case, day_of: DayOf | None) -> Facts:
        facts = rules.facts(case, dose(case))
        facts.day_of = day_of
        return facts

    def fire(case: Case, day_of: DayOf | None, only: frozenset[str]) -> Sequence[Finding]:
        return [f.finding for f in rules.fire(facts_of(case, day_of), only=only)]

    run = CourseRun(course, rules.policy, dose, fire,
                    planned=planned_infusions(course, rules.formulary))
    context = run.context(number)
    facts = facts_of(context.case, context.day_of)
    evaluation = rules.evaluate(facts)
    today = evaluation.result.findings
    carried = run.carried(number, reference, today)
    if carried:
        facts.case = context.case.model_copy(
            update={"acknowledgements": [*context.case.acknowledgements, *carried]})
    screened = CourseScreening(
        course=course, infusion=number, figures=context.figures,
        phq9_series=context.phq9_series, changes=run.changes(number, reference, today),
        protocol=context.protocol,
        dose_change=dose_change(dose(run.case(number - 1)), dose(context.case), rules.formulary,
                                indication=course.screening.indication),
        carried_acknowledgements=tuple(a.concept for a in carried), last_signed=reference)
    return PreparedInfusion(facts, screened, None if carried else evaluation)
