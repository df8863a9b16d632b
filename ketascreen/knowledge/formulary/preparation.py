"""The formulary's preparation: the vials stocked, the default vial, the bag and diluent."""

from __future__ import annotations

from dataclasses import dataclass

from ketascreen.knowledge.datafiles import Record
from ketascreen.knowledge.formulary.sourced import Reader, Sourced, plain_text, quantity_parser
from ketascreen.models.doses import MG_PER_ML, in_unit
from ketascreen.units import Dimension, Quantity


@dataclass(frozen=True, eq=False, repr=False)
class Vial:
    """A vial strength the clinic stocks.

    Attributes:
        strength: the concentration in the vial (mg/mL of ketamine base).
        dilute_to_at_most: the highest final concentration allowed from this vial (the label's
            dilution requirement), or ``None`` when it may be given undiluted.
    """

    strength: Sourced[Quantity]
    dilute_to_at_most: Sourced[Quantity] | None


class _PreparationTable(Record):
    """``[preparation]`` as written."""

    default_vial: object
    default_diluent_volume: object
    diluent: object
    vials: object


class _VialTable(Record):
    """One ``[[preparation.vials]]`` as written."""

    strength: object
    dilute_to_at_most: object = None


def read_preparation(reader: Reader, value: object) -> tuple[
        tuple[Vial, ...], Vial, Sourced[Quantity], Sourced[str]]:
    """``[preparation]``: the vials, the default vial, the default bag volume, the diluent."""
    table = reader.record(value, "preparation", _PreparationTable)
    raw_vials = table.vials
    if not isinstance(raw_vials, list) or not raw_vials:
        raise reader.fail("preparation.vials", "must list at least one vial")
    vials: list[Vial] = []
    for index, raw in enumerate(raw_vials):
        entry = f"preparation.vials[{index}]"
        vial_table = reader.record(raw, entry, _VialTable)
        strength = reader.sourced(vial_table.strength, f"{entry}.strength",
                                  quantity_parser(Dimension.CONCENTRATION))
        dilute = None
        if vial_table.dilute_to_at_most is not None:
            dilute = reader.sourced(vial_table.dilute_to_at_most,
                                    f"{entry}.dilute_to_at_most",
                                    quantity_parser(Dimension.CONCENTRATION))
            if in_unit(dilute.value, MG_PER_ML) >= in_unit(strength.value, MG_PER_ML):
                raise reader.fail(f"{entry}.dilute_to_at_most",
                                  f"{dilute.text} must be below the vial strength "
                                  f"{strength.text}")
        vials.append(Vial(strength, dilute))
    strengths = [round(in_unit(v.strength.value, MG_PER_ML), 6) for v in vials]
    if len(set(strengths)) != len(strengths):
        raise reader.fail("preparation.vials", "lists the same strength twice")
    default = reader.sourced(table.default_vial, "preparation.default_vial",
                             quantity_parser(Dimension.CONCENTRATION))
    wanted = round(in_unit(default.value, MG_PER_ML), 6)
    matching = [v for v, s in zip(vials, strengths, strict=True) if s == wanted]
    if not matching:
        raise reader.fail("preparation.default_vial",
                          f"{default.text} is not one of the vials listed")
    diluent_volume = reader.sourced(table.default_diluent_volume,
                                    "preparation.default_diluent_volume",
                                    quantity_parser(Dimension.VOLUME))
    diluent = reader.sourced(table.diluent, "preparation.diluent", plain_text)
    return tuple(vials), matching[0], diluent_volume, diluent
