"""The day-of logic of an infusion of a course (``concepts.md``, "Day-of concepts" and "Data
concepts of an infusion").

Each evaluator reads the day-of facts (:class:`~ketascreen.rules.facts.DayOf`) and is silent
when there are none (a first screening). Thresholds come from the clinic policy, each named by a
rule parameter; where a rule compares a measured value it compares at the resolution it shows
(0.1 mmHg, 0.1 %), as the screening's vital-sign rules do. Inputs are named by their path in the
course file (``infusion.pre.escort``, ``course.infusions`` for the infusions before this one).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from fractions import Fraction

from ketascreen.display import format_number, format_quantity
from ketascreen.models.course import Infusion
from ketascreen.rules.facts import DayOf, Facts
from ketascreen.rules.logic import Context, Evaluator, Fired, Params, fixed
from ketascreen.units import Dimension, magnitude_in, parse_blood_pressure, parse_quantity

DAY_OF_INPUTS: frozenset[str] = frozenset({
    "infusion.number", "infusion.start",
    "infusion.pre.last_solids", "infusion.pre.last_clear_fluids", "infusion.pre.escort",
    "infusion.pre.pregnancy_test", "infusion.pre.weight", "infusion.pre.blood_pressure",
    "infusion.pre.heart_rate", "infusion.pre.spo2", "infusion.pre.medications",
    "infusion.pre.phq9", "infusion.pre.urinary_symptoms",
    "course.plan", "course.infusions",
})
"""The inputs of an infusion of a course a rule may declare."""

ANSWERS: dict[str, tuple[str, ...]] = {
    "escort": ("yes", "no", "unknown"),
    "urinary_symptoms": ("yes", "no", "unknown"),
}
"""The ``field`` parameter of a ``day-of-answer`` rule -> the answers its ``value`` may be."""

SIGNALS = ("response", "remission", "no-improvement")
"""The ``signal`` parameter of a ``course-signal`` rule."""

_PHQ9_ANSWERS = ("not at all", "several days", "more than half the days", "nearly every day")


def _when(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="minutes")


def _hours(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def _previous(day_of: DayOf) -> str:
    return "the screening" if day_of.infusion == 1 else f"infusion {day_of.infusion - 1}"


# --- day-of concepts ------------------------------------------------------------------------------

def _fasting(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    """Last solids or clear fluids less than the policy's time before the start; an absent
    time is ``missing-fasting-times``."""
    day_of = facts.day_of
    if day_of is None:
        return None
    short: list[str] = []
    for name, label, key in (("last_solids", "solids", params["solids"]),
                             ("last_clear_fluids", "clear fluids", params["clear_fluids"])):
        last: datetime | None = getattr(day_of.pre, name)
        if last is None:
            continue
        limit = ctx.policy.quantity(key)
        span = day_of.start - last
        if span.total_seconds() < magnitude_in(limit, "second"):
            short.append(f"{label} at {_when(last)}, {_hours(span)} before the start "
                         f"{_when(day_of.start)} (at least {format_quantity(limit, 'h')})")
    return {"detail": "; ".join(short)} if short else None


def _day_of_answer(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    """A day-of answer (``escort``, ``urinary_symptoms``) equal to the rule's ``value``."""
    day_of = facts.day_of
    if day_of is None:
        return None
    answer = getattr(day_of.pre, params["field"])
    if answer != params["value"]:
        return None
    return {"answer": f"{params['field'].replace('_', ' ')}: {answer}",
            "infusion": str(day_of.infusion)}


def _answer_reads(concept: str, params: Params) -> frozenset[str]:
    return frozenset({f"infusion.pre.{params.get('field')}"})


def _interval(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    """Fewer calendar days since the previous infusion than the policy's minimum."""
    day_of = facts.day_of
    if day_of is None or day_of.days_since_previous is None:
        return None
    limit = ctx.policy.number(params["threshold"])
    if day_of.days_since_previous >= limit:
        return None
    previous = day_of.earlier[-1]
    return {"detail": f"{day_of.days_since_previous} calendar day(s) since infusion "
                      f"{previous.number} on {previous.start.date().isoformat()}; this one on "
                      f"{day_of.start.date().isoformat()} (at least {limit})"}


def _frequency(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    """More infusions in the 7 calendar days up to and including this one than the policy's
    maximum."""
    day_of = facts.day_of
    if day_of is None:
        return None
    limit = ctx.policy.number(params["threshold"])
    if day_of.infusions_last_7_days <= limit:
        return None
    today = day_of.start.date()
    first = today - timedelta(days=6)
    return {"detail": f"{day_of.infusions_last_7_days} infusions from {first.isoformat()} to "
                      f"{today.isoformat()}, this one included (at most {limit})"}


def _beyond_plan(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    """The infusion's number above the plan's count."""
    day_of = facts.day_of
    if day_of is None or day_of.planned is None or day_of.infusion <= day_of.planned:
        return None
    return {"detail": f"infusion {day_of.infusion} of a course planned for {day_of.planned}"}


def _suicidal_ideation(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    """PHQ-9 item 9 at or above the policy's value; the basis says whether it is at or above
    the escalation value (a same-day risk assessment)."""
    day_of = facts.day_of
    if day_of is None:
        return None
    item9 = day_of.pre.phq9_item9()
    fires_from = ctx.policy.number(params["threshold"])
    if item9 is None or item9 < fires_from:
        return None
    escalate_from = ctx.policy.number(params["escalate"])
    if item9 >= escalate_from:
        level = (f"at or above {escalate_from}: ESCALATE, a same-day suicide risk assessment "
                 "before infusing")
    else:
        level = (f"at or above {fires_from}, below {escalate_from}: ask and follow up today "
                 f"(a same-day risk assessment from {escalate_from})")
    return {"detail": f"PHQ-9 item 9 = {item9} (\"{_PHQ9_ANSWERS[item9]}\") before infusion "
                      f"{day_of.infusion}; {level}"}


def _weight_change(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    """Today's weight differs from the previous weight in the course by more than the policy's
    percentage, compared at 0.1 %."""
    day_of = facts.day_of
    if day_of is None or day_of.previous_weight is None or day_of.weight is None:
        return None
    before = magnitude_in(parse_quantity(day_of.previous_weight, Dimension.MASS), "kilogram")
    now = magnitude_in(parse_quantity(day_of.weight, Dimension.MASS), "kilogram")
    if before <= 0:
        return None
    change = round((now - before) / before * 100, 1)
    limit = ctx.policy.number(params["threshold"])
    if abs(change) <= limit:
        return None
    where = ("the screening" if day_of.previous_weight_from == 0
             else f"infusion {day_of.previous_weight_from}")
    sign = "+" if change > 0 else ""
    return {"detail": f"weight {_in_kg(day_of.weight, now)} today; "
                      f"{_in_kg(day_of.previous_weight, before)} at {where}: "
                      f"{sign}{format_number(change, 1)} % (limit: more than {limit} %); "
                      "a kg/lb slip?"}


def _in_kg(given: str, kilograms: float) -> str:
    shown = f"{format_number(kilograms, 2)} kg"
    return given if " ".join(given.split()) == shown else f"{given} = {shown}"


@functools.lru_cache(maxsize=1024)
def _mmhg(text: str) -> tuple[float, float]:
    """A blood pressure as typed, in mmHg at 0.1 mmHg (the course file validated it)."""
    return parse_blood_pressure(text).mmhg()


def _readings(infusion: Infusion) -> list[tuple[str, str]]:
    """(where, blood pressure) of an infusion's day-of check and monitoring record."""
    found: list[tuple[str, str]] = []
    if infusion.pre.blood_pressure is not None:
        found.append(("before the start", infusion.pre.blood_pressure))
    found += [(f"minute {r.minute}", r.blood_pressure) for r in infusion.monitoring
              if r.blood_pressure is not None]
    return found


def _prior_severe_hypertension(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    """An earlier infusion's blood pressure (day-of or monitoring) above the policy's systolic
    or diastolic, compared in mmHg at 0.1 mmHg."""
    day_of = facts.day_of
    if day_of is None:
        return None
    systolic_limit = ctx.policy.quantity(params["systolic"])
    diastolic_limit = ctx.policy.quantity(params["diastolic"])
    high_sys = magnitude_in(systolic_limit, "millimeter_Hg")
    high_dia = magnitude_in(diastolic_limit, "millimeter_Hg")
    found: list[str] = []
    for infusion in day_of.earlier:
        for where, text in _readings(infusion):
            systolic, diastolic = _mmhg(text)
            if systolic > high_sys or diastolic > high_dia:
                shown = f"{format_number(systolic, 1)}/{format_number(diastolic, 1)} mmHg"
                value = text if " ".join(text.split()) == shown else f"{text} = {shown}"
                found.append(f"infusion {infusion.number} ({infusion.start.date().isoformat()}) "
                             f"{where}: {value}")
    if not found:
        return None
    return {"detail": "; ".join(found) + f" (above {format_quantity(systolic_limit, 'mmHg')} "
                      f"systolic or {format_quantity(diastolic_limit, 'mmHg')} diastolic)"}


def _prior_discharge(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    """An earlier infusion's discharge with an Aldrete score below the policy's minimum, or
    without an escort (``no`` or ``unknown``)."""
    day_of = facts.day_of
    if day_of is None:
        return None
    minimum = ctx.policy.number(params["threshold"])
    found: list[str] = []
    for infusion in day_of.earlier:
        discharge = infusion.discharge
        if discharge is None:
            continue
        problems = []
        if discharge.aldrete < minimum:
            problems.append(f"Aldrete {discharge.aldrete} (at least {minimum})")
        if discharge.escort != "yes":
            problems.append(f"escort {discharge.escort}")
        if problems:
            found.append(f"infusion {infusion.number} ({infusion.start.date().isoformat()}), "
                         f"discharged at minute {discharge.minute}: " + ", ".join(problems))
    return {"detail": "; ".join(found)} if found else None


def _medication_change(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    """Counted medication entries added or removed since the previous infusion."""
    day_of = facts.day_of
    if day_of is None or not (day_of.medications_added or day_of.medications_removed):
        return None
    parts = []
    if day_of.medications_added:
        parts.append("added: " + "; ".join(day_of.medications_added))
    if day_of.medications_removed:
        parts.append("removed or stopped: " + "; ".join(day_of.medications_removed))
    return {"detail": f"since {_previous(day_of)}: " + " | ".join(parts)}


def _course_signal(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    """The PHQ-9 course signals: ``response`` (at least the policy's percentage below the
    baseline), ``remission`` (below the policy's total), ``no-improvement`` (the course status
    of ``course-format.md``: from the judged infusion on, less than the improvement)."""
    day_of = facts.day_of
    if day_of is None or day_of.phq9_latest is None:
        return None
    signal = params["signal"]
    latest, baseline = day_of.phq9_latest, day_of.phq9_baseline
    change = day_of.phq9_change_percent
    policy = ctx.policy
    if signal == "remission":
        limit = policy.number("course_remission_below")
        if latest >= limit:
            return None
        rule = f"remission: below {limit}"
    elif signal == "response":
        limit = policy.number("course_response_percent")
        if change is None or -change < Fraction(limit):
            return None
        rule = f"response: at least {limit} % below the baseline"
    else:
        if day_of.course_status != "no-improvement":
            return None
        rule = (f"no improvement: less than {policy.number('course_improvement_percent')} % "
                f"below the baseline from infusion "
                f"{policy.number('course_judged_from_infusion')} on")
    shown = "no change computable" if change is None else (
        f"{'+' if change > 0 else ''}{format_number(float(change), 1)} %")
    return {"detail": f"PHQ-9 {latest} (infusion {day_of.phq9_latest_from}) against the "
                      f"baseline {baseline} (infusion 1): {shown}; {rule}"}


# --- data concepts of an infusion -----------------------------------------------------------------

def _missing_fasting_times(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    day_of = facts.day_of
    if day_of is None:
        return None
    missing = [label for name, label in (("last_solids", "last solids"),
                                         ("last_clear_fluids", "last clear fluids"))
               if getattr(day_of.pre, name) is None]
    return {"detail": "not given: " + ", ".join(missing)} if missing else None


def _missing_pregnancy_test(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    day_of = facts.day_of
    if day_of is None or day_of.pre.pregnancy_test != "not-done":
        return None
    patient = facts.case.patient
    low = ctx.policy.number("pregnancy_status_from_age_years")
    high = ctx.policy.number("pregnancy_status_to_age_years")
    if patient.sex == "male" or not low <= facts.age <= high:
        return None
    who = "female" if patient.sex == "female" else "sex unknown"
    return {"detail": f"{who}, aged {facts.age}; pregnancy test before infusion "
                      f"{day_of.infusion}: not done"}


def _missing_vital_signs(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    day_of = facts.day_of
    if day_of is None:
        return None
    pre = day_of.pre
    missing = [label for label, value in (("blood pressure", pre.blood_pressure),
                                          ("heart rate", pre.heart_rate), ("SpO2", pre.spo2))
               if value is None]
    if not missing:
        return None
    return {"detail": f"not given before infusion {day_of.infusion}: " + ", ".join(missing)}


def _missing_phq9(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    day_of = facts.day_of
    if day_of is None or day_of.pre.phq9 is not None:
        return None
    if (day_of.infusion == 1) != bool(params["first"]):
        return None
    what = ("the course baseline (infusion 1's)" if day_of.infusion == 1
            else f"infusion {day_of.infusion}'s")
    return {"detail": f"no PHQ-9 before infusion {day_of.infusion}: {what} score is missing"}


_DETAIL = frozenset({"detail"})

DAY_OF_EVALUATORS: dict[str, Evaluator] = {
    "fasting": Evaluator(
        fixed("infusion.start", "infusion.pre.last_solids", "infusion.pre.last_clear_fluids"),
        frozenset({"solids", "clear_fluids"}), _DETAIL, _fasting),
    "day-of-answer": Evaluator(_answer_reads, frozenset({"field", "value"}),
                               frozenset({"answer", "infusion"}), _day_of_answer),
    "infusion-interval": Evaluator(fixed("infusion.start", "course.infusions"),
                                   frozenset({"threshold"}), _DETAIL, _interval),
    "infusion-frequency": Evaluator(fixed("infusion.start", "course.infusions"),
                                    frozenset({"threshold"}), _DETAIL, _frequency),
    "beyond-plan": Evaluator(fixed("infusion.number", "course.plan"), frozenset(), _DETAIL,
                             _beyond_plan),
    "phq9-item9": Evaluator(fixed("infusion.pre.phq9"), frozenset({"threshold", "escalate"}),
                            _DETAIL, _suicidal_ideation),
    "weight-change": Evaluator(fixed("infusion.pre.weight", "course.infusions",
                                     "measurements.weight"),
                               frozenset({"threshold"}), _DETAIL, _weight_change),
    "prior-blood-pressure": Evaluator(fixed("course.infusions"),
                                      frozenset({"systolic", "diastolic"}), _DETAIL,
                                      _prior_severe_hypertension),
    "prior-discharge": Evaluator(fixed("course.infusions"), frozenset({"threshold"}), _DETAIL,
                                 _prior_discharge),
    "medication-change": Evaluator(fixed("infusion.pre.medications", "course.infusions",
                                         "medications"), frozenset(), _DETAIL,
                                   _medication_change),
    "course-signal": Evaluator(fixed("infusion.pre.phq9", "course.infusions"),
                               frozenset({"signal"}), _DETAIL, _course_signal),
    "missing-fasting-times": Evaluator(
        fixed("infusion.pre.last_solids", "infusion.pre.last_clear_fluids"), frozenset(),
        _DETAIL, _missing_fasting_times),
    "missing-pregnancy-test": Evaluator(
        fixed("infusion.pre.pregnancy_test", "patient.sex", "patient.birth_date",
              "infusion.start"), frozenset(), _DETAIL, _missing_pregnancy_test),
    "missing-vital-signs": Evaluator(
        fixed("infusion.pre.blood_pressure", "infusion.pre.heart_rate", "infusion.pre.spo2"),
        frozenset(), _DETAIL, _missing_vital_signs),
    "missing-phq9": Evaluator(fixed("infusion.pre.phq9", "infusion.number"),
                              frozenset({"first"}), _DETAIL, _missing_phq9),
}
"""The day-of kinds of logic, by the name rules use in ``logic``."""
