"""Facts: everything the rules read, derived once from a case.

Building the facts is where the case meets the knowledge base: problem-list entries become
concepts (with the status rules of case-format.md), medications become ingredients and classes,
quantities become numbers in the units the rules compare in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction

from ketascreen.display import format_number, format_quantity
from ketascreen.dosing import DoseOutcome
from ketascreen.knowledge.conditions import ConditionEntry, ConditionKnowledge, ConditionMatch
from ketascreen.knowledge.drugs import DrugKnowledge, MedicationMatch
from ketascreen.knowledge.policy import Policy
from ketascreen.models.case import (
    COUNTING_CONDITION_STATUSES,
    COUNTING_MEDICATION_STATUSES,
    HISTORY_CONDITION_STATUSES,
    Case,
    Medication,
)
from ketascreen.models.course import DayOfCheck, Infusion
from ketascreen.units import BloodPressure, Quantity, magnitude_in


@dataclass(frozen=True, eq=False, repr=False)
class ConditionEvidence:
    """A problem-list entry that supports a concept."""

    text: str
    matched: str
    status: str
    counts_as: str  # "current" or "history"
    note: str = ""

    def describe(self) -> str:
        """E.g. ``problem list: "Stroke" (SNOMED 230690007, resolved)``."""
        extra = f"; {self.note}" if self.note else ""
        return f'problem list: "{self.text}" ({self.matched}, {self.status}{extra})'


@dataclass(frozen=True, eq=False, repr=False)
class UncertainMention:
    """A problem-list entry that names a concept only as a possibility ("possible AAA", "r/o AVM").

    It does not count as the concept: it is a question for the physician (``unanswered-history``
    lists it while the question is open).
    """

    concept: str
    text: str
    matched: str
    cue: str
    status: str
    counts_as: str  # "current" or "history", as for ConditionEvidence

    def describe(self) -> str:
        """E.g. ``aneurysmal-vascular-disease: problem list says "possible AAA" (...)``."""
        return (f'{self.concept}: problem list says "{self.text}" (matched \'{self.matched}\', '
                f"uncertain: '{self.cue}') — answer the question")


@dataclass(frozen=True, eq=False, repr=False)
class MedicationEvidence:
    """A counted medication-list entry and what it was recognised as."""

    medication: Medication
    match: MedicationMatch


@dataclass(frozen=True, eq=False, repr=False)
class DayOf:
    """The day-of facts of one infusion of a course: what the day-of rules read.

    Built by the course context (:mod:`ketascreen.course.context`) from the course file; the
    case the screening rules read for the infusion is built beside it. ``None`` in the facts of
    a first screening, so every day-of rule is silent there.

    Attributes:
        infusion: the infusion's number (1, 2, 3 ...).
        start: the infusion's start (local time).
        pre: the day-of re-check before it.
        earlier: the infusions before it, oldest first (their monitoring and discharge).
        planned: the infusions planned (the course plan, else the formulary's default), or
            ``None`` when no plan is known.
        days_since_previous: calendar days since the previous infusion's start (``None`` at
            infusion 1).
        infusions_last_7_days: infusions in the 7 calendar days up to and including this one.
        weight: the weight the screening rules read (today's if re-weighed, else the latest
            earlier one), as typed; ``None`` when none is known.
        weight_from: where that weight was measured: an infusion's number, 0 for the screening.
        weight_date: the day that weight was measured.
        previous_weight: the weight before it in the course (the latest earlier weight) when
            the patient was re-weighed today, as typed; else ``None``.
        previous_weight_from: where the previous weight was measured (0: the screening).
        medications_added: medication entries counted today and not at the previous infusion
            (described as the case format prints them).
        medications_removed: entries counted at the previous infusion and not today.
        phq9_baseline: infusion 1's PHQ-9 total, or ``None``.
        phq9_latest: the latest PHQ-9 total at or before this infusion, or ``None``.
        phq9_latest_from: the infusion that latest total was given at, or ``None``.
        phq9_change_percent: the exact change from the baseline in percent (negative = fewer
            symptoms), ``None`` without both totals or with a baseline of 0.
        course_status: the course status of ``course-format.md`` (``too-early`` ...).
    """

    infusion: int
    start: datetime
    pre: DayOfCheck
    earlier: tuple[Infusion, ...]
    planned: int | None
    days_since_previous: int | None
    infusions_last_7_days: int
    weight: str | None
    weight_from: int | None
    weight_date: date | None
    previous_weight: str | None
    previous_weight_from: int | None
    medications_added: tuple[str, ...]
    medications_removed: tuple[str, ...]
    phq9_baseline: int | None
    phq9_latest: int | None
    phq9_latest_from: int | None
    phq9_change_percent: Fraction | None
    course_status: str


@dataclass(eq=False, repr=False)
class Facts:
    """The case, reduced to what the rules read."""

    case: Case
    age: int
    weight: Quantity | None
    height: Quantity | None
    bmi: float | None
    blood_pressure: BloodPressure | None
    conditions: dict[str, list[ConditionEvidence]] = field(default_factory=dict)
    uncertain: list[UncertainMention] = field(default_factory=list)
    """Problem-list entries naming a concept only as a possibility: questions, not evidence."""
    medications: dict[str, list[MedicationEvidence]] = field(default_factory=dict)
    recognised: list[tuple[Medication, MedicationMatch | None]] = field(default_factory=list)
    dose_outcome: DoseOutcome | None = None
    day_of: DayOf | None = None
    """The day-of facts of an infusion of a course; ``None`` for a first screening."""

    def condition_evidence(self, concept: str, *, counts_inactive: bool) -> list[ConditionEvidence]:
        """Problem-list evidence for ``concept``; history-only entries only if they count."""
        return [e for e in self.conditions.get(concept, [])
                if e.counts_as == "current" or counts_inactive]


def build_facts(case: Case, drugs: DrugKnowledge, conditions: ConditionKnowledge,
                policy: Policy) -> Facts:
    """Derive the facts of ``case``."""
    measurements = case.measurements
    weight = measurements.weight_quantity()
    height = measurements.height_quantity()
    bmi = None
    if weight is not None and height is not None:
        metres = magnitude_in(height, "meter")
        bmi = magnitude_in(weight, "kilogram") / (metres * metres)
    facts = Facts(case=case, age=case.age_years(), weight=weight, height=height, bmi=bmi,
                  blood_pressure=measurements.blood_pressure_value())
    _add_conditions(facts, conditions, policy)
    _add_medications(facts, drugs)
    return facts


def _add_conditions(facts: Facts, knowledge: ConditionKnowledge, policy: Policy) -> None:
    found: dict[str, list[ConditionEvidence]] = defaultdict(list)
    window = policy.number("recent_mi_window_days")
    screening_date = facts.case.screening_date
    for condition in facts.case.conditions:
        if condition.status == "entered-in-error":
            continue
        current = condition.status in COUNTING_CONDITION_STATUSES
        assert current or condition.status in HISTORY_CONDITION_STATUSES
        for match in knowledge.read(condition):
            entry = match.entry
            concept, note = entry.concept, ""
            if entry.older_concept is not None:
                # The window, not the status, decides: a "resolved" MI of last month is recent.
                if condition.onset is None:
                    note = f"onset unknown, treated as within {window} days"
                elif (screening_date - condition.onset).days > window:
                    concept = entry.older_concept
                    note = f"onset {condition.onset.isoformat()}, over {window} days ago"
                else:
                    note = f"onset {condition.onset.isoformat()}, within {window} days"
            counts_as = "current" if current or entry.older_concept else "history"
            if not current and entry.inactive_concept is not None:
                concept, counts_as = entry.inactive_concept, "current"
            status = match.assertion.status
            if status == "uncertain":
                facts.uncertain.append(UncertainMention(
                    concept=concept, text=condition.describe(), matched=match.matched,
                    cue=match.assertion.cue, status=condition.status, counts_as=counts_as))
            elif status == "affirmed":
                found[concept].append(ConditionEvidence(
                    text=condition.describe(), matched=_matched(entry, match),
                    status=condition.status, counts_as=counts_as, note=note))
            # negated, or another person's condition: not the patient's; nothing to ask
    facts.conditions = dict(found)


def _matched(entry: ConditionEntry, match: ConditionMatch) -> str:
    if match.via == "code":
        return f"{entry.name}, {match.matched}"
    return f"matched '{match.matched}'"


def _add_medications(facts: Facts, knowledge: DrugKnowledge) -> None:
    by_class: dict[str, list[MedicationEvidence]] = defaultdict(list)
    for medication in facts.case.medications:
        if medication.status == "entered-in-error":
            continue
        match = knowledge.recognise(medication)
        facts.recognised.append((medication, match))
        if match is None or medication.status not in COUNTING_MEDICATION_STATUSES:
            continue
        for cls in knowledge.classes_of(match.ingredients):
            by_class[cls].append(MedicationEvidence(medication, match))
    facts.medications = dict(by_class)


def describe_medication(evidence: MedicationEvidence, knowledge: DrugKnowledge, cls: str,
                        policy: Policy, *, diazepam_equivalent: bool) -> str:
    """E.g. ``Xanax 0.5 mg tablet (alprazolam), 1 mg/day = 20 mg/day diazepam-equivalent``."""
    medication, match = evidence.medication, evidence.match
    members = [i for i in match.ingredients if cls in knowledge.ingredients[i].classes]
    text = f"{medication.describe()} ({', '.join(members)}"
    if match.via == "code":
        text += f"; {match.matched}"
    text += ")"
    if medication.status != "active":
        text += f" [{medication.status}]"
    dose = medication.daily_dose_quantity()
    if dose is not None:
        text += f", {format_quantity(dose, 'mg')}/day"
        if diazepam_equivalent:
            text += _diazepam_equivalent(dose, members, knowledge, policy)
    elif diazepam_equivalent:
        text += ", daily dose not given (diazepam-equivalent not calculated)"
    return text


def _diazepam_equivalent(dose: Quantity, members: list[str], knowledge: DrugKnowledge,
                         policy: Policy) -> str:
    if len(members) != 1:
        return ""
    factor = knowledge.ingredients[members[0]].diazepam_equivalent
    if factor is None:
        return f" (no diazepam-equivalence listed for {members[0]})"
    # Compared at the one decimal it is shown with, so the text never contradicts the verdict.
    equivalent_mg = round(magnitude_in(dose, "milligram") * 10.0
                          / magnitude_in(factor, "milligram"), 1)
    limit = policy.quantity("benzodiazepine_daily_limit_diazepam_eq")
    limit_mg = magnitude_in(limit, "milligram")
    comparison = "above" if equivalent_mg > limit_mg else "not above"
    return (f" = {format_number(equivalent_mg, 1)} mg/day diazepam-equivalent "
            f"({comparison} the {format_number(limit_mg, 1)} mg/day linked to non-response)")
