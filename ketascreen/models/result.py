"""The screening result, ``ketascreen-result/1`` (``spec/result-format.md``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

RESULT_FORMAT = "ketascreen-result/1"

Decision = Literal["do-not-infuse", "insufficient-data", "needs-review", "clear"]
Severity = Literal["absolute", "relative", "info"]
FindingKind = Literal["contraindication", "interaction", "abuse-risk", "data", "dose"]
AbuseTier = Literal["low", "moderate", "high", "unknown"]

SEVERITY_ORDER: dict[str, int] = {"absolute": 0, "relative": 1, "info": 2}


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Finding(_Out):
    """One rule that fired, with what made it fire, what to do, and where the rule comes from."""

    rule_id: str
    concept: str
    kind: FindingKind
    severity: Severity
    title: str
    basis: str
    action: str
    source: str
    acknowledged: bool = False


class AbuseRisk(_Out):
    """The abuse-risk tier and the screening scores it was derived from."""

    tier: AbuseTier
    dast10: int | None
    audit_c: int | None
    audit_c_positive: bool | None


class DoseDisplay(_Out):
    """ISMP-safe strings, exactly as printed."""

    dose: str
    rate: str


class Dose(_Out):
    """The calculated dose and pump programming (numbers in the units their keys name)."""

    dosing_weight_kg: float
    weight_basis: Literal["actual", "ideal", "adjusted"]
    dose_mg_per_kg: float
    dose_mg: float
    duration_min: float
    rate_mg_per_h: float
    concentration_mg_per_ml: float
    volume_ml: float
    rate_ml_per_h: float
    display: DoseDisplay


class RulesetInfo(_Out):
    """Which rule set (and clinic policy) produced the result."""

    version: str
    sha256: str


class Result(_Out):
    """The whole screening result."""

    format: Literal["ketascreen-result/1"] = "ketascreen-result/1"
    decision: Decision
    findings: list[Finding]
    abuse_risk: AbuseRisk
    dose: Dose | None
    ruleset: RulesetInfo
