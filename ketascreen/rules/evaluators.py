"""The kinds of logic a rule can run. A rule names one by ``logic`` and parameterises it.

Each evaluator declares the inputs it reads (a rule's declared ``inputs`` must match them
exactly), the parameters it takes and the placeholders it fills in the rule's basis template.
Evaluating returns the placeholder values when the rule fires, or ``None`` when it stays silent.
Missing data never makes a rule silently pass: the data rules fire on exactly those gaps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ketascreen.concepts import HISTORY_CONCEPTS
from ketascreen.display import format_number, format_quantity
from ketascreen.knowledge.policy import Policy
from ketascreen.rules.dayof import DAY_OF_EVALUATORS, DAY_OF_INPUTS
from ketascreen.rules.facts import Facts, describe_medication
from ketascreen.rules.logic import Context, Evaluator, Fired, Params
from ketascreen.rules.logic import fixed as _fixed
from ketascreen.rules.scores import assess_abuse_risk
from ketascreen.units import Dimension, Quantity, magnitude_in

INPUTS: frozenset[str] = frozenset({
    "screening_date", "indication",
    "patient.birth_date", "patient.sex", "patient.pregnant", "patient.breastfeeding",
    "measurements.weight", "measurements.height", "measurements.blood_pressure",
    "measurements.heart_rate", "measurements.spo2", "measurements.taken_at",
    "history", *(f"history.{c}" for c in HISTORY_CONCEPTS),
    "conditions", "medications",
    "substance_use.dast10", "substance_use.audit_c",
    "protocol.dose", "protocol.duration", "protocol.weight_basis", "protocol.concentration",
    "protocol.vial", "protocol.diluent_volume",
    *DAY_OF_INPUTS,
})
"""Every input a rule may declare: the case's, and an infusion's of a course (``infusion.*``,
``course.*``: :data:`~ketascreen.rules.dayof.DAY_OF_INPUTS`)."""


def _history_evidence(facts: Facts, concept: str, *, counts_inactive: bool) -> list[str]:
    evidence: list[str] = []
    answer = facts.case.answer(concept)
    on_list = facts.condition_evidence(concept, counts_inactive=counts_inactive)
    if answer == "yes":
        evidence.append("questionnaire: yes")
    elif on_list and answer == "no":
        evidence.append("questionnaire: no, but the problem list disagrees")
    evidence += [e.describe() for e in on_list]
    return evidence


def _history_concept(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    evidence = _history_evidence(facts, concept, counts_inactive=bool(params["counts_inactive"]))
    return {"evidence": "; ".join(evidence)} if evidence else None


def _medication_class(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    entries = facts.medications.get(concept)
    if not entries:
        return None
    equivalent = bool(params.get("diazepam_equivalent", False))
    described = [describe_medication(e, ctx.drugs, concept, ctx.policy,
                                     diazepam_equivalent=equivalent) for e in entries]
    return {"medications": "; ".join(described)}


def _bp_above(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    bp = facts.blood_pressure
    if bp is None:
        return None  # missing-blood-pressure reports the gap
    systolic, diastolic = bp.mmhg()

    def over(sys_key: str, dia_key: str) -> bool:
        return (systolic > magnitude_in(ctx.policy.quantity(sys_key), "millimeter_Hg")
                or diastolic > magnitude_in(ctx.policy.quantity(dia_key), "millimeter_Hg"))

    if not over(params["systolic"], params["diastolic"]):
        return None
    unless = params.get("unless_above")
    if unless and over(unless[0], unless[1]):
        return None
    given = facts.case.measurements.blood_pressure or ""
    shown = f"{format_number(systolic, 1)}/{format_number(diastolic, 1)} mmHg"
    bp_text = given if given.endswith("mmHg") else f"{given} = {shown}"
    return {
        "bp": bp_text,
        "systolic_limit": format_quantity(ctx.policy.quantity(params["systolic"]), "mmHg"),
        "diastolic_limit": format_quantity(ctx.policy.quantity(params["diastolic"]), "mmHg"),
    }


@dataclass(frozen=True, eq=False, repr=False)
class VitalSign:
    """A vital sign a ``vital-sign-limit`` rule may compare with a policy threshold.

    Attributes:
        input: the case input it reads.
        dimension: the dimension its threshold must have.
        symbol: the ISMP display unit it is compared and shown in.
        unit: the pint unit of ``symbol``.
    """

    input: str
    dimension: Dimension
    symbol: str
    unit: str


VITAL_SIGNS: dict[str, VitalSign] = {
    "systolic": VitalSign("measurements.blood_pressure", Dimension.PRESSURE, "mmHg",
                          "millimeter_Hg"),
    "heart_rate": VitalSign("measurements.heart_rate", Dimension.FREQUENCY, "/min", "1/minute"),
    "spo2": VitalSign("measurements.spo2", Dimension.FRACTION, "%", "percent"),
}
"""The ``vital`` parameter of a ``vital-sign-limit`` rule -> what it reads."""

COMPARISONS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "below": ("below", lambda value, limit: value < limit),
    "above": ("above", lambda value, limit: value > limit),
    "at-most": ("at or below", lambda value, limit: value <= limit),
}
"""The ``compare`` parameter of a ``vital-sign-limit`` rule -> (wording, test)."""


def _vital_reads(concept: str, params: Params) -> frozenset[str]:
    vital = VITAL_SIGNS.get(str(params.get("vital")))
    return frozenset() if vital is None else frozenset({vital.input})


def _as_given(given: str, shown: str) -> str:
    """The value as typed, with its conversion when typed in another unit or spelling."""
    return given if " ".join(given.split()) == shown else f"{given} = {shown}"


def _vital_sign_limit(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    """A vital sign beyond a policy threshold, compared at 0.1 of its display unit.

    An absent value fires nothing (the blood pressure's absence is ``missing-blood-pressure``).
    """
    vital = VITAL_SIGNS[params["vital"]]
    wording, beyond = COMPARISONS[params["compare"]]
    measurements = facts.case.measurements
    limit = ctx.policy.quantity(params["threshold"])
    limit_text = format_quantity(limit, vital.symbol)
    if params["vital"] == "systolic":
        bp = facts.blood_pressure
        if bp is None:
            return None
        systolic, diastolic = bp.mmhg()
        if not beyond(systolic, magnitude_in(limit, vital.unit)):
            return None
        shown = f"{format_number(systolic, 1)}/{format_number(diastolic, 1)} mmHg"
        return {"value": _as_given(measurements.blood_pressure or "", shown),
                "limit": f"systolic {wording} {limit_text}"}
    given = measurements.heart_rate if params["vital"] == "heart_rate" else measurements.spo2
    value: Quantity | None = (measurements.heart_rate_quantity() if params["vital"] == "heart_rate"
                              else measurements.spo2_quantity())
    if value is None or given is None:
        return None
    magnitude = round(magnitude_in(value, vital.unit), 1)
    if not beyond(magnitude, magnitude_in(limit, vital.unit)):
        return None
    return {"value": _as_given(given, f"{format_number(magnitude, 1)} {vital.symbol}"),
            "limit": f"{wording} {limit_text}"}


def _age(facts: Facts, params: Params, ctx: Context) -> dict[str, str]:
    return {"age": str(facts.age), "screening_date": facts.case.screening_date.isoformat(),
            "limit": str(ctx.policy.number(params["threshold"]))}


def _age_below(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    return _age(facts, params, ctx) if facts.age < ctx.policy.number(params["threshold"]) else None


def _age_at_least(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    if facts.age >= ctx.policy.number(params["threshold"]):
        return _age(facts, params, ctx)
    return None


def _pregnancy(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    evidence: list[str] = []
    if facts.case.patient.pregnant == "yes":
        evidence.append("patient: pregnant yes")
    if facts.day_of is not None and facts.day_of.pre.pregnancy_test == "positive":
        evidence.append(f"pregnancy test before infusion {facts.day_of.infusion}: positive")
    on_list = facts.condition_evidence("pregnancy", counts_inactive=False)
    evidence += [e.describe() for e in on_list]
    if on_list and facts.age > ctx.policy.number("pregnancy_status_to_age_years"):
        evidence.append(f"patient aged {facts.age}: verify the record")
    return {"evidence": "; ".join(evidence)} if evidence else None


def _breastfeeding(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    if facts.case.patient.breastfeeding == "yes":
        return {"evidence": "patient: breastfeeding yes"}
    return None


def _abuse_risk(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    assessment = abuse_assessment(facts, ctx.policy)
    if assessment.tier != params["tier"]:
        return None
    reasons = assessment.high_reasons if params["tier"] == "high" else assessment.moderate_reasons
    return {"detail": "; ".join(reasons)}


def abuse_assessment(facts: Facts, policy: Policy) -> Any:
    """The abuse-risk assessment of ``facts`` under ``policy``."""

    def evidence(concept: str) -> tuple[str, ...]:
        found = _history_evidence(facts, concept, counts_inactive=concept != (
            "substance-use-disorder-active"))
        return ("; ".join(found),) if found else ()

    return assess_abuse_risk(
        facts.case.substance_use,
        sex=facts.case.patient.sex,
        sud_active=evidence("substance-use-disorder-active"),
        dissociative_misuse=evidence("dissociative-misuse-history"),
        sud_remission=evidence("substance-use-disorder-remission"),
        dast10_moderate_at=policy.number("dast10_moderate_at"),
        dast10_high_at=policy.number("dast10_high_at"),
        audit_c_positive_male=policy.number("audit_c_positive_male"),
        audit_c_positive_female=policy.number("audit_c_positive_female"),
    )


def _missing_weight(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    return {"detail": "measurements.weight is empty"} if facts.weight is None else None


def _height_needed(facts: Facts) -> bool:
    protocol = facts.case.protocol
    return protocol is not None and protocol.weight_basis in ("ideal", "adjusted")


def _missing_height(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    if facts.height is not None:
        return None
    needed = _height_needed(facts)
    if params["needed"] and needed:
        basis = facts.case.protocol.weight_basis if facts.case.protocol else ""
        return {"detail": f"weight basis is {basis} body weight; measurements.height is empty"}
    if not params["needed"] and not needed and facts.weight is not None:
        return {"detail": "measurements.height is empty; weight checked against "
                f"{format_quantity(ctx.policy.quantity('plausible_weight_min'), 'kg')}-"
                f"{format_quantity(ctx.policy.quantity('plausible_weight_max'), 'kg')} only"}
    return None


def _implausible_weight(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    if facts.weight is None:
        return None
    kg = round(magnitude_in(facts.weight, "kilogram"), 2)
    low = magnitude_in(ctx.policy.quantity("plausible_weight_min"), "kilogram")
    high = magnitude_in(ctx.policy.quantity("plausible_weight_max"), "kilogram")
    given = facts.case.measurements.weight
    reasons: list[str] = []
    if not low <= kg <= high:
        reasons.append(f"weight {given} = {format_number(kg, 2)} kg is outside "
                       f"{format_number(low)}-{format_number(high)} kg")
    if facts.bmi is not None:
        bmi = round(facts.bmi, 1)
        bmi_low = ctx.policy.number("plausible_bmi_min_kg_m2")
        bmi_high = ctx.policy.number("plausible_bmi_max_kg_m2")
        if not bmi_low <= bmi <= bmi_high:
            reasons.append(f"BMI {format_number(bmi, 1)} kg/m² (weight {given}, height "
                           f"{facts.case.measurements.height}) is outside {bmi_low}-{bmi_high} "
                           "kg/m²")
    return {"detail": "; ".join(reasons)} if reasons else None


def _missing_bp(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    if facts.blood_pressure is None:
        return {"detail": "measurements.blood_pressure is empty"}
    return None


def _missing_pregnancy_status(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    patient = facts.case.patient
    low = ctx.policy.number("pregnancy_status_from_age_years")
    high = ctx.policy.number("pregnancy_status_to_age_years")
    if patient.sex == "male" or not low <= facts.age <= high:
        return None
    unknown = [name for name, value in (("pregnant", patient.pregnant),
                                        ("breastfeeding", patient.breastfeeding))
               if value == "unknown"]
    if "pregnant" not in unknown:
        return None
    if facts.day_of is not None and facts.day_of.pre.pregnancy_test in ("negative", "positive"):
        return None  # the day's test answers the screening's open question
    who = "female" if patient.sex == "female" else "sex unknown"
    return {"detail": f"{who}, aged {facts.age}; unknown: {', '.join(unknown)}"}


def _unanswered_history(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    missing = [c for c in HISTORY_CONCEPTS if facts.case.answer(c) == "unknown"]
    # A hedged problem-list entry ("possible AAA") is a question: listed until it is answered
    # (questionnaire yes fires the concept as usual; no is the physician's answer).
    open_questions = [
        mention.describe() for mention in facts.uncertain
        if mention.concept in missing or (
            mention.concept == "pregnancy" and mention.counts_as == "current"
            and facts.case.patient.pregnant == "unknown")]
    parts: list[str] = []
    if missing:
        parts.append(f"{len(missing)} of {len(HISTORY_CONCEPTS)} unanswered: "
                     + ", ".join(missing))
    if open_questions:
        parts.append("; ".join(dict.fromkeys(open_questions)))
    return {"detail": "; ".join(parts)} if parts else None


def _missing_screen(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    use = facts.case.substance_use
    missing = [name for name, value in (("DAST-10", use.dast10), ("AUDIT-C", use.audit_c))
               if value is None]
    return {"detail": "not given: " + ", ".join(missing)} if missing else None


def _stale(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    day_of = facts.day_of
    if day_of is not None:
        return _stale_weight_of_infusion(facts, ctx)
    taken = facts.case.measurements.taken_at
    if taken is None:
        return None  # absent = taken on the screening date (case-format.md)
    age_days = (facts.case.screening_date - taken.date()).days
    stale: list[str] = []
    weight_limit = ctx.policy.number("weight_max_age_days")
    bp_limit = ctx.policy.number("blood_pressure_max_age_days")
    if facts.weight is not None and age_days > weight_limit:
        stale.append(f"weight is {age_days} days old (limit {weight_limit})")
    if facts.blood_pressure is not None and age_days > bp_limit:
        limit = "same day" if bp_limit == 0 else f"{bp_limit} days"
        stale.append(f"blood pressure is {age_days} days old (limit {limit})")
    if not stale:
        return None
    return {"detail": f"taken {taken.isoformat(sep=' ')}: " + "; ".join(stale)}


def _stale_weight_of_infusion(facts: Facts, ctx: Context) -> Fired:
    """At an infusion of a course the vital signs are today's; the weight may be an earlier
    infusion's or the screening's, and is judged by the day it was measured."""
    day_of = facts.day_of
    assert day_of is not None
    if day_of.weight_date is None or facts.weight is None:
        return None
    age_days = (day_of.start.date() - day_of.weight_date).days
    limit = ctx.policy.number("weight_max_age_days")
    if age_days <= limit:
        return None
    where = ("at the screening" if day_of.weight_from == 0
             else f"at infusion {day_of.weight_from}")
    return {"detail": f"weight {day_of.weight} measured {where} on "
                      f"{day_of.weight_date.isoformat()} is {age_days} days old (limit {limit})"}


def _dose_limit(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    outcome = facts.dose_outcome
    if outcome is None:
        return None
    found = [f.basis for f in outcome.findings if f.concept == concept]
    return {"detail": "; ".join(found)} if found else None


# A missing protocol (indication "other" with no dose ordered) is not here: nothing unsafe was
# ordered, the dose panel and checklist say "No dose: no protocol", and an imported record
# (indication "other" until the physician sets it) must read insufficient-data, not do-not-infuse.
_REFUSALS_WITHOUT_OWN_FINDING = frozenset({
    "invalid-preparation", "pump-resolution", "calculation-mismatch",
})


def _dose_refused(facts: Facts, concept: str, params: Params, ctx: Context) -> Fired:
    """A dose refused for a reason no other rule reports: never "clear" with no dose."""
    outcome = facts.dose_outcome
    if outcome is None or outcome.dose is not None or outcome.refusal is None:
        return None
    if any(f.blocks_dose for f in outcome.findings):
        return None  # KS-DOSE-0001 already says why
    code = outcome.refusal_code
    if code in _REFUSALS_WITHOUT_OWN_FINDING or (
            code == "implausible-weight"  # e.g. an implausible ideal weight: the actual is fine
            and _implausible_weight(facts, concept, params, ctx) is None):
        return {"detail": outcome.refusal}
    return None


_ABUSE_INPUTS = _fixed(
    "history.substance-use-disorder-active", "history.dissociative-misuse-history",
    "history.substance-use-disorder-remission", "conditions", "substance_use.dast10",
    "substance_use.audit_c", "patient.sex")

EVALUATORS: dict[str, Evaluator] = {
    "history-concept": Evaluator(
        lambda concept, params: frozenset({f"history.{concept}", "conditions"}),
        frozenset({"counts_inactive"}), frozenset({"evidence"}), _history_concept),
    "medication-class": Evaluator(
        _fixed("medications"), frozenset({"diazepam_equivalent"}), frozenset({"medications"}),
        _medication_class),
    "blood-pressure-above": Evaluator(
        _fixed("measurements.blood_pressure"), frozenset({"systolic", "diastolic", "unless_above"}),
        frozenset({"bp", "systolic_limit", "diastolic_limit"}), _bp_above),
    "vital-sign-limit": Evaluator(
        _vital_reads, frozenset({"vital", "compare", "threshold"}),
        frozenset({"value", "limit"}), _vital_sign_limit),
    "age-below": Evaluator(_fixed("patient.birth_date", "screening_date"),
                           frozenset({"threshold"}),
                           frozenset({"age", "screening_date", "limit"}), _age_below),
    "age-at-least": Evaluator(_fixed("patient.birth_date", "screening_date"),
                              frozenset({"threshold"}),
                              frozenset({"age", "screening_date", "limit"}), _age_at_least),
    "pregnancy": Evaluator(_fixed("patient.pregnant", "conditions",
                                  "infusion.pre.pregnancy_test"), frozenset(),
                           frozenset({"evidence"}), _pregnancy),
    "breastfeeding": Evaluator(_fixed("patient.breastfeeding"), frozenset(),
                               frozenset({"evidence"}), _breastfeeding),
    "abuse-risk-tier": Evaluator(_ABUSE_INPUTS, frozenset({"tier"}), frozenset({"detail"}),
                                 _abuse_risk),
    "missing-weight": Evaluator(_fixed("measurements.weight"), frozenset(),
                                frozenset({"detail"}), _missing_weight),
    "missing-height": Evaluator(_fixed("measurements.height", "protocol.weight_basis"),
                                frozenset({"needed"}), frozenset({"detail"}), _missing_height),
    "implausible-weight": Evaluator(_fixed("measurements.weight", "measurements.height"),
                                    frozenset(), frozenset({"detail"}), _implausible_weight),
    "missing-blood-pressure": Evaluator(_fixed("measurements.blood_pressure"), frozenset(),
                                        frozenset({"detail"}), _missing_bp),
    "missing-pregnancy-status": Evaluator(
        _fixed("patient.sex", "patient.birth_date", "patient.pregnant", "patient.breastfeeding",
               "screening_date", "infusion.pre.pregnancy_test"), frozenset(),
        frozenset({"detail"}), _missing_pregnancy_status),
    "unanswered-history": Evaluator(_fixed("history", "conditions", "patient.pregnant"),
                                    frozenset(), frozenset({"detail"}), _unanswered_history),
    "missing-substance-use-screen": Evaluator(
        _fixed("substance_use.dast10", "substance_use.audit_c"), frozenset(),
        frozenset({"detail"}), _missing_screen),
    "dose-limit": Evaluator(
        _fixed("indication", "patient.sex", "measurements.weight", "measurements.height",
               "protocol.dose", "protocol.duration", "protocol.weight_basis",
               "protocol.concentration", "protocol.vial", "protocol.diluent_volume"),
        frozenset(), frozenset({"detail"}), _dose_limit),
    "dose-refused": Evaluator(
        _fixed("indication", "patient.sex", "measurements.weight", "measurements.height",
               "protocol.dose", "protocol.duration", "protocol.weight_basis",
               "protocol.concentration", "protocol.vial", "protocol.diluent_volume"),
        frozenset(), frozenset({"detail"}), _dose_refused),
    "stale-measurement": Evaluator(
        _fixed("measurements.taken_at", "measurements.weight", "measurements.blood_pressure",
               "screening_date", "infusion.start", "course.infusions"), frozenset(),
        frozenset({"detail"}), _stale),
    **DAY_OF_EVALUATORS,
}
"""Every kind of logic, by the name rules use in ``logic``."""
