"""PHQ-9 and GAD-7: totals, item 9, severity bands at and around each boundary, item-level
validation naming the item."""

from __future__ import annotations

import pytest

from ketascreen.errors import CaseValidationError
from ketascreen.models.scales import (
    gad7_score,
    gad7_severity,
    gad7_total,
    phq9_item9,
    phq9_score,
    phq9_severity,
    phq9_total,
)

SPEC_PHQ9 = [2, 2, 1, 2, 1, 1, 1, 1, 0]  # course-format.md's example: total 11, item 9 = 0


def test_totals_from_items_or_totals() -> None:
    """A total is the sum of the items, or the total as given; absent stays absent."""
    assert phq9_total(SPEC_PHQ9) == 11
    assert phq9_total(11) == 11
    assert phq9_total(None) is None
    assert gad7_total([3, 2, 1, 0, 1, 2, 3]) == 12
    assert gad7_total(12) == 12
    assert gad7_total(None) is None


def test_item9_is_the_last_item_and_unknown_from_a_total() -> None:
    """Item 9 is read from the items; a total (or no PHQ-9) cannot tell it."""
    assert phq9_item9(SPEC_PHQ9) == 0
    assert phq9_item9([0, 0, 0, 0, 0, 0, 0, 0, 2]) == 2
    assert phq9_item9([3, 0, 0, 0, 0, 0, 0, 0, 0]) == 0
    assert phq9_item9(11) is None
    assert phq9_item9(None) is None


@pytest.mark.parametrize(("total", "band"), [
    (0, "below-mild"), (4, "below-mild"),
    (5, "mild"), (9, "mild"),
    (10, "moderate"), (14, "moderate"),
    (15, "moderately-severe"), (19, "moderately-severe"),
    (20, "severe"), (27, "severe"),
])
def test_phq9_bands(total: int, band: str) -> None:
    """PHQ-9 bands 5/10/15/20 (R121), each boundary and the value below it."""
    assert phq9_severity(total) == band


@pytest.mark.parametrize(("total", "band"), [
    (0, "below-mild"), (4, "below-mild"),
    (5, "mild"), (9, "mild"),
    (10, "moderate"), (14, "moderate"),
    (15, "severe"), (21, "severe"),
])
def test_gad7_bands(total: int, band: str) -> None:
    """GAD-7 bands 5/10/15 (R121, R122), each boundary and the value below it."""
    assert gad7_severity(total) == band


@pytest.mark.parametrize(("function", "total"), [
    (phq9_severity, 28), (phq9_severity, -1), (gad7_severity, 22), (gad7_severity, -1)])
def test_bands_refuse_impossible_totals(function: object, total: int) -> None:
    """A total outside the scale has no band."""
    assert callable(function)
    with pytest.raises(ValueError, match="total is 0-"):
        function(total)


def test_scores_validate_and_describe() -> None:
    """A valid PHQ-9 or GAD-7, items or total, is scored with its band and item 9."""
    score = phq9_score(SPEC_PHQ9)
    assert (score.items, score.total, score.severity, score.item9) == (
        tuple(SPEC_PHQ9), 11, "moderate", 0)
    score = phq9_score(27)
    assert (score.items, score.total, score.severity, score.item9) == (None, 27, "severe", None)
    score = gad7_score([1, 1, 1, 1, 1, 1, 0])
    assert (score.total, score.severity, score.item9) == (6, "mild", None)
    assert gad7_score(21).severity == "severe"


@pytest.mark.parametrize(("value", "field", "message_part"), [
    ([1, 1, 1, 1, 1, 1, 1, 1, 4], "infusions[2].pre.phq9[8]", "less than or equal to 3"),
    ([1, 1, 1, 1, 1, 1, 1, 1], "infusions[2].pre.phq9", "at least 9 items"),
    ([1, 1, 1, 1, 1, 1, 1, 1, None], "infusions[2].pre.phq9[8]", "valid integer"),
    ([1, 1, 1, 1, True, 1, 1, 1, 1], "infusions[2].pre.phq9[4]", "valid integer"),
    (28, "infusions[2].pre.phq9", "less than or equal to 27"),
    ("11", "infusions[2].pre.phq9", "valid integer"),
])
def test_phq9_item_level_validation(value: object, field: str, message_part: str) -> None:
    """An invalid PHQ-9 is refused, naming the item (0-based, as in the file's paths)."""
    with pytest.raises(CaseValidationError) as caught:
        phq9_score(value, field="infusions[2].pre.phq9")
    [problem] = caught.value.problems
    assert problem.field == field
    assert message_part in problem.message


@pytest.mark.parametrize(("value", "field", "message_part"), [
    ([1, 1, 1, 1, 1, 1, 4], "gad7[6]", "less than or equal to 3"),
    ([1, 1, 1, 1, 1, 1, 1, 1], "gad7", "at most 7 items"),
    (22, "gad7", "less than or equal to 21"),
    (-1, "gad7", "greater than or equal to 0"),
])
def test_gad7_item_level_validation(value: object, field: str, message_part: str) -> None:
    """An invalid GAD-7 is refused, naming the item."""
    with pytest.raises(CaseValidationError) as caught:
        gad7_score(value)
    [problem] = caught.value.problems
    assert problem.field == field
    assert message_part in problem.message
