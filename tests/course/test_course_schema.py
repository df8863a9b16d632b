"""`ketascreen schema course`: a JSON Schema that accepts the example course and refuses what
the model refuses structurally."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ketascreen.cli import main
from ketascreen.models.course import Course
from tests.course.helpers import course_with, example_course


@pytest.fixture
def schema(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The schema as `ketascreen schema course` prints it."""
    assert main(["schema", "course"]) == 0
    printed: dict[str, Any] = json.loads(capsys.readouterr().out)
    return printed


def test_schema_command_prints_the_course_schema(schema: dict[str, Any]) -> None:
    """The command exits 0 and prints the model's own JSON Schema."""
    printed = schema
    assert printed == Course.model_json_schema()
    assert printed["additionalProperties"] is False
    assert set(printed["required"]) == {"format", "screening", "infusions"}


def test_schema_is_a_valid_json_schema_accepting_the_example(schema: dict[str, Any]) -> None:
    """The schema is valid Draft 2020-12 and the example course validates against it."""
    jsonschema = pytest.importorskip("jsonschema")
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator_class(schema).validate(example_course())


@pytest.mark.parametrize("changes", [
    {"notes": "x"},
    {"infusions.2.pre.weigth": "80 kg"},
    {"infusions.0.monitoring.1.rr": "12 /min"},
    {"infusions.2.pre.phq9": [1, 1, 1, 1, 1, 1, 1, 1, 4]},
    {"infusions.2.pre.phq9": [1, 1, 1, 1, 1, 1, 1, 1]},
    {"infusions.2.pre.phq9": 28},
    {"infusions.2.pre.gad7": 22},
    {"infusions.0.discharge.aldrete": 11},
    {"infusions.0.monitoring.0.minute": -1},
    {"infusions.0.monitoring.0.moaas": 6},
    {"infusions": []},
    {"screening_record": "KS-12"},
    {"format": "ketascreen-case/1"},
])
def test_schema_refuses_structural_errors(schema: dict[str, Any],
                                          changes: dict[str, Any]) -> None:
    """What the schema can see (keys, ranges, lengths, patterns) it refuses, as the model does."""
    jsonschema = pytest.importorskip("jsonschema")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(course_with(changes), schema)
