"""The bedside independent double check: entries, the signed order re-derived, the comparison.

Two orders: the spec's example (a given concentration: 1 mg/mL, 42.41 mL prepared, 63.6 mL/h,
VTBI 42.4 mL) and a vial into a bag (66 kg at 0.5 mg/kg: 0.66 mL of the 50 mg/mL vial into
100 mL, 151 mL/h, VTBI 100.6 mL), the issue's example of a rate typed 15.1 for 151.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ketascreen.api import parse_case
from ketascreen.doublecheck import (
    BedsideEntries,
    IdentifierKind,
    SignedOrder,
    compare,
    parse_birth_date,
    parse_entries,
    same_name,
    signed_order,
)
from ketascreen.errors import DoubleCheckEntryError, OrderNotRederivableError
from ketascreen.models.parsing import parse_course
from ketascreen.screening import ClinicFiles, Screening, clinic_rule_set, run, run_course
from ketascreen.units import magnitude_in
from tests.course.helpers import example_course
from tests.helpers.cases import REPO, clean_case, example_case, patched

ACKNOWLEDGED = {"acknowledgements": [
    {"concept": "benzodiazepine", "reason": "Evening alprazolam held the night before."}]}
BAG_PROTOCOL = {"protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "weight_basis": "actual"},
                "measurements.weight": "66 kg"}


def _given() -> Screening:
    return run(parse_case(patched(example_case(), ACKNOWLEDGED)))


def _bag() -> Screening:
    return run(parse_case(patched(clean_case(), BAG_PROTOCOL)))


def _order(screening: Screening) -> SignedOrder:
    return signed_order(screening.record_id, screening.case, screening.result, screening.rules)


@pytest.fixture(scope="module")
def given() -> SignedOrder:
    """The example: a final concentration of 1 mg/mL ordered."""
    return _order(_given())


@pytest.fixture(scope="module")
def bag() -> SignedOrder:
    """0.66 mL of the 50 mg/mL vial into 100 mL over 40 min: 151 mL/h."""
    return _order(_bag())


BAG_FIELDS = {"vial_concentration": "50", "volume_drawn": "0.66", "diluent_volume": "100",
              "pump_rate": "151", "vtbi": "100.6"}
GIVEN_FIELDS = {"vial_concentration": "1", "volume_drawn": "42.41", "diluent_volume": "0",
                "pump_rate": "63.6", "vtbi": "42.4"}
IDS = [("name", "Alex Rivera"), ("birth-date", "1979-05-14")]


def _entries(fields: dict[str, str], changes: dict[str, str] | None = None,
             identifiers: list[tuple[str, str]] | None = None) -> BedsideEntries:
    return parse_entries(IDS if identifiers is None else identifiers,
                         {**fields, **(changes or {})})


def _mismatched(order: SignedOrder, entries: BedsideEntries) -> list[str]:
    return [item.item for item in compare(order, entries).mismatches]


# -- the order -------------------------------------------------------------------------------

def test_the_bag_order_is_re_derived_with_its_preparation(bag: SignedOrder) -> None:
    assert bag.rows() == (
        ("Patient name", "Alex Rivera"), ("Date of birth", "1979-05-14"),
        ("Patient ID", "MRN-0042"), ("Vial concentration", "50 mg/mL"),
        ("Volume drawn up", "0.66 mL"), ("Diluent volume", "100 mL"),
        ("Pump rate", "151 mL/h"), ("VTBI", "100.6 mL"), ("Dose", "33 mg"),
        ("Dose per kg", "0.5 mg/kg"))
    assert bag.birth_date == date(1979, 5, 14)
    assert magnitude_in(bag.dosing_weight, "kilogram") == pytest.approx(66)


def test_a_given_concentration_order_has_no_vial_and_no_diluent(given: SignedOrder) -> None:
    rows = dict(given.rows())
    assert given.vial_strength is None
    assert rows["Vial concentration"] == "1 mg/mL"
    assert rows["Volume drawn up"] == "42.41 mL"  # the prepared volume
    assert rows["Diluent volume"] == "0 mL"
    assert rows["Pump rate"] == "63.6 mL/h"
    assert rows["VTBI"] == "42.4 mL"
    assert rows["Dose"] == "42.4 mg"


def test_labels_of_the_rows_are_the_labels_of_the_items(bag: SignedOrder) -> None:
    outcome = compare(bag, _entries(BAG_FIELDS, identifiers=[
        ("name", "Alex Rivera"), ("patient-id", "MRN-0042")]))
    labels = [label for label, _ in bag.rows()]
    assert [item.item for item in outcome.items] == [
        label for label in labels if label != "Date of birth"]


def test_a_result_without_a_dose_is_not_re_derived() -> None:
    screening = _given()
    no_dose = screening.result.model_copy(update={"dose": None})
    with pytest.raises(OrderNotRederivableError, match="no dose") as caught:
        signed_order("KS-000000000001", screening.case, no_dose, screening.rules)
    assert caught.value.record_id == "KS-000000000001"


def test_an_order_the_formulary_now_computes_otherwise_is_refused() -> None:
    """The clinic's formulary now rounds the pump rate to 1 mL/h: 63.6 mL/h was signed, the
    rules in force would programme 64 mL/h: refused, naming the pump rate."""
    screening = _given()
    formulary = (REPO / "ketascreen" / "knowledge" / "data" / "formulary.toml").read_bytes(
    ).replace(
        b'rate_resolution = { value = "0.1 mL/h"', b'rate_resolution = { value = "1 mL/h"')
    rules = clinic_rule_set(ClinicFiles(formulary=formulary))
    with pytest.raises(OrderNotRederivableError, match=r"pump rate 63\.6 signed, 64\.0 now"):
        signed_order(screening.record_id, screening.case, screening.result, rules)


def test_an_infusion_of_a_course_is_re_derived_from_its_stored_case() -> None:
    """An infusion's stored case is its own (the weight and protocol in force), so the same
    calculation gives its signed dose."""
    screening = run_course(parse_course(example_course()))
    stored_case = parse_case(screening.case.model_dump(mode="json", exclude_none=True))
    order = signed_order(screening.record_id, stored_case, screening.result, screening.rules)
    assert screening.result.dose is not None
    assert dict(order.rows())["Pump rate"] == screening.result.dose.display.rate


# -- the entries -----------------------------------------------------------------------------

def test_plain_numbers_are_read_in_the_fields_unit() -> None:
    entries = _entries(BAG_FIELDS)
    assert magnitude_in(entries.pump_rate, "milliliter/hour") == pytest.approx(151)
    assert magnitude_in(entries.vial_concentration, "milligram/milliliter") == 50
    assert entries.identifiers == ((IdentifierKind.NAME, "Alex Rivera"),
                                   (IdentifierKind.BIRTH_DATE, "1979-05-14"))


@pytest.mark.parametrize(("field", "text", "unit", "value"), [
    ("pump_rate", "0.151 L/h", "milliliter/hour", 151),
    ("pump_rate", "151 mL/h", "milliliter/hour", 151),
    ("vtbi", "0.1006 L", "milliliter", 100.6),
    ("vial_concentration", "50000 mcg/mL", "milligram/milliliter", 50),
    ("diluent_volume", "0.1 L", "milliliter", 100),
])
def test_a_quantity_with_a_unit_of_the_fields_dimension_is_converted(
        field: str, text: str, unit: str, value: float) -> None:
    entries = _entries(BAG_FIELDS, {field: text})
    assert magnitude_in(getattr(entries, field), unit) == pytest.approx(value)


@pytest.mark.parametrize(("field", "text", "message"), [
    ("pump_rate", "151 mL", "is a volume, not a pump rate"),
    ("pump_rate", "151 mg/h", "is a dose rate"),
    ("vtbi", "100.6 mL/h", "is a pump rate"),
    ("vial_concentration", "50 mg", "is a mass"),
    ("volume_drawn", "0.66 lb", "is a mass"),
    ("volume_drawn", "", "is empty"),
    ("volume_drawn", "  ", "is empty"),
    ("pump_rate", "abc", "is not a quantity"),
    ("pump_rate", "-151", "must not be negative"),
    ("vtbi", "0", "must be greater than zero"),
    ("pump_rate", "1,51", "contains a comma"),
])
def test_a_bad_field_is_named(field: str, text: str, message: str) -> None:
    with pytest.raises(DoubleCheckEntryError) as caught:
        _entries(BAG_FIELDS, {field: text})
    (problem,) = caught.value.problems
    assert problem.field == field
    assert message in problem.message


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(DoubleCheckEntryError) as caught:
        parse_entries([("name", "Alex Rivera"), ("name", "Rivera")],
                      {"vial_concentration": "", "volume_drawn": "x", "diluent_volume": "0",
                       "pump_rate": "151", "vtbi": "100.6 mg"})
    assert [p.field for p in caught.value.problems] == [
        "identifiers[1]", "vial_concentration", "volume_drawn", "vtbi"]
    assert "given twice" in caught.value.problems[0].message


def test_no_diluent_is_zero_millilitres() -> None:
    entries = _entries(GIVEN_FIELDS)
    assert magnitude_in(entries.diluent_volume, "milliliter") == 0


@pytest.mark.parametrize("identifiers", [
    [("name", "Alex Rivera")],
    [("name", "Alex Rivera"), ("birth-date", "1979-05-14"), ("patient-id", "MRN-0042")],
    [("name", "Alex Rivera"), ("wristband", "1979-05-14")],
    [("name", "Alex Rivera"), ("birth-date", "")],
    [("name", "Alex Rivera"), ("birth-date", "05/06/1979")],
    [("name", "Alex Rivera"), ("birth-date", "1979-02-30")],
])
def test_identifiers_are_two_of_two_kinds(identifiers: list[tuple[str, str]]) -> None:
    with pytest.raises(DoubleCheckEntryError) as caught:
        _entries(BAG_FIELDS, identifiers=identifiers)
    assert caught.value.problems[0].field.startswith("identifiers")


@pytest.mark.parametrize(("typed", "expected"), [
    ("1979-05-14", date(1979, 5, 14)), ("14 May 1979", date(1979, 5, 14)),
    ("May 14, 1979", date(1979, 5, 14)), ("14 may 1979", date(1979, 5, 14)),
])
def test_a_birth_date_is_iso_or_has_its_month_in_words(typed: str, expected: date) -> None:
    assert parse_birth_date(typed) == expected


def test_an_all_digit_birth_date_is_ambiguous() -> None:
    with pytest.raises(ValueError, match="ambiguous"):
        parse_birth_date("05/14/1979")


@pytest.mark.parametrize(("typed", "same"), [
    ("Alex Rivera", True), ("  alex   RIVERA ", True), ("RIVERA, Alex", True),
    ("Alex Riveira", False), ("Alexa Rivera", False), ("Rivera", False),
])
def test_names_compare_without_case_spacing_or_order_of_a_comma(typed: str, same: bool) -> None:
    assert same_name(typed, "Alex Rivera") is same


def test_accents_do_not_make_a_name_differ() -> None:
    assert same_name("Jose Nunez", "José Núñez")


# -- the comparison --------------------------------------------------------------------------

def test_the_correct_bag_passes_and_recomputes_the_dose(bag: SignedOrder) -> None:
    outcome = compare(bag, _entries(BAG_FIELDS))
    assert outcome.passed and outcome.mismatches == ()
    assert magnitude_in(outcome.recomputed_dose, "milligram") == pytest.approx(
        100.6 * 33 / 100.66, rel=1e-9)
    assert magnitude_in(outcome.recomputed_dose_per_kg, "milligram/kilogram") == pytest.approx(
        100.6 * 33 / 100.66 / 66, rel=1e-9)


def test_the_correct_given_concentration_passes(given: SignedOrder) -> None:
    outcome = compare(given, _entries(GIVEN_FIELDS))
    assert outcome.passed, outcome.mismatches


def test_a_rate_of_15_1_for_151_names_the_pump_rate_only(bag: SignedOrder) -> None:
    outcome = compare(bag, _entries(BAG_FIELDS, {"pump_rate": "15.1"}))
    assert [item.item for item in outcome.mismatches] == ["Pump rate"]
    (rate,) = outcome.mismatches
    assert (rate.key, rate.entered, rate.ordered) == ("pump-rate", "15.1 mL/h", "151 mL/h")


@pytest.mark.parametrize(("typed", "matches"), [
    ("63.6", True), ("63.64", True), ("63.55", True),    # at the 0.1 mL/h resolution
    ("63.65", False), ("63.54", False), ("63.7", False), ("636", False),
    ("1.06 mL/min", True),                                # 63.6 mL/h
])
def test_the_pump_rate_matches_at_the_pumps_resolution(given: SignedOrder, typed: str,
                                                       matches: bool) -> None:
    outcome = compare(given, _entries(GIVEN_FIELDS, {"pump_rate": typed}))
    assert ("Pump rate" not in [i.item for i in outcome.mismatches]) is matches


@pytest.mark.parametrize(("typed", "matches"), [
    ("100.6", True), ("100.64", True), ("100.55", True),
    ("100.65", False), ("100.5", False), ("100.7", False), ("10.06", False),
    ("0.1006 L", True),
])
def test_the_vtbi_matches_at_the_pumps_vtbi_resolution(bag: SignedOrder, typed: str,
                                                       matches: bool) -> None:
    outcome = compare(bag, _entries(BAG_FIELDS, {"vtbi": typed}))
    assert ("VTBI" not in [i.item for i in outcome.mismatches]) is matches


@pytest.mark.parametrize(("typed", "matches"), [
    ("0.66", True), ("0.665", True), ("0.655", True),    # half the 0.01 mL syringe resolution
    ("0.666", False), ("0.654", False), ("0.67", False), ("6.6", False),
])
def test_the_volume_drawn_matches_within_half_the_syringe_resolution(
        bag: SignedOrder, typed: str, matches: bool) -> None:
    outcome = compare(bag, _entries(BAG_FIELDS, {"volume_drawn": typed}))
    assert ("Volume drawn up" not in [i.item for i in outcome.mismatches]) is matches


@pytest.mark.parametrize(("typed", "matches"), [
    ("50", True), ("50.0004", True), ("50.0005", False), ("10", False), ("100", False),
])
def test_the_vial_matches_at_display_precision(bag: SignedOrder, typed: str,
                                               matches: bool) -> None:
    outcome = compare(bag, _entries(BAG_FIELDS, {"vial_concentration": typed}))
    assert ("Vial concentration" not in [i.item for i in outcome.mismatches]) is matches


@pytest.mark.parametrize(("typed", "matches"), [
    ("100", True), ("100.004", True), ("100.005", False), ("250", False), ("0", False),
])
def test_the_diluent_matches_at_display_precision(bag: SignedOrder, typed: str,
                                                  matches: bool) -> None:
    outcome = compare(bag, _entries(BAG_FIELDS, {"diluent_volume": typed}))
    assert ("Diluent volume" not in [i.item for i in outcome.mismatches]) is matches


def test_a_tenfold_vial_names_the_vial_and_the_dose(bag: SignedOrder) -> None:
    outcome = compare(bag, _entries(BAG_FIELDS, {"vial_concentration": "10"}))
    assert [i.item for i in outcome.mismatches] == ["Vial concentration", "Dose",
                                                     "Dose per kg"]
    dose = next(i for i in outcome.items if i.key == "dose-mg")
    assert dose.entered == "6.6 mg" and dose.ordered == "33 mg"


def test_the_dose_tolerance_is_one_percent_beyond_rounding(bag: SignedOrder) -> None:
    """A bag made with 1 % more diluent than ordered but typed as ordered would not show; a
    wrong diluent typed changes the recomputed dose: 101.7 mL (1 % less drug per mL) stays
    within the dose tolerance (1 % + rounding), 103 mL does not."""
    outcome = compare(bag, _entries(BAG_FIELDS))
    assert 1 < outcome.tolerance_percent < 2
    near = compare(bag, _entries(BAG_FIELDS, {"diluent_volume": "101.7"}))
    assert [i.item for i in near.mismatches] == ["Diluent volume"]
    far = compare(bag, _entries(BAG_FIELDS, {"diluent_volume": "103"}))
    assert [i.item for i in far.mismatches] == ["Diluent volume", "Dose", "Dose per kg"]


@pytest.mark.parametrize(("identifiers", "mismatched"), [
    ([("name", "RIVERA, Alex"), ("birth-date", "14 May 1979")], []),
    ([("name", "Alex Rivera"), ("birth-date", "1979-05-15")], ["Date of birth"]),
    ([("patient-id", " MRN-0042 "), ("name", "alex rivera")], []),
    ([("patient-id", "MRN-0043"), ("name", "Alex Rivera")], ["Patient ID"]),
    ([("patient-id", "mrn-0042"), ("name", "Alex Rivera")], ["Patient ID"]),
    ([("name", "Alex Riviera"), ("patient-id", "MRN-0042")], ["Patient name"]),
])
def test_identifiers_compare_normalised(bag: SignedOrder, identifiers: list[tuple[str, str]],
                                        mismatched: list[str]) -> None:
    assert _mismatched(bag, _entries(BAG_FIELDS, identifiers=identifiers)) == mismatched


def test_the_audit_detail_holds_no_identifier_as_typed(bag: SignedOrder) -> None:
    outcome = compare(bag, _entries(BAG_FIELDS, {"pump_rate": "15.1"}))
    detail: dict[str, Any] = outcome.detail()
    assert detail["passed"] is False and detail["mismatches"] == ["pump-rate"]
    text = repr(detail)
    assert "Rivera" not in text and "1979" not in text
    rate = next(item for item in detail["items"] if item["key"] == "pump-rate")
    assert rate == {"key": "pump-rate", "matches": False, "entered": "15.1 mL/h"}


def test_pounds_and_kilograms_are_never_involved(bag: SignedOrder) -> None:
    """She types no weight: the dose per kg is over the signed dosing weight, so a lb/kg slip
    at the bedside cannot change it."""
    assert set(BAG_FIELDS) == {"vial_concentration", "volume_drawn", "diluent_volume",
                               "pump_rate", "vtbi"}
    with pytest.raises(DoubleCheckEntryError, match="weight"):
        _entries(BAG_FIELDS, {"weight": "145 lb"})
