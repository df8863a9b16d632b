"""The pre-infusion checklist as data: every word the printed page will carry, decided here.

The renderer (:mod:`ketascreen.reports.pdf`) only lays this model out; what is shown, in what
order and with what wording is decided and tested here (pretix's model -> renderer -> bytes).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from ketascreen.display import format_number
from ketascreen.dosing import DoseOutcome
from ketascreen.models.case import Case
from ketascreen.models.result import Finding, Result

DECISION_LABELS: dict[str, tuple[str, str]] = {
    "do-not-infuse": ("DO NOT INFUSE", "An absolute contraindication was found."),
    "insufficient-data": ("INSUFFICIENT DATA", "Complete the missing items and screen again."),
    "needs-review": ("NEEDS REVIEW",
                     "Each relative finding must be acknowledged with a reason before signing."),
    "clear": ("CLEAR", "No unacknowledged finding. Proceed with the checks below."),
}
SEVERITY_LABELS = {"absolute": "ABSOLUTE", "relative": "RELATIVE", "info": "INFO"}
SIGNATURE_MEANING = "Screened and approved for first infusion"

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
    """The dose and pump-programming box."""

    rows: tuple[tuple[str, str], ...]
    working: tuple[str, ...]


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


def canonical_json(data: object) -> bytes:
    """The bytes embedded in the PDF and hashed: sorted keys, UTF-8, no insignificant spaces."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def record_id_for(case_json: bytes, result_json: bytes) -> str:
    """A stable record id derived from the case and result (until records get database ids)."""
    return "KS-" + hashlib.sha256(case_json + b"\n" + result_json).hexdigest()[:12].upper()


def dose_box_from(outcome: DoseOutcome) -> tuple[DoseBox | None, str | None]:
    """The dose box of a dose outcome, or the reason there is none."""
    dose, programme, weight = outcome.dose, outcome.programme, outcome.dosing_weight
    if dose is None or programme is None or weight is None:
        return None, f"No dose: {outcome.refusal or 'not calculated'}"
    rows: list[tuple[str, str]] = [
        ("Dose", f"{dose.display.dose} ({format_number(dose.dose_mg_per_kg, 3)} mg/kg)"),
        ("Dosing weight", f"{format_number(dose.dosing_weight_kg, 2)} kg: "
                          f"{outcome.dosing_weight_basis_reason}"),
        ("Duration", f"{format_number(dose.duration_min, 1)} min"),
    ]
    steps = programme.lines()
    rows += [(f"Step {number}", line) for number, line in enumerate(steps, start=1)]
    rows.append(("PUMP RATE", dose.display.rate))
    return DoseBox(rows=tuple(rows), working=outcome.working), None


def _finding_row(finding: Finding, reasons: dict[str, str]) -> FindingRow:
    return FindingRow(
        severity=SEVERITY_LABELS[finding.severity], title=finding.title, basis=finding.basis,
        action=finding.action, source=finding.source, rule_id=finding.rule_id,
        acknowledged=finding.acknowledged,
        acknowledgement=reasons.get(finding.concept) if finding.acknowledged else None)


def _pre_infusion(case: Case) -> tuple[str, ...]:
    items = [
        "Informed consent for off-label IV ketamine documented and signed (R54).",
        "Fasting: no clear liquids for 2 h, no light meal for 6 h, no fatty meal or meat for 8 h "
        "(ASA; R101).",
        "Responsible adult escort confirmed; patient told not to drive until the next day after "
        "restful sleep (R22, R110).",
    ]
    patient = case.patient
    if patient.sex != "male" and 12 <= case.age_years() <= 55:
        items.append("Pregnancy test negative today, or documented as not applicable (R55, R56).")
    items += [
        "Baseline BP, HR and SpO2 taken at rest and within the limits of this checklist "
        "(R41, R42).",
        "Pulse oximeter and BP monitor attached; airway and suction equipment at hand (R19, R109).",
        "IV access patent; infusion pump programmed as in the dose box and independently "
        "double-checked (ISMP high-alert; R137, R139).",
        "Rescue medications available: antiemetic (e.g. ondansetron) and a benzodiazepine for a "
        "severe emergence reaction (R113, R25).",
        "Baseline rating scales done (e.g. PHQ-9 or MADRS, GAD-7, PCL-5 as indicated) "
        "(R121, R126).",
    ]
    return tuple(items)


def _abuse_rows(result: Result) -> tuple[tuple[str, str], ...]:
    risk = result.abuse_risk
    dast = "not done" if risk.dast10 is None else f"{risk.dast10} of 10"
    if risk.audit_c is None:
        audit = "not done"
    else:
        audit = f"{risk.audit_c} of 12 ({'positive' if risk.audit_c_positive else 'negative'})"
    return (("Tier", risk.tier.upper()), ("DAST-10", dast), ("AUDIT-C", audit),
            ("Action", ABUSE_ACTIONS[risk.tier]), ("Note", ABUSE_POLICY_NOTE))


def build_checklist(
    case: Case,
    result: Result,
    *,
    dose: DoseBox | None,
    no_dose_reason: str | None,
    versions: tuple[tuple[str, str], ...],
    clinic: str,
    signer: Signer | None,
    import_warnings: tuple[str, ...] = (),
) -> Checklist:
    """Decide the content of the checklist for ``case`` and its ``result``.

    The dose box is left out of a DO NOT INFUSE checklist whatever is passed in.
    """
    case_json = canonical_json(case.model_dump(mode="json", exclude_none=True))
    result_json = canonical_json(result.model_dump(mode="json"))
    result_sha = hashlib.sha256(result_json).hexdigest()
    record_id = record_id_for(case_json, result_json)
    patient = case.patient
    label, explanation = DECISION_LABELS[result.decision]
    reasons = {a.concept: a.reason for a in case.acknowledgements}
    if result.decision == "do-not-infuse":
        dose, no_dose_reason = None, "No dose: do not infuse."
    return Checklist(
        clinic=clinic,
        record_id=record_id,
        patient_rows=(("Patient", patient.name), ("Patient id", patient.id),
                      ("Date of birth", patient.birth_date.isoformat()),
                      ("Age", f"{case.age_years()} years"), ("Sex", patient.sex),
                      ("Screening date", case.screening_date.isoformat()),
                      ("Indication", case.indication)),
        decision=result.decision, decision_label=label, decision_explanation=explanation,
        findings=tuple(_finding_row(f, reasons) for f in result.findings),
        abuse_rows=_abuse_rows(result),
        dose=dose, no_dose_reason=no_dose_reason,
        pre_infusion=_pre_infusion(case),
        monitoring_times=MONITORING_TIMES, monitoring_columns=MONITORING_COLUMNS,
        discharge=DISCHARGE_CRITERIA,
        versions=(("Rule set", f"{result.ruleset.version} sha256 {result.ruleset.sha256}"),
                  *versions),
        result_sha256=result_sha,
        qr_payload=json.dumps({"record": record_id, "result_sha256": result_sha},
                              separators=(",", ":")),
        signer=signer,
        import_warnings=import_warnings,
    )
