"""The clinic formulary (``formulary.toml``, ``ketascreen-formulary/1``): protocols, preparations,
pump settings; validated, versioned and hashed when loaded.

One module per part of the file: :mod:`.protocols` (protocols and dose limits),
:mod:`.preparation` (vials, bag, diluent), :mod:`.pump` (smart-pump settings), :mod:`.display`
(display resolutions and the one formatter), :mod:`.course` (the optional course plan,
escalation step and ceiling per indication); :mod:`.sourced` reads a value with its sources.

Like the rule set, a formulary that could not be used correctly never loads: an unknown key, a
value of the wrong dimension, a lower limit above an upper one, an unknown indication or source
key all raise :class:`~ketascreen.errors.KnowledgeBaseError` naming the entry.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import Field

from ketascreen.display import format_number
from ketascreen.errors import KnowledgeBaseError
from ketascreen.knowledge.datafiles import DataSource, Record, read_data_file
from ketascreen.knowledge.formulary.course import CourseDefaults, read_course
from ketascreen.knowledge.formulary.display import (
    DisplayResolutions,
    QuantityFormats,
    read_display,
)
from ketascreen.knowledge.formulary.preparation import Vial, read_preparation
from ketascreen.knowledge.formulary.protocols import (
    INDICATIONS,
    WEIGHT_BASES,
    D,
    DoseLimits,
    IndicationProtocol,
    bmi,
    dose_rate_per_weight,
    read_protocols,
)
from ketascreen.knowledge.formulary.pump import PumpSettings, read_pump
from ketascreen.knowledge.formulary.sourced import LOCAL_POLICY, Reader, Sourced
from ketascreen.knowledge.sources import load_sources
from ketascreen.models.doses import (
    MG_PER_KG_PER_MIN,
    MG_PER_ML,
    DoseRatePerWeight,
    as_decimal,
    in_unit,
)
from ketascreen.units import Quantity

FORMULARY_SCHEMA = "ketascreen-formulary/1"
FORMULARY_FILE = "formulary.toml"

__all__ = [
    "FORMULARY_FILE",
    "FORMULARY_SCHEMA",
    "INDICATIONS",
    "LOCAL_POLICY",
    "WEIGHT_BASES",
    "CourseDefaults",
    "D",
    "DisplayResolutions",
    "DoseLimits",
    "Formulary",
    "IndicationProtocol",
    "PumpSettings",
    "QuantityFormats",
    "Sourced",
    "Vial",
    "load_formulary",
]


class _FormularyFile(Record):
    """``formulary.toml``'s top level (each part read by its own module)."""

    schema_name: str = Field(alias="schema")
    version: object
    name: object
    preparation: object
    pump: object
    display: object
    limits: object
    weight: object
    protocols: object
    course: object = None


class _LimitsTable(Record):
    """``[limits]``: the label's maximum administration rate."""

    max_dose_rate: object


class _WeightTable(Record):
    """``[weight]``: the optional ideal-body-weight policy."""

    ideal_weight_when_bmi_at_least: object = None


@dataclass(frozen=True, eq=False, repr=False)
class Formulary:
    """A loaded, validated clinic formulary.

    Attributes:
        version: the file's ``version``; printed with the dose.
        name: the file's ``name``.
        sha256: sha256 of the file's bytes.
        file: where it was read from.
        protocols: one protocol per indication of case-format.md.
        vials: the vial strengths stocked.
        default_vial: the vial used when a protocol names no preparation.
        default_diluent_volume: the bag the drug is added to by default.
        diluent: the diluent's name.
        pump: pump settings.
        max_dose_rate: the label's maximum administration rate (a hard limit).
        ideal_weight_when_bmi_at_least: optional policy: dose on ideal body weight at or above
            this BMI unless the protocol names a basis; ``None`` when off.
        display: the ``[display]`` resolutions.
        course: the optional ``[course]`` entries (plan, escalation step and ceiling) by
            indication; an indication without one is absent (read it with
            :meth:`course_defaults`).
    """

    version: str
    name: str
    sha256: str
    file: str
    protocols: Mapping[str, IndicationProtocol]
    vials: tuple[Vial, ...]
    default_vial: Vial
    default_diluent_volume: Sourced[Quantity]
    diluent: Sourced[str]
    pump: PumpSettings
    max_dose_rate: Sourced[DoseRatePerWeight]
    ideal_weight_when_bmi_at_least: Sourced[Quantity] | None
    display: DisplayResolutions
    course: Mapping[str, CourseDefaults] = field(default_factory=dict)

    @functools.cached_property
    def formats(self) -> QuantityFormats:
        """The one formatter of every dose quantity (see :class:`QuantityFormats`)."""
        return QuantityFormats(self.display, self.pump)

    @property
    def formulary_version(self) -> str:
        """The version string (alias of :attr:`version`)."""
        return self.version

    @property
    def formulary_sha256(self) -> str:
        """The sha256 of the file (alias of :attr:`sha256`)."""
        return self.sha256

    def protocol(self, indication: str) -> IndicationProtocol:
        """The protocol for ``indication``.

        Raises:
            KeyError: not an indication of case-format.md.
        """
        return self.protocols[indication]

    def course_defaults(self, indication: str) -> CourseDefaults | None:
        """The course entry (plan, escalation step and ceiling) for ``indication``, or ``None``
        when the formulary has none for it."""
        return self.course.get(indication)

    def vial(self, strength: Quantity) -> Vial | None:
        """The stocked vial of this strength, or ``None`` when the clinic stocks none."""
        wanted = round(in_unit(strength, MG_PER_ML), 6)
        for vial in self.vials:
            if round(in_unit(vial.strength.value, MG_PER_ML), 6) == wanted:
                return vial
        return None

    @functools.cached_property
    def max_dose_rate_text(self) -> str:
        """The label's maximum administration rate for display, in mg/kg/min."""
        per_minute = in_unit(self.max_dose_rate.value.per_kg_per_h, MG_PER_KG_PER_MIN)
        return f"{format_number(as_decimal(per_minute), 4)} mg/kg/min"

    @functools.cached_property
    def max_final_concentration(self) -> Quantity:
        """The highest final concentration any stocked vial may be given at (mg/mL)."""
        allowed = [v.dilute_to_at_most.value if v.dilute_to_at_most else v.strength.value
                   for v in self.vials]
        return max(allowed, key=lambda q: in_unit(q, MG_PER_ML)).to(MG_PER_ML)


def load_formulary(source: DataSource = None, *, sources: DataSource = None) -> Formulary:
    """Load the shipped formulary, or a clinic's formulary file (its bytes or its path).

    Args:
        source: a clinic formulary replacing the shipped one (bytes or a path).
        sources: the R# reference list the sources are checked against (default: the
            shipped ``sources.toml``).

    Returns:
        The validated formulary.

    Raises:
        KnowledgeBaseError: unreadable or not TOML, wrong schema, a missing or unknown key, an
            unknown indication or source key, a value of the wrong dimension, limits out of
            order, a default outside its own limits, a course escalation ceiling above the
            protocol's hard limit.
    """
    data = read_data_file(FORMULARY_FILE, source, schema=FORMULARY_SCHEMA)
    known_sources, _ = load_sources(sources)
    reader = Reader(data.name, frozenset(known_sources))
    doc = reader.record(data.content, "(top level)", _FormularyFile)
    for key in ("version", "name"):
        text = getattr(doc, key)
        if not isinstance(text, str) or not text.strip():
            raise KnowledgeBaseError(data.name, key, "must be non-empty text")
    vials, default_vial, diluent_volume, diluent = read_preparation(reader, doc.preparation)
    pump = read_pump(reader, doc.pump)
    display = read_display(reader, doc.display)
    limits = reader.record(doc.limits, "limits", _LimitsTable)
    max_dose_rate = reader.sourced(limits.max_dose_rate, "limits.max_dose_rate",
                                   dose_rate_per_weight)
    weight = reader.record(doc.weight, "weight", _WeightTable)
    bmi_policy = None
    if weight.ideal_weight_when_bmi_at_least is not None:
        bmi_policy = reader.sourced(weight.ideal_weight_when_bmi_at_least,
                                    "weight.ideal_weight_when_bmi_at_least", bmi)
    protocols = read_protocols(reader, doc.protocols)
    course = read_course(reader, doc.course, protocols)
    return Formulary(
        version=str(doc.version).strip(), name=str(doc.name).strip(), sha256=data.sha256,
        file=data.name, protocols=protocols, vials=vials, default_vial=default_vial,
        default_diluent_volume=diluent_volume, diluent=diluent, pump=pump,
        max_dose_rate=max_dose_rate, ideal_weight_when_bmi_at_least=bmi_policy,
        display=display, course=course,
    )
