"""The condition list (``conditions.toml``): SNOMED CT, ICD-10-CM codes and names per concept.

A problem-list entry is recognised by its code first (authoritative whatever its text says), else
by the condition names in its text (:mod:`ketascreen.knowledge.recognition`), each read in its
context (:mod:`ketascreen.knowledge.context`): "no history of stroke", "family history of
aneurysm" and "glaucoma ruled out" are not the condition, "possible AAA" is a question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from ketascreen.concepts import HISTORY_CONCEPTS
from ketascreen.errors import KnowledgeBaseError
from ketascreen.knowledge.context import AFFIRMED, Assertion, read_context
from ketascreen.knowledge.datafiles import (
    AnyText,
    DataSource,
    Record,
    read_data_file,
    read_table,
    strings,
)
from ketascreen.knowledge.recognition import NameMatcher, TextMemo, Via, strip_provenance
from ketascreen.models.case import ICD10CM, SNOMED, Condition

CONDITIONS_SCHEMA = "ketascreen-conditions/1"
CONDITION_CONCEPTS = (*HISTORY_CONCEPTS, "pregnancy")


class ConditionTable(Record):
    """One ``[[condition]]`` as written."""

    concept: object
    name: AnyText
    synonyms: tuple[str, ...] = ()
    snomed: tuple[str, ...] = ()
    icd10: tuple[str, ...] = ()
    inactive_concept: object = None
    older_concept: object = None
    note: str | None = None

    @field_validator("synonyms", "snomed", "icd10", mode="before")
    @classmethod
    def _strings(cls, value: object, info: ValidationInfo) -> tuple[str, ...]:
        return strings(value, str(info.field_name))


class _ConditionsFile(Record):
    schema_name: str = Field(alias="schema")
    version: AnyText
    condition: tuple[Any, ...]


@dataclass(frozen=True)
class ConditionEntry:
    """One clinical entity of the condition knowledge base."""

    concept: str
    name: str
    synonyms: tuple[str, ...]
    snomed: frozenset[str]
    icd10: tuple[str, ...]
    inactive_concept: str | None
    older_concept: str | None


@dataclass(frozen=True)
class ConditionMatch:
    """A problem-list entry recognised as a knowledge-base entity."""

    entry: ConditionEntry
    via: Via
    matched: str
    assertion: Assertion = AFFIRMED
    """How the text around the name reads (always affirmed for a code match)."""

    @property
    def counts(self) -> bool:
        """Whether the entry counts as the condition (a code, or an affirmed name)."""
        return self.assertion.status == "affirmed"


_RANK: dict[str, int] = {"affirmed": 0, "uncertain": 1, "negated": 2, "family": 2}
"""Which reading of an entity named twice in one text is kept (lowest first)."""


class ConditionKnowledge:
    """Condition entities by SNOMED CT, ICD-10-CM and name, each mapped to a concept."""

    def __init__(self, source: DataSource = None) -> None:
        data = read_data_file("conditions.toml", source, schema=CONDITIONS_SCHEMA)
        self.sha256 = data.sha256
        self.version = str(data.content.get("version", ""))
        file = data.name
        doc = read_table(file, "(top level)", data.content, _ConditionsFile)
        self.entries: list[ConditionEntry] = []
        self._snomed: dict[str, ConditionEntry] = {}
        self._icd10: dict[str, ConditionEntry] = {}
        names: dict[str, ConditionEntry] = {}
        for index, raw in enumerate(doc.condition):
            where = f"condition {raw.get('name', index) if isinstance(raw, dict) else index}"
            table = read_table(file, where, raw, ConditionTable)
            concepts: dict[str, str | None] = {}
            for key in ("concept", "inactive_concept", "older_concept"):
                value = getattr(table, key)
                if value is not None and value not in CONDITION_CONCEPTS:
                    raise KnowledgeBaseError(file, where, f"{key}: unknown concept {value!r}")
                concepts[key] = None if value is None else str(value)
            entry = ConditionEntry(
                concept=str(table.concept), name=table.name,
                synonyms=tuple(s.lower() for s in table.synonyms),
                snomed=frozenset(table.snomed),
                icd10=tuple(c.upper() for c in table.icd10),
                inactive_concept=concepts["inactive_concept"],
                older_concept=concepts["older_concept"],
            )
            self.entries.append(entry)
            for code in entry.snomed:
                if code in self._snomed:
                    raise KnowledgeBaseError(file, where, f"SNOMED {code} is listed twice")
                self._snomed[code] = entry
            for code in entry.icd10:
                if code in self._icd10:
                    raise KnowledgeBaseError(file, where, f"ICD-10-CM {code} is listed twice")
                self._icd10[code] = entry
            for synonym in entry.synonyms:
                if synonym in names and names[synonym] is not entry:
                    raise KnowledgeBaseError(file, where, f"synonym {synonym!r} is also used by "
                                             f"{names[synonym].name}")
                names[synonym] = entry
        self._names = names
        self._matcher = NameMatcher(names)
        self._by_text = TextMemo(self._read_text)

    def _icd10_entry(self, code: str) -> ConditionEntry | None:
        code = code.strip().upper()
        # Longest listed prefix wins: "F31.1" before "F31". A category without a dot matches
        # only at a code boundary ("F20" matches "F20.0", not "F200").
        for end in range(len(code), 2, -1):
            prefix = code[:end]
            entry = self._icd10.get(prefix)
            if entry is not None and (end == len(code) or "." in prefix or code[end] == "."):
                return entry
        return None

    def recognise(self, condition: Condition) -> list[ConditionMatch]:
        """Recognise a problem-list entry by code, else by names its text affirms.

        A name the text negates, gives to someone else, or hedges is not returned here; use
        :meth:`read` to see those too.
        """
        return [match for match in self.read(condition) if match.counts]

    def read(self, condition: Condition) -> list[ConditionMatch]:
        """Every entity a problem-list entry names: by code, else each name in its text.

        A code match is authoritative and always affirmed. A name found in the text carries the
        :class:`~ketascreen.knowledge.context.Assertion` its context gives it (affirmed, negated,
        family or uncertain).
        """
        if condition.code:
            code = condition.code.strip()
            entry = None
            if condition.system == SNOMED:
                entry = self._snomed.get(code)
                label = f"SNOMED {code}"
            elif condition.system == ICD10CM:
                entry = self._icd10_entry(code)
                label = f"ICD-10-CM {code.upper()}"
            if entry is not None:
                return [ConditionMatch(entry, "code", label)]
        return self.read_text(condition.text or "")

    def read_text(self, text: str) -> list[ConditionMatch]:
        """The entities named in ``text``, each with how its context asserts it.

        One match per entity; if the text names an entity more than once, an affirmed mention
        wins over an uncertain one, and an uncertain one over a negated or family one.
        Remembered by text (the matches are immutable and depend only on the text and this
        list); a new list is returned each time.
        """
        return list(self._by_text(text))

    def _read_text(self, text: str) -> tuple[ConditionMatch, ...]:
        text = strip_provenance(text).lower()
        found = self._matcher.find(text)
        if not found:
            return ()  # nothing named: the context reader (spaCy) is never loaded
        spans = tuple(self._core_span(name, start) for start, name in found)
        assertions = read_context(text, spans)
        matches: dict[int, ConditionMatch] = {}
        for (_, name), assertion in zip(found, assertions, strict=True):
            entry = self._names[name]
            candidate = ConditionMatch(entry, "text", name, assertion)
            held = matches.get(id(entry))
            if held is None or _RANK[assertion.status] < _RANK[held.assertion.status]:
                matches[id(entry)] = candidate
        return tuple(matches.values())

    def _core_span(self, name: str, start: int) -> tuple[int, int]:
        """The span the context is read around: the shortest known name ending ``name``.

        "history of stroke" is a name, but in "No history of stroke" the cue "no history of"
        overlaps it, and ConText never lets a cue modify a name it overlaps; "stroke" is read.
        """
        core = 0
        for index in range(1, len(name)):
            if not name[index - 1].isalnum() and name[index:] in self._names:
                core = index
        return start + core, start + len(name)
