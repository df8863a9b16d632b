"""The provenance suffix never creates or breaks recognition, and provenance is structured."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketascreen.fhir.provenance import source_suffix, with_source, written_id
from ketascreen.knowledge.conditions import ConditionKnowledge
from ketascreen.knowledge.drugs import DrugKnowledge
from ketascreen.knowledge.recognition import strip_provenance
from ketascreen.models.case import Condition, Medication
from tests.fhir.builders import SNOMED, concept, condition, request, run

TYPES = ("MedicationRequest", "MedicationStatement", "Condition")


@pytest.fixture(scope="module")
def drugs() -> DrugKnowledge:
    """The shipped drug knowledge base."""
    return DrugKnowledge()


@pytest.fixture(scope="module")
def conditions() -> ConditionKnowledge:
    """The shipped condition knowledge base."""
    return ConditionKnowledge()


def _condition_names(knowledge: ConditionKnowledge) -> list[str]:
    return sorted({n for e in knowledge.entries for n in (e.name.lower(), *e.synonyms)})


@pytest.mark.parametrize(("resource_id", "written"), [
    ("abc-123", "abc-123"),
    ("self-tylenol", "self-tylenol"),
    ("fc712d1f-5a2e-4407-9c55-a2a2bad623c2", "fc712d1f-5a2e-4407-9c55-a2a2bad623c2"),
    ("diazepam.v2", "diazepam.v2"),
])
def test_valid_ids_are_written_verbatim(resource_id: str, written: str) -> None:
    """A valid FHIR id is written as it is, so the clinician can look it up."""
    assert written_id(resource_id) == written


@given(st.text(min_size=1, max_size=30).filter(lambda t: not re.fullmatch(r"[A-Za-z0-9.-]+", t)))
def test_invalid_fhir_ids_are_replaced_by_a_digest(resource_id: str) -> None:
    """An id with characters FHIR does not allow is replaced by a digest that cannot match."""
    assert re.fullmatch(r"~0x[0-9a-f]{12}", written_id(resource_id))


@given(st.text(alphabet=string.ascii_letters + string.digits + ".-", min_size=1, max_size=64))
def test_any_valid_id_suffix_is_stripped(resource_id: str) -> None:
    """Recognition sees the text without the suffix, whatever the id."""
    for kind in TYPES:
        assert strip_provenance(with_source("Sertraline", kind, resource_id, "f.json")) == (
            "Sertraline")


def test_suffix_words_are_not_names(drugs: DrugKnowledge,
                                    conditions: ConditionKnowledge) -> None:
    """"from" and the resource types are no drug or condition name."""
    for kind in TYPES:
        suffix = source_suffix(kind, "1", "file.json")
        assert drugs.recognise_text(suffix) is None
        assert conditions.recognise(Condition(text=suffix)) == []


def test_no_drug_name_as_id_creates_a_match(drugs: DrugKnowledge) -> None:
    """Every drug name, brand and combination used as (part of) an id matches nothing."""
    for name in drugs.names():
        for resource_id in (name, f"x-{name}", f"{name}-1", name.replace(" ", "-"),
                            name.upper(), f"1.{name}.2"):
            for kind in TYPES:
                suffix = source_suffix(kind, resource_id, "f.json")
                assert drugs.recognise_text(suffix) is None, (name, suffix)


def test_no_condition_name_as_id_creates_a_match(conditions: ConditionKnowledge) -> None:
    """Every condition name and synonym used as an id matches nothing."""
    for name in _condition_names(conditions):
        for resource_id in (name, f"c-{name}", name.replace(" ", "-")):
            suffix = source_suffix("Condition", resource_id, "f.json")
            assert conditions.recognise(Condition(text=suffix)) == [], (name, suffix)


def test_suffix_does_not_break_recognition(drugs: DrugKnowledge) -> None:
    """A name at the very end of the text is still found after the suffix is added."""
    for name in drugs.names():
        plain = drugs.recognise_text(f"Take {name}")
        suffixed = drugs.recognise_text(with_source(f"Take {name}", "MedicationRequest",
                                                    "abc-123", "f.json"))
        assert plain is not None
        assert suffixed is not None
        assert suffixed.ingredients == plain.ingredients


def test_id_naming_another_drug_adds_nothing_end_to_end(tmp_path: Path,
                                                        drugs: DrugKnowledge) -> None:
    """An uncoded sertraline order whose id is "diazepam" is sertraline only (no benzo)."""
    order = request("diazepam", None, None, medicationCodeableConcept={"text": "Sertraline"})
    result = run(tmp_path, order)
    entry = result.case["medications"][0]
    assert entry["text"] == "Sertraline (from MedicationRequest/diazepam)"
    match = drugs.recognise(Medication.model_validate(entry))
    assert match is not None
    assert match.ingredients == ("sertraline",)
    trace = next(p for p in result.provenance if p.field == "medications[0]")
    assert trace.resource == "MedicationRequest/diazepam"  # the id verbatim, for the report


def test_id_naming_a_condition_adds_nothing_end_to_end(tmp_path: Path) -> None:
    """A Condition with id "epilepsy" and an unknown code is not read as epilepsy."""
    result = run(tmp_path, condition("epilepsy", concept(SNOMED, "39065001", "Burn of ear")))
    entry = result.case["conditions"][0]
    assert entry["text"] == "Burn of ear (from Condition/epilepsy)"
    assert ConditionKnowledge().recognise(Condition.model_validate(entry)) == []


@pytest.mark.parametrize(("resource_id", "fallback", "written"), [
    ("", "urn:uuid:b0e2-c", " (from Condition b0e2-c)"),
    (None, "Condition-Condition-21.json", " (from Condition Condition-Condition-21.json)"),
])
def test_suffix_without_id_names_the_fallback(resource_id: str | None, fallback: str,
                                              written: str) -> None:
    """A resource without id is named by the tail of its fullUrl, or its file name."""
    assert source_suffix("Condition", resource_id, fallback) == written


def test_structured_provenance(tmp_path: Path) -> None:
    """Each imported item has a provenance entry naming its case path and source resource."""
    result = run(tmp_path, request("m1", "1153378", "Clonazepam [Klonopin]", "stopped"),
                 condition("c1", concept(SNOMED, "84757009", "Epilepsy")))
    traced = {p.field: (p.kind, p.resource, p.detail) for p in result.provenance}
    assert traced["medications[0]"][:2] == ("medication", "MedicationRequest/m1")
    assert "status stopped -> stopped" in traced["medications[0]"][2]
    assert traced["conditions[0]"][:2] == ("condition", "Condition/c1")
    assert traced["patient.id"][1] == "Patient/p1"
    assert all(p.file.endswith("bundle.json") for p in result.provenance)
    described = [p.describe() for p in result.provenance]
    assert any(d.startswith("medications[0] <- MedicationRequest/m1 (") for d in described)
    assert set(string.printable) >= set("".join(described))
