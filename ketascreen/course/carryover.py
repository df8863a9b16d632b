"""Since the last signed checklist: which acknowledgements carry over and what changed.

``course-format.md``: "An acknowledgement from the screening carries over to an infusion while its
finding's basis is unchanged; a new or changed finding needs the infusion's own acknowledgement."
The basis compared is the finding's basis text at the last signed checklist (the screening's, or
an earlier infusion's) against today's, rule by rule: an acknowledged ``hypertension-elevated`` at
``142/88 mmHg`` does not cover ``165/95 mmHg`` today.

The acknowledgements in force at an earlier infusion are its own plus those carried into it from
the infusion before it (each earlier infusion's checklist is taken as signed, the screening's
too). Findings are computed only where an acknowledgement or a change item needs them, and each
infusion's context once (:class:`CourseRun`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ketascreen.concepts import MEDICATION_CLASSES
from ketascreen.course.context import (
    SCREENING,
    DoseFor,
    InfusionContext,
    infusion_case,
    infusion_context,
    latest_weight,
)
from ketascreen.course.outcome import CHANGE_ITEMS, Change, ChangeState
from ketascreen.display import format_number
from ketascreen.knowledge.policy import Policy
from ketascreen.models.case import COUNTING_MEDICATION_STATUSES, Acknowledgement, Case
from ketascreen.models.course import Course, DayOfCheck
from ketascreen.models.doses import MG, quantity_of
from ketascreen.models.result import Finding
from ketascreen.rules.facts import DayOf
from ketascreen.units import Quantity

Fire = Callable[[Case, DayOf | None, frozenset[str]], Sequence[Finding]]
"""Fires the rules of the given concepts over a case and its day-of facts (``None`` for the
first screening) and returns their findings."""

ITEM_CONCEPTS: Mapping[str, tuple[str, ...]] = {
    "medications": (*MEDICATION_CLASSES, "medication-change"),
    "weight": ("weight-change", "implausible-weight", "missing-weight"),
    "vital signs": ("hypertension-severe", "hypertension-elevated", "hypotension", "bradycardia",
                    "tachycardia", "hypoxaemia", "missing-blood-pressure", "missing-vital-signs",
                    "prior-severe-hypertension"),
    "fasting": ("fasting-not-met", "missing-fasting-times"),
    "escort": ("no-escort", "missing-escort"),
    "pregnancy test": ("pregnancy", "missing-pregnancy-test"),
    "PHQ-9 item 9": ("suicidal-ideation",),
    "urinary symptoms": ("urinary-symptoms",),
}
"""The concepts whose findings belong to each item of :data:`CHANGE_ITEMS`: an item is a
``new finding`` when one of them fires today and did not at the last signed checklist."""

ITEM_CONCEPT_SET = frozenset(c for concepts in ITEM_CONCEPTS.values() for c in concepts)
"""Every concept of :data:`ITEM_CONCEPTS`."""
NOT_RECORDED = "not recorded at the screening"


def _bases(findings: Iterable[Finding], concepts: Iterable[str]) -> dict[str, tuple[str, ...]]:
    wanted = set(concepts)
    found: dict[str, list[str]] = {}
    for finding in findings:
        if finding.concept in wanted:
            found.setdefault(finding.concept, []).append(f"{finding.rule_id}: {finding.basis}")
    return {concept: tuple(sorted(bases)) for concept, bases in found.items()}


@dataclass
class CourseRun:
    """One course screened under one rule set: each infusion's context and findings computed
    at most once.

    Attributes:
        course: the course.
        policy: the clinic policy in force.
        dose: the dose calculation under the rule set in force.
        fire: fires rules over a case and its day-of facts (see :data:`Fire`).
        planned: the infusions planned, or ``None`` (the course file's plan then applies).
    """

    course: Course
    policy: Policy
    dose: DoseFor
    fire: Fire
    planned: int | None = None
    _contexts: dict[int, InfusionContext] = field(default_factory=dict, repr=False)
    _given: dict[int, Quantity] = field(default_factory=dict, repr=False)
    _cases: dict[int, Case] = field(default_factory=dict, repr=False)
    _findings: dict[int, tuple[frozenset[str], Sequence[Finding]]] = field(
        default_factory=dict, repr=False)

    def case(self, number: int) -> Case:
        """Infusion ``number``'s case with its own acknowledgements (0: the screening)."""
        if number not in self._cases:
            self._cases[number] = infusion_case(self.course, number)
        return self._cases[number]
    _in_force: dict[int, tuple[Acknowledgement, ...]] = field(default_factory=dict, repr=False)

    def context(self, number: int) -> InfusionContext:
        """Infusion ``number``'s context (:func:`~ketascreen.course.context.infusion_context`)."""
        if number not in self._contexts:
            for index in range(1, number):
                if index not in self._given:
                    outcome = self.dose(self.case(index))
                    self._given[index] = quantity_of(
                        0.0 if outcome.dose is None else outcome.dose.dose_mg, MG)
            self._contexts[number] = infusion_context(
                self.course, number, policy=self.policy, dose=self.dose, planned=self.planned,
                given=[self._given[index] for index in range(1, number)])
        return self._contexts[number]

    def findings(self, number: int, concepts: Iterable[str]) -> Sequence[Finding]:
        """The findings of the rules of ``concepts`` at infusion ``number`` (0: the screening).

        The rules of each infusion fire once per set of concepts: a later request for some of
        the same concepts reads the findings already made."""
        wanted = frozenset(concepts)
        fired, found = self._findings.get(number, (frozenset(), ()))
        if not wanted <= fired:
            fired = fired | wanted
            if number == SCREENING:
                found = self.fire(self.course.screening, None, fired)
            else:
                context = self.context(number)
                found = self.fire(context.case, context.day_of, fired)
            self._findings[number] = (fired, found)
        return [f for f in found if f.concept in wanted]

    def in_force(self, number: int) -> tuple[Acknowledgement, ...]:
        """The acknowledgements in force at infusion ``number`` as signed (0: the screening's
        own); each earlier infusion's reference is the one before it."""
        if number == SCREENING:
            return tuple(self.course.screening.acknowledgements)
        if number not in self._in_force:
            own = tuple(self.course.infusion(number).acknowledgements)
            candidates = self._candidates(number - 1, own)
            carried: tuple[Acknowledgement, ...] = ()
            if candidates:
                today = self.findings(number, {a.concept for a in candidates})
                carried = self._still_valid(number - 1, candidates, today)
            self._in_force[number] = own + carried
        return self._in_force[number]

    def _candidates(self, reference: int, own: Sequence[Acknowledgement]
                    ) -> tuple[Acknowledgement, ...]:
        mine = {a.concept for a in own}
        return tuple(a for a in self.in_force(reference) if a.concept not in mine)

    def _still_valid(self, reference: int, candidates: Sequence[Acknowledgement],
                     today: Sequence[Finding]) -> tuple[Acknowledgement, ...]:
        concepts = {a.concept for a in candidates}
        then = _bases(self.findings(reference, concepts), concepts)
        now = _bases(today, concepts)
        return tuple(a for a in candidates
                     if a.concept in now and now[a.concept] == then.get(a.concept))

    def carried(self, number: int, reference: int, today: Sequence[Finding]
                ) -> tuple[Acknowledgement, ...]:
        """The acknowledgements in force at ``reference`` (the last signed checklist) that
        carry over to infusion ``number``: those whose findings' bases today (``today``: the
        findings of infusion ``number``) equal their bases at ``reference``, and that the
        infusion does not acknowledge itself."""
        candidates = self._candidates(reference, self.course.infusion(number).acknowledgements)
        if not candidates:
            return ()
        return self._still_valid(reference, candidates, today)

    def changes(self, number: int, reference: int, today: Sequence[Finding]) -> tuple[Change, ...]:
        """Each item of :data:`CHANGE_ITEMS` at infusion ``number`` against ``reference`` (the
        last signed checklist): ``unchanged``, ``changed``, or ``new finding``."""
        then_fired = {f.rule_id for f in self.findings(reference, ITEM_CONCEPT_SET)}
        now = _item_values(self.course, number, self.case(number))
        then = _item_values(self.course, reference, self.case(reference))
        changes: list[Change] = []
        for item in CHANGE_ITEMS:
            new = [f for f in today
                   if f.concept in ITEM_CONCEPTS[item] and f.rule_id not in then_fired]
            before, after = then[item], now[item]
            detail = "" if before == after else f"{before} -> {after}"
            state: ChangeState = "unchanged"
            if new:
                state = "new finding"
                titles = "; ".join(dict.fromkeys(f.title for f in new))
                detail = f"{detail}: {titles}" if detail else titles
            elif detail:
                state = "changed"
            changes.append(Change(item, state, detail))
        return tuple(changes)


def _hours(pre: DayOfCheck, name: str, start: datetime) -> str:
    when: datetime | None = getattr(pre, name)
    if when is None:
        return "not given"
    hours = (start - when).total_seconds() / 3600
    return f"{format_number(round(hours, 1), 1)} h"


def _item_values(course: Course, number: int, case: Case) -> dict[str, str]:
    """What each change item reads at ``number`` (0: the screening; ``case``: its case), as
    printed."""
    if number == SCREENING:
        m = case.measurements
        return {
            "medications": _medications(case),
            "weight": m.weight or "not given",
            "vital signs": _vitals(m.blood_pressure, m.heart_rate, m.spo2),
            "fasting": NOT_RECORDED, "escort": NOT_RECORDED, "pregnancy test": NOT_RECORDED,
            "PHQ-9 item 9": NOT_RECORDED, "urinary symptoms": NOT_RECORDED,
        }
    infusion = course.infusion(number)
    pre = infusion.pre
    item9 = pre.phq9_item9()
    return {
        "medications": _medications(case),
        "weight": latest_weight(course, number).value or "not given",
        "vital signs": _vitals(pre.blood_pressure, pre.heart_rate, pre.spo2),
        "fasting": (f"solids {_hours(pre, 'last_solids', infusion.start)}, clear fluids "
                    f"{_hours(pre, 'last_clear_fluids', infusion.start)} before the start"),
        "escort": pre.escort,
        "pregnancy test": pre.pregnancy_test,
        "PHQ-9 item 9": ("not given" if pre.phq9 is None
                         else "total only" if item9 is None else str(item9)),
        "urinary symptoms": pre.urinary_symptoms,
    }


def _medications(case: Case) -> str:
    counted = sorted(dict.fromkeys(m.describe() for m in case.medications
                                   if m.status in COUNTING_MEDICATION_STATUSES))
    return "; ".join(counted) or "none"


def _vitals(bp: str | None, hr: str | None, spo2: str | None) -> str:
    return (f"BP {bp or 'not given'}, HR {hr or 'not given'}, "
            f"SpO2 {spo2 or 'not given'}")
