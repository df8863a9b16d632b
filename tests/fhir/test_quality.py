"""Data-quality warnings on hand-built records: structured code, message and resource."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ketascreen.errors import DeceasedPatientError, FhirImportError
from ketascreen.fhir import ImportWarning, import_fhir
from tests.fhir.builders import (
    AS_OF,
    ICD10,
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


def test_icd10_only_condition_with_mislabelled_display(tmp_path: Path) -> None:
    """F10.10 displayed "Thyrotoxicosis": the code wins, and the mismatch is warned."""
    result = run(tmp_path, condition("c1", concept(ICD10, "F10.10", "Thyrotoxicosis"), None))
    warning = next(w for w in result.warnings if w.code == "icd10-display-mismatch")
    assert warning.resource == "Condition/c1"
    assert "F10.10" in warning.message
    assert "Thyrotoxicosis" in warning.message
    assert result.case["conditions"][0]["code"] == "F10.10"


@pytest.mark.parametrize("display", ["Alcohol abuse, uncomplicated", "Left knee pain", None])
def test_matching_or_neutral_display_is_not_warned(tmp_path: Path, display: str | None) -> None:
    """A display naming the same concept, or none, is not a mismatch."""
    result = run(tmp_path, condition("c1", concept(ICD10, "F10.10", display)))
    assert "icd10-display-mismatch" not in codes(result)


def test_snomed_coded_condition_is_not_checked(tmp_path: Path) -> None:
    """The check is for ICD-10-CM-only conditions (SNOMED carries its own meaning)."""
    coded = concept(ICD10, "F10.10", "Thyrotoxicosis")
    coded["coding"].append({"system": SNOMED, "code": "7200002", "display": "Alcoholism"})
    assert "icd10-display-mismatch" not in codes(run(tmp_path, condition("c1", coded)))


def test_pregnancy_implausible_for_age(tmp_path: Path) -> None:
    """An active pregnancy in a 98-year-old is warned (and still imported as active)."""
    source = write(tmp_path / "b.json", bundle(
        patient(birthDate="1922-09-25"),
        condition("c1", concept(SNOMED, "79586000", "Tubal pregnancy"))))
    result = import_fhir(source, as_of=date(2020, 12, 28))
    warning = next(w for w in result.warnings if w.code == "pregnancy-implausible")
    assert "98 years old" in warning.message
    assert warning.resource == "Condition/c1"
    assert result.case["conditions"][0]["status"] == "active"


def test_pregnancy_in_a_male_patient(tmp_path: Path) -> None:
    """A pregnancy status of Pregnant in a male patient is warned."""
    source = write(tmp_path / "b.json", bundle(
        patient(gender="male"),
        observation("o1", "82810-3", "2026-11-25",
                    valueCodeableConcept=concept(SNOMED, "77386006"))))
    result = import_fhir(source, as_of=AS_OF)
    assert [w.resource for w in result.warnings if w.code == "pregnancy-implausible"] == [None]


def test_resolved_pregnancy_at_any_age_is_fine(tmp_path: Path) -> None:
    """History of pregnancy is not implausible."""
    source = write(tmp_path / "b.json", bundle(
        patient(birthDate="1922-09-25"),
        condition("c1", concept(SNOMED, "72892002", "Normal pregnancy"), "resolved")))
    assert "pregnancy-implausible" not in codes(import_fhir(source, as_of=AS_OF))


def test_stale_weight_and_blood_pressure(tmp_path: Path) -> None:
    """Both stale values are warned with their own dates; taken_at is the oldest."""
    result = run(tmp_path,
                 observation("w", "29463-7", "2025-01-02", valueQuantity=quantity(70, "kg")),
                 blood_pressure("bp", "2026-11-20", 130, 80))
    stale = {w.code: w for w in result.warnings if w.code.startswith("stale-")}
    assert set(stale) == {"stale-weight", "stale-blood-pressure"}
    assert "2025-01-02" in stale["stale-weight"].message
    assert "5 days old" in stale["stale-blood-pressure"].message
    assert stale["stale-weight"].resource == "Observation/w"
    assert result.case["measurements"]["taken_at"] == "2025-01-02T00:00:00"


def test_deceased_patient_is_refused_with_orders_after_death(tmp_path: Path) -> None:
    """deceasedDateTime: refused; an order authored after death and one still active listed."""
    source = write(tmp_path / "b.json", bundle(
        patient(deceasedDateTime="2020-01-01T10:00:00Z"),
        request("old", "1153378", "Klonopin", authoredOn="2019-01-01"),
        request("late", "1153378", "Klonopin", "completed", authoredOn="2020-02-01"),
        request("done", "1153378", "Klonopin", "stopped", authoredOn="2019-01-01")))
    with pytest.raises(DeceasedPatientError) as refused:
        import_fhir(source, as_of=AS_OF)
    error = refused.value
    assert isinstance(error, FhirImportError)
    assert (error.resource, error.field, error.deceased_on) == (
        "Patient/p1", "deceasedDateTime", "2020-01-01")
    assert "died on 2020-01-01" in str(error)
    found = [(w.code, w.resource) for w in error.warnings]
    assert found == [("deceased", "Patient/p1"),
                     ("orders-after-death", "MedicationRequest/old"),
                     ("orders-after-death", "MedicationRequest/late")]


def test_deceased_boolean_is_refused(tmp_path: Path) -> None:
    """deceasedBoolean true without a date is refused too."""
    source = write(tmp_path / "p.json", patient(deceasedBoolean=True))
    with pytest.raises(DeceasedPatientError) as refused:
        import_fhir(source, as_of=AS_OF)
    assert refused.value.deceased_on is None
    assert "date not recorded" in refused.value.reason


def test_deceased_false_is_fine(tmp_path: Path) -> None:
    """deceasedBoolean false imports normally."""
    source = write(tmp_path / "p.json", patient(deceasedBoolean=False))
    assert import_fhir(source, as_of=AS_OF).case["patient"]["id"] == "MRN-7"


def test_every_import_says_the_indication_is_not_recorded(tmp_path: Path) -> None:
    """The case needs an indication; 'other' is written and warned."""
    result = run(tmp_path)
    assert result.case["indication"] == "other"
    assert codes(result)[-1] == "indication-not-recorded"
    assert all(isinstance(w, ImportWarning) and w.describe().startswith(w.code)
               for w in result.warnings)
