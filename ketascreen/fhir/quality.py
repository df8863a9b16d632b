"""Data-quality warnings that need the whole record (the mappers add their own as they go).

- ``icd10-display-mismatch``: a Condition coded only in ICD-10-CM whose display text names a
  different knowledge-base concept than its code (F10.10 displayed "Thyrotoxicosis"). The code
  is what the rules use; the warning says so.
- ``pregnancy-implausible``: an active pregnancy (condition or status) at an age outside the
  policy's pregnancy-status range (12-55 by default), or in a male patient.
- ``stale-weight`` / ``stale-blood-pressure``: the chosen value is older than the policy limit.
- ``future-dated``: records other than the imported items dated after the as-of date (one
  summary line; the imported items get one warning each from their mappers).
- ``indication-not-recorded``: the case needs an indication, which a FHIR record does not give.

Deceased patients and orders after death are found in :mod:`ketascreen.fhir.patient`, because
they stop the import.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ketascreen.errors import ImportWarning
from ketascreen.fhir import model as fm
from ketascreen.fhir.conditions import MappedConditions, code_entry, text_entries
from ketascreen.fhir.dates import age_on, parse_moment
from ketascreen.fhir.record import Record
from ketascreen.fhir.vitals import (
    BP_PANELS,
    HEIGHT_CODES,
    PREGNANCY_STATUS,
    WEIGHT_CODES,
    MappedVitals,
    Reading,
)
from ketascreen.knowledge.conditions import ConditionKnowledge
from ketascreen.knowledge.policy import Policy
from ketascreen.models.case import COUNTING_CONDITION_STATUSES, ICD10CM, SNOMED


def display_mismatches(record: Record, knowledge: ConditionKnowledge) -> list[ImportWarning]:
    """ICD-10-CM-only Conditions whose display names another concept than the code."""
    warnings: list[ImportWarning] = []
    for item in record.conditions:
        concept = item.resource.code
        if concept is None or concept.codes(SNOMED):
            continue
        for coding in concept.codes(ICD10CM):
            entry = code_entry(knowledge, ICD10CM, str(coding.code).strip())
            texts = [t for t in (coding.display, concept.text) if t and t.strip()]
            if entry is None or not texts:
                continue
            named = [e for t in texts for e in text_entries(knowledge, t)]
            if named and all(e.concept != entry.concept for e in named):
                warnings.append(ImportWarning(
                    "icd10-display-mismatch",
                    f"ICD-10-CM {coding.code} means {entry.name} ({entry.concept}), but its "
                    f"display {texts[0]!r} names {named[0].name} ({named[0].concept}). The "
                    "code is used; check the record.", item.label))
    return warnings


def implausible_pregnancy(knowledge: ConditionKnowledge, policy: Policy, *, as_of: date,
                          patient: dict[str, Any], pregnant: str,
                          conditions: MappedConditions) -> list[ImportWarning]:
    """An active pregnancy in a patient whose age is outside the policy's pregnancy-status
    range (12-55 by default) on ``as_of``, or who is male."""
    age = age_on(date.fromisoformat(patient["birth_date"]), as_of)
    low = policy.number("pregnancy_status_from_age_years")
    high = policy.number("pregnancy_status_to_age_years")
    reasons: list[str] = []
    if patient["sex"] == "male":
        reasons.append("the patient is male")
    if not low <= age <= high:
        reasons.append(f"the patient is {age} years old")
    if not reasons:
        return []
    sources: list[tuple[str, str | None]] = []
    if pregnant == "yes":
        sources.append(("a pregnancy status of Pregnant", None))
    for entry, item in zip(conditions.entries, conditions.sources, strict=True):
        if entry.get("status") not in COUNTING_CONDITION_STATUSES or "code" not in entry:
            continue
        found = code_entry(knowledge, entry["system"], entry["code"])
        if found is not None and found.concept == "pregnancy":
            sources.append((f"an active condition {found.name} ({entry['code']})", item.label))
    return [ImportWarning(
        "pregnancy-implausible", f"The record has {what}, but {' and '.join(reasons)}. It "
        "still counts as pregnancy for screening; verify and correct the record.", label)
        for what, label in sources]


def stale_measurements(vitals: MappedVitals, policy: Policy, as_of: date) -> list[ImportWarning]:
    """The chosen weight or blood pressure, when older than the policy allows."""
    warnings: list[ImportWarning] = []
    checks: tuple[tuple[str, str, Reading | None, int], ...] = (
        ("stale-weight", "weight", vitals.weight, policy.number("weight_max_age_days")),
        ("stale-blood-pressure", "blood pressure", vitals.blood_pressure,
         policy.number("blood_pressure_max_age_days")))
    for code, name, reading, limit in checks:
        if reading is None:
            continue
        days = (as_of - reading.moment.day).days
        if days > limit:
            shown = "the same day" if limit == 0 else f"{limit} days"
            warnings.append(ImportWarning(
                code, f"The latest {name} ({reading.value}, {reading.moment.day.isoformat()}) "
                f"is {days} days old on {as_of.isoformat()} (limit {shown}); measure it again.",
                reading.item.label))
    return warnings


def future_records(record: Record, as_of: date) -> list[ImportWarning]:
    """One summary warning for encounters and other observations dated after ``as_of``."""
    count = 0
    latest: date | None = None
    kinds: set[str] = set()
    for item in record.encounters:
        period = item.resource.period
        moment = parse_moment(period.start if period else None)
        if moment is not None and moment.day > as_of:
            count, kinds = count + 1, kinds | {"Encounter"}
            latest = max(latest or moment.day, moment.day)
    for observation in record.observations:
        found = observation.resource
        moment = parse_moment(found.effective_date_time or found.issued)
        if moment is not None and moment.day > as_of and not _vital(found):
            count, kinds = count + 1, kinds | {"Observation"}
            latest = max(latest or moment.day, moment.day)
    if not count or latest is None:
        return []
    return [ImportWarning(
        "future-dated", f"{count} other record(s) ({', '.join(sorted(kinds))}) are dated after "
        f"the as-of date {as_of.isoformat()}, up to {latest.isoformat()}. Is the as-of date "
        "right?", None)]


def _vital(observation: fm.Observation) -> bool:
    codes = (*WEIGHT_CODES, *HEIGHT_CODES, *BP_PANELS, PREGNANCY_STATUS)
    return observation.code is not None and observation.code.has(fm.LOINC, *codes)


def indication_warning() -> ImportWarning:
    """The indication is not in a FHIR record; the importer writes ``other``."""
    return ImportWarning(
        "indication-not-recorded", "The record does not give the indication for ketamine; the "
        "case says 'other'. Set the indication (it selects the formulary's default protocol).",
        None)
