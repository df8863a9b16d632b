"""The dose of one infusion of a course (ketascreen.course.dose): the protocol it is dosed with,
field by field from its own block, the previous infusions' and the screening's; the course plan;
and the change of dose per weight from the previous infusion."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketascreen.course.dose import (
    SCREENING,
    course_plan,
    dose_change,
    planned_infusions,
    protocol_for,
)
from ketascreen.course.outcome import DoseChange
from ketascreen.display import format_number, ismp_violations
from ketascreen.dosing import DoseOutcome
from ketascreen.knowledge.formulary import Formulary, load_formulary
from ketascreen.models.course import Course
from ketascreen.models.parsing import parse_course
from tests.course.helpers import example_course
from tests.dosing.support import FORMULARY, SHIPPED_FORMULARY, case_with, dose_of

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


# --- the plan ----------------------------------------------------------------------------------

def test_the_course_files_plan_comes_first() -> None:
    """``plan`` of the course file: its count, whatever the formulary says."""
    course = course_of(SCREENED, [None], plan={"infusions": 8, "weeks": 4})
    assert planned_infusions(course, FORMULARY) == 8
    plan = course_plan(course, FORMULARY)
    assert plan is not None and (plan.infusions, plan.weeks) == (8, 4)


def test_without_a_plan_the_formularys_default_for_the_indication() -> None:
    """No ``plan``: the shipped formulary's depression course, 6 infusions over 3 weeks
    (R9, R10)."""
    course = course_of(SCREENED, [None])
    assert planned_infusions(course, FORMULARY) == 6
    plan = course_plan(course, FORMULARY)
    assert plan is not None and (plan.infusions, plan.weeks) == (6, 3)


def test_no_plan_anywhere_is_none() -> None:
    """Chronic pain has no formulary course entry: no plan known. A formulary without a
    ``[course]`` section (written before courses) gives none for any indication."""
    pain = course_of({"dose": "0.5 mg/kg/h", "duration": "4 h"}, [None],
                     indication="chronic-pain")
    assert planned_infusions(pain, FORMULARY) is None
    assert planned_infusions(course_of(SCREENED, [None]), formulary_without_course()) is None
    assert planned_infusions(course_of(SCREENED, [None], plan={"infusions": 6, "weeks": 2}),
                             formulary_without_course()) == 6


# --- the change of dose per weight ---------------------------------------------------------------

def at(dose: str, weight: str = "187 lb", **protocol: str) -> DoseOutcome:
    """The dose outcome of the example case (depression, 1 mg/mL over 40 min) at ``dose`` and
    ``weight``."""
    ordered = {"dose": dose, "duration": "40 min", "concentration": "1 mg/mL", **protocol}
    outcome = dose_of(case_with({"protocol": ordered, "measurements.weight": weight}))
    assert outcome.dose is not None, outcome.refusal
    return outcome


def pain_at(dose: str, weight: str = "187 lb") -> DoseOutcome:
    """A chronic-pain dose outcome (limits per hour) over 4 h at 1 mg/mL."""
    outcome = dose_of(case_with({"indication": "chronic-pain", "measurements.weight": weight,
                                 "protocol": {"dose": dose, "duration": "4 h",
                                              "concentration": "1 mg/mL"}}))
    assert outcome.dose is not None, outcome.refusal
    return outcome


def change(previous: DoseOutcome | None, current: DoseOutcome,
           formulary: Formulary = FORMULARY, indication: str = "depression") -> DoseChange | None:
    """dose_change, checking that what it prints is ISMP-clean."""
    found = dose_change(previous, current, formulary, indication=indication)
    if found is not None:
        for text in (found.text, found.previous, found.current, found.step or "",
                     found.ceiling or ""):
            assert ismp_violations(text) == [], text
    return found


def test_the_issues_example() -> None:
    """0.5 -> 0.75 mg/kg: an escalation by exactly the step (R10) to exactly the ceiling."""
    found = change(at("0.5 mg/kg"), at("0.75 mg/kg"))
    assert found == DoseChange(
        previous="0.5 mg/kg", current="0.75 mg/kg", direction="escalation", sources=("R10",),
        text="0.5 -> 0.75 mg/kg: escalation, R10", step="0.25 mg/kg", exceeds_step=False,
        ceiling="0.75 mg/kg", above_ceiling=False)


# (name, previous mg/kg, current mg/kg, exceeds_step, above_ceiling, text)
STEP_AND_CEILING = [
    ("by less than the step", "0.5 mg/kg", "0.7499 mg/kg", False, False,
     "0.5 -> 0.7499 mg/kg: escalation, R10"),
    ("by exactly the step, to the ceiling", "0.5 mg/kg", "0.75 mg/kg", False, False,
     "0.5 -> 0.75 mg/kg: escalation, R10"),
    ("by just over the step, just over the ceiling", "0.5 mg/kg", "0.7501 mg/kg", True, True,
     "0.5 -> 0.7501 mg/kg: escalation, R10; larger than the escalation step of 0.25 mg/kg; "
     "above the escalation ceiling of 0.75 mg/kg"),
    ("by just over the step, below the ceiling", "0.4 mg/kg", "0.6501 mg/kg", True, False,
     "0.4 -> 0.6501 mg/kg: escalation, R10; larger than the escalation step of 0.25 mg/kg"),
    ("within the step, just over the ceiling", "0.7 mg/kg", "0.7501 mg/kg", False, True,
     "0.7 -> 0.7501 mg/kg: escalation, R10; above the escalation ceiling of 0.75 mg/kg"),
    ("twice the step to the hard limit", "0.5 mg/kg", "1 mg/kg", True, True,
     "0.5 -> 1 mg/kg: escalation, R10; larger than the escalation step of 0.25 mg/kg; "
     "above the escalation ceiling of 0.75 mg/kg"),
    ("reduction from above the ceiling, still above", "1 mg/kg", "0.8 mg/kg", False, True,
     "1 -> 0.8 mg/kg: reduction; above the escalation ceiling of 0.75 mg/kg"),
    ("reduction by more than the step is no step", "0.75 mg/kg", "0.25 mg/kg", False, False,
     "0.75 -> 0.25 mg/kg: reduction"),
]


@pytest.mark.parametrize(("name", "before", "after", "exceeds", "above", "text"),
                         STEP_AND_CEILING, ids=[v[0] for v in STEP_AND_CEILING])
def test_each_side_of_the_step_and_the_ceiling(name: str, before: str, after: str,
                                               exceeds: bool, above: bool, text: str) -> None:
    """The step (0.25 mg/kg, R10) and the ceiling (0.75 mg/kg, local policy) at, just below and
    just above, as data for a rule and in the printed line."""
    found = change(at(before), at(after))
    assert found is not None
    assert (found.exceeds_step, found.above_ceiling, found.text) == (exceeds, above, text)
    assert found.direction == ("reduction" if ": reduction" in text else "escalation")
    assert found.sources == (("R10",) if found.direction == "escalation" else ())


def test_no_change_and_no_dose_are_none() -> None:
    """The same dose per weight, a previous infusion missing, or either dose refused: None."""
    assert change(at("0.5 mg/kg"), at("0.5 mg/kg")) is None
    assert change(None, at("0.75 mg/kg")) is None
    refused = dose_of(case_with({"protocol": {"dose": "1.2 mg/kg", "duration": "40 min"}}))
    assert refused.dose is None
    assert change(at("0.5 mg/kg"), refused) is None
    assert change(refused, at("0.5 mg/kg")) is None


def test_equal_at_the_display_resolution_is_no_change() -> None:
    """Doses that print the same (0.0001 mg/kg resolution) are the same; one resolution step
    apart they differ."""
    assert change(at("0.5 mg/kg"), at("0.50004 mg/kg")) is None
    found = change(at("0.5 mg/kg"), at("0.5001 mg/kg"))
    assert found is not None and found.text == "0.5 -> 0.5001 mg/kg: escalation, R10"


@pytest.mark.parametrize(("before", "after"), [
    ("187 lb", "84.82 kg"),     # the same patient, weighed in kg this time
    ("187 lb", "90 kg"),        # heavier: more mg, the same mg/kg
    ("84.82 kg", "187 lb"),
    ("187 lb", "187 lb"),
])
def test_lb_and_kg_give_the_same_change(before: str, after: str) -> None:
    """The change is per dosing weight: the unit the weight was typed in cancels out."""
    found = change(at("0.5 mg/kg", before), at("0.75 mg/kg", after))
    assert found is not None and found.text == "0.5 -> 0.75 mg/kg: escalation, R10"
    assert change(at("0.5 mg/kg", before), at("0.5 mg/kg", after)) is None


def test_a_rate_order_of_the_same_session_dose_is_no_change() -> None:
    """Depression's limits are per session: 12.5 mcg/kg/min (or 0.75 mg/kg/h) over 40 min is
    0.5 mg/kg, no change; 18.75 mcg/kg/min over 40 min is 0.75 mg/kg."""
    assert change(at("0.5 mg/kg"), at("12.5 mcg/kg/min")) is None
    assert change(at("0.5 mg/kg"), at("0.75 mg/kg/h")) is None
    found = change(at("12.5 mcg/kg/min"), at("18.75 mcg/kg/min"))
    assert found is not None and found.text == "0.5 -> 0.75 mg/kg: escalation, R10"


def test_a_per_hour_protocol_compares_rates() -> None:
    """Chronic pain's limits are per hour: mg/kg/h are compared, whether ordered in mg/kg/h or
    mcg/kg/min; the shipped formulary has no course entry for it, and says so."""
    found = change(pain_at("0.5 mg/kg/h"), pain_at("10 mcg/kg/min"), indication="chronic-pain")
    assert found is not None
    assert found.text == "0.5 -> 0.6 mg/kg/h: escalation, no escalation step in the formulary"
    assert (found.previous, found.current) == ("0.5 mg/kg/h", "0.6 mg/kg/h")
    assert (found.step, found.ceiling, found.sources) == (None, None, ())
    assert not found.exceeds_step and not found.above_ceiling
    assert change(pain_at("0.5 mg/kg/h"), pain_at("8.3333 mcg/kg/min"),
                  indication="chronic-pain") is None


@pytest.mark.parametrize(("before", "after", "exceeds", "above"), [
    ("0.5 mg/kg/h", "0.75 mg/kg/h", False, False),     # exactly the step
    ("0.5 mg/kg/h", "0.7501 mg/kg/h", True, False),    # just over the step
    ("1.25 mg/kg/h", "1.5 mg/kg/h", False, False),     # to exactly the ceiling
    ("1.25 mg/kg/h", "1.5001 mg/kg/h", True, True),    # over both
    ("1.4 mg/kg/h", "25.002 mcg/kg/min", False, True),  # 1.5001 mg/kg/h, written per minute
])
def test_a_rate_course_entry(tmp_path: Path, before: str, after: str, exceeds: bool,
                             above: bool) -> None:
    """A clinic's chronic-pain course entry written in mcg/kg/min (0.25 mg/kg/h step, 1.5
    mg/kg/h ceiling, local policy): both sides of each."""
    formulary = formulary_with(tmp_path, PAIN_COURSE)
    found = change(pain_at(before), pain_at(after), formulary, "chronic-pain")
    assert found is not None
    assert (found.exceeds_step, found.above_ceiling) == (exceeds, above)
    assert (found.step, found.ceiling) == ("0.25 mg/kg/h", "1.5 mg/kg/h")
    assert found.sources == ("local-policy",)
    assert found.text.startswith(f"{found.previous.removesuffix(' mg/kg/h')} -> "
                                 f"{found.current}: escalation, local policy")


_DOSES = st.integers(1000, 10000).map(lambda n: Decimal(n).scaleb(-4))   # 0.1-1 mg/kg
_WEIGHTS = st.sampled_from(["187 lb", "84.82 kg", "60 kg", "132.3 lb", "110 kg"])


@settings(max_examples=40, deadline=None)
@given(_DOSES, _DOSES, _WEIGHTS, _WEIGHTS)
def test_any_two_doses(before: Decimal, after: Decimal, weight_before: str,
                       weight_after: str) -> None:
    """Any two doses in the published range, at any weights: no change exactly when equal; else
    the direction of the numbers, the numbers as ordered, and the reverse is the opposite."""
    first = at(f"{before} mg/kg", weight_before)
    second = at(f"{after} mg/kg", weight_after)
    found = change(first, second)
    if before == after:
        assert found is None
        return
    assert found is not None
    assert found.direction == ("escalation" if after > before else "reduction")
    assert found.text.startswith(
        f"{format_number(before, 4)} -> {format_number(after, 4)} mg/kg: {found.direction}")
    assert found.exceeds_step == (after - before > Decimal("0.25"))
    assert found.above_ceiling == (after > Decimal("0.75"))
    back = change(second, first)
    assert back is not None and back.direction != found.direction
    assert (back.previous, back.current) == (found.current, found.previous)


def test_without_a_course_entry_nothing_is_flagged() -> None:
    """A formulary without ``[course]``: the change is shown, with no step or ceiling."""
    found = change(at("0.5 mg/kg"), at("1 mg/kg"), formulary_without_course())
    assert found is not None
    assert found.text == "0.5 -> 1 mg/kg: escalation, no escalation step in the formulary"
    assert (found.step, found.ceiling, found.exceeds_step, found.above_ceiling) == (
        None, None, False, False)


def test_an_unknown_indication_is_an_error() -> None:
    """Not an indication of case-format.md: KeyError, never a guess."""
    with pytest.raises(KeyError):
        dose_change(at("0.5 mg/kg"), at("0.75 mg/kg"), FORMULARY, indication="insomnia")


# --- formularies ---------------------------------------------------------------------------------

PAIN_COURSE = """
[course.chronic-pain]
plan = { value = "10 infusions over 2 weeks", source = ["local-policy"] }
escalation_step = { value = "4.1667 mcg/kg/min", source = ["local-policy"] }
escalation_ceiling = { value = "1.5 mg/kg/h", source = ["local-policy"] }
"""


def formulary_with(tmp_path: Path, extra: str) -> Formulary:
    """The shipped formulary with ``extra`` TOML appended."""
    path = tmp_path / "formulary.toml"
    path.write_text(SHIPPED_FORMULARY.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return load_formulary(path)


def formulary_without_course() -> Formulary:
    """The shipped formulary with its ``[course]`` section cut off (a pre-course clinic file)."""
    text = SHIPPED_FORMULARY.read_text(encoding="utf-8")
    return load_formulary(text[:text.index("[course.depression]")].encode("utf-8"))
