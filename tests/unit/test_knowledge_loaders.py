"""Every data file loads the same way: from its bytes, from a path, or the shipped copy.

And the files' tables are records: a missing key is named before an unknown one, a key of a
nested table names that table, and a record read cannot be changed afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pydantic
import pytest

from ketascreen.errors import KnowledgeBaseError
from ketascreen.knowledge.conditions import ConditionKnowledge
from ketascreen.knowledge.datafiles import DataSource, Record, read_table
from ketascreen.knowledge.drugs import DrugKnowledge
from ketascreen.knowledge.formulary import load_formulary
from ketascreen.knowledge.policy import load_policy
from ketascreen.knowledge.rules import load_rule_file
from ketascreen.knowledge.sources import Source, load_sources


def _shipped(name: str) -> bytes:
    return resources.files("ketascreen.knowledge").joinpath("data", name).read_bytes()


def _version_and_sha(name: str, source: DataSource) -> tuple[str, str]:
    if name == "policy.toml":
        policy = load_policy(source)
        return policy.version, policy.sha256
    if name == "sources.toml":
        sources, sha256 = load_sources(source)
        return str(len(sources)), sha256
    if name == "rules.toml":
        rules = load_rule_file(source)
        return rules.version, rules.sha256
    if name == "drugs.toml":
        drugs = DrugKnowledge(source)
        return drugs.version, drugs.sha256
    if name == "conditions.toml":
        conditions = ConditionKnowledge(source)
        return conditions.version, conditions.sha256
    formulary = load_formulary(source)
    return formulary.version, formulary.sha256


NAMES = ("policy.toml", "sources.toml", "rules.toml", "drugs.toml", "conditions.toml",
         "formulary.toml")


@pytest.mark.parametrize("name", NAMES)
def test_bytes_path_and_shipped_give_the_same_file(tmp_path: Path, name: str) -> None:
    """The shipped file, its bytes and a copy on disk load to the same version and sha256."""
    raw = _shipped(name)
    copy = tmp_path / name
    copy.write_bytes(raw)
    expected = hashlib.sha256(raw).hexdigest()
    shipped = _version_and_sha(name, None)
    assert shipped[1] == expected
    assert _version_and_sha(name, raw) == shipped
    assert _version_and_sha(name, copy) == shipped


LOADERS: dict[str, Callable[[DataSource], object]] = {
    "policy.toml": load_policy, "sources.toml": load_sources, "rules.toml": load_rule_file,
    "drugs.toml": DrugKnowledge, "conditions.toml": ConditionKnowledge,
    "formulary.toml": load_formulary,
}


@pytest.mark.parametrize("name", NAMES)
def test_an_error_names_where_the_file_came_from(tmp_path: Path, name: str) -> None:
    """A file given as bytes is named 'supplied <name>', a path by its path, in every loader."""
    broken = _shipped(name).replace(b"schema = ", b"schema = \"other/1\"\n# ", 1)
    with pytest.raises(KnowledgeBaseError) as from_bytes:
        LOADERS[name](broken)
    assert (from_bytes.value.file, from_bytes.value.entry) == (f"supplied {name}", "schema")
    path = tmp_path / name
    path.write_bytes(broken)
    with pytest.raises(KnowledgeBaseError) as from_path:
        LOADERS[name](path)
    assert (from_path.value.file, from_path.value.entry) == (str(path), "schema")


class _Inner(Record):
    low: int
    high: int


class _Outer(Record):
    name: str
    inner: _Inner

    @pydantic.field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name is blank")
        return value


@pytest.mark.parametrize(("table", "entry", "problem"), [
    ({"inner": {"low": 1, "high": 2}, "colour": "red"}, "thing", "missing key(s): name"),
    ({"name": "a", "inner": {"low": 1, "high": 2}, "colour": "red", "size": 1}, "thing",
     "unknown key(s): colour, size"),
    ({"name": "a", "inner": {"low": 1}}, "thing.inner", "missing key(s): high"),
    ({"name": " ", "inner": {"low": 1, "high": 2}}, "thing", "name is blank"),
    ({"name": "a", "inner": {"low": "one", "high": 2}}, "thing.inner",
     "inner.low: input should be a valid integer"),
])
def test_a_table_error_names_the_entry_in_the_loaders_words(
        table: dict[str, Any], entry: str, problem: str) -> None:
    """Missing keys before unknown ones; a nested table is named; a validator's own words."""
    with pytest.raises(KnowledgeBaseError) as caught:
        read_table("file.toml", "thing", table, _Outer)
    assert (caught.value.file, caught.value.entry) == ("file.toml", entry)
    assert caught.value.problem.startswith(problem), caught.value.problem


def test_a_table_that_is_not_a_table_is_named() -> None:
    """A value where a table belongs fails with the entry's name, not a traceback."""
    with pytest.raises(KnowledgeBaseError, match="thing: must be a table"):
        read_table("file.toml", "thing", ["a"], _Outer)


def test_records_are_frozen_and_refuse_unknown_fields() -> None:
    """A record read from a file cannot be changed, and takes no field it does not declare."""
    source = load_sources()[0]["R19"]
    with pytest.raises(pydantic.ValidationError):
        source.short = "changed"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        Source(key="R1", short="s", title="t", url="u", colour="red")  # type: ignore[call-arg]
