"""Reading a ``ketascreen-case/1`` or ``ketascreen-course/1`` document: JSON text, a file or a
parsed value, to a validated :class:`~ketascreen.models.case.Case` or
:class:`~ketascreen.models.course.Course`, or a :class:`~ketascreen.errors.CaseValidationError`
(:class:`CourseValidationError` for a course) naming every offending field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ketascreen.errors import CaseValidationError, FieldProblem
from ketascreen.models.case import CASE_FORMAT, Case
from ketascreen.models.course import COURSE_FORMAT, Course

_Model = TypeVar("_Model", bound=BaseModel)

_MAX_CASE_BYTES = 5_000_000


class CourseValidationError(CaseValidationError):
    """A course document is invalid. Lists every problem found, each naming its full field path
    (``infusions[2].pre.phq9[8]``, ``screening.patient.sex``).

    Attributes:
        problems: the problems, in document order.
        source: the file the course came from, if any.
    """

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        if not self.problems:
            return f"{where}invalid course"
        lines = [p.describe() for p in self.problems]
        if len(lines) == 1:
            return f"{where}invalid course: {lines[0]}"
        return f"{where}invalid course ({len(lines)} problems):\n  " + "\n  ".join(lines)


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
_MODEL_LEVEL = frozenset({"dates", "coded", "preparation", "course"})


def problems_from(error: ValidationError, *,
                  document: str = CASE_FORMAT) -> list[FieldProblem]:
    """Turn pydantic's errors into field-naming problems, dropping union-branch noise.

    Args:
        error: pydantic's error.
        document: the format named in "is not a field of ..." for an unknown key.
    """
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
            message = f"is not a field of {document} (misspelt?)"
        elif item["type"] == "missing":
            message = "is required"
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        value = None if item["type"] in _NO_VALUE else item.get("input")
        field = _location(loc)
        if item["type"] in _MODEL_LEVEL:
            # Raised by a validator of a whole object: it names its own field (relative to that
            # object, which is the document itself for the case), or none.
            if "field" in ctx:
                field = _joined(field if loc else "", str(ctx["field"]))
            value = ctx.get("value")
        problem = FieldProblem(field, message, value, ctx.get("suggestion"))
        if problem not in problems:
            problems.append(problem)
    return problems


def _joined(parent: str, child: str) -> str:
    if not parent:
        return child
    return parent + child if child.startswith("[") else f"{parent}.{child}"


def parse_case(data: object, *, source: str | None = None) -> Case:
    """Validate an already-parsed JSON value as a case.

    Raises:
        CaseValidationError: naming every offending field and value.
    """
    return _validated(Case, data, source=source, error=CaseValidationError,
                      document=CASE_FORMAT)


def _validated(model: type[_Model], data: object, *, source: str | None,
               error: type[CaseValidationError], document: str) -> _Model:
    """``data`` validated as ``model``, or ``error`` naming every offending field."""
    if not isinstance(data, dict):
        raise error([FieldProblem("(document)", "must be a JSON object")], source=source)
    try:
        return model.model_validate(data)
    except ValidationError as found:
        raise error(problems_from(found, document=document), source=source) from None
    except RecursionError:
        raise error([FieldProblem("(document)", "is nested too deeply")],
                    source=source) from None


def _json_value(text: str | bytes, *, source: str | None, what: str,
                error: type[CaseValidationError]) -> object:
    """JSON text to a value: size limit, duplicate keys and NaN/Infinity refused."""
    if len(text) > _MAX_CASE_BYTES:
        raise error([FieldProblem("(document)", f"is too large for a {what} file")],
                    source=source)
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates,
                          parse_constant=_reject_constant)
    except CaseValidationError as found:
        raise error(found.problems, source=source) from None
    except (ValueError, RecursionError) as found:
        raise error([FieldProblem("(document)", f"is not valid JSON: {found}")],
                    source=source) from None


def parse_case_json(text: str | bytes, *, source: str | None = None) -> Case:
    """Parse and validate case JSON text.

    Raises:
        CaseValidationError: not JSON, duplicate keys, or an invalid case.
    """
    data = _json_value(text, source=source, what="case", error=CaseValidationError)
    return parse_case(data, source=source)


def load_case(path: str | Path) -> Case:
    """Load and validate a ``ketascreen-case/1`` file.

    Raises:
        CaseValidationError: the file cannot be read, is not JSON, or is not a valid case.
    """
    path = Path(path)
    return parse_case_json(_read(path, CaseValidationError), source=str(path))


def _read(path: Path, error: type[CaseValidationError]) -> bytes:
    try:
        return path.read_bytes()
    except OSError as found:
        raise error([FieldProblem("(file)", f"cannot be read: {found.strerror}")],
                    source=str(path)) from None


def parse_course(data: object, *, source: str | None = None) -> Course:
    """Validate an already-parsed JSON value as a ``ketascreen-course/1`` course.

    Every rule of interpretation that makes a course invalid is checked (infusions numbered 1..n
    in order, none before the screening, starts moving forward, local times without offset).

    Raises:
        CourseValidationError: naming every offending field by its full path, e.g.
            ``infusions[2].pre.phq9[8]`` or ``screening.measurements.weight``.
    """
    return _validated(Course, data, source=source, error=CourseValidationError,
                      document=COURSE_FORMAT)


def parse_course_json(text: str | bytes, *, source: str | None = None) -> Course:
    """Parse and validate course JSON text (the same size, duplicate-key and NaN checks as a
    case).

    Raises:
        CourseValidationError: not JSON, duplicate keys, or an invalid course.
    """
    data = _json_value(text, source=source, what="course", error=CourseValidationError)
    return parse_course(data, source=source)


def load_course(path: str | Path) -> Course:
    """Load and validate a ``ketascreen-course/1`` file.

    Raises:
        CourseValidationError: the file cannot be read, is not JSON, or is not a valid course.
    """
    path = Path(path)
    return parse_course_json(_read(path, CourseValidationError), source=str(path))
