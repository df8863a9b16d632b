"""The forward dose calculation, with pint end to end.

Order of work: resolve the order (case protocol, else formulary default) -> dose limits (they
need no weight, so a hard limit is reported even when the weight is missing) -> dosing weight
(plausibility, basis) -> dose and dose rate -> preparation (vial into bag, or a final
concentration) -> pump rate, rounded half up to the pump resolution -> what that rate really
delivers -> the independent inverse check. Any step may refuse; a refusal means no dose and no
pump programme, never a valid-looking one.

The working lines are recorded as they are reached but written (formatted) only when
:attr:`DoseOutcome.working <ketascreen.dosing.outcome.DoseOutcome.working>` is first read: each
step appends a function of values that never change afterwards. Refusal messages, findings and
the dose's display strings are written at once; they are part of the outcome itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

import pint

from ketascreen.display import format_number
from ketascreen.errors import CalculationMismatchError
from ketascreen.knowledge.formulary import (
    LOCAL_POLICY,
    D,
    DoseLimits,
    Formulary,
    IndicationProtocol,
    Sourced,
    Vial,
)
from ketascreen.models.case import Case, Protocol
from ketascreen.models.doses import (
    HOUR,
    KG,
    MG,
    MG_PER_H,
    MG_PER_KG,
    MG_PER_KG_PER_MIN,
    MG_PER_ML,
    MINUTE,
    ML,
    ML_PER_H,
    PERCENT,
    DosePerWeight,
    DoseRatePerWeight,
    WeightBasedDose,
    as_decimal,
    decimals_of,
    divided_by,
    in_unit,
    parse_weight_based_dose,
    plus,
    quantity_of,
    show,
    show_duration,
    times,
)
from ketascreen.models.result import Dose, DoseDisplay
from ketascreen.units import Q_, Dimension, Quantity, parse_quantity

from .inverse import verify_dose
from .outcome import (
    DoseFinding,
    DoseOutcome,
    DoseRefusal,
    DosingWeight,
    InverseCheck,
    PumpProgramme,
    WorkingStep,
    describe_deviation,
)
from .weight import determine_dosing_weight

_MINUTES_PER_HOUR = Q_(60.0, MINUTE / HOUR)
# Decimal places of the numbers in the dose JSON (result-format.md: 84.82 kg, 42.41 mg).
_JSON_STEP = {"kg": Decimal("0.01"), "mg": Decimal("0.01"), "mg/kg": Decimal("0.0001"),
              "min": Decimal("0.01"), "mg/h": Decimal("0.01"), "mg/mL": Decimal("0.0001")}


@dataclass(frozen=True)
class _Duration:
    """A duration parsed once: in hours (for arithmetic), in minutes and as shown."""

    hours: Quantity
    minutes: Quantity
    shown: str


@dataclass(frozen=True)
class _Order:
    """The infusion as ordered, every field resolved against the formulary."""

    protocol: IndicationProtocol
    dose: WeightBasedDose
    dose_origin: str
    duration: Quantity          # in hours
    duration_shown: str
    duration_minutes: Quantity
    duration_origin: str
    session_dose: DosePerWeight
    hourly_rate: DoseRatePerWeight


@dataclass(frozen=True)
class _GivenConcentration:
    concentration: Quantity     # mg/mL


@dataclass(frozen=True)
class _VialIntoBag:
    vial: Vial
    strength: Quantity          # mg/mL
    diluent_volume: Quantity    # mL
    origin: str


@dataclass
class _Run:
    """What a calculation has produced so far (kept when it is refused)."""

    formulary: Formulary
    working: list[WorkingStep] = field(default_factory=list)
    findings: list[DoseFinding] = field(default_factory=list)
    dosing_weight: DosingWeight | None = None

    def refused(self, refusal: DoseRefusal) -> DoseOutcome:
        self.working.append(f"No dose: {refusal.message}")
        reason = (self.dosing_weight.reason if self.dosing_weight is not None
                  else f"no dosing weight: {refusal.message}")
        return DoseOutcome(
            dose=None, working_steps=tuple(self.working), findings=tuple(self.findings),
            refusal=refusal.message, refusal_code=refusal.code,
            dosing_weight_basis_reason=reason, dosing_weight=self.dosing_weight,
            programme=None, inverse_check=None, mismatch=refusal.mismatch,
            formulary_version=self.formulary.version, formulary_sha256=self.formulary.sha256,
        )


def calculate_dose(case: Case, formulary: Formulary, *,
                   plausible_weight: tuple[Quantity, Quantity],
                   plausible_bmi: tuple[float, float]) -> DoseOutcome:
    """Calculate the dose and pump programme of ``case`` from the clinic ``formulary``.

    Args:
        case: a validated case.
        formulary: the clinic formulary (protocols, preparations, pump settings).
        plausible_weight: lowest and highest plausible weight (policy ``plausible_weight_*``);
            a weight outside it gives no dose.
        plausible_bmi: lowest and highest plausible BMI in kg/m² (policy
            ``plausible_bmi_*_kg_m2``); a BMI outside it gives no dose.

    Returns:
        The outcome: the dose (or the refusal and why), the working, limit findings and the
        pump programme. Never raises for a problem of the case; every such problem is a
        refusal.
    """
    run = _Run(formulary)
    try:
        return _calculate(case, formulary, plausible_weight, plausible_bmi, run)
    except DoseRefusal as refusal:
        return run.refused(refusal)


def _calculate(case: Case, formulary: Formulary, plausible_weight: tuple[Quantity, Quantity],
               plausible_bmi: tuple[float, float], run: _Run) -> DoseOutcome:
    working = run.working
    fmt = formulary.formats
    indication = case.indication  # the case is a mutable model: keep what the working shows
    working.append(lambda: f"Formulary {formulary.version} (sha256 {formulary.sha256[:12]}), "
                   f"protocol for {indication}")
    order = _resolve_order(case, formulary, working)
    _check_limits(order, formulary, run.findings, working)
    blocking = [f for f in run.findings if f.blocks_dose]
    if blocking:
        raise DoseRefusal("dose-above-hard-limit", blocking[0].basis)

    measurements = case.measurements
    protocol = case.protocol
    dosing = determine_dosing_weight(
        weight=measurements.weight_quantity(), weight_text=measurements.weight,
        height=measurements.height_quantity(), height_text=measurements.height,
        sex=case.patient.sex, ordered_basis=protocol.weight_basis if protocol else None,
        protocol=order.protocol, formulary=formulary, plausible_weight=plausible_weight,
        plausible_bmi=plausible_bmi, working=working)
    run.dosing_weight = dosing
    weight = dosing.weight

    if isinstance(order.dose, DoseRatePerWeight):
        dose_rate = order.hourly_rate.for_body_mass(weight)
        dose_mg = times(dose_rate, order.duration)
        working.append(lambda: f"Dose rate {fmt.per_weight(order.hourly_rate)} x "
                       f"{fmt.weight(weight)} = {fmt.dose_rate(dose_rate)}")
        working.append(lambda: f"Intended dose {fmt.dose_rate(dose_rate)} x "
                       f"{order.duration_shown} = {fmt.dose(dose_mg)}")
    else:
        dose_mg = order.session_dose.for_body_mass(weight)
        dose_rate = divided_by(dose_mg, order.duration)
        working.append(lambda: f"Intended dose {fmt.per_weight(order.session_dose)} x "
                       f"{fmt.weight(weight)} = {fmt.dose(dose_mg)}")
        working.append(lambda: f"Dose rate {fmt.dose(dose_mg)} ÷ {order.duration_shown} = "
                       f"{fmt.dose_rate(dose_rate)}")

    preparation = _preparation(protocol, formulary)
    programme = _programme(order, dose_mg, dose_rate, weight, preparation=preparation,
                           formulary=formulary, run=run)
    try:
        check = verify_dose(case, formulary, dosing_weight=dosing, programme=programme)
    except CalculationMismatchError as mismatch:
        raise DoseRefusal("calculation-mismatch",
                          f"calculation mismatch: the independent check disagrees ({mismatch})",
                          mismatch) from None
    working.append(lambda: check.line)
    _check_rounding(programme, formulary)
    return _outcome(order, dosing, programme=programme, check=check, run=run)


def _mg(value: Quantity) -> str:
    """A dose in a refusal message (no dose is shown with it), to 0.01 mg."""
    return show(value, MG, "mg", 2)


# --- the order -----------------------------------------------------------------------------

@functools.lru_cache(maxsize=512)
def _parsed_dose(text: str) -> WeightBasedDose:
    return parse_weight_based_dose(text, field="protocol.dose")


@functools.lru_cache(maxsize=512)
def _parsed_duration(text: str) -> _Duration:
    duration = parse_quantity(text, Dimension.TIME, field="protocol.duration")
    return _Duration(duration.to(HOUR), duration.to(MINUTE), show_duration(duration))


@functools.lru_cache(maxsize=512)
def _parsed_quantity(text: str, dimension: Dimension, unit: pint.Unit) -> Quantity:
    return parse_quantity(text, dimension).to(unit)


def _sources(value: Sourced[Any]) -> str:
    return ", ".join("local policy" if s == LOCAL_POLICY else s for s in value.sources)


def _resolve_order(case: Case, formulary: Formulary, working: list[WorkingStep]) -> _Order:
    protocol = formulary.protocol(case.indication)
    ordered = case.protocol
    if ordered is not None and ordered.dose is not None:
        dose, dose_origin = _parsed_dose(ordered.dose), "protocol"
    elif protocol.default_dose is not None:
        dose = protocol.default_dose.value
        dose_origin = f"formulary default: {_sources(protocol.default_dose)}"
    else:
        raise DoseRefusal("no-protocol",
                          f"the formulary has no default dose for the indication "
                          f"{case.indication!r}; write the dose and duration in the case's "
                          "protocol")
    if ordered is not None and ordered.duration is not None:
        duration, duration_origin = _parsed_duration(ordered.duration), "protocol"
    elif protocol.default_duration is not None:
        duration = _parsed_duration(protocol.default_duration.text)
        duration_origin = f"formulary default: {_sources(protocol.default_duration)}"
    else:
        raise DoseRefusal("no-protocol",
                          f"the formulary has no default duration for the indication "
                          f"{case.indication!r}; write the duration in the case's protocol")
    working.append(lambda: f"Dose {dose.display()} ({dose_origin}); duration {duration.shown} "
                   f"({duration_origin})")
    if isinstance(dose, DoseRatePerWeight):
        hourly_rate, session_dose = dose, dose.over(duration.hours)
        working.append(lambda: f"Dose per session {dose.display()} x {duration.shown} = "
                       f"{session_dose.display()}")
    else:
        session_dose, hourly_rate = dose, dose.spread_over(duration.hours)
        if protocol.limits_per_hour:
            working.append(lambda: f"Dose rate {dose.display()} ÷ {duration.shown} = "
                           f"{hourly_rate.display()}")
    return _Order(protocol, dose, dose_origin, duration.hours, duration.shown, duration.minutes,
                  duration_origin, session_dose, hourly_rate)


# --- limits ----------------------------------------------------------------------------------

def _limit_findings(limits: DoseLimits[D], value: D, shown: Callable[[], str],
                    where: str) -> list[DoseFinding]:
    """The limit finding ``value`` fires, if any; ``shown`` writes the value for its basis."""
    hard, soft, low = limits.hard_max, limits.soft_max, limits.soft_min
    if value > hard.value:
        return [DoseFinding("dose-above-hard-limit",
                            f"{shown()} is above the hard limit of {hard.value.display()} "
                            f"{where}", hard.sources, True)]
    if value > soft.value:
        return [DoseFinding("dose-above-soft-limit",
                            f"{shown()} is above the soft limit of {soft.value.display()} "
                            f"{where}", soft.sources, False)]
    if value < low.value:
        return [DoseFinding("dose-below-range",
                            f"{shown()} is below the range {low.value.display()} to "
                            f"{soft.value.display()} {where}",
                            tuple(dict.fromkeys(low.sources + soft.sources)), False)]
    return []


def _check_limits(order: _Order, formulary: Formulary, findings: list[DoseFinding],
                  working: list[WorkingStep]) -> None:
    protocol = order.protocol
    where = f"(formulary {protocol.indication})"
    duration = order.duration_shown
    if protocol.session_limits is not None:
        def shown() -> str:
            return (order.session_dose.display() if isinstance(order.dose, DosePerWeight)
                    else f"{order.dose.display()} over {duration} = "
                    f"{order.session_dose.display()}")
        new = _limit_findings(protocol.session_limits, order.session_dose, shown, where)
    else:
        assert protocol.hourly_limits is not None  # the formulary sets exactly one of the two

        def shown() -> str:
            return (order.hourly_rate.display() if isinstance(order.dose, DoseRatePerWeight)
                    else f"{order.dose.display()} over {duration} = "
                    f"{order.hourly_rate.display()}")
        new = _limit_findings(protocol.hourly_limits, order.hourly_rate, shown, where)
    shortest, longest = protocol.duration_range_hours
    hours = in_unit(order.duration, HOUR)
    if not in_unit(shortest, HOUR) <= hours <= in_unit(longest, HOUR):
        new.append(DoseFinding(
            "duration-outside-range",
            f"duration {duration} is outside {protocol.duration_range_text} {where}",
            tuple(dict.fromkeys(protocol.duration_min.sources + protocol.duration_max.sources)),
            False))
    maximum = formulary.max_dose_rate
    if order.hourly_rate > maximum.value:
        per_minute = in_unit(order.hourly_rate.per_kg_per_h, MG_PER_KG_PER_MIN)
        new.append(DoseFinding(
            "dose-above-hard-limit",
            f"{order.dose.display()} over {duration} = {format_number(as_decimal(per_minute), 4)} "
            f"mg/kg/min is faster than the maximum administration rate of "
            f"{formulary.max_dose_rate_text} (formulary limits)",
            maximum.sources, True))
    working.append(lambda: f"Limits {where}: {protocol.limits_text}; duration "
                   f"{protocol.duration_range_text}; at most {formulary.max_dose_rate_text}")
    for finding in new:
        working.append(f"Finding {finding.concept}: {finding.basis}")
    if not new:
        working.append("Dose and duration are within the formulary's limits")
    findings.extend(new)


# --- preparation and pump --------------------------------------------------------------------

def _preparation(ordered: Protocol | None,
                 formulary: Formulary) -> _GivenConcentration | _VialIntoBag:
    if ordered is not None and ordered.concentration is not None:
        concentration = _parsed_quantity(ordered.concentration, Dimension.CONCENTRATION,
                                         MG_PER_ML)
        ceiling = formulary.max_final_concentration
        if in_unit(concentration, MG_PER_ML) > in_unit(ceiling, MG_PER_ML):
            rules = "; ".join(
                f"the {show(v.strength.value, MG_PER_ML, 'mg/mL', 3)} vial must be diluted "
                f"with at least an equal volume (1:1) to at most "
                f"{show(v.dilute_to_at_most.value, MG_PER_ML, 'mg/mL', 3)} "
                f"({_sources(v.dilute_to_at_most)})"
                for v in formulary.vials if v.dilute_to_at_most is not None)
            raise DoseRefusal(
                "invalid-preparation",
                f"final concentration {show(concentration, MG_PER_ML, 'mg/mL', 3)} is above "
                f"{show(ceiling, MG_PER_ML, 'mg/mL', 3)}, the most any stocked vial may be given "
                f"at ({rules or 'the strongest vial'})")
        return _GivenConcentration(concentration)
    if ordered is not None and ordered.vial is not None:
        strength = _parsed_quantity(ordered.vial, Dimension.CONCENTRATION, MG_PER_ML)
        vial = formulary.vial(strength)
        if vial is None:
            stocked = ", ".join(show(v.strength.value, MG_PER_ML, "mg/mL", 3)
                                for v in formulary.vials)
            raise DoseRefusal("invalid-preparation",
                              f"vial {show(strength, MG_PER_ML, 'mg/mL', 3)} is not a strength "
                              f"the formulary stocks ({stocked})")
        origin = "the vial ordered in the protocol"
    else:
        vial = formulary.default_vial
        strength = _parsed_quantity(vial.strength.text, Dimension.CONCENTRATION, MG_PER_ML)
        origin = "the formulary's default vial"
    if ordered is not None and ordered.diluent_volume is not None:
        diluent = _parsed_quantity(ordered.diluent_volume, Dimension.VOLUME, ML)
    else:
        diluent = _parsed_quantity(formulary.default_diluent_volume.text, Dimension.VOLUME, ML)
    return _VialIntoBag(vial, strength, diluent, origin)


def _round_half_up(value: Quantity, step: Quantity) -> Quantity:
    """``value`` rounded half up to a whole number of ``step`` (in ``step``'s unit)."""
    return _round_to_step(value, step, ROUND_HALF_UP)


def _round_down(value: Quantity, step: Quantity) -> Quantity:
    """``value`` rounded down to a whole number of ``step``: a VTBI never exceeds the bag."""
    return _round_to_step(value, step, ROUND_FLOOR)


def _round_to_step(value: Quantity, step: Quantity, rounding: str) -> Quantity:
    unit = step.units
    # as_decimal drops float noise first: an exact 6.75 that pint computed as
    # 6.749999999999999 must still round up to 6.8.
    magnitude = as_decimal(in_unit(value, unit))
    increment = as_decimal(float(step.magnitude))
    steps = (magnitude / increment).quantize(Decimal(1), rounding=rounding)
    return quantity_of(float(steps * increment), unit)


def _draw_up_volume(exact_volume: Quantity, resolution: Quantity) -> Quantity:
    return _round_half_up(exact_volume, resolution)


def _final_concentration(drug: Quantity, total_volume: Quantity) -> Quantity:
    return divided_by(drug, total_volume)


def _pump_rate(volume: Quantity, duration: Quantity) -> Quantity:
    return divided_by(volume, duration)


@dataclass(frozen=True)
class _Prepared:
    """The infusion as prepared: what is in the bag or syringe."""

    total: Quantity                 # VTBI, mL
    concentration: Quantity         # mg/mL
    prepared: Quantity              # mg in the VTBI
    vial_strength: Quantity | None = None
    drug_volume: Quantity | None = None
    diluent_volume: Quantity | None = None
    diluent: str | None = None


def _ml(value: Quantity) -> str:
    """A volume in a refusal message (no dose is shown with it), to 0.01 mL."""
    return show(value, ML, "mL", 2)


def _prepare(dose_mg: Quantity, preparation: _GivenConcentration | _VialIntoBag,
             formulary: Formulary, working: list[WorkingStep]) -> _Prepared:
    pump = formulary.pump
    fmt = formulary.formats
    volume_step = pump.volume_resolution.value
    syringe = pump.volume_resolution_shown
    if isinstance(preparation, _GivenConcentration):
        concentration = preparation.concentration
        exact_total = divided_by(dose_mg, concentration)
        total = _round_half_up(exact_total, volume_step)
        if total.magnitude <= 0:
            raise DoseRefusal("pump-resolution",
                              f"{_mg(dose_mg)} is {show(exact_total, ML, 'mL', 4)}, which rounds "
                              f"to 0 at the volume resolution {syringe}; choose a more dilute "
                              "preparation")
        prepared = times(total, concentration)

        def volume_line() -> str:
            shown_concentration = fmt.concentration(concentration)
            return (f"Volume at {shown_concentration}: {fmt.dose(dose_mg)} ÷ "
                    f"{shown_concentration}, rounded half up to the volume resolution "
                    f"{syringe}: prepared {fmt.drawn_volume(total)} = {fmt.dose(prepared)}")
        working.append(volume_line)
        return _Prepared(total, concentration, prepared)
    strength = preparation.strength
    exact_drawn = divided_by(dose_mg, strength)
    drawn = _draw_up_volume(exact_drawn, volume_step)
    if drawn.magnitude <= 0:
        raise DoseRefusal("pump-resolution",
                          f"{_mg(dose_mg)} is {show(exact_drawn, ML, 'mL', 4)} of the "
                          f"{show(strength, MG_PER_ML, 'mg/mL', 3)} vial, which rounds to 0 at "
                          f"the syringe resolution {syringe}; choose a weaker vial")
    prepared = times(drawn, strength)
    diluent = preparation.diluent_volume
    total = plus(diluent, drawn)
    concentration = _final_concentration(prepared, total)
    working.append(lambda: f"Drawn up: {fmt.dose(dose_mg)} ÷ {fmt.concentration(strength)}, "
                   f"rounded half up to the syringe resolution {syringe} "
                   f"({preparation.origin}): {fmt.drawn_volume(drawn)} = {fmt.dose(prepared)}")
    working.append(lambda: f"Add to the bag: {fmt.drawn_volume(diluent)} "
                   f"{formulary.diluent.value} + {fmt.drawn_volume(drawn)} = bag volume "
                   f"{fmt.drawn_volume(total)}")
    working.append(lambda: f"Final concentration {fmt.dose(prepared)} ÷ "
                   f"{fmt.drawn_volume(total)} = {fmt.concentration(concentration)}")
    ceiling = preparation.vial.dilute_to_at_most
    if ceiling is not None and in_unit(concentration, MG_PER_ML) > in_unit(ceiling.value,
                                                                           MG_PER_ML):
        raise DoseRefusal(
            "invalid-preparation",
            f"the {show(strength, MG_PER_ML, 'mg/mL', 3)} vial gives "
            f"{show(concentration, MG_PER_ML, 'mg/mL', 3)} in "
            f"{_ml(total)}; the label requires dilution with at least an "
            f"equal volume (1:1), so at most {show(ceiling.value, MG_PER_ML, 'mg/mL', 3)} "
            f"({_sources(ceiling)}): use more diluent or another vial")
    return _Prepared(total, concentration, prepared, strength, drawn, diluent,
                     formulary.diluent.value)


def _programme(order: _Order, dose_mg: Quantity, dose_rate: Quantity, weight: Quantity, *,
               preparation: _GivenConcentration | _VialIntoBag, formulary: Formulary,
               run: _Run) -> PumpProgramme:
    working = run.working
    pump = formulary.pump
    fmt = formulary.formats
    volume_step = pump.volume_resolution.value
    bag = _prepare(dose_mg, preparation, formulary, working)
    total, concentration, prepared = bag.total, bag.concentration, bag.prepared
    vtbi = _round_down(total, pump.vtbi_resolution.value)
    if vtbi.magnitude <= 0:
        raise DoseRefusal("pump-resolution",
                          f"the prepared volume {_ml(total)} rounds to 0 at the pump's VTBI "
                          f"resolution {pump.vtbi_resolution_shown}; choose a more dilute "
                          "preparation")
    working.append(lambda: f"VTBI: {fmt.drawn_volume(total)} prepared, rounded down to the "
                   f"pump's VTBI resolution {pump.vtbi_resolution_shown} (never more than the "
                   f"bag holds): {fmt.vtbi(vtbi)}")

    rate_step = pump.rate_resolution.value
    rate_decimals = pump.rate_decimals
    shown_step = pump.rate_resolution_shown
    exact_rate = _pump_rate(total, order.duration)
    programmed = _round_half_up(exact_rate, rate_step)

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
        basis = (f"pump rate {shown_programmed()} ({_ml(total)} over {order.duration_shown}) "
                 f"is above the pump maximum of "
                 f"{show(maximum.value, ML_PER_H, 'mL/h', rate_decimals)} (formulary pump)")
        run.findings.append(DoseFinding("dose-above-hard-limit", basis, maximum.sources, True))
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


def _check_rounding(programme: PumpProgramme, formulary: Formulary) -> None:
    """Refuse a dose that rounding to the syringe and pump resolutions changes too much.

    Runs after the inverse check, so a gross error is reported as a calculation mismatch and
    only what rounding really explains is reported as too coarse a resolution.
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


def _deviation(actual: Quantity, intended: Quantity) -> Quantity:
    ratio = in_unit(actual, MG) / in_unit(intended, MG)
    return quantity_of((ratio - 1.0) * 100.0, PERCENT)


# --- the result ------------------------------------------------------------------------------

def _json(value: Quantity, unit: pint.Unit, step: Decimal) -> float:
    magnitude = as_decimal(in_unit(value, unit))
    return float(magnitude.quantize(step, rounding=ROUND_HALF_UP))


def _outcome(order: _Order, dosing: DosingWeight, *, programme: PumpProgramme,
             check: InverseCheck, run: _Run) -> DoseOutcome:
    dose_mg, dose_rate = programme.intended_dose, programme.intended_dose_rate
    formulary = run.formulary
    pump = formulary.pump
    dose = Dose(
        dosing_weight_kg=_json(dosing.weight, KG, _JSON_STEP["kg"]),
        weight_basis=dosing.basis,
        dose_mg_per_kg=_json(order.session_dose.per_kg, MG_PER_KG, _JSON_STEP["mg/kg"]),
        dose_mg=_json(dose_mg, MG, _JSON_STEP["mg"]),
        duration_min=_json(order.duration_minutes, MINUTE, _JSON_STEP["min"]),
        rate_mg_per_h=_json(dose_rate, MG_PER_H, _JSON_STEP["mg/h"]),
        concentration_mg_per_ml=_json(programme.final_concentration, MG_PER_ML,
                                      _JSON_STEP["mg/mL"]),
        volume_ml=_json(programme.total_volume, ML, pump.volume_step),
        rate_ml_per_h=_json(programme.programmed_rate, ML_PER_H, pump.rate_step),
        display=DoseDisplay(dose=formulary.formats.dose(dose_mg),
                            rate=formulary.formats.rate(programme.programmed_rate)),
    )
    return DoseOutcome(
        dose=dose, working_steps=tuple(run.working), findings=tuple(run.findings), refusal=None,
        refusal_code=None, dosing_weight_basis_reason=dosing.reason, dosing_weight=dosing,
        programme=programme, inverse_check=check, mismatch=None,
        formulary_version=formulary.version, formulary_sha256=formulary.sha256,
    )
