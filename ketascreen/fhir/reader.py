"""Reading a FHIR source: a Bundle, a single resource, or a folder of resource files.

The reader only finds resources and remembers where each came from; it does not interpret them.
Anything that is not FHIR JSON at the top level is refused with :class:`FhirImportError`; a file
inside a folder that cannot be read is skipped with a warning, because the other files of the
folder may still hold a usable record.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ketascreen.errors import FhirImportError, FhirValueError, ImportWarning

MAX_FILE_BYTES = 200_000_000
"""Larger files are refused rather than read into memory (real exports are a few MB)."""

BUNDLE_TYPES = frozenset({"transaction", "batch", "collection", "searchset", "document"})
"""Bundle types whose entries are a patient's current resources. ``history`` (several versions
of one resource), ``message`` and the ``*-response`` types are refused."""

_MAX_NESTING = 4


@dataclass(frozen=True)
class SourcedResource:
    """One resource as found, with where it came from.

    Attributes:
        data: the resource's JSON object.
        file: the file it was read from.
        full_url: ``Bundle.entry.fullUrl`` when it came from a Bundle.
    """

    data: dict[str, Any]
    file: Path
    full_url: str | None = None

    @property
    def resource_type(self) -> str:
        """The ``resourceType``."""
        return str(self.data["resourceType"])

    @property
    def resource_id(self) -> str | None:
        """The logical ``id``, if it is a non-empty string."""
        value = self.data.get("id")
        return value if isinstance(value, str) and value.strip() else None

    @property
    def label(self) -> str:
        """``Type/id``, or ``Type`` with the file (or fullUrl) when the resource has no id."""
        if self.resource_id is not None:
            return f"{self.resource_type}/{self.resource_id}"
        return f"{self.resource_type} (no id, {self.full_url or self.file.name})"


@dataclass(frozen=True)
class LoadedSource:
    """Every resource found in a source, in document order, and the reader's warnings."""

    source: Path
    resources: tuple[SourcedResource, ...]
    warnings: tuple[ImportWarning, ...]


def load_source(source: Path) -> LoadedSource:
    """Read every resource of a Bundle file, a single-resource file, or a folder of them.

    Args:
        source: a ``.json`` file or a folder of ``.json`` files (one patient).

    Returns:
        The resources found and the warnings about files that were skipped.

    Raises:
        FhirImportError: the path cannot be read; a file is not JSON or not a FHIR resource;
            a Bundle is of an unsupported type or malformed; a folder holds no FHIR file.
    """
    source = Path(source)
    label = str(source)
    if source.is_dir():
        return _load_folder(source, label)
    if not source.exists():
        raise FhirImportError(label, "no such file or folder")
    resources = _read_file(source, label)
    return LoadedSource(source, tuple(resources), ())


class _RepeatedKeys(dict[str, Any]):
    """A JSON object in which a key was given more than once (the keys are in ``repeated``)."""

    repeated: list[str]


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    repeated: list[str] = []
    for key, value in pairs:
        if key in result:
            repeated.append(key)
        result[key] = value
    if not repeated:
        return result
    marked = _RepeatedKeys(result)
    marked.repeated = repeated
    return marked


class _Parse:
    """One parse of a file: the hooks of :func:`parse_json`, noting whether anything that
    :func:`check_values` refuses may be in the document (``suspect``).

    A document that is not ``suspect`` holds no repeated key, no ``_NotANumber`` and no
    ``...Quantity`` element whose ``value`` is not a number, so :func:`check_values` would pass
    it: the walk (the slow part of a large import) runs only when ``suspect`` is set, and then
    finds and names the first problem exactly as before.
    """

    def __init__(self) -> None:
        self.suspect = False

    def object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)  # the last value of a repeated key, in first-seen order, as _object
        if len(result) != len(pairs):
            self.suspect = True
            return _object(pairs)
        if "Quantity" in "\0".join(result) and any(
                _quantity_suspect(value) for key, value in result.items()
                if key.endswith("Quantity")):
            self.suspect = True
        return result

    def number(self, text: str) -> float | _NotANumber:
        value = _float(text)
        if isinstance(value, _NotANumber):
            self.suspect = True
        return value

    def constant(self, text: str) -> _NotANumber:
        self.suspect = True
        return _NotANumber(text)


def _quantity_suspect(node: object) -> bool:
    """Whether :func:`check_values` would refuse the value of a ``...Quantity`` element (a
    list's items are in it too, as in the walk)."""
    if isinstance(node, dict):
        return "value" in node and not _plain_number(node["value"])
    if isinstance(node, list):
        return any(_quantity_suspect(item) for item in node)
    return False


@dataclass(frozen=True)
class _NotANumber:
    """``NaN``, ``Infinity``, ``-Infinity`` or a number too large for a float, as written."""

    text: str


def _float(text: str) -> float | _NotANumber:
    value = float(text)
    return value if math.isfinite(value) else _NotANumber(text)


def _shown(value: object) -> str:
    if isinstance(value, _NotANumber):
        return value.text
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _FLOAT_MAX:
        return f"{str(value)[:12]}... ({len(str(value))} digits)"
    # A list or object may hold NaN or Infinity too ({"value": [NaN]}): shown as written.
    text = json.dumps(value, ensure_ascii=True, default=_as_written)
    return text if len(text) <= 40 else text[:37] + "..."


def _as_written(value: object) -> float:
    """A non-finite number inside a list or object, for :func:`json.dumps` (which writes
    ``NaN``, ``Infinity`` or ``-Infinity``)."""
    if isinstance(value, _NotANumber):
        return float(value.text)
    raise TypeError(type(value).__name__)


_FLOAT_MAX = sys.float_info.max


def _plain_number(value: object) -> bool:
    """Whether :func:`_quantity_value_problem` finds no problem with ``value``."""
    if isinstance(value, float):
        return True  # finite: _float made NaN, infinity and overflow _NotANumber
    return (isinstance(value, int) and not isinstance(value, bool)
            and abs(value) <= _FLOAT_MAX)


def _quantity_value_problem(value: object) -> str | None:
    if isinstance(value, _NotANumber) or (
            isinstance(value, int) and not isinstance(value, bool) and abs(value) > _FLOAT_MAX):
        return f"{_shown(value)} is out of range (not a finite number)"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{_shown(value)} is not a number"
    return None


def parse_json(raw: bytes | str) -> object:
    """Parse a FHIR file's JSON, keeping what :func:`check_values` must see.

    An object with a key given twice is marked (not silently reduced to its last value);
    ``NaN``, ``Infinity`` and decimals too large for a float are kept as written.

    Raises:
        ValueError: not JSON.
        RecursionError: nested too deeply.
    """
    return _parse(raw)[0]


def _parse(raw: bytes | str) -> tuple[object, bool]:
    """:func:`parse_json`, and whether :func:`check_values` must walk the result (see
    :class:`_Parse`)."""
    hooks = _Parse()
    document = json.loads(raw, object_pairs_hook=hooks.object, parse_float=hooks.number,
                          parse_constant=hooks.constant)
    return document, hooks.suspect


def check_values(document: object, where: str) -> None:
    """Refuse JSON that can be read two ways, and quantity values that are not numbers.

    Walks every object of a parsed file (Bundles and contained resources included), in document
    order. Refused, naming the resource and the element path (``Observation/abc`` and
    ``valueQuantity.value``): a key given twice in one object; in any ``...Quantity`` element
    (``valueQuantity``, ``component[1].valueQuantity``, ``doseQuantity``), a ``value`` that is
    text, a boolean, null or an object; and anywhere, ``NaN``, ``Infinity`` or a number too
    large for a float.

    Args:
        document: the file's JSON, parsed by :func:`parse_json` (it marks repeated keys).
        where: the file, as named in errors.

    Raises:
        FhirValueError: the first such problem.
    """
    # An explicit stack, not recursion: json.loads accepts nesting close to the recursion limit.
    stack: list[tuple[object, str, str, bool]] = [(document, "", "", False)]
    while stack:
        node, resource, path, in_quantity = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("resourceType"), str):
                ident = node.get("id")
                resource = node["resourceType"] + (f"/{ident}" if isinstance(ident, str) and
                                                   ident.strip() else "")
                path = ""
            if isinstance(node, _RepeatedKeys):
                key = node.repeated[0]
                field = f"{path}.{key}" if path else key
                raise FhirValueError(where, f"the key {key!r} is given twice in one object "
                                     "(which value is meant is ambiguous)",
                                     resource=resource or None, field=field)
            if in_quantity and "value" in node:
                problem = _quantity_value_problem(node["value"])
                if problem is not None:
                    raise FhirValueError(where, problem, resource=resource or None,
                                         field=f"{path}.value" if path else "value")
            children = [(value, resource, f"{path}.{key}" if path else key,
                         key.endswith("Quantity"))
                        for key, value in node.items()]
            stack.extend(reversed(children))
        elif isinstance(node, list):
            stack.extend(reversed([(value, resource, f"{path}[{index}]", in_quantity)
                                   for index, value in enumerate(node)]))
        elif isinstance(node, _NotANumber):
            raise FhirValueError(where, f"{node.text} is out of range (not a finite number)",
                                 resource=resource or None, field=path or None)


def _load_folder(folder: Path, label: str) -> LoadedSource:
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".json" and p.is_file())
    except OSError as error:
        raise FhirImportError(label, f"the folder cannot be read: {error.strerror}") from None
    if not files:
        raise FhirImportError(label, "the folder holds no .json file (a folder must hold one "
                              "patient's FHIR resource files)")
    resources: list[SourcedResource] = []
    warnings: list[ImportWarning] = []
    for file in files:
        try:
            resources.extend(_read_file(file, label))
        except FhirValueError:
            raise  # read two ways or not a number: never skipped, it may be the value that matters
        except FhirImportError as error:
            warnings.append(ImportWarning(
                "skipped-file", f"{file.name} was not read: {error.reason}. Check that it does "
                "not hold part of this patient's record.", None))
    if not resources:
        raise FhirImportError(label, "no file of the folder holds a FHIR resource",
                              warnings=tuple(warnings))
    return LoadedSource(folder, tuple(resources), tuple(warnings))


def _read_file(file: Path, label: str) -> list[SourcedResource]:
    where = label if file == Path(label) else f"{label}/{file.name}"
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FhirImportError(where, f"the file is too large ({size} bytes)")
        raw = file.read_bytes()
    except OSError as error:
        raise FhirImportError(where, f"the file cannot be read: {error.strerror}") from None
    try:
        document, suspect = _parse(raw)
    except (ValueError, RecursionError) as error:
        reason = "is nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise FhirImportError(where, f"the file is not JSON ({reason})") from None
    if suspect:  # otherwise nothing for the walk to refuse (_Parse)
        check_values(document, where)
    found: list[SourcedResource] = []
    _collect(document, file, None, found, where, depth=0)
    return found


def _collect(document: object, file: Path, full_url: str | None,
             found: list[SourcedResource], where: str, *, depth: int) -> None:
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str) \
            or not document["resourceType"].strip():
        raise FhirImportError(where, "not a FHIR resource (a JSON object with a resourceType "
                              "is expected)")
    if document["resourceType"] != "Bundle":
        found.append(SourcedResource(document, file, full_url))
        return
    if depth >= _MAX_NESTING:
        raise FhirImportError(where, "Bundles are nested too deeply")
    kind = document.get("type")
    if not isinstance(kind, str) or kind not in BUNDLE_TYPES:
        shown = kind if isinstance(kind, str) else "missing"
        raise FhirImportError(where, f"Bundle type {shown!r} is not supported (expected one of "
                              f"{', '.join(sorted(BUNDLE_TYPES))})", field="type")
    entries = document.get("entry", [])
    if not isinstance(entries, list):
        raise FhirImportError(where, "Bundle.entry is not a list", field="entry")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise FhirImportError(where, f"Bundle.entry[{index}] is not an object",
                                  field=f"entry[{index}]")
        request = entry.get("request")
        if isinstance(request, dict) and request.get("method") == "DELETE":
            continue
        search = entry.get("search")
        if isinstance(search, dict) and search.get("mode") == "outcome":
            continue
        resource = entry.get("resource")
        if resource is None:
            continue
        url = entry.get("fullUrl")
        _collect(resource, file, url if isinstance(url, str) else None, found,
                 f"{where} entry[{index}]", depth=depth + 1)
