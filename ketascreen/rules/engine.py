"""Running the rule set over a case's facts: findings, abuse risk and the decision.

The rules read facts that already carry the dose outcome: the dose is calculated by the
screening (:func:`ketascreen.screening.run`), never here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ketascreen.dosing import DoseOutcome
from ketascreen.knowledge.conditions import ConditionKnowledge
from ketascreen.knowledge.datafiles import DataSource
from ketascreen.knowledge.drugs import DrugKnowledge
from ketascreen.knowledge.formulary import Formulary, load_formulary
from ketascreen.knowledge.policy import Policy, load_policy
from ketascreen.knowledge.shipped import shipped_conditions, shipped_drugs
from ketascreen.models.case import Case
from ketascreen.models.result import (
    SEVERITY_ORDER,
    AbuseRisk,
    Decision,
    Finding,
    Result,
    RulesetInfo,
)
from ketascreen.rules.catalogue import Rule, RuleCatalogue, load_rules
from ketascreen.rules.evaluators import EVALUATORS, abuse_assessment
from ketascreen.rules.facts import Facts, build_facts
from ketascreen.rules.logic import Context

_KIND_ORDER = {"contraindication": 0, "dose": 1, "interaction": 2, "abuse-risk": 3, "data": 4}


@dataclass(frozen=True, eq=False, repr=False)
class FiredRule:
    """A rule that fired, before it is turned into a :class:`Finding`."""

    rule: Rule
    finding: Finding
    blocking: bool
    acknowledgeable: bool
    """Whether the policy lets the physician acknowledge it (the one place this is decided)."""


@dataclass(frozen=True, eq=False, repr=False)
class Evaluation:
    """What the rules made of a case's facts.

    Attributes:
        result: the result of ``ketascreen-result/1`` (findings, abuse risk, dose, decision).
        fired: the rules that fired, in catalogue order.
    """

    result: Result
    fired: tuple[FiredRule, ...]

    @property
    def acknowledgeable(self) -> frozenset[str]:
        """Rule ids of the findings the policy lets the physician acknowledge."""
        return frozenset(f.rule.id for f in self.fired if f.acknowledgeable)


class RuleSet:
    """Rules, clinic policy and knowledge base, loaded and validated together.

    Args:
        policy_path: a clinic policy file (its path, or its bytes as the records database keeps
            it) replacing the shipped defaults.
        formulary_path: a clinic formulary file (path or bytes) replacing the shipped one.
        rules_path, drugs_path, conditions_path: replacements for the shipped data (tests).
    """

    def __init__(self, *, policy_path: DataSource = None, rules_path: Path | None = None,
                 drugs_path: Path | None = None, conditions_path: Path | None = None,
                 formulary_path: DataSource = None) -> None:
        self.policy: Policy = load_policy(policy_path)
        self.catalogue: RuleCatalogue = load_rules(self.policy, rules_path)
        self.drugs = DrugKnowledge(drugs_path) if drugs_path else shipped_drugs()
        self.conditions = (ConditionKnowledge(conditions_path) if conditions_path
                           else shipped_conditions())
        self.formulary: Formulary = load_formulary(formulary_path)
        self._context = Context(self.policy, self.drugs)
        digest = hashlib.sha256()
        for part in (self.catalogue.sha256, self.catalogue.sources_sha256, self.policy.sha256,
                     self.drugs.sha256, self.conditions.sha256, self.formulary.formulary_sha256):
            digest.update(bytes.fromhex(part))
        self.info = RulesetInfo(version=self.catalogue.version, sha256=digest.hexdigest())
        self.versions: tuple[tuple[str, str], ...] = (
            ("Clinic policy", f"{self.policy.version} sha256 {self.policy.sha256}"),
            ("Formulary", f"{self.formulary.formulary_version} sha256 "
                          f"{self.formulary.formulary_sha256}"),
            ("Drug list", f"{self.drugs.version} sha256 {self.drugs.sha256}"),
            ("Condition list", f"{self.conditions.version} sha256 {self.conditions.sha256}"),
        )
        """Version and sha256 of each data file beside the rules, as printed on the checklist."""

    def facts(self, case: Case, dose: DoseOutcome) -> Facts:
        """The facts the rules read, derived from ``case``, carrying its dose outcome."""
        facts = build_facts(case, self.drugs, self.conditions, self.policy)
        facts.dose_outcome = dose
        return facts

    def fire(self, facts: Facts, *, only: frozenset[str] | None = None) -> list[FiredRule]:
        """Run every rule over ``facts``; the fired rules in catalogue order.

        Args:
            only: run only the rules of these concepts (e.g. to compare a few findings' bases
                with an earlier infusion's); ``None`` runs them all.
        """
        case = facts.case
        acknowledged = {a.concept for a in case.acknowledgements}
        fired: list[FiredRule] = []
        for rule in self.catalogue.rules:
            if only is not None and rule.concept not in only:
                continue
            values = EVALUATORS[rule.logic].evaluate(facts, rule.concept, rule.params,
                                                     self._context)
            if values is None:
                continue
            severity = self.policy.severity[rule.severity_key]
            blocking = rule.kind == "data" and rule.severity_key in self.policy.blocking_data
            can_acknowledge = not blocking and (
                severity == "relative"
                or (severity == "absolute"
                    and rule.concept in self.policy.acknowledgeable_absolute))
            fired.append(FiredRule(rule, Finding(
                rule_id=rule.id, concept=rule.concept, kind=rule.kind, severity=severity,
                title=rule.title, basis=rule.basis.format(**values), action=rule.action,
                source=self.catalogue.citation(rule),
                acknowledged=can_acknowledge and rule.concept in acknowledged,
            ), blocking, can_acknowledge))
        return fired

    def evaluate(self, facts: Facts) -> Evaluation:
        """Every finding, the abuse-risk tier and the decision for ``facts`` (which carry the
        dose outcome, reported in the result as it is)."""
        outcome = facts.dose_outcome
        if outcome is None:
            raise ValueError("the facts carry no dose outcome: calculate the dose first")
        fired = self.fire(facts)
        findings = sorted((f.finding for f in fired),
                          key=lambda f: (SEVERITY_ORDER[f.severity], _KIND_ORDER[f.kind],
                                         f.rule_id))
        assessment = abuse_assessment(facts, self.policy)
        result = Result(
            decision=decide(fired),
            findings=findings,
            abuse_risk=AbuseRisk(tier=assessment.tier, dast10=assessment.dast10,
                                 audit_c=assessment.audit_c,
                                 audit_c_positive=assessment.audit_c_positive),
            dose=outcome.dose,
            ruleset=self.info,
        )
        return Evaluation(result, tuple(fired))


def decide(fired: list[FiredRule]) -> Decision:
    """The decision of result-format.md from the fired rules.

    Any unacknowledged absolute finding -> do-not-infuse; else any blocking data finding ->
    insufficient-data; else any unacknowledged relative finding -> needs-review; else clear.
    Info findings never change the decision.
    """
    findings = [f.finding for f in fired]
    if any(f.severity == "absolute" and not f.acknowledged for f in findings):
        return "do-not-infuse"
    if any(f.blocking for f in fired):
        return "insufficient-data"
    if any(f.severity == "relative" and not f.acknowledged for f in findings):
        return "needs-review"
    return "clear"
