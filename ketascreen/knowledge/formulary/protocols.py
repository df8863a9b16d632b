"""The formulary's protocols (one per indication) and its dose limits."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_args

from ketascreen.errors import UnitInputError
from ketascreen.knowledge.datafiles import Record
from ketascreen.knowledge.formulary.sourced import Reader, Sourced, quantity_parser
from ketascreen.models.case import Indication, WeightBasis
from ketascreen.models.doses import HOUR, DosePerWeight, DoseRatePerWeight, in_unit, show_duration
from ketascreen.units import Dimension, Quantity, quantity

INDICATIONS: tuple[str, ...] = get_args(Indication)
WEIGHT_BASES: tuple[str, ...] = get_args(WeightBasis)

D = TypeVar("D", DosePerWeight, DoseRatePerWeight)

_BMI = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)\s*kg/m(?:²|2)\s*$")


@dataclass(frozen=True, eq=False, repr=False)
class DoseLimits(Generic[D]):
    """The dose limits of one protocol, all per session (mg/kg) or all per hour (mg/kg/h)."""

    soft_min: Sourced[D]
    soft_max: Sourced[D]
    hard_max: Sourced[D]


@dataclass(frozen=True, eq=False, repr=False)
class IndicationProtocol:
    """The formulary's protocol for one indication.

    Attributes:
        indication: the indication of case-format.md.
        default_dose: dose used when the case's protocol gives none (``None``: must be given).
        default_duration: duration used when the case gives none (``None``: must be given).
        weight_basis: the default dosing-weight basis.
        session_limits: limits in mg/kg per session, or ``None`` when the limits are per hour.
        hourly_limits: limits in mg/kg/h, or ``None`` when the limits are per session.
        duration_min, duration_max: the duration range (duration-outside-range outside it).
    """

    indication: str
    default_dose: Sourced[DosePerWeight] | Sourced[DoseRatePerWeight] | None
    default_duration: Sourced[Quantity] | None
    weight_basis: Sourced[WeightBasis]
    session_limits: DoseLimits[DosePerWeight] | None
    hourly_limits: DoseLimits[DoseRatePerWeight] | None
    duration_min: Sourced[Quantity]
    duration_max: Sourced[Quantity]

    @property
    def limits_per_hour(self) -> bool:
        """True when the limits are dose rates (mg/kg/h), e.g. chronic pain."""
        return self.hourly_limits is not None

    @functools.cached_property
    def duration_range_hours(self) -> tuple[Quantity, Quantity]:
        """The duration range converted to hours once (conversions are slow in pint)."""
        return (self.duration_min.value.to(HOUR), self.duration_max.value.to(HOUR))

    @functools.cached_property
    def duration_range_text(self) -> str:
        """The duration range for display, e.g. ``2 min to 100 min``."""
        return (f"{show_duration(self.duration_min.value)} to "
                f"{show_duration(self.duration_max.value)}")

    @functools.cached_property
    def limits_text(self) -> str:
        """The dose limits for display, e.g. ``range 0.1 mg/kg to 0.75 mg/kg, hard limit 1
        mg/kg``."""
        limits: DoseLimits[DosePerWeight] | DoseLimits[DoseRatePerWeight] | None = (
            self.session_limits if self.session_limits is not None else self.hourly_limits)
        assert limits is not None  # the loader sets exactly one of the two
        return (f"range {limits.soft_min.value.display()} to {limits.soft_max.value.display()}, "
                f"hard limit {limits.hard_max.value.display()}")


def dose_rate_per_weight(text: str, entry: str) -> DoseRatePerWeight:
    """A dose rate per body weight (mg/kg/h), e.g. the label's maximum administration rate."""
    return DoseRatePerWeight.parse(text, field=entry)


def _weight_based(text: str, entry: str) -> DosePerWeight | DoseRatePerWeight:
    try:
        return DosePerWeight.parse(text, field=entry)
    except UnitInputError as first:
        try:
            return DoseRatePerWeight.parse(text, field=entry)
        except UnitInputError:
            raise UnitInputError(field=entry, got=text,
                                 expected="a dose per body weight (mg/kg) or a dose rate per "
                                 "body weight (mg/kg/h)", reason=first.reason) from None


def bmi(text: str, entry: str) -> Quantity:
    """A body-mass index in kg/m² (the ideal-weight policy's threshold)."""
    match = _BMI.match(text)
    if match is None or float(match.group("num")) <= 0:
        raise UnitInputError(field=entry, got=text, expected="body-mass index",
                             reason="is not a BMI in kg/m² (e.g. \"30 kg/m²\")")
    return quantity(float(match.group("num")), "kilogram/meter**2")


def _basis(text: str, entry: str) -> str:
    if text not in WEIGHT_BASES:
        raise ValueError(f"is not a weight basis ({', '.join(WEIGHT_BASES)})")
    return text


class _ProtocolTable(Record):
    """One ``[protocols.<indication>]`` as written: sourced limits, durations and defaults."""

    weight_basis: object
    soft_min: object
    soft_max: object
    hard_max: object
    duration_min: object
    duration_max: object
    dose: object = None
    duration: object = None


def read_protocols(reader: Reader, value: object) -> dict[str, IndicationProtocol]:
    """Every indication's protocol from ``[protocols]``: all indications, none unknown."""
    if not isinstance(value, dict):
        raise reader.fail("protocols", "must be a table of indications")
    table: dict[str, Any] = value
    unknown = sorted(set(table) - set(INDICATIONS))
    if unknown:
        raise reader.fail(f"protocols.{unknown[0]}",
                          f"unknown indication (known: {', '.join(INDICATIONS)})")
    missing = [i for i in INDICATIONS if i not in table]
    if missing:
        raise reader.fail(f"protocols.{missing[0]}",
                          "missing: every indication needs a protocol entry (an entry without "
                          "dose and duration makes the case give them)")
    return {indication: _protocol(reader, indication, table[indication])
            for indication in INDICATIONS}


def _protocol(reader: Reader, indication: str, value: object) -> IndicationProtocol:
    entry = f"protocols.{indication}"
    table = reader.record(value, entry, _ProtocolTable)
    limits = {key: reader.sourced(getattr(table, key), f"{entry}.{key}", _weight_based)
              for key in ("soft_min", "soft_max", "hard_max")}
    per_hour = isinstance(limits["soft_min"].value, DoseRatePerWeight)
    for key, limit in limits.items():
        if isinstance(limit.value, DoseRatePerWeight) != per_hour:
            raise reader.fail(f"{entry}.{key}",
                              f"{limit.text} is a {_kind(limit.value)} but soft_min is a "
                              f"{_kind(limits['soft_min'].value)}: the limits of a protocol "
                              "are all mg/kg or all mg/kg/h")
    if not limits["soft_min"].value < limits["soft_max"].value:
        raise reader.fail(f"{entry}.soft_min", f"{limits['soft_min'].text} must be below "
                          f"soft_max {limits['soft_max'].text}")
    if limits["soft_max"].value > limits["hard_max"].value:
        raise reader.fail(f"{entry}.soft_max", f"{limits['soft_max'].text} is above "
                          f"hard_max {limits['hard_max'].text}")
    duration_min = reader.sourced(table.duration_min, f"{entry}.duration_min",
                                  quantity_parser(Dimension.TIME))
    duration_max = reader.sourced(table.duration_max, f"{entry}.duration_max",
                                  quantity_parser(Dimension.TIME))
    if in_unit(duration_min.value, HOUR) >= in_unit(duration_max.value, HOUR):
        raise reader.fail(f"{entry}.duration_min", f"{duration_min.text} must be below "
                          f"duration_max {duration_max.text}")
    dose = None
    if table.dose is not None:
        dose = reader.sourced(table.dose, f"{entry}.dose", _weight_based)
        if isinstance(dose.value, DoseRatePerWeight) != per_hour:
            raise reader.fail(f"{entry}.dose", f"{dose.text} is a {_kind(dose.value)} but the "
                              f"limits are {_kind(limits['soft_min'].value)}s")
        if dose.value < limits["soft_min"].value or dose.value > limits["soft_max"].value:
            raise reader.fail(f"{entry}.dose", f"{dose.text} is outside the protocol's own "
                              f"range {limits['soft_min'].text} to {limits['soft_max'].text}")
    duration = None
    if table.duration is not None:
        duration = reader.sourced(table.duration, f"{entry}.duration",
                                  quantity_parser(Dimension.TIME))
        hours = in_unit(duration.value, HOUR)
        if not in_unit(duration_min.value, HOUR) <= hours <= in_unit(duration_max.value, HOUR):
            raise reader.fail(f"{entry}.duration", f"{duration.text} is outside the protocol's "
                              f"own range {duration_min.text} to {duration_max.text}")
    basis = reader.sourced(table.weight_basis, f"{entry}.weight_basis", _basis)
    if per_hour:
        hourly = DoseLimits[DoseRatePerWeight](limits["soft_min"], limits["soft_max"],
                                               limits["hard_max"])
        session = None
    else:
        session = DoseLimits[DosePerWeight](limits["soft_min"], limits["soft_max"],
                                            limits["hard_max"])
        hourly = None
    return IndicationProtocol(
        indication=indication, default_dose=dose, default_duration=duration,
        weight_basis=basis, session_limits=session, hourly_limits=hourly,
        duration_min=duration_min, duration_max=duration_max,
    )


def _kind(value: DosePerWeight | DoseRatePerWeight) -> str:
    return ("dose rate per body weight (mg/kg/h)" if isinstance(value, DoseRatePerWeight)
            else "dose per body weight (mg/kg)")
