"""A screening reduced to what is stored: canonical JSON, record id, hashes and versions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from ketascreen.errors import RecordError
from ketascreen.records.views import Versions

if TYPE_CHECKING:
    from ketascreen.rules.engine import RuleSet
    from ketascreen.screening import Screening


@dataclass(frozen=True)
class StoredContent:
    """A screening reduced to what is stored.

    Attributes:
        record_id: ``KS-`` and 12 hex digits, as the checklist prints it.
        case_json: canonical case JSON, byte for byte as embedded in the checklist.
        result_json: canonical result JSON, byte for byte as embedded in the checklist.
        content_sha256: see :func:`content_sha256`.
        decision: the result's decision.
        screening_date: the case's screening date.
        patient_id: the case's patient id.
        patient_name: the case's patient name.
        birth_date: the case's date of birth.
        acknowledged: whether the case acknowledges findings.
        versions: of the rule set, policy and formulary that produced the result.
    """

    record_id: str
    case_json: str
    result_json: str
    content_sha256: str
    decision: str
    screening_date: date
    patient_id: str
    patient_name: str
    birth_date: date
    acknowledged: bool
    versions: Versions


def content_sha256(case_json: str, result_json: str) -> str:
    """sha256 over the stored case JSON, a newline and the result JSON."""
    return hashlib.sha256(case_json.encode("utf-8") + b"\n" + result_json.encode("utf-8")
                          ).hexdigest()


def content_of(screening: Screening, ruleset: RuleSet | None = None) -> StoredContent:
    """What is stored for ``screening``.

    Args:
        screening: from ``ruleset.run(case)``.
        ruleset: the rule set it must have been produced by (the store passes the one in
            force for its database); default: the one that screened it.

    Raises:
        RecordError: the screening was produced by another rule set.
    """
    from ketascreen.models.checklist import canonical_json, record_id_for  # noqa: PLC0415

    ruleset = ruleset or screening.rules
    if screening.result.ruleset != ruleset.info:
        raise RecordError(None, "the screening was not produced by the given rule set "
                          f"({screening.result.ruleset.version} sha256 "
                          f"{screening.result.ruleset.sha256[:12]}...)")
    case_bytes = canonical_json(screening.case.model_dump(mode="json", exclude_none=True))
    result_bytes = canonical_json(screening.result.model_dump(mode="json"))
    case_json, result_json = case_bytes.decode("utf-8"), result_bytes.decode("utf-8")
    patient = screening.case.patient
    return StoredContent(
        record_id=record_id_for(case_bytes, result_bytes), case_json=case_json,
        result_json=result_json, content_sha256=content_sha256(case_json, result_json),
        decision=screening.result.decision, screening_date=screening.case.screening_date,
        patient_id=patient.id, patient_name=patient.name, birth_date=patient.birth_date,
        acknowledged=bool(screening.case.acknowledgements),
        versions=Versions(
            ruleset_version=ruleset.info.version, ruleset_sha256=ruleset.info.sha256,
            policy_version=ruleset.policy.version, policy_sha256=ruleset.policy.sha256,
            formulary_version=ruleset.formulary.formulary_version,
            formulary_sha256=ruleset.formulary.formulary_sha256))


def record_id_of(screening: Screening, ruleset: RuleSet | None = None) -> str:
    """The record id a screening is stored under (the id its checklist prints)."""
    return content_of(screening, ruleset).record_id
