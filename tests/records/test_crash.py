"""A writer killed with SIGKILL in the middle of saving never leaves a corrupt database or a
half-written record (SQLite and PostgreSQL).

Each round starts a writer process on the same database, waits until it has committed at least
once, then kills it with SIGKILL a random 0-30 ms after it announced the start of its 1st, 2nd or
3rd next save (so inside the save, or just after it), then reopens the database and checks it. The
rounds go on until at least two kills landed between a save's start and its commit (at least
three rounds, at most twelve). The seed is in the assertion messages.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlalchemy import select as sql_select

from ketascreen.records.models import AuditEventRow, ScreeningRow, SignedDocument
from ketascreen.records.repository import RecordStore
from ketascreen.reports.output import SigningRequest
from ketascreen.screening import Screening
from tests.records.conftest import People
from tests.records.support import KEY_PASSPHRASE, screening_of, signed_pdf

REPO = Path(__file__).resolve().parents[2]
Sign = Callable[[Screening], bytes]


def _read_line(stream: object, timeout: float) -> str | None:
    fd = stream.fileno()  # type: ignore[attr-defined]
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return None
    line: str = stream.readline()  # type: ignore[attr-defined]
    return line


def _round(args: list[str], rng: random.Random) -> tuple[list[str], bool]:
    """Start a writer, kill it mid-flight; its complete output lines, and whether the last
    save had begun but not committed."""
    writer = subprocess.Popen([sys.executable, "-m", "tests.records.crash_writer", *args],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    begins_to_wait = rng.randint(1, 3)  # kill during the 1st, 2nd or 3rd save after a commit
    try:
        deadline = time.monotonic() + 120
        while begins_to_wait:
            line = _read_line(writer.stdout, max(0.0, deadline - time.monotonic()))
            if not line:
                raise AssertionError(f"writer made no progress: {writer.stderr.read()}"  # type: ignore[union-attr]
                                     if writer.poll() is not None else "writer timed out")
            lines.append(line)
            if line.startswith("begin") and any(x.startswith("committed") for x in lines):
                begins_to_wait -= 1
        time.sleep(rng.uniform(0.0, 0.03))  # somewhere inside that save, or just after it
    finally:
        writer.send_signal(signal.SIGKILL)
        rest, _ = writer.communicate(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    lines += rest.splitlines(keepends=True)
    complete = [line.strip() for line in lines if line.endswith("\n")]
    last = complete[-1] if complete else ""
    return complete, last.startswith("begin")


def _check(database_url: str, backend: str, committed: set[str], context: str) -> None:
    """After the crash: integrity, audit chain, every committed save present, nothing half."""
    with RecordStore.open(database_url) as store:
        if backend == "sqlite":
            with store.database.write() as session:
                result = session.execute(text("PRAGMA integrity_check")).scalars().all()
            assert result == ["ok"], context
        report = store.verify_audit()
        assert report.ok, f"{context}: {report}"
        with store.database.read() as session:
            stored = set(session.execute(sql_select(ScreeningRow.record_id)).scalars())
            assert committed <= stored | {c for c in committed if not c.startswith("KS-")}, (
                context)
            creates = session.execute(sql_select(func.count()).select_from(AuditEventRow)
                                      .where(AuditEventRow.action == "create")).scalar_one()
            assert creates == len(stored), f"{context}: a record without its create event"
            unsigned_documents = session.execute(
                sql_select(func.count()).select_from(ScreeningRow)
                .outerjoin(SignedDocument, SignedDocument.screening_id == ScreeningRow.id)
                .where(ScreeningRow.status != "draft").where(SignedDocument.id.is_(None))
            ).scalar_one()
            assert unsigned_documents == 0, f"{context}: a signed record without its PDF"


@dataclass(frozen=True)
class Writer:
    """What a writer process is started with."""

    mode: str
    args: tuple[str, ...]


@pytest.fixture(params=["save", "events"])
def writer(request: pytest.FixtureRequest, database_url: str, store: RecordStore,
           people: People, signing_request: SigningRequest) -> Writer:
    """``save``: the writer stores screenings (two of three signed). ``events``: it appends
    print and double-check events to a signed record in a tight loop."""
    passphrase = Path(signing_request.path).with_suffix(".pass")
    passphrase.write_bytes(KEY_PASSPHRASE + b"\n")
    extra: list[str] = []
    if request.param == "events":
        screening = screening_of()
        extra = [store.create(people.physician, screening,
                              signed_pdf=signed_pdf(screening, signing_request)).record_id]
    store.close()
    return Writer(request.param, (database_url, request.param, signing_request.path,
                                  str(passphrase), *extra))


def test_sigkill_mid_save_leaves_a_sound_database(database_url: str, backend: str,
                                                  writer: Writer) -> None:
    """Repeated SIGKILLs of a writer: integrity ok, chain verifies, no half-written record."""
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    committed: set[str] = set()
    mid_save = rounds = start = 0
    while rounds < 3 or (mid_save < 2 and rounds < 12):
        rounds += 1
        args = [*writer.args[:4], str(start), *writer.args[4:]]
        lines, killed_mid_save = _round(args, rng)
        mid_save += killed_mid_save
        done = [line.split()[2] for line in lines if line.startswith("committed")]
        committed.update(done)
        start += len(lines) + 1
        _check(database_url, backend, committed,
               f"seed {seed}, round {rounds}, {len(done)} saves committed")
    assert mid_save >= 2, f"seed {seed}: only {mid_save} of {rounds} kills landed mid-save"
