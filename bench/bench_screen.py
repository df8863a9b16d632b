"""Benchmark of screen(): median and p99 on the example case and on a case with 40 medications,
and the wall time of one `ketascreen screen` process. Goals (issue 2): median <= 2 ms,
p99 <= 5 ms, CLI process <= 0.6 s on the 2-core reference machine."""

from __future__ import annotations

import copy
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


def _timings(case: ketascreen.models.Case, runs: int) -> tuple[float, float]:
    ruleset = rule_set_in_force()
    screen(case, rules=ruleset)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        screen(case, rules=ruleset)
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples) * 1e3, samples[int(len(samples) * 0.99)] * 1e3


def main() -> None:
    """Print the figures."""
    example = ketascreen.load_case(EXAMPLE)
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    big = copy.deepcopy(data)
    big["medications"] = [{"text": t, "status": "active"} for t in FORTY]
    forty = ketascreen.parse_case(big)
    for name, case in (("example case", example), ("40 medications", forty)):
        median, p99 = _timings(case, 2000)
        print(f"screen() {name:15s} median {median:.3f} ms   p99 {p99:.3f} ms")
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
