"""Benchmark of the command line's start-up: `ketascreen screen EXAMPLE --json` against
`python -c 'import pint'`, measured alternately in one run (issue 15: the CLI <= 1.5x pint).

Both are fresh processes of this interpreter, run A, B, A, B ... ``--runs`` times; the medians of
their wall time and of their CPU time (user + system, from the children's rusage: steadier than
wall time on a shared machine) are printed with the ratio B / A.

Two configurations are measured:

* ``as is``: the environment as given. When ``PYTHONDONTWRITEBYTECODE`` is set, a module
  without up-to-date bytecode beside it (a package installed without it, a source file just
  edited) is compiled from source again by every process.
* ``bytecode``: a private ``PYTHONPYCACHEPREFIX`` (a temporary folder), warmed first, so that
  every module loads from bytecode as on a machine where the packages were imported before.

No records database is used (``KETASCREEN_HOME`` is an empty temporary folder), as for a
workstation that only screens. Then where the CLI's time goes: CPU milliseconds per stage of one
process (imports, the rule set, loading, screening, the JSON), medians of 5 processes.

Usage: ``python bench/bench_cli.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO.parent / "shared" / "spec" / "examples" / "case-example.json"
GOAL = 1.5

PINT = [sys.executable, "-c", "import pint"]
_SCRIPT = Path(sys.executable).parent / "ketascreen"
_ENTRY = "import sys; from ketascreen.cli import run; sys.exit(run())"
"""What the installed ``ketascreen`` command runs (``[project.scripts]``: ``ketascreen.cli:run``);
used as such when the installed script is older than that entry (installed before it)."""
_INSTALLED = _SCRIPT.is_file() and "import run" in _SCRIPT.read_text(encoding="utf-8")
CLI = [*([str(_SCRIPT)] if _INSTALLED else [sys.executable, "-c", _ENTRY]),
       "screen", str(EXAMPLE), "--json"]

STAGES = """
import gc, sys, time
gc.disable()  # as the CLI runs `screen`
clock = time.process_time
marks = [("interpreter", clock())]
def mark(name):
    marks.append((name, clock()))
sys.modules["numpy"] = None  # as ketascreen.units imports pint: without numpy
import pint; mark("import pint (numpy kept out)")
del sys.modules["numpy"]
import pydantic.main; mark("import pydantic")
import ketascreen.units; mark("units: the registry")
import ketascreen.models.case, ketascreen.models.result; mark("models: case, result")
import ketascreen.cli; mark("cli")
import ketascreen.screening, ketascreen.reports.text; mark("screening, dosing, rules, knowledge")
from ketascreen.screening import rule_set_in_force, run
rules = rule_set_in_force(); mark("rule set: data files, matchers")
from ketascreen.api import load_case
case = load_case(sys.argv[1]); mark("load the case")
screening = run(case, rules=rules); mark("screen")
text = screening.result.model_dump_json(indent=2); mark("result JSON")
print(";".join(f"{name}={(t - prev) * 1e3:.3f}"
               for (name, t), (_, prev) in zip(marks[1:], marks[:-1])))
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    import time  # noqa: PLC0415

    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=REPO)
    return time.perf_counter() - start, _children_cpu() - cpu


def _alternate(env: dict[str, str], runs: int) -> dict[str, tuple[list[float], list[float]]]:
    figures: dict[str, tuple[list[float], list[float]]] = {"pint": ([], []), "cli": ([], [])}
    for command in (PINT, CLI):  # warm the file cache (and the bytecode cache)
        subprocess.run(command, check=True, capture_output=True, env=env, cwd=REPO)
    for _ in range(runs):
        for name, command in (("pint", PINT), ("cli", CLI)):
            wall, cpu = _run(command, env)
            figures[name][0].append(wall)
            figures[name][1].append(cpu)
    return figures


def _report(label: str, figures: dict[str, tuple[list[float], list[float]]]) -> None:
    pint_wall, pint_cpu = (statistics.median(v) for v in figures["pint"])
    cli_wall, cli_cpu = (statistics.median(v) for v in figures["cli"])
    runs = len(figures["pint"][0])
    print(f"[{label}] {runs} runs each, alternating")
    print(f"  python -c 'import pint'        wall {pint_wall * 1e3:6.0f} ms   "
          f"cpu {pint_cpu * 1e3:6.0f} ms")
    print(f"  ketascreen screen EXAMPLE --json wall {cli_wall * 1e3:6.0f} ms   "
          f"cpu {cli_cpu * 1e3:6.0f} ms")
    print(f"  ratio CLI / import pint        wall {cli_wall / pint_wall:5.2f}x     "
          f"cpu {cli_cpu / pint_cpu:5.2f}x     (goal <= {GOAL}x)")


def _stages(env: dict[str, str]) -> None:
    samples: dict[str, list[float]] = {}
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", STAGES, str(EXAMPLE)], check=True,
                             capture_output=True, text=True, env=env, cwd=REPO).stdout
        for item in out.strip().splitlines()[-1].split(";"):
            name, value = item.split("=")
            samples.setdefault(name, []).append(float(value))
    print("  where the CLI's time goes (CPU ms, median of 5; each stage after the one above):")
    for name, values in samples.items():
        print(f"    {name:40s} {statistics.median(values):6.1f}")


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as home, tempfile.TemporaryDirectory() as pycache:
        env = {k: v for k, v in os.environ.items() if k != "KETASCREEN_DATABASE_URL"}
        env["KETASCREEN_HOME"] = home
        print("machine: shared with other work; figures are medians "
              f"(load average {os.getloadavg()[0]:.1f} at start)")
        dont_write = env.get("PYTHONDONTWRITEBYTECODE")
        _report(f"as is: PYTHONDONTWRITEBYTECODE={dont_write or 'unset'}", _alternate(env, runs))
        cached = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = pycache
        _report("bytecode: every module from a warmed bytecode cache", _alternate(cached, runs))
        _stages(cached)


if __name__ == "__main__":
    main()
