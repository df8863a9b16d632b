"""The typed errors: structured fields set by their dataclass ``__init__``, compared, hashed and
shown as exceptions are (by identity, with their message)."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from ketascreen import errors
from ketascreen.errors import CaseValidationError, FieldProblem, KetascreenError, KnowledgeBaseError

ERROR_CLASSES = sorted(
    (cls for _, cls in inspect.getmembers(errors, inspect.isclass)
     if issubclass(cls, KetascreenError) and dataclasses.is_dataclass(cls)),
    key=lambda cls: cls.__name__)


def test_every_dataclass_error_is_covered() -> None:
    """The list below is the module's dataclass errors (27 of them)."""
    assert len(ERROR_CLASSES) == 27


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_an_error_compares_and_hashes_by_identity_as_an_exception(cls: type) -> None:
    """No field-by-field __eq__ or __repr__ is generated: Exception's own are used."""
    assert cls.__eq__ is object.__eq__
    assert cls.__hash__ is object.__hash__
    assert cls.__repr__ is BaseException.__repr__


def test_fields_message_and_repr_of_an_error() -> None:
    """The fields are set and typed as declared; the message is the error's str; two errors
    with the same fields are two errors (identity), each usable in a set."""
    problem = FieldProblem(field="patient.weight", message="must be greater than zero",
                           value="0 kg")
    one = CaseValidationError(problems=[problem], source="case.json")
    other = CaseValidationError(problems=[problem], source="case.json")
    assert one.problems == [problem] and one.source == "case.json"
    assert str(one) == "case.json: invalid case: " + problem.describe()
    assert repr(one) == f"CaseValidationError({str(one)!r})"
    assert one != other and one == one  # noqa: PLR0124 - identity is the point
    assert len({one, other}) == 2
    base = KnowledgeBaseError("rules.toml", "R1", "no statement")
    assert (base.file, base.entry, base.problem) == ("rules.toml", "R1", "no statement")
    assert repr(base) == "KnowledgeBaseError('rules.toml: R1: no statement')"


def test_field_problems_still_compare_by_value() -> None:
    """The other side: the frozen records inside errors (FieldProblem) keep value equality."""
    assert FieldProblem(field="a", message="b") == FieldProblem(field="a", message="b")
    assert FieldProblem(field="a", message="b") != FieldProblem(field="a", message="c")
