"""Benchmark of the dose calculation (issue 3): median and p99 of ``calculate_dose``.

Stand-alone (no pytest): ``.venv/bin/python bench/bench_dose.py [runs]``.

Two figures are timed for every case:

* **dose calculation** (the issue's goal, median <= 200 us): one call of
  :func:`ketascreen.dosing.calculate_dose` on an already validated case, end to end -- the
  case's weight and height parsed from their text, protocol and limits, plausibility and dosing
  weight, dose, preparation, pump rate, delivered dose, the dose JSON numbers and display
  strings, and the independent inverse check. The working lines are recorded but not written:
  ``DoseOutcome.working`` formats them on first access, so screening without showing the working
  does not pay for formatting.
* **with the working formatted**: the same call followed by reading ``outcome.working`` (every
  working line ISMP-formatted), i.e. what a report or the UI's working panel costs. It is timed
  on other patients than the first figure, alternating with it.

Units are parsed once (the dosing modules pre-parse every pint unit they use, and the formulary's
texts are parsed when it is loaded). Each run uses a different patient (weight and height drawn
at random, in kg or lb) so no per-patient value is ever served from a cache; the protocol texts
repeat across patients, as they do in a clinic.

The goal of issue 15 is a median <= 200 us, or <= 3x the pint reference snippet of
stack-notes.md section 4 ("same with pre-parsed units": two multiplications, two divisions, two
conversions; 59.8 us/op on the machine that wrote the notes) measured in the same run. The
snippet is timed *interleaved* with the dose calculation (snippet, dose, snippet, dose ...), so a
busy machine slows both alike and the ratio of the medians stays meaningful.
"""

from __future__ import annotations

import copy
import gc
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ketascreen.dosing import calculate_dose  # noqa: E402
from ketascreen.knowledge.formulary import load_formulary  # noqa: E402
from ketascreen.knowledge.policy import load_policy  # noqa: E402
from ketascreen.models.case import Case  # noqa: E402
from ketascreen.units import ureg  # noqa: E402

EXAMPLE = REPO.parent / "shared" / "spec" / "examples" / "case-example.json"
GOAL_MEDIAN_US = 200.0
PROTOCOLS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "depression, 1 mg/mL (spec example)": ("depression", None),
    "depression, 50 mg/mL vial into 100 mL": (
        "depression", {"dose": "0.5 mg/kg", "duration": "40 min", "vial": "50 mg/mL",
                       "diluent_volume": "100 mL"}),
    "chronic pain, 0.5 mg/kg/h over 4 h": ("chronic-pain", {"dose": "0.5 mg/kg/h",
                                                            "duration": "4 h"}),
}


def _cases(count: int, seed: int = 3) -> list[tuple[str, Case]]:
    base = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    rng = random.Random(seed)
    cases: list[tuple[str, Case]] = []
    names = list(PROTOCOLS)
    for index in range(count):
        name = names[index % len(names)]
        indication, protocol = PROTOCOLS[name]
        case = copy.deepcopy(base)
        case["indication"] = indication
        if protocol is not None:
            case["protocol"] = protocol
        height_cm = rng.uniform(150, 195)
        weight_kg = rng.uniform(20, 35) * (height_cm / 100) ** 2
        weight = (f"{weight_kg:.2f} kg" if rng.random() < 0.5
                  else f"{weight_kg / 0.45359237:.1f} lb")
        case["measurements"]["weight"] = weight
        case["measurements"]["height"] = f"{height_cm:.1f} cm"
        cases.append((name, Case.model_validate(case)))
    return cases


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def _reference_snippet() -> Any:
    """The stack-notes.md section 4 snippet with pre-parsed units, as a function of no arguments."""
    quantity = ureg.Quantity
    units = {name: ureg.Unit(name) for name in ("mg/kg", "kg", "min", "mg/h", "mg/mL", "mL/h")}

    def snippet() -> Any:
        rate = (quantity(0.5, units["mg/kg"]) * quantity(82.3, units["kg"])
                / quantity(40, units["min"])).to(units["mg/h"])
        return (rate / quantity(1, units["mg/mL"])).to(units["mL/h"])
    return snippet


def _line(label: str, values: list[float]) -> str:
    return (f"  {label:40s} median {statistics.median(values):7.1f} us   p99 "
            f"{_percentile(values, 0.99):7.1f} us")


def main(runs: int = 6000) -> int:
    """Time ``runs`` dose calculations, without and with the working formatted, and print
    median and p99 (overall and per protocol)."""
    formulary = load_formulary()
    policy = load_policy()
    plausible_weight = (policy.quantity("plausible_weight_min"),
                        policy.quantity("plausible_weight_max"))
    plausible_bmi = (float(policy.number("plausible_bmi_min_kg_m2")),
                     float(policy.number("plausible_bmi_max_kg_m2")))
    cases = _cases(2 * runs + 300)  # even: dose calculation; odd: with the working formatted
    lines = 0  # working lines written (keeps the formatting from being optimised away)
    for _, case in cases[2 * runs:]:  # warm-up: first-call costs of pint and the caches
        lines += len(calculate_dose(case, formulary, plausible_weight=plausible_weight,
                                    plausible_bmi=plausible_bmi).working)
    timings: dict[str, list[float]] = {name: [] for name in PROTOCOLS}
    formatted: dict[str, list[float]] = {name: [] for name in PROTOCOLS}
    snippet = _reference_snippet()
    reference: list[float] = []
    refused = 0
    gc.disable()
    try:
        for (name, case), (other_name, other_case) in zip(cases[0:2 * runs:2],
                                                          cases[1:2 * runs:2], strict=True):
            start = time.perf_counter_ns()
            snippet()
            reference.append((time.perf_counter_ns() - start) / 1000)
            start = time.perf_counter_ns()
            outcome = calculate_dose(case, formulary, plausible_weight=plausible_weight,
                                     plausible_bmi=plausible_bmi)
            timings[name].append((time.perf_counter_ns() - start) / 1000)
            refused += outcome.dose is None
            start = time.perf_counter_ns()
            lines += len(calculate_dose(other_case, formulary, plausible_weight=plausible_weight,
                                        plausible_bmi=plausible_bmi).working)
            formatted[other_name].append((time.perf_counter_ns() - start) / 1000)
    finally:
        gc.enable()
    everything = sorted(t for values in timings.values() for t in values)
    everything_formatted = sorted(t for values in formatted.values() for t in values)
    median = statistics.median(everything)
    print(f"calculate_dose, {len(everything)} runs ({refused} refused, {lines} working lines "
          "written), pint units pre-parsed")
    print("dose calculation (working lines recorded, formatted only when read):")
    print(f"  all protocols: median {median:7.1f} us   p99 "
          f"{_percentile(everything, 0.99):7.1f} us   (goal: median <= {GOAL_MEDIAN_US:.0f} us)")
    for name, values in timings.items():
        print(_line(name, sorted(values)))
    print("with the working formatted (calculate_dose + outcome.working):")
    print(f"  all protocols: median {statistics.median(everything_formatted):7.1f} us   p99 "
          f"{_percentile(everything_formatted, 0.99):7.1f} us")
    for name, values in formatted.items():
        print(_line(name, sorted(values)))
    snippet_median = statistics.median(reference)
    ratio = median / snippet_median
    print(f"pint reference snippet (stack-notes.md 4), interleaved: median {snippet_median:.1f} us"
          f" (59.8 us where stack-notes.md was measured; machine ratio "
          f"{snippet_median / 59.8:.2f})")
    print(f"  calculate_dose / snippet: {ratio:.2f}x  (goal: <= 3x, or median <= "
          f"{GOAL_MEDIAN_US:.0f} us): "
          f"{'MET' if ratio <= 3 or median <= GOAL_MEDIAN_US else 'NOT MET'}")
    scale = snippet_median / 59.8
    print(f"  medians scaled to that machine: {median / scale:.1f} us (dose calculation), "
          f"{statistics.median(everything_formatted) / scale:.1f} us (with the working)")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 6000))
