"""Step 5: the pump programme, and whether rounding to the device resolutions is acceptable.

The volume to be infused (VTBI) is the prepared volume rounded down to the pump's VTBI
resolution (never more than the bag holds); the pump rate is the prepared volume over the
duration, rounded half up to the pump's rate resolution. A rate above the pump maximum is a
hard-limit finding and a ``pump-maximum`` refusal. What the programmed rate really delivers is
compared with the intended dose; :func:`check_rounding` (run after the inverse check) refuses a
dose that rounding changes by more than the formulary allows.
"""

from __future__ import annotations

from ketascreen.display import format_number
from ketascreen.knowledge.formulary import Formulary
from ketascreen.models.doses import (
    HOUR,
    MG,
    MG_PER_H,
    MG_PER_KG,
    MG_PER_ML,
    MINUTE,
    ML,
    ML_PER_H,
    PERCENT,
    DosePerWeight,
    as_decimal,
    decimals_of,
    in_unit,
    quantity_of,
    show,
)
from ketascreen.units import Q_

from .magnitudes import shown
from .order import Order
from .outcome import DoseFinding, DoseRefusal, PumpProgramme, WorkingStep, describe_deviation
from .preparation import Prepared
from .rounding import magnitude_down, magnitude_half_up

_MINUTES_PER_HOUR = Q_(60.0, MINUTE / HOUR)
_MINUTES_IN_HOUR = float(_MINUTES_PER_HOUR.magnitude)


def _pump_rate(volume_ml: float, hours: float) -> float:
    """The pump rate in mL/h that gives ``volume_ml`` over ``hours``."""
    return volume_ml / hours


def _deviation(actual: float, intended: float) -> float:
    """The signed difference of ``actual`` from ``intended`` (both in mg), in percent."""
    return (actual / intended - 1.0) * 100.0


def pump_programme(order: Order, bag: Prepared, formulary: Formulary, *, dose_mg: float,
                   dose_rate: float, weight_kg: float, findings: list[DoseFinding],
                   working: list[WorkingStep]) -> PumpProgramme:
    """The pump programme that gives the prepared ``bag`` over the ordered duration.

    ``dose_mg`` and ``dose_rate`` are the intended dose (mg) and dose rate (mg/h), what the
    deviations are measured against, and ``weight_kg`` the dosing weight (kg): magnitudes
    (:mod:`~ketascreen.dosing.magnitudes`). The programme's quantities are built at the end.

    Raises:
        DoseRefusal: ``pump-resolution`` when the VTBI or the rate rounds to 0;
            ``pump-maximum`` when the rate is above the pump maximum (its hard-limit finding is
            added to ``findings`` first).
    """
    pump = formulary.pump
    fmt = formulary.formats
    total, concentration, prepared = bag.total, bag.concentration, bag.prepared
    vtbi = magnitude_down(total, in_unit(pump.vtbi_resolution.value, ML))

    def ml(value: float) -> str:
        return fmt.drawn_volume(quantity_of(value, ML))

    def mg(value: float) -> str:
        return fmt.dose(quantity_of(value, MG))

    def shown_vtbi() -> str:
        return fmt.vtbi(quantity_of(vtbi, ML))
    if vtbi <= 0:
        raise DoseRefusal("pump-resolution",
                          f"the prepared volume {shown(total, 'mL', 2)} rounds to 0 at the pump's "
                          f"VTBI resolution {pump.vtbi_resolution_shown}; choose a more dilute "
                          "preparation")
    working.append(lambda: f"VTBI: {ml(total)} prepared, rounded down to the "
                   f"pump's VTBI resolution {pump.vtbi_resolution_shown} (never more than the "
                   f"bag holds): {shown_vtbi()}")

    rate_step = pump.rate_resolution.value
    rate_decimals = pump.rate_decimals
    shown_step = pump.rate_resolution_shown
    hours = in_unit(order.duration, HOUR)
    exact_rate = _pump_rate(total, hours)
    programmed = magnitude_half_up(exact_rate, in_unit(rate_step, ML_PER_H))

    def shown_programmed() -> str:
        return fmt.rate(quantity_of(programmed, ML_PER_H))
    working.append(lambda: f"Pump rate: {ml(total)} prepared ÷ "
                   f"{order.duration_shown}, rounded half up to the pump resolution "
                   f"{shown_step}: {shown_programmed()}")
    if programmed <= 0:
        raise DoseRefusal("pump-resolution",
                          f"the pump rate {shown(exact_rate, 'mL/h', 3)} rounds to 0 "
                          f"at the pump resolution {shown_step}; choose a more dilute "
                          "preparation")
    maximum = pump.max_rate
    if programmed > in_unit(maximum.value, ML_PER_H):
        basis = (f"pump rate {shown_programmed()} ({shown(total, 'mL', 2)} over "
                 f"{order.duration_shown}) is above the pump maximum of "
                 f"{show(maximum.value, ML_PER_H, 'mL/h', rate_decimals)} (formulary pump)")
        findings.append(DoseFinding("dose-above-hard-limit", basis, maximum.sources, True))
        raise DoseRefusal("pump-maximum", f"{basis}; lengthen the infusion or use a smaller "
                          "volume")

    delivered = programmed * hours * concentration
    delivered_deviation = _deviation(delivered, dose_mg)
    prepared_deviation = _deviation(prepared, dose_mg)
    vtbi_deviation = _deviation(vtbi * concentration, dose_mg)
    delivered_q = quantity_of(delivered, MG)
    delivered_deviation_q = quantity_of(delivered_deviation, PERCENT)
    prepared_deviation_q = quantity_of(prepared_deviation, PERCENT)
    working.append(lambda: f"Delivered at {shown_programmed()} for {order.duration_shown}: "
                   f"{mg(delivered)}, {describe_deviation(delivered_deviation_q)} "
                   f"the intended {mg(dose_mg)}; drawn up {mg(prepared)}, "
                   f"{describe_deviation(prepared_deviation_q)} the intended dose")
    infusion_time = vtbi / programmed * _MINUTES_IN_HOUR
    working.append(lambda: f"The pump infuses the VTBI {shown_vtbi()} at "
                   f"{shown_programmed()} in {shown(infusion_time, 'min', 1)} "
                   f"(planned {order.duration_shown})")
    return PumpProgramme(
        intended_dose=quantity_of(dose_mg, MG), intended_dose_rate=quantity_of(dose_rate, MG_PER_H),
        vial_strength=bag.vial_strength,
        drug_volume=None if bag.drug_volume is None else quantity_of(bag.drug_volume, ML),
        diluent_volume=bag.diluent_volume, diluent=bag.diluent,
        prepared_dose=quantity_of(prepared, MG), total_volume=quantity_of(total, ML),
        final_concentration=quantity_of(concentration, MG_PER_ML),
        duration=order.duration_minutes, exact_rate=quantity_of(exact_rate, ML_PER_H),
        programmed_rate=quantity_of(programmed, ML_PER_H), rate_resolution=rate_step,
        volume_resolution=pump.volume_resolution.value, delivered_dose=delivered_q,
        delivered_dose_per_weight=DosePerWeight(quantity_of(delivered / weight_kg, MG_PER_KG)),
        delivered_deviation=delivered_deviation_q, prepared_deviation=prepared_deviation_q,
        infusion_time=quantity_of(infusion_time, MINUTE), vtbi=quantity_of(vtbi, ML),
        vtbi_deviation=quantity_of(vtbi_deviation, PERCENT), formats=fmt,
    )


def check_rounding(programme: PumpProgramme, formulary: Formulary) -> None:
    """Refuse a dose that rounding to the syringe and pump resolutions changes too much.

    Runs after the inverse check, so a gross error is reported as a calculation mismatch and
    only what rounding really explains is reported as too coarse a resolution.

    Raises:
        DoseRefusal: ``pump-resolution`` when the worst deviation is above the formulary's
            ``max_rounding_deviation``.
    """
    pump = formulary.pump
    allowed = pump.max_rounding_deviation.value
    worst = max(abs(in_unit(programme.delivered_deviation, PERCENT)),
                abs(in_unit(programme.prepared_deviation, PERCENT)),
                abs(in_unit(programme.vtbi_deviation, PERCENT)))
    if worst > in_unit(allowed, PERCENT):
        volume_step, rate_step = pump.volume_resolution.value, pump.rate_resolution.value
        raise DoseRefusal(
            "pump-resolution",
            f"rounding to the syringe ({show(volume_step, ML, 'mL', decimals_of(volume_step))}), "
            f"VTBI ({pump.vtbi_resolution_shown}) "
            f"and pump ({show(rate_step, ML_PER_H, 'mL/h', decimals_of(rate_step))}) "
            f"resolutions changes the dose by {format_number(as_decimal(worst), 2)} %, more than "
            f"the {show(allowed, PERCENT, '%', 2)} the formulary allows; choose a more dilute "
            "preparation")
