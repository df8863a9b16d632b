"""`audit verify` reads and hashes the records: it starts without the core (pint, pydantic, the
case model, the rules, the screening), which the repository imports only in the methods that
screen or dose. Figures in ``bench/bench_records.py``; this pins the behaviour they rest on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ketascreen.records.repository import RecordStore
from tests.records.conftest import People
from tests.records.support import PASSWORDS, screening_of

REPO = Path(__file__).resolve().parents[2]
CORE = ("pint", "pydantic", "ketascreen.models.case", "ketascreen.rules", "ketascreen.screening",
        "ketascreen.records.writes", "ketascreen.records.courses")


def _loaded_after(url: str, home: Path, argv: list[str]) -> tuple[str, dict[str, bool]]:
    code = ("import contextlib, io, json, sys\n"
            "from ketascreen.cli import main\n"
            "out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):\n"
            f"    status = main({argv!r})\n"
            f"print(json.dumps([status, out.getvalue(), {{m: m in sys.modules for m in "
            f"('sqlalchemy', *{CORE!r})}}]))\n")
    environment = {**os.environ, "KETASCREEN_DATABASE_URL": url, "KETASCREEN_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, cwd=REPO, env=environment)
    status, printed, loaded = json.loads(done.stdout.splitlines()[-1])
    assert status == 0, printed
    return printed, loaded


def test_audit_verify_checks_a_signed_record_without_the_core(
        store: RecordStore, people: People, sign: Any, database_url: str,
        tmp_path: Path) -> None:
    stored = store.create(people.physician, screening_of(), signed_pdf=sign(screening_of()))
    assert stored.signed_at is not None
    printed, loaded = _loaded_after(database_url, tmp_path, ["audit", "verify"])
    assert "Signed records:  1 checked" in printed and "RESULT: VERIFIED" in printed
    assert loaded.pop("sqlalchemy")
    assert not any(loaded.values()), loaded


def test_a_command_that_screens_imports_the_core_when_it_needs_it(
        store: RecordStore, people: People, database_url: str, tmp_path: Path) -> None:
    """The other side: the methods that screen import their modules when called (the probe
    above would see them otherwise)."""
    store.create(people.physician, screening_of())
    code = ("import sys\n"
            "from ketascreen.records.repository import RecordStore\n"
            f"assert not any(m in sys.modules for m in {CORE!r})\n"
            "with RecordStore.open() as store:\n"
            "    actor = store.authenticate(sys.argv[1], sys.argv[2])\n"
            "    record = store.list_records(actor)[0].record_id\n"
            "    store.acknowledge(actor, record, concept='benzodiazepine', reason='Held.')\n"
            f"print([m for m in {CORE!r} if m in sys.modules])\n")
    environment = {**os.environ, "KETASCREEN_DATABASE_URL": database_url,
                   "KETASCREEN_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code, "drsmith", PASSWORDS["drsmith"]],
                          check=True, capture_output=True, text=True, cwd=REPO, env=environment)
    assert json.loads(done.stdout.replace("'", '"')) == [
        name for name in CORE if name != "ketascreen.records.courses"]
