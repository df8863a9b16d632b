"""Screening the form: validate the form's case document, screen it, and word the decision.

The decision, the acknowledgeable findings, the signing refusal and the no-dose reason are the
core's; this module only hands them to the widgets as plain data and words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ketascreen.errors import (
    CaseValidationError,
    FieldProblem,
    KnowledgeBaseError,
    StorageError,
)
from ketascreen.models.case import Case
from ketascreen.models.checklist import DECISION_LABELS, SIGNATURE_MEANING
from ketascreen.models.parsing import parse_case
from ketascreen.screening import (
    INVALID_CASE,
    Screening,
    SigningRefusal,
    rule_set_in_force,
    run,
)

if TYPE_CHECKING:
    from ketascreen.rules import RuleSet

Decision = Literal["do-not-infuse", "insufficient-data", "needs-review", "clear"]

SIGNATURE_MEANING_TEXT = SIGNATURE_MEANING
"""The meaning every ketascreen signature carries (printed beside it, 21 CFR 11.50)."""


def ruleset() -> RuleSet:
    """The rule set in force without a records database (the clinic files the environment
    names, else the shipped ones), loaded once per content.

    Raises:
        KnowledgeBaseError: a shipped or clinic-edited data file is invalid.
    """
    return rule_set_in_force()


@dataclass(frozen=True)
class FormScreening:
    """What one screening of the form produced.

    Attributes:
        document: the case document that was screened (JSON-shaped, as the form built it).
        problems: every field the core refused, with its structured fields; empty when valid.
        screening: the core's screening, or ``None`` when the document is not a valid case.
        acknowledgeable: rule ids of findings the physician may acknowledge under the policy
            (the screening's).
        dose_rows: the dose box exactly as the checklist prints it (label, text); empty when
            there is no dose.
        working: every step of the dose calculation, as printed.
        no_dose_reason: why there is no dose, for a clinician (the screening's); ``None`` when
            there is one.
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

    @property
    def refusal(self) -> SigningRefusal | None:
        """Why its checklist may not be signed (the screening's; the invalid-case refusal when
        it was not screened), or ``None`` when it may."""
        return INVALID_CASE if self.screening is None else self.screening.signing_refusal


def screen_document(*, document: Mapping[str, Any],
                    rules: RuleSet | None = None) -> FormScreening:
    """Validate the form's case document and, when it is a valid case, screen it.

    An invalid document is never screened: the result carries the problems and no dose.
    What may be acknowledged, why it may not be signed and why there is no dose (none for a
    DO NOT INFUSE decision, as on the printed checklist) are the screening's.

    Args:
        rules: the rule set in force (with the records database's clinic files); ``None``:
            the one in force without a records database.
    """
    doc = dict(document)
    try:
        case = parse_case(doc)
    except CaseValidationError as error:
        return FormScreening(doc, tuple(error.problems), None, frozenset(), (), (),
                             "the form is incomplete or has errors (see the marked fields)")
    screening = run(case, rules=rules or ruleset())
    box = screening.dose_box
    return FormScreening(
        document=doc, problems=(), screening=screening,
        acknowledgeable=screening.acknowledgeable,
        dose_rows=() if box is None else box.rows,
        working=() if box is None else box.working,
        no_dose_reason=screening.no_dose_reason)


def rules_unavailable(*, document: Mapping[str, Any],
                      error: KnowledgeBaseError | StorageError) -> FormScreening:
    """The outcome of a form that cannot be screened because the rule set in force cannot be
    loaded (an installed clinic file that no longer loads, a clinic file given both in the
    records database and by the environment, an unreadable records database): no decision and
    no dose, never a screening under another policy than the clinic's."""
    if isinstance(error, StorageError):
        problem = FieldProblem("(rules)", f"the records database {error.database} cannot be "
                               f"read ({error.reason}), so the clinic policy in force is unknown")
    else:
        problem = FieldProblem("(rules)", f"{error.file} ({error.entry}): {error.problem}")
    return FormScreening(dict(document), (problem,), None, frozenset(), (), (),
                         "the rule set in force cannot be loaded (see the message)")


def decision_label(*, decision: Decision) -> tuple[str, str]:
    """The decision's printed label and its one-line explanation (as on the checklist)."""
    return DECISION_LABELS[decision]


def signing_refusal(*, outcome: FormScreening | None) -> str | None:
    """Why the checklist of ``outcome`` may not be signed now (the screening's sentence), or
    ``None`` when it may."""
    refusal = INVALID_CASE if outcome is None else outcome.refusal
    return None if refusal is None else refusal.message


def signing_status(*, outcome: FormScreening | None) -> str:
    """One line for the decision banner: ready to sign, or what stands in the way (the
    screening's words)."""
    refusal = INVALID_CASE if outcome is None else outcome.refusal
    return "Ready to sign: File > Sign checklist (Ctrl+G)." if refusal is None else refusal.status


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
