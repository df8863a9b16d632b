"""Benchmark: import + screen all 57 FHIR sample patients in one process.

Usage::

    .venv/bin/python bench/bench_import.py             # the benchmark (goal: <= 3 s in total)
    .venv/bin/python bench/bench_import.py --compare   # + fhir.resources (R4B), if installed
    .venv/bin/python bench/bench_import.py --sizes     # one patient's Bundle of 2 to 50 MB:
                                                       # 25 MB <= 1.5 s, time linear in size

Each sample is screened as of the day of its own latest clinical record (as the tests do).
"Total" counts everything after interpreter start-up: importing ketascreen (pint, pydantic),
loading the rule set and knowledge base, then importing and screening the 57 samples. A deceased
patient is refused (DeceasedPatientError) and counts as one sample.

``--compare`` measures the alternative the issue names: importing ``fhir.resources.R4B`` in fresh
processes, and validating the largest Bundle and every sample file with its models, against
plain ``json`` + the narrow models of ``ketascreen.fhir.model``.

``--sizes`` grows the largest Synthea Bundle to about 2, 5, 10, 25 and 50 MB (its resources
other than the Patient repeated whole with new ids, one patient) and imports each, alternating
with the import as it was before issue 15 (the collector on, the whole parsed file walked by
``check_values``, patched back in for the measure): medians, seconds per MB and each size's
cost per MB against the 2 MB file's (1.0 is linear).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "fhir-samples"
sys.path.insert(0, str(REPO))

_START = time.perf_counter()


def _sources() -> list[Path]:
    synthea = sorted((SAMPLES / "synthea-r4").glob("*.json"))
    ecqm = sorted(p for p in (SAMPLES / "ecqm-qicore-2024").glob("*/*") if p.is_dir())
    return [*synthea, *ecqm, SAMPLES / "us-core"]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def bench() -> None:
    """Import and screen every sample once; print the total and per-sample figures."""
    from ketascreen.api import parse_case  # noqa: PLC0415 - imported late to be timed
    from ketascreen.errors import DeceasedPatientError  # noqa: PLC0415 - imported late to be timed
    from ketascreen.fhir import import_fhir  # noqa: PLC0415 - imported late to be timed
    from ketascreen.fhir.dates import latest_clinical_date  # noqa: PLC0415 - imported late to be timed
    from ketascreen.fhir.reader import load_source  # noqa: PLC0415 - imported late to be timed
    from ketascreen.screening import rule_set_in_force, screen  # noqa: PLC0415 - imported late to be timed

    imported = time.perf_counter()
    ruleset = rule_set_in_force()
    loaded = time.perf_counter()
    sources = _sources()
    as_of_days = {s: latest_clinical_date(r.data for r in load_source(s).resources)
                  for s in sources}
    dated = time.perf_counter()
    per_sample: list[tuple[float, str]] = []
    refused = 0
    decisions: dict[str, int] = {}
    for source in sources:
        began = time.perf_counter()
        as_of = as_of_days[source]
        try:
            result = import_fhir(source, as_of=as_of)
        except DeceasedPatientError:
            refused += 1
        else:
            decision = screen(parse_case(result.case), rules=ruleset).decision
            decisions[decision] = decisions.get(decision, 0) + 1
        per_sample.append((time.perf_counter() - began, source.name))
    done = time.perf_counter()
    times = [t for t, _ in per_sample]
    slowest = max(per_sample)
    print(f"samples: {len(sources)} ({refused} refused as deceased); decisions: {decisions}")
    print(f"import ketascreen modules: {_ms(imported - _START)}")
    print(f"load rule set + knowledge base: {_ms(loaded - imported)}")
    print(f"finding each sample's as-of date (reads every file once): {_ms(dated - loaded)}")
    print(f"import + screen of {len(sources)} samples: {_ms(done - dated)}")
    print(f"per sample: median {_ms(statistics.median(times))}, "
          f"max {_ms(slowest[0])} ({slowest[1]})")
    synthea = [t for t, name in per_sample if name.endswith(".json")]
    print(f"per Synthea Bundle (21, 0.3-1.2 MB): median {_ms(statistics.median(synthea))}")
    total = done - _START
    print(f"TOTAL after interpreter start: {_ms(total)} (goal <= 3000 ms: "
          f"{'met' if total <= 3.0 else 'NOT met'})")


def _fresh(code: str, runs: int = 5) -> float:
    """Median wall time of ``code`` printed by fresh interpreters (seconds)."""
    values = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, cwd=REPO)
        values.append(float(out.stdout.strip()))
    return statistics.median(values)


def compare() -> None:
    """fhir.resources (R4B) against json + the narrow models, on the same samples."""
    try:
        import fhir.resources  # noqa: F401, PLC0415 - only probing
    except ImportError:
        print("\n--compare: fhir.resources is not installed; skipped")
        return
    timer = ("import time; {0}; t = time.perf_counter(); {1}; "
             "print(time.perf_counter() - t)")
    core = "import ketascreen.api, ketascreen.screening"
    print("\nImport cost, median of 5 fresh processes:")
    print("  ketascreen core (pint, pydantic, rules, api): "
          f"{_ms(_fresh(timer.format('pass', core)))}")
    print("  on top of the core: import ketascreen.fhir: "
          f"{_ms(_fresh(timer.format(core, 'import ketascreen.fhir')))}")
    print("  on top of the core: import fhir.resources.R4B.bundle: "
          f"{_ms(_fresh(timer.format(core, 'import fhir.resources.R4B.bundle')))}")
    print("  alone: import fhir.resources.R4B.bundle: "
          f"{_ms(_fresh(timer.format('pass', 'import fhir.resources.R4B.bundle')))}")

    from fhir.resources.R4B import get_fhir_model_class  # noqa: PLC0415 - imported late to be timed
    from fhir.resources.R4B.bundle import Bundle  # noqa: PLC0415 - imported late to be timed

    from ketascreen.fhir.reader import load_source  # noqa: PLC0415 - imported late to be timed
    from ketascreen.fhir.record import build_record  # noqa: PLC0415 - imported late to be timed

    largest = max((SAMPLES / "synthea-r4").glob("*.json"), key=lambda p: p.stat().st_size)
    raw = largest.read_bytes()
    print(f"\nLargest Bundle: {largest.name} ({len(raw) / 1e6:.2f} MB)")
    for label in ("first", "second"):
        began = time.perf_counter()
        Bundle.model_validate_json(raw)
        print(f"  fhir.resources R4B Bundle.model_validate_json, {label} call: "
              f"{_ms(time.perf_counter() - began)}")
    for label in ("first", "second"):
        began = time.perf_counter()
        json.loads(raw)
        parsed = time.perf_counter()
        build_record(load_source(largest))
        print(f"  json.loads: {_ms(parsed - began)}; load_source + narrow models "
              f"(build_record), {label} call: {_ms(time.perf_counter() - parsed)}")

    files = [p for s in _sources() for p in ([s] if s.is_file() else sorted(s.glob("*.json")))]
    failures: list[str] = []
    began = time.perf_counter()
    for path in files:
        document: dict[str, Any] = json.loads(path.read_bytes())
        try:
            get_fhir_model_class(document["resourceType"]).model_validate(document)
        except Exception as error:  # noqa: BLE001 - counting every kind of rejection
            failures.append(f"{path.name}: {type(error).__name__}")
    r4b_all = time.perf_counter() - began
    began = time.perf_counter()
    for source in _sources():
        build_record(load_source(source))
    ours_all = time.perf_counter() - began
    print(f"\nAll {len(files)} sample files (57 patients):")
    print(f"  fhir.resources R4B validation: {_ms(r4b_all)}, rejected {len(failures)}")
    for failure in failures[:10]:
        print(f"    {failure}")
    print(f"  json + narrow models (build_record): {_ms(ours_all)}")


def _grown(folder: Path, megabytes: int) -> Path:
    """The largest Synthea Bundle grown to about ``megabytes`` MB, one patient: its resources
    other than the Patient repeated whole (new ids), so every size has the same mix."""
    largest = max((SAMPLES / "synthea-r4").glob("*.json"), key=lambda p: p.stat().st_size)
    document = json.loads(largest.read_bytes())
    patients = [e for e in document["entry"] if e["resource"]["resourceType"] == "Patient"]
    others = [e for e in document["entry"] if e["resource"]["resourceType"] != "Patient"]
    copies = max(1, round(megabytes * 1_000_000 / len(json.dumps(others))))
    entries = list(patients)
    for copy in range(copies):
        for entry in others:
            again = json.loads(json.dumps(entry))
            rid = f"{again['resource'].get('id', 'r')}-{copy}"
            again["resource"]["id"] = rid
            again["fullUrl"] = f"urn:uuid:{rid}"
            entries.append(again)
    path = folder / f"bundle-{megabytes}mb.json"
    path.write_text(json.dumps({**document, "entry": entries}), encoding="utf-8")
    return path


@contextlib.contextmanager
def _as_before() -> Any:
    """The import as it was before issue 15: the collector on, every file walked."""
    from ketascreen.fhir import importer, reader  # noqa: PLC0415 - patched for the measure

    parse = reader._parse
    saved = importer.gc_paused
    reader._parse = lambda raw: (parse(raw)[0], True)
    importer.gc_paused = contextlib.nullcontext  # type: ignore[assignment]
    try:
        yield
    finally:
        reader._parse = parse
        importer.gc_paused = saved


def sizes(runs: int = 5) -> None:
    """Import Bundles of 2 to 50 MB, now and as before, alternately; print medians and ratios."""
    import tempfile  # noqa: PLC0415

    from ketascreen.fhir import import_fhir  # noqa: PLC0415 - imported late to be timed

    import_fhir(SAMPLES / "us-core")  # load the knowledge base once, outside the figures
    print("\nOne patient's Bundle grown to each size (machine shared: medians of "
          f"{runs}, now and before measured alternately):")
    print(f"{'size':>8} {'resources':>10} {'now':>9} {'s/MB':>7} {'x 2 MB':>7} "
          f"{'before':>9} {'s/MB':>7} {'x 2 MB':>7} {'before/now':>11}")
    per_mb: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="ketascreen-bench-fhir-") as folder:
        for megabytes in (2, 5, 10, 25, 50):
            path = _grown(Path(folder), megabytes)
            real_mb = path.stat().st_size / 1e6
            now: list[float] = []
            before: list[float] = []
            result = None
            for _ in range(runs):
                gc.collect()
                began = time.perf_counter()
                result = import_fhir(path)
                now.append(time.perf_counter() - began)
                gc.collect()
                with _as_before():
                    began = time.perf_counter()
                    import_fhir(path)
                    before.append(time.perf_counter() - began)
            assert result is not None
            count = len(result.provenance)
            medians = {"now": statistics.median(now), "before": statistics.median(before)}
            cells = []
            for key in ("now", "before"):
                rate = medians[key] / real_mb
                per_mb.setdefault(key, rate)
                cells.append(f"{medians[key]:8.3f}s {rate:7.4f} {rate / per_mb[key]:7.2f}")
            print(f"{real_mb:6.1f}MB {count:>10} {cells[0]} {cells[1]} "
                  f"{medians['before'] / medians['now']:10.1f}x")
            if megabytes == 25:
                verdict = "met" if medians["now"] <= 1.5 else "NOT met"
                print(f"{'':8} 25 MB goal <= 1.5 s: {verdict}")
            path.unlink()


def main() -> None:
    """Run the benchmark (and the comparison when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="store_true",
                        help="also measure fhir.resources (R4B), if installed")
    parser.add_argument("--sizes", action="store_true",
                        help="only Bundles of 2 to 50 MB: time against size, now and before")
    args = parser.parse_args()
    if args.sizes:
        sizes()
        return
    bench()
    if args.compare:
        compare()


if __name__ == "__main__":
    main()
