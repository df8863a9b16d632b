"""``audit verify`` may have a second process read part of the signed documents (issue 15): it
reads what this process reads, its result is taken only when it saw the same audit head, and
otherwise (or when it fails) this process reads those documents itself: the same report."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketascreen.records import docscan, integrity
from ketascreen.records.audit import AuditReport
from ketascreen.records.docscan import Documents, DocumentWorker, read_documents, seen_head
from ketascreen.records.repository import RecordStore
from ketascreen.records.views import StoredScreening
from ketascreen.records.worklist import record_print
from ketascreen.reports.output import SigningRequest, produce_checklist
from tests.records.conftest import People
from tests.records.support import screening_of
from tests.records.test_integrity import signed  # noqa: F401 - the fixture


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A SQLite file: the second process reads SQLite files only."""
    return f"sqlite:///{tmp_path / 'records.sqlite3'}"


def _serial(store: RecordStore, monkeypatch: pytest.MonkeyPatch) -> AuditReport:
    with monkeypatch.context() as patch:
        patch.setattr(docscan, "MIN_SHARED", 10**9)
        return store.verify_audit()


def test_the_second_process_reads_what_this_one_reads(
        store: RecordStore, signed: StoredScreening) -> None:  # noqa: F811
    with store.database.read() as session:
        here = read_documents(session)
        head = seen_head(session)
    assert here.heads and here.rows and here.by_id
    worker = DocumentWorker(store.database.url, 0)
    assert worker.result(head) == here
    with store.database.read() as session:
        last = max(here.by_screening)
        assert read_documents(session, after=last) == Documents()
        assert read_documents(session, upto=last) == here


def test_a_second_process_that_saw_another_head_is_not_taken(
        store: RecordStore, signed: StoredScreening) -> None:  # noqa: F811
    assert DocumentWorker(store.database.url, 0).result((1, "0" * 64)) is None


def test_documents_split_between_the_two_read_as_one(
        store: RecordStore, people: People, signing_request: SigningRequest,
        signed: StoredScreening, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    second = screening_of({"patient.id": "MRN-3", "patient.name": "Pat Three"})
    pdf, _ = produce_checklist(second, signing=signing_request, audit_head=store.audit_head())
    store.create(people.physician, second, signed_pdf=pdf)
    record_print(store, people.nurse, signed.record_id)
    taken: list[Documents | None] = []
    result = DocumentWorker.result

    def spy(worker: DocumentWorker, head: tuple[int, str] | None) -> Documents | None:
        taken.append(result(worker, head))
        return taken[-1]

    monkeypatch.setattr(DocumentWorker, "result", spy)
    monkeypatch.setattr(docscan, "MIN_SHARED", 0)
    monkeypatch.setattr(docscan, "SHARE", 0.5)
    report = store.verify_audit()
    assert len(taken) == 1 and taken[0] is not None and len(taken[0].by_id) == 1
    assert report.ok and report.records_checked == 2
    assert len(report.head_problems) == 0
    assert report == _serial(store, monkeypatch)


def test_without_the_second_process_its_documents_are_read_here(
        store: RecordStore, signed: StoredScreening,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[tuple[int | None, int | None]] = []

    def counted(session: object, *, after: int | None = None, upto: int | None = None
                ) -> Documents:
        reads.append((after, upto))
        return read_documents(session, after=after, upto=upto)  # type: ignore[arg-type]

    monkeypatch.setattr(integrity, "read_documents", counted)
    monkeypatch.setattr(DocumentWorker, "result", lambda worker, head: None)
    monkeypatch.setattr(docscan, "MIN_SHARED", 0)
    monkeypatch.setattr(docscan, "SHARE", 1.0)
    report = store.verify_audit()
    assert reads == [(None, 0), (0, None)]
    assert report.ok and report.records_checked == 1
    assert report == _serial(store, monkeypatch)


def test_a_second_process_that_cannot_start_leaves_the_documents_here(
        store: RecordStore, signed: StoredScreening,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(worker: DocumentWorker, url: object, after: int) -> None:
        raise FileNotFoundError("no interpreter")

    monkeypatch.setattr(DocumentWorker, "__init__", refuse)
    monkeypatch.setattr(docscan, "MIN_SHARED", 0)
    report = store.verify_audit()
    assert report.ok and report.records_checked == 1 and len(report.head_problems) == 0
    assert report == _serial(store, monkeypatch)
