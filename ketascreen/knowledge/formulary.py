"""The clinic formulary (``formulary.toml``, ``ketascreen-formulary/1``): protocols, preparations,
pump settings; validated, versioned and hashed when loaded.

Like the rule set, a formulary that could not be used correctly never loads: an unknown key, a
value of the wrong dimension, a lower limit above an upper one, an unknown indication or source
key all raise :class:`~ketascreen.errors.KnowledgeBaseError` naming the entry.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar, get_args

from ketascreen.display import format_number
from ketascreen.errors import KnowledgeBaseError, UnitInputError
from ketascreen.knowledge.datafiles import DataSource, read_data_file
from ketascreen.knowledge.sources import load_sources
from ketascreen.models.case import Indication, WeightBasis
from ketascreen.models.doses import (
    HOUR,
    KG,
    MG,
    MG_PER_H,
    MG_PER_KG_PER_MIN,
    MG_PER_ML,
    ML,
    ML_PER_H,
    PERCENT,
    DosePerWeight,
    DoseRatePerWeight,
    as_decimal,
    decimals_of,
    in_unit,
    show,
    show_duration,
)
from ketascreen.units import Dimension, Quantity, parse_quantity, quantity

FORMULARY_SCHEMA = "ketascreen-formulary/1"
FORMULARY_FILE = "formulary.toml"
LOCAL_POLICY = "local-policy"
"""Source marker of a value the clinic sets itself (no published number exists)."""

INDICATIONS: tuple[str, ...] = get_args(Indication)
WEIGHT_BASES: tuple[str, ...] = get_args(WeightBasis)

T = TypeVar("T")
D = TypeVar("D", DosePerWeight, DoseRatePerWeight)

_REFERENCE_KEY = re.compile(r"^R\d+b?$")
# Units the formulary may use that the case format has no dimension for (pump rates, BMI).
_PUMP_RATE = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)\s*mL/h\s*$")
_BMI = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)\s*kg/m(?:²|2)\s*$")


@dataclass(frozen=True)
class Sourced(Generic[T]):
    """A formulary value with the text it was written as and its sources.

    Attributes:
        value: the parsed value.
        text: the value as written in the file (what the checklist shows).
        sources: reference keys (``R18``) and/or :data:`LOCAL_POLICY`.
        entry: the dotted key it was read from, e.g. ``protocols.depression.hard_max``.
    """

    value: T
    text: str
    sources: tuple[str, ...]
    entry: str

    @property
    def is_local_policy(self) -> bool:
        """True when the clinic set this value itself (no published source gives it)."""
        return LOCAL_POLICY in self.sources


@dataclass(frozen=True)
class DoseLimits(Generic[D]):
    """The dose limits of one protocol, all per session (mg/kg) or all per hour (mg/kg/h)."""

    soft_min: Sourced[D]
    soft_max: Sourced[D]
    hard_max: Sourced[D]


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Vial:
    """A vial strength the clinic stocks.

    Attributes:
        strength: the concentration in the vial (mg/mL of ketamine base).
        dilute_to_at_most: the highest final concentration allowed from this vial (the label's
            dilution requirement), or ``None`` when it may be given undiluted.
    """

    strength: Sourced[Quantity]
    dilute_to_at_most: Sourced[Quantity] | None


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


def _places(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@dataclass(frozen=True)
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
        return {"mg": _places(d.dose.value), "mg/h": _places(d.dose_rate.value),
                "mg/mL": _places(d.concentration.value),
                "mg/kg": _places(d.dose_per_weight.value), "kg": _places(d.dosing_weight.value)}

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


@dataclass(frozen=True)
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
            order, a default outside its own limits.
    """
    data = read_data_file(FORMULARY_FILE, source, schema=FORMULARY_SCHEMA)
    known_sources, _ = load_sources(sources)
    reader = _Reader(data.name, frozenset(known_sources))
    doc = reader.table(data.content, "(top level)",
                       required={"schema", "version", "name", "preparation", "pump", "display",
                                 "limits", "weight", "protocols"})
    for key in ("version", "name"):
        if not isinstance(doc[key], str) or not doc[key].strip():
            raise KnowledgeBaseError(data.name, key, "must be non-empty text")
    vials, default_vial, diluent_volume, diluent = _preparation(reader, doc["preparation"])
    pump = _pump(reader, doc["pump"])
    display = _display(reader, doc["display"])
    limits = reader.table(doc["limits"], "limits", required={"max_dose_rate"})
    max_dose_rate = reader.sourced(limits["max_dose_rate"], "limits.max_dose_rate",
                                   _dose_rate_per_weight)
    weight = reader.table(doc["weight"], "weight",
                          optional={"ideal_weight_when_bmi_at_least"})
    bmi_policy = None
    if "ideal_weight_when_bmi_at_least" in weight:
        bmi_policy = reader.sourced(weight["ideal_weight_when_bmi_at_least"],
                                    "weight.ideal_weight_when_bmi_at_least", _bmi)
    protocols = _protocols(reader, doc["protocols"])
    return Formulary(
        version=doc["version"].strip(), name=doc["name"].strip(), sha256=data.sha256,
        file=data.name, protocols=protocols, vials=vials, default_vial=default_vial,
        default_diluent_volume=diluent_volume, diluent=diluent, pump=pump,
        max_dose_rate=max_dose_rate, ideal_weight_when_bmi_at_least=bmi_policy,
        display=display,
    )


class _Reader:
    """Reads sourced values of one file, raising errors that name the entry."""

    def __init__(self, file: str, known_sources: frozenset[str]) -> None:
        self.file = file
        self.known_sources = known_sources

    def fail(self, entry: str, problem: str) -> KnowledgeBaseError:
        return KnowledgeBaseError(self.file, entry, problem)

    def table(self, value: object, entry: str, *, required: frozenset[str] | set[str] = frozenset(),
              optional: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(entry, "must be a table")
        missing = set(required) - value.keys()
        if missing:
            raise self.fail(entry, f"missing key(s): {', '.join(sorted(missing))}")
        unknown = value.keys() - set(required) - set(optional)
        if unknown:
            raise self.fail(entry, f"unknown key(s): {', '.join(sorted(unknown))}")
        return value

    def sourced(self, value: object, entry: str, parse: Any) -> Sourced[Any]:
        table = self.table(value, entry, required={"value", "source"})
        text, sources = table["value"], table["source"]
        if not isinstance(text, str) or not text.strip():
            raise self.fail(entry, f"value must be text such as \"0.5 mg/kg\", not {text!r}")
        if (not isinstance(sources, list) or not sources
                or not all(isinstance(s, str) for s in sources)):
            raise self.fail(entry, "source must be a non-empty list of reference keys (R18) "
                            f"or \"{LOCAL_POLICY}\"")
        for source in sources:
            if source != LOCAL_POLICY and not _REFERENCE_KEY.match(source):
                raise self.fail(entry, f"source {source!r} is neither a reference key (R18) "
                                f"nor \"{LOCAL_POLICY}\"")
            if source != LOCAL_POLICY and source not in self.known_sources:
                raise self.fail(entry, f"source {source} is not in the reference list")
        if len(set(sources)) != len(sources):
            raise self.fail(entry, "source lists a key twice")
        try:
            parsed = parse(text, entry)
        except UnitInputError as error:
            raise self.fail(entry, f"{text!r} {error.reason}") from None
        except (TypeError, ValueError) as error:
            raise self.fail(entry, f"{text!r}: {error}") from None
        return Sourced(parsed, text.strip(), tuple(sources), entry)


def _parser(dimension: Dimension) -> Any:
    def parse(text: str, entry: str) -> Quantity:
        return parse_quantity(text, dimension, field=entry)
    return parse


def _dose_per_weight(text: str, entry: str) -> DosePerWeight:
    return DosePerWeight.parse(text, field=entry)


def _dose_rate_per_weight(text: str, entry: str) -> DoseRatePerWeight:
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


def _pump_rate(text: str, entry: str) -> Quantity:
    match = _PUMP_RATE.match(text)
    if match is None or float(match.group("num")) <= 0:
        raise UnitInputError(field=entry, got=text, expected="pump rate",
                             reason="is not a pump rate greater than zero in mL/h "
                             "(e.g. \"0.1 mL/h\")")
    return quantity(float(match.group("num")), "milliliter/hour")


def _bmi(text: str, entry: str) -> Quantity:
    match = _BMI.match(text)
    if match is None or float(match.group("num")) <= 0:
        raise UnitInputError(field=entry, got=text, expected="body-mass index",
                             reason="is not a BMI in kg/m² (e.g. \"30 kg/m²\")")
    return quantity(float(match.group("num")), "kilogram/meter**2")


def _basis(text: str, entry: str) -> str:
    if text not in WEIGHT_BASES:
        raise ValueError(f"is not a weight basis ({', '.join(WEIGHT_BASES)})")
    return text


def _plain_text(text: str, entry: str) -> str:
    return text.strip()


def _preparation(reader: _Reader, value: object) -> tuple[
        tuple[Vial, ...], Vial, Sourced[Quantity], Sourced[str]]:
    table = reader.table(value, "preparation",
                         required={"default_vial", "default_diluent_volume", "diluent", "vials"})
    raw_vials = table["vials"]
    if not isinstance(raw_vials, list) or not raw_vials:
        raise reader.fail("preparation.vials", "must list at least one vial")
    vials: list[Vial] = []
    for index, raw in enumerate(raw_vials):
        entry = f"preparation.vials[{index}]"
        vial_table = reader.table(raw, entry, required={"strength"},
                                  optional={"dilute_to_at_most"})
        strength = reader.sourced(vial_table["strength"], f"{entry}.strength",
                                  _parser(Dimension.CONCENTRATION))
        dilute = None
        if "dilute_to_at_most" in vial_table:
            dilute = reader.sourced(vial_table["dilute_to_at_most"],
                                    f"{entry}.dilute_to_at_most",
                                    _parser(Dimension.CONCENTRATION))
            if in_unit(dilute.value, MG_PER_ML) >= in_unit(strength.value, MG_PER_ML):
                raise reader.fail(f"{entry}.dilute_to_at_most",
                                  f"{dilute.text} must be below the vial strength "
                                  f"{strength.text}")
        vials.append(Vial(strength, dilute))
    strengths = [round(in_unit(v.strength.value, MG_PER_ML), 6) for v in vials]
    if len(set(strengths)) != len(strengths):
        raise reader.fail("preparation.vials", "lists the same strength twice")
    default = reader.sourced(table["default_vial"], "preparation.default_vial",
                             _parser(Dimension.CONCENTRATION))
    wanted = round(in_unit(default.value, MG_PER_ML), 6)
    matching = [v for v, s in zip(vials, strengths, strict=True) if s == wanted]
    if not matching:
        raise reader.fail("preparation.default_vial",
                          f"{default.text} is not one of the vials listed")
    diluent_volume = reader.sourced(table["default_diluent_volume"],
                                    "preparation.default_diluent_volume",
                                    _parser(Dimension.VOLUME))
    diluent = reader.sourced(table["diluent"], "preparation.diluent", _plain_text)
    return tuple(vials), matching[0], diluent_volume, diluent


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
        if step > 1 or step != Decimal(1).scaleb(-_places(step)):
            raise ValueError("must be a power of ten no coarser than 1 (1, 0.1, 0.01 ...): a "
                             "display resolution is a number of decimal places")
        return step
    return parse


def _display(reader: _Reader, value: object) -> DisplayResolutions:
    table = reader.table(value, "display", required=set(_DISPLAY_UNITS))
    parsed = {key: reader.sourced(table[key], f"display.{key}", _resolution(symbol))
              for key, symbol in _DISPLAY_UNITS.items()}
    return DisplayResolutions(**parsed)


def _pump(reader: _Reader, value: object) -> PumpSettings:
    table = reader.table(value, "pump", required={"rate_resolution", "max_rate",
                                                  "volume_resolution", "max_rounding_deviation",
                                                  "vtbi_resolution"})
    resolution = reader.sourced(table["rate_resolution"], "pump.rate_resolution", _pump_rate)
    maximum = reader.sourced(table["max_rate"], "pump.max_rate", _pump_rate)
    if in_unit(resolution.value, ML_PER_H) >= in_unit(maximum.value, ML_PER_H):
        raise reader.fail("pump.rate_resolution",
                          f"{resolution.text} must be below pump.max_rate {maximum.text}")
    volume = reader.sourced(table["volume_resolution"], "pump.volume_resolution",
                            _parser(Dimension.VOLUME))
    if in_unit(volume.value, ML) > 1:
        raise reader.fail("pump.volume_resolution",
                          f"{volume.text} is coarser than 1 mL (a dose cannot be drawn up so)")
    deviation = reader.sourced(table["max_rounding_deviation"], "pump.max_rounding_deviation",
                               _parser(Dimension.FRACTION))
    if in_unit(deviation.value, PERCENT) >= 100:
        raise reader.fail("pump.max_rounding_deviation", f"{deviation.text} must be below 100 %")
    vtbi = reader.sourced(table["vtbi_resolution"], "pump.vtbi_resolution",
                          _parser(Dimension.VOLUME))
    if in_unit(vtbi.value, ML) > 1:
        raise reader.fail("pump.vtbi_resolution",
                          f"{vtbi.text} is coarser than 1 mL (no pump takes a VTBI so)")
    return PumpSettings(resolution, maximum, volume, deviation, vtbi)


_PROTOCOL_REQUIRED = frozenset({"weight_basis", "soft_min", "soft_max", "hard_max",
                                "duration_min", "duration_max"})
_PROTOCOL_OPTIONAL = frozenset({"dose", "duration"})


def _protocols(reader: _Reader, value: object) -> dict[str, IndicationProtocol]:
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


def _protocol(reader: _Reader, indication: str, value: object) -> IndicationProtocol:
    entry = f"protocols.{indication}"
    table = reader.table(value, entry, required=_PROTOCOL_REQUIRED, optional=_PROTOCOL_OPTIONAL)
    limits = {key: reader.sourced(table[key], f"{entry}.{key}", _weight_based)
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
    duration_min = reader.sourced(table["duration_min"], f"{entry}.duration_min",
                                  _parser(Dimension.TIME))
    duration_max = reader.sourced(table["duration_max"], f"{entry}.duration_max",
                                  _parser(Dimension.TIME))
    if in_unit(duration_min.value, HOUR) >= in_unit(duration_max.value, HOUR):
        raise reader.fail(f"{entry}.duration_min", f"{duration_min.text} must be below "
                          f"duration_max {duration_max.text}")
    dose = None
    if "dose" in table:
        dose = reader.sourced(table["dose"], f"{entry}.dose", _weight_based)
        if isinstance(dose.value, DoseRatePerWeight) != per_hour:
            raise reader.fail(f"{entry}.dose", f"{dose.text} is a {_kind(dose.value)} but the "
                              f"limits are {_kind(limits['soft_min'].value)}s")
        if dose.value < limits["soft_min"].value or dose.value > limits["soft_max"].value:
            raise reader.fail(f"{entry}.dose", f"{dose.text} is outside the protocol's own "
                              f"range {limits['soft_min'].text} to {limits['soft_max'].text}")
    duration = None
    if "duration" in table:
        duration = reader.sourced(table["duration"], f"{entry}.duration",
                                  _parser(Dimension.TIME))
        hours = in_unit(duration.value, HOUR)
        if not in_unit(duration_min.value, HOUR) <= hours <= in_unit(duration_max.value, HOUR):
            raise reader.fail(f"{entry}.duration", f"{duration.text} is outside the protocol's "
                              f"own range {duration_min.text} to {duration_max.text}")
    basis = reader.sourced(table["weight_basis"], f"{entry}.weight_basis", _basis)
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

