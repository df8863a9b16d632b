"""A course of infusions as a FHIR R4 Bundle (``type: collection``) for the clinic's record.

:func:`course_bundle` writes, for the patient of a ``ketascreen-course/1``:

- one Patient (name, birth date, gender, the case's patient id as an MRN identifier);
- per infusion with a PHQ-9: a QuestionnaireResponse of the LOINC form 44249-1 (C81; items by
  their LOINC codes as linkIds, answers from the LOINC answer list LL358-3, C82; the total as
  item 44261-6) and an Observation of the total, LOINC 44261-6, ``derivedFrom`` the response
  (C84); the same for a GAD-7 with the form 69737-5 and the total 70274-6 (C83, C84). A score
  given only as a total has the total item alone;
- the vital signs of each day-of re-check (at the infusion's start) and of each monitoring
  reading (at the start plus its minute) as vital-signs Observations: blood pressure panel
  85354-9 with components 8480-6 and 8462-4 in UCUM ``mm[Hg]`` (C86), heart rate 8867-4 in
  ``/min`` (C87), oxygen saturation 2708-6 with the US Core pulse-oximetry code 59408-5 in
  ``%`` (C88, C89). Values in other units (kPa) are converted with :mod:`ketascreen.units`.

Every resource references the Patient. Ids are UUID version 5 of the resource's place in the
course and its content, so the same course exports the same Bundle byte for byte. FHIR requires
a zone on a date-time with a time, while the course records the clinic's wall clock: the caller
names the clinic's zone (``zone``; by default this computer's), and each date-time is written
with the offset in force then (daylight saving included).

Nothing here imports ``fhir.resources``: the Bundle is plain JSON (the tests validate it).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from ketascreen.fhir.model import LOINC, UCUM
from ketascreen.models.case import Case
from ketascreen.models.course import Course, Infusion, VitalSigns

ScaleName = Literal["phq9", "gad7"]

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ketascreen:fhir:course-export")
"""The UUID namespace of exported resource ids."""

OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
PATIENT_ID_SYSTEM = "urn:ketascreen:patient-id"
"""The identifier system of the case's patient id (a clinic MRN the case does not qualify)."""

ANSWERS: tuple[tuple[str, str], ...] = (
    ("LA6568-5", "Not at all"),
    ("LA6569-3", "Several days"),
    ("LA6570-1", "More than half the days"),
    ("LA6571-9", "Nearly every day"),
)
"""LOINC answer list LL358-3, shared by PHQ-9 and GAD-7 items: index = item score 0-3."""


@dataclass(frozen=True)
class Scale:
    """The LOINC codes of one questionnaire: the form (panel), the total and the items."""

    name: ScaleName
    panel: str
    panel_display: str
    total: str
    total_display: str
    items: tuple[tuple[str, str], ...]

    @property
    def questionnaire(self) -> str:
        """The canonical URL of the LOINC form."""
        return f"http://loinc.org/q/{self.panel}"


PHQ9 = Scale("phq9", "44249-1", "PHQ-9 quick depression assessment panel [Reported.PHQ]",
             "44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]", (
                 ("44250-9", "Little interest or pleasure in doing things"),
                 ("44255-8", "Feeling down, depressed, or hopeless"),
                 ("44259-0", "Trouble falling or staying asleep, or sleeping too much"),
                 ("44254-1", "Feeling tired or having little energy"),
                 ("44251-7", "Poor appetite or overeating"),
                 ("44258-2", "Feeling bad about yourself - or that you are a failure or have "
                             "let yourself or your family down"),
                 ("44252-5", "Trouble concentrating on things, such as reading the newspaper "
                             "or watching television"),
                 ("44253-3", "Moving or speaking so slowly that other people could have "
                             "noticed. Or the opposite - being so fidgety or restless that you "
                             "have been moving around a lot more than usual"),
                 ("44260-8", "Thoughts that you would be better off dead, or of hurting "
                             "yourself in some way"),
             ))
"""PHQ-9: panel 44249-1 (C81), total 44261-6 and item codes (C82)."""

GAD7 = Scale("gad7", "69737-5", "Generalized anxiety disorder 7 item (GAD-7)",
             "70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]", (
                 ("69725-0", "Feeling nervous, anxious or on edge"),
                 ("68509-9", "Not being able to stop or control worrying"),
                 ("69733-4", "Worrying too much about different things"),
                 ("69734-2", "Trouble relaxing"),
                 ("69735-9", "Being so restless that it is hard to sit still"),
                 ("69689-8", "Becoming easily annoyed or irritable"),
                 ("69736-7", "Feeling afraid as if something awful might happen"),
             ))
"""GAD-7: panel 69737-5 (C83), total 70274-6 (C84) and item codes."""

BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
HEART_RATE = ("8867-4", "Heart rate")
SPO2 = ("2708-6", "Oxygen saturation in Arterial blood")
PULSE_OXIMETRY = ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")
PROFILES = {
    "blood_pressure": "http://hl7.org/fhir/StructureDefinition/bp",
    "heart_rate": "http://hl7.org/fhir/StructureDefinition/heartrate",
    "spo2": "http://hl7.org/fhir/StructureDefinition/oxygensat",
}
"""The base FHIR R4 vital-signs profiles each Observation declares."""

_FHIR_ID = re.compile(r"[A-Za-z0-9.-]{1,64}")


def course_bundle(course: Course, *, zone: tzinfo | None = None,
                  patient_id: str | None = None) -> dict[str, Any]:
    """The course's PHQ-9, GAD-7 and vital signs as a FHIR R4 Bundle of type ``collection``.

    Args:
        course: a validated ``ketascreen-course/1``.
        zone: the clinic's time zone (e.g. ``ZoneInfo("America/New_York")``): the course's
            local times are written with the offset in force at each (FHIR requires a zone on
            a date-time with a time). ``None``: this computer's local time zone.
        patient_id: the Patient's logical id in the receiving system; by default a UUID
            version 5 of the case's patient id.

    Returns:
        The Bundle as JSON-ready data: the Patient first, then per infusion (oldest first) the
        questionnaires, their totals and the vital signs. The same course, zone and patient id
        give the same Bundle.

    Raises:
        ValueError: ``patient_id`` is not a FHIR id (1-64 of ``A-Z a-z 0-9 - .``).
    """
    screening = course.screening
    if patient_id is None:
        patient_id = str(uuid.uuid5(NAMESPACE, f"Patient|{screening.patient.id}"))
    elif not _FHIR_ID.fullmatch(patient_id):
        raise ValueError(f"patient_id {patient_id!r} is not a FHIR id "
                         "(1-64 characters of A-Z a-z 0-9 - .)")
    subject = {"reference": f"Patient/{patient_id}"}
    resources: list[dict[str, Any]] = [_patient(screening, patient_id)]
    for index, infusion in enumerate(course.infusions):
        resources += _infusion(index, infusion, subject, zone)
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    return {"resourceType": "Bundle",
            "id": _id("Bundle", "", {"entry": [r["id"] for r in resources]}),
            "type": "collection", "entry": entries}


def course_bundle_json(course: Course, *, zone: tzinfo | None = None,
                       patient_id: str | None = None) -> str:
    """:func:`course_bundle` as JSON text (indented, keys in a fixed order, a final newline)."""
    return json.dumps(course_bundle(course, zone=zone, patient_id=patient_id), indent=2,
                      ensure_ascii=False) + "\n"


def _id(kind: str, place: str, content: dict[str, Any]) -> str:
    seed = f"{kind}|{place}|{json.dumps(content, sort_keys=True, ensure_ascii=False)}"
    return str(uuid.uuid5(NAMESPACE, seed))


def _with_id(place: str, resource: dict[str, Any]) -> dict[str, Any]:
    kind = str(resource["resourceType"])
    return {"resourceType": kind, "id": _id(kind, place, resource),
            **{k: v for k, v in resource.items() if k != "resourceType"}}


def _coding(system: str, code_display: tuple[str, str]) -> dict[str, str]:
    return {"system": system, "code": code_display[0], "display": code_display[1]}


def _concept(*codings: tuple[str, str], system: str = LOINC) -> dict[str, Any]:
    return {"coding": [_coding(system, c) for c in codings], "text": codings[0][1]}


def _when(moment: datetime, zone: tzinfo | None) -> str:
    """A FHIR dateTime: the local clock time with the zone's offset then, to the second."""
    clock = moment.replace(microsecond=0)
    aware = clock.astimezone() if zone is None else clock.replace(tzinfo=zone)
    return aware.isoformat(timespec="seconds")


def _number(value: float) -> int | float:
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else rounded


def _patient(case: Case, patient_id: str) -> dict[str, Any]:
    patient = case.patient
    resource: dict[str, Any] = {
        "resourceType": "Patient", "id": patient_id,
        "identifier": [{"type": {"coding": [{"system": V2_0203, "code": "MR"}]},
                        "system": PATIENT_ID_SYSTEM, "value": patient.id}],
        "name": [{"text": patient.name}],
        "gender": patient.sex,
        "birthDate": patient.birth_date.isoformat(),
    }
    return resource


def _infusion(index: int, infusion: Infusion, subject: dict[str, str],
              zone: tzinfo | None) -> list[dict[str, Any]]:
    place = f"infusions[{index}]"
    start = _when(infusion.start, zone)
    out: list[dict[str, Any]] = []
    pre = infusion.pre
    for scale, value in ((PHQ9, pre.phq9), (GAD7, pre.gad7)):
        if value is not None:
            out += _questionnaire(f"{place}.pre.{scale.name}", scale, value, subject, start)
    out += _vitals(f"{place}.pre", pre, subject, start)
    for number, reading in enumerate(infusion.monitoring):
        when = _when(infusion.start + timedelta(minutes=reading.minute), zone)
        out += _vitals(f"{place}.monitoring[{number}]", reading, subject, when)
    return out


def _questionnaire(place: str, scale: Scale, value: Sequence[int] | int,
                   subject: dict[str, str], when: str) -> list[dict[str, Any]]:
    total = value if isinstance(value, int) else sum(value)
    items: list[dict[str, Any]] = []
    if not isinstance(value, int):
        for (code, text), score in zip(scale.items, value, strict=True):
            items.append({"linkId": code, "text": text,
                          "answer": [{"valueCoding": _coding(LOINC, ANSWERS[score])}]})
    items.append({"linkId": scale.total, "text": scale.total_display,
                  "answer": [{"valueInteger": total}]})
    response = _with_id(place, {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": scale.questionnaire,
        "status": "completed",
        "subject": subject,
        "authored": when,
        "item": items,
    })
    observation = _with_id(place, {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey",
                                  "display": "Survey"}]}],
        "code": _concept((scale.total, scale.total_display)),
        "subject": subject,
        "effectiveDateTime": when,
        "valueQuantity": {"value": total, "unit": "{score}", "system": UCUM, "code": "{score}"},
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{response['id']}"}],
    })
    return [response, observation]


def _vital(place: str, kind: str, code: dict[str, Any], subject: dict[str, str], *, when: str,
           value: dict[str, Any]) -> dict[str, Any]:
    return _with_id(f"{place}.{kind}", {
        "resourceType": "Observation",
        "meta": {"profile": [PROFILES[kind]]},
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs",
                                  "display": "Vital Signs"}]}],
        "code": code,
        "subject": subject,
        "effectiveDateTime": when,
        **value,
    })


def _ucum(value: float, code: str) -> dict[str, Any]:
    return {"value": _number(value), "unit": code, "system": UCUM, "code": code}


def _vitals(place: str, signs: VitalSigns, subject: dict[str, str],
            when: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pressure = signs.blood_pressure_value()
    if pressure is not None:
        systolic, diastolic = pressure.mmhg()
        out.append(_vital(place, "blood_pressure", _concept(BP_PANEL), subject, when=when, value={
            "component": [
                {"code": _concept(SYSTOLIC), "valueQuantity": _ucum(systolic, "mm[Hg]")},
                {"code": _concept(DIASTOLIC), "valueQuantity": _ucum(diastolic, "mm[Hg]")},
            ]}))
    rate = signs.heart_rate_quantity()
    if rate is not None:
        out.append(_vital(place, "heart_rate", _concept(HEART_RATE), subject, when=when, value={
            "valueQuantity": _ucum(float(rate.to("1/minute").magnitude), "/min")}))
    saturation = signs.spo2_quantity()
    if saturation is not None:
        out.append(_vital(place, "spo2", _concept(SPO2, PULSE_OXIMETRY), subject, when=when, value={
            "valueQuantity": _ucum(float(saturation.to("percent").magnitude), "%")}))
    return out
