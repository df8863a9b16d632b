"""Benchmark of screen(): median and p99 on the example case and on a case with 40 medications,
a keystroke in a case with 200 medications, and the wall time of one `ketascreen screen`
process.

Goals (issue 15): ``screen()`` on the example median <= 1 ms, p99 <= 3 ms; a keystroke in a
200-medication case re-screens in <= 4 ms. A keystroke is simulated as the app sees it: one
medication's text gains a character (a new text every time, so its recognition is never served
from the memo), the case is validated again, and screened. The figure is the re-screen
(``screen()``); the validation is printed beside it.

The collector is frozen after the warm-up (``gc.freeze()``), as the app and the command line
do after start-up (issue 15, 4): otherwise a full collection of the start-up heap (pint,
pydantic, the knowledge base) lands in about one screening in a hundred and is the p99.
"""

from __future__ import annotations

import copy
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ketascreen
from ketascreen.screening import rule_set_in_force, screen

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO.parent / "shared" / "spec" / "examples" / "case-example.json"
FORTY = [
    "Xanax 0.5 mg tablet", "lorazepam 1 mg", "Klonopin 0.5 mg", "zolpidem 10 mg",
    "oxycodone 5 mg", "Suboxone film", "tramadol 50 mg", "phenelzine 15 mg", "Adderall 20 mg",
    "methylphenidate 10 mg", "pseudoephedrine 60 mg", "theophylline 300 mg",
    "levothyroxine 75 mcg", "lamotrigine 100 mg", "naltrexone 50 mg", "memantine 10 mg",
    "clarithromycin 500 mg", "clopidogrel 75 mg", "carbamazepine 200 mg", "gabapentin 300 mg",
    "sertraline 100 mg", "fluoxetine 20 mg", "bupropion 150 mg", "lithium 300 mg",
    "quetiapine 50 mg", "aripiprazole 5 mg", "metformin 500 mg", "lisinopril 10 mg",
    "atorvastatin 20 mg", "amlodipine 5 mg", "omeprazole 20 mg", "vitamin D 1000 units",
    "hydrochlorothiazide 25 mg", "metoprolol 25 mg", "cetirizine 10 mg", "diphenhydramine 25 mg",
    "cyclobenzaprine 10 mg", "prednisone 5 mg", "ibuprofen 400 mg", "acetaminophen 500 mg",
]


def _timings(case: ketascreen.models.Case, runs: int) -> tuple[float, float, float]:
    """Median and p99 of the wall time, and p99 of the CPU time of this thread (ms): a wall p99
    far above the CPU p99 is time the process waited for a core (a busy machine)."""
    ruleset = rule_set_in_force()
    screen(case, rules=ruleset)
    gc.freeze()
    samples = []
    cpu = []
    for _ in range(runs):
        start = time.perf_counter()
        start_cpu = time.thread_time()
        screen(case, rules=ruleset)
        cpu.append(time.thread_time() - start_cpu)
        samples.append(time.perf_counter() - start)
    samples.sort()
    cpu.sort()
    return (statistics.median(samples) * 1e3, samples[int(len(samples) * 0.99)] * 1e3,
            cpu[int(len(cpu) * 0.99)] * 1e3)


def _keystrokes(data: dict[str, object], runs: int) -> tuple[list[float], list[float]]:
    """Screen times (and validation times) of ``runs`` keystrokes in the medication list."""
    ruleset = rule_set_in_force()
    medications = data["medications"]
    assert isinstance(medications, list)
    screen(ketascreen.parse_case(data), rules=ruleset)
    gc.freeze()
    screens: list[float] = []
    parses: list[float] = []
    typed = "sertraline 100 mg daily with breakfast and a glass of water"
    for run in range(runs):
        entry = medications[(run * 7) % len(medications)]
        entry["text"] = f"{typed[:10 + run % 40]} #{run}"
        start = time.perf_counter()
        case = ketascreen.parse_case(data)
        middle = time.perf_counter()
        screen(case, rules=ruleset)
        end = time.perf_counter()
        parses.append(middle - start)
        screens.append(end - middle)
    return sorted(screens), sorted(parses)


def main() -> None:
    """Print the figures."""
    example = ketascreen.load_case(EXAMPLE)
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    big = copy.deepcopy(data)
    big["medications"] = [{"text": t, "status": "active"} for t in FORTY]
    forty = ketascreen.parse_case(big)
    for name, case in (("example case", example), ("40 medications", forty)):
        median, p99, cpu_p99 = _timings(case, 2000)
        goal = ("   (goal: median <= 1 ms, p99 <= 3 ms: "
                f"{'MET' if median <= 1 and p99 <= 3 else 'NOT MET'})"
                if name == "example case" else "")
        print(f"screen() {name:15s} median {median:.3f} ms   p99 {p99:.3f} ms "
              f"(CPU p99 {cpu_p99:.3f} ms){goal}")
    two_hundred = copy.deepcopy(data)
    two_hundred["medications"] = [{"text": t, "status": "active"} for t in FORTY * 5]
    screens, parses = _keystrokes(two_hundred, 500)
    median = statistics.median(screens) * 1e3
    print(f"keystroke, 200 medications: re-screen median {median:.3f} ms   p99 "
          f"{screens[int(len(screens) * 0.99)] * 1e3:.3f} ms   (goal: <= 4 ms: "
          f"{'MET' if median <= 4 else 'NOT MET'}); validating the case "
          f"{statistics.median(parses) * 1e3:.3f} ms")
    walls = []
    with tempfile.TemporaryDirectory():
        for _ in range(7):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "ketascreen.cli", "screen", str(EXAMPLE)],
                           check=True, capture_output=True)
            walls.append(time.perf_counter() - start)
    print(f"CLI process `ketascreen screen` median {statistics.median(walls):.3f} s "
          f"(min {min(walls):.3f}, max {max(walls):.3f}, 7 runs)")


if __name__ == "__main__":
    main()
