"""The drug list (``drugs.toml``): ingredients, classes, brands, combinations, RxNorm codes.

A medication entry is recognised by its RxNorm code first, else by the ingredient, brand or
combination names in its text (:mod:`ketascreen.knowledge.recognition`). A product code maps to
every ingredient it contains, so a combination product fires every class it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from ketascreen.concepts import MEDICATION_CLASSES
from ketascreen.errors import KnowledgeBaseError, UnitInputError
from ketascreen.knowledge.datafiles import (
    AnyText,
    DataSource,
    Record,
    read_data_file,
    read_table,
    strings,
)
from ketascreen.knowledge.recognition import NameMatcher, TextMemo, Via, strip_provenance
from ketascreen.models.case import RXNORM, Medication
from ketascreen.units import Dimension, Quantity, parse_quantity

DRUGS_SCHEMA = "ketascreen-drugs/1"


class IngredientEntry(Record):
    """One ``[[ingredient]]`` as written."""

    name: str
    classes: tuple[str, ...]
    rxnorm: tuple[str, ...] = ()
    rxnorm_note: str | None = None
    brands: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    diazepam_equivalent: Any = None
    equivalence_note: str | None = None

    @field_validator("classes", "rxnorm", "brands", "synonyms", mode="before")
    @classmethod
    def _strings(cls, value: object, info: ValidationInfo) -> tuple[str, ...]:
        return strings(value, str(info.field_name))


class CombinationEntry(Record):
    """One ``[[combination]]``: brand names of a fixed combination and its ingredients."""

    names: tuple[str, ...]
    ingredients: tuple[str, ...]

    @field_validator("names", "ingredients", mode="before")
    @classmethod
    def _strings(cls, value: object, info: ValidationInfo) -> tuple[str, ...]:
        return strings(value, str(info.field_name))


class ProductEntry(Record):
    """One ``[[product]]``: an RxNorm product code, its display and its ingredients."""

    rxnorm: AnyText
    display: AnyText
    ingredients: tuple[str, ...]

    @field_validator("ingredients", mode="before")
    @classmethod
    def _strings(cls, value: object, info: ValidationInfo) -> tuple[str, ...]:
        return strings(value, str(info.field_name))


class _DrugsFile(Record):
    schema_name: str = Field(alias="schema")
    version: AnyText
    equivalence_source: dict[str, Any]
    ingredient: tuple[Any, ...]
    combination: tuple[Any, ...] = ()
    product: tuple[Any, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
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


class DrugKnowledge:
    """Ingredients, combination brands and RxNorm product codes, indexed for recognition."""

    def __init__(self, source: DataSource = None) -> None:
        data = read_data_file("drugs.toml", source, schema=DRUGS_SCHEMA)
        self.sha256 = data.sha256
        self.version = str(data.content.get("version", ""))
        self._file = data.name
        doc = read_table(self._file, "(top level)", data.content, _DrugsFile)
        self.equivalence_source: str = str(doc.equivalence_source.get("citation", ""))
        self.ingredients: dict[str, Ingredient] = {}
        self.by_code: dict[str, tuple[str, ...]] = {}
        self.code_display: dict[str, str] = {}
        self._names: dict[str, tuple[str, ...]] = {}
        for table in doc.ingredient:
            where = f"ingredient {_get(table, 'name')}"
            self._add_ingredient(where, read_table(self._file, where, table, IngredientEntry))
        for table in doc.combination:
            where = f"combination {_get(table, 'names')}"
            combination = read_table(self._file, where, table, CombinationEntry)
            ingredients = self._known(where, combination.ingredients)
            for label in combination.names:
                self._add_name(label, ingredients, where)
        for table in doc.product:
            where = f"product {_get(table, 'rxnorm')}"
            product = read_table(self._file, where, table, ProductEntry)
            ingredients = self._known(where, product.ingredients)
            self._add_code(product.rxnorm, ingredients, where, product.display)
        self._matcher = NameMatcher(self._names)
        self._by_text = TextMemo(self._recognise_text)
        self._classes: dict[tuple[str, ...], tuple[str, ...]] = {}

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

    def _add_ingredient(self, where: str, entry: IngredientEntry) -> None:
        name = entry.name
        if name != name.lower() or not name.strip():
            raise self._fail(where, "name must be lower-case text")
        if name in self.ingredients:
            raise self._fail(where, "ingredient listed twice")
        for cls in entry.classes:
            if cls not in MEDICATION_CLASSES:
                raise self._fail(where, f"unknown class {cls!r}")
        equivalent = None
        if entry.diazepam_equivalent is not None:
            if "benzodiazepine" not in entry.classes:
                raise self._fail(where, "diazepam_equivalent is for benzodiazepines only")
            try:
                equivalent = parse_quantity(entry.diazepam_equivalent, Dimension.MASS)
            except UnitInputError as error:
                raise self._fail(where, f"diazepam_equivalent: {error.reason}") from None
        elif "benzodiazepine" in entry.classes and not entry.equivalence_note:
            raise self._fail(where, "a benzodiazepine needs diazepam_equivalent or an "
                             "equivalence_note")
        ingredient = Ingredient(
            name=name, classes=entry.classes, rxnorm=entry.rxnorm, brands=entry.brands,
            synonyms=entry.synonyms, diazepam_equivalent=equivalent,
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
        """The medication classes of a set of ingredients, in vocabulary order (remembered per
        set of ingredients)."""
        known = self._classes.get(ingredients)
        if known is None:
            found = {c for i in ingredients for c in self.ingredients[i].classes}
            known = self._classes[ingredients] = tuple(c for c in MEDICATION_CLASSES
                                                       if c in found)
        return known

    def recognise(self, medication: Medication) -> MedicationMatch | None:
        """Recognise a medication entry by RxNorm code, else by names in its text."""
        if medication.code and medication.system == RXNORM:
            ingredients = self.by_code.get(medication.code.strip())
            if ingredients is not None:
                return MedicationMatch(ingredients, "code", f"RxNorm {medication.code}")
        return self.recognise_text(medication.text or "")

    def recognise_text(self, text: str) -> MedicationMatch | None:
        """Recognise ingredient, brand or combination names in free text (remembered by text:
        the match is immutable and depends only on the text and this list)."""
        return self._by_text(text)

    def _recognise_text(self, text: str) -> MedicationMatch | None:
        found: list[str] = []
        labels: list[str] = []
        for _, name in self._matcher.find(strip_provenance(text).lower()):
            labels.append(name)
            for ingredient in self._names[name]:
                if ingredient not in found:
                    found.append(ingredient)
        if not found:
            return None
        return MedicationMatch(tuple(found), "text", ", ".join(dict.fromkeys(labels)))


def _get(table: object, key: str) -> object:
    """``table[key]`` for naming an entry in an error (``?`` when there is none)."""
    return table.get(key, "?") if isinstance(table, dict) else "?"
