"""pint is imported without numpy (ketascreen never gives it an array), and that changes nothing.

``ketascreen.units`` keeps numpy out of pint's import (a third of its time); these tests show the
numbers do not depend on it: the dosing goldens, the example's result and report, and every FHIR
sample screened are the same text, byte for byte, in a process where numpy came first (pint then
takes its numpy mode) and in one where it did not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fhir.builders import SAMPLES
from tests.helpers.cases import EXAMPLE_CASE

REPO = Path(__file__).resolve().parent.parent

OUTPUTS = """
import contextlib, hashlib, io, json, sys
from ketascreen.cli import main
from tests.dosing.record_goldens import recorded

def cli(*args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main(list(args))
    return f"{args} -> {status}\\n{out.getvalue()}"

example, samples = sys.argv[1], sys.argv[2:]
texts = [recorded(), cli("screen", example, "--json"), cli("screen", example)]
texts.append(cli("screen", *samples, "--summary", "--as-of", "2026-12-01"))
texts += [cli("screen", s, "--json", "--as-of", "2026-12-01") for s in samples]
import pint.compat
print(json.dumps({"numpy": pint.compat.HAS_NUMPY, "texts": len(texts),
                  "sha256": hashlib.sha256("".join(texts).encode()).hexdigest()}))
"""


def _child(code: str, *args: str, tmp_path: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "KETASCREEN_DATABASE_URL"}
    env["KETASCREEN_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True,
                         text=True, cwd=REPO, env=env).stdout
    loaded: dict[str, object] = json.loads(out.splitlines()[-1])
    return loaded


PROBE = """
import json, sys
import ketascreen.units
import pint.compat
state = {"numpy_loaded": "numpy" in sys.modules, "pint_numpy": pint.compat.HAS_NUMPY}
import numpy  # importable afterwards (spaCy needs it)
state["numpy_importable"] = numpy.__name__ == "numpy"
print(json.dumps(state))
"""


def test_the_units_import_pint_without_numpy(tmp_path: Path) -> None:
    """pint is imported in its number-only mode, and numpy can still be imported afterwards."""
    state = _child(PROBE, tmp_path=tmp_path)
    assert state == {"numpy_loaded": False, "pint_numpy": False, "numpy_importable": True}


def test_numpy_already_imported_is_left_to_pint(tmp_path: Path) -> None:
    """The other side: numpy imported first, pint takes its numpy mode (nothing is undone)."""
    state = _child("import numpy\n" + PROBE, tmp_path=tmp_path)
    assert state == {"numpy_loaded": True, "pint_numpy": True, "numpy_importable": True}


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="the shared FHIR samples are not here")
def test_every_output_is_the_same_with_and_without_numpy_in_pint(tmp_path: Path) -> None:
    """The dosing goldens, the example's JSON and report, the samples' summary and each
    Synthea patient's JSON: the same bytes whether pint runs with numpy or without."""
    samples = [str(p) for p in sorted((SAMPLES / "synthea-r4").glob("*.json"))]
    assert len(samples) >= 10
    without = _child(OUTPUTS, str(EXAMPLE_CASE), *samples, tmp_path=tmp_path)
    with_numpy = _child("import numpy\n" + OUTPUTS, str(EXAMPLE_CASE), *samples,
                        tmp_path=tmp_path)
    assert without["numpy"] is False and with_numpy["numpy"] is True
    assert without["texts"] == with_numpy["texts"] == 4 + len(samples)
    assert without["sha256"] == with_numpy["sha256"]
