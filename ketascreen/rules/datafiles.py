"""Reading the rule set's data files: TOML from the package (or a clinic's own file), hashed."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ketascreen.errors import KnowledgeBaseError


@dataclass(frozen=True)
class DataFile:
    """A parsed data file with its name and the sha256 of its bytes."""

    name: str
    content: dict[str, Any]
    sha256: str


def read_data_file(name: str, path: Path | None = None, *, schema: str) -> DataFile:
    """Read a shipped data file by ``name``, or a clinic's replacement at ``path``.

    Raises:
        KnowledgeBaseError: the file is missing, is not TOML, or declares another schema.
    """
    try:
        raw = (path.read_bytes() if path is not None
               else resources.files("ketascreen.rules").joinpath("data", name).read_bytes())
    except OSError as error:
        raise KnowledgeBaseError(str(path or name), "(file)", f"cannot be read: {error}") from None
    label = str(path) if path is not None else name
    try:
        content = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise KnowledgeBaseError(label, "(file)", f"is not valid TOML: {error}") from None
    if content.get("schema") != schema:
        raise KnowledgeBaseError(label, "schema",
                                 f"expected {schema!r}, found {content.get('schema')!r}")
    return DataFile(label, content, hashlib.sha256(raw).hexdigest())


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
