"""The pre-infusion checklist as data: every word the printed page will carry.

The content is decided by :mod:`ketascreen.checklist` (the screening layer); the renderer
(:mod:`ketascreen.reports.pdf`) only lays this model out (pretix's model -> renderer -> bytes).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

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
COUNTERSIGNATURE_MEANING = "Bedside independent double check"
"""The meaning of the nurse's countersignature (its /Reason; printed in its stamp)."""
BEDSIDE_CHECK_HEADING = "Bedside independent double check"
"""The heading of the block printed after the physician's signature."""
BEDSIDE_CHECK_POINTER = ("Independent double check at the bedside: the order as signed beside "
                         "what the nurse entered, with her countersignature, follows the "
                         "physician's signature.")
"""Printed under the dose box: where the bedside double check is on the checklist."""
ORDER_COLUMN_TITLE = "The order as signed"
"""The title of the block's left half: the signed order's values, one per row."""
COUNTERSIGNATURE_BOX_TITLE = "Entered at bedside (nurse countersignature)"
"""The title of the block's right half: the box the nurse's countersignature stamp fills."""
PAPER_FALLBACK = ("On paper, only when the countersignature cannot be made:",
                  "Prepared and programmed by (initials)",
                  "Independent double check by (initials)")
"""The paper fallback under the order column: its note, then the two initials boxes' labels."""
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


ORDER_ROW_LABELS = ("Patient name", "Date of birth", "Patient ID", "Vial concentration",
                    "Volume drawn up", "Diluent volume", "Pump rate", "VTBI", "Dose",
                    "Dose per kg")
"""The rows of the order as the bedside double-checks it, in order: the same labels as the
double check's items and as the nurse's countersignature stamp."""


@dataclass(frozen=True, eq=False, repr=False)
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


@dataclass(frozen=True, eq=False, repr=False)
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


INFUSION_CHECKLIST_TITLE = "Infusion checklist: IV ketamine"
"""The title of an infusion's checklist (the first screening's is the pre-infusion checklist)."""
CHANGE_STATES = ("unchanged", "changed", "new finding")
"""How each item of "changed since the last signed checklist" is marked."""
MOAAS_KEY = (
    ("5", "responds readily to name in a normal tone"),
    ("4", "lethargic response"),
    ("3", "responds only to a loud or repeated name"),
    ("2", "responds only to mild prodding"),
    ("1", "responds only to a painful trapezius squeeze"),
    ("0", "no response"),
)
"""The MOAA/S sedation scale as printed beside the grid (C17; esketamine label C18)."""
CADSS6_KEY = (
    ("Items", "CADSS items 1, 2, 6, 7, 15 and 22, scored as on the CADSS form (C21)"),
    ("Total", "0 to 24; higher = more dissociation"),
    ("Note", "a short form for clinics: correlates (rs 0.91 to 0.95) with the full CADSS but "
             "is not validated; no cut-off is published (C21)"),
)
"""The CADSS-6 dissociation key (C21; total 0-24 as ``course-format.md``)."""
INFUSION_MONITORING_COLUMNS = ("Time", "Clock", "BP (mmHg)", "HR (/min)", "SpO2 (%)",
                              "MOAA/S (0-5)", "CADSS-6 (0-24)", "Initials")
"""The monitoring grid's columns on an infusion's checklist (the scales named, keys printed)."""
RESCUE_COLUMNS = ("Time", "Drug", "Dose / route", "Cumulative total", "Response", "Initials")
"""The rescue-drug table's columns (the F13 sedation record, C101)."""
RESCUE_ROWS = 4
"""Blank rows of the rescue-drug table."""


@dataclass(frozen=True, eq=False, repr=False)
class ChangeRow:
    """One item of "changed since the last signed checklist" as printed.

    Attributes:
        item: e.g. ``medications`` (the course's change items, in their order).
        state: one of :data:`CHANGE_STATES`.
        detail: what changed, or ``""``.
    """

    item: str
    state: str
    detail: str = ""


@dataclass(frozen=True, eq=False, repr=False)
class Phq9Trend:
    """The PHQ-9 points and thresholds the course chart draws (plain numbers).

    Attributes:
        series: (infusion number, PHQ-9 total or ``None``), oldest first; the baseline is
            infusion 1's.
        planned: the infusions planned, or ``None``.
        remission_below: PHQ-9 below this is remission (C43, C48).
        response_percent: this many percent below the baseline is response (C43, C48).
        improvement_percent: this many percent below the baseline is improving (C44).
    """

    series: tuple[tuple[int, int | None], ...]
    planned: int | None
    remission_below: int
    response_percent: Decimal
    improvement_percent: Decimal


@dataclass(frozen=True, eq=False, repr=False)
class InfusionSection:
    """What an infusion's checklist adds to the first screening's content.

    Attributes:
        number: the infusion's number.
        planned: the infusions planned, or ``None`` when no plan is known.
        heading: ``Infusion 3 of 6`` (``Infusion 3`` without a plan).
        start: the infusion's start as printed (local time, as in the course file).
        reference: what the changes are compared with (``the signed checklist of infusion 2``).
        changes: one row per change item, in order.
        dose_change: the dose change line (``0.5 -> 0.75 mg/kg: escalation, R10``), or ``None``
            when the course screening reports no change.
        protocol_source: where the infusion's protocol comes from, as printed.
        day_of: (label, value) rows of today's re-check (fasting, escort, scores ...).
        monitoring_times: (row label, clock time) of the pre-printed grid, in order.
        monitoring_cadence: how the times were chosen, with its sources.
        bp_band: the patient's own +/-20 % band from today's blood pressure, with its source;
            or why there is none.
        notify: (name, limits) of the clinic policy's notify values.
        notify_note: that the notify values are local policy.
        rescue_note: what to record for a rescue drug, with its sources.
        discharge_note: the discharge score line (Aldrete >= 9).
        course_rows: (label, value) course figures (interval, infusions in 7/30 days, mg ...).
        phq9: the chart's data.
        since_last: the free text "since the last infusion", or ``None``.
    """

    number: int
    planned: int | None
    heading: str
    start: str
    reference: str
    changes: tuple[ChangeRow, ...]
    dose_change: str | None
    protocol_source: str
    day_of: tuple[tuple[str, str], ...]
    monitoring_times: tuple[tuple[str, str], ...]
    monitoring_cadence: str
    bp_band: str
    notify: tuple[tuple[str, str], ...]
    notify_note: str
    rescue_note: str
    discharge_note: str
    course_rows: tuple[tuple[str, str], ...]
    phq9: Phq9Trend
    since_last: str | None = None


def infusion_signature_meaning(number: int, planned: int | None) -> str:
    """The meaning of the signature on infusion ``number``'s checklist (21 CFR 11.50):
    ``Day-of re-check: approved for infusion 3 of 6`` (``... for infusion 3`` without a plan)."""
    of = f" of {planned}" if planned is not None else ""
    return f"Day-of re-check: approved for infusion {number}{of}"


@dataclass(frozen=True, eq=False, repr=False)
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
    infusion: InfusionSection | None = None
    """What the checklist of an infusion of a course adds; ``None`` for the first screening's."""
    order_rows: tuple[tuple[str, str], ...] = ()
    """The order as the bedside double-checks it: (label, value) in the order of
    :data:`ORDER_ROW_LABELS` (ISMP display); empty when there is no dose (nothing to check)."""

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
