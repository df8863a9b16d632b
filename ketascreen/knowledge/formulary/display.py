"""The formulary's display resolutions and the one formatter of every dose quantity."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ketascreen.errors import UnitInputError
from ketascreen.knowledge.datafiles import Record
from ketascreen.knowledge.formulary.pump import PumpSettings
from ketascreen.knowledge.formulary.sourced import Reader, Sourced
from ketascreen.models.doses import (
    KG,
    MG,
    MG_PER_H,
    MG_PER_ML,
    ML,
    ML_PER_H,
    DosePerWeight,
    DoseRatePerWeight,
    show,
)
from ketascreen.units import Quantity


@dataclass(frozen=True, eq=False, repr=False)
class DisplayResolutions:
    """The ``[display]`` section: the one resolution each dose quantity is shown with.

    Attributes:
        dose: mg; the intended, drawn-up and delivered dose.
        dose_rate: mg/h; the dose rate (smart-pump dose mode).
        concentration: mg/mL; the final concentration.
        dose_per_weight: mg/kg (also used for mg/kg/h).
        dosing_weight: kg.
    """

    dose: Sourced[Decimal]
    dose_rate: Sourced[Decimal]
    concentration: Sourced[Decimal]
    dose_per_weight: Sourced[Decimal]
    dosing_weight: Sourced[Decimal]


def decimal_places(step: Decimal) -> int:
    """The decimal places of a resolution step (0.01 -> 2, 1 -> 0)."""
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@dataclass(frozen=True, eq=False, repr=False)
class QuantityFormats:
    """The one formatter of every dose quantity, at the formulary's one resolution for it.

    Every output (the app's dose panel, the text report, the checklist PDF, the result's
    ``display`` strings and the working) writes a dose quantity through these methods, so the
    same quantity reads the same everywhere: ``42.4 mg`` is never also ``42.41 mg``. Numbers are
    rounded half up and written per ISMP (:func:`ketascreen.display.format_number`).
    """

    display: DisplayResolutions
    pump: PumpSettings

    @functools.cached_property
    def _decimals(self) -> dict[str, int]:
        d = self.display
        return {"mg": decimal_places(d.dose.value),
                "mg/h": decimal_places(d.dose_rate.value),
                "mg/mL": decimal_places(d.concentration.value),
                "mg/kg": decimal_places(d.dose_per_weight.value),
                "kg": decimal_places(d.dosing_weight.value)}

    def dose(self, value: Quantity) -> str:
        """A dose in mg (intended, drawn up, delivered), e.g. ``42.4 mg``."""
        return show(value, MG, "mg", self._decimals["mg"])

    def dose_rate(self, value: Quantity) -> str:
        """A dose rate in mg/h, e.g. ``63.6 mg/h``."""
        return show(value, MG_PER_H, "mg/h", self._decimals["mg/h"])

    def concentration(self, value: Quantity) -> str:
        """A concentration in mg/mL (final concentration, vial strength), e.g. ``0.421 mg/mL``."""
        return show(value, MG_PER_ML, "mg/mL", self._decimals["mg/mL"])

    def per_weight(self, value: DosePerWeight | DoseRatePerWeight) -> str:
        """A dose per body weight (``0.5 mg/kg``) or a dose rate per body weight (``mg/kg/h``)."""
        return value.display(self._decimals["mg/kg"])

    def weight(self, value: Quantity) -> str:
        """The dosing weight in kg, e.g. ``84.82 kg``."""
        return show(value, KG, "kg", self._decimals["kg"])

    def drawn_volume(self, value: Quantity) -> str:
        """A drawn-up (or prepared) volume, to the syringe resolution, e.g. ``0.85 mL``."""
        return show(value, ML, "mL", self.pump.volume_decimals)

    def vtbi(self, value: Quantity) -> str:
        """The volume to be infused, to the pump's VTBI resolution, e.g. ``100.9 mL``."""
        return show(value, ML, "mL", self.pump.vtbi_decimals)

    def rate(self, value: Quantity) -> str:
        """The pump rate, to the pump's rate resolution, e.g. ``151.3 mL/h``."""
        return show(value, ML_PER_H, "mL/h", self.pump.rate_decimals)


_RESOLUTION = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>\S+)\s*$")
_DISPLAY_UNITS = {"dose": "mg", "dose_rate": "mg/h", "concentration": "mg/mL",
                  "dose_per_weight": "mg/kg", "dosing_weight": "kg"}


def _resolution(symbol: str) -> Any:
    def parse(text: str, entry: str) -> Decimal:
        match = _RESOLUTION.match(text)
        step = Decimal(match.group("num")) if match else Decimal(0)
        if match is None or match.group("unit") != symbol or step <= 0:
            raise UnitInputError(field=entry, got=text, expected=f"a resolution in {symbol}",
                                 reason=f"is not a resolution in {symbol} (e.g. \"0.1 {symbol}\")")
        if step > 1 or step != Decimal(1).scaleb(-decimal_places(step)):
            raise ValueError("must be a power of ten no coarser than 1 (1, 0.1, 0.01 ...): a "
                             "display resolution is a number of decimal places")
        return step
    return parse


class _DisplayTable(Record):
    """``[display]`` as written: one sourced resolution per dose quantity."""

    dose: object
    dose_rate: object
    concentration: object
    dose_per_weight: object
    dosing_weight: object


def read_display(reader: Reader, value: object) -> DisplayResolutions:
    """``[display]``: one resolution, a power of ten, per dose quantity."""
    table = reader.record(value, "display", _DisplayTable).model_dump()
    parsed = {key: reader.sourced(table[key], f"display.{key}", _resolution(symbol))
              for key, symbol in _DISPLAY_UNITS.items()}
    return DisplayResolutions(**parsed)
