"""DAST-10 and AUDIT-C scoring, and the abuse-risk tiers."""

from __future__ import annotations

import pytest

from ketascreen.models.case import SubstanceUse
from ketascreen.rules.scores import assess_abuse_risk, audit_c_total, dast10_total

NO = ["no"] * 10


def test_dast10_item_3_is_reverse_scored() -> None:
    """'Always able to stop' answered yes scores 0; answered no scores 1."""
    able_to_stop = NO.copy()
    able_to_stop[2] = "yes"
    assert dast10_total(able_to_stop) == 0
    assert dast10_total(NO) == 1
    assert dast10_total(["yes"] * 10) == 9
    assert dast10_total(7) == 7
    assert dast10_total(None) is None


def test_audit_c_total() -> None:
    """Item scores add up; a total is taken as given."""
    assert audit_c_total([1, 2, 1]) == 4
    assert audit_c_total(5) == 5


def _tier(sex: str = "female", *, dast: int | None = 0, audit: int | None = 0,
          active: tuple[str, ...] = (), misuse: tuple[str, ...] = (),
          remission: tuple[str, ...] = ()) -> str:
    return assess_abuse_risk(
        SubstanceUse(dast10=dast, audit_c=audit), sex=sex, sud_active=active,
        dissociative_misuse=misuse, sud_remission=remission, dast10_moderate_at=3,
        dast10_high_at=6, audit_c_positive_male=4, audit_c_positive_female=3).tier


@pytest.mark.parametrize(("dast", "tier"), [(0, "low"), (2, "low"), (3, "moderate"),
                                            (5, "moderate"), (6, "high"), (10, "high")])
def test_dast10_bands(dast: int, tier: str) -> None:
    """DAST-10 bands: 3-5 moderate, 6 and above high."""
    assert _tier(dast=dast) == tier


@pytest.mark.parametrize(("sex", "audit", "tier"), [
    ("female", 2, "low"), ("female", 3, "moderate"), ("male", 3, "low"), ("male", 4, "moderate"),
    ("unknown", 3, "moderate"),
])
def test_audit_c_cutoffs_by_sex(sex: str, audit: int, tier: str) -> None:
    """AUDIT-C positive from 4 in men, 3 in women; unknown sex takes the stricter 3."""
    assert _tier(sex, audit=audit) == tier


def test_history_drives_tier_and_missing_screens_give_unknown() -> None:
    """Active SUD or misuse is high; remission is moderate; no screens and no history: unknown."""
    assert _tier(active=("questionnaire: yes",)) == "high"
    assert _tier(misuse=("questionnaire: yes",), dast=None, audit=None) == "high"
    assert _tier(remission=("questionnaire: yes",)) == "moderate"
    assert _tier(dast=None) == "unknown"
    assert _tier(audit=None) == "unknown"
    assert _tier(dast=None, audit=4) == "moderate"
