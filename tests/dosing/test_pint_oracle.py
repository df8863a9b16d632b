"""pint is the oracle of the dose arithmetic: the same quantities, bit for bit.

The forward path computes on plain magnitudes in fixed units (:mod:`ketascreen.dosing.magnitudes`)
and builds its quantities at the end. Here every quantity of the dosing weight and the pump
programme is computed again with pint's own operators, end to end (``mg/kg x kg``, ``mg /
(mg/mL)``, ``mL + mL`` ...), the way the calculation was written before, and the two must agree
exactly: the same units and the same float, for generated orders (hypothesis; weights in kg, lb
or g, heights in cm, in or m, every preparation and weight basis) and for every FHIR sample
patient.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketascreen.dosing import DoseOutcome, DosingWeight, calculate_dose
from ketascreen.dosing.rounding import round_down, round_half_up
from ketascreen.fhir import import_fhir
from ketascreen.knowledge.formulary import Formulary
from ketascreen.models.case import Case
from ketascreen.models.doses import (
    HOUR,
    INCH,
    KG,
    KG_PER_INCH,
    METER,
    MG,
    MG_PER_ML,
    MINUTE,
    ML,
    PERCENT,
    DoseRatePerWeight,
    parse_weight_based_dose,
)
from ketascreen.units import Q_, Dimension, Quantity, parse_quantity
from tests.dosing.support import (
    FORMULARY,
    PLAUSIBLE_BMI,
    PLAUSIBLE_WEIGHT,
    case_with,
    dose_of,
)
from tests.dosing.test_properties import valid_orders

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "fhir-samples"
POUND_KG = Decimal("0.45359237")


def _same(name: str, ours: Any, oracle: Any) -> None:
    """The same quantity: equal units, the identical float (not merely close)."""
    if oracle is None:
        assert ours is None, name
        return
    assert str(ours.units) == str(oracle.units) and ours.units == oracle.units, name
    assert type(ours.magnitude) is type(oracle.magnitude), name
    assert ours.magnitude == oracle.magnitude, (name, ours.magnitude, oracle.magnitude)


def _parsed(text: str, dimension: Dimension) -> Quantity:
    return parse_quantity(text, dimension)


def _percent(actual: Quantity, intended: Quantity) -> Quantity:
    return Q_((actual.m_as(MG) / intended.m_as(MG) - 1.0) * 100.0, PERCENT)


def _oracle_weight(case: Case, dosing: DosingWeight) -> dict[str, Any]:
    """The dosing weight's quantities, with pint end to end (Devine, R17)."""
    measured = case.measurements
    weight = measured.weight_quantity()
    assert weight is not None
    actual = weight if weight.units == KG else weight.to(KG)
    height = measured.height_quantity()
    bmi = ideal = None
    if height is not None:
        height_m = height if height.units == METER else height.to(METER)
        bmi = actual / (height_m * height_m)
        if dosing.ideal is not None:
            base = Q_(50.0, KG) if case.patient.sex == "male" else Q_(45.5, KG)
            ideal = base + Q_(2.3, KG_PER_INCH) * (height_m.to(INCH) - Q_(60.0, INCH))
    return {"actual": actual, "bmi": bmi, "ideal": ideal}


def _oracle_programme(case: Case, formulary: Formulary, weight: Quantity) -> dict[str, Any]:
    """The pump programme's quantities, with pint's operators on quantities throughout."""
    ordered = case.protocol
    entry = formulary.protocol(case.indication)
    dose_text = ordered.dose if ordered and ordered.dose else entry.default_dose.text  # type: ignore[union-attr]
    duration_text = (ordered.duration if ordered and ordered.duration
                     else entry.default_duration.text)  # type: ignore[union-attr]
    dose = parse_weight_based_dose(dose_text)
    duration = _parsed(duration_text, Dimension.TIME)
    hours = duration.to(HOUR)
    if isinstance(dose, DoseRatePerWeight):
        dose_rate = dose.per_kg_per_h * weight
        dose_mg = dose_rate * hours
    else:
        dose_mg = dose.per_kg * weight
        dose_rate = dose_mg / hours
    pump = formulary.pump
    step = pump.volume_resolution.value
    vial = drawn = diluent = None
    if ordered is not None and ordered.concentration is not None:
        concentration = _parsed(ordered.concentration, Dimension.CONCENTRATION).to(MG_PER_ML)
        total = round_half_up(dose_mg / concentration, step)
        prepared = total * concentration
    else:
        vial = _parsed(ordered.vial if ordered and ordered.vial
                       else formulary.default_vial.strength.text,
                       Dimension.CONCENTRATION).to(MG_PER_ML)
        diluent = _parsed(ordered.diluent_volume if ordered and ordered.diluent_volume
                          else formulary.default_diluent_volume.text, Dimension.VOLUME).to(ML)
        drawn = round_half_up(dose_mg / vial, step)
        prepared = drawn * vial
        total = diluent + drawn
        concentration = prepared / total
    vtbi = round_down(total, pump.vtbi_resolution.value)
    exact_rate = total / hours
    programmed = round_half_up(exact_rate, pump.rate_resolution.value)
    delivered = programmed * hours * concentration
    return {
        "intended_dose": dose_mg, "intended_dose_rate": dose_rate, "vial_strength": vial,
        "drug_volume": drawn, "diluent_volume": diluent, "prepared_dose": prepared,
        "total_volume": total, "final_concentration": concentration,
        "duration": duration.to(MINUTE), "exact_rate": exact_rate,
        "programmed_rate": programmed, "delivered_dose": delivered,
        "delivered_dose_per_weight": delivered / weight,
        "delivered_deviation": _percent(delivered, dose_mg),
        "prepared_deviation": _percent(prepared, dose_mg),
        "infusion_time": vtbi / programmed * Q_(60.0, MINUTE / HOUR),
        "vtbi": vtbi, "vtbi_deviation": _percent(vtbi * concentration, dose_mg),
    }


def assert_pint_agrees(case: Case, outcome: DoseOutcome,
                       formulary: Formulary = FORMULARY) -> None:
    """Every quantity of ``outcome`` is the one pint computes, bit for bit."""
    dosing = outcome.dosing_weight
    if dosing is None:
        return
    for name, value in _oracle_weight(case, dosing).items():
        _same(f"dosing_weight.{name}", getattr(dosing, name), value)
    programme = outcome.programme
    if programme is None:
        return
    for name, value in _oracle_programme(case, formulary, dosing.weight).items():
        ours = getattr(programme, name)
        if name == "delivered_dose_per_weight":
            ours, expected = ours.per_kg, value.to("milligram/kilogram")
        else:
            expected = value
        _same(name, ours, expected)


def _retyped(case: dict[str, Any], weight_unit: str, height_unit: str) -> dict[str, Any]:
    """The same patient with the weight typed in lb or g and the height in in or m."""
    measurements = case["measurements"]
    kg = Decimal(measurements["weight"].split()[0])
    if weight_unit == "lb":
        measurements["weight"] = f"{kg / POUND_KG:.2f} lb"
    elif weight_unit == "g":
        measurements["weight"] = f"{kg * 1000} g"
    cm = Decimal(measurements["height"].split()[0])
    if height_unit == "in":
        measurements["height"] = f"{cm / Decimal('2.54'):.1f} in"
    elif height_unit == "m":
        measurements["height"] = f"{cm / 100} m"
    return case


@settings(max_examples=400, deadline=None)
@given(valid_orders(), st.sampled_from(["kg", "lb", "g"]), st.sampled_from(["cm", "in", "m"]))
def test_generated_orders_agree_with_pint(case: dict[str, Any], weight_unit: str,
                                          height_unit: str) -> None:
    data = _retyped(case, weight_unit, height_unit)
    outcome = dose_of(data)
    assert_pint_agrees(Case.model_validate(data), outcome)


@pytest.mark.parametrize(("weight", "height"), [("187.4 lb", "5 ft 9 in"), ("84.82 kg", "1.8 m"),
                                                ("61500 g", None), ("95 kg", "150 cm")])
@pytest.mark.parametrize("basis", [None, "ideal", "adjusted"])
def test_named_orders_agree_with_pint(weight: str, height: str | None, basis: str | None) -> None:
    changes: dict[str, Any] = {"measurements.weight": weight, "measurements.height": height}
    if basis is not None:
        changes["protocol.weight_basis"] = basis
    data = case_with(changes)
    outcome = dose_of(data)
    assert basis is None or height is not None or outcome.dose is None
    assert_pint_agrees(Case.model_validate(data), outcome)


def _fhir_sources() -> list[Path]:
    sources = sorted((SAMPLES / "synthea-r4").glob("*.json"))
    sources += sorted(p for p in (SAMPLES / "ecqm-qicore-2024").glob("*/*") if p.is_dir())
    sources.append(SAMPLES / "us-core")
    return sources


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="the shared FHIR samples are not present")
def test_every_fhir_sample_agrees_with_pint() -> None:
    """Each imported patient, on every indication's default protocol and a vial order."""
    checked = 0
    for source in _fhir_sources():
        try:
            imported = import_fhir(source, as_of=datetime.date(2026, 12, 1))
        except Exception:  # noqa: BLE001 - a deceased or unusable record has no case to dose
            continue
        for indication, protocol in (("depression", None), ("chronic-pain", None),
                                     ("depression", {"dose": "0.5 mg/kg", "duration": "40 min",
                                                     "vial": "50 mg/mL"})):
            data = dict(imported.case)
            data["indication"] = indication
            if protocol is not None:
                data["protocol"] = protocol
            case = Case.model_validate(data)
            outcome = calculate_dose(case, FORMULARY, plausible_weight=PLAUSIBLE_WEIGHT,
                                     plausible_bmi=PLAUSIBLE_BMI)
            assert_pint_agrees(case, outcome)
            checked += outcome.programme is not None
    assert checked >= 20
