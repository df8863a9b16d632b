"""Reading the formulary's sourced values: ``{ value = "...", source = [...] }`` tables.

Every value of the formulary carries the text it was written as and the references it rests on
(R# and C# keys of the reference list, or ``local-policy``); :class:`Reader` reads one such table
of one file and raises errors naming the file and the entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import field_validator

from ketascreen.errors import KnowledgeBaseError, UnitInputError
from ketascreen.knowledge.datafiles import R, Record, read_table
from ketascreen.units import Dimension, Quantity, parse_quantity

LOCAL_POLICY = "local-policy"
"""Source marker of a value the clinic sets itself (no published number exists)."""

T = TypeVar("T")

_REFERENCE_KEY = re.compile(r"^[RC]\d+b?$")  # R# of clinical-facts.md, C# of course-facts.md

Parse = Callable[[str, str], Any]
"""A value parser: ``parse(text, entry)``; raises UnitInputError, TypeError or ValueError."""


class SourcedTable(Record):
    """A sourced value as written: ``{ value = "0.5 mg/kg", source = ["R2"] }``."""

    value: str
    source: tuple[str, ...]

    @field_validator("value", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"value must be text such as \"0.5 mg/kg\", not {value!r}")
        return value

    @field_validator("source", mode="before")
    @classmethod
    def _keys(cls, value: object) -> object:
        if (not isinstance(value, list) or not value
                or not all(isinstance(s, str) for s in value)):
            raise ValueError("source must be a non-empty list of reference keys (R18) "
                             f"or \"{LOCAL_POLICY}\"")
        return value


@dataclass(frozen=True, eq=False, repr=False)
class Sourced(Generic[T]):
    """A formulary value with the text it was written as and its sources.

    Attributes:
        value: the parsed value.
        text: the value as written in the file (what the checklist shows).
        sources: reference keys (``R18``) and/or :data:`LOCAL_POLICY`.
        entry: the dotted key it was read from, e.g. ``protocols.depression.hard_max``.
    """

    value: T
    text: str
    sources: tuple[str, ...]
    entry: str

    @property
    def is_local_policy(self) -> bool:
        """True when the clinic set this value itself (no published source gives it)."""
        return LOCAL_POLICY in self.sources


class Reader:
    """Reads sourced values of one file, raising errors that name the entry."""

    def __init__(self, file: str, known_sources: frozenset[str]) -> None:
        self.file = file
        self.known_sources = known_sources

    def fail(self, entry: str, problem: str) -> KnowledgeBaseError:
        """The error naming this file, ``entry`` and the problem."""
        return KnowledgeBaseError(self.file, entry, problem)

    def record(self, value: object, entry: str, record: type[R]) -> R:
        """The table at ``entry`` read as ``record`` (errors name this file and ``entry``)."""
        return read_table(self.file, entry, value, record)

    def sourced(self, value: object, entry: str, parse: Parse) -> Sourced[Any]:
        """The sourced value at ``entry``: its text parsed by ``parse``, its sources checked."""
        table = self.record(value, entry, SourcedTable)
        text, sources = table.value, table.source
        for source in sources:
            if source != LOCAL_POLICY and not _REFERENCE_KEY.match(source):
                raise self.fail(entry, f"source {source!r} is neither a reference key "
                                f"(R18, C14) nor \"{LOCAL_POLICY}\"")
            if source != LOCAL_POLICY and source not in self.known_sources:
                raise self.fail(entry, f"source {source} is not in the reference list")
        if len(set(sources)) != len(sources):
            raise self.fail(entry, "source lists a key twice")
        try:
            parsed = parse(text, entry)
        except UnitInputError as error:
            raise self.fail(entry, f"{text!r} {error.reason}") from None
        except (TypeError, ValueError) as error:
            raise self.fail(entry, f"{text!r}: {error}") from None
        return Sourced(parsed, text.strip(), sources, entry)


def quantity_parser(dimension: Dimension) -> Parse:
    """A parser of a quantity of ``dimension`` (the case format's units)."""
    def parse(text: str, entry: str) -> Quantity:
        return parse_quantity(text, dimension, field=entry)
    return parse


def plain_text(text: str, entry: str) -> str:
    """A text value as written, trimmed."""
    return text.strip()
