"""pint imported without NumPy (``ketascreen.units``; the default unless NumPy was imported
first) gives the same outputs, byte for byte, as pint with NumPy, over every rule vector, the
dosing golden cases and every FHIR sample (the eCQM and US Core folders too): the result JSON,
the text report, the imported case and its warnings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"

_SCREEN_ALL = r"""
import hashlib, importlib.util, json, sys
from datetime import date
from pathlib import Path

repo, shared, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
if mode == "with-numpy":
    import numpy  # imported first: pint then uses it, as it would by itself
import ketascreen.units
import pint.compat

spec = importlib.util.spec_from_file_location("bars", repo / "tools" / "behaviour_bars.py")
bars = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bars)
from ketascreen.errors import KetascreenError
from ketascreen.fhir.importer import import_fhir
from ketascreen.models.parsing import parse_case
from ketascreen.reports.text import render_report
from ketascreen.screening import run

numpy_with_the_core = "numpy" in sys.modules  # later, spaCy may load it (problem-list text)

def screened(case):
    screening = run(parse_case(case))
    return {"json": screening.result.model_dump_json(), "text": render_report(screening)}

example = json.loads((shared / "spec" / "examples" / "case-example.json").read_text())
out = {"vectors": bars.vector_results(repo, example), "example": screened(example)}
for name, changes in bars.golden_cases(repo).items():
    out["golden " + name] = screened(bars.patched(example, changes))
for name, path in bars.fhir_samples(shared):
    try:
        imported = import_fhir(path, as_of=date(2026, 12, 1))
    except KetascreenError as error:  # e.g. a deceased patient: refused, with the reason
        out["fhir " + name] = {"refused": type(error).__name__, "message": str(error)}
        continue
    out["fhir " + name] = {"case": imported.case, "warnings": imported.warnings,
                           **screened(imported.case)}
text = json.dumps(out, sort_keys=True, default=str)
print(json.dumps({"numpy": pint.compat.HAS_NUMPY, "numpy_loaded": numpy_with_the_core,
                  "entries": len(out), "vectors": len(out["vectors"]),
                  "sha256": hashlib.sha256(text.encode()).hexdigest()}))
"""


def _screen_all(mode: str, tmp_path: Path) -> dict[str, object]:
    env = {**os.environ, "KETASCREEN_HOME": str(tmp_path / mode), "TZ": "UTC",
           "PYTHONHASHSEED": "0"}
    for name in ("KETASCREEN_POLICY", "KETASCREEN_FORMULARY", "KETASCREEN_DATABASE_URL"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", _SCREEN_ALL, str(REPO), str(SHARED), mode],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def test_pint_without_numpy_gives_the_same_outputs_byte_for_byte(tmp_path: Path) -> None:
    with_numpy = _screen_all("with-numpy", tmp_path)
    without = _screen_all("without-numpy", tmp_path)
    assert with_numpy["numpy"] is True and with_numpy["numpy_loaded"] is True
    assert without["numpy"] is False and without["numpy_loaded"] is False
    assert isinstance(with_numpy["vectors"], int) and with_numpy["vectors"] > 200
    assert isinstance(with_numpy["entries"], int) and with_numpy["entries"] > 50
    assert without["entries"] == with_numpy["entries"]
    assert without["sha256"] == with_numpy["sha256"]
