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
import math
from datetime import timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from ketascreen.course.context import course_thresholds
from ketascreen.course.figures import CourseThresholds
from ketascreen.course.outcome import CourseScreening
from ketascreen.display import format_local_time, format_number, format_quantity, format_threshold
from ketascreen.dosing import DoseOutcome
from ketascreen.errors import UnitInputError
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
    SEVERITY_LABELS,
    ChangeRow,
    Checklist,
    DoseBox,
    FindingRow,
    InfusionSection,
    Phq9Trend,
    Signer,
    VitalSign,
    canonical_json,
    infusion_signature_meaning,
    record_id_for,
)
from ketascreen.models.course import DayOfCheck
from ketascreen.models.doses import (
    KG_PER_M2,
    MINUTE,
    DosePerWeight,
    as_decimal,
    as_typed,
    divided_by,
    in_unit,
    show_duration,
)
from ketascreen.models.result import Finding, Result
from ketascreen.units import Dimension, Quantity, parse_blood_pressure, parse_quantity


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
        dose_outcome: the infusion's dose outcome (its duration times the monitoring grid).
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
    )


# --------------------------------------------------------------------------------------------
# The checklist of an infusion of a course

MONITORING_EVERY_DURING_MIN = 10
"""Vital signs every 10 min during the infusion (C7, C8)."""
MONITORING_EVERY_AFTER_MIN = 15
"""Every 15 min after it (C7)."""
RECOVERY_MIN = 60
"""Rows for 60 min of recovery after the infusion (30-60 min in clinics: C36)."""
BP_PEAK_MIN = 40
"""Blood pressure peaks at about 40 min (C8)."""
BP_BAND_PERCENT = Decimal(20)
"""The patient's own band: within 20 % of the pre-infusion blood pressure (Aldrete circulation,
C34, R116; PADSS vitals, C32)."""

_SOURCE_WORDS = {"infusion": "this infusion's own protocol fields",
                 "screening": "the first screening's protocol"}
_STATUS_WORDS = {
    "too-early": "too early to judge (before infusion 5: C44)",
    "improving": "improving (20 % or more below baseline: C44)",
    "no-improvement": "no improvement (less than 20 % below baseline from infusion 5: C44; "
                      "some respond only after 10-12 infusions: C45)",
    "response": "response (50 % or more below baseline: C43, C48)",
    "remission": "remission (PHQ-9 below 5: C43, C48)",
    "unknown": "unknown (no baseline or no latest PHQ-9)",
}


def _clock(moment: object) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def monitoring_times(start: object, duration: Quantity | None) -> tuple[tuple[str, str], ...]:
    """The pre-printed rows of the monitoring grid: (label, clock time) from the infusion's start.

    Every :data:`MONITORING_EVERY_DURING_MIN` min from the start to the end of the infusion (the
    end always has a row), then every :data:`MONITORING_EVERY_AFTER_MIN` min for
    :data:`RECOVERY_MIN` min, then the discharge row (clock left blank). Without a duration the
    rows are the first screening's, without clock times.

    Args:
        start: the infusion's start (a local date-time).
        duration: the planned infusion duration (a time quantity), or ``None``.
    """
    if duration is None:
        return tuple((label, "") for label in MONITORING_TIMES)
    minutes = math.ceil(in_unit(duration, MINUTE))
    during = [*range(0, minutes, MONITORING_EVERY_DURING_MIN), minutes]
    rows: list[tuple[str, str]] = []
    for minute in during:
        notes = [word for word, applies in (("start, baseline", minute == 0),
                                            ("end", minute == minutes),
                                            ("BP peak", minute == BP_PEAK_MIN)) if applies]
        label = f"{minute} min" + (f" ({'; '.join(notes)})" if notes else "")
        rows.append((label, f"{start + timedelta(minutes=minute):%H:%M}"))  # type: ignore[operator]
    for after in range(MONITORING_EVERY_AFTER_MIN, RECOVERY_MIN + 1, MONITORING_EVERY_AFTER_MIN):
        rows.append((f"+{after} min after end",
                     f"{start + timedelta(minutes=minutes + after):%H:%M}"))  # type: ignore[operator]
    rows.append(("Discharge", ""))
    return tuple(rows)


def blood_pressure_band(text: str | None) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The patient's own band from a pre-infusion blood pressure: whole mmHg within
    :data:`BP_BAND_PERCENT` % of it, rounded inwards (a printed limit is inside the band).

    ``"132/84 mmHg"`` -> ``((106, 158), (68, 100))``: 105.6-158.4 and 67.2-100.8 mmHg.

    Returns:
        ((systolic low, high), (diastolic low, high)) in mmHg, or ``None`` without a value.
    """
    if text is None:
        return None
    pressure = parse_blood_pressure(text)
    bands: list[tuple[int, int]] = []
    for value in (pressure.systolic, pressure.diastolic):
        mmhg = Decimal(repr(float(value.to("millimeter_Hg").magnitude)))
        low = mmhg * (100 - BP_BAND_PERCENT) / 100
        high = mmhg * (100 + BP_BAND_PERCENT) / 100
        bands.append((int(low.to_integral_value(ROUND_CEILING)),
                      int(high.to_integral_value(ROUND_FLOOR))))
    return bands[0], bands[1]


def _band_text(today: str | None) -> str:
    band = blood_pressure_band(today)
    if band is None:
        return ("No band: today's blood pressure is not recorded. Take it before the infusion "
                "(R41, R42).")
    (s_low, s_high), (d_low, d_high) = band
    return (f"Within {format_number(BP_BAND_PERCENT)} % of today's pre-infusion {today}: "
            f"systolic {s_low} to {s_high} mmHg, diastolic {d_low} to {d_high} mmHg "
            "(Aldrete circulation within 20 % of baseline: C34, R116; PADSS: C32).")


def _duration_of(course: CourseScreening, outcome: DoseOutcome | None) -> Quantity | None:
    if outcome is not None and outcome.programme is not None:
        return outcome.programme.duration
    text = course.protocol.protocol.duration
    try:
        return None if text is None else parse_quantity(text, Dimension.TIME)
    except UnitInputError:
        return None


def _day_of(course: CourseScreening) -> tuple[tuple[str, str], ...]:
    pre = course.course.infusion(course.infusion).pre
    weight = pre.weight or "not re-weighed (the latest earlier weight is used)"
    phq9 = pre.phq9_total()
    item9 = pre.phq9_item9()
    phq9_text = "not done" if phq9 is None else f"{phq9} of 27"
    if item9 is not None:
        phq9_text += f"; item 9: {item9}"
    gad7 = pre.gad7_total()
    return (
        ("Last solids", "not recorded" if pre.last_solids is None else _clock(pre.last_solids)),
        ("Last clear fluids",
         "not recorded" if pre.last_clear_fluids is None else _clock(pre.last_clear_fluids)),
        ("Escort", pre.escort), ("Pregnancy test", pre.pregnancy_test),
        ("Weight today", weight),
        ("Medications", "changed (see the findings)" if pre.medications_changed()
         else "unchanged since the last infusion"),
        ("PHQ-9", phq9_text), ("GAD-7", "not done" if gad7 is None else f"{gad7} of 21"),
        ("Urinary symptoms", pre.urinary_symptoms),
    )


def _notify(policy: Policy) -> tuple[tuple[str, str], ...]:
    """The clinic policy's values beside the grid: the screening limits of each vital sign and,
    for the blood pressure, the reading recorded as severe during an infusion."""
    rows = {name: _policy_limits(policy, prefixes) for name, prefixes in _VITAL_LIMITS.items()}
    systolic = policy.quantities.get("prior_severe_systolic")
    diastolic = policy.quantities.get("prior_severe_diastolic")
    if systolic is not None and diastolic is not None:
        rows["Blood pressure"] = "; ".join(filter(None, (
            rows["Blood pressure"],
            f"severe during an infusion: systolic above {format_threshold(systolic)} or "
            f"diastolic above {format_threshold(diastolic)} (shown at the next infusion: "
            "C8, C12)")))
    return tuple((name, limits or "none set") for name, limits in rows.items())


def _today(item: str, pre: DayOfCheck) -> str:
    """What an unchanged item shows: today's vital signs (so page 1 carries them), else ``""``."""
    if item != "vital signs":
        return ""
    values = [f"{name} {value}" for name, value in (("BP", pre.blood_pressure),
                                                    ("HR", pre.heart_rate), ("SpO2", pre.spo2))
              if value is not None]
    return "today " + ", ".join(values) if values else "today: not recorded"


def _course_rows(course: CourseScreening) -> tuple[tuple[str, str], ...]:
    f = course.figures
    change = f.phq9.change_percent_rounded()
    phq9 = (f"baseline {'not given' if f.phq9.baseline is None else f.phq9.baseline}, "
            f"latest {'not given' if f.phq9.latest is None else f.phq9.latest}, change "
            f"{'not computable' if change is None else format_number(change, 1) + ' %'}")
    since = ("first infusion" if f.days_since_previous is None
             else f"{f.days_since_previous} day{'s' if f.days_since_previous != 1 else ''}")
    return (
        ("Infusion", f"{f.infusion} of {f.planned}" if f.planned else f"{f.infusion} (no plan)"),
        ("Since the previous infusion", since),
        ("Infusions in the last 7 days", str(f.infusions_last_7_days)),
        ("Infusions in the last 30 days", str(f.infusions_last_30_days)),
        ("Ketamine given in this course before today", format_quantity(f.cumulative_mg, "mg")),
        ("PHQ-9", phq9),
        ("Course status", _STATUS_WORDS.get(f.status.value, f.status.value)),
    )


def build_infusion_section(course: CourseScreening, *, policy: Policy,
                           dose_outcome: DoseOutcome | None = None,
                           thresholds: CourseThresholds | None = None) -> InfusionSection:
    """What the checklist of infusion ``course.infusion`` adds: infusion N of M, the changes since
    the last signed checklist, the dose change, the day-of re-check, the monitoring grid's times,
    the patient's own blood-pressure band and the clinic's notify values, and the course panel.

    Args:
        course: the course screening (:class:`~ketascreen.course.outcome.CourseScreening`).
        policy: the clinic policy the infusion was screened with (its thresholds are the
            notify values printed beside the grid).
        dose_outcome: the infusion's dose outcome; its duration times the grid (else the
            protocol's duration).
        thresholds: the course status thresholds the chart draws (default: the policy's,
            :func:`ketascreen.course.context.course_thresholds`).
    """
    thresholds = thresholds or course_thresholds(policy)
    infusion = course.course.infusion(course.infusion)
    planned = course.figures.planned
    if course.last_signed == 0:
        record = course.course.screening_record
        reference = "the signed first screening" + (f" ({record})" if record else "")
    else:
        reference = f"the signed checklist of infusion {course.last_signed}"
    choice = course.protocol
    source = (f"infusion {choice.from_infusion}'s protocol fields" if choice.source == "previous"
              else _SOURCE_WORDS[choice.source])
    dose_change = None if course.dose_change is None else course.dose_change.text
    return InfusionSection(
        number=course.infusion,
        planned=planned,
        heading=f"Infusion {course.infusion}" + (f" of {planned}" if planned else ""),
        start=_clock(infusion.start),
        reference=reference,
        changes=tuple(ChangeRow(c.item, c.state, c.detail or _today(c.item, infusion.pre))
                      for c in course.changes),
        dose_change=dose_change,
        protocol_source=source,
        day_of=_day_of(course),
        monitoring_times=monitoring_times(infusion.start, _duration_of(course, dose_outcome)),
        monitoring_cadence=(
            f"Every {MONITORING_EVERY_DURING_MIN} min during the infusion (C7, C8), every "
            f"{MONITORING_EVERY_AFTER_MIN} min after it (C7) for {RECOVERY_MIN} min of recovery "
            f"(30 to 60 min: C36); blood pressure peaks at about {BP_PEAK_MIN} min (C8)."),
        bp_band=_band_text(infusion.pre.blood_pressure),
        notify=_notify(policy),
        notify_note=("Notify the physician at these values: the clinic's policy thresholds. "
                     "Local policy: no published stop or notify value exists for ketamine "
                     "infusions for depression."),
        rescue_note=("Record every rescue drug with its time, dose and running total (C101). "
                     "Available: an antiemetic (e.g. ondansetron) and a benzodiazepine for a "
                     "severe emergence reaction (R113, R25); a benzodiazepine may blunt the "
                     "antidepressant effect (R64, R65)."),
        discharge_note=("Modified Aldrete score: 9 or more of 10 to leave (R116, R117). "
                        "Ready to leave at ____ min from the start (C2)."),
        course_rows=_course_rows(course),
        phq9=Phq9Trend(series=course.phq9_series, planned=planned,
                       remission_below=thresholds.remission_below,
                       response_percent=thresholds.response_percent,
                       improvement_percent=thresholds.improvement_percent),
        since_last=infusion.pre.since_last,
    )
