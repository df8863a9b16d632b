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
    MINUTE,
    ML,
    ML_PER_H,
    PERCENT,
    DosePerWeight,
    as_decimal,
    decimals_of,
    divided_by,
    in_unit,
    quantity_of,
    show,
    times,
)
from ketascreen.units import Q_, Quantity

from .order import Order
from .outcome import DoseFinding, DoseRefusal, PumpProgramme, WorkingStep, describe_deviation
from .preparation import Prepared, refusal_ml
from .rounding import round_down, round_half_up

_MINUTES_PER_HOUR = Q_(60.0, MINUTE / HOUR)


def _pump_rate(volume: Quantity, duration: Quantity) -> Quantity:
    return divided_by(volume, duration)


def _deviation(actual: Quantity, intended: Quantity) -> Quantity:
    ratio = in_unit(actual, MG) / in_unit(intended, MG)
    return quantity_of((ratio - 1.0) * 100.0, PERCENT)


def pump_programme(order: Order, bag: Prepared, formulary: Formulary, *, dose_mg: Quantity,
                   dose_rate: Quantity, weight: Quantity, findings: list[DoseFinding],
                   working: list[WorkingStep]) -> PumpProgramme:
    """The pump programme that gives the prepared ``bag`` over the ordered duration.

    ``dose_mg`` and ``dose_rate`` are the intended dose and dose rate (what the deviations are
    measured against) and ``weight`` the dosing weight.

    Raises:
        DoseRefusal: ``pump-resolution`` when the VTBI or the rate rounds to 0;
            ``pump-maximum`` when the rate is above the pump maximum (its hard-limit finding is
            added to ``findings`` first).
    """
    pump = formulary.pump
    fmt = formulary.formats
    volume_step = pump.volume_resolution.value
    total, concentration, prepared = bag.total, bag.concentration, bag.prepared
    vtbi = round_down(total, pump.vtbi_resolution.value)
    if vtbi.magnitude <= 0:
        raise DoseRefusal("pump-resolution",
                          f"the prepared volume {refusal_ml(total)} rounds to 0 at the pump's "
                          f"VTBI resolution {pump.vtbi_resolution_shown}; choose a more dilute "
                          "preparation")
    working.append(lambda: f"VTBI: {fmt.drawn_volume(total)} prepared, rounded down to the "
                   f"pump's VTBI resolution {pump.vtbi_resolution_shown} (never more than the "
                   f"bag holds): {fmt.vtbi(vtbi)}")

    rate_step = pump.rate_resolution.value
    rate_decimals = pump.rate_decimals
    shown_step = pump.rate_resolution_shown
    exact_rate = _pump_rate(total, order.duration)
    programmed = round_half_up(exact_rate, rate_step)

    def shown_programmed() -> str:
        return fmt.rate(programmed)
    working.append(lambda: f"Pump rate: {fmt.drawn_volume(total)} prepared ÷ "
                   f"{order.duration_shown}, rounded half up to the pump resolution "
                   f"{shown_step}: {shown_programmed()}")
    if programmed.magnitude <= 0:
        raise DoseRefusal("pump-resolution",
                          f"the pump rate {show(exact_rate, ML_PER_H, 'mL/h', 3)} rounds to 0 "
                          f"at the pump resolution {shown_step}; choose a more dilute "
                          "preparation")
    maximum = pump.max_rate
    if in_unit(programmed, ML_PER_H) > in_unit(maximum.value, ML_PER_H):
        basis = (f"pump rate {shown_programmed()} ({refusal_ml(total)} over "
                 f"{order.duration_shown}) is above the pump maximum of "
                 f"{show(maximum.value, ML_PER_H, 'mL/h', rate_decimals)} (formulary pump)")
        findings.append(DoseFinding("dose-above-hard-limit", basis, maximum.sources, True))
        raise DoseRefusal("pump-maximum", f"{basis}; lengthen the infusion or use a smaller "
                          "volume")

    delivered = times(times(programmed, order.duration), concentration)
    delivered_deviation = _deviation(delivered, dose_mg)
    prepared_deviation = _deviation(prepared, dose_mg)
    vtbi_deviation = _deviation(times(vtbi, concentration), dose_mg)
    working.append(lambda: f"Delivered at {shown_programmed()} for {order.duration_shown}: "
                   f"{fmt.dose(delivered)}, {describe_deviation(delivered_deviation)} "
                   f"the intended {fmt.dose(dose_mg)}; drawn up {fmt.dose(prepared)}, "
                   f"{describe_deviation(prepared_deviation)} the intended dose")
    infusion_time = times(divided_by(vtbi, programmed), _MINUTES_PER_HOUR)
    working.append(lambda: f"The pump infuses the VTBI {fmt.vtbi(vtbi)} at "
                   f"{shown_programmed()} in {show(infusion_time, MINUTE, 'min', 1)} "
                   f"(planned {order.duration_shown})")
    return PumpProgramme(
        intended_dose=dose_mg, intended_dose_rate=dose_rate,
        vial_strength=bag.vial_strength, drug_volume=bag.drug_volume,
        diluent_volume=bag.diluent_volume, diluent=bag.diluent, prepared_dose=prepared,
        total_volume=total, final_concentration=concentration, duration=order.duration_minutes,
        exact_rate=exact_rate, programmed_rate=programmed, rate_resolution=rate_step,
        volume_resolution=volume_step, delivered_dose=delivered,
        delivered_dose_per_weight=DosePerWeight.from_quantity(divided_by(delivered, weight)),
        delivered_deviation=delivered_deviation, prepared_deviation=prepared_deviation,
        infusion_time=infusion_time, vtbi=vtbi, vtbi_deviation=vtbi_deviation, formats=fmt,
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
