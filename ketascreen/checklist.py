"""The content of the pre-infusion checklist, decided here from a screening's data.

Every word the printed page carries is chosen here (in the screening layer) and returned as a
:class:`~ketascreen.models.checklist.Checklist`; :mod:`ketascreen.reports` only renders, signs and
writes it (pretix's model -> renderer -> bytes). :func:`ketascreen.screening.checklist` is the
entry point for a screening.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import TYPE_CHECKING

from ketascreen.display import format_local_time, format_number, format_threshold
from ketascreen.dosing import DoseOutcome
from ketascreen.knowledge.policy import Policy
from ketascreen.models.case import Case
from ketascreen.models.checklist import (
    ABUSE_ACTIONS,
    ABUSE_POLICY_NOTE,
    AWAITING_SIGNATURE,
    DECISION_LABELS,
    DISCHARGE_CRITERIA,
    MONITORING_COLUMNS,
    MONITORING_TIMES,
    NO_DOSE_PREFIX,
    ORDER_ROW_LABELS,
    SEVERITY_LABELS,
    Checklist,
    DoseBox,
    FindingRow,
    Signer,
    VitalSign,
    canonical_json,
    infusion_signature_meaning,
    record_id_for,
)
from ketascreen.models.doses import (
    KG_PER_M2,
    DosePerWeight,
    as_decimal,
    as_typed,
    divided_by,
    in_unit,
    show_duration,
)
from ketascreen.models.result import Finding, Result

if TYPE_CHECKING:
    # The infusion section of a course's checklist is built only for a course: a plain
    # screening never imports the course modules.
    from ketascreen.course.outcome import CourseScreening


def dose_box_from(outcome: DoseOutcome) -> tuple[DoseBox | None, str | None]:
    """The dose box of a dose outcome, or the reason there is none."""
    dose, programme, weight = outcome.dose, outcome.programme, outcome.dosing_weight
    if dose is None or programme is None or weight is None:
        return None, f"{NO_DOSE_PREFIX}{outcome.refusal or 'not calculated'}"
    fmt = programme.formats
    per_weight = DosePerWeight.from_quantity(divided_by(programme.intended_dose, weight.weight))
    rows: list[tuple[str, str]] = []
    for label, text in programme.rows():
        if label == "Intended dose":
            rows.append((label, f"{text} ({fmt.per_weight(per_weight)} x "
                                f"{fmt.weight(weight.weight)})"))
            rows.append(("Dosing weight", f"{fmt.weight(weight.weight)}: "
                                          f"{outcome.dosing_weight_basis_reason}"))
            rows.append(("Duration", show_duration(programme.duration)))
        else:
            rows.append((label, text))
    bmi = (None if weight.bmi is None
           else f"{format_number(as_decimal(in_unit(weight.bmi, KG_PER_M2)), 1)} kg/m²")
    return DoseBox(rows=tuple(rows), working=outcome.working, bmi=bmi), None


def order_rows_from(case: Case, outcome: DoseOutcome | None) -> tuple[tuple[str, str], ...]:
    """The order as the bedside double-checks it: one (label, value) row per item of
    :data:`~ketascreen.models.checklist.ORDER_ROW_LABELS`, each written by the formulary's one
    formatter (ISMP display); empty when there is no dose.

    The vial concentration is the vial drawn from, or the final concentration of a prepared
    bag or syringe; the volume drawn up is the prepared volume then; the diluent volume is
    ``0 mL`` when none is added.
    """
    if outcome is None:
        return ()
    programme, weight = outcome.programme, outcome.dosing_weight
    if outcome.dose is None or programme is None or weight is None:
        return ()
    fmt = programme.formats
    patient = case.patient
    vial = programme.vial_strength or programme.final_concentration
    drawn = programme.drug_volume if programme.drug_volume is not None else \
        programme.total_volume
    diluent = programme.diluent_volume if programme.diluent_volume is not None else \
        programme.total_volume * 0
    per_weight = DosePerWeight.from_quantity(divided_by(programme.intended_dose, weight.weight))
    values = (patient.name, patient.birth_date.isoformat(), patient.id,
              fmt.concentration(vial), fmt.drawn_volume(drawn), fmt.drawn_volume(diluent),
              fmt.rate(programme.programmed_rate), fmt.vtbi(programme.vtbi),
              fmt.dose(programme.intended_dose), fmt.per_weight(per_weight))
    return tuple(zip(ORDER_ROW_LABELS, values, strict=True))


_VITAL_LIMITS: dict[str, tuple[str, ...]] = {
    "Blood pressure": ("hypertension", "hypotension"),
    "Heart rate": ("bradycardia", "tachycardia"),
    "SpO2": ("hypoxaemia", "hypoxemia"),
}
# Which side of its threshold each vital-sign concept fires on (concepts.md: hypotension
# systolic < 90 mmHg, bradycardia < 50 /min, tachycardia > 150 /min, hypoxaemia SpO2 <= 92 %;
# policy.toml: the hypertension thresholds fire above).
_FIRES: dict[str, str] = {"hypertension": "above", "hypotension": "below",
                          "bradycardia": "below", "tachycardia": "above",
                          "hypoxaemia": "at or below", "hypoxemia": "at or below"}
_WORDS = {"spo2": "SpO2", "hr": "heart rate", "bp": "blood pressure", "sbp": "systolic",
          "dbp": "diastolic"}


def _words(key: str) -> str:
    return " ".join(_WORDS.get(word, word) for word in key.split("_") if word)


def _policy_limits(policy: Policy, prefixes: tuple[str, ...]) -> str:
    """The policy thresholds whose keys start with ``prefixes``, read from the loaded policy,
    each with the side it fires on and systolic/diastolic paired:
    ``hypertension elevated: above 140/90 mmHg; hypotension: systolic below 90 mmHg``."""
    grouped: dict[tuple[str, str], dict[str, str]] = {}
    values: dict[str, object] = {**policy.numbers, **policy.quantities}
    for key in sorted(values):
        concept = next((p for p in prefixes if key.startswith(p)), None)
        if concept is None:
            continue
        detail, part = key.removeprefix(concept).strip("_"), ""
        for suffix in ("systolic", "diastolic"):
            if detail == suffix or detail.endswith("_" + suffix):
                detail, part = detail.removesuffix(suffix).strip("_"), suffix
        name = _words(f"{concept}_{detail}") if detail else concept
        grouped.setdefault((concept, name), {})[part] = format_threshold(values[key])
    parts: list[str] = []
    for (concept, name), found in grouped.items():
        fires = _FIRES[concept]
        systolic, diastolic = found.get("systolic", ""), found.get("diastolic", "")
        unit = systolic.partition(" ")[2]
        if systolic and diastolic and unit and diastolic.endswith(" " + unit):
            parts.append(f"{name}: {fires} {systolic.partition(' ')[0]}/"
                         f"{diastolic.removesuffix(' ' + unit)} {unit}")
            continue
        parts.append(f"{name}: " + ", ".join(
            f"{part + ' ' if part else ''}{fires} {value}" for part, value in found.items()))
    return "; ".join(parts)


def _vitals(case: Case, policy: Policy, dose: DoseBox | None) -> tuple[VitalSign, ...]:
    m = case.measurements

    def entered(text: str | None) -> str:
        return as_typed(text) if text else "not recorded"

    weight_limits = (f"plausible {format_threshold(policy.quantity('plausible_weight_min'))} to "
                     f"{format_threshold(policy.quantity('plausible_weight_max'))}")
    bmi_limits = (f"plausible BMI {policy.number('plausible_bmi_min_kg_m2')} to "
                  f"{policy.number('plausible_bmi_max_kg_m2')} kg/m²")
    height = entered(m.height)
    if dose is not None and dose.bmi is not None:
        height += f"; BMI {dose.bmi}"
    return (
        VitalSign("Blood pressure", entered(m.blood_pressure),
                  _policy_limits(policy, _VITAL_LIMITS["Blood pressure"])),
        VitalSign("Heart rate", entered(m.heart_rate),
                  _policy_limits(policy, _VITAL_LIMITS["Heart rate"])),
        VitalSign("SpO2", entered(m.spo2), _policy_limits(policy, _VITAL_LIMITS["SpO2"])),
        VitalSign("Weight", entered(m.weight), weight_limits),
        VitalSign("Height / BMI", height, bmi_limits),
    )


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
    policy: Policy,
    audit_head: tuple[int, str] | None = None,
    course: CourseScreening | None = None,
    dose_outcome: DoseOutcome | None = None,
) -> Checklist:
    """Assemble the checklist of ``case`` and its ``result`` from what the screening decided.

    The dose box and the no-dose reason are taken as given: whether there is a dose (never on a
    DO NOT INFUSE screening) is decided by :func:`ketascreen.screening.run`; use
    :func:`ketascreen.screening.checklist` for a screening's checklist. An unsigned clear
    screening gets the grey :data:`AWAITING_SIGNATURE` banner, never the green CLEAR one.

    Args:
        policy: the clinic policy whose thresholds page 1 prints beside the vital signs (the
            policy the case was screened with).
        audit_head: the records audit trail's last event (number, sha256) when signed, printed
            beside the record id.
        course: the course screening of an infusion; with it the checklist is that infusion's
            (:func:`build_infusion_section`) and a signature means
            :func:`~ketascreen.models.checklist.infusion_signature_meaning`.
        dose_outcome: the dose outcome (an infusion's duration times the monitoring grid;
            the order rows of the bedside double check come from its programme).
    """
    case_json = canonical_json(case.model_dump(mode="json", exclude_none=True))
    result_json = canonical_json(result.model_dump(mode="json"))
    result_sha = hashlib.sha256(result_json).hexdigest()
    record_id = record_id_for(case_json, result_json)
    patient = case.patient
    label, explanation = DECISION_LABELS[result.decision]
    if result.decision == "clear" and signer is None:
        label, explanation = AWAITING_SIGNATURE
    reasons = {a.concept: a.reason for a in case.acknowledgements}
    infusion = None
    if course is not None:
        from ketascreen.infusion_checklist import build_infusion_section  # noqa: PLC0415

        infusion = build_infusion_section(course, policy=policy, dose_outcome=dose_outcome)
        if signer is not None:
            signer = dataclasses.replace(
                signer, meaning=infusion_signature_meaning(infusion.number, infusion.planned))
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
        vitals=_vitals(case, policy, dose),
        vitals_taken_at=(None if case.measurements.taken_at is None
                         else format_local_time(case.measurements.taken_at)),
        audit_head=audit_head,
        infusion=infusion,
        order_rows=order_rows_from(case, dose_outcome) if dose is not None else (),
    )
