"""No orphan signed output: ``screen --save --pdf OUT --sign`` puts the signed checklist at OUT
only after its record is committed, and a killed run leaves no temporary file after the next
start.

The kill test runs the real command line in a subprocess (SQLite records in a temporary folder)
and SIGKILLs it 50 times: half at a random moment of the whole run, half a few milliseconds
after its temporary file appears (the window between signing and renaming, where an orphan
would be made). Afterwards every signed PDF at a destination has its record, holding exactly
those bytes, and the next start removes every temporary file.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ketascreen.cli import main
from ketascreen.models.checklist import record_id_for
from ketascreen.records.commands import Saver
from ketascreen.records.repository import RecordStore
from ketascreen.reports.signing import embedded_attachments, is_signed
from ketascreen.tempfiles import TEMP_PREFIX, remove_leftovers
from tests.helpers.cases import clean_case

KILLS = 50
PASSWORDS = {"admin": "admin password 123456", "drsmith": "doctor password 123456"}


@dataclass(frozen=True)
class Clinic:
    """A records folder with an admin, a physician and her registered trial key."""

    root: Path
    home: Path
    key: Path
    passphrase: Path
    password: Path

    def env(self) -> dict[str, str]:
        """The environment of a subprocess using this clinic's SQLite records."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("KETASCREEN_DATABASE_URL", "KETASCREEN_USER")}
        return {**env, "KETASCREEN_HOME": str(self.home), "PYTHONUNBUFFERED": "1"}

    def case(self, number: int) -> Path:
        """A CLEAR case of its own patient (one signed checklist per patient per day)."""
        data = clean_case()
        data["patient"]["id"] = f"KILL-{number}"
        data["patient"]["name"] = f"Kill Test {number}"
        path = self.root / "cases" / f"case{number}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    def screen_args(self, case: Path, pdf: Path) -> list[str]:
        """``screen CASE --save --pdf PDF --sign KEY`` as drsmith."""
        return ["screen", str(case), "--save", "--pdf", str(pdf), "--sign", str(self.key),
                "--passphrase-file", str(self.passphrase), "--user", "drsmith",
                "--password-file", str(self.password)]


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Clinic:
    """A fresh clinic (records in ``tmp_path/home``); the environment points at it."""
    home = tmp_path / "home"
    monkeypatch.setenv("KETASCREEN_HOME", str(home))
    monkeypatch.delenv("KETASCREEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("KETASCREEN_USER", raising=False)
    files = {name: tmp_path / f"{name}.txt" for name in ("pass", "admin", "drsmith")}
    files["pass"].write_text("correct horse battery staple\n")
    for name in ("admin", "drsmith"):
        files[name].write_text(PASSWORDS[name] + "\n")
    key = tmp_path / "me.p12"
    assert main(["keygen", "--name", "Dr Jane Smith", "--credentials", "MD", "--out", str(key),
                 "--passphrase-file", str(files["pass"])]) == 0
    assert main(["users", "add", "admin", "--role", "admin", "--name", "Clinic Admin",
                 "--new-password-file", str(files["admin"])]) == 0
    assert main(["users", "add", "drsmith", "--role", "physician", "--name", "Dr Jane Smith",
                 "--user", "admin", "--password-file", str(files["admin"]),
                 "--certificate", str(key), "--passphrase-file", str(files["pass"]),
                 "--new-password-file", str(files["drsmith"])]) == 0
    return Clinic(tmp_path, home, key, files["pass"], files["drsmith"])


def _temporaries(*folders: Path, pid: int | None = None) -> list[Path]:
    prefix = TEMP_PREFIX if pid is None else f"{TEMP_PREFIX}{pid}-"
    return [p for folder in folders if folder.exists() for p in folder.iterdir()
            if p.name.startswith(prefix)]


def _record_of(pdf: bytes) -> str:
    attached = embedded_attachments(pdf)
    return record_id_for(attached["ketascreen-case.json"], attached["ketascreen-result.json"])


def test_a_refused_save_leaves_no_signed_pdf(clinic: Clinic, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """When storing the record fails after the checklist was signed, nothing appears at the
    destination and the temporary file is removed."""
    def fail(*_: object, **__: object) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(Saver, "save", fail)
    out = clinic.root / "out"
    with pytest.raises(OSError, match="simulated"):
        main(clinic.screen_args(clinic.case(0), out / "c0.pdf"))
    assert list(out.iterdir()) == []
    assert "wrote" not in capsys.readouterr().err


def test_the_signed_pdf_appears_after_its_record(clinic: Clinic,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """At the moment the record is committed the destination does not exist yet (only the
    temporary file beside it); afterwards it does, with the stored bytes."""
    seen: list[tuple[bool, int]] = []
    original = Saver.save
    out = clinic.root / "out"
    target = out / "c1.pdf"

    def spy(self: Saver, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        seen.append((target.exists(), len(_temporaries(out))))

    monkeypatch.setattr(Saver, "save", spy)
    assert main(clinic.screen_args(clinic.case(1), target)) == 0
    assert seen == [(False, 1)]
    assert _temporaries(out) == []
    store = RecordStore.open()
    try:
        actor = store.authenticate("drsmith", PASSWORDS["drsmith"])
        data = target.read_bytes()
        assert store.document(actor, _record_of(data)) == data
    finally:
        store.close()


def test_leftovers_of_dead_processes_are_removed_others_kept(tmp_path: Path) -> None:
    """A leftover of a process that is gone is removed; the file of a running process, a file
    newer than the cut-off and a file of another name are kept."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    files = {
        "dead": tmp_path / f"{TEMP_PREFIX}{dead.stdout.strip()}-abc.tmp",
        "parent": tmp_path / f"{TEMP_PREFIX}{os.getppid()}-abc.tmp",
        "ours": tmp_path / f"{TEMP_PREFIX}{os.getpid()}-abc.tmp",
        "other": tmp_path / "notes.tmp",
    }
    for path in files.values():
        path.write_bytes(b"patient data")
    assert remove_leftovers(tmp_path, older_than=time.time() + 1) == [files["dead"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        files[k].name for k in ("parent", "ours", "other"))
    files["dead"].write_bytes(b"new")  # written after the cut-off: kept
    assert remove_leftovers(tmp_path, older_than=time.time() - 60) == []


def test_fifty_sigkills_leave_no_orphan_signed_pdf(clinic: Clinic) -> None:
    """50 SIGKILLs of ``screen --save --pdf --sign``: no signed PDF without its record (holding
    the same bytes), and after the next start no temporary file in the output or data folder."""
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    out = clinic.root / "out"
    command = [sys.executable, "-m", "ketascreen.cli"]
    started = time.monotonic()
    first = subprocess.run([*command, *clinic.screen_args(clinic.case(0), out / "c0.pdf")],
                           env=clinic.env(), capture_output=True, text=True, check=False)
    full_run = time.monotonic() - started
    assert first.returncode == 0, first.stderr
    finished = killed_with_temporary = 0
    for number in range(1, KILLS + 1):
        process = subprocess.Popen(
            [*command, *clinic.screen_args(clinic.case(number), out / f"c{number}.pdf")],
            env=clinic.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if number % 2:  # a random moment of the whole run
            time.sleep(rng.uniform(0.0, full_run * 1.05))
        else:  # a few milliseconds after the signed checklist is staged
            deadline = time.monotonic() + 4 * full_run + 5
            while process.poll() is None and not _temporaries(out, pid=process.pid) \
                    and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.03))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        finished += process.wait() == 0
        killed_with_temporary += bool(_temporaries(out, pid=process.pid))
    context = (f"seed {seed}: {finished} of {KILLS} runs finished before the kill, "
               f"{killed_with_temporary} kills left a temporary file; a full run took "
               f"{full_run:.2f} s")
    print(context)  # shown with -s: how the kills landed

    store = RecordStore.open()
    try:
        actor = store.authenticate("drsmith", PASSWORDS["drsmith"])
        pdfs = sorted(p for p in out.iterdir() if not p.name.startswith(TEMP_PREFIX))
        for path in pdfs:
            data = path.read_bytes()
            assert is_signed(data), f"{path.name}: {context}"
            record_id = _record_of(data)
            stored = store.find(actor, record_id)
            assert stored is not None and stored.is_signed, \
                f"{path.name} (record {record_id}) has no signed record: {context}"
            assert store.document(actor, record_id) == data, f"{path.name}: {context}"
        assert store.verify_audit().ok, context
    finally:
        store.close()
    assert killed_with_temporary > 0, context

    # The next start removes every leftover, from the data folder and the output folder.
    last = subprocess.run([*command, *clinic.screen_args(clinic.case(KILLS + 1),
                                                         out / "last.pdf")],
                          env=clinic.env(), capture_output=True, text=True, check=False)
    assert last.returncode == 0, last.stderr
    assert _temporaries(out, clinic.home) == [], context
    assert (out / "last.pdf").exists()
