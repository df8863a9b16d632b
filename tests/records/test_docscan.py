"""``audit verify`` may have a second process read part of the signed documents (issue 15): it
reads what this process reads (forked from this one, or started as ``python -m``), its result is
taken only when it saw the same audit head, and otherwise (or when it fails) this process reads
those documents itself: the same report."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text

from ketascreen.records import docscan, integrity
from ketascreen.records.audit import AuditReport
from ketascreen.records.docscan import (
    Documents,
    DocumentWorker,
    chunk_bounds,
    document_rows,
    read_documents,
    seen_head,
)
from ketascreen.records.models import SignedDocument
from ketascreen.records.repository import RecordStore
from ketascreen.records.rowhash import row_hash, row_sha256
from ketascreen.records.views import StoredScreening
from ketascreen.records.worklist import record_print
from ketascreen.reports.output import SigningRequest, produce_checklist
from tests.records.conftest import People
from tests.records.rawsql import drop_protection, raw
from tests.records.support import screening_of
from tests.records.test_integrity import signed  # noqa: F401 - the fixture

_ONE_THREAD = docscan._one_thread


@pytest.fixture(autouse=True)
def one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process taken as running one thread: the suite's process may also run the idle
    worker threads of a library another test loaded (numpy's BLAS pool), which make
    ``audit verify`` start its second process rather than fork it; the command line's
    process runs none (:func:`test_one_thread_in_a_fresh_process`). The tests of the check
    itself call it as it is (``_ONE_THREAD``)."""
    monkeypatch.setattr(docscan, "_one_thread", lambda: threading.active_count() == 1)


def test_one_thread_in_a_fresh_process() -> None:
    """``audit verify``'s process (the records and its reading loaded) runs one thread."""
    code = ("import ketascreen.records.integrity, ketascreen.records.repository; "
            "from ketascreen.records.docscan import _one_thread; print(_one_thread())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.strip() == "True"


def test_not_one_thread_while_another_runs() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not _ONE_THREAD()
    finally:
        stop.set()
        thread.join()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A SQLite file: the second process reads SQLite files only."""
    return f"sqlite:///{tmp_path / 'records.sqlite3'}"


def _serial(store: RecordStore, monkeypatch: pytest.MonkeyPatch) -> AuditReport:
    with monkeypatch.context() as patch:
        patch.setattr(docscan, "MIN_SHARED", 10**9)
        return store.verify_audit()


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[DocumentWorker]:
    """Every second process ``audit verify`` starts, each with the result it gave."""
    workers: list[DocumentWorker] = []
    init = DocumentWorker.__init__

    def spy(worker: DocumentWorker, *args: object, **kwargs: object) -> None:
        init(worker, *args, **kwargs)  # type: ignore[arg-type]
        workers.append(worker)

    monkeypatch.setattr(DocumentWorker, "__init__", spy)
    return workers


def test_read_documents_hashes_each_row_as_the_row_hash(
        store: RecordStore, signed: StoredScreening,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    with store.database.read() as session:
        here = read_documents(session, row_hashes=True)
        with monkeypatch.context() as patch:  # from the converted values, not as stored
            patch.setattr(docscan, "cursor_rows", lambda *args, **kwargs: None)
            assert read_documents(session, row_hashes=True) == here
        (ident,) = here.row_hashes
        document = session.get(SignedDocument, ident)
        assert document is not None
        assert here.row_hashes[ident] == row_hash(document).sha256
        again = document_rows(session, [ident])
        assert list(again) == [ident] and again[ident]["pdf"] == f"sha256:{here.by_id[ident]}"
        assert row_sha256(again[ident]) == here.row_hashes[ident]
        assert document_rows(session, []) == {}
        assert read_documents(session).row_hashes == {}  # not asked for


def _joined(worker: DocumentWorker, head: tuple[int, str] | None) -> Documents | None:
    """What the second process read, as one :class:`Documents` (``None``: not taken)."""
    parts = worker.parts(head)
    if parts is None:
        return None
    joined = Documents()
    for part in parts:
        joined.extend(part)
    return joined


@pytest.mark.parametrize("fork", [True, False])
def test_the_second_process_reads_what_this_one_reads(
        store: RecordStore, signed: StoredScreening, fork: bool) -> None:  # noqa: F811
    with store.database.read() as session:
        here = read_documents(session, row_hashes=True)
        head = seen_head(session)
    assert here.heads and here.row_hashes and here.by_id
    worker = DocumentWorker(store.database.url, [], database=store.database if fork else None)
    assert worker.forked is fork
    assert _joined(worker, head) == here
    with store.database.read() as session:
        last = max(here.by_screening)
        assert read_documents(session, after=last) == Documents()
        assert read_documents(session, upto=last, row_hashes=True) == here


def test_without_a_memory_file_the_forked_process_sends_all_through_its_pipe(
        store: RecordStore, signed: StoredScreening,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(*args: object) -> int:
        raise OSError("no memfd")

    with store.database.read() as session:
        here = read_documents(session, row_hashes=True)
        head = seen_head(session)
    monkeypatch.setattr(os, "memfd_create", unavailable)
    worker = DocumentWorker(store.database.url, [], database=store.database)
    assert worker.forked and worker._store is None
    assert _joined(worker, head) == here


def test_no_fork_while_a_connection_is_open_or_another_thread_runs(
        store: RecordStore, signed: StoredScreening) -> None:  # noqa: F811
    with store.database.read() as session:
        head = seen_head(session)
        worker = DocumentWorker(store.database.url, [], database=store.database)
        assert not worker.forked  # this session's connection would cross the fork
    assert _joined(worker, head) is not None
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        worker = DocumentWorker(store.database.url, [], database=store.database)
        assert not worker.forked
        worker.close()
    finally:
        stop.set()
        thread.join()
    for _ in range(100):  # the thread's end is told before the system thread is gone
        if threading.active_count() == 1:
            break
        time.sleep(0.01)
    worker = DocumentWorker(store.database.url, [], database=store.database)
    assert worker.forked
    worker.close()  # stopped unread
    assert _joined(worker, head) is None


@pytest.mark.parametrize("fork", [True, False])
def test_a_second_process_that_saw_another_head_is_not_taken(
        store: RecordStore, signed: StoredScreening, fork: bool) -> None:  # noqa: F811
    worker = DocumentWorker(store.database.url, [], database=store.database if fork else None)
    assert _joined(worker, (1, "0" * 64)) is None


def _more_documents(store: RecordStore, people: People, signing_request: SigningRequest,
                    signed: StoredScreening, database_url: str, *,  # noqa: F811
                    tampered: bool) -> None:
    """Three signed documents; ``tampered``: each row and the last PDF changed."""
    for number in (3, 4):
        more = screening_of({"patient.id": f"MRN-{number}", "patient.name": f"Pat {number}"})
        pdf, _ = produce_checklist(more, signing=signing_request,
                                   audit_head=store.audit_head())
        store.create(people.physician, more, signed_pdf=pdf)
    record_print(store, people.nurse, signed.record_id)
    if tampered:
        with raw(database_url) as connection:
            drop_protection(connection)
            connection.execute(text("UPDATE signed_documents SET size = size + 1"))
            last = connection.execute(text("SELECT max(id) FROM signed_documents")).scalar()
            pdf = connection.execute(text("SELECT pdf FROM signed_documents WHERE id = :i"),
                                     {"i": last}).scalar_one()
            connection.execute(text("UPDATE signed_documents SET pdf = :pdf WHERE id = :i"),
                               {"pdf": bytes(pdf) + b"\n", "i": last})


@pytest.mark.parametrize("tampered", [False, True])
def test_documents_claimed_by_the_two_read_as_one(
        store: RecordStore, people: People, signing_request: SigningRequest,
        signed: StoredScreening, database_url: str, started: list[DocumentWorker],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, tampered: bool) -> None:
    _more_documents(store, people, signing_request, signed, database_url, tampered=tampered)
    here: list[int] = []
    taken: list[list[Documents] | None] = []
    parts, read = DocumentWorker.parts, integrity.read_documents

    def spy(worker: DocumentWorker, head: tuple[int, str] | None) -> list[Documents] | None:
        taken.append(parts(worker, head))
        return taken[-1]

    def counted(*args: object, **kwargs: object) -> Documents:
        documents = read(*args, **kwargs)  # type: ignore[arg-type]
        here.append(len(documents.by_id))
        return documents

    monkeypatch.setattr(DocumentWorker, "parts", spy)
    monkeypatch.setattr(integrity, "read_documents", counted)
    monkeypatch.setattr(docscan, "MIN_SHARED", 0)
    monkeypatch.setattr(docscan, "CHUNK", 1)  # a chunk a document
    report = store.verify_audit()
    assert len(started) == 1 and started[0].forked
    assert len(taken) == 1 and taken[0] is not None
    assert all(len(part.by_id) == 1 for part in taken[0])  # a chunk at a time
    assert sum(here) + len(taken[0]) == 3  # each read once, by one of the two
    assert all(count == 1 for count in here)  # a chunk at a time
    assert report.records_checked == 3 and report.rows_checked > 3
    assert report.ok is not tampered
    if tampered:
        assert len(report.row_problems) == 3 and len(report.record_problems) == 1
    assert report == _serial(store, monkeypatch)


def test_a_started_second_process_reads_the_last_chunks(
        store: RecordStore, people: People, signing_request: SigningRequest,
        signed: StoredScreening, database_url: str, started: list[DocumentWorker],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    _more_documents(store, people, signing_request, signed, database_url, tampered=True)
    taken: list[list[Documents] | None] = []
    parts = DocumentWorker.parts

    def spy(worker: DocumentWorker, head: tuple[int, str] | None) -> list[Documents] | None:
        taken.append(parts(worker, head))
        return taken[-1]

    monkeypatch.setattr(DocumentWorker, "parts", spy)
    monkeypatch.setattr(docscan, "_may_fork", lambda database: False)
    monkeypatch.setattr(docscan, "MIN_SHARED", 0)
    monkeypatch.setattr(docscan, "CHUNK", 1)
    monkeypatch.setattr(docscan, "SHARE", 0.6)  # of 3 chunks: the last 2
    report = store.verify_audit()
    assert len(started) == 1 and not started[0].forked
    assert len(taken) == 1 and taken[0] is not None
    assert sum(len(part.by_id) for part in taken[0]) == 2
    assert report == _serial(store, monkeypatch)


@pytest.mark.parametrize("fork", [True, False])
def test_without_the_second_process_its_documents_are_read_here(
        store: RecordStore, signed: StoredScreening,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, fork: bool) -> None:
    reads: list[tuple[int | None, int | None]] = []

    def counted(session: object, *, after: int | None = None, upto: int | None = None,
                row_hashes: bool = False) -> Documents:
        reads.append((after, upto))
        return read_documents(session, after=after, upto=upto,  # type: ignore[arg-type]
                              row_hashes=row_hashes)

    def failed(url: str, claim: Callable[[], object], store: int | None = None) -> bytes:
        while claim() is not None:  # claims every chunk, then fails
            pass
        raise RuntimeError("failed")

    monkeypatch.setattr(integrity, "read_documents", counted)
    if fork:
        monkeypatch.setattr(docscan, "_scanned", failed)  # in the forked process
    else:
        monkeypatch.setattr(docscan, "_may_fork", lambda database: False)
        monkeypatch.setattr(DocumentWorker, "parts", lambda worker, head: None)
    monkeypatch.setattr(docscan, "MIN_SHARED", 0)
    monkeypatch.setattr(docscan, "SHARE", 1.0)
    report = store.verify_audit()
    assert reads[-1] == (None, None)  # its chunks (here: all): everything
    assert report.ok and report.records_checked == 1
    assert report == _serial(store, monkeypatch)


def test_a_second_process_that_cannot_start_leaves_the_documents_here(
        store: RecordStore, signed: StoredScreening,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(worker: DocumentWorker, url: object, cuts: object, **_: object) -> None:
        raise FileNotFoundError("no interpreter")

    monkeypatch.setattr(DocumentWorker, "__init__", refuse)
    monkeypatch.setattr(docscan, "MIN_SHARED", 0)
    report = store.verify_audit()
    assert report.ok and report.records_checked == 1 and len(report.head_problems) == 0
    assert report == _serial(store, monkeypatch)


def test_chunks_are_claimed_once_from_both_ends() -> None:
    claims = docscan._Claims(5)
    assert [claims.first(lambda: True), claims.last(lambda: True),
            claims.last(lambda: True)] == [0, 4, 3]
    assert [claims.first(lambda: True), claims.first(lambda: True)] == [1, 2]
    assert claims.first(lambda: True) is None and claims.last(lambda: True) is None
    assert claims.second_from() == 3


def test_a_second_process_stopped_holding_the_lock_leaves_its_chunks_here() -> None:
    claims = docscan._Claims(4)
    assert claims.last(lambda: True) == 3
    claims._lock.acquire()  # as if it stopped while claiming
    assert claims.first(lambda: False) is None
    assert claims.second_from() == 0  # every chunk not read here is read here after all


def test_a_second_process_claims_nothing_once_this_one_stopped_holding_the_lock() -> None:
    claims = docscan._Claims(4)
    claims._lock.acquire()  # as if this process stopped while claiming
    assert claims.last(lambda: False) is None


def test_without_a_shared_lock_the_second_process_is_started(
        store: RecordStore, signed: StoredScreening,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(count: int) -> None:
        raise ImportError("no sem_open")

    monkeypatch.setattr(docscan, "_Claims", unavailable)
    with store.database.read() as session:
        head = seen_head(session)
        here = read_documents(session, row_hashes=True)
    worker = DocumentWorker(store.database.url, [], database=store.database)
    assert not worker.forked
    assert _joined(worker, head) == here


def test_chunk_bounds(store: RecordStore, people: People, signing_request: SigningRequest,
                      signed: StoredScreening, database_url: str,  # noqa: F811
                      monkeypatch: pytest.MonkeyPatch) -> None:
    _more_documents(store, people, signing_request, signed, database_url, tampered=False)
    with store.database.read() as session:
        ids = sorted(read_documents(session).by_screening)
        assert chunk_bounds(session) is None  # fewer than MIN_SHARED
        monkeypatch.setattr(docscan, "MIN_SHARED", 3)
        assert chunk_bounds(session) == []  # one chunk
        monkeypatch.setattr(docscan, "CHUNK", 1)
        assert chunk_bounds(session) == ids[:2]  # (.., 1st], (1st, 2nd], (2nd, ..)
        monkeypatch.setattr(docscan, "CHUNK", 2)
        assert chunk_bounds(session) == ids[1:2]


def test_a_document_row_is_read_again_only_where_its_hash_differs(
        store: RecordStore, signed: StoredScreening, database_url: str,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    again: list[list[int]] = []

    def counted(session: object, ids: list[int]) -> dict[int, dict[str, object]]:
        again.append(list(ids))
        return document_rows(session, ids)  # type: ignore[arg-type]

    monkeypatch.setattr(integrity, "document_rows", counted)
    assert store.verify_audit().ok and again == [[]]
    with raw(database_url) as connection:
        drop_protection(connection)
        connection.execute(text("UPDATE signed_documents SET size = size + 1"))
        (ident,) = connection.execute(select(SignedDocument.id)).scalars()
    report = store.verify_audit()
    assert again[1:] == [[ident]]
    assert report.row_problems[0].startswith(f"signed_documents/{ident}: edited after")
    assert report.row_problems[0].endswith("(changed: size)")
