"""Case files and FHIR records: open, save (atomically) and import."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ketascreen.errors import CaseValidationError, FieldProblem
from ketascreen.models.course import COURSE_FORMAT
from ketascreen.models.parsing import parse_case, parse_case_json


def normalised(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` without empty containers, empty strings and ``None`` (for comparing what
    a file holds with what the form would write back)."""
    def clean(value: Any) -> Any:
        if isinstance(value, Mapping):
            out = {k: clean(v) for k, v in value.items()}
            return {k: v for k, v in out.items() if v not in (None, "", [], {})}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    result: dict[str, Any] = clean(document)
    return result


@dataclass(frozen=True)
class OpenedCase:
    """A case file as read: its JSON document, and the problems that make it invalid."""

    path: Path
    document: dict[str, Any]
    problems: tuple[FieldProblem, ...]


def is_course_file(path: Path) -> bool:
    """Whether ``path`` holds a JSON object whose ``format`` is ``ketascreen-course/1``.

    An unreadable or non-JSON file is not a course file (the case opener reports it).
    """
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == COURSE_FORMAT


def open_case_file(*, path: Path) -> OpenedCase:
    """Read a ``ketascreen-case/1`` file.

    A file that is JSON but not a valid case is returned with its problems, so the form can
    show them on the fields; the caller refuses it if the form cannot hold it losslessly.

    Raises:
        CaseValidationError: unreadable, not JSON, duplicate keys, or not a JSON object.
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CaseValidationError([FieldProblem("(file)", f"cannot be read: {error.strerror}")],
                                  source=str(path)) from None
    try:
        parse_case_json(raw, source=str(path))
        problems: tuple[FieldProblem, ...] = ()
    except CaseValidationError as error:
        problems = tuple(error.problems)
        if any(p.field in ("(document)", "(file)") for p in problems):
            raise
    data = json.loads(raw)
    if not isinstance(data, dict):  # pragma: no cover - refused above as "(document)"
        raise CaseValidationError([FieldProblem("(document)", "must be a JSON object")],
                                  source=str(path))
    return OpenedCase(path, data, problems)


def case_file_bytes(*, document: Mapping[str, Any]) -> bytes:
    """The bytes of a case file for ``document``.

    Raises:
        CaseValidationError: the document is not a valid case (a case file never is invalid).
    """
    case = parse_case(dict(document))
    data = case.model_dump(mode="json", exclude_none=True)
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def write_file(*, path: Path, data: bytes, force: bool) -> bool:
    """Write ``data`` atomically (temporary file, fsync, rename).

    Returns:
        Whether a signed document was replaced.

    Raises:
        OutputExistsError: ``path`` exists and ``force`` is false.
        OSError: the folder is not writable.
    """
    from ketascreen.reports.output import write_atomically  # noqa: PLC0415

    return write_atomically(path, data, force=force)


def save_case_file(*, path: Path, document: Mapping[str, Any], force: bool) -> Path:
    """Save ``document`` as a case file, atomically.

    Args:
        force: replace an existing file (Save over the file that is open, or a replacement
            the user confirmed).

    Raises:
        CaseValidationError: the document is not a valid case.
        OutputExistsError: ``path`` exists and ``force`` is false.
        OSError: the folder is not writable.
    """
    write_file(path=path, data=case_file_bytes(document=document), force=force)
    return path


@dataclass(frozen=True)
class ImportedCase:
    """A FHIR record imported as a case for the physician to complete.

    Attributes:
        document: the case document (questionnaire, screens and protocol left empty).
        warnings: (code, message, resource) of every data-quality warning.
        label: a short label of the patient for lists.
    """

    document: dict[str, Any]
    warnings: tuple[tuple[str, str, str | None], ...]
    label: str

    def checklist_lines(self) -> tuple[str, ...]:
        """The warnings as the checklist prints them."""
        return tuple(f"{code}: {message}" + (f" [{resource}]" if resource else "")
                     for code, message, resource in self.warnings)


def import_fhir_file(*, path: Path, as_of: date | None = None) -> ImportedCase:
    """Import one patient's FHIR R4 record (Bundle, resource file or folder).

    Raises:
        FhirImportError: unreadable or unusable record (DeceasedPatientError for a death).
        KnowledgeBaseError: the shipped knowledge base is invalid.
    """
    from ketascreen.fhir import import_fhir  # noqa: PLC0415 - only when importing

    imported = import_fhir(path, as_of=as_of)
    return ImportedCase(imported.case,
                        tuple((w.code, w.message, w.resource) for w in imported.warnings),
                        imported.patient_label)
