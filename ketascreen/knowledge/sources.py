"""The citations the rules and the formulary cite (``sources.toml``): R# and C# references."""

from __future__ import annotations

import re

from pydantic import field_validator

from ketascreen.errors import KnowledgeBaseError
from ketascreen.knowledge.datafiles import DataSource, Record, read_data_file, read_table

SOURCES_SCHEMA = "ketascreen-sources/1"
_KEY = re.compile(r"^[RC]\d+b?$")


class SourceEntry(Record):
    """One table of ``sources.toml`` as written: ``[R41] short = ..., title = ..., url = ...``."""

    short: str
    title: str
    url: str

    @field_validator("short")
    @classmethod
    def _short_is_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("short citation is empty")
        return value


class Source(Record):
    """One reference: an R# of clinical-facts.md or a C# of course-facts.md."""

    key: str
    short: str
    title: str
    url: str


def load_sources(source: DataSource = None) -> tuple[dict[str, Source], str]:
    """Load the R# and C# reference list (shipped, or bytes or a path).

    Returns the sources and the file's sha256.

    Raises:
        KnowledgeBaseError: a key that is not an R or C number, a missing or unknown key, an
            empty short citation.
    """
    data = read_data_file("sources.toml", source, schema=SOURCES_SCHEMA)
    sources: dict[str, Source] = {}
    for key, table in data.content.items():
        if key == "schema":
            continue
        if not _KEY.match(key):
            raise KnowledgeBaseError(data.name, key, "source keys are R numbers of "
                                     "clinical-facts.md (R19, R55b) or C numbers of "
                                     "course-facts.md (C14)")
        entry = read_table(data.name, key, table, SourceEntry)
        sources[key] = Source(key=key, **entry.model_dump())
    return sources, data.sha256
