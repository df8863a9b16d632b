"""Re-record the dosing goldens (``tests/dosing/golden_outcomes.json``).

Run ``.venv/bin/python -m tests.dosing.record_goldens`` from the repository (``make goldens``):
it calculates every case of ``tests/dosing/test_golden.py`` and writes what the engine hands
out now. Recording is deterministic: on an unchanged tree the file stays byte for byte the same
(``tests/dosing/test_record_goldens.py`` checks it). ``--check`` only compares, and exits 1 when
the file would change. After a deliberate change, read ``git diff
tests/dosing/golden_outcomes.json`` value by value before committing it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ketascreen.knowledge.formulary import Formulary, load_formulary
from tests.dosing.support import SHIPPED_FORMULARY
from tests.dosing.test_golden import BMI_POLICY, GOLDEN, all_snapshots


def bmi_policy_formulary() -> Formulary:
    """The shipped formulary with the ideal-weight-at-BMI-30 policy switched on (as the
    ``bmi_policy_formulary`` fixture of the golden test makes it)."""
    old, new = BMI_POLICY
    text = SHIPPED_FORMULARY.read_text(encoding="utf-8")
    if old not in text:
        raise SystemExit(f"record_goldens: {old!r} is not in the shipped formulary")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "formulary.toml"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return load_formulary(path)


def render(snapshots: dict[str, dict[str, Any]]) -> str:
    """The text of the goldens file for ``snapshots`` (one fixed JSON layout)."""
    return json.dumps(snapshots, indent=1, ensure_ascii=False) + "\n"


def recorded() -> str:
    """The goldens file's text as the engine would record it now."""
    return render(all_snapshots(bmi_policy_formulary()))


def record(path: Path = GOLDEN) -> bool:
    """Write the goldens to ``path``; returns whether its content changed."""
    text = recorded()
    before = path.read_bytes() if path.exists() else None
    data = text.encode("utf-8")
    if before == data:
        return False
    path.write_bytes(data)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Record (or with ``--check`` compare) the goldens; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tests.dosing.record_goldens",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true",
                        help="compare only: exit 1 if the recorded file would change")
    parser.add_argument("--out", type=Path, default=GOLDEN, help="the file to write")
    args = parser.parse_args(argv)
    if args.check:
        same = args.out.exists() and args.out.read_bytes() == recorded().encode("utf-8")
        print(f"{args.out}: {'unchanged' if same else 'WOULD CHANGE'}")
        return 0 if same else 1
    changed = record(args.out)
    print(f"{args.out}: {'re-recorded, CHANGED: read the diff' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
