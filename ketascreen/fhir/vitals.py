"""Observations -> ``case.measurements`` and ``patient.pregnant``.

Observations are picked by LOINC code (never by text), the latest usable one of each kind wins,
and every value is written as the case's quantity string with the unit taken from the UCUM
*code* (``[lb_av]`` -> ``lb``), never from the display ``unit``:

- weight: 29463-7 (also 3141-9, "measured"), UCUM ``kg``, ``g``, ``[lb_av]``, ``[oz_av]``;
- height: 8302-2 (also 8308-9, "standing"), UCUM ``cm``, ``m``, ``mm``, ``[in_i]``, ``[ft_i]``;
- blood pressure: panels 85354-9, 55284-4 (Synthea 2.4, diastolic first) and 96607-7 (mean
  of several readings), components matched by code: systolic 8480-6 (96608-5 in the mean
  panel), diastolic 8462-4 (96609-3), UCUM ``mm[Hg]`` or ``kPa``;
- pregnancy status 82810-3: SNOMED CT 77386006 Pregnant -> ``yes``, 60001007 Not pregnant ->
  ``no``, 261665006 Unknown -> ``unknown``. A status is only as good as its date: a "Not
  pregnant" older than :data:`NEGATIVE_PREGNANCY_VALID_DAYS` and a "Pregnant" older than
  :data:`POSITIVE_PREGNANCY_VALID_DAYS` (42 weeks, the longest pregnancy) become ``unknown``
  with a warning, so the screening asks for a current status.

Usable means: status final, amended, corrected or preliminary (or absent); dated; not after the
as-of date; a value the case format accepts. Anything else is skipped with a warning.

``measurements.taken_at`` is one timestamp in the case format, so it is set to the *oldest* of
the chosen weight and blood-pressure dates: a stale weight can then never hide behind a fresh
blood pressure (the ``stale-measurement`` rule fires if either is too old). The exact date of
each is in the provenance and in the ``stale-weight`` / ``stale-blood-pressure`` warnings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from ketascreen.errors import ImportWarning
from ketascreen.fhir import model as fm
from ketascreen.fhir.dates import Moment, case_datetime, parse_moment
from ketascreen.fhir.record import Item, Record
from ketascreen.fhir.result import Provenance
from ketascreen.models.case import SNOMED, Measurements

WEIGHT_CODES = ("29463-7", "3141-9")
HEIGHT_CODES = ("8302-2", "8308-9")
BP_PANELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "85354-9": (("8480-6",), ("8462-4",)),
    "55284-4": (("8480-6",), ("8462-4",)),
    "96607-7": (("96608-5", "8480-6"), ("96609-3", "8462-4")),
}
PREGNANCY_STATUS = "82810-3"
PREGNANCY_VALUES = {"77386006": "yes", "60001007": "no", "261665006": "unknown"}
NEGATIVE_PREGNANCY_VALID_DAYS = 7
"""A "Not pregnant" status older than this no longer excludes pregnancy (local choice)."""
POSITIVE_PREGNANCY_VALID_DAYS = 294
"""42 weeks: a "Pregnant" status older than this cannot describe the current state."""

MASS_UNITS = {"kg": "kg", "g": "g", "[lb_av]": "lb", "[oz_av]": "oz"}
LENGTH_UNITS = {"cm": "cm", "m": "m", "mm": "mm", "[in_i]": "in", "[ft_i]": "ft"}
PRESSURE_UNITS = {"mm[Hg]": "mmHg", "kPa": "kPa"}
USABLE_STATUSES = frozenset({"final", "amended", "corrected", "preliminary"})


@dataclass(frozen=True)
class Reading:
    """One usable value: the case string, when it was taken, and its source."""

    value: str
    moment: Moment
    item: Item[fm.Observation]


@dataclass
class MappedVitals:
    """``measurements`` and ``patient.pregnant`` of the case, with provenance and warnings."""

    measurements: dict[str, Any] = field(default_factory=dict)
    pregnant: str = "unknown"
    weight: Reading | None = None
    blood_pressure: Reading | None = None
    provenance: list[Provenance] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)


def _number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("", "0", "-0") else "0"


def _quantity(quantity: fm.Quantity | None, units: dict[str, str]) -> str | None:
    if quantity is None or quantity.value is None or not math.isfinite(quantity.value):
        return None
    if quantity.system not in (fm.UCUM, None) or quantity.code not in units:
        return None
    return f"{_number(quantity.value)} {units[quantity.code]}"


def _moment(observation: fm.Observation) -> Moment | None:
    period = observation.effective_period
    for text in (observation.effective_date_time, observation.effective_instant,
                 period.end if period else None, period.start if period else None,
                 observation.issued):
        moment = parse_moment(text)
        if moment is not None:
            return moment
    return None


def _acceptable(field_name: str, value: str) -> bool:
    try:
        Measurements.model_validate({field_name: value})
    except ValidationError:
        return False
    return True


class _Picker:
    """Collects the usable readings of one kind and keeps the latest."""

    def __init__(self, kind: str, out: MappedVitals, as_of: date) -> None:
        self.kind = kind
        self.out = out
        self.as_of = as_of
        self.best: Reading | None = None

    def offer(self, item: Item[fm.Observation], value: str | None, field_name: str,
              problem: str, element: str = "valueQuantity.value") -> None:
        moment = _moment(item.resource)
        if value is None:
            self.out.warnings.append(ImportWarning(
                "unusable-observation", f"A {self.kind} observation was skipped: {problem}.",
                item.label))
            return
        if moment is None:
            self.out.warnings.append(ImportWarning(
                "undated-observation", f"A {self.kind} observation ({value}) has no date and "
                "was skipped.", item.label))
            return
        if moment.day > self.as_of:
            self.out.warnings.append(ImportWarning(
                "future-dated", f"A {self.kind} observation ({value}) is dated "
                f"{moment.day.isoformat()}, after the as-of date {self.as_of.isoformat()}, and "
                "was skipped.", item.label))
            return
        if field_name and not _acceptable(field_name, value):
            self.out.warnings.append(ImportWarning(
                "implausible-value", f"A {self.kind} observation of {value} "
                f"({item.label}.{element}) is out of range (not a possible value) and was "
                "skipped.", item.label))
            return
        if self.best is None or moment.instant >= self.best.moment.instant:
            self.best = Reading(value, moment, item)


def _usable(observation: fm.Observation) -> bool:
    return observation.status is None or observation.status in USABLE_STATUSES


def _loinc(observation: fm.Observation, *codes: str) -> bool:
    return observation.code is not None and observation.code.has(fm.LOINC, *codes)


def _bp_value(observation: fm.Observation) -> tuple[str | None, str]:
    panel = next(code for code in BP_PANELS if _loinc(observation, code))
    systolic_codes, diastolic_codes = BP_PANELS[panel]

    def component(codes: tuple[str, ...]) -> fm.ObservationComponent | None:
        for code in codes:  # in order of preference: the panel's own code first
            for part in observation.component:
                if part.code is not None and part.code.has(fm.LOINC, code):
                    return part
        return None

    systolic, diastolic = component(systolic_codes), component(diastolic_codes)
    if systolic is None or diastolic is None:
        return None, "no systolic and diastolic components (matched by LOINC code)"
    high = systolic.value_quantity
    low = diastolic.value_quantity
    high_text = _quantity(high, PRESSURE_UNITS)
    low_text = _quantity(low, PRESSURE_UNITS)
    if high_text is None or low_text is None or high is None or low is None \
            or high.code != low.code:
        return None, "the components are not both in mm[Hg] (or both in kPa) by UCUM code"
    unit = PRESSURE_UNITS[str(high.code)]
    return f"{high_text.split()[0]}/{low_text.split()[0]} {unit}", ""


def _pregnancy(item: Item[fm.Observation]) -> str | None:
    value = item.resource.value_codeable_concept
    if value is None:
        return None
    for coding in value.codes(SNOMED):
        found = PREGNANCY_VALUES.get(str(coding.code).strip())
        if found is not None:
            return found
    return None


def map_vitals(record: Record, as_of: date) -> MappedVitals:
    """Pick the latest usable weight, height, blood pressure and pregnancy status."""
    out = MappedVitals()
    weight = _Picker("weight", out, as_of)
    height = _Picker("height", out, as_of)
    pressure = _Picker("blood pressure", out, as_of)
    pregnancy = _Picker("pregnancy status", out, as_of)
    for item in record.observations:
        observation = item.resource
        if not _usable(observation):
            continue
        if _loinc(observation, *WEIGHT_CODES):
            weight.offer(item, _quantity(observation.value_quantity, MASS_UNITS), "weight",
                         "no valueQuantity in kg, g, [lb_av] or [oz_av] (by UCUM code)")
        elif _loinc(observation, *HEIGHT_CODES):
            height.offer(item, _quantity(observation.value_quantity, LENGTH_UNITS), "height",
                         "no valueQuantity in cm, m, mm, [in_i] or [ft_i] (by UCUM code)")
        elif _loinc(observation, *BP_PANELS):
            value, problem = _bp_value(observation)
            pressure.offer(item, value, "blood_pressure", problem,
                           element="component.valueQuantity.value")
        elif _loinc(observation, PREGNANCY_STATUS):
            pregnancy.offer(item, _pregnancy(item), "",
                            "its value is not SNOMED CT 77386006, 60001007 or 261665006")
    for picker, field_name in ((weight, "weight"), (height, "height"),
                               (pressure, "blood_pressure")):
        best = picker.best
        if best is None:
            continue
        out.measurements[field_name] = best.value
        out.provenance.append(Provenance(
            "measurement", f"measurements.{field_name}", best.item.label,
            str(best.item.source.file), f"{best.value}, taken {case_datetime(best.moment)}"))
    out.weight, out.blood_pressure = weight.best, pressure.best
    dated = [r for r in (weight.best, pressure.best) if r is not None]
    if dated:
        oldest = min(dated, key=lambda r: r.moment.instant)
        out.measurements["taken_at"] = case_datetime(oldest.moment)
    if pregnancy.best is not None:
        _set_pregnancy(pregnancy.best, as_of, out)
    return out


def _set_pregnancy(best: Reading, as_of: date, out: MappedVitals) -> None:
    age_days = (as_of - best.moment.day).days
    taken = best.moment.day.isoformat()
    value = best.value
    limit = {"yes": POSITIVE_PREGNANCY_VALID_DAYS, "no": NEGATIVE_PREGNANCY_VALID_DAYS}.get(value)
    detail = f"82810-3 = {value}, taken {taken}"
    if limit is not None and age_days > limit:
        shown = "Pregnant" if value == "yes" else "Not pregnant"
        out.warnings.append(ImportWarning(
            "stale-pregnancy-status", f"The latest pregnancy status ({shown}, {taken}) is "
            f"{age_days} days old (limit {limit}); pregnant is set to unknown. Record a current "
            "pregnancy status.", best.item.label))
        value = "unknown"
        detail += f"; older than {limit} days -> unknown"
    out.pregnant = value
    out.provenance.append(Provenance("measurement", "patient.pregnant", best.item.label,
                                     str(best.item.source.file), detail))
