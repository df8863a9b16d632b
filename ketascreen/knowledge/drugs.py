"""The drug and condition knowledge base, and recognition of case entries against it.

Recognition is by code first (RxNorm for medications; SNOMED CT or ICD-10-CM for conditions),
else by a word-bounded, case-insensitive match of an ingredient, brand or condition name in the
entry's text. A product code maps to every ingredient it contains, so a combination product fires
every class it belongs to. A condition name found in text is then read in its context
(``ketascreen.knowledge.context``): "no history of stroke", "family history of aneurysm" and
"glaucoma ruled out" are not the condition, "possible AAA" is a question. A code stays
authoritative whatever its text says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from ketascreen.concepts import HISTORY_CONCEPTS, MEDICATION_CLASSES
from ketascreen.errors import KnowledgeBaseError, UnitInputError
from ketascreen.knowledge.context import AFFIRMED, Assertion, read_context
from ketascreen.knowledge.datafiles import DataSource, read_data_file, require_keys
from ketascreen.models.case import ICD10CM, RXNORM, SNOMED, Condition, Medication
from ketascreen.units import Dimension, Quantity, parse_quantity

DRUGS_SCHEMA = "ketascreen-drugs/1"
CONDITIONS_SCHEMA = "ketascreen-conditions/1"
CONDITION_CONCEPTS = (*HISTORY_CONCEPTS, "pregnancy")

Via = Literal["code", "text"]


@dataclass(frozen=True)
class Ingredient:
    """One active ingredient and the medication classes it belongs to."""

    name: str
    classes: tuple[str, ...]
    rxnorm: tuple[str, ...]
    brands: tuple[str, ...]
    synonyms: tuple[str, ...]
    diazepam_equivalent: Quantity | None
    """The oral dose of this drug equivalent to 10 mg oral diazepam (benzodiazepines only)."""


@dataclass(frozen=True)
class MedicationMatch:
    """What a medication entry was recognised as."""

    ingredients: tuple[str, ...]
    via: Via
    matched: str
    """The code, or the names found in the text, that the recognition rests on."""


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

_PROVENANCE = re.compile(r"\s*\(from [A-Z][A-Za-z]+[/ ][A-Za-z0-9.~-]{1,64}\)\s*$")


def strip_provenance(text: str) -> str:
    """``text`` without a trailing ``(from Type/id)`` suffix written by the FHIR importer.

    The suffix names the source record for the clinician; it is not clinical text, and an id
    such as ``diazepam-1`` must never be read as a drug name.
    """
    return _PROVENANCE.sub("", text)


def _word_pattern(names: list[str]) -> re.Pattern[str]:
    alternatives = sorted({re.escape(n.lower()) for n in names}, key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])")


def _strings(file: str, entry: str, table: dict[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise KnowledgeBaseError(file, entry, f"{key} must be a list of non-empty strings")
    return tuple(value)


class DrugKnowledge:
    """Ingredients, combination brands and RxNorm product codes, indexed for recognition."""

    def __init__(self, source: DataSource = None) -> None:
        data = read_data_file("drugs.toml", source, schema=DRUGS_SCHEMA)
        self.sha256 = data.sha256
        self.version = str(data.content.get("version", ""))
        self._file, doc = data.name, data.content
        require_keys(self._file, "(top level)", doc,
                     required={"schema", "version", "equivalence_source", "ingredient"},
                     optional={"combination", "product"})
        self.equivalence_source: str = str(doc["equivalence_source"].get("citation", ""))
        self.ingredients: dict[str, Ingredient] = {}
        self.by_code: dict[str, tuple[str, ...]] = {}
        self.code_display: dict[str, str] = {}
        self._names: dict[str, tuple[str, ...]] = {}
        for table in doc["ingredient"]:
            self._add_ingredient(table)
        for table in doc.get("combination", []):
            where = f"combination {table.get('names', '?')}"
            require_keys(self._file, where, table, required={"names", "ingredients"})
            ingredients = self._known(where, _strings(self._file, where, table, "ingredients"))
            for label in _strings(self._file, where, table, "names"):
                self._add_name(label, ingredients, where)
        for table in doc.get("product", []):
            where = f"product {table.get('rxnorm', '?')}"
            require_keys(self._file, where, table, required={"rxnorm", "display", "ingredients"})
            ingredients = self._known(where, _strings(self._file, where, table, "ingredients"))
            self._add_code(str(table["rxnorm"]), ingredients, where, str(table["display"]))
        self._pattern = _word_pattern(list(self._names))

    def _fail(self, where: str, problem: str) -> KnowledgeBaseError:
        return KnowledgeBaseError(self._file, where, problem)

    def _add_name(self, name: str, ingredients: tuple[str, ...], where: str) -> None:
        key = name.lower()
        if key in self._names and self._names[key] != ingredients:
            raise self._fail(where, f"name {name!r} is already used for "
                             f"{', '.join(self._names[key])}")
        self._names[key] = ingredients

    def _add_code(self, code: str, ingredients: tuple[str, ...], where: str,
                  display: str) -> None:
        if code in self.by_code:
            raise self._fail(where, f"RxNorm code {code} is listed twice")
        self.by_code[code] = ingredients
        self.code_display[code] = display

    def _known(self, where: str, ingredients: tuple[str, ...]) -> tuple[str, ...]:
        for ingredient in ingredients:
            if ingredient not in self.ingredients:
                raise self._fail(where, f"unknown ingredient {ingredient!r}")
        if not ingredients:
            raise self._fail(where, "needs at least one ingredient")
        return ingredients

    def _add_ingredient(self, table: dict[str, Any]) -> None:
        name = table.get("name", "?")
        where = f"ingredient {name}"
        require_keys(self._file, where, table, required={"name", "classes"},
                     optional={"rxnorm", "rxnorm_note", "brands", "synonyms",
                               "diazepam_equivalent", "equivalence_note"})
        if not isinstance(name, str) or name != name.lower() or not name.strip():
            raise self._fail(where, "name must be lower-case text")
        if name in self.ingredients:
            raise self._fail(where, "ingredient listed twice")
        classes = _strings(self._file, where, table, "classes")
        for cls in classes:
            if cls not in MEDICATION_CLASSES:
                raise self._fail(where, f"unknown class {cls!r}")
        equivalent = None
        if "diazepam_equivalent" in table:
            if "benzodiazepine" not in classes:
                raise self._fail(where, "diazepam_equivalent is for benzodiazepines only")
            try:
                equivalent = parse_quantity(table["diazepam_equivalent"], Dimension.MASS)
            except UnitInputError as error:
                raise self._fail(where, f"diazepam_equivalent: {error.reason}") from None
        elif "benzodiazepine" in classes and not table.get("equivalence_note"):
            raise self._fail(where, "a benzodiazepine needs diazepam_equivalent or an "
                             "equivalence_note")
        ingredient = Ingredient(
            name=name, classes=classes, rxnorm=_strings(self._file, where, table, "rxnorm"),
            brands=_strings(self._file, where, table, "brands"),
            synonyms=_strings(self._file, where, table, "synonyms"),
            diazepam_equivalent=equivalent,
        )
        self.ingredients[name] = ingredient
        for label in (name, *ingredient.brands, *ingredient.synonyms):
            self._add_name(label, (name,), where)
        for code in ingredient.rxnorm:
            self._add_code(code, (name,), where, name)

    def names(self) -> list[str]:
        """Every recognisable name (ingredients, brands, synonyms, combinations), lower-case."""
        return sorted(self._names)

    def classes_of(self, ingredients: tuple[str, ...]) -> tuple[str, ...]:
        """The medication classes of a set of ingredients, in vocabulary order."""
        found = {c for i in ingredients for c in self.ingredients[i].classes}
        return tuple(c for c in MEDICATION_CLASSES if c in found)

    def recognise(self, medication: Medication) -> MedicationMatch | None:
        """Recognise a medication entry by RxNorm code, else by names in its text."""
        if medication.code and medication.system == RXNORM:
            ingredients = self.by_code.get(medication.code.strip())
            if ingredients is not None:
                return MedicationMatch(ingredients, "code", f"RxNorm {medication.code}")
        return self.recognise_text(medication.text or "")

    def recognise_text(self, text: str) -> MedicationMatch | None:
        """Recognise ingredient, brand or combination names in free text."""
        found: list[str] = []
        labels: list[str] = []
        for match in self._pattern.finditer(strip_provenance(text).lower()):
            labels.append(match.group(0))
            for ingredient in self._names[match.group(0)]:
                if ingredient not in found:
                    found.append(ingredient)
        if not found:
            return None
        return MedicationMatch(tuple(found), "text", ", ".join(dict.fromkeys(labels)))


class ConditionKnowledge:
    """Condition entities by SNOMED CT, ICD-10-CM and name, each mapped to a concept."""

    def __init__(self, source: DataSource = None) -> None:
        data = read_data_file("conditions.toml", source, schema=CONDITIONS_SCHEMA)
        self.sha256 = data.sha256
        self.version = str(data.content.get("version", ""))
        file, doc = data.name, data.content
        require_keys(file, "(top level)", doc, required={"schema", "version", "condition"})
        self.entries: list[ConditionEntry] = []
        self._snomed: dict[str, ConditionEntry] = {}
        self._icd10: dict[str, ConditionEntry] = {}
        names: dict[str, ConditionEntry] = {}
        for index, table in enumerate(doc["condition"]):
            where = f"condition {table.get('name', index)}"
            require_keys(file, where, table, required={"concept", "name"},
                         optional={"synonyms", "snomed", "icd10", "inactive_concept",
                                   "older_concept", "note"})
            for key in ("concept", "inactive_concept", "older_concept"):
                if key in table and table[key] not in CONDITION_CONCEPTS:
                    raise KnowledgeBaseError(file, where, f"{key}: unknown concept "
                                             f"{table[key]!r}")
            entry = ConditionEntry(
                concept=table["concept"], name=str(table["name"]),
                synonyms=tuple(s.lower() for s in _strings(file, where, table, "synonyms")),
                snomed=frozenset(_strings(file, where, table, "snomed")),
                icd10=tuple(c.upper() for c in _strings(file, where, table, "icd10")),
                inactive_concept=table.get("inactive_concept"),
                older_concept=table.get("older_concept"),
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
        self._pattern = _word_pattern(list(names)) if names else re.compile(r"(?!x)x")

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
        """
        text = strip_provenance(text).lower()
        found = list(self._pattern.finditer(text))
        if not found:
            return []  # nothing named: the context reader (spaCy) is never loaded
        spans = tuple(self._core_span(m.group(0), m.start()) for m in found)
        assertions = read_context(text, spans)
        matches: dict[int, ConditionMatch] = {}
        for match, assertion in zip(found, assertions, strict=True):
            entry = self._names[match.group(0)]
            candidate = ConditionMatch(entry, "text", match.group(0), assertion)
            held = matches.get(id(entry))
            if held is None or _RANK[assertion.status] < _RANK[held.assertion.status]:
                matches[id(entry)] = candidate
        return list(matches.values())

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
