"""Reading a ``ketascreen-case/1`` document: JSON text, a file or a parsed value, to a validated
:class:`~ketascreen.models.case.Case`, or a :class:`~ketascreen.errors.CaseValidationError` naming
every offending field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ketascreen.errors import CaseValidationError, FieldProblem
from ketascreen.models.case import Case

_MAX_CASE_BYTES = 5_000_000


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CaseValidationError([FieldProblem(key, "appears twice in the same object",
                                                    value)])
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise CaseValidationError([FieldProblem("(document)", f"{name} is not a valid JSON number")])


def _location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("[key]",):
            continue
        else:
            path += ("." if path else "") + str(part)
    return path or "(case)"


_NO_VALUE = frozenset({"missing", "extra_forbidden"})
_MODEL_LEVEL = frozenset({"dates", "coded", "preparation"})


def problems_from(error: ValidationError) -> list[FieldProblem]:
    """Turn pydantic's errors into field-naming problems, dropping union-branch noise."""
    problems: list[FieldProblem] = []
    for item in error.errors(include_url=False):
        # Pydantic names the union branch it tried ("list[...]", "constrained-int"); a person
        # reading the error wants the field, so branch names are left out of the path.
        loc = tuple(p for p in item["loc"]
                    if not (isinstance(p, str) and (("[" in p and p != "[key]")
                                                    or p.endswith("-int") or p == "int")))
        ctx = item.get("ctx") or {}
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "is not a field of ketascreen-case/1 (misspelt?)"
        elif item["type"] == "missing":
            message = "is required"
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        value = None if item["type"] in _NO_VALUE else item.get("input")
        field = _location(loc)
        if item["type"] in _MODEL_LEVEL:
            # Raised by a validator of a whole object: it names its own field, or none.
            field = str(ctx.get("field", field))
            value = ctx.get("value")
        problem = FieldProblem(field, message, value, ctx.get("suggestion"))
        if problem not in problems:
            problems.append(problem)
    return problems


def parse_case(data: object, *, source: str | None = None) -> Case:
    """Validate an already-parsed JSON value as a case.

    Raises:
        CaseValidationError: naming every offending field and value.
    """
    if not isinstance(data, dict):
        raise CaseValidationError([FieldProblem("(document)", "must be a JSON object")],
                                  source=source)
    try:
        return Case.model_validate(data)
    except ValidationError as error:
        raise CaseValidationError(problems_from(error), source=source) from None
    except RecursionError:
        raise CaseValidationError([FieldProblem("(document)", "is nested too deeply")],
                                  source=source) from None


def parse_case_json(text: str | bytes, *, source: str | None = None) -> Case:
    """Parse and validate case JSON text.

    Raises:
        CaseValidationError: not JSON, duplicate keys, or an invalid case.
    """
    if len(text) > _MAX_CASE_BYTES:
        raise CaseValidationError([FieldProblem("(document)", "is too large for a case file")],
                                  source=source)
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicates,
                          parse_constant=_reject_constant)
    except CaseValidationError as error:
        error.source = source
        raise CaseValidationError(error.problems, source=source) from None
    except (ValueError, RecursionError) as error:
        raise CaseValidationError([FieldProblem("(document)", f"is not valid JSON: {error}")],
                                  source=source) from None
    return parse_case(data, source=source)


def load_case(path: str | Path) -> Case:
    """Load and validate a ``ketascreen-case/1`` file.

    Raises:
        CaseValidationError: the file cannot be read, is not JSON, or is not a valid case.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CaseValidationError([FieldProblem("(file)", f"cannot be read: {error.strerror}")],
                                  source=str(path)) from None
    return parse_case_json(raw, source=str(path))
