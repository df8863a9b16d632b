"""The screening result, ``ketascreen-result/1`` (``spec/result-format.md``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

RESULT_FORMAT = "ketascreen-result/1"

Decision = Literal["do-not-infuse", "insufficient-data", "needs-review", "clear"]
Severity = Literal["absolute", "relative", "info"]
FindingKind = Literal["contraindication", "interaction", "abuse-risk", "data", "dose"]
AbuseTier = Literal["low", "moderate", "high", "unknown"]
CourseStatusName = Literal["too-early", "improving", "no-improvement", "response", "remission",
                           "unknown"]

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


class CoursePhq9(_Out):
    """``course.phq9``: the PHQ-9 baseline, the latest total and the change in percent."""

    baseline: int | None
    latest: int | None
    change_percent: float | None


class CourseSummary(_Out):
    """The result's ``course`` key (``course-format.md``, "Result"): the course figures of the
    infusion screened, exactly as ``CourseFigures.summary`` gives them."""

    infusion: int
    planned: int | None
    days_since_previous: int | None
    infusions_last_7_days: int
    infusions_last_30_days: int
    cumulative_mg: float
    phq9: CoursePhq9
    status: CourseStatusName


class Result(_Out):
    """The whole screening result.

    ``course`` is set only for an infusion of a course (``ketascreen screen COURSE.json``); a
    case screening's result has no ``course`` key at all, not ``"course": null``.
    """

    format: Literal["ketascreen-result/1"] = "ketascreen-result/1"
    decision: Decision
    findings: list[Finding]
    abuse_risk: AbuseRisk
    dose: Dose | None
    ruleset: RulesetInfo
    course: CourseSummary | None = None

    @model_serializer(mode="wrap")
    def _without_absent_course(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and data.get("course", 0) is None:
            del data["course"]
        return data
