"""Recognition of medication and problem-list entries, and the medication names offered."""

from __future__ import annotations

from dataclasses import dataclass

from ketascreen.models.case import RXNORM, Condition, Medication
from ketascreen.ui.actions.screening import ruleset


@dataclass(frozen=True)
class DrugName:
    """One completion entry of the medication list.

    Attributes:
        name: the name as inserted (brand capitalised, generic lower-case).
        ingredients: the ingredients it stands for.
        kind: ``generic``, ``brand`` or ``combination``.
    """

    name: str
    ingredients: tuple[str, ...]
    kind: str

    @property
    def label(self) -> str:
        """The text of the completion popup, e.g. ``Xanax - alprazolam (brand)``."""
        if self.kind == "generic":
            return f"{self.name} (generic)"
        return f"{self.name} - {' + '.join(self.ingredients)} ({self.kind})"


def drug_names() -> tuple[DrugName, ...]:
    """Every generic, brand and combination name of the drug knowledge base."""
    drugs = ruleset().drugs
    brand_case: dict[str, str] = {}
    for ingredient in drugs.ingredients.values():
        for brand in ingredient.brands:
            brand_case.setdefault(brand.lower(), brand)
    entries: list[DrugName] = []
    for name in drugs.names():
        match = drugs.recognise_text(name)
        if match is None:  # pragma: no cover - every listed name is recognised
            continue
        if name in drugs.ingredients:
            entries.append(DrugName(name, match.ingredients, "generic"))
        elif name in brand_case:
            entries.append(DrugName(brand_case[name], match.ingredients,
                                    "brand" if len(match.ingredients) == 1 else "combination"))
        else:
            shown = name[:1].upper() + name[1:]
            entries.append(DrugName(shown, match.ingredients,
                                    "combination" if len(match.ingredients) > 1 else "brand"))
    return tuple(entries)


@dataclass(frozen=True)
class Recognition:
    """What a medication or problem-list entry was recognised as.

    Attributes:
        labels: the medication classes (or history concepts) it counts as; empty when it was
            recognised but belongs to no screened class.
        matched: the names or code the recognition rests on.
        via: ``code`` or ``text``.
    """

    labels: tuple[str, ...]
    matched: str
    via: str
    not_counted: tuple[tuple[str, str], ...] = ()
    """Concepts named in the text whose context says they do not count (or are a question):
    ``(concept, reading)`` pairs such as ``("cerebrovascular-accident-history",
    "negated: 'no history of'")``."""


def recognise_medication(*, text: str, code: str = "") -> Recognition | None:
    """The classes a medication entry is recognised as, or ``None`` when it is not recognised
    (and therefore not checked for interactions)."""
    if not text.strip() and not code.strip():
        return None
    try:
        medication = Medication(text=text or None, system=RXNORM if code.strip() else None,
                                code=code.strip() or None)
    except ValueError:
        return None
    drugs = ruleset().drugs
    match = drugs.recognise(medication)
    if match is None:
        return None
    return Recognition(drugs.classes_of(match.ingredients),
                       f"{match.matched} ({', '.join(match.ingredients)})", match.via)


def recognise_condition(*, text: str, system: str = "", code: str = "") -> Recognition | None:
    """The history concepts a problem-list entry is recognised as, or ``None``."""
    if not text.strip() and not code.strip():
        return None
    try:
        condition = Condition(text=text or None, system=system or None, code=code or None)
    except ValueError:
        return None
    read = ruleset().conditions.read(condition)
    counted = [m for m in read if m.counts]
    not_counted = tuple(dict.fromkeys((m.entry.concept, m.assertion.describe())
                                      for m in read if not m.counts))
    if not counted and not not_counted:
        return None
    return Recognition(tuple(dict.fromkeys(m.entry.concept for m in counted)),
                       ", ".join(m.matched for m in counted or read), (counted or read)[0].via,
                       not_counted)


def preload_condition_context() -> None:
    """Load the problem-list context reader (spaCy, medspaCy ConText) now, not on first use.

    It takes a second or more; the app calls this from a background thread after its window is
    shown, so the first problem typed does not wait for it.
    """
    from ketascreen.knowledge.context import preload  # noqa: PLC0415 - lazy: spaCy is heavy

    preload()
