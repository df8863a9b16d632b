"""Reading the data files: TOML shipped in the package, or a clinic's own (bytes or a path), hashed.

Every loader of :mod:`ketascreen.knowledge` takes its file the same way (:data:`DataSource`): the
file's bytes (a clinic file kept in the records database), a path, or ``None`` for the shipped
file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeAlias, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from ketascreen.errors import KnowledgeBaseError

R = TypeVar("R", bound="Record")


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


AnyText = Annotated[str, BeforeValidator(_as_text)]
"""A value the loaders have always read as text whatever it is written as (a version, a name)."""


class Record(BaseModel):
    """A table of a data file as a typed record: no key beyond its fields, immutable once read.

    Read one with :func:`read_table`, which turns a validation error into the
    :class:`~ketascreen.errors.KnowledgeBaseError` naming the file and the entry.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, eq=False, repr=False)
class DataFile:
    """A parsed data file with its name and the sha256 of its bytes."""

    name: str
    content: dict[str, Any]
    sha256: str


DataSource: TypeAlias = bytes | Path | None
"""What every loader reads: the file's bytes, a path to it, or ``None`` for the shipped file."""


def source_label(name: str, source: DataSource) -> str:
    """How errors name a data file: its path, ``name`` when shipped, else ``supplied <name>``."""
    if isinstance(source, Path):
        return str(source)
    return name if source is None else f"supplied {name}"


def read_data_file(name: str, source: DataSource = None, *, schema: str) -> DataFile:
    """Read the shipped data file ``name``, or a clinic's replacement given as bytes or a path.

    Args:
        name: the shipped file's name in ``knowledge/data`` (``policy.toml``).
        source: the replacement's bytes, or its path; ``None`` reads the shipped file.
        schema: the ``schema`` the file must declare.

    Raises:
        KnowledgeBaseError: the file is missing, is not TOML, or declares another schema.
    """
    label = source_label(name, source)
    if isinstance(source, bytes):
        raw = source
    else:
        try:
            raw = (source.read_bytes() if source is not None
                   else resources.files("ketascreen.knowledge").joinpath("data", name)
                   .read_bytes())
        except OSError as error:
            raise KnowledgeBaseError(label, "(file)", f"cannot be read: {error}") from None
    sha256 = hashlib.sha256(raw).hexdigest()
    content = _cached(sha256)
    if content is None:
        import tomllib  # noqa: PLC0415 - only on a cache miss (see _cached)

        try:
            content = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise KnowledgeBaseError(label, "(file)", f"is not valid TOML: {error}") from None
        _store(sha256, content)
    if content.get("schema") != schema:
        raise KnowledgeBaseError(label, "schema",
                                 f"expected {schema!r}, found {content.get('schema')!r}")
    return DataFile(label, content, sha256)


# tomllib takes ~0.2 s for the drug list; the same content as JSON loads ten times faster. The
# cache is keyed by the sha256 of the TOML bytes, so an edited file is never served stale, and
# the content is validated after loading exactly as if it had just been parsed.
def _cache_dir() -> Path:
    from platformdirs import user_cache_dir  # noqa: PLC0415 - only needed on a cache miss path

    return Path(os.environ.get("KETASCREEN_CACHE_DIR") or user_cache_dir("ketascreen")) / "data"


def _cached(sha256: str) -> dict[str, Any] | None:
    try:
        content = json.loads((_cache_dir() / f"{sha256}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) else None


def _store(sha256: str, content: dict[str, Any]) -> None:
    directory = _cache_dir()
    with contextlib.suppress(OSError, TypeError, ValueError):
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(content, out)
            os.replace(temporary, directory / f"{sha256}.json")
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def require_keys(file: str, entry: str, table: dict[str, Any], *,
                 required: frozenset[str] | set[str],
                 optional: frozenset[str] | set[str] = frozenset()) -> None:
    """Fail on a missing required key or any key not in ``required | optional``."""
    missing = required - table.keys()
    if missing:
        raise KnowledgeBaseError(file, entry, f"missing key(s): {', '.join(sorted(missing))}")
    unknown = table.keys() - required - optional
    if unknown:
        raise KnowledgeBaseError(file, entry, f"unknown key(s): {', '.join(sorted(unknown))}")


def strings(value: object, key: str) -> tuple[str, ...]:
    """``value`` as a list of non-empty strings (a record's validator; ``key`` names it).

    Raises:
        ValueError: ``value`` is not a list of non-empty strings (``read_table`` reports it in
            these words).
    """
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip()
                                                      for v in value):
        raise ValueError(f"{key} must be a list of non-empty strings")
    return tuple(value)


def read_table(file: str, entry: str, table: object, record: type[R]) -> R:
    """``table`` read as ``record``, or the error naming ``file`` and ``entry``.

    A missing key is reported before an unknown one, as ``missing key(s): a, b`` and
    ``unknown key(s): c`` (the words of :func:`require_keys`); a key of a nested table names the
    table (``decision``); a value a validator refuses is reported in the validator's words.

    Raises:
        KnowledgeBaseError: ``table`` is not a table, lacks a key, has an unknown key or a value
            of the wrong kind.
    """
    if not isinstance(table, dict):
        raise KnowledgeBaseError(file, entry, "must be a table")
    try:
        return record.model_validate(table)
    except ValidationError as error:
        raise _table_error(file, entry, error) from None


def _table_error(file: str, entry: str, error: ValidationError) -> KnowledgeBaseError:
    problems = error.errors(include_url=False)
    for kind, words in (("missing", "missing"), ("extra_forbidden", "unknown")):
        found = [p for p in problems if p["type"] == kind]
        if found:
            where = tuple(str(part) for part in found[0]["loc"][:-1])
            keys = sorted(str(p["loc"][-1]) for p in found
                          if tuple(str(part) for part in p["loc"][:-1]) == where)
            return KnowledgeBaseError(file, _entry(entry, where),
                                      f"{words} key(s): {', '.join(keys)}")
    first = problems[0]
    loc = tuple(str(part) for part in first["loc"])
    context = first.get("ctx") or {}
    if first["type"] == "value_error" and "error" in context:
        return KnowledgeBaseError(file, _entry(entry, loc[:-1]), str(context["error"]))
    return KnowledgeBaseError(file, _entry(entry, loc[:-1]),
                              f"{'.'.join(loc)}: {first['msg'].lower()}")


def _entry(entry: str, where: tuple[str, ...]) -> str:
    if not where:
        return entry
    inner = ".".join(where)
    return inner if entry == "(top level)" else f"{entry}.{inner}"
