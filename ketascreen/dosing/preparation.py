"""Step 4: the preparation: what goes into the bag or syringe.

Either the case orders a final concentration (the volume of the dose at that concentration),
or a vial is drawn up into a bag of diluent (the ordered vial, else the formulary's default;
the ordered diluent volume, else the default bag). The drawn-up volume is rounded half up to
the syringe resolution, and the final concentration follows from what was really drawn up. A
vial not stocked, a concentration above what any stocked vial may be given at, or a bag more
concentrated than the vial's label allows is an ``invalid-preparation`` refusal.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TypeAlias

import pint

from ketascreen.knowledge.formulary import Formulary, Vial
from ketascreen.models.case import Protocol
from ketascreen.models.doses import (
    MG,
    MG_PER_ML,
    ML,
    in_unit,
    quantity_of,
    show,
)
from ketascreen.units import Dimension, Quantity, parse_quantity

from .magnitudes import shown
from .order import sources_shown
from .outcome import DoseRefusal, WorkingStep
from .rounding import magnitude_half_up


@dataclass(frozen=True, eq=False, repr=False)
class GivenConcentration:
    """The case orders the final concentration itself (mg/mL)."""

    concentration: Quantity     # mg/mL


@dataclass(frozen=True, eq=False, repr=False)
class VialIntoBag:
    """A vial drawn up into a bag of diluent.

    Attributes:
        vial: the stocked vial.
        strength: its strength, in mg/mL.
        diluent_volume: the diluent in the bag, in mL.
        origin: where the vial came from, for the working.
    """

    vial: Vial
    strength: Quantity          # mg/mL
    diluent_volume: Quantity    # mL
    origin: str


Preparation: TypeAlias = GivenConcentration | VialIntoBag
"""How the dose is to be prepared, as ordered (or by the formulary's default)."""


@dataclass(frozen=True, eq=False, repr=False)
class Prepared:
    """The infusion as prepared: what is in the bag or syringe, as magnitudes
    (:mod:`~ketascreen.dosing.magnitudes`)."""

    total: float                    # VTBI, mL
    concentration: float            # mg/mL
    prepared: float                 # mg in the VTBI
    vial_strength: Quantity | None = None   # the ordered (or default) vial, as parsed
    drug_volume: float | None = None        # mL
    diluent_volume: Quantity | None = None  # the ordered (or default) bag, as parsed
    diluent: str | None = None


@functools.lru_cache(maxsize=512)
def _parsed_quantity(text: str, dimension: Dimension, unit: pint.Unit) -> Quantity:
    return parse_quantity(text, dimension).to(unit)


def resolve_preparation(ordered: Protocol | None, formulary: Formulary) -> Preparation:
    """The preparation the case's protocol orders, else the formulary's default vial and bag.

    Raises:
        DoseRefusal: ``invalid-preparation`` for a final concentration above what any stocked
            vial may be given at, or a vial strength the formulary does not stock.
    """
    if ordered is not None and ordered.concentration is not None:
        concentration = _parsed_quantity(ordered.concentration, Dimension.CONCENTRATION,
                                         MG_PER_ML)
        ceiling = formulary.max_final_concentration
        if in_unit(concentration, MG_PER_ML) > in_unit(ceiling, MG_PER_ML):
            rules = "; ".join(
                f"the {show(v.strength.value, MG_PER_ML, 'mg/mL', 3)} vial must be diluted "
                f"with at least an equal volume (1:1) to at most "
                f"{show(v.dilute_to_at_most.value, MG_PER_ML, 'mg/mL', 3)} "
                f"({sources_shown(v.dilute_to_at_most)})"
                for v in formulary.vials if v.dilute_to_at_most is not None)
            raise DoseRefusal(
                "invalid-preparation",
                f"final concentration {show(concentration, MG_PER_ML, 'mg/mL', 3)} is above "
                f"{show(ceiling, MG_PER_ML, 'mg/mL', 3)}, the most any stocked vial may be given "
                f"at ({rules or 'the strongest vial'})")
        return GivenConcentration(concentration)
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
    return VialIntoBag(vial, strength, diluent, origin)


def _draw_up_volume(exact_ml: float, resolution_ml: float) -> float:
    """The volume drawn up (mL): ``exact_ml`` rounded half up to the syringe resolution."""
    return magnitude_half_up(exact_ml, resolution_ml)


def _final_concentration(drug_mg: float, total_ml: float) -> float:
    """The bag's concentration in mg/mL."""
    return drug_mg / total_ml


def prepare(dose_mg: float, preparation: Preparation, formulary: Formulary,
            working: list[WorkingStep]) -> Prepared:
    """Prepare ``dose_mg`` milligrams as ``preparation`` orders, to the syringe resolution.

    Raises:
        DoseRefusal: ``pump-resolution`` when the volume rounds to 0 at the syringe resolution;
            ``invalid-preparation`` when the bag is more concentrated than the vial's label
            allows.
    """
    pump = formulary.pump
    fmt = formulary.formats
    volume_step = in_unit(pump.volume_resolution.value, ML)
    syringe = pump.volume_resolution_shown

    def mg(value: float) -> str:
        return fmt.dose(quantity_of(value, MG))

    def ml(value: float) -> str:
        return fmt.drawn_volume(quantity_of(value, ML))

    def mg_per_ml(value: float) -> str:
        return fmt.concentration(quantity_of(value, MG_PER_ML))
    if isinstance(preparation, GivenConcentration):
        concentration = in_unit(preparation.concentration, MG_PER_ML)
        exact_total = dose_mg / concentration
        total = magnitude_half_up(exact_total, volume_step)
        if total <= 0:
            raise DoseRefusal("pump-resolution",
                              f"{shown(dose_mg, 'mg', 2)} is {shown(exact_total, 'mL', 4)}, "
                              f"which rounds to 0 at the volume resolution {syringe}; choose a "
                              "more dilute preparation")
        prepared = total * concentration

        def volume_line() -> str:
            shown_concentration = mg_per_ml(concentration)
            return (f"Volume at {shown_concentration}: {mg(dose_mg)} ÷ "
                    f"{shown_concentration}, rounded half up to the volume resolution "
                    f"{syringe}: prepared {ml(total)} = {mg(prepared)}")
        working.append(volume_line)
        return Prepared(total, concentration, prepared)
    strength = in_unit(preparation.strength, MG_PER_ML)
    exact_drawn = dose_mg / strength
    drawn = _draw_up_volume(exact_drawn, volume_step)
    if drawn <= 0:
        raise DoseRefusal("pump-resolution",
                          f"{shown(dose_mg, 'mg', 2)} is {shown(exact_drawn, 'mL', 4)} of the "
                          f"{shown(strength, 'mg/mL', 3)} vial, which rounds to 0 at "
                          f"the syringe resolution {syringe}; choose a weaker vial")
    prepared = drawn * strength
    diluent = in_unit(preparation.diluent_volume, ML)
    total = diluent + drawn
    concentration = _final_concentration(prepared, total)
    working.append(lambda: f"Drawn up: {mg(dose_mg)} ÷ {mg_per_ml(strength)}, "
                   f"rounded half up to the syringe resolution {syringe} "
                   f"({preparation.origin}): {ml(drawn)} = {mg(prepared)}")
    working.append(lambda: f"Add to the bag: {ml(diluent)} "
                   f"{formulary.diluent.value} + {ml(drawn)} = bag volume "
                   f"{ml(total)}")
    working.append(lambda: f"Final concentration {mg(prepared)} ÷ "
                   f"{ml(total)} = {mg_per_ml(concentration)}")
    ceiling = preparation.vial.dilute_to_at_most
    if ceiling is not None and concentration > in_unit(ceiling.value, MG_PER_ML):
        raise DoseRefusal(
            "invalid-preparation",
            f"the {shown(strength, 'mg/mL', 3)} vial gives "
            f"{shown(concentration, 'mg/mL', 3)} in "
            f"{shown(total, 'mL', 2)}; the label requires dilution with at least an "
            f"equal volume (1:1), so at most {show(ceiling.value, MG_PER_ML, 'mg/mL', 3)} "
            f"({sources_shown(ceiling)}): use more diluent or another vial")
    return Prepared(total, concentration, prepared, preparation.strength, drawn,
                    preparation.diluent_volume, formulary.diluent.value)
