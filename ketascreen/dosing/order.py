"""Step 1: resolve the order, then apply it to the dosing weight.

The dose and the duration come from the case's protocol, else from the formulary's default for
the indication (a missing default is a ``no-protocol`` refusal). A dose per session and a dose
rate are both resolved, whichever of the two was ordered, since the limits of a protocol are
one or the other. Once the dosing weight is known, :func:`intended_dose` turns the order into
the intended dose (mg) and dose rate (mg/h).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ketascreen.knowledge.formulary import (
    LOCAL_POLICY,
    Formulary,
    IndicationProtocol,
    QuantityFormats,
    Sourced,
)
from ketascreen.models.case import Case
from ketascreen.models.doses import (
    HOUR,
    KG,
    MG,
    MG_PER_H,
    MINUTE,
    DosePerWeight,
    DoseRatePerWeight,
    WeightBasedDose,
    in_unit,
    parse_weight_based_dose,
    quantity_of,
    show_duration,
)
from ketascreen.units import Dimension, Quantity, parse_quantity

from .outcome import DoseRefusal, WorkingStep


@dataclass(frozen=True, eq=False, repr=False)
class _Duration:
    """A duration parsed once: in hours (for arithmetic), in minutes and as shown."""

    hours: Quantity
    minutes: Quantity
    shown: str


@dataclass(frozen=True, eq=False, repr=False)
class Order:
    """The infusion as ordered, every field resolved against the formulary.

    Attributes:
        protocol: the formulary's protocol for the case's indication.
        dose: the dose as ordered (per session or per hour).
        dose_origin: where the dose came from, for the working (``protocol`` or the
            formulary default and its sources).
        duration: the duration, in hours.
        duration_shown: the duration as shown, e.g. ``40 min``.
        duration_minutes: the duration, in minutes.
        duration_origin: where the duration came from, for the working.
        session_dose: the dose per session (mg/kg), whichever was ordered.
        hourly_rate: the dose rate (mg/kg/h), whichever was ordered.
    """

    protocol: IndicationProtocol
    dose: WeightBasedDose
    dose_origin: str
    duration: Quantity          # in hours
    duration_shown: str
    duration_minutes: Quantity
    duration_origin: str
    session_dose: DosePerWeight
    hourly_rate: DoseRatePerWeight


@functools.lru_cache(maxsize=512)
def _parsed_dose(text: str) -> WeightBasedDose:
    return parse_weight_based_dose(text, field="protocol.dose")


@functools.lru_cache(maxsize=512)
def _parsed_duration(text: str) -> _Duration:
    duration = parse_quantity(text, Dimension.TIME, field="protocol.duration")
    return _Duration(duration.to(HOUR), duration.to(MINUTE), show_duration(duration))


_RATES: dict[tuple[int, int],
             tuple[WeightBasedDose, _Duration, DosePerWeight, DoseRatePerWeight]] = {}


def _session_and_rate(dose: WeightBasedDose,
                      duration: _Duration) -> tuple[DosePerWeight, DoseRatePerWeight]:
    """The dose per session and the dose rate of ``dose`` over ``duration``, whichever of the
    two was ordered; remembered per pair of parsed objects (the parsed texts and the
    formulary's defaults live on, so the same order is not divided again for every patient)."""
    key = (id(dose), id(duration))
    held = _RATES.get(key)
    if held is not None and held[0] is dose and held[1] is duration:
        return held[2], held[3]
    if isinstance(dose, DoseRatePerWeight):
        session_dose, hourly_rate = dose.over(duration.hours), dose
    else:
        session_dose, hourly_rate = dose, dose.spread_over(duration.hours)
    if len(_RATES) >= 1024:
        _RATES.clear()
    _RATES[key] = (dose, duration, session_dose, hourly_rate)  # held: the ids stay theirs
    return session_dose, hourly_rate


def sources_shown(value: Sourced[Any]) -> str:
    """The sources of a formulary value for a clinician: ``R18, local policy``."""
    return ", ".join("local policy" if s == LOCAL_POLICY else s for s in value.sources)


def resolve_order(case: Case, formulary: Formulary, working: list[WorkingStep]) -> Order:
    """The order of ``case``: its protocol's dose and duration, else the formulary's defaults.

    Raises:
        DoseRefusal: ``no-protocol`` when neither the case nor the formulary gives the dose or
            the duration.
    """
    protocol = formulary.protocol(case.indication)
    ordered = case.protocol
    if ordered is not None and ordered.dose is not None:
        dose, dose_origin = _parsed_dose(ordered.dose), "protocol"
    elif protocol.default_dose is not None:
        dose = protocol.default_dose.value
        dose_origin = f"formulary default: {sources_shown(protocol.default_dose)}"
    else:
        raise DoseRefusal("no-protocol",
                          f"the formulary has no default dose for the indication "
                          f"{case.indication!r}; write the dose and duration in the case's "
                          "protocol")
    if ordered is not None and ordered.duration is not None:
        duration, duration_origin = _parsed_duration(ordered.duration), "protocol"
    elif protocol.default_duration is not None:
        duration = _parsed_duration(protocol.default_duration.text)
        duration_origin = f"formulary default: {sources_shown(protocol.default_duration)}"
    else:
        raise DoseRefusal("no-protocol",
                          f"the formulary has no default duration for the indication "
                          f"{case.indication!r}; write the duration in the case's protocol")
    working.append(lambda: f"Dose {dose.display()} ({dose_origin}); duration {duration.shown} "
                   f"({duration_origin})")
    session_dose, hourly_rate = _session_and_rate(dose, duration)
    if isinstance(dose, DoseRatePerWeight):
        working.append(lambda: f"Dose per session {dose.display()} x {duration.shown} = "
                       f"{session_dose.display()}")
    elif protocol.limits_per_hour:
        working.append(lambda: f"Dose rate {dose.display()} ÷ {duration.shown} = "
                       f"{hourly_rate.display()}")
    return Order(protocol, dose, dose_origin, duration.hours, duration.shown, duration.minutes,
                 duration_origin, session_dose, hourly_rate)


def intended_dose(order: Order, weight_kg: float, fmt: QuantityFormats,
                  working: list[WorkingStep]) -> tuple[float, float]:
    """The intended dose (mg) and dose rate (mg/h) of ``order`` for a dosing weight of
    ``weight_kg`` kilograms, as magnitudes (:mod:`~ketascreen.dosing.magnitudes`): the ordered
    dose per body mass times the body mass, and over the duration in hours."""
    hours = in_unit(order.duration, HOUR)
    if isinstance(order.dose, DoseRatePerWeight):
        dose_rate = order.hourly_rate.mg_per_kg_per_h() * weight_kg
        dose_mg = dose_rate * hours
        working.append(lambda: f"Dose rate {fmt.per_weight(order.hourly_rate)} x "
                       f"{fmt.weight(quantity_of(weight_kg, KG))} = "
                       f"{fmt.dose_rate(quantity_of(dose_rate, MG_PER_H))}")
        working.append(lambda: f"Intended dose {fmt.dose_rate(quantity_of(dose_rate, MG_PER_H))}"
                       f" x {order.duration_shown} = {fmt.dose(quantity_of(dose_mg, MG))}")
    else:
        dose_mg = order.session_dose.mg_per_kg() * weight_kg
        dose_rate = dose_mg / hours
        working.append(lambda: f"Intended dose {fmt.per_weight(order.session_dose)} x "
                       f"{fmt.weight(quantity_of(weight_kg, KG))} = "
                       f"{fmt.dose(quantity_of(dose_mg, MG))}")
        working.append(lambda: f"Dose rate {fmt.dose(quantity_of(dose_mg, MG))} ÷ "
                       f"{order.duration_shown} = "
                       f"{fmt.dose_rate(quantity_of(dose_rate, MG_PER_H))}")
    return dose_mg, dose_rate
