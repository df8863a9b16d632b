"""The drug list (``drugs.toml``): ingredients, classes, brands, combinations, RxNorm codes.

A medication entry is recognised by its RxNorm code first, else by the ingredient, brand or
combination names in its text (:mod:`ketascreen.knowledge.recognition`). A product code maps to
every ingredient it contains, so a combination product fires every class it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ketascreen.concepts import MEDICATION_CLASSES
from ketascreen.errors import KnowledgeBaseError, UnitInputError
from ketascreen.knowledge.datafiles import DataSource, read_data_file, require_keys, string_list
from ketascreen.knowledge.recognition import Via, strip_provenance, word_pattern
from ketascreen.models.case import RXNORM, Medication
from ketascreen.units import Dimension, Quantity, parse_quantity

DRUGS_SCHEMA = "ketascreen-drugs/1"


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
            ingredients = self._known(where, string_list(self._file, where, table, "ingredients"))
            for label in string_list(self._file, where, table, "names"):
                self._add_name(label, ingredients, where)
        for table in doc.get("product", []):
            where = f"product {table.get('rxnorm', '?')}"
            require_keys(self._file, where, table, required={"rxnorm", "display", "ingredients"})
            ingredients = self._known(where, string_list(self._file, where, table, "ingredients"))
            self._add_code(str(table["rxnorm"]), ingredients, where, str(table["display"]))
        self._pattern = word_pattern(list(self._names))

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
        classes = string_list(self._file, where, table, "classes")
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
            name=name, classes=classes, rxnorm=string_list(self._file, where, table, "rxnorm"),
            brands=string_list(self._file, where, table, "brands"),
            synonyms=string_list(self._file, where, table, "synonyms"),
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
