"""Patient -> ``case.patient``, and the refusal of a deceased patient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ketascreen.errors import DeceasedPatientError, FhirImportError, ImportWarning
from ketascreen.fhir import model as fm
from ketascreen.fhir.dates import age_on, parse_date, parse_moment
from ketascreen.fhir.record import Item, Record
from ketascreen.fhir.result import Provenance
from ketascreen.models.case import SNOMED

DECEASED_DISPOSITION = "371828006"
"""SNOMED CT "Patient deceased during stay (discharge status = dead)"."""

_INDIVIDUAL_SEX = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-individual-sex"
_BIRTH_SEX = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"
_SKIPPED_NAME_USES = frozenset({"old", "maiden", "anonymous"})
_NAME_USE_ORDER = {"official": 0, "usual": 1, None: 2, "nickname": 3, "temp": 4}


@dataclass(frozen=True)
class MappedPatient:
    """The ``patient`` object of the case and what was learnt while building it."""

    fields: dict[str, str]
    label: str
    provenance: tuple[Provenance, ...]
    warnings: tuple[ImportWarning, ...]


def find_death(record: Record) -> tuple[str, str | None, str] | None:
    """Where the record says the patient has died.

    Returns:
        ``(resource label, date text or None, element)``, or ``None`` when no death is recorded.
        Sources: ``Patient.deceasedBoolean``/``deceasedDateTime``, or an Encounter discharge
        disposition of SNOMED CT 371828006.
    """
    patient = record.patient
    if patient.resource.deceased_date_time is not None:
        return patient.label, patient.resource.deceased_date_time, "deceasedDateTime"
    if patient.resource.deceased_boolean:
        return patient.label, None, "deceasedBoolean"
    for item in record.encounters:
        hospitalization = item.resource.hospitalization
        disposition = hospitalization.discharge_disposition if hospitalization else None
        if disposition is not None and disposition.has(SNOMED, DECEASED_DISPOSITION):
            period = item.resource.period
            when = (period.end or period.start) if period else None
            return item.label, when, "hospitalization.dischargeDisposition"
    return None


def refuse_if_deceased(record: Record, warnings: list[ImportWarning]) -> None:
    """Raise :class:`DeceasedPatientError` when the record says the patient has died.

    The error carries a ``deceased`` warning and one ``orders-after-death`` warning per
    medication order authored after the death or still active, plus ``warnings``.
    """
    death = find_death(record)
    if death is None:
        return
    label, when, element = death
    moment = parse_moment(when)
    shown = f"on {moment.day.isoformat()}" if moment else "(date not recorded)"
    found = [ImportWarning("deceased", f"The record says the patient died {shown} "
                           f"({element}).", label)]
    for item in record.requests:
        order = item.resource
        authored = parse_moment(order.authored_on)
        after = moment is not None and authored is not None and authored.instant > moment.instant
        if after or order.status in ("active", "on-hold"):
            why = ("authored after the death" if after
                   else f"still {order.status} after the death")
            found.append(ImportWarning("orders-after-death", f"Medication order {why}.",
                                       item.label))
    raise DeceasedPatientError(
        record.source,
        f"the record says the patient died {shown} ({label}.{element}); no screening case is "
        "produced for a deceased patient. Check that the right record was exported.",
        resource=label, field=element, warnings=tuple(warnings + found),
        deceased_on=moment.day.isoformat() if moment else None)


def map_patient(record: Record, as_of: date) -> MappedPatient:
    """Build ``case.patient`` (``pregnant`` and ``breastfeeding`` are set elsewhere).

    Raises:
        FhirImportError: no usable birth date, or a birth date after ``as_of`` or over 130 years
            before it.
    """
    item = record.patient
    patient = item.resource
    warnings: list[ImportWarning] = []
    provenance: list[Provenance] = []
    file = str(item.source.file)
    birth = _birth_date(item, record.source, as_of, warnings)
    sex = _sex(item, warnings)
    patient_id, id_detail = _identifier(item)
    name = _name(patient)
    if name is None:
        name = f"(no name in the record, {item.label})"
        warnings.append(ImportWarning("missing-name", "The Patient has no usable name.",
                                      item.label))
    for field_name, detail in (("patient.id", id_detail), ("patient.name", "HumanName"),
                               ("patient.birth_date", "birthDate"),
                               ("patient.sex", f"gender {patient.gender or '(absent)'}")):
        provenance.append(Provenance("patient", field_name, item.label, file, detail))
    fields = {"id": patient_id, "name": name, "birth_date": birth.isoformat(), "sex": sex}
    return MappedPatient(fields, f"{name} ({patient_id})", tuple(provenance), tuple(warnings))


def _birth_date(item: Item[fm.Patient], source: str, as_of: date,
                warnings: list[ImportWarning]) -> date:
    text = item.resource.birth_date
    found = parse_date(text, latest=True)
    if found is None:
        reason = ("the Patient has no birthDate" if text is None
                  else f"the Patient's birthDate {text!r} is not a date")
        raise FhirImportError(source, reason + "; the age cannot be screened",
                              resource=item.label, field="birthDate")
    birth, complete = found
    if not complete:
        warnings.append(ImportWarning(
            "partial-birth-date", f"birthDate is only {text!r}; the last day of that period "
            f"({birth.isoformat()}) is used, which gives the youngest possible age.", item.label))
    if birth > as_of:
        raise FhirImportError(source, f"the birth date {birth.isoformat()} is after the as-of "
                              f"date {as_of.isoformat()}", resource=item.label, field="birthDate")
    if age_on(birth, as_of) > 130:
        raise FhirImportError(source, f"the birth date {birth.isoformat()} gives an age over "
                              f"130 years on {as_of.isoformat()}", resource=item.label,
                              field="birthDate")
    return birth


def _sex(item: Item[fm.Patient], warnings: list[ImportWarning]) -> str:
    gender = item.resource.gender
    if gender in ("male", "female"):
        return gender
    hint = _recorded_sex_hint(item.resource)
    if gender is None:
        warnings.append(ImportWarning(
            "missing-gender", "Patient.gender is absent; sex is set to unknown (ideal body "
            f"weight and AUDIT-C use the stricter reading).{hint} Confirm the patient's sex.",
            item.label))
    else:
        warnings.append(ImportWarning(
            "gender-not-binary", f"Patient.gender is {gender!r}; sex is set to unknown (ideal "
            f"body weight and AUDIT-C use the stricter reading).{hint}", item.label))
    return "unknown"


def _recorded_sex_hint(patient: fm.Patient) -> str:
    for extension in patient.extension:
        if extension.url == _INDIVIDUAL_SEX and extension.value_coding is not None:
            shown = extension.value_coding.display or extension.value_coding.code
            return f" The record's individual-sex extension says {shown!r} (not used)."
        if extension.url == _BIRTH_SEX and extension.value_code:
            return f" The record's birth-sex extension says {extension.value_code!r} (not used)."
    return ""


def _identifier(item: Item[fm.Patient]) -> tuple[str, str]:
    for identifier in item.resource.identifier:
        value = (identifier.value or "").strip()
        kind = identifier.type
        if value and kind is not None and any(
                c.code == "MR" and c.system in (fm.V2_0203, None) for c in kind.coding):
            return value, "identifier (MRN)"
    if item.source.resource_id:
        return item.source.resource_id, "resource id (no MRN identifier)"
    if item.source.full_url:
        return item.source.full_url, "Bundle fullUrl (no MRN, no id)"
    return f"(no id, {item.source.file.name})", "file name (no MRN, no id)"


def _name(patient: fm.Patient) -> str | None:
    candidates = [n for n in patient.name if n.use not in _SKIPPED_NAME_USES] or patient.name
    candidates = sorted(candidates, key=lambda n: _NAME_USE_ORDER.get(n.use, 5))
    for name in candidates:
        if name.text and name.text.strip():
            return " ".join(name.text.split())
        parts = [*name.given, name.family or ""]
        text = " ".join(" ".join(parts).split())
        if text:
            return text
    return None
