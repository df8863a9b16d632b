"""The formulary's smart-pump settings: rate and volume resolutions, maximum rate, rounding."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal

from ketascreen.errors import UnitInputError
from ketascreen.knowledge.datafiles import Record
from ketascreen.knowledge.formulary.sourced import Reader, Sourced, quantity_parser
from ketascreen.models.doses import ML, ML_PER_H, PERCENT, as_decimal, decimals_of, in_unit, show
from ketascreen.units import Dimension, Quantity, quantity

_PUMP_RATE = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)\s*mL/h\s*$")


@dataclass(frozen=True, eq=False, repr=False)
class PumpSettings:
    """Smart-pump settings of the clinic (all local policy).

    What every dose derives from the resolutions (their decimal places, their display text,
    the step a JSON number is rounded to) is computed once per loaded formulary and kept.
    """

    rate_resolution: Sourced[Quantity]
    max_rate: Sourced[Quantity]
    volume_resolution: Sourced[Quantity]
    max_rounding_deviation: Sourced[Quantity]
    vtbi_resolution: Sourced[Quantity]

    @functools.cached_property
    def rate_decimals(self) -> int:
        """Decimal places a pump rate is shown with (0.1 mL/h -> 1)."""
        return decimals_of(self.rate_resolution.value)

    @functools.cached_property
    def volume_decimals(self) -> int:
        """Decimal places a rounded volume is shown with (0.01 mL -> 2)."""
        return decimals_of(self.volume_resolution.value)

    @functools.cached_property
    def vtbi_decimals(self) -> int:
        """Decimal places a volume to be infused (VTBI) is shown with (0.1 mL -> 1)."""
        return decimals_of(self.vtbi_resolution.value)

    @functools.cached_property
    def vtbi_resolution_shown(self) -> str:
        """The pump's VTBI resolution for display, e.g. ``0.1 mL``."""
        return show(self.vtbi_resolution.value, ML, "mL", self.vtbi_decimals)

    @functools.cached_property
    def rate_step(self) -> Decimal:
        """The rate resolution in mL/h, as the step a rate is rounded to in the dose JSON."""
        return as_decimal(float(self.rate_resolution.value.magnitude))

    @functools.cached_property
    def volume_step(self) -> Decimal:
        """The volume resolution in mL, as the step a volume is rounded to in the dose JSON."""
        return as_decimal(float(self.volume_resolution.value.magnitude))

    @functools.cached_property
    def rate_resolution_shown(self) -> str:
        """The rate resolution for display, e.g. ``0.1 mL/h``."""
        return show(self.rate_resolution.value, ML_PER_H, "mL/h", self.rate_decimals)

    @functools.cached_property
    def volume_resolution_shown(self) -> str:
        """The volume (syringe) resolution for display, e.g. ``0.01 mL``."""
        return show(self.volume_resolution.value, ML, "mL", self.volume_decimals)


def _pump_rate(text: str, entry: str) -> Quantity:
    match = _PUMP_RATE.match(text)
    if match is None or float(match.group("num")) <= 0:
        raise UnitInputError(field=entry, got=text, expected="pump rate",
                             reason="is not a pump rate greater than zero in mL/h "
                             "(e.g. \"0.1 mL/h\")")
    return quantity(float(match.group("num")), "milliliter/hour")


class _PumpTable(Record):
    """``[pump]`` as written: sourced settings."""

    rate_resolution: object
    max_rate: object
    volume_resolution: object
    max_rounding_deviation: object
    vtbi_resolution: object


def read_pump(reader: Reader, value: object) -> PumpSettings:
    """``[pump]``: every setting, each resolution below its maximum."""
    table = reader.record(value, "pump", _PumpTable)
    resolution = reader.sourced(table.rate_resolution, "pump.rate_resolution", _pump_rate)
    maximum = reader.sourced(table.max_rate, "pump.max_rate", _pump_rate)
    if in_unit(resolution.value, ML_PER_H) >= in_unit(maximum.value, ML_PER_H):
        raise reader.fail("pump.rate_resolution",
                          f"{resolution.text} must be below pump.max_rate {maximum.text}")
    volume = reader.sourced(table.volume_resolution, "pump.volume_resolution",
                            quantity_parser(Dimension.VOLUME))
    if in_unit(volume.value, ML) > 1:
        raise reader.fail("pump.volume_resolution",
                          f"{volume.text} is coarser than 1 mL (a dose cannot be drawn up so)")
    deviation = reader.sourced(table.max_rounding_deviation, "pump.max_rounding_deviation",
                               quantity_parser(Dimension.FRACTION))
    if in_unit(deviation.value, PERCENT) >= 100:
        raise reader.fail("pump.max_rounding_deviation", f"{deviation.text} must be below 100 %")
    vtbi = reader.sourced(table.vtbi_resolution, "pump.vtbi_resolution",
                          quantity_parser(Dimension.VOLUME))
    if in_unit(vtbi.value, ML) > 1:
        raise reader.fail("pump.vtbi_resolution",
                          f"{vtbi.text} is coarser than 1 mL (no pump takes a VTBI so)")
    return PumpSettings(resolution, maximum, volume, deviation, vtbi)
