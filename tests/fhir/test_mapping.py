"""Mapping rules, each shown on a small hand-built record."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ketascreen.fhir import import_fhir
from tests.fhir.builders import (
    AS_OF,
    ICD10,
    LOINC,
    RXNORM,
    SNOMED,
    blood_pressure,
    bundle,
    codes,
    concept,
    condition,
    observation,
    patient,
    quantity,
    request,
    run,
    write,
)


def _patient_only(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    source = write(tmp_path / "p.json", patient(**changes))
    found: dict[str, Any] = import_fhir(source, as_of=AS_OF).case["patient"]
    return found


def test_patient_demographics(tmp_path: Path) -> None:
    """MRN (not SSN) as id; the official name, not the old one; birth date and sex as given."""
    result = run(tmp_path)
    assert result.case["patient"] == {"id": "MRN-7", "name": "Alex J. Rivera",
                                      "birth_date": "1980-05-14", "sex": "female",
                                      "pregnant": "unknown"}
    assert result.patient_label == "Alex J. Rivera (MRN-7)"
    assert result.case["screening_date"] == "2026-11-25"


def test_resource_id_when_no_mrn_and_text_name(tmp_path: Path) -> None:
    """Without an MR-typed identifier the resource id is used; HumanName.text wins."""
    found = _patient_only(tmp_path, identifier=[{"value": "123-45-6789"}],
                          name=[{"text": "  Dr  Ada   Lovelace "}])
    assert (found["id"], found["name"]) == ("p1", "Dr Ada Lovelace")


@pytest.mark.parametrize(("gender", "sex", "warning"), [
    ("male", "male", None), ("female", "female", None), ("other", "unknown", "gender-not-binary"),
    ("unknown", "unknown", "gender-not-binary"), (None, "unknown", "missing-gender"),
])
def test_gender(tmp_path: Path, gender: str | None, sex: str, warning: str | None) -> None:
    """male/female kept; other, unknown and absent -> unknown with a warning."""
    source = write(tmp_path / "p.json", patient(gender=gender))
    result = import_fhir(source, as_of=AS_OF)
    assert result.case["patient"]["sex"] == sex
    gender_codes = [c for c in codes(result) if "gender" in c]
    assert gender_codes == ([warning] if warning else [])


@pytest.mark.parametrize(("given", "birth"), [
    ("1980", "1980-12-31"), ("1980-02", "1980-02-29"), ("1960-02-29", "1960-02-29")])
def test_partial_birth_dates_give_the_youngest_age(tmp_path: Path, given: str,
                                                   birth: str) -> None:
    """A year or year-month birth date becomes the last day of the period (stricter for
    age-under-18), with a warning; a leap-day date is kept."""
    source = write(tmp_path / "p.json", patient(birthDate=given))
    result = import_fhir(source, as_of=AS_OF)
    assert result.case["patient"]["birth_date"] == birth
    assert ("partial-birth-date" in codes(result)) == (len(given) < 10)


def test_missing_name_is_labelled(tmp_path: Path) -> None:
    """A Patient without a name still imports, labelled by its reference."""
    found = _patient_only(tmp_path, name=[{"use": "official"}])
    assert found["name"] == "(no name in the record, Patient/p1)"


@pytest.mark.parametrize(("clinical", "verification", "status"), [
    ("active", None, "active"), ("recurrence", None, "recurrence"),
    ("relapse", None, "relapse"), ("inactive", None, "inactive"),
    ("remission", None, "remission"), ("resolved", None, "resolved"),
    ("active", "confirmed", "active"), ("active", "unconfirmed", "active"),
    ("active", "entered-in-error", "entered-in-error"), (None, None, "active"),
    ("bogus", None, "active"),
])
def test_condition_status(tmp_path: Path, clinical: str | None, verification: str | None,
                          status: str) -> None:
    """clinicalStatus maps one to one; entered-in-error kept as such; missing -> active."""
    result = run(tmp_path, condition("c1", concept(SNOMED, "84757009", "Epilepsy"), clinical,
                                     verification))
    assert [c["status"] for c in result.case["conditions"]] == [status]
    assert ("missing-clinical-status" in codes(result)) == (clinical in (None, "bogus"))


def test_refuted_condition_is_left_out_but_traced(tmp_path: Path) -> None:
    """A refuted diagnosis is not in the case; the provenance says why."""
    result = run(tmp_path, condition("c1", concept(SNOMED, "84757009", "Epilepsy"),
                                     verification="refuted"))
    assert result.case["conditions"] == []
    left_out = [p for p in result.provenance if p.resource == "Condition/c1"]
    assert [(p.field, p.detail) for p in left_out] == [
        (None, "not imported: verificationStatus refuted")]


def test_condition_coding_and_provenance_text(tmp_path: Path) -> None:
    """SNOMED code, display as text with the source suffix, onset date."""
    result = run(tmp_path, condition("c1", concept(SNOMED, "84757009", "Epilepsy"),
                                     onsetDateTime="2001-03-04T10:00:00+02:00"))
    assert result.case["conditions"] == [{
        "text": "Epilepsy (from Condition/c1)", "system": SNOMED, "code": "84757009",
        "status": "active", "onset": "2001-03-04"}]


def test_multi_coded_condition_keeps_each_concept(tmp_path: Path) -> None:
    """SNOMED + ICD-10 codings naming one concept give one entry; different concepts, two."""
    same = concept(SNOMED, "84757009", "Epilepsy")
    same["coding"].append({"system": ICD10, "code": "G40.909", "display": "Epilepsy"})
    both = concept(SNOMED, "84757009", "Epilepsy")
    both["coding"].append({"system": ICD10, "code": "F10.10", "display": "Alcohol abuse"})
    result = run(tmp_path, condition("a", same), condition("b", both))
    entries = [(c["code"], c["text"]) for c in result.case["conditions"]]
    assert entries[0] == ("84757009", "Epilepsy (from Condition/a)")
    assert [code for code, _ in entries[1:]] == ["84757009", "F10.10"]


def test_unknown_codes_keep_the_first_snomed_and_text(tmp_path: Path) -> None:
    """An unrecognised condition keeps its first SNOMED code and its text."""
    result = run(tmp_path, condition("c1", concept(SNOMED, "39065001", "Burn of ear",
                                                   text="Burnt Ear")))
    assert result.case["conditions"][0]["code"] == "39065001"
    assert result.case["conditions"][0]["text"].startswith("Burnt Ear (from ")


def test_condition_without_code_or_text_is_warned(tmp_path: Path) -> None:
    """A Condition with nothing to show is not imported, with a warning."""
    result = run(tmp_path, condition("c1", {"coding": [{"system": "urn:local", "code": "9"}]}))
    assert result.case["conditions"] == []
    assert "empty-condition" in codes(result)


@pytest.mark.parametrize(("status", "case_status", "warned"), [
    ("active", "active", False), ("on-hold", "on-hold", False), ("stopped", "stopped", False),
    ("completed", "completed", False), ("entered-in-error", "entered-in-error", False),
    ("cancelled", "stopped", False), ("draft", "active", True), ("unknown", "active", True),
    ("bogus", "active", True),
])
def test_medication_request_status(tmp_path: Path, status: str, case_status: str,
                                   warned: bool) -> None:
    """Request statuses map as documented in ketascreen.fhir.medications."""
    result = run(tmp_path, request("m1", "1153378", "Clonazepam [Klonopin]", status))
    assert [m["status"] for m in result.case["medications"]] == [case_status]
    assert ("medication-status-assumed" in codes(result)) == warned


@pytest.mark.parametrize(("status", "case_status"), [
    ("active", "active"), ("intended", "active"), ("not-taken", "stopped"),
    ("completed", "completed"), ("on-hold", "on-hold"), ("entered-in-error", "entered-in-error"),
])
def test_medication_statement_status(tmp_path: Path, status: str, case_status: str) -> None:
    """MedicationStatement statuses, including intended and not-taken."""
    statement = {"resourceType": "MedicationStatement", "id": "s1", "status": status,
                 "medicationCodeableConcept": concept(RXNORM, "563026", "Diazepam [Valium]"),
                 "subject": {"reference": "Patient/p1"}}
    result = run(tmp_path, statement)
    assert result.case["medications"] == [{
        "text": "Diazepam [Valium] (from MedicationStatement/s1)", "status": case_status,
        "system": RXNORM, "code": "563026"}]


def test_do_not_perform_order_is_left_out(tmp_path: Path) -> None:
    """An order not to give a drug is not a medication of the patient."""
    result = run(tmp_path, request("m1", "1153378", "Klonopin", doNotPerform=True))
    assert result.case["medications"] == []
    assert any(p.detail.startswith("not imported: doNotPerform") for p in result.provenance)


def test_contained_medication(tmp_path: Path) -> None:
    """medicationReference to a contained Medication is resolved."""
    order = request("m1", None, None, medicationReference={"reference": "#med"},
                    contained=[{"resourceType": "Medication", "id": "med",
                                "code": concept(RXNORM, "1153378", "Clonazepam [Klonopin]")}])
    result = run(tmp_path, order)
    assert result.case["medications"][0]["code"] == "1153378"
    assert "contained Medication" in next(
        p.detail for p in result.provenance if p.field == "medications[0]")


@pytest.mark.parametrize("reference", ["Medication/med1", "urn:uuid:med1",
                                       "https://ehr.example/fhir/Medication/med1"])
def test_referenced_medication_in_the_bundle(tmp_path: Path, reference: str) -> None:
    """medicationReference by Type/id, fullUrl or absolute URL is resolved in the record."""
    medication = {"resourceType": "Medication", "id": "med1",
                  "code": concept(RXNORM, "563026", "Diazepam [Valium]")}
    order = request("m1", None, None, medicationReference={"reference": reference})
    result = run(tmp_path, medication, order)
    assert result.case["medications"][0]["code"] == "563026"


def test_medication_from_ingredients(tmp_path: Path) -> None:
    """A Medication with ingredients but no code is named after its ingredients."""
    medication = {"resourceType": "Medication", "id": "med1", "ingredient": [
        {"itemCodeableConcept": {"text": "lorazepam"}},
        {"itemCodeableConcept": concept(RXNORM, "7052", "morphine")}]}
    order = request("m1", None, None, medicationReference={"reference": "Medication/med1"})
    result = run(tmp_path, medication, order)
    assert result.case["medications"][0]["text"] == "lorazepam / morphine (from " \
        "MedicationRequest/m1)"


def test_unresolved_reference_uses_display_and_warns(tmp_path: Path) -> None:
    """An unresolvable medicationReference keeps its display (recognised by name) and warns."""
    order = request("m1", None, None, medicationReference={"reference": "Medication/gone",
                                                           "display": "Xanax 0.5 mg"})
    result = run(tmp_path, order)
    assert result.case["medications"][0]["text"].startswith("Xanax 0.5 mg (from ")
    assert "unresolved-medication" in codes(result)


def test_medication_with_nothing_is_unidentified(tmp_path: Path) -> None:
    """A MedicationRequest naming no drug at all is imported as unidentified, warned."""
    result = run(tmp_path, request("m1", None, None))
    assert result.case["medications"][0]["text"].startswith("Unidentified medication (from ")
    assert "unresolved-medication" in codes(result)
    assert "unidentified-medication" in codes(result)


def test_text_and_differing_display_are_both_kept(tmp_path: Path) -> None:
    """Concept text and a different coding display are both shown (more names to recognise)."""
    order = request("m1", None, None, medicationCodeableConcept=concept(
        RXNORM, "999999", "Acetaminophen 500 MG / Diphenhydramine 25 MG", text="Tylenol PM"))
    result = run(tmp_path, order)
    assert result.case["medications"][0]["text"] == (
        "Tylenol PM [Acetaminophen 500 MG / Diphenhydramine 25 MG] (from MedicationRequest/m1)")


def test_recognised_coding_is_preferred(tmp_path: Path) -> None:
    """Of several RxNorm codings, the one the knowledge base knows is kept."""
    medication = concept(RXNORM, "000001", "Mystery")
    medication["coding"].append({"system": RXNORM, "code": "1153378",
                                 "display": "Clonazepam [Klonopin]"})
    result = run(tmp_path, request("m1", None, None, medicationCodeableConcept=medication))
    assert result.case["medications"][0]["code"] == "1153378"


def test_other_patients_resources_are_dropped(tmp_path: Path) -> None:
    """A resource whose subject is another patient is not imported, with a warning."""
    order = request("m1", "1153378", "Klonopin", subject={"reference": "Patient/someone-else"})
    result = run(tmp_path, order)
    assert result.case["medications"] == []
    assert "other-patient" in codes(result)


@pytest.mark.parametrize("subject", [None, {"reference": "Patient/p1"},
                                     {"reference": "urn:uuid:p1"},
                                     {"reference": "http://x/fhir/Patient/p1/_history/3"},
                                     {"display": "Alex"}])
def test_own_subject_forms(tmp_path: Path, subject: dict[str, str] | None) -> None:
    """Missing, relative, fullUrl, absolute-with-history and display-only subjects are ours."""
    order = request("m1", "1153378", "Klonopin")
    if subject is None:
        del order["subject"]
    else:
        order["subject"] = subject
    assert len(run(tmp_path, order).case["medications"]) == 1


def test_weight_units_by_ucum_code_not_unit_text(tmp_path: Path) -> None:
    """[lb_av] with display unit "kg" is pounds; the latest weight wins."""
    result = run(tmp_path,
                 observation("w1", "29463-7", "2026-11-01", valueQuantity=quantity(70, "kg")),
                 observation("w2", "29463-7", "2026-11-20",
                             valueQuantity=quantity(165, "[lb_av]", unit="kg")))
    assert result.case["measurements"]["weight"] == "165 lb"


@pytest.mark.parametrize(("code", "value", "expected"), [
    ("kg", 74.20301234, "74.2 kg"), ("g", 3500, "3500 g"), ("[oz_av]", 120, "120 oz"),
    ("[lb_av]", 185.5, "185.5 lb")])
def test_weight_values(tmp_path: Path, code: str, value: float, expected: str) -> None:
    """Mass UCUM codes become case units; decimals are trimmed to two places."""
    result = run(tmp_path, observation("w", "29463-7", "2026-11-20",
                                       valueQuantity=quantity(value, code)))
    assert result.case["measurements"]["weight"] == expected


@pytest.mark.parametrize(("value_quantity", "warning"), [
    ({"value": 70, "unit": "kg"}, "unusable-observation"),
    ({"value": 70, "unit": "kg", "system": "urn:local", "code": "kg"}, "unusable-observation"),
    ({"value": 70, "system": "http://unitsofmeasure.org", "code": "kg/m2"},
     "unusable-observation"),
    ({"system": "http://unitsofmeasure.org", "code": "kg"}, "unusable-observation"),
    ({"value": 0, "system": "http://unitsofmeasure.org", "code": "kg"}, "implausible-value"),
    ({"value": 950, "system": "http://unitsofmeasure.org", "code": "kg"}, "implausible-value"),
])
def test_unusable_weights_are_skipped(tmp_path: Path, value_quantity: dict[str, Any],
                                      warning: str) -> None:
    """No UCUM code, a foreign system, a wrong dimension, no value or an impossible value."""
    result = run(tmp_path, observation("w", "29463-7", "2026-11-20",
                                       valueQuantity=value_quantity))
    assert "weight" not in result.case["measurements"]
    assert warning in codes(result)


def test_weight_observation_status_and_dates(tmp_path: Path) -> None:
    """Cancelled and entered-in-error readings are ignored; undated and future ones warned."""
    cancelled = observation("a", "29463-7", "2026-11-24", valueQuantity=quantity(90, "kg"))
    cancelled["status"] = "entered-in-error"
    undated = observation("b", "29463-7", "x", valueQuantity=quantity(91, "kg"))
    del undated["effectiveDateTime"]
    future = observation("c", "29463-7", "2026-12-01", valueQuantity=quantity(92, "kg"))
    amended = observation("d", "29463-7", "2026-11-01", valueQuantity=quantity(93, "kg"))
    amended["status"] = "amended"
    result = run(tmp_path, cancelled, undated, future, amended)
    assert result.case["measurements"]["weight"] == "93 kg"
    assert {"undated-observation", "future-dated"} <= set(codes(result))


@pytest.mark.parametrize(("code", "value", "expected"), [
    ("cm", 170.18, "170.18 cm"), ("m", 1.7, "1.7 m"), ("[in_i]", 67, "67 in"),
    ("[ft_i]", 5.5, "5.5 ft")])
def test_height(tmp_path: Path, code: str, value: float, expected: str) -> None:
    """Body height 8302-2 in any length unit."""
    result = run(tmp_path, observation("h", "8302-2", "2026-11-20",
                                       valueQuantity=quantity(value, code)))
    assert result.case["measurements"]["height"] == expected


@pytest.mark.parametrize("panel", ["85354-9", "55284-4"])
def test_blood_pressure_components_by_code_not_order(tmp_path: Path, panel: str) -> None:
    """Diastolic listed first (as Synthea does) still gives systolic/diastolic."""
    result = run(tmp_path, blood_pressure("bp", "2026-11-25T08:10:00", 152, 95, panel,
                                          diastolic_first=True))
    assert result.case["measurements"]["blood_pressure"] == "152/95 mmHg"
    assert result.case["measurements"]["taken_at"] == "2026-11-25T08:10:00"


def test_mean_blood_pressure_panel(tmp_path: Path) -> None:
    """96607-7 reads its mean components 96608-5/96609-3 and dates by the period end."""
    mean = observation("avg", "96607-7", "x", component=[
        {"code": concept(LOINC, "96609-3"), "valueQuantity": quantity(72, "mm[Hg]")},
        {"code": concept(LOINC, "96608-5"), "valueQuantity": quantity(109, "mm[Hg]")},
        {"code": concept(SNOMED, "246432004"), "valueQuantity": {"value": 3, "unit": "#"}}])
    del mean["effectiveDateTime"]
    mean["effectivePeriod"] = {"start": "2026-11-20T01:00:00Z", "end": "2026-11-23T13:07:01Z"}
    result = run(tmp_path, mean)
    assert result.case["measurements"]["blood_pressure"] == "109/72 mmHg"
    assert result.case["measurements"]["taken_at"] == "2026-11-23T13:07:01"


@pytest.mark.parametrize("components", [
    [{"code": concept(LOINC, "8480-6"), "valueQuantity": quantity(150, "mm[Hg]")}],
    [{"code": concept(LOINC, "8480-6"), "valueQuantity": quantity(150, "mm[Hg]")},
     {"code": concept(LOINC, "8462-4"), "valueQuantity": quantity(12, "kPa")}],
    [{"code": concept(LOINC, "8480-6"), "valueQuantity": quantity(80, "mm[Hg]")},
     {"code": concept(LOINC, "8462-4"), "valueQuantity": quantity(120, "mm[Hg]")}],
])
def test_incomplete_or_impossible_blood_pressure_is_skipped(
        tmp_path: Path, components: list[dict[str, Any]]) -> None:
    """A missing component, mixed units, or systolic below diastolic: skipped, warned."""
    result = run(tmp_path, observation("bp", "85354-9", "2026-11-25", component=components))
    assert "blood_pressure" not in result.case["measurements"]
    assert {"unusable-observation", "implausible-value"} & set(codes(result))


def test_taken_at_is_the_oldest_of_weight_and_blood_pressure(tmp_path: Path) -> None:
    """A fresh BP cannot hide a stale weight: taken_at is the older date, and both are warned."""
    result = run(tmp_path,
                 observation("w", "29463-7", "2026-09-01T10:00:00",
                             valueQuantity=quantity(70, "kg")),
                 blood_pressure("bp", "2026-11-25T08:00:00", 120, 80))
    assert result.case["measurements"]["taken_at"] == "2026-09-01T10:00:00"
    stale = [w for w in result.warnings if w.code.startswith("stale-")]
    assert [w.code for w in stale] == ["stale-weight"]
    assert "85 days old" in stale[0].message


@pytest.mark.parametrize(("code", "when", "pregnant", "warned"), [
    ("77386006", "2026-11-25", "yes", False), ("77386006", "2026-02-10", "yes", False),
    ("77386006", "2025-11-01", "unknown", True), ("60001007", "2026-11-20", "no", False),
    ("60001007", "2026-11-01", "unknown", True), ("261665006", "2026-11-25", "unknown", False),
])
def test_pregnancy_status(tmp_path: Path, code: str, when: str, pregnant: str,
                          warned: bool) -> None:
    """82810-3 by SNOMED code; an old "Not pregnant" (> 7 days) or "Pregnant" (> 42 weeks)
    becomes unknown with a warning."""
    result = run(tmp_path, observation("preg", "82810-3", when,
                                       valueCodeableConcept=concept(SNOMED, code)))
    assert result.case["patient"]["pregnant"] == pregnant
    assert ("stale-pregnancy-status" in codes(result)) == warned


def test_pregnancy_status_text_is_never_read(tmp_path: Path) -> None:
    """A value whose text says Pregnant but whose code does not is ignored."""
    result = run(tmp_path, observation("preg", "82810-3", "2026-11-25",
                                       valueCodeableConcept=concept(
                                           SNOMED, "454381000124105", "Not sure",
                                           text="Pregnant")))
    assert result.case["patient"]["pregnant"] == "unknown"


def test_future_dated_items_are_imported_with_warnings(tmp_path: Path) -> None:
    """An order and a condition dated after the as-of date are kept (stricter) and warned."""
    encounter = {"resourceType": "Encounter", "id": "e1", "status": "planned",
                 "subject": {"reference": "Patient/p1"},
                 "period": {"start": "2027-01-01"}}
    result = run(tmp_path, request("m1", "1153378", "Klonopin", authoredOn="2027-01-01"),
                 condition("c1", concept(SNOMED, "84757009", "Epilepsy"),
                           onsetDateTime="2027-02-01"), encounter,
                 as_of=date(2026, 11, 25))
    future = [w for w in result.warnings if w.code == "future-dated"]
    assert sorted(str(w.resource) for w in future) == ["Condition/c1", "MedicationRequest/m1",
                                                       "None"]
    assert len(result.case["medications"]) == 1


def test_as_of_defaults_to_today(tmp_path: Path) -> None:
    """Without as_of, the screening date is today."""
    source = write(tmp_path / "b.json", bundle(patient()))
    assert import_fhir(source).case["screening_date"] == date.today().isoformat()


def test_knowledge_is_shared_with_a_loaded_rule_set(tmp_path: Path) -> None:
    """Once the screening rule set is loaded, the importer reuses its knowledge base."""
    from ketascreen.fhir import importer
    from ketascreen.screening import rule_set_in_force

    importer._knowledge.cache_clear()
    ruleset = rule_set_in_force()
    run(tmp_path)
    assert importer._knowledge().drugs is ruleset.drugs
    importer._knowledge.cache_clear()
