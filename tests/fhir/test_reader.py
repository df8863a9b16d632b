"""Malformed input is refused with a typed error naming the source, never a crash."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketascreen.errors import FhirImportError
from ketascreen.fhir import import_fhir
from ketascreen.fhir.reader import load_source
from tests.fhir.builders import AS_OF, bundle, codes, patient, request, run, write


def _refused(source: Path) -> FhirImportError:
    with pytest.raises(FhirImportError) as caught:
        import_fhir(source, as_of=AS_OF)
    assert str(source) in str(caught.value)
    return caught.value


@pytest.mark.parametrize(("document", "reason_part"), [
    ({"hello": "world"}, "not a FHIR resource"),
    ([1, 2, 3], "not a FHIR resource"),
    ("Patient", "not a FHIR resource"),
    ({"resourceType": ""}, "not a FHIR resource"),
    ({"resourceType": 7}, "not a FHIR resource"),
    ({"resourceType": "Bundle", "type": "history", "entry": []}, "'history' is not supported"),
    ({"resourceType": "Bundle", "entry": []}, "'missing' is not supported"),
    ({"resourceType": "Bundle", "type": "collection", "entry": {}}, "entry is not a list"),
    ({"resourceType": "Bundle", "type": "collection", "entry": [3]}, "is not an object"),
    ({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"a": 1}}]},
     "not a FHIR resource"),
    ({"resourceType": "Bundle", "type": "searchset", "entry": []}, "no (readable) Patient"),
    ({"resourceType": "Observation", "id": "x"}, "no (readable) Patient"),
    ({"resourceType": "Patient", "id": "p"}, "no birthDate"),
    ({"resourceType": "Patient", "id": "p", "birthDate": "14/05/1980"}, "is not a date"),
    ({"resourceType": "Patient", "id": "p", "birthDate": "2030-01-01"}, "after the as-of"),
    ({"resourceType": "Patient", "id": "p", "birthDate": "1880-01-01"}, "over 130 years"),
    ({"resourceType": "Patient", "id": "p", "birthDate": "1980", "name": "x"},
     "no (readable) Patient"),
])
def test_malformed_documents_are_refused(tmp_path: Path, document: Any,
                                          reason_part: str) -> None:
    """Arbitrary JSON, non-FHIR and unusable FHIR documents give FhirImportError."""
    error = _refused(write(tmp_path / "in.json", document))
    assert reason_part in error.reason


def test_bundle_without_patient_is_refused(tmp_path: Path) -> None:
    """A Bundle with resources but no Patient says so."""
    error = _refused(write(tmp_path / "b.json", bundle(request("m1", "1153378", "Klonopin"))))
    assert "no (readable) Patient" in error.reason


def test_two_patients_are_refused(tmp_path: Path) -> None:
    """Two different Patients in one Bundle: refused, naming both."""
    error = _refused(write(tmp_path / "b.json",
                           bundle(patient(), patient(id="p2", birthDate="1990-01-01"))))
    assert "2 different patients" in error.reason
    assert "Patient/p1" in error.reason
    assert "Patient/p2" in error.reason


def test_the_same_patient_twice_is_one_patient(tmp_path: Path) -> None:
    """An identical copy of the Patient (file plus Bundle copy) is not a second patient."""
    write(tmp_path / "Patient-p1.json", patient())
    write(tmp_path / "all.json", bundle(patient()))
    assert import_fhir(tmp_path, as_of=AS_OF).case["patient"]["id"] == "MRN-7"


@pytest.mark.parametrize("content", [b"", b"{", b"\xff\xfe not json", b"[" * 100_000])
def test_not_json_is_refused(tmp_path: Path, content: bytes) -> None:
    """Empty, truncated, binary and absurdly nested files are refused as not JSON."""
    path = tmp_path / "x.json"
    path.write_bytes(content)
    assert "not JSON" in _refused(path).reason


def test_missing_path_and_empty_folder_are_refused(tmp_path: Path) -> None:
    """A path that does not exist, and a folder without .json files."""
    assert "no such file" in _refused(tmp_path / "nope.json").reason
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    assert "no .json file" in _refused(tmp_path).reason


def test_folder_skips_unreadable_files_with_a_warning(tmp_path: Path) -> None:
    """A broken file in a patient folder is skipped and named in a warning."""
    write(tmp_path / "Patient-p1.json", patient())
    (tmp_path / "broken.json").write_text("{oops", encoding="utf-8")
    write(tmp_path / "manifest.json", {"not": "fhir"})
    result = import_fhir(tmp_path, as_of=AS_OF)
    skipped = [w for w in result.warnings if w.code == "skipped-file"]
    assert sorted(w.message.split()[0] for w in skipped) == ["broken.json", "manifest.json"]


def test_folder_of_only_junk_is_refused(tmp_path: Path) -> None:
    """A folder whose files are all unreadable is refused, carrying the skip warnings."""
    write(tmp_path / "a.json", {"x": 1})
    error = _refused(tmp_path)
    assert "no file of the folder" in error.reason
    assert len(error.warnings) == 1


@pytest.mark.parametrize("kind", ["transaction", "batch", "collection", "searchset", "document"])
def test_supported_bundle_types(tmp_path: Path, kind: str) -> None:
    """All five patient-content Bundle types are read."""
    source = write(tmp_path / "b.json", bundle(patient(), kind=kind))
    assert import_fhir(source, as_of=AS_OF).case["patient"]["name"] == "Alex J. Rivera"


def test_single_patient_resource_file(tmp_path: Path) -> None:
    """A lone Patient resource is a (thin) record."""
    result = import_fhir(write(tmp_path / "p.json", patient()), as_of=AS_OF)
    assert result.case["conditions"] == []
    assert result.case["medications"] == []


def test_nested_bundle_and_deleted_entries(tmp_path: Path) -> None:
    """A Bundle inside a collection is read; DELETE entries and outcome entries are not."""
    inner = bundle(request("m1", "1153378", "Clonazepam [Klonopin]"))
    outer = bundle(patient(), inner)
    outer["entry"].append({"request": {"method": "DELETE", "url": "MedicationRequest/m2"},
                           "resource": request("m2", "197591", "Diazepam 5 MG")})
    outer["entry"].append({"search": {"mode": "outcome"},
                           "resource": {"resourceType": "OperationOutcome"}})
    outer["entry"].append({"fullUrl": "urn:uuid:none"})
    result = import_fhir(write(tmp_path / "b.json", outer), as_of=AS_OF)
    assert [m["code"] for m in result.case["medications"]] == ["1153378"]


def test_malformed_resource_is_skipped_with_a_warning(tmp_path: Path) -> None:
    """A MedicationRequest whose coding is not a list becomes unreadable-resource."""
    bad = request("m1", "1153378", "Klonopin")
    bad["medicationCodeableConcept"]["coding"] = {"code": "1153378"}
    result = run(tmp_path, bad)
    assert result.case["medications"] == []
    assert "unreadable-resource" in codes(result)


def test_load_source_keeps_files_and_full_urls(tmp_path: Path) -> None:
    """The reader remembers each resource's file and fullUrl."""
    source = write(tmp_path / "b.json", bundle(patient()))
    loaded = load_source(source)
    assert [(r.label, r.file, r.full_url) for r in loaded.resources] == [
        ("Patient/p1", source, "urn:uuid:p1")]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(string.printable, max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["resourceType", "type", "entry", "resource", "id",
                                       "birthDate", "gender", "name", "status", "code",
                                       "coding", "fullUrl", "subject", "valueQuantity",
                                       "component", "clinicalStatus", "x"])
                      | st.text(max_size=5), children, max_size=5),
    max_leaves=25)
_fhirish = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Bundle", "Patient", "Observation", "Condition",
                                      "MedicationRequest", "Encounter", "Medication"])},
    optional={"type": st.sampled_from(["collection", "transaction", "history"]) | _json,
              "entry": st.lists(st.fixed_dictionaries({"resource": _json}) | _json, max_size=4),
              "birthDate": st.sampled_from(["1980-05-14", "1980", "x"]) | _json,
              "gender": _json, "name": _json, "id": _json, "deceasedBoolean": _json,
              "identifier": _json, "code": _json, "status": _json})


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=_json | _fhirish)
def test_arbitrary_json_never_crashes(tmp_path: Path, document: Any) -> None:
    """Whatever JSON a file holds, the import returns a case or raises FhirImportError."""
    path = tmp_path / "any.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    try:
        result = import_fhir(path, as_of=AS_OF)
    except FhirImportError:
        return
    assert result.case["format"] == "ketascreen-case/1"


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(resources=st.lists(_fhirish | _json, max_size=4))
def test_arbitrary_resources_beside_a_patient_never_crash(tmp_path: Path,
                                                         resources: list[Any]) -> None:
    """Junk resources beside a valid Patient give a case (with warnings) or a typed error."""
    entries = [{"resource": r} for r in resources]
    document = {"resourceType": "Bundle", "type": "collection",
                "entry": [{"resource": patient()}, *entries]}
    path = tmp_path / "any.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    try:
        result = import_fhir(path, as_of=AS_OF)
    except FhirImportError:
        return
    assert result.case["patient"]["id"] == "MRN-7"
