"""Generated orders and the one-precision check shared by the report and the app tests.

For each generated order the expected string of every dose quantity is written by the
formulary's one formatter; an output passes when it shows each of them, and never the same
quantity at a finer precision (``42.41 mg`` beside ``42.4 mg``).
"""

from __future__ import annotations

import random
import re
from typing import Any

from ketascreen.display import format_number
from ketascreen.dosing import DoseOutcome
from ketascreen.models.doses import as_decimal, in_unit
from ketascreen.units import Quantity, ureg
from tests.helpers.cases import example_case, patched

ACK = [{"concept": "benzodiazepine", "reason": "Evening dose held."}]


def generated_orders(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` example cases with a seeded mix of weights, units, protocols and preparations."""
    rng = random.Random(seed)
    orders: list[dict[str, Any]] = []
    for _ in range(count):
        kg = rng.uniform(45, 140)
        weight = (f"{round(kg / 0.45359237, rng.choice([0, 1]))} lb" if rng.random() < 0.4
                  else f"{round(kg, rng.choice([0, 1, 2]))} kg")
        hourly = rng.random() < 0.25
        if hourly:
            changes: dict[str, Any] = {"indication": "chronic-pain"}
            protocol: dict[str, str] = {
                "dose": f"{rng.choice(['0.5', '0.75', '1', '1.25', '1.5', '2'])} mg/kg/h",
                "duration": rng.choice(["2 h", "2.5 h", "3 h", "4 h"])}
        else:
            changes = {}
            protocol = {"dose": f"{rng.choice(['0.3', '0.4', '0.5', '0.55', '0.6', '0.75'])} mg/kg",
                        "duration": rng.choice(["40 min", "45 min", "50 min", "60 min"])}
        if rng.random() < 0.35:
            protocol["concentration"] = rng.choice(["0.5 mg/mL", "1 mg/mL", "2 mg/mL"])
        else:
            protocol["vial"] = rng.choice(["10 mg/mL", "50 mg/mL", "100 mg/mL"])
            protocol["diluent_volume"] = rng.choice(["50 mL", "100 mL", "250 mL"])
        changes.update({"measurements.weight": weight, "protocol": protocol,
                        "acknowledgements": ACK})
        orders.append(patched(example_case(), changes))
    return orders


def expected_strings(outcome: DoseOutcome) -> dict[str, tuple[str, Quantity | None, str]]:
    """Each dose quantity: (its one display string, its value, its display unit symbol)."""
    programme, weight = outcome.programme, outcome.dosing_weight
    assert programme is not None and weight is not None
    fmt = programme.formats
    found: dict[str, tuple[str, Quantity | None, str]] = {
        "intended dose": (fmt.dose(programme.intended_dose), programme.intended_dose, "mg"),
        "drawn-up dose": (fmt.dose(programme.prepared_dose), programme.prepared_dose, "mg"),
        "delivered dose": (fmt.dose(programme.delivered_dose), programme.delivered_dose, "mg"),
        "concentration": (fmt.concentration(programme.final_concentration),
                          programme.final_concentration, "mg/mL"),
        "VTBI": (fmt.vtbi(programme.vtbi), programme.vtbi, "mL"),
        "rate": (fmt.rate(programme.programmed_rate), programme.programmed_rate, "mL/h"),
        "dose rate": (fmt.dose_rate(programme.intended_dose_rate),
                      programme.intended_dose_rate, "mg/h"),
        "dosing weight": (fmt.weight(weight.weight), weight.weight, "kg"),
        "delivered mg/kg": (fmt.per_weight(programme.delivered_dose_per_weight),
                            programme.delivered_dose_per_weight.per_kg, "mg/kg"),
    }
    if programme.drug_volume is not None:
        found["drawn-up volume"] = (fmt.drawn_volume(programme.drug_volume),
                                    programme.drug_volume, "mL")
    return found


_UNITS = {"mg": "milligram", "mg/mL": "milligram/milliliter", "mL": "milliliter",
          "mL/h": "milliliter/hour", "mg/h": "milligram/hour", "kg": "kilogram",
          "mg/kg": "milligram/kilogram"}


def precision_problems(text: str, outcome: DoseOutcome) -> list[str]:
    """What in ``text`` breaks "one quantity, one precision": a quantity missing, or shown at a
    finer precision than its one display string."""
    flat = re.sub(r"\s+", " ", text)
    problems: list[str] = []
    expected = expected_strings(outcome)
    canonical = {shown for shown, _, _ in expected.values()}
    for name, (shown, value, symbol) in expected.items():
        if shown not in flat:
            problems.append(f"{name}: {shown!r} missing")
        assert value is not None
        number = as_decimal(in_unit(value, ureg.Unit(_UNITS[symbol])))
        decimals = len(shown.split(" ")[0].partition(".")[2])
        for finer in range(decimals + 1, decimals + 5):
            other = f"{format_number(number, finer)} {symbol}"
            if other == shown or other in canonical:
                continue
            if re.search(rf"(?<![\d.,]){re.escape(other)}(?![\w/])", flat):
                problems.append(f"{name}: {other!r} shown beside {shown!r}")
    return problems
