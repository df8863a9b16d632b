"""The dose of one infusion of a course (ketascreen.course.dose): the protocol it is dosed with,
field by field from its own block, the previous infusions' and the screening's; the course plan;
and the change of dose per weight from the previous infusion."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import pytest

from ketascreen.course.dose import SCREENING, protocol_for
from ketascreen.models.course import Course
from ketascreen.models.parsing import parse_course
from tests.course.helpers import example_course

# --- building courses ------------------------------------------------------------------------

_FIRST_DAY = date(2026, 11, 27)


def course_of(screening_protocol: dict[str, Any] | None,
              blocks: list[dict[str, Any] | None], *,
              indication: str | None = None,
              plan: dict[str, int] | None = None) -> Course:
    """The example course with the screening's ``protocol`` replaced (``None``: absent) and one
    infusion per entry of ``blocks``, each with that ``dose`` block (``None``: absent), two days
    apart from 2026-11-27 (across the November/December month end)."""
    data = example_course()
    if screening_protocol is None:
        data["screening"].pop("protocol", None)
    else:
        data["screening"]["protocol"] = copy.deepcopy(screening_protocol)
    if indication is not None:
        data["screening"]["indication"] = indication
    if plan is None:
        data.pop("plan", None)
    else:
        data["plan"] = plan
    template = data["infusions"][1]
    infusions = []
    for index, block in enumerate(blocks):
        infusion = copy.deepcopy(data["infusions"][0] if index == 0 else template)
        day = _FIRST_DAY + timedelta(days=2 * index)
        infusion["number"] = index + 1
        infusion["start"] = f"{day.isoformat()}T09:00"
        infusion["pre"]["last_solids"] = f"{day.isoformat()}T01:00"
        infusion["pre"]["last_clear_fluids"] = f"{day.isoformat()}T07:00"
        infusion.pop("dose", None)
        if block is not None:
            infusion["dose"] = copy.deepcopy(block)
        infusions.append(infusion)
    data["infusions"] = infusions
    return parse_course(data)


def fields(protocol_choice: Any) -> dict[str, str]:
    """The protocol's given fields (absent ones left out)."""
    return {k: v for k, v in protocol_choice.protocol.model_dump().items() if v is not None}


SCREENED = {"dose": "0.5 mg/kg", "duration": "40 min", "weight_basis": "actual",
            "concentration": "1 mg/mL"}
SLOW_IDEAL = {"dose": "0.5 mg/kg", "duration": "100 min", "weight_basis": "ideal",
              "concentration": "1 mg/mL"}
BAG = {"vial": "50 mg/mL", "diluent_volume": "50 mL"}


# --- protocol_for: own -> previous -> screening, field by field --------------------------------

def test_the_infusions_own_whole_block_is_used() -> None:
    """Every field given by the infusion itself: source infusion, every origin the infusion."""
    own = {"dose": "0.75 mg/kg", "duration": "45 min", "weight_basis": "actual",
           "concentration": "2 mg/mL"}
    choice = protocol_for(course_of(SCREENED, [None, own]), 2)
    assert (choice.source, choice.from_infusion) == ("infusion", 2)
    assert fields(choice) == own
    assert dict(choice.origins) == dict.fromkeys(own, 2)


def test_an_absent_block_takes_the_previous_infusions() -> None:
    """Infusion 3 without a block: infusion 2's fields, the rest still the screening's."""
    course = course_of(SCREENED, [None, {"dose": "0.75 mg/kg", "duration": "45 min"}, None])
    choice = protocol_for(course, 3)
    assert (choice.source, choice.from_infusion) == ("previous", 2)
    assert fields(choice) == {"dose": "0.75 mg/kg", "duration": "45 min",
                              "weight_basis": "actual", "concentration": "1 mg/mL"}
    assert dict(choice.origins) == {"dose": 2, "duration": 2, "weight_basis": SCREENING,
                                    "concentration": SCREENING}


def test_the_latest_earlier_block_wins_over_older_ones() -> None:
    """Infusions 2 and 4 give a dose: infusion 5 (no block) is dosed with infusion 4's."""
    course = course_of(SCREENED, [None, {"dose": "0.6 mg/kg"}, None,
                                  {"dose": "0.75 mg/kg"}, None])
    choice = protocol_for(course, 5)
    assert (choice.source, choice.from_infusion) == ("previous", 4)
    assert choice.protocol.dose == "0.75 mg/kg"
    assert dict(choice.origins)["dose"] == 4


def test_a_later_infusion_is_never_read() -> None:
    """Infusion 2 of a file that goes on to infusion 3 does not see infusion 3's escalation."""
    course = course_of(SCREENED, [None, None, {"dose": "0.75 mg/kg"}])
    choice = protocol_for(course, 2)
    assert choice.source == "screening" and choice.from_infusion is None
    assert choice.protocol.dose == "0.5 mg/kg"


def test_no_block_at_all_is_the_screenings_protocol() -> None:
    """No infusion gives a field: source screening, the screening's fields, origin 0."""
    choice = protocol_for(course_of(SCREENED, [None, None]), 2)
    assert (choice.source, choice.from_infusion) == ("screening", None)
    assert fields(choice) == SCREENED
    assert set(dict(choice.origins).values()) == {SCREENING}


def test_no_protocol_anywhere_leaves_every_field_to_the_formulary() -> None:
    """Neither the screening nor an infusion gives a protocol: an empty one (the formulary's
    defaults for the indication apply), from the screening, no origins."""
    choice = protocol_for(course_of(None, [None, None]), 2)
    assert (choice.source, choice.from_infusion) == ("screening", None)
    assert fields(choice) == {} and choice.origins == ()


def test_an_empty_block_gives_nothing() -> None:
    """``"dose": {}`` is no order: the previous infusion's block stays in force."""
    course = course_of(SCREENED, [None, {"dose": "0.75 mg/kg"}, {}])
    choice = protocol_for(course, 3)
    assert (choice.source, choice.from_infusion) == ("previous", 2)
    assert choice.protocol.dose == "0.75 mg/kg"


# The two readings of "absent -> the previous infusion's, or the screening's" part where an
# infusion's block gives some fields only. Whole-block would fall back to the formulary for the
# rest (40 min, actual weight); field by field keeps what was ordered.

def test_a_dose_alone_keeps_a_slow_duration_and_an_ideal_weight_basis() -> None:
    """Screening: 0.5 mg/kg over 100 min (R26) on ideal weight; infusion 4 escalates the dose
    only. Its duration stays 100 min and its basis ideal (whole-block: 40 min, actual weight,
    a 2.5-fold faster infusion of a larger dose)."""
    course = course_of(SLOW_IDEAL, [None, None, None, {"dose": "0.75 mg/kg"}])
    choice = protocol_for(course, 4)
    assert (choice.source, choice.from_infusion) == ("infusion", 4)
    assert fields(choice) == {**SLOW_IDEAL, "dose": "0.75 mg/kg"}
    assert dict(choice.origins) == {"dose": 4, "duration": SCREENING,
                                    "weight_basis": SCREENING, "concentration": SCREENING}


def test_a_duration_alone_keeps_the_previous_dose() -> None:
    """Infusion 2 escalates to 0.75 mg/kg; infusion 3 only lengthens the infusion: the dose
    stays 0.75 mg/kg (whole-block: back to the formulary's 0.5 mg/kg)."""
    course = course_of(SCREENED, [None, {"dose": "0.75 mg/kg"}, {"duration": "60 min"}])
    choice = protocol_for(course, 3)
    assert (choice.source, choice.from_infusion) == ("infusion", 3)
    assert choice.protocol.dose == "0.75 mg/kg" and choice.protocol.duration == "60 min"
    assert dict(choice.origins)["dose"] == 2


def test_a_new_preparation_replaces_the_old_one_whole() -> None:
    """The screening's 1 mg/mL; infusion 2 changes to a vial into a 50 mL bag: no concentration
    left over (a merged block would be invalid: concentration and vial together)."""
    course = course_of(SCREENED, [None, BAG, None])
    for number in (2, 3):
        choice = protocol_for(course, number)
        assert fields(choice) == {"dose": "0.5 mg/kg", "duration": "40 min",
                                  "weight_basis": "actual", **BAG}
        assert dict(choice.origins)["vial"] == dict(choice.origins)["diluent_volume"] == 2


def test_a_concentration_after_a_vial_drops_the_vial_and_its_bag() -> None:
    """Vial and bag at infusion 2, a final concentration at infusion 3: only the concentration."""
    course = course_of(SCREENED, [None, BAG, {"concentration": "2 mg/mL"}])
    choice = protocol_for(course, 3)
    assert choice.protocol.concentration == "2 mg/mL"
    assert choice.protocol.vial is None and choice.protocol.diluent_volume is None


def test_a_vial_alone_does_not_inherit_an_earlier_bag() -> None:
    """A vial without a diluent volume after a vial into 50 mL: the bag is the formulary's
    default again (the preparation is one choice), not the earlier 50 mL."""
    course = course_of(SCREENED, [None, BAG, {"vial": "10 mg/mL"}])
    choice = protocol_for(course, 3)
    assert choice.protocol.vial == "10 mg/mL" and choice.protocol.diluent_volume is None
    assert "diluent_volume" not in dict(choice.origins)


def test_a_rate_order_is_carried_as_written() -> None:
    """A chronic-pain rate in mcg/kg/min stays the text ordered (the dosing parses it)."""
    course = course_of({"dose": "0.5 mg/kg/h", "duration": "4 h"},
                       [None, {"dose": "10 mcg/kg/min"}, None], indication="chronic-pain")
    choice = protocol_for(course, 3)
    assert fields(choice) == {"dose": "10 mcg/kg/min", "duration": "4 h"}
    assert dict(choice.origins) == {"dose": 2, "duration": SCREENING}


def test_infusion_one_reads_only_itself_and_the_screening() -> None:
    """The first infusion's own block, else the screening's protocol."""
    assert protocol_for(course_of(SCREENED, [None, None]), 1).source == "screening"
    choice = protocol_for(course_of(SCREENED, [{"duration": "45 min"}]), 1)
    assert (choice.source, choice.from_infusion) == ("infusion", 1)
    assert choice.protocol.duration == "45 min" and choice.protocol.dose == "0.5 mg/kg"


@pytest.mark.parametrize("number", [0, 3, -1])
def test_an_infusion_the_course_does_not_have_is_an_error(number: int) -> None:
    """Numbers outside 1..n raise IndexError naming the range."""
    with pytest.raises(IndexError, match="infusions 1 to 2"):
        protocol_for(course_of(SCREENED, [None, None]), number)


def test_the_example_course() -> None:
    """The spec's example: infusion 2 has no block (infusion 1's), infusion 3 its own."""
    course = parse_course(example_course())
    second = protocol_for(course, 2)
    assert (second.source, second.from_infusion) == ("previous", 1)
    assert second.protocol.concentration == "1 mg/mL"
    assert protocol_for(course, 3).source == "infusion"
