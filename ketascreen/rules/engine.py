"""Running the rule set over a case: findings, abuse risk and the decision."""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ketascreen.dosing import DoseOutcome, calculate_dose
from ketascreen.knowledge.conditions import ConditionKnowledge
from ketascreen.knowledge.drugs import DrugKnowledge
from ketascreen.knowledge.formulary import Formulary, load_formulary
from ketascreen.knowledge.policy import Policy, load_policy
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
from ketascreen.rules.evaluators import EVALUATORS, Context, abuse_assessment
from ketascreen.rules.facts import Facts, build_facts

_KIND_ORDER = {"contraindication": 0, "dose": 1, "interaction": 2, "abuse-risk": 3, "data": 4}


@dataclass(frozen=True)
class Screening:
    """A screening with what the reports need besides the result JSON."""

    case: Case
    result: Result
    facts: Facts
    dose: DoseOutcome
    versions: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FiredRule:
    """A rule that fired, before it is turned into a :class:`Finding`."""

    rule: Rule
    finding: Finding
    blocking: bool


class RuleSet:
    """Rules, clinic policy and knowledge base, loaded and validated together.

    Args:
        policy_path: a clinic policy file replacing the shipped defaults.
        rules_path, drugs_path, conditions_path, formulary_path: replacements for the shipped
            data (a clinic's own formulary, or tests).
    """

    def __init__(self, *, policy_path: Path | None = None, rules_path: Path | None = None,
                 drugs_path: Path | None = None, conditions_path: Path | None = None,
                 formulary_path: Path | None = None) -> None:
        self.policy: Policy = load_policy(policy_path)
        self.catalogue: RuleCatalogue = load_rules(self.policy, rules_path)
        self.drugs = DrugKnowledge(drugs_path)
        self.conditions = ConditionKnowledge(conditions_path)
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

    def facts(self, case: Case) -> Facts:
        """The facts the rules read, derived from ``case``, with the dose calculated."""
        facts = build_facts(case, self.drugs, self.conditions, self.policy)
        facts.dose_outcome = calculate_dose(
            case, self.formulary,
            plausible_weight=(self.policy.quantity("plausible_weight_min"),
                              self.policy.quantity("plausible_weight_max")),
            plausible_bmi=(float(self.policy.number("plausible_bmi_min_kg_m2")),
                           float(self.policy.number("plausible_bmi_max_kg_m2"))))
        return facts

    def evaluate(self, case: Case) -> tuple[Facts, list[FiredRule]]:
        """Run every rule over ``case``; the fired rules in catalogue order."""
        facts = self.facts(case)
        acknowledged = {a.concept for a in case.acknowledgements}
        fired: list[FiredRule] = []
        for rule in self.catalogue.rules:
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
            ), blocking))
        return facts, fired

    def run(self, case: Case) -> Screening:
        """Screen ``case`` and keep everything the reports need besides the result."""
        facts, fired = self.evaluate(case)
        findings = sorted((f.finding for f in fired),
                          key=lambda f: (SEVERITY_ORDER[f.severity], _KIND_ORDER[f.kind],
                                         f.rule_id))
        assessment = abuse_assessment(facts, self.policy)
        outcome = facts.dose_outcome
        assert outcome is not None
        result = Result(
            decision=decide(fired),
            findings=findings,
            abuse_risk=AbuseRisk(tier=assessment.tier, dast10=assessment.dast10,
                                 audit_c=assessment.audit_c,
                                 audit_c_positive=assessment.audit_c_positive),
            dose=outcome.dose,
            ruleset=self.info,
        )
        return Screening(case=case, result=result, facts=facts, dose=outcome,
                         versions=self.versions)

    def screen(self, case: Case) -> Result:
        """Screen ``case``: every finding, the abuse-risk tier, the dose and the decision."""
        return self.run(case).result


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


POLICY_ENV = "KETASCREEN_POLICY"
FORMULARY_ENV = "KETASCREEN_FORMULARY"


@functools.cache
def default_ruleset() -> RuleSet:
    """The rule set in force, loaded once per process: the shipped rules with the clinic's policy
    and formulary files where ``$KETASCREEN_POLICY`` / ``$KETASCREEN_FORMULARY`` name them, else
    the shipped defaults.

    Raises:
        KnowledgeBaseError: a data file is invalid (the program must not start on it).
    """
    policy = os.environ.get(POLICY_ENV)
    formulary = os.environ.get(FORMULARY_ENV)
    return RuleSet(policy_path=Path(policy) if policy else None,
                   formulary_path=Path(formulary) if formulary else None)
