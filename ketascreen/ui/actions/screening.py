"""Screening the form: validate the form's case document, screen it, and word the decision.

The decision, the acknowledgeable findings, the signing refusal and the no-dose reason are the
core's; this module only hands them to the widgets as plain data and words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ketascreen.api import parse_case
from ketascreen.errors import CaseValidationError, FieldProblem
from ketascreen.models.case import Case
from ketascreen.reports.checklist import (
    DECISION_LABELS,
    SIGNATURE_MEANING,
    dose_box_from,
)
from ketascreen.rules import RuleSet, default_ruleset

if TYPE_CHECKING:
    from ketascreen.rules.engine import Screening

Decision = Literal["do-not-infuse", "insufficient-data", "needs-review", "clear"]

SIGNATURE_MEANING_TEXT = SIGNATURE_MEANING
"""The meaning every ketascreen signature carries (printed beside it, 21 CFR 11.50)."""


def ruleset() -> RuleSet:
    """The shipped rule set, loaded once per process.

    Raises:
        KnowledgeBaseError: a shipped or clinic-edited data file is invalid.
    """
    return default_ruleset()


@dataclass(frozen=True)
class FormScreening:
    """What one screening of the form produced.

    Attributes:
        document: the case document that was screened (JSON-shaped, as the form built it).
        problems: every field the core refused, with its structured fields; empty when valid.
        screening: the core's screening, or ``None`` when the document is not a valid case.
        acknowledgeable: rule ids of findings the physician may acknowledge under the policy.
        dose_rows: the dose box exactly as the checklist prints it (label, text); empty when
            there is no dose.
        working: every step of the dose calculation, as printed.
        no_dose_reason: why there is no dose, for a clinician; ``None`` when there is one.
    """

    document: dict[str, Any]
    problems: tuple[FieldProblem, ...]
    screening: Screening | None
    acknowledgeable: frozenset[str]
    dose_rows: tuple[tuple[str, str], ...]
    working: tuple[str, ...]
    no_dose_reason: str | None

    @property
    def valid(self) -> bool:
        """Whether the document is a valid case (and was screened)."""
        return self.screening is not None

    @property
    def decision(self) -> Decision | None:
        """The decision, or ``None`` when the form could not be screened."""
        return None if self.screening is None else self.screening.result.decision


def screen_document(*, document: Mapping[str, Any]) -> FormScreening:
    """Validate the form's case document and, when it is a valid case, screen it.

    An invalid document is never screened: the result carries the problems and no dose.
    A DO NOT INFUSE decision carries no dose either, as on the printed checklist.
    """
    doc = dict(document)
    try:
        case = parse_case(doc)
    except CaseValidationError as error:
        return FormScreening(doc, tuple(error.problems), None, frozenset(), (), (),
                             "the form is incomplete or has errors (see the marked fields)")
    rules = ruleset()
    screening = rules.run(case)
    box, no_dose = dose_box_from(screening.dose)
    if screening.result.decision == "do-not-infuse":
        box, no_dose = None, "No dose: do not infuse."
    return FormScreening(
        document=doc, problems=(), screening=screening,
        acknowledgeable=_acknowledgeable(rules, screening),
        dose_rows=() if box is None else box.rows,
        working=() if box is None else box.working,
        no_dose_reason=None if no_dose is None else no_dose.removeprefix("No dose: "))


def _acknowledgeable(rules: RuleSet, screening: Screening) -> frozenset[str]:
    """Rule ids the policy lets the physician acknowledge (the engine's own criterion)."""
    by_id = {rule.id: rule for rule in rules.catalogue.rules}
    policy = rules.policy
    allowed: set[str] = set()
    for finding in screening.result.findings:
        rule = by_id[finding.rule_id]
        blocking = rule.kind == "data" and rule.severity_key in policy.blocking_data
        if not blocking and (finding.severity == "relative" or (
                finding.severity == "absolute"
                and finding.concept in policy.acknowledgeable_absolute)):
            allowed.add(finding.rule_id)
    return frozenset(allowed)


def decision_label(*, decision: Decision) -> tuple[str, str]:
    """The decision's printed label and its one-line explanation (as on the checklist)."""
    return DECISION_LABELS[decision]


def signing_refusal(*, outcome: FormScreening | None) -> str | None:
    """Why the checklist of ``outcome`` may not be signed now, or ``None`` when it may.

    Only a CLEAR screening is signed: its one signature meaning is "Screened and approved for
    first infusion". Insufficient data and unacknowledged relative findings must be resolved
    first; a DO NOT INFUSE checklist is documented unsigned (printed or exported) instead.
    """
    if outcome is None or not outcome.valid:
        return "The form is incomplete or has errors: correct the marked fields first."
    decision = outcome.decision
    if decision == "insufficient-data":
        return ("Insufficient data: complete the missing items listed under the findings, "
                "then sign.")
    if decision == "needs-review":
        return ("Each relative finding must be acknowledged with a reason before signing.")
    if decision == "do-not-infuse":
        return ("DO NOT INFUSE: an absolute contraindication was found. The signature means "
                f"\"{SIGNATURE_MEANING}\", so this checklist cannot be signed. Print it or "
                "export it unsigned to document the decision.")
    return None


def signing_status(*, outcome: FormScreening | None) -> str:
    """One line for the decision banner: ready to sign, or what stands in the way."""
    if outcome is None or outcome.screening is None:
        return "Not ready to sign: the form is incomplete or has errors."
    decision = outcome.decision
    if decision == "clear":
        return "Ready to sign: File > Sign checklist (Ctrl+G)."
    if decision == "needs-review":
        waiting = sum(1 for f in outcome.screening.result.findings
                      if f.rule_id in outcome.acknowledgeable and not f.acknowledged)
        return (f"Not ready to sign: {waiting} finding(s) still need an acknowledgement "
                "with a reason.")
    if decision == "insufficient-data":
        return "Not ready to sign: complete the missing or doubtful data first."
    return ("Cannot be signed (a signature means approval for infusion): print or export "
            "the unsigned checklist to document the decision.")


def screening_of(outcome: FormScreening) -> Screening:
    """The core's screening of a screened form.

    Raises:
        ValueError: the form is not a valid case and was not screened.
    """
    if outcome.screening is None:
        raise ValueError("the form is not a valid case and was not screened")
    return outcome.screening


def case_of(outcome: FormScreening) -> Case | None:
    """The validated case of a screened form, or ``None``."""
    return None if outcome.screening is None else outcome.screening.case
