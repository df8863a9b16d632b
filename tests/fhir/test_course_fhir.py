"""A course as a FHIR R4 Bundle, and PHQ-9/GAD-7 scores and vital signs back from a record.

The Bundle is validated with the ``fhir.resources`` R4B models (FHIR 4.3.0: Bundle, Patient,
Observation and QuestionnaireResponse are the same as in R4 4.0.1; the package has no 4.0.1
models), a test-only dependency.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from ketascreen.fhir import FhirImport, course_bundle, course_bundle_json, import_fhir
from ketascreen.models.course import Course, DayOfCheck
from ketascreen.models.parsing import parse_course
from tests.course.helpers import course_with
from tests.fhir.builders import LOINC, PATIENT_REF, UCUM, patient

EST = timezone(timedelta(hours=-5))
NEW_YORK = ZoneInfo("America/New_York")


def _course(changes: dict[str, Any] | None = None) -> Course:
    return parse_course(course_with(changes or {}))


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _by_code(bundle: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [r for r in _resources(bundle, "Observation")
            if any(c["code"] == code for c in r["code"]["coding"])]


def _write(tmp_path: Path, data: dict[str, Any], name: str = "bundle.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _round_trip(tmp_path: Path, course: Course, zone: Any = EST) -> FhirImport:
    path = tmp_path / "course.json"
    path.write_text(course_bundle_json(course, zone=zone), encoding="utf-8")
    return import_fhir(path, as_of=date(2026, 12, 31))


# --- the export -------------------------------------------------------------------------------

def test_the_bundle_validates_as_fhir() -> None:
    bundle = course_bundle(_course(), zone=EST)
    Bundle.model_validate(bundle)  # raises on any invalid element
    assert bundle["type"] == "collection"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[0] == "Patient"
    # 3 PHQ-9 + 2 GAD-7 (response and total each), 3 x 3 day-of vitals, 3 monitoring readings x 3
    assert kinds.count("QuestionnaireResponse") == 5
    assert kinds.count("Observation") == 5 + 9 + 9


def test_the_validator_refuses_what_fhir_refuses() -> None:
    """The check bites: a date-time with a time but no zone is not FHIR."""
    bundle = course_bundle(_course(), zone=EST)
    bundle["entry"][1]["resource"]["authored"] = "2026-11-27T09:00"
    with pytest.raises(ValidationError):
        Bundle.model_validate(bundle)


def test_the_same_course_exports_the_same_bundle() -> None:
    first = course_bundle_json(_course(), zone=EST)
    assert course_bundle_json(_course(), zone=EST) == first
    bundle = json.loads(first)
    ids = [e["resource"]["id"] for e in bundle["entry"]]
    assert len(set(ids)) == len(ids)  # a day-of reading equal to a monitoring one is its own
    assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in bundle["entry"])
    changed = course_bundle_json(_course({"infusions.2.pre.phq9": 10}), zone=EST)
    assert json.loads(changed)["id"] != bundle["id"]


def test_every_resource_names_the_patient() -> None:
    bundle = course_bundle(_course(), zone=EST, patient_id="pt-7")
    assert _resources(bundle, "Patient")[0]["id"] == "pt-7"
    for entry in bundle["entry"][1:]:
        assert entry["resource"]["subject"] == {"reference": "Patient/pt-7"}


@pytest.mark.parametrize("bad", ["", "a b", "x" * 65, "Patient/7"])
def test_a_patient_id_that_is_not_a_fhir_id_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a FHIR id"):
        course_bundle(_course(), zone=EST, patient_id=bad)


def test_phq9_and_gad7_codes_are_exact() -> None:
    bundle = course_bundle(_course(), zone=EST)
    responses = _resources(bundle, "QuestionnaireResponse")
    assert [r["questionnaire"] for r in responses] == [
        "http://loinc.org/q/44249-1", "http://loinc.org/q/69737-5",
        "http://loinc.org/q/44249-1", "http://loinc.org/q/69737-5",
        "http://loinc.org/q/44249-1"]
    first = responses[0]
    assert [i["linkId"] for i in first["item"]] == [
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3",
        "44260-8", "44261-6"]
    # [2, 2, 1, 2, 1, 1, 1, 1, 0]: answers from LOINC list LL358-3, the total 11 last
    answers = [i["answer"][0] for i in first["item"]]
    assert answers[0]["valueCoding"] == {"system": LOINC, "code": "LA6570-1",
                                         "display": "More than half the days"}
    assert answers[2]["valueCoding"]["code"] == "LA6569-3"
    assert answers[8]["valueCoding"]["code"] == "LA6568-5"
    assert answers[9] == {"valueInteger": 11}
    phq9 = _by_code(bundle, "44261-6")
    assert [o["valueQuantity"]["value"] for o in phq9] == [11, 8, 9]
    assert phq9[0]["valueQuantity"] == {"value": 11, "unit": "{score}", "system": UCUM,
                                        "code": "{score}"}
    assert phq9[0]["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{first['id']}"}]
    assert phq9[0]["category"][0]["coding"][0]["code"] == "survey"
    gad7 = _by_code(bundle, "70274-6")
    assert [o["valueQuantity"]["value"] for o in gad7] == [12, 7]
    # a GAD-7 given as a total (12) has the total item alone
    assert [i["linkId"] for i in responses[1]["item"]] == ["70274-6"]
    assert responses[3]["item"][0]["linkId"] == "69725-0"
    # infusion 3's PHQ-9 is a total only
    assert responses[4]["item"] == [{
        "linkId": "44261-6",
        "text": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
        "answer": [{"valueInteger": 9}]}]


def test_vital_sign_codes_and_units_are_exact() -> None:
    bundle = course_bundle(_course(), zone=EST)
    pressure = _by_code(bundle, "85354-9")[0]
    assert pressure["meta"] == {"profile": ["http://hl7.org/fhir/StructureDefinition/bp"]}
    assert pressure["category"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
        "code": "vital-signs", "display": "Vital Signs"}
    systolic, diastolic = pressure["component"]
    assert systolic["code"]["coding"][0]["code"] == "8480-6"
    assert diastolic["code"]["coding"][0]["code"] == "8462-4"
    assert systolic["valueQuantity"] == {"value": 132, "unit": "mm[Hg]", "system": UCUM,
                                         "code": "mm[Hg]"}
    assert diastolic["valueQuantity"]["value"] == 84
    rate = _by_code(bundle, "8867-4")[0]
    assert rate["valueQuantity"] == {"value": 70, "unit": "/min", "system": UCUM, "code": "/min"}
    saturation = _by_code(bundle, "2708-6")[0]
    assert [c["code"] for c in saturation["code"]["coding"]] == ["2708-6", "59408-5"]
    assert saturation["valueQuantity"] == {"value": 98, "unit": "%", "system": UCUM, "code": "%"}
    assert pressure["effectiveDateTime"] == "2026-11-27T09:00:00-05:00"


def test_a_pressure_in_kpa_is_written_in_mm_hg() -> None:
    bundle = course_bundle(_course({"infusions.0.pre.blood_pressure": "18.4/11.5 kPa"}),
                           zone=EST)
    systolic, diastolic = _by_code(bundle, "85354-9")[0]["component"]
    # 18.4 kPa = 138.01 mmHg, 11.5 kPa = 86.26 mmHg (to 0.1 mmHg, as the rules compare)
    assert systolic["valueQuantity"]["value"] == 138
    assert diastolic["valueQuantity"]["value"] == 86.3
    assert systolic["valueQuantity"]["code"] == "mm[Hg]"


def test_monitoring_times_cross_midnight_on_a_leap_day() -> None:
    data = course_with({"screening.screening_date": "2028-02-28"})
    data["infusions"] = [data["infusions"][0]]
    infusion = data["infusions"][0]
    infusion["start"] = "2028-02-29T23:00"
    infusion["pre"]["last_solids"] = "2028-02-29T15:00"
    infusion["pre"]["last_clear_fluids"] = "2028-02-29T21:00"
    infusion["monitoring"][1]["minute"] = 90
    bundle = course_bundle(parse_course(data), zone=EST)
    times = [o["effectiveDateTime"] for o in _by_code(bundle, "8867-4")]
    assert times == ["2028-02-29T23:00:00-05:00", "2028-02-29T23:00:00-05:00",
                     "2028-03-01T00:30:00-05:00"]


def test_the_offset_is_the_one_in_force_on_each_day() -> None:
    """US daylight saving ends on 2026-11-01: -04:00 on 31 October, -05:00 on 2 November."""
    data = course_with({"screening.screening_date": "2026-10-20",
                        "infusions.0.start": "2026-10-31T09:00",
                        "infusions.0.pre.last_solids": "2026-10-31T01:00",
                        "infusions.0.pre.last_clear_fluids": "2026-10-31T07:00",
                        "infusions.1.start": "2026-11-02T09:30",
                        "infusions.1.pre.last_solids": "2026-11-02T00:30",
                        "infusions.1.pre.last_clear_fluids": "2026-11-02T07:15"})
    bundle = course_bundle(parse_course(data), zone=NEW_YORK)
    assert [o["effectiveDateTime"] for o in _by_code(bundle, "44261-6")] == [
        "2026-10-31T09:00:00-04:00", "2026-11-02T09:30:00-05:00", "2026-12-02T09:00:00-05:00"]
    Bundle.model_validate(bundle)


def test_without_a_zone_the_computers_own_is_used() -> None:
    bundle = course_bundle(_course())
    offset = datetime(2026, 11, 27, 9, 0).astimezone().isoformat()[-6:]
    assert _by_code(bundle, "44261-6")[0]["effectiveDateTime"] == f"2026-11-27T09:00:00{offset}"
    Bundle.model_validate(bundle)


# --- the round trip ---------------------------------------------------------------------------

def test_scores_come_back_with_their_dates_and_items(tmp_path: Path) -> None:
    course = _course()
    imported = _round_trip(tmp_path, course)
    got = [(s.scale, s.value, s.taken) for s in imported.scores]
    expected = []
    for infusion in course.infusions:
        for scale in ("phq9", "gad7"):
            value = getattr(infusion.pre, scale)
            if value is not None:
                expected.append((scale, value, infusion.start))
    assert sorted(got, key=str) == sorted(expected, key=str)
    first = imported.scores[0]
    assert first.resource.startswith("Observation/")
    assert first.response is not None and first.response.startswith("QuestionnaireResponse/")
    assert first.taken_text == "2026-11-27T09:00:00-05:00"
    # an imported score is what a course file's day-of check takes
    for score in imported.scores:
        DayOfCheck.model_validate({score.scale: score.value})
    assert not [w for w in imported.warnings if w.code in ("unusable-score", "score-mismatch")]


def test_vital_signs_come_back_with_their_times(tmp_path: Path) -> None:
    course = _course()
    imported = _round_trip(tmp_path, course)
    expected = []
    for infusion in course.infusions:
        readings = [(infusion.start, infusion.pre)] + [
            (infusion.start + timedelta(minutes=r.minute), r) for r in infusion.monitoring]
        for when, signs in readings:
            for kind in ("blood_pressure", "heart_rate", "spo2"):
                value = getattr(signs, kind)
                if value is not None:
                    expected.append((kind, value, when))
    got = [(v.kind, v.value, v.taken) for v in imported.vitals]
    assert sorted(got, key=str) == sorted(expected, key=str)
    assert [v.taken for v in imported.vitals] == sorted(v.taken for v in imported.vitals)


def test_the_patient_comes_back(tmp_path: Path) -> None:
    imported = _round_trip(tmp_path, _course())
    assert imported.case["patient"] | {"pregnant": "no"} == {
        "id": "MRN-0042", "name": "Alex Rivera", "birth_date": "1979-05-14", "sex": "female",
        "pregnant": "no"}
    # the case keeps its one latest blood pressure (infusion 3's), as for any record
    assert imported.case["measurements"]["blood_pressure"] == "126/80 mmHg"


# --- scores in other records ------------------------------------------------------------------

def _record(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in (patient(), *resources)]}


def _total(rid: str, code: str, when: str, **value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]}, "subject": PATIENT_REF,
            "effectiveDateTime": when, **value}


def _response(rid: str, panel: str, when: str, answers: dict[str, Any],
              subject: dict[str, str] = PATIENT_REF) -> dict[str, Any]:
    items = [{"linkId": code, "answer": [answer]} for code, answer in answers.items()]
    return {"resourceType": "QuestionnaireResponse", "id": rid, "status": "completed",
            "questionnaire": f"http://loinc.org/q/{panel}", "subject": subject,
            "authored": when, "item": [{"linkId": "group", "item": items}]}


PHQ9_CODES = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5",
              "44253-3", "44260-8"]


def _import(tmp_path: Path, *resources: dict[str, Any]) -> FhirImport:
    return import_fhir(_write(tmp_path, _record(*resources)), as_of=date(2026, 3, 1))


def test_a_total_alone_is_a_score(tmp_path: Path) -> None:
    imported = _import(tmp_path, _total("o1", "44261-6", "2026-02-28T10:00:00Z", valueInteger=14))
    (score,) = imported.scores
    assert (score.scale, score.total, score.items, score.resource) == ("phq9", 14, None,
                                                                       "Observation/o1")
    assert score.taken == datetime(2026, 2, 28, 10, 0)
    assert score.describe() == "PHQ-9 14 <- Observation/o1, taken 2026-02-28T10:00:00Z"


@pytest.mark.parametrize(("total", "imported"), [(0, True), (27, True), (28, False), (-1, False)])
def test_a_phq9_total_outside_0_to_27_is_refused(tmp_path: Path, total: int,
                                                 imported: bool) -> None:
    result = _import(tmp_path, _total("o1", "44261-6", "2026-02-28", valueInteger=total))
    assert bool(result.scores) is imported
    assert any(w.code == "unusable-score" for w in result.warnings) is not imported


@pytest.mark.parametrize(("total", "imported"), [(21, True), (22, False)])
def test_a_gad7_total_above_21_is_refused(tmp_path: Path, total: int, imported: bool) -> None:
    result = _import(tmp_path, _total("o1", "70274-6", "2026-02-28", valueQuantity={
        "value": total, "system": UCUM, "code": "{score}"}))
    assert bool(result.scores) is imported


@pytest.mark.parametrize(("when", "imported"), [("2026-03-01", True), ("2026-03-02", False)])
def test_a_score_after_the_as_of_date_is_left_out(tmp_path: Path, when: str,
                                                  imported: bool) -> None:
    result = _import(tmp_path, _total("o1", "44261-6", when, valueInteger=5))
    assert bool(result.scores) is imported
    assert any("after the as-of date" in w.message for w in result.warnings) is not imported


def test_items_that_do_not_add_up_leave_the_total_alone(tmp_path: Path) -> None:
    answers = {code: {"valueInteger": 1} for code in PHQ9_CODES}  # 9
    total = _total("o1", "44261-6", "2026-02-28", valueInteger=10,
                   derivedFrom=[{"reference": "QuestionnaireResponse/q1"}])
    result = _import(tmp_path, total, _response("q1", "44249-1", "2026-02-28", answers))
    (score,) = result.scores
    assert (score.total, score.items) == (10, None)
    assert [w.code for w in result.warnings if w.code == "score-mismatch"] == ["score-mismatch"]


def test_items_from_the_response_the_total_derives_from(tmp_path: Path) -> None:
    answers = {code: {"valueInteger": 1} for code in PHQ9_CODES}
    answers["44260-8"] = {"valueCoding": {"system": LOINC, "code": "LA6570-1"}}  # item 9 = 2
    total = _total("o1", "44261-6", "2026-02-28", valueInteger=10,
                   derivedFrom=[{"reference": "QuestionnaireResponse/q1"}])
    result = _import(tmp_path, total, _response("q1", "44249-1", "2026-02-28", answers))
    (score,) = result.scores  # the response is not a second score
    assert score.items == (1, 1, 1, 1, 1, 1, 1, 1, 2)
    assert score.response == "QuestionnaireResponse/q1"


def test_a_response_alone_is_a_score_and_another_patients_is_not(tmp_path: Path) -> None:
    answers = {code: {"valueInteger": 0} for code in PHQ9_CODES}
    answers["44261-6"] = {"valueInteger": 0}
    result = _import(tmp_path, _response("q1", "44249-1", "2026-01-31T23:30:00+01:00", answers),
                     _response("q2", "44249-1", "2026-02-01", answers,
                               subject={"reference": "Patient/other"}))
    (score,) = result.scores
    assert (score.resource, score.total, score.taken) == (
        "QuestionnaireResponse/q1", 0, datetime(2026, 1, 31, 23, 30))


def test_a_response_missing_an_item_and_the_total_is_left_out(tmp_path: Path) -> None:
    answers = {code: {"valueInteger": 1} for code in PHQ9_CODES[:8]}
    result = _import(tmp_path, _response("q1", "44249-1", "2026-02-28", answers))
    assert result.scores == ()
    assert [w.code for w in result.warnings if w.code == "unusable-score"] == ["unusable-score"]
