"""FHIR JSON that can be read two ways, or quantity values that are not numbers, stop the import
naming the resource and the element; a value out of the possible range is skipped naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketascreen.errors import FhirValueError
from ketascreen.fhir import import_fhir
from ketascreen.fhir.reader import check_values, load_source, parse_json
from tests.fhir.builders import (
    AS_OF,
    blood_pressure,
    bundle,
    codes,
    observation,
    patient,
    quantity,
    run,
    write,
)


def _weight(value: Any) -> dict[str, Any]:
    return observation("w1", "29463-7", "2026-11-20",
                       valueQuantity={"value": value, "system": "http://unitsofmeasure.org",
                                      "code": "kg"})


def _refusal(tmp_path: Path, text: str) -> FhirValueError:
    source = tmp_path / "bundle.json"
    source.write_text(text, encoding="utf-8")
    with pytest.raises(FhirValueError) as caught:
        import_fhir(source, as_of=AS_OF)
    return caught.value


@pytest.mark.parametrize(("value", "shown", "problem"), [
    (True, "true", "is not a number"),
    (False, "false", "is not a number"),
    ("85", '"85"', "is not a number"),
    (None, "null", "is not a number"),
    ({"n": 85}, '{"n": 85}', "is not a number"),
    ([85], "[85]", "is not a number"),
])
def test_quantity_value_that_is_not_a_number_is_refused(
        tmp_path: Path, value: Any, shown: str, problem: str) -> None:
    """A weight of true (read as 1 kg), "85", null or an object: the import stops, naming
    Observation/w1.valueQuantity.value and the value as written."""
    error = _refusal(tmp_path, json.dumps(bundle(patient(), _weight(value))))
    assert (error.resource, error.field) == ("Observation/w1", "valueQuantity.value")
    assert error.reason == f"{shown} {problem}"
    assert f"(Observation/w1.valueQuantity.value): {shown} {problem}" in str(error)


@pytest.mark.parametrize(("literal", "shown"), [
    ("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e400", "1e400"),
    ("1" + "0" * 400, "100000000000... (401 digits)"),
])
def test_quantity_value_out_of_range_is_refused(tmp_path: Path, literal: str,
                                                shown: str) -> None:
    """NaN, infinity and numbers too large for a float are refused, naming the element."""
    text = json.dumps(bundle(patient(), _weight(70))).replace('"value": 70', f'"value": {literal}')
    error = _refusal(tmp_path, text)
    assert (error.resource, error.field) == ("Observation/w1", "valueQuantity.value")
    assert error.reason == f"{shown} is out of range (not a finite number)"


@pytest.mark.parametrize(("literal", "shown"), [
    ("[NaN]", "[NaN]"), ("[70, -Infinity]", "[70, -Infinity]"), ('{"n": NaN}', '{"n": NaN}'),
])
def test_a_list_or_object_holding_nan_is_refused_not_crashed(tmp_path: Path, literal: str,
                                                             shown: str) -> None:
    """A value that is a list or object holding NaN is refused with the typed error that names
    the element (it once raised TypeError while writing the message)."""
    text = json.dumps(bundle(patient(), _weight(70))).replace('"value": 70', f'"value": {literal}')
    error = _refusal(tmp_path, text)
    assert (error.resource, error.field) == ("Observation/w1", "valueQuantity.value")
    assert error.reason == f"{shown} is not a number"


def test_component_value_is_named_by_its_index(tmp_path: Path) -> None:
    """A diastolic component's boolean value names component[1].valueQuantity.value."""
    panel = blood_pressure("bp1", "2026-11-25", 120, 80)
    panel["component"][1]["valueQuantity"]["value"] = True
    error = _refusal(tmp_path, json.dumps(bundle(patient(), panel)))
    assert (error.resource, error.field) == ("Observation/bp1", "component[1].valueQuantity.value")


@pytest.mark.parametrize(("old", "new", "resource", "field"), [
    ('"value": 70', '"value": 70, "value": 700', "Observation/w1", "valueQuantity.value"),
    ('"birthDate": "1980-05-14"', '"birthDate": "1980-05-14", "birthDate": "2010-05-14"',
     "Patient/p1", "birthDate"),
    ('"status": "final"', '"status": "final", "status": "entered-in-error"', "Observation/w1",
     "status"),
    ('"type": "collection"', '"type": "collection", "type": "history"', "Bundle", "type"),
])
def test_duplicate_keys_are_refused(tmp_path: Path, old: str, new: str, resource: str,
                                    field: str) -> None:
    """A key given twice in one object (the parser would keep the last, another the first) stops
    the import, naming the resource and the element."""
    text = json.dumps(bundle(patient(), _weight(70)))
    assert text.count(old) == 1
    error = _refusal(tmp_path, text.replace(old, new))
    assert (error.resource, error.field) == (resource, field)
    assert f"the key {field.rsplit('.', 1)[-1]!r} is given twice" in error.reason


def test_a_bad_file_in_a_folder_stops_the_import(tmp_path: Path) -> None:
    """In a folder of resource files, a file with a repeated key is not skipped with a warning
    (it may hold the weight that matters): the import stops."""
    folder = tmp_path / "record"
    folder.mkdir()
    write(folder / "patient.json", patient())
    (folder / "weight.json").write_text(
        json.dumps(_weight(70)).replace('"value": 70', '"value": 70, "value": 7'),
        encoding="utf-8")
    with pytest.raises(FhirValueError) as caught:
        load_source(folder)
    assert caught.value.resource == "Observation/w1"


def test_numbers_in_quantities_are_accepted(tmp_path: Path) -> None:
    """Integers and decimals are numbers: the weight is imported."""
    assert run(tmp_path, _weight(70)).case["measurements"]["weight"] == "70 kg"
    assert run(tmp_path, _weight(70.5)).case["measurements"]["weight"] == "70.5 kg"


def test_out_of_range_weight_is_skipped_naming_the_element(tmp_path: Path) -> None:
    """An impossible weight (950 kg) is skipped with a warning naming the element."""
    result = run(tmp_path, observation("w9", "29463-7", "2026-11-20",
                                       valueQuantity=quantity(950, "kg")))
    assert "weight" not in result.case["measurements"]
    (warning,) = [w for w in result.warnings if w.code == "implausible-value"]
    assert "(Observation/w9.valueQuantity.value) is out of range" in warning.message
    assert "implausible-value" in codes(result)


# --- property: a repeated key anywhere is found --------------------------------------------

_keys = st.sampled_from(["value", "code", "system", "id", "status", "text", "a", "b"])
_leaves = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=5)
_json = st.recursive(_leaves, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(_keys, inner, max_size=3), max_leaves=12)


def _objects(node: object, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found += _objects(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _objects(value, f"{path}[{index}]")
    return found


@settings(max_examples=200)
@given(document=st.dictionaries(_keys, _json, min_size=1, max_size=4), data=st.data())
def test_a_repeated_key_anywhere_is_refused_with_its_path(document: dict[str, Any],
                                                          data: st.DataObject) -> None:
    """Take any JSON object tree, repeat one key of one object of it: the check refuses it,
    naming exactly that element; the tree as it was passes."""
    document = {**document, "resourceType": "Basic", "id": "x1"}
    text = json.dumps(document)
    check_values(parse_json(text), "f.json")  # no repeat: passes
    objects = [(p, o) for p, o in _objects(document) if o]  # every object with a key
    path, target = data.draw(st.sampled_from(objects))
    key = data.draw(st.sampled_from(sorted(target)))
    # Re-serialise with the chosen object's key given twice (the same value: still refused).
    marker = "\u0000repeat\u0000"
    target[marker] = None
    repeated = json.dumps(document).replace(f'"{json.dumps(marker)[1:-1]}": null',
                                            f'"{key}": {json.dumps(target[key])}')
    del target[marker]
    with pytest.raises(FhirValueError) as caught:
        check_values(parse_json(repeated), "f.json")
    assert caught.value.field == (f"{path}.{key}" if path else key)
    assert caught.value.resource == "Basic/x1"
