"""Small hand-built FHIR R4 resources for the importer's unit tests (ours, not sample data)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from ketascreen.fhir import FhirImport, import_fhir

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "fhir-samples"

SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
AS_OF = date(2026, 11, 25)
PATIENT_REF = {"reference": "Patient/p1"}


def patient(**changes: Any) -> dict[str, Any]:
    """A 46-year-old woman with an MRN; ``changes`` replace elements (``None`` deletes)."""
    resource: dict[str, Any] = {
        "resourceType": "Patient", "id": "p1",
        "identifier": [
            {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-99-9999"},
            {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                  "code": "MR"}]}, "system": "urn:clinic", "value": "MRN-7"},
        ],
        "name": [{"use": "old", "family": "Old", "given": ["Name"]},
                 {"use": "official", "family": "Rivera", "given": ["Alex", "J."]}],
        "gender": "female", "birthDate": "1980-05-14",
    }
    for key, value in changes.items():
        if value is None:
            resource.pop(key, None)
        else:
            resource[key] = value
    return resource


def concept(system: str, code: str, display: str | None = None,
            text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept with one coding."""
    coding: dict[str, Any] = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    result: dict[str, Any] = {"coding": [coding]}
    if text is not None:
        result["text"] = text
    return result


def condition(rid: str, code: dict[str, Any], clinical: str | None = "active",
              verification: str | None = None, **extra: Any) -> dict[str, Any]:
    """A Condition of the test patient."""
    resource: dict[str, Any] = {"resourceType": "Condition", "id": rid, "code": code,
                                "subject": PATIENT_REF, **extra}
    if clinical is not None:
        resource["clinicalStatus"] = concept(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", clinical)
    if verification is not None:
        resource["verificationStatus"] = concept(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", verification)
    return resource


def request(rid: str, rxnorm: str | None, display: str | None, status: str = "active",
            **extra: Any) -> dict[str, Any]:
    """A MedicationRequest of the test patient (``rxnorm=None``: no medication[x] element)."""
    resource: dict[str, Any] = {"resourceType": "MedicationRequest", "id": rid,
                                "status": status, "intent": "order", "subject": PATIENT_REF,
                                "authoredOn": "2026-01-02", **extra}
    if rxnorm is not None:
        resource["medicationCodeableConcept"] = concept(RXNORM, rxnorm, display)
    return resource


def quantity(value: float, code: str, unit: str | None = None) -> dict[str, Any]:
    """A UCUM valueQuantity (``unit`` is display text only)."""
    return {"value": value, "unit": unit or code, "system": UCUM, "code": code}


def observation(rid: str, loinc: str, when: str, **value: Any) -> dict[str, Any]:
    """A final Observation of the test patient dated ``when``."""
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": concept(LOINC, loinc), "subject": PATIENT_REF,
            "effectiveDateTime": when, **value}


def blood_pressure(rid: str, when: str, systolic: float, diastolic: float,
                   panel: str = "85354-9", *, diastolic_first: bool = False) -> dict[str, Any]:
    """A blood-pressure panel with systolic/diastolic components in mm[Hg]."""
    parts = [{"code": concept(LOINC, "8480-6"), "valueQuantity": quantity(systolic, "mm[Hg]")},
             {"code": concept(LOINC, "8462-4"), "valueQuantity": quantity(diastolic, "mm[Hg]")}]
    if diastolic_first:
        parts.reverse()
    return observation(rid, panel, when, component=parts)


def bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    """A Bundle of ``resources``."""
    return {"resourceType": "Bundle", "type": kind,
            "entry": [{"fullUrl": f"urn:uuid:{r.get('id', i)}", "resource": r}
                      for i, r in enumerate(resources)]}


def write(path: Path, document: Any) -> Path:
    """Write ``document`` as JSON to ``path``."""
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def run(tmp_path: Path, *resources: dict[str, Any], as_of: date = AS_OF) -> FhirImport:
    """Import a collection Bundle of the test patient plus ``resources``."""
    source = write(tmp_path / "bundle.json", bundle(patient(), *resources))
    return import_fhir(source, as_of=as_of)


def codes(result: FhirImport) -> list[str]:
    """The warning codes of an import, in order."""
    return [w.code for w in result.warnings]
