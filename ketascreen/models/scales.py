"""PHQ-9 and GAD-7: item-level validation, totals, PHQ-9 item 9 and severity bands.

A score is given either as the item scores (nine for the PHQ-9, seven for the GAD-7, each 0-3) or
as an integer total (0-27, 0-21); ``course-format.md`` allows both. The annotated types below
validate either form and are the ones the course model uses; :func:`phq9_score` and
:func:`gad7_score` validate a value arriving from elsewhere (a form, an imported FHIR
Observation) and describe it.

Severity bands are not in ``course-facts.md`` (no C# key gives them); they come from
``clinical-facts.md``: PHQ-9 5/10/15/20 = mild/moderate/moderately severe/severe and GAD-7
5/10/15 = mild/moderate/severe (R121, R122; a secondary source, marked low-trust there). The
facts name no band below 5, so a total under 5 is ``below-mild``. Response, remission and
item-9 actions are course rules (C43, C48, C51), not bands, and are not decided here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, StrictInt, Tag, TypeAdapter, ValidationError

from ketascreen.errors import CaseValidationError, FieldProblem

PHQ9_ITEMS = 9
GAD7_ITEMS = 7
ITEM_MAX = 3
"""Both questionnaires score each item 0 ("not at all") to 3 ("nearly every day")."""
PHQ9_TOTAL_MAX = PHQ9_ITEMS * ITEM_MAX
GAD7_TOTAL_MAX = GAD7_ITEMS * ITEM_MAX
PHQ9_SUICIDE_ITEM = 9
"""Item 9, thoughts of death or self-harm (C51): the last item."""

_Item = Annotated[StrictInt, Field(ge=0, le=ITEM_MAX)]
Phq9Items = Annotated[list[_Item], Field(min_length=PHQ9_ITEMS, max_length=PHQ9_ITEMS)]
Phq9Total = Annotated[StrictInt, Field(ge=0, le=PHQ9_TOTAL_MAX)]
Gad7Items = Annotated[list[_Item], Field(min_length=GAD7_ITEMS, max_length=GAD7_ITEMS)]
Gad7Total = Annotated[StrictInt, Field(ge=0, le=GAD7_TOTAL_MAX)]


def _items_or_total(value: Any) -> str:
    # A list is validated as the items, anything else as a total: only the errors of the form
    # the user chose are reported. The tag names are the ones problems_from leaves out of a
    # field path (a union branch is not a field).
    return "list[items]" if isinstance(value, list) else "int"


Phq9Value = Annotated[Annotated[Phq9Items, Tag("list[items]")] | Annotated[Phq9Total, Tag("int")],
                      Discriminator(_items_or_total)]
"""A PHQ-9 as the course file gives it: nine item scores 0-3, or a total 0-27."""
Gad7Value = Annotated[Annotated[Gad7Items, Tag("list[items]")] | Annotated[Gad7Total, Tag("int")],
                      Discriminator(_items_or_total)]
"""A GAD-7 as the course file gives it: seven item scores 0-3, or a total 0-21."""

Phq9Severity = Literal["below-mild", "mild", "moderate", "moderately-severe", "severe"]
Gad7Severity = Literal["below-mild", "mild", "moderate", "severe"]

# Lower bound of each band, highest first: clinical-facts.md §5.6, R121 (PHQ-9), R121 R122 (GAD-7).
_PHQ9_BANDS: tuple[tuple[int, Phq9Severity], ...] = (
    (20, "severe"), (15, "moderately-severe"), (10, "moderate"), (5, "mild"), (0, "below-mild"))
_GAD7_BANDS: tuple[tuple[int, Gad7Severity], ...] = (
    (15, "severe"), (10, "moderate"), (5, "mild"), (0, "below-mild"))

_PHQ9_ADAPTER: TypeAdapter[Phq9Value] = TypeAdapter(Phq9Value)
_GAD7_ADAPTER: TypeAdapter[Gad7Value] = TypeAdapter(Gad7Value)


def _total(value: Sequence[int] | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return sum(value)


def phq9_total(value: Sequence[int] | int | None) -> int | None:
    """The PHQ-9 total 0-27: the sum of the nine items, or the total as given; ``None`` when
    not given. The value is assumed valid (see :func:`phq9_score` to validate)."""
    return _total(value)


def gad7_total(value: Sequence[int] | int | None) -> int | None:
    """The GAD-7 total 0-21: the sum of the seven items, or the total as given; ``None`` when
    not given. The value is assumed valid (see :func:`gad7_score` to validate)."""
    return _total(value)


def phq9_item9(value: Sequence[int] | int | None) -> int | None:
    """The score of PHQ-9 item 9 (thoughts of death or self-harm, C51), 0-3; ``None`` when the
    PHQ-9 is absent or given only as a total (the item cannot be known from a total)."""
    if value is None or isinstance(value, int):
        return None
    return value[PHQ9_SUICIDE_ITEM - 1]


def phq9_severity(total: int) -> Phq9Severity:
    """The PHQ-9 severity band of a total 0-27 (R121: 5/10/15/20).

    Raises:
        ValueError: the total is outside 0-27.
    """
    if not 0 <= total <= PHQ9_TOTAL_MAX:
        raise ValueError(f"a PHQ-9 total is 0-{PHQ9_TOTAL_MAX}, not {total}")
    return next(band for low, band in _PHQ9_BANDS if total >= low)


def gad7_severity(total: int) -> Gad7Severity:
    """The GAD-7 severity band of a total 0-21 (R121, R122: 5/10/15).

    Raises:
        ValueError: the total is outside 0-21.
    """
    if not 0 <= total <= GAD7_TOTAL_MAX:
        raise ValueError(f"a GAD-7 total is 0-{GAD7_TOTAL_MAX}, not {total}")
    return next(band for low, band in _GAD7_BANDS if total >= low)


@dataclass(frozen=True, eq=False, repr=False)
class ScaleScore:
    """One validated PHQ-9 or GAD-7.

    Attributes:
        items: the item scores in questionnaire order, or ``None`` when only a total was given.
        total: the total.
        severity: the severity band of the total (R121, R122).
    """

    items: tuple[int, ...] | None
    total: int
    severity: str

    @property
    def item9(self) -> int | None:
        """PHQ-9 item 9 (C51), or ``None`` without items or for a GAD-7."""
        if self.items is None or len(self.items) != PHQ9_ITEMS:
            return None
        return self.items[PHQ9_SUICIDE_ITEM - 1]


def _validated(adapter: TypeAdapter[list[int] | int], value: object,
               field: str) -> tuple[tuple[int, ...] | None, int]:
    try:
        checked = adapter.validate_python(value)
    except ValidationError as error:
        # Only the chosen form is validated (items or total), so the one location part that
        # matters is the item's index.
        problems = [FieldProblem(field + "".join(f"[{p}]" for p in item["loc"]
                                                 if isinstance(p, int)),
                                 item["msg"], item.get("input"))
                    for item in error.errors(include_url=False)]
        raise CaseValidationError(problems) from None
    if isinstance(checked, int):
        return None, checked
    return tuple(checked), sum(checked)


def phq9_score(value: object, *, field: str = "phq9") -> ScaleScore:
    """Validate a PHQ-9 (nine item scores 0-3, or a total 0-27) and score it.

    Args:
        value: the items or the total.
        field: the field path to name in errors (``infusions[2].pre.phq9``).

    Raises:
        CaseValidationError: naming the offending item (``phq9[8]``) or the total.
    """
    items, total = _validated(_PHQ9_ADAPTER, value, field)
    return ScaleScore(items, total, phq9_severity(total))


def gad7_score(value: object, *, field: str = "gad7") -> ScaleScore:
    """Validate a GAD-7 (seven item scores 0-3, or a total 0-21) and score it.

    Args:
        value: the items or the total.
        field: the field path to name in errors (``infusions[0].pre.gad7``).

    Raises:
        CaseValidationError: naming the offending item (``gad7[6]``) or the total.
    """
    items, total = _validated(_GAD7_ADAPTER, value, field)
    return ScaleScore(items, total, gad7_severity(total))
