"""The bedside independent double check: what the checking nurse has in hand, compared with the
signed order.

ISMP calls IV ketamine a high-alert medication: before it runs, a second clinician checks the
preparation and the pump *independently*, working the numbers without seeing the first
person's (R137, R139; course-facts 5). The checking nurse types what she has in hand
(:func:`parse_entries`: two patient identifiers, the vial (or prepared bag/syringe)
concentration, the volume drawn up, the diluent volume, the pump rate and the VTBI as
programmed) without the order on screen; :func:`signed_order` re-derives the order that was
signed (the preparation is not in the result JSON: it is recomputed from the signed case with
the rules in force, and refused when that no longer gives the signed dose); :func:`compare`
recomputes mg and mg/kg from her entries and compares item by item.

Tolerances (no published figure exists for any of them: local policy, each chosen so that a
correct entry always matches and a wrong digit never does):

- **Pump rate**: her value rounded half up to the pump's rate resolution equals the programmed
  rate (at 0.1 mL/h: 63.64 matches 63.6, 63.65 does not; 15.1 for 151 never does).
- **VTBI**: her value rounded half up to the pump's VTBI resolution equals the programmed VTBI.
- **Volume drawn up**: within half the syringe (volume) resolution of the order's (at 0.01 mL:
  0.855 matches 0.85, 0.856 does not).
- **Vial concentration** and **diluent volume**: equal at the display precision the checklist
  prints them with (the formulary's one formatter).
- **Dose** and **dose per kg**: the final concentration from her entries (vial x drawn /
  (diluent + drawn)) times her VTBI, over the signed dosing weight, within the inverse check's
  tolerance of the same computed from the order (1 % beyond what rounding at the syringe and
  VTBI resolutions explains; :mod:`ketascreen.dosing.inverse`).
- **Identifiers**: names compare without case, accents of spacing or punctuation (``RIVERA,
  Alex`` is ``Alex Rivera``); dates of birth compare as dates (ISO ``1979-05-14`` or with the
  month in words, ``14 May 1979``; an all-digit ``05/06/1979`` is refused as ambiguous); the
  patient id exactly, surrounding spaces aside.

A mismatch names the item (``Pump rate``); while the check is blinded a surface shows only
:attr:`ItemCheck.item`, never :attr:`ItemCheck.ordered`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ketascreen.display import format_number
from ketascreen.dosing.inverse import MISMATCH_TOLERANCE_PERCENT
from ketascreen.dosing.rounding import round_half_up
from ketascreen.errors import (
    DoubleCheckEntryError,
    FieldProblem,
    OrderNotRederivableError,
    UnitInputError,
)
from ketascreen.knowledge.formulary import QuantityFormats
from ketascreen.models.case import Case
from ketascreen.models.doses import (
    KG,
    MG,
    MG_PER_KG,
    MG_PER_ML,
    ML,
    ML_PER_H,
    DosePerWeight,
    as_decimal,
    divided_by,
    in_unit,
    plus,
    quantity_of,
    times,
)
from ketascreen.models.result import Dose, Result
from ketascreen.rules.engine import RuleSet
from ketascreen.screening import dose_for
from ketascreen.units import Dimension, Quantity, parse_quantity


class IdentifierKind(StrEnum):
    """A patient identifier the checking nurse reads from the wristband or chart."""

    NAME = "name"
    BIRTH_DATE = "birth-date"
    PATIENT_ID = "patient-id"


IDENTIFIER_ITEMS: Mapping[IdentifierKind, tuple[str, str]] = {
    IdentifierKind.NAME: ("identifier-name", "Patient name"),
    IdentifierKind.BIRTH_DATE: ("identifier-birth-date", "Date of birth"),
    IdentifierKind.PATIENT_ID: ("identifier-patient-id", "Patient ID"),
}
"""Each identifier kind's item key and label (the labels of :meth:`SignedOrder.rows`)."""

FIELDS: Mapping[str, tuple[Dimension, str, str]] = {
    "vial_concentration": (Dimension.CONCENTRATION, "milligram/milliliter", "mg/mL"),
    "volume_drawn": (Dimension.VOLUME, "milliliter", "mL"),
    "diluent_volume": (Dimension.VOLUME, "milliliter", "mL"),
    "pump_rate": (Dimension.VOLUME_RATE, "milliliter/hour", "mL/h"),
    "vtbi": (Dimension.VOLUME, "milliliter", "mL"),
}
"""The form's quantity fields: (dimension, unit a plain number is read in, the unit shown)."""

_ZERO_ALLOWED = frozenset({"diluent_volume"})
_PLAIN_NUMBER = re.compile(r"^\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*$")


@dataclass(frozen=True)
class BedsideEntries:
    """What the checking nurse has in hand, typed without the order on screen.

    Attributes:
        identifiers: exactly two, of two different kinds: (kind, as typed).
        vial_concentration: mg/mL: the vial drawn from, or the label of a prepared bag/syringe.
        volume_drawn: mL drawn up from the vial (the prepared volume for a prepared bag).
        diluent_volume: mL of diluent in the bag before the drug (0 mL when none).
        pump_rate: mL/h as programmed on the pump.
        vtbi: mL as programmed on the pump.
    """

    identifiers: tuple[tuple[IdentifierKind, str], ...]
    vial_concentration: Quantity
    volume_drawn: Quantity
    diluent_volume: Quantity
    pump_rate: Quantity
    vtbi: Quantity


def _quantity_field(name: str, text: object) -> Quantity:
    """One quantity field of the form: a plain number in the field's unit, or a quantity with
    a unit of the field's dimension (converted to the field's unit).

    Raises:
        UnitInputError: naming ``name``.
    """
    dimension, unit, shown = FIELDS[name]
    if not isinstance(text, str) or not text.strip():
        raise UnitInputError(field=name, got="" if text is None else str(text),
                             expected=dimension.value, reason="is empty")
    stripped = text.strip()
    if stripped.startswith("-"):
        raise UnitInputError(field=name, got=text, expected=dimension.value,
                             reason="must not be negative")
    if _PLAIN_NUMBER.match(stripped):
        magnitude = Decimal(stripped)
        if magnitude == 0 and name in _ZERO_ALLOWED:
            return quantity_of(0.0, ML)
        stripped = f"{stripped} {shown}"
    try:
        value = parse_quantity(stripped, dimension, field=name)
    except UnitInputError as error:
        if error.reason == "must be greater than zero" and name in _ZERO_ALLOWED:
            return quantity_of(0.0, ML)
        raise UnitInputError(field=name, got=text, expected=error.expected,
                             reason=error.reason, suggestion=error.suggestion) from None
    converted: Quantity = value.to(unit)
    return converted


def parse_entries(identifiers: Sequence[tuple[str, str]],
                  fields: Mapping[str, str]) -> BedsideEntries:
    """The bedside entries from the form's text.

    Args:
        identifiers: two (kind, text) pairs; kind is an :class:`IdentifierKind` value
            (``name``, ``birth-date``, ``patient-id``).
        fields: ``vial_concentration`` (mg/mL), ``volume_drawn`` (mL), ``diluent_volume``
            (mL), ``pump_rate`` (mL/h), ``vtbi`` (mL): plain numbers in the field's unit (the
            form shows the unit) or a quantity with a unit of the right dimension
            (``0.151 L/h`` is 151 mL/h). The diluent volume may be 0 (no diluent).

    Raises:
        DoubleCheckEntryError: naming each bad field: empty, not a number, negative, zero,
            a unit of the wrong dimension, a date of birth that is not a date, not two
            identifiers, or two identifiers of one kind.
    """
    problems: list[FieldProblem] = []
    parsed_ids: list[tuple[IdentifierKind, str]] = []
    kinds: set[IdentifierKind] = set()
    if len(identifiers) != 2:
        problems.append(FieldProblem("identifiers", f"two patient identifiers are checked, "
                                     f"not {len(identifiers)}"))
    for index, (kind_text, value) in enumerate(identifiers):
        where = f"identifiers[{index}]"
        try:
            kind = IdentifierKind(kind_text)
        except ValueError:
            problems.append(FieldProblem(where, "is not a name, date of birth or patient id",
                                         kind_text))
            continue
        if kind in kinds:
            problems.append(FieldProblem(where, f"{IDENTIFIER_ITEMS[kind][1]} is given twice: "
                                         "check two different identifiers", value))
            continue
        kinds.add(kind)
        if not isinstance(value, str) or not value.strip():
            problems.append(FieldProblem(where, f"{IDENTIFIER_ITEMS[kind][1]} is empty"))
            continue
        if kind is IdentifierKind.BIRTH_DATE:
            try:
                parse_birth_date(value)
            except ValueError as error:
                problems.append(FieldProblem(where, str(error), value))
                continue
        parsed_ids.append((kind, value.strip()))
    values: dict[str, Quantity] = {}
    for name in FIELDS:
        try:
            values[name] = _quantity_field(name, fields.get(name))
        except UnitInputError as error:
            problems.append(error.problem())
    unknown = sorted(set(fields) - set(FIELDS))
    problems.extend(FieldProblem(name, "is not a field of the double check") for name in unknown)
    if problems:
        raise DoubleCheckEntryError(tuple(problems))
    return BedsideEntries(identifiers=tuple(parsed_ids), **values)


# --------------------------------------------------------------------------------------------
# Identifiers

_DATE_FORMATS = ("%Y-%m-%d", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y")


def parse_birth_date(text: str) -> date:
    """A date of birth as typed: ISO (``1979-05-14``, as the app and the checklist print it)
    or with the month in words (``14 May 1979``, ``May 14, 1979``).

    Raises:
        ValueError: not such a date; an all-digit form other than ISO (``05/06/1979``) is
            refused as ambiguous (day and month may be read either way).
    """
    cleaned = " ".join(text.replace(",", " ").split())
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, form).date()
        except ValueError:
            continue
    if re.fullmatch(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}", cleaned):
        raise ValueError("is ambiguous (day and month may be read either way): write it as "
                         "YYYY-MM-DD, e.g. 1979-05-14, or 14 May 1979")
    raise ValueError("is not a date: write it as YYYY-MM-DD, e.g. 1979-05-14, or 14 May 1979")


def _name_words(text: str) -> tuple[str, ...]:
    """A name's words without case, accents or punctuation; ``Last, First`` read as ``First
    Last``."""
    if text.count(",") == 1:
        last, first = text.split(",")
        text = f"{first} {last}"
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c if c.isalnum() else " " for c in decomposed
                      if not unicodedata.combining(c))
    return tuple(letters.split())


def same_name(typed: str, recorded: str) -> bool:
    """Whether a typed patient name is the recorded one (see the module docstring)."""
    return _name_words(typed) == _name_words(recorded)


# --------------------------------------------------------------------------------------------
# The signed order


@dataclass(frozen=True)
class SignedOrder:
    """What was signed, re-derived from the signed case and checked against the signed result.

    Attributes:
        record_id: the signed record.
        patient_name, birth_date, patient_id: the patient of the signed case.
        dosing_weight: kg.
        dose: mg, as ordered (the intended dose).
        dose_per_kg: mg/kg, as ordered.
        vial_strength: the vial drawn from; ``None`` when a final concentration was ordered.
        drug_volume: mL drawn up (the prepared volume when a final concentration was ordered).
        diluent_volume: mL of diluent (0 mL when a final concentration was ordered).
        final_concentration: mg/mL in the bag or syringe.
        vtbi: mL, as programmed.
        programmed_rate: mL/h, as programmed.
        duration: the planned duration.
        rate_resolution, volume_resolution, vtbi_resolution: the pump's and syringe's.
        formats: the formulary's one formatter (``None``: the shipped formulary's).
    """

    record_id: str
    patient_name: str
    birth_date: date | None
    patient_id: str
    dosing_weight: Quantity
    dose: Quantity
    dose_per_kg: Quantity
    vial_strength: Quantity | None
    drug_volume: Quantity
    diluent_volume: Quantity
    final_concentration: Quantity
    vtbi: Quantity
    programmed_rate: Quantity
    duration: Quantity
    rate_resolution: Quantity
    volume_resolution: Quantity
    vtbi_resolution: Quantity
    formats: QuantityFormats | None = field(default=None, repr=False, compare=False)

    @property
    def fmt(self) -> QuantityFormats:
        """The formatter the order is written with."""
        if self.formats is not None:
            return self.formats
        from ketascreen.knowledge.formulary import load_formulary  # noqa: PLC0415

        return load_formulary().formats

    @property
    def concentration_in_hand(self) -> Quantity:
        """The concentration on the label she reads: the vial's, or the prepared bag's when
        a final concentration was ordered."""
        return self.vial_strength if self.vial_strength is not None else self.final_concentration

    @property
    def dose_in_vtbi(self) -> Quantity:
        """mg in the programmed VTBI (VTBI x final concentration): what her entries are
        recomputed against."""
        return times(self.vtbi, self.final_concentration)

    def rows(self) -> tuple[tuple[str, str], ...]:
        """The order as the bedside block prints it: (label, ISMP display), the labels of
        :attr:`ItemCheck.item` in the same order."""
        fmt = self.fmt
        birth = self.birth_date.isoformat() if self.birth_date is not None else "-"
        return (
            ("Patient name", self.patient_name),
            ("Date of birth", birth),
            ("Patient ID", self.patient_id),
            ("Vial concentration", fmt.concentration(self.concentration_in_hand)),
            ("Volume drawn up", fmt.drawn_volume(self.drug_volume)),
            ("Diluent volume", fmt.drawn_volume(self.diluent_volume)),
            ("Pump rate", fmt.rate(self.programmed_rate)),
            ("VTBI", fmt.vtbi(self.vtbi)),
            ("Dose", fmt.dose(self.dose)),
            ("Dose per kg", fmt.per_weight(DosePerWeight.from_quantity(self.dose_per_kg))),
        )


def _differences(signed: Dose, recomputed: Dose) -> list[str]:
    names = {"dose_mg": "dose", "dose_mg_per_kg": "dose per kg",
             "dosing_weight_kg": "dosing weight", "volume_ml": "prepared volume",
             "concentration_mg_per_ml": "concentration", "rate_ml_per_h": "pump rate",
             "duration_min": "duration", "rate_mg_per_h": "dose rate",
             "weight_basis": "weight basis", "display": "display"}
    return [f"{names.get(key, key)} {getattr(signed, key)} signed, {getattr(recomputed, key)} now"
            if key != "display" else "the printed dose or rate"
            for key in Dose.model_fields if getattr(signed, key) != getattr(recomputed, key)]


def signed_order(record_id: str, case: Case, result: Result, rules: RuleSet) -> SignedOrder:
    """The order of a signed checklist, re-derived from its signed case with ``rules``.

    The result JSON holds the dose, concentration, prepared volume and pump rate, not the vial,
    volume drawn up, diluent or VTBI: those are recomputed from the signed case (for an
    infusion of a course, the stored case is the infusion's own, with the protocol and weight
    in force, so the same calculation gives its dose). The recomputation must give the signed
    result's dose exactly, or the order is refused rather than double-checked against a
    different one.

    Raises:
        OrderNotRederivableError: the result has no dose, the rules in force give no dose, or
            a dose different from the signed one (the formulary changed since signing).
    """
    if result.dose is None:
        raise OrderNotRederivableError(record_id, "its signed result has no dose")
    outcome = dose_for(case, rules)
    programme, dosing = outcome.programme, outcome.dosing_weight
    if outcome.dose is None or programme is None or dosing is None:
        raise OrderNotRederivableError(
            record_id, f"the rules in force give no dose now ({outcome.refusal}): the formulary "
            "changed since signing; ask the physician to check the order again")
    differences = _differences(result.dose, outcome.dose)
    if differences:
        raise OrderNotRederivableError(
            record_id, f"the rules in force give another order now ({'; '.join(differences)}): "
            "the formulary changed since signing; ask the physician to check the order again")
    pump = rules.formulary.pump
    drawn, diluent = programme.drug_volume, programme.diluent_volume
    if programme.vial_strength is None or drawn is None:  # a final concentration ordered
        drawn, diluent = programme.total_volume, None
    patient = case.patient
    return SignedOrder(
        record_id=record_id, patient_name=patient.name, birth_date=patient.birth_date,
        patient_id=patient.id, dosing_weight=dosing.weight, dose=programme.intended_dose,
        dose_per_kg=divided_by(programme.intended_dose, dosing.weight).to(MG_PER_KG),
        vial_strength=programme.vial_strength,
        drug_volume=drawn,
        diluent_volume=diluent if diluent is not None else quantity_of(0.0, ML),
        final_concentration=programme.final_concentration, vtbi=programme.vtbi,
        programmed_rate=programme.programmed_rate, duration=programme.duration,
        rate_resolution=pump.rate_resolution.value,
        volume_resolution=pump.volume_resolution.value,
        vtbi_resolution=pump.vtbi_resolution.value, formats=rules.formulary.formats)


# --------------------------------------------------------------------------------------------
# The comparison


@dataclass(frozen=True)
class ItemCheck:
    """One item of the double check.

    Attributes:
        key: stable: ``identifier-name``, ``identifier-birth-date``,
            ``identifier-patient-id``, ``vial-concentration``, ``volume-drawn``,
            ``diluent-volume``, ``pump-rate``, ``vtbi``, ``dose-mg``, ``dose-mg-per-kg``.
        item: ``Patient name``, ``Date of birth``, ``Patient ID``, ``Vial concentration``,
            ``Volume drawn up``, ``Diluent volume``, ``Pump rate``, ``VTBI``, ``Dose``,
            ``Dose per kg``.
        entered: ISMP display of what she entered (or recomputed from it).
        ordered: ISMP display of the signed order (shown only once the check is over).
        matches: whether it matches within the item's tolerance.
    """

    key: str
    item: str
    entered: str
    ordered: str
    matches: bool


@dataclass(frozen=True)
class DoubleCheckOutcome:
    """The items compared, and the dose recomputed from her entries.

    Attributes:
        items: identifiers first, then the preparation, the pump and the dose.
        recomputed_dose: mg the pump delivers: final concentration from her entries x VTBI.
        recomputed_dose_per_kg: mg/kg over the signed dosing weight.
        tolerance_percent: the dose items' tolerance (1 % beyond what rounding explains).
    """

    items: tuple[ItemCheck, ...]
    recomputed_dose: Quantity
    recomputed_dose_per_kg: Quantity
    tolerance_percent: Decimal = Decimal(0)

    @property
    def passed(self) -> bool:
        """Every item matches."""
        return all(item.matches for item in self.items)

    @property
    def mismatches(self) -> tuple[ItemCheck, ...]:
        """The items that differ, in order."""
        return tuple(item for item in self.items if not item.matches)

    def detail(self) -> dict[str, Any]:
        """JSON-able, for the audit event: per item its key, whether it matches and, for the
        preparation, pump and dose, what she entered. Never an identifier as typed (the audit
        trail holds no patient data) nor the order's values (the signed record holds them)."""
        return {
            "passed": self.passed,
            "mismatches": [item.key for item in self.mismatches],
            "items": [{"key": item.key, "matches": item.matches,
                       **({} if item.key.startswith("identifier-")
                          else {"entered": item.entered})}
                      for item in self.items],
            "tolerance_percent": format_number(self.tolerance_percent, 2),
        }


def _entered(value: Quantity, unit: Any, symbol: str) -> str:
    """What she typed, in the field's unit, per ISMP, with the digits she gave."""
    return f"{format_number(as_decimal(in_unit(value, unit)), 6)} {symbol}"


def _identifier(order: SignedOrder, kind: IdentifierKind, typed: str) -> ItemCheck:
    key, label = IDENTIFIER_ITEMS[kind]
    if kind is IdentifierKind.NAME:
        return ItemCheck(key, label, " ".join(typed.split()), order.patient_name,
                         same_name(typed, order.patient_name))
    if kind is IdentifierKind.BIRTH_DATE:
        ordered = order.birth_date.isoformat() if order.birth_date is not None else "-"
        try:
            entered_date: date | None = parse_birth_date(typed)
        except ValueError:
            entered_date = None
        shown = entered_date.isoformat() if entered_date is not None else typed.strip()
        return ItemCheck(key, label, shown, ordered,
                         entered_date is not None and entered_date == order.birth_date)
    return ItemCheck(key, label, typed.strip(), order.patient_id,
                     typed.strip() == order.patient_id.strip())


def _same_at(value: Quantity, target: Quantity, step: Quantity) -> bool:
    """``value`` rounded half up to ``step`` equals ``target`` (itself at that step)."""
    unit = step.units
    return (as_decimal(in_unit(round_half_up(value, step), unit))
            == as_decimal(in_unit(round_half_up(target, step), unit)))


def _within_half(value: Quantity, target: Quantity, step: Quantity) -> bool:
    unit = step.units
    difference = abs(as_decimal(in_unit(value, unit)) - as_decimal(in_unit(target, unit)))
    return difference <= as_decimal(float(step.magnitude)) / 2


def _rounding_factor(value: Quantity, step: Quantity) -> Decimal:
    """Worst case of a value read at ``step``: off by half a step (as the inverse check)."""
    unit = step.units
    magnitude = as_decimal(in_unit(value, unit))
    half = as_decimal(float(step.magnitude)) / 2
    return magnitude / (magnitude - half) if magnitude > half else Decimal("Infinity")


def dose_tolerance_percent(order: SignedOrder) -> Decimal:
    """The dose items' tolerance: 1 % beyond what reading the drawn-up volume at the syringe
    resolution and the VTBI at the pump's resolution can explain."""
    factor = (_rounding_factor(order.drug_volume, order.volume_resolution)
              * _rounding_factor(order.vtbi, order.vtbi_resolution))
    return (factor * (1 + MISMATCH_TOLERANCE_PERCENT / 100) - 1) * 100


def _within_percent(value: Quantity, target: Quantity, unit: Any, tolerance: Decimal) -> bool:
    expected = as_decimal(in_unit(target, unit))
    found = as_decimal(in_unit(value, unit))
    if expected == 0:
        return found == 0
    return abs(found - expected) / expected * 100 <= tolerance


def compare(order: SignedOrder, entries: BedsideEntries) -> DoubleCheckOutcome:
    """Compare what she has in hand with the signed order, item by item, within the
    tolerances of the module docstring, and recompute mg and mg/kg from her entries.

    The final concentration from her entries is vial x drawn / (diluent + drawn) (for a
    prepared bag, diluent 0 mL: the label's concentration); the dose is that times her VTBI.
    """
    fmt = order.fmt
    items = [_identifier(order, kind, typed) for kind, typed in entries.identifiers]
    vial, drawn = entries.vial_concentration, entries.volume_drawn
    diluent, rate, vtbi = entries.diluent_volume, entries.pump_rate, entries.vtbi
    in_hand = order.concentration_in_hand
    items += [
        ItemCheck("vial-concentration", "Vial concentration", _entered(vial, MG_PER_ML, "mg/mL"),
                  fmt.concentration(in_hand),
                  fmt.concentration(vial) == fmt.concentration(in_hand)),
        ItemCheck("volume-drawn", "Volume drawn up", _entered(drawn, ML, "mL"),
                  fmt.drawn_volume(order.drug_volume),
                  _within_half(drawn, order.drug_volume, order.volume_resolution)),
        ItemCheck("diluent-volume", "Diluent volume", _entered(diluent, ML, "mL"),
                  fmt.drawn_volume(order.diluent_volume),
                  fmt.drawn_volume(diluent) == fmt.drawn_volume(order.diluent_volume)),
        ItemCheck("pump-rate", "Pump rate", _entered(rate, ML_PER_H, "mL/h"),
                  fmt.rate(order.programmed_rate),
                  _same_at(rate, order.programmed_rate, order.rate_resolution)),
        ItemCheck("vtbi", "VTBI", _entered(vtbi, ML, "mL"), fmt.vtbi(order.vtbi),
                  _same_at(vtbi, order.vtbi, order.vtbi_resolution)),
    ]
    bag = plus(diluent, drawn)
    if in_unit(bag, ML) > 0:
        concentration = divided_by(times(vial, drawn), bag)
    else:
        concentration = quantity_of(0.0, MG_PER_ML)
    dose = times(vtbi, concentration).to(MG)
    per_kg = divided_by(dose, order.dosing_weight.to(KG)).to(MG_PER_KG)
    tolerance = dose_tolerance_percent(order)
    dose_ok = _within_percent(dose, order.dose_in_vtbi, MG, tolerance)
    per_kg_ok = _within_percent(per_kg, divided_by(order.dose_in_vtbi, order.dosing_weight),
                                MG_PER_KG, tolerance)
    shown_per_kg = (fmt.per_weight(DosePerWeight.from_quantity(per_kg))
                    if in_unit(per_kg, MG_PER_KG) > 0 else "0 mg/kg")
    items += [
        ItemCheck("dose-mg", "Dose", fmt.dose(dose), fmt.dose(order.dose), dose_ok),
        ItemCheck("dose-mg-per-kg", "Dose per kg", shown_per_kg,
                  fmt.per_weight(DosePerWeight.from_quantity(order.dose_per_kg)), per_kg_ok),
    ]
    return DoubleCheckOutcome(tuple(items), dose, per_kg, tolerance)
