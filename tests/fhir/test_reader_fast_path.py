"""The reader walks a parsed file (``check_values``) only when its parse saw something the walk
could refuse; these tests show that skipping the walk changes nothing: whenever the walk refuses
a document, the parse marked it, and every sample file (which the walk passes) is read unmarked.
The garbage collector is off during an import and as it was afterwards."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketascreen.errors import FhirValueError
from ketascreen.fhir import import_fhir, importer
from ketascreen.fhir.importer import gc_paused
from ketascreen.fhir.reader import _parse, check_values, parse_json
from ketascreen.fhir.record import build_record
from tests.fhir.builders import AS_OF, bundle, observation, patient, write

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "fhir-samples"

_KEYS = ("value", "valueQuantity", "doseQuantity", "component", "code", "resourceType", "id",
         "extension")
_SCALARS = ("70", "70.5", "0", "-1", "true", "false", "null", '"85"', '"kg"', "NaN",
            "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400, '"Observation"', "{}",
            "[]")


def _text(node: Any) -> str:
    """JSON text of a node; an object is a list of (key, value) pairs, so keys may repeat."""
    if isinstance(node, str):
        return node
    if isinstance(node, tuple):  # an object
        return "{" + ",".join(f"{json.dumps(key)}:{_text(value)}" for key, value in node) + "}"
    return "[" + ",".join(_text(item) for item in node) + "]"


_NODES = st.recursive(
    st.sampled_from(_SCALARS),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(st.tuples(st.sampled_from(_KEYS), children), max_size=5).map(tuple)),
    max_leaves=25)


def _walk_refuses(text: str) -> bool:
    try:
        check_values(parse_json(text), "f.json")
    except FhirValueError:
        return True
    return False


@settings(max_examples=600, deadline=None)
@given(_NODES)
def test_the_parse_marks_every_document_the_walk_refuses(node: Any) -> None:
    text = _text(node)
    document, suspect = _parse(text)
    assert document == parse_json(text)
    if _walk_refuses(text):
        assert suspect, text


@pytest.mark.parametrize(("text", "suspect"), [
    ('{"valueQuantity": {"value": 70, "code": "kg"}}', False),
    ('{"valueQuantity": {"value": "70"}}', True),  # text
    ('{"valueQuantity": {"value": null}}', True),
    ('{"component": [{"valueQuantity": [[{"value": true}]]}]}', True),  # a list's items
    ('{"valueQuantity": {"value": ' + "1" * 400 + "}}", True),  # too large for a float
    ('{"value": ' + "1" * 400 + "}", False),  # outside a quantity: the walk passes it too
    ('{"valueString": "70", "value": "text"}', False),  # not a quantity's value
    ('{"a": 1, "a": 2}', True),
    ('{"a": NaN}', True),
    ('[1e400]', True),
    ("Infinity", True),
])
def test_named_documents(text: str, suspect: bool) -> None:
    assert _parse(text)[1] is suspect
    assert _walk_refuses(text) is suspect


def _sample_files() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*.json") if p.name != "manifest.json")


def test_every_sample_file_is_read_unmarked_and_passes_the_walk() -> None:
    files = _sample_files()
    assert len(files) >= 100
    for file in files:
        raw = file.read_bytes()
        document, suspect = _parse(raw)
        check_values(document, file.name)  # the walk passes every sample ...
        assert not suspect, file  # ... and the parse did not ask for it
        assert document == json.loads(raw)


def test_a_refused_file_is_named_as_before(tmp_path: Path) -> None:
    weight = observation("w1", "29463-7", "2026-11-20",
                         valueQuantity={"value": "70", "code": "kg"})
    source = write(tmp_path / "bundle.json", bundle(patient(), weight))
    with pytest.raises(FhirValueError) as caught:
        import_fhir(source, as_of=AS_OF)
    assert caught.value.resource == "Observation/w1"
    assert caught.value.field == "valueQuantity.value"


def test_the_collector_is_off_during_an_import_and_restored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real = build_record

    def spy(loaded: Any) -> Any:
        seen.append(gc.isenabled())
        return real(loaded)

    monkeypatch.setattr(importer, "build_record", spy)
    source = write(tmp_path / "bundle.json", bundle(patient()))
    assert gc.isenabled()
    import_fhir(source, as_of=AS_OF)
    assert seen == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # off before: left off
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError
    assert gc.isenabled()  # back on after an error
