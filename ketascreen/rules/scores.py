"""Scoring of the substance-use screens and the abuse-risk tier (a local-policy mapping)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ketascreen.models.case import SubstanceUse
from ketascreen.models.result import AbuseTier

DAST10_REVERSE_SCORED_ITEM = 3  # "Are you always able to stop using drugs when you want to?"


def dast10_total(answers: Sequence[str] | int | None) -> int | None:
    """DAST-10 total 0-10: one point per "yes", except item 3, which scores one for "no".

    A total given as a number is taken as already scored.
    """
    if answers is None or isinstance(answers, int):
        return answers
    total = 0
    for number, answer in enumerate(answers, start=1):
        if number == DAST10_REVERSE_SCORED_ITEM:
            total += answer == "no"
        else:
            total += answer == "yes"
    return total


def audit_c_total(items: list[int] | int | None) -> int | None:
    """AUDIT-C total 0-12 (three items scored 0-4), or the total as given."""
    if items is None or isinstance(items, int):
        return items
    return sum(items)


@dataclass(frozen=True, eq=False, repr=False)
class AbuseAssessment:
    """The abuse-risk tier with every reason that put the patient in it."""

    tier: AbuseTier
    dast10: int | None
    audit_c: int | None
    audit_c_positive: bool | None
    audit_c_cutoff: int | None
    high_reasons: tuple[str, ...]
    moderate_reasons: tuple[str, ...]


def assess_abuse_risk(
    substance_use: SubstanceUse,
    *,
    sex: str,
    sud_active: tuple[str, ...],
    dissociative_misuse: tuple[str, ...],
    sud_remission: tuple[str, ...],
    dast10_moderate_at: int,
    dast10_high_at: int,
    audit_c_positive_male: int,
    audit_c_positive_female: int,
) -> AbuseAssessment:
    """Tier the abuse risk per concepts.md.

    High: active SUD, dissociative misuse history, or DAST-10 at or above ``dast10_high_at``.
    Moderate: DAST-10 from ``dast10_moderate_at``, a positive AUDIT-C (sex-specific cut-off; the
    stricter female cut-off when sex is unknown), or SUD in remission. Low: both screens done and
    none of these. Unknown: no high or moderate reason and a screen missing.

    Args:
        sud_active, dissociative_misuse, sud_remission: the evidence for each (empty if none).
    """
    dast = dast10_total(substance_use.dast10)
    audit = audit_c_total(substance_use.audit_c)
    cutoff = audit_c_positive_male if sex == "male" else audit_c_positive_female
    positive = None if audit is None else audit >= cutoff
    high: list[str] = [f"active substance use disorder ({e})" for e in sud_active]
    high += [f"dissociative misuse history ({e})" for e in dissociative_misuse]
    moderate: list[str] = []
    if dast is not None and dast >= dast10_high_at:
        high.append(f"DAST-10 {dast} (high from {dast10_high_at})")
    elif dast is not None and dast >= dast10_moderate_at:
        moderate.append(f"DAST-10 {dast} (moderate {dast10_moderate_at}-{dast10_high_at - 1})")
    if positive:
        who = {"male": "men", "female": "women"}.get(sex, "sex unknown, women's cut-off used")
        moderate.append(f"AUDIT-C {audit} positive (from {cutoff} in {who})")
    moderate += [f"substance use disorder in remission ({e})" for e in sud_remission]
    tier: AbuseTier
    if high:
        tier = "high"
    elif moderate:
        tier = "moderate"
    elif dast is None or audit is None:
        tier = "unknown"
    else:
        tier = "low"
    return AbuseAssessment(tier, dast, audit, positive, None if audit is None else cutoff,
                           tuple(high), tuple(moderate))
