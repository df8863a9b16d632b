"""What the store hands out: plain frozen dataclasses, never live database objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ketascreen.models.case import Case
    from ketascreen.models.result import Result


@dataclass(frozen=True)
class PatientInfo:
    """The patient of a record.

    Attributes:
        patient_id: the clinic's patient id (the case's ``patient.id``).
        name: as in the stored case (:func:`patient_of_case`).
        birth_date: date of birth.
    """

    patient_id: str
    name: str
    birth_date: date


@dataclass(frozen=True)
class Versions:
    """The rule set, clinic policy and formulary a screening was produced with."""

    ruleset_version: str
    ruleset_sha256: str
    policy_version: str
    policy_sha256: str
    formulary_version: str
    formulary_sha256: str


@dataclass(frozen=True)
class RecordSummary:
    """One stored screening as listed.

    Attributes:
        record_id: ``KS-`` and 12 hex digits, as printed on the checklist.
        status: ``draft``, ``signed`` or ``amended`` (a signed amendment).
        decision: ``do-not-infuse``, ``insufficient-data``, ``needs-review`` or ``clear``.
        patient: who.
        screening_date: the case's screening date.
        created_at: when it was stored (UTC).
        created_by: the user who stored it.
        signed_at: when it was signed (UTC), or ``None`` for a draft.
        signed_by: the user who signed it, or ``None``.
        signer_name: the signing certificate's name (what the page prints), or ``None``.
        amends: the record this one amends, or ``None``.
        superseded_by: the amendment that replaces this record, or ``None``.
        signer_certificate_sha256: the signing certificate's sha256 fingerprint, or ``None``
            (a draft, or a record signed before certificates were bound to accounts).
    """

    record_id: str
    status: str
    decision: str
    patient: PatientInfo
    screening_date: date
    created_at: datetime
    created_by: str
    signed_at: datetime | None
    signed_by: str | None
    signer_name: str | None
    amends: str | None
    superseded_by: str | None
    signer_certificate_sha256: str | None

    @property
    def is_signed(self) -> bool:
        """Signed (an original or an amendment)."""
        return self.status != "draft"

    @property
    def is_current(self) -> bool:
        """Not replaced by an amendment."""
        return self.superseded_by is None

    def signature_line(self, zone: tzinfo | None = None) -> str:
        """``Signed by NAME at TIME (RECORD)`` in local time with its offset; "" for a draft.

        Args:
            zone: the time zone to show (default: this computer's).
        """
        if self.signed_at is None:
            return ""
        from ketascreen.display import format_local_time  # noqa: PLC0415 - it imports pint

        when = format_local_time(self.signed_at, zone)
        return (f"Signed by {self.signer_name or self.signed_by} at {when} "
                f"({self.record_id})")


@dataclass(frozen=True)
class CertificateInfo:
    """A signing certificate registered to an account.

    Attributes:
        fingerprint: sha256 (lowercase hex) of the certificate's DER bytes.
        subject_name: its common name (what a checklist signed with it prints).
        username: the account it is registered to.
        registered_at: when (UTC).
        registered_by: who registered it (the physician themself or an admin).
    """

    fingerprint: str
    subject_name: str
    username: str
    registered_at: datetime
    registered_by: str


@dataclass(frozen=True)
class StoredScreening(RecordSummary):
    """One stored screening in full (the PDF itself comes from :meth:`RecordStore.document`).

    Attributes:
        case_json: the case, canonical JSON exactly as embedded in the checklist.
        result_json: the result, canonical JSON exactly as embedded in the checklist.
        content_sha256: sha256 of ``case_json``, a newline and ``result_json``.
        versions: the rule set, policy and formulary versions and hashes.
        document_sha256: sha256 of the signed PDF, or ``None`` for a draft.
        document_size: its size in bytes, or ``None``.
        amendment_reason: why an amendment was made, or ``None``.
    """

    case_json: str
    result_json: str
    content_sha256: str
    versions: Versions
    document_sha256: str | None
    document_size: int | None
    amendment_reason: str | None

    def case(self) -> Case:
        """The stored case as a model."""
        from ketascreen.models.parsing import parse_case_json  # noqa: PLC0415

        return parse_case_json(self.case_json, source=self.record_id)

    def result(self) -> Result:
        """The stored result as a model."""
        from ketascreen.models.result import Result  # noqa: PLC0415

        return Result.model_validate_json(self.result_json)


def patient_of_case(case_json: str) -> PatientInfo:
    """The patient of a stored case JSON (the case a signed checklist embeds): lists show this,
    not the patients table, which an edit outside ketascreen could change."""
    patient = json.loads(case_json)["patient"]
    return PatientInfo(str(patient["id"]), str(patient["name"]),
                       date.fromisoformat(str(patient["birth_date"])))
