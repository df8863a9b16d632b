"""The pre-infusion checklist as data: every word the printed page will carry.

The content is decided by :mod:`ketascreen.checklist` (the screening layer); the renderer
(:mod:`ketascreen.reports.pdf`) only lays this model out (pretix's model -> renderer -> bytes).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

DECISION_LABELS: dict[str, tuple[str, str]] = {
    "do-not-infuse": ("DO NOT INFUSE", "An absolute contraindication was found."),
    "insufficient-data": ("INSUFFICIENT DATA", "Complete the missing items and screen again."),
    "needs-review": ("NEEDS REVIEW",
                     "Each relative finding must be acknowledged with a reason before signing."),
    "clear": ("CLEAR", "No unacknowledged finding. Proceed with the checks below."),
}
AWAITING_SIGNATURE = ("Screened: clear — awaiting signature",
                      "Not an order until a physician signs it. Do not prepare or infuse from "
                      "this page.")
"""The banner of a clear screening that is not signed: grey, never the green CLEAR."""
UNSIGNED_MARK = "UNSIGNED — NOT AN ORDER"
"""Printed on every page of an unsigned checklist."""
SEVERITY_LABELS = {"absolute": "ABSOLUTE", "relative": "RELATIVE", "info": "INFO"}
SIGNATURE_MEANING = "Screened and approved for first infusion"
"""The one meaning of every ketascreen signature (printed beside it, 21 CFR 11.50)."""
NO_DOSE_PREFIX = "No dose: "
"""How the checklist introduces the reason there is no dose (``No dose: do not infuse.``)."""

ABUSE_ACTIONS = {
    "high": "Check the PDMP before each course; urine drug screen; supervised dosing only, "
            "no unsupervised or take-home doses; monitor for craving.",
    "moderate": "Check the PDMP; no unsupervised doses; reassess at each course.",
    "low": "No additional action.",
    "unknown": "Complete the DAST-10 and AUDIT-C.",
}
ABUSE_POLICY_NOTE = ("No validated ketamine-specific abuse-risk tiering exists; this tiering is "
                     "the clinic's local policy (R78, R80, R81).")

MONITORING_TIMES = ("Baseline", "10 min", "20 min", "30 min", "40 min (end of infusion)",
                    "+15 min", "+30 min", "Discharge")
MONITORING_COLUMNS = ("Time", "Clock", "BP (mmHg)", "HR (/min)", "SpO2 (%)", "Sedation",
                      "Dissociation", "Initials")
DISCHARGE_CRITERIA = (
    "Modified Aldrete score of 9 or more (activity, respiration, circulation within 20 % of "
    "baseline, consciousness, SpO2 above 92 % on room air) (R116, R117).",
    "Blood pressure decreasing and clinically stable; sedation and dissociation resolved (R42).",
    "Leaves with a responsible adult; no driving until the next day after restful sleep "
    "(R22, R110).",
    "No alcohol for 24 h; no benzodiazepine or opioid for 4 h (R66).",
)


@dataclass(frozen=True)
class FindingRow:
    """One finding as printed."""

    severity: str
    title: str
    basis: str
    action: str
    source: str
    rule_id: str
    acknowledged: bool
    acknowledgement: str | None


@dataclass(frozen=True)
class DoseBox:
    """The dose and pump-programming box.

    Attributes:
        rows: (label, text) pairs, the programmed pump rate last (label ``PUMP RATE``).
        working: every step of the calculation, as printed.
        bmi: the BMI the dose was checked against (``29.3 kg/m²``), when a height was given.
    """

    rows: tuple[tuple[str, str], ...]
    working: tuple[str, ...]
    bmi: str | None = None


@dataclass(frozen=True)
class VitalSign:
    """One screening vital sign as printed on page 1, with the limits the checks refer to.

    Attributes:
        name: e.g. ``Blood pressure``.
        value: as entered (``132/84 mmHg``) or ``not recorded``.
        limits: the clinic policy's limits the rules check it against (read from the loaded
            policy's thresholds), ``""`` when the policy has none for it.
    """

    name: str
    value: str
    limits: str


@dataclass(frozen=True)
class Signer:
    """Who signs, as printed next to the signature (21 CFR 11.50)."""

    name: str
    credentials: str
    signed_at: datetime
    meaning: str = SIGNATURE_MEANING


@dataclass(frozen=True)
class Checklist:
    """Everything the printed checklist shows."""

    clinic: str
    record_id: str
    patient_rows: tuple[tuple[str, str], ...]
    decision: str
    decision_label: str
    decision_explanation: str
    findings: tuple[FindingRow, ...]
    abuse_rows: tuple[tuple[str, str], ...]
    dose: DoseBox | None
    no_dose_reason: str | None
    pre_infusion: tuple[str, ...]
    monitoring_times: tuple[str, ...]
    monitoring_columns: tuple[str, ...]
    discharge: tuple[str, ...]
    versions: tuple[tuple[str, str], ...]
    result_sha256: str
    qr_payload: str
    signer: Signer | None
    import_warnings: tuple[str, ...] = field(default_factory=tuple)
    vitals: tuple[VitalSign, ...] = field(default_factory=tuple)
    vitals_taken_at: str | None = None
    audit_head: tuple[int, str] | None = None
    """The records audit trail's last event (number, sha256) when the checklist was signed."""

    @property
    def signed(self) -> bool:
        """True when a signer is printed: the checklist is an order."""
        return self.signer is not None


def canonical_json(data: object) -> bytes:
    """The bytes embedded in the PDF and hashed: sorted keys, UTF-8, no insignificant spaces."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def record_id_for(case_json: bytes, result_json: bytes) -> str:
    """A stable record id derived from the case and result (until records get database ids)."""
    return "KS-" + hashlib.sha256(case_json + b"\n" + result_json).hexdigest()[:12].upper()
