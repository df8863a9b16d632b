"""The forward dose calculation: worked examples, limits, preparations and refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ketascreen.knowledge.formulary import load_formulary
from ketascreen.models.doses import MG, MG_PER_ML, MINUTE, ML, ML_PER_H, PERCENT, in_unit
from tests.dosing.support import assert_ismp_clean, case_with, dose_of

Edit = Callable[[str, str], Path]
BAG_80_KG = {"measurements.weight": "80 kg",
             "protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "vial": "50 mg/mL",
                          "diluent_volume": "100 mL"}}
PUBLISHED_TABLE = {"indication": "chronic-pain", "measurements.weight": "45 kg",
                   "measurements.height": None,
                   "protocol": {"dose": "0.3 mg/kg/h", "duration": "4 h",
                                "concentration": "2 mg/mL"}}


def test_example_case_reproduces_the_result_format_example() -> None:
    """187 lb, 0.5 mg/kg, 40 min, 1 mg/mL -> exactly the dose object of result-format.md."""
    outcome = dose_of(case_with({}))
    assert outcome.dose is not None and outcome.refusal is None
    assert outcome.dose.model_dump() == {
        "dosing_weight_kg": 84.82, "weight_basis": "actual",
        "dose_mg_per_kg": 0.5, "dose_mg": 42.41,
        "duration_min": 40.0,
        "rate_mg_per_h": 63.62,
        "concentration_mg_per_ml": 1.0,
        "volume_ml": 42.41,
        "rate_ml_per_h": 63.6,
        "display": {"dose": "42.4 mg", "rate": "63.6 mL/h"},
    }
    # Shown at the formulary's one resolution per quantity (0.1 mg, 0.1 mg/h); the JSON keeps
    # the computed precision.
    assert "Intended dose 0.5 mg/kg x 84.82 kg = 42.4 mg" in outcome.working
    assert "Dose rate 42.4 mg ÷ 40 min = 63.6 mg/h" in outcome.working
    assert outcome.findings == ()
    assert_ismp_clean(outcome)


def test_issue_worked_example_vial_into_bag() -> None:
    """0.5 mg/kg, 80 kg, 50 mg/mL into 100 mL, 40 min: 40 mg, 0.8 mL, 100.8 mL, 151.2 mL/h."""
    outcome = dose_of(case_with(BAG_80_KG))
    assert outcome.dose is not None and outcome.programme is not None
    programme = outcome.programme
    assert outcome.dose.dose_mg == 40
    assert programme.drug_volume is not None
    assert in_unit(programme.drug_volume, ML) == pytest.approx(0.8)
    assert in_unit(programme.total_volume, ML) == pytest.approx(100.8)
    assert in_unit(programme.programmed_rate, ML_PER_H) == pytest.approx(151.2)
    assert outcome.dose.rate_ml_per_h == 151.2 and outcome.dose.volume_ml == 100.8
    assert outcome.dose.display.rate == "151.2 mL/h"
    assert in_unit(programme.delivered_deviation, PERCENT) == pytest.approx(0, abs=1e-9)
    assert programme.lines()[:3] == ("Intended dose: 40 mg",
                                     "Drawn up: 0.8 mL of ketamine 50 mg/mL vial = 40 mg",
                                     "Diluent: add to 100 mL 0.9% sodium chloride")
    assert "VTBI: 100.8 mL" in programme.lines()
    assert_ismp_clean(outcome)


def test_published_table_error_regression() -> None:
    """45 kg, 0.3 mg/kg/h, 2 mg/mL: exactly 6.75 mL/h (programmed 6.8), never 11.8 mL/h."""
    outcome = dose_of(case_with(PUBLISHED_TABLE))
    assert outcome.dose is not None and outcome.programme is not None
    assert in_unit(outcome.programme.exact_rate, ML_PER_H) == pytest.approx(6.75, abs=1e-12)
    assert in_unit(outcome.programme.programmed_rate, ML_PER_H) == pytest.approx(6.8)
    assert outcome.dose.rate_ml_per_h == 6.8
    assert outcome.dose.rate_mg_per_h == 13.5
    assert "Pump rate: 27 mL prepared ÷ 4 h, rounded half up to the pump resolution "\
           "0.1 mL/h: 6.8 mL/h" in outcome.working
    everything = " ".join([*outcome.working, *outcome.programme_lines(),
                           outcome.dose.model_dump_json()])
    assert "11.8" not in everything
    assert [f.concept for f in outcome.findings] == ["dose-below-range"]


def test_chronic_pain_default_protocol_runs_for_hours() -> None:
    """The pain default (0.5 mg/kg/h over 4 h) proves the model is not tied to 40 minutes."""
    outcome = dose_of(case_with({"indication": "chronic-pain", "measurements.weight": "80 kg",
                                 "protocol": None}))
    assert outcome.dose is not None and outcome.programme is not None
    assert outcome.dose.duration_min == 240
    assert outcome.dose.dose_mg_per_kg == 2.0
    assert outcome.dose.dose_mg == 160
    assert outcome.programme.drug_volume is not None
    assert in_unit(outcome.programme.drug_volume, ML) == pytest.approx(3.2)
    assert outcome.dose.rate_ml_per_h == 25.8
    assert outcome.findings == ()
    assert_ismp_clean(outcome)


def test_psychiatric_default_protocol_when_the_case_has_none() -> None:
    """No protocol: the formulary's depression default, 50 mg/mL into 100 mL, is used."""
    outcome = dose_of(case_with({"protocol": None, "measurements.weight": "80 kg"}))
    assert outcome.dose is not None
    assert outcome.dose.model_dump(exclude={"display"}) == {
        "dosing_weight_kg": 80.0, "weight_basis": "actual", "dose_mg_per_kg": 0.5,
        "dose_mg": 40.0, "duration_min": 40.0, "rate_mg_per_h": 60.0,
        "concentration_mg_per_ml": 0.3968, "volume_ml": 100.8, "rate_ml_per_h": 151.2}
    assert any("formulary default: R4, R7, R2" in line for line in outcome.working)


def test_drawn_up_volume_is_rounded_to_the_syringe() -> None:
    """42.41 mg from 50 mg/mL is 0.8482 mL, drawn up as 0.85 mL; the bag then holds 42.5 mg."""
    outcome = dose_of(case_with({"protocol": {"vial": "50 mg/mL"}}))
    assert outcome.programme is not None and outcome.programme.drug_volume is not None
    assert in_unit(outcome.programme.drug_volume, ML) == pytest.approx(0.85)
    assert in_unit(outcome.programme.prepared_dose, MG) == pytest.approx(42.5)
    assert outcome.programme.lines()[1] == "Drawn up: 0.85 mL of ketamine 50 mg/mL vial = 42.5 mg"
    assert any("rounded half up to the syringe resolution 0.01 mL (the vial ordered in the "
               "protocol): 0.85 mL = 42.5 mg" in line for line in outcome.working)
    assert_ismp_clean(outcome)


def test_slow_protocol_over_100_minutes() -> None:
    """0.5 mg/kg over 100 min (R26) is inside the duration range: no finding, 60.5 mL/h."""
    outcome = dose_of(case_with({**BAG_80_KG, "protocol.duration": "100 min"}))
    assert outcome.dose is not None and outcome.findings == ()
    assert outcome.dose.rate_ml_per_h == 60.5


@pytest.mark.parametrize(("dose", "concept", "has_dose"), [
    ("1.2 mg/kg", "dose-above-hard-limit", False),
    ("1 mg/kg", "dose-above-soft-limit", True),
    ("0.8 mg/kg", "dose-above-soft-limit", True),
    ("0.75 mg/kg", None, True),
    ("0.1 mg/kg", None, True),
    ("0.05 mg/kg", "dose-below-range", True),
    ("100 mcg/kg", None, True),
])
def test_dose_limits(dose: str, concept: str | None, has_dose: bool) -> None:
    """Hard limit above 1 mg/kg (no dose), soft above 0.75, below-range under 0.1 mg/kg."""
    outcome = dose_of(case_with({"protocol.dose": dose}))
    assert [f.concept for f in outcome.findings] == ([concept] if concept else [])
    assert (outcome.dose is not None) is has_dose
    if concept == "dose-above-hard-limit":
        assert outcome.refusal_code == "dose-above-hard-limit"
        assert outcome.findings[0].blocks_dose
        assert outcome.findings[0].basis == (
            "1.2 mg/kg is above the hard limit of 1 mg/kg (formulary depression)")
        assert outcome.findings[0].source_keys == ("R7", "R2")
        assert outcome.programme is None
    assert_ismp_clean(outcome)


def test_hard_limit_is_reported_even_without_weight() -> None:
    """The limit needs no weight: an over-limit order is flagged although the weight is missing."""
    outcome = dose_of(case_with({"protocol.dose": "1.5 mg/kg", "measurements.weight": None}))
    assert [f.concept for f in outcome.findings] == ["dose-above-hard-limit"]
    assert outcome.refusal_code == "dose-above-hard-limit"


@pytest.mark.parametrize(("duration", "fires"), [
    ("1.5 min", True), ("2 min", False), ("100 min", False), ("101 min", True), ("2 h", True),
])
def test_duration_range(duration: str, fires: bool) -> None:
    """duration-outside-range outside 2-100 min, relative (the dose is still shown)."""
    outcome = dose_of(case_with({"protocol.duration": duration, "protocol.concentration": None,
                                 "protocol.vial": "10 mg/mL", "protocol.diluent_volume": "10 mL"}))
    concepts = [f.concept for f in outcome.findings]
    assert ("duration-outside-range" in concepts) is fires
    assert outcome.dose is not None, outcome.refusal
    if fires:
        finding = outcome.findings[0]
        assert not finding.blocks_dose and finding.source_keys == ("R2",)


def test_per_hour_order_against_session_limits() -> None:
    """1.8 mg/kg/h for 40 min is 1.2 mg/kg per session: above the hard limit."""
    outcome = dose_of(case_with({"protocol.dose": "1.8 mg/kg/h"}))
    assert outcome.refusal_code == "dose-above-hard-limit"
    assert outcome.findings[0].basis == ("1.8 mg/kg/h over 40 min = 1.2 mg/kg is above the hard "
                                         "limit of 1 mg/kg (formulary depression)")


def test_session_order_against_hourly_limits() -> None:
    """Chronic pain ordered as 12 mg/kg over 4 h is 3 mg/kg/h: above the 2 mg/kg/h hard limit."""
    outcome = dose_of(case_with({"indication": "chronic-pain", "protocol.dose": "12 mg/kg",
                                 "protocol.duration": "4 h"}))
    assert outcome.refusal_code == "dose-above-hard-limit"
    assert outcome.findings[0].basis == ("12 mg/kg over 4 h = 3 mg/kg/h is above the hard limit "
                                         "of 2 mg/kg/h (formulary chronic-pain)")
    assert outcome.findings[0].source_keys == ("R35", "R36")


def test_label_maximum_administration_rate_is_a_hard_limit() -> None:
    """1 mg/kg over 1.5 min is 0.6667 mg/kg/min, faster than the label's 0.5 (R22, R25)."""
    outcome = dose_of(case_with({"protocol.dose": "1 mg/kg", "protocol.duration": "1.5 min"}))
    concepts = [f.concept for f in outcome.findings]
    assert concepts == ["dose-above-soft-limit", "duration-outside-range",
                        "dose-above-hard-limit"]
    assert outcome.dose is None and outcome.refusal_code == "dose-above-hard-limit"
    assert "0.6667 mg/kg/min is faster than the maximum administration rate of 0.5 mg/kg/min" \
        in outcome.findings[2].basis


def test_pump_maximum_is_a_hard_limit() -> None:
    """100.85 mL over 5 min is 1,210.2 mL/h, above the 999 mL/h pump maximum: no dose."""
    outcome = dose_of(case_with({"protocol.duration": "5 min", "protocol.concentration": None}))
    assert outcome.dose is None and outcome.refusal_code == "pump-maximum"
    hard = [f for f in outcome.findings if f.concept == "dose-above-hard-limit"]
    assert len(hard) == 1 and hard[0].blocks_dose
    assert hard[0].basis == ("pump rate 1,210.2 mL/h (100.85 mL over 5 min) is above the pump "
                             "maximum of 999 mL/h (formulary pump)")
    assert hard[0].source_keys == ("local-policy", "R50", "R141")
    assert_ismp_clean(outcome)


def test_undiluted_100_mg_per_ml_is_refused() -> None:
    """A final concentration of 100 mg/mL is the undiluted vial: refused (dilute 1:1, R18/R19)."""
    outcome = dose_of(case_with({"protocol.concentration": "100 mg/mL"}))
    assert outcome.dose is None and outcome.refusal_code == "invalid-preparation"
    assert outcome.refusal == (
        "final concentration 100 mg/mL is above 50 mg/mL, the most any stocked vial may be given "
        "at (the 100 mg/mL vial must be diluted with at least an equal volume (1:1) to at most "
        "50 mg/mL (R18, R19))")


def test_100_mg_per_ml_vial_needs_an_equal_volume_of_diluent(edited_formulary: Edit) -> None:
    """0.42 mL of 100 mg/mL in 0.1 mL diluent is 80.8 mg/mL: refused; in 100 mL it is fine.

    An equal volume (0.84 mL in all) is a valid preparation, but a VTBI of 0.84 mL cannot be
    programmed on a pump that takes 0.1 mL steps (0.8 mL holds 5.7 % too little): refused as
    too coarse for the pump, and dosed where the pump takes 0.01 mL."""
    tight = dose_of(case_with({"protocol": {"vial": "100 mg/mL", "diluent_volume": "0.1 mL"}}))
    assert tight.dose is None and tight.refusal_code == "invalid-preparation"
    assert "at least an equal volume (1:1), so at most 50 mg/mL (R18, R19)" in (
        tight.refusal or "")
    bag = dose_of(case_with({"protocol": {"vial": "100 mg/mL", "diluent_volume": "100 mL"}}))
    assert bag.dose is not None
    order = {"protocol": {"vial": "100 mg/mL", "diluent_volume": "0.42 mL"}}
    coarse = dose_of(case_with(order))
    assert coarse.dose is None and coarse.refusal_code == "pump-resolution"
    assert "VTBI (0.1 mL)" in (coarse.refusal or "")
    fine = load_formulary(edited_formulary('vtbi_resolution = { value = "0.1 mL"',
                                           'vtbi_resolution = { value = "0.01 mL"'))
    equal = dose_of(case_with(order), fine)
    assert equal.dose is not None and equal.programme is not None
    assert in_unit(equal.programme.final_concentration, MG_PER_ML) == pytest.approx(50)


def test_unstocked_vial_is_refused() -> None:
    """A 25 mg/mL vial is not in the formulary: refused, naming the stocked strengths."""
    outcome = dose_of(case_with({"protocol": {"vial": "25 mg/mL"}}))
    assert outcome.refusal_code == "invalid-preparation"
    assert "(10 mg/mL, 50 mg/mL, 100 mg/mL)" in (outcome.refusal or "")


def test_too_coarse_pump_resolution_is_refused() -> None:
    """3 mg at 10 mg/mL over 40 min: 0.45 rounds to 0.5 mL/h, 11 % too much, so it is refused."""
    outcome = dose_of(case_with({"measurements.weight": "30 kg", "measurements.height": None,
                                 "protocol.dose": "0.1 mg/kg",
                                 "protocol.concentration": "10 mg/mL"}))
    assert outcome.dose is None and outcome.refusal_code == "pump-resolution"
    assert "changes the dose by 11.11 %" in (outcome.refusal or "")


def test_other_indication_needs_an_explicit_protocol() -> None:
    """"other" has no default: without dose and duration there is no dose, with them there is."""
    missing = dose_of(case_with({"indication": "other", "protocol": None}))
    assert missing.dose is None and missing.refusal_code == "no-protocol"
    assert "write the dose and duration" in (missing.refusal or "")
    no_duration = dose_of(case_with({"indication": "other", "protocol.duration": None}))
    assert no_duration.refusal_code == "no-protocol"
    given = dose_of(case_with({"indication": "other"}))
    assert given.dose is not None and given.dose.dose_mg == 42.41


def test_refusal_keeps_findings_and_working() -> None:
    """A refused dose still reports its limit findings and the working up to the refusal."""
    outcome = dose_of(case_with({"protocol.duration": "5 min", "protocol.concentration": None,
                                 "protocol.dose": "0.9 mg/kg"}))
    assert outcome.dose is None and outcome.programme is None and outcome.inverse_check is None
    assert [f.concept for f in outcome.findings] == ["dose-above-soft-limit",
                                                     "dose-above-hard-limit"]
    assert outcome.working[-1] == f"No dose: {outcome.refusal}"
    assert outcome.programme_lines() == (f"No dose: {outcome.refusal}",)


def test_programme_block_for_the_bedside() -> None:
    """The bedside block: prepare, concentration, VTBI, rate, what it delivers."""
    outcome = dose_of(case_with({}))
    assert outcome.programme is not None
    assert outcome.programme_lines() == (
        "Intended dose: 42.4 mg",
        "Prepare: 42.41 mL at 1 mg/mL = 42.4 mg",
        "Final concentration: 1 mg/mL",
        "VTBI: 42.4 mL",
        "Dose rate: 63.6 mg/h at 1 mg/mL (smart-pump dose mode)",
        "Delivered: 42.4 mg (0.4999 mg/kg), 0.02 % below the intended dose",
        "PUMP RATE: 63.6 mL/h",
    )
    assert in_unit(outcome.programme.final_concentration, MG_PER_ML) == 1
    # The pump infuses the VTBI (42.4 mL, the prepared 42.41 mL to the pump's 0.1 mL) at 63.6 mL/h.
    assert in_unit(outcome.programme.infusion_time, MINUTE) == pytest.approx(40.0, abs=1e-3)


def test_outcome_names_the_formulary(edited_formulary: Edit) -> None:
    """The outcome carries the version and sha256 of the formulary it was calculated from."""
    formulary = load_formulary(edited_formulary('version = "2026.11.0-default"',
                                                'version = "2026.12.0-clinic"'))
    outcome = dose_of(case_with({}), formulary)
    assert outcome.formulary_version == "2026.12.0-clinic"
    assert outcome.formulary_sha256 == formulary.sha256
    assert outcome.working[0].startswith("Formulary 2026.12.0-clinic (sha256 ")


def test_dose_display_never_uses_trailing_or_naked_zeros() -> None:
    """40 mg (not 40.0 mg), 0.85 mL (not .85 mL), 151.2 mL/h."""
    outcome = dose_of(case_with(BAG_80_KG))
    assert outcome.dose is not None
    assert outcome.dose.display.dose == "40 mg"
    drawn = dose_of(case_with({"protocol": {"vial": "50 mg/mL"}}))
    assert drawn.programme is not None
    assert drawn.programme.lines()[1].startswith("Drawn up: 0.85 mL")


def test_typed_input_is_echoed_ismp_safe() -> None:
    """"187.0 lb" and "170.0 cm" are shown back as 187 lb and 170 cm (no trailing zero)."""
    outcome = dose_of(case_with({"measurements.weight": "187.0 lb",
                                 "measurements.height": "170.0 cm",
                                 "protocol.dose": ".5 mg/kg"}))
    assert "Actual body weight 187 lb = 84.82 kg" in outcome.working
    assert any("(height 170 cm;" in line for line in outcome.working)
    assert_ismp_clean(outcome)
    refused = dose_of(case_with({"measurements.weight": "350.0 kg"}))
    assert "weight 350 kg = 350 kg is outside" in (refused.refusal or "")
    assert_ismp_clean(refused)


def test_vtbi_is_rounded_down_so_the_pump_never_asks_for_more_than_the_bag_holds() -> None:
    """42.41 mg from 50 mg/mL: 0.85 mL drawn up into 100 mL is 100.85 mL prepared.

    Half up would programme a VTBI of 100.9 mL, 0.05 mL more than the bag holds (the pump runs
    dry before it reaches the VTBI); the VTBI is 100.8 mL instead, and the pump rate is still
    the prepared volume over the duration."""
    outcome = dose_of(case_with({"protocol": {"vial": "50 mg/mL", "diluent_volume": "100 mL"}}))
    assert outcome.programme is not None
    programme = outcome.programme
    assert in_unit(programme.total_volume, ML) == pytest.approx(100.85)
    assert in_unit(programme.vtbi, ML) == pytest.approx(100.8)
    assert in_unit(programme.vtbi, ML) <= in_unit(programme.total_volume, ML)
    assert any("rounded down to the pump's VTBI resolution 0.1 mL (never more than the bag "
               "holds): 100.8 mL" in line for line in outcome.working)
