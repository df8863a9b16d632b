"""The citations the rules and the formulary cite (``sources.toml``): R# and C# references."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ketascreen.errors import KnowledgeBaseError
from ketascreen.knowledge.datafiles import DataSource, read_data_file, require_keys

SOURCES_SCHEMA = "ketascreen-sources/1"


@dataclass(frozen=True)
class Source:
    """One reference: an R# of clinical-facts.md or a C# of course-facts.md."""

    key: str
    short: str
    title: str
    url: str


def load_sources(source: DataSource = None) -> tuple[dict[str, Source], str]:
    """Load the R# and C# reference list (shipped, or bytes or a path).

    Returns the sources and the file's sha256.
    """
    data = read_data_file("sources.toml", source, schema=SOURCES_SCHEMA)
    sources: dict[str, Source] = {}
    for key, table in data.content.items():
        if key == "schema":
            continue
        if not re.match(r"^[RC]\d+b?$", key):
            raise KnowledgeBaseError(data.name, key, "source keys are R numbers of "
                                     "clinical-facts.md (R19, R55b) or C numbers of "
                                     "course-facts.md (C14)")
        require_keys(data.name, key, table, required={"short", "title", "url"})
        if not table["short"].strip():
            raise KnowledgeBaseError(data.name, key, "short citation is empty")
        sources[key] = Source(key, table["short"], table["title"], table["url"])
    return sources, data.sha256
