"""Verifying the records: the audit chain, the signed records, the rows and the embedded heads.

``ketascreen audit verify`` calls :func:`verify_audit`; it writes nothing.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from ketascreen.records.audit import AuditReport, plain_events, verify_chain
from ketascreen.records.content import content_sha256
from ketascreen.records.core import StoreCore
from ketascreen.records.db import Database
from ketascreen.records.docscan import (
    Documents,
    DocumentWorker,
    chunk_bounds,
    document_rows,
    read_documents,
)
from ketascreen.records.models import (
    AuditEventRow,
    AuditHead,
    CountersignedDocument,
    ScreeningRow,
    SignedDocument,
)
from ketascreen.records.plainrows import plain_rows
from ketascreen.records.rowhash import row_problems

__all__ = ["countersigned_problems", "signed_screenings", "verify_audit"]
"""The checks of ``audit verify``: the signed records as
:func:`ketascreen.records.audit.record_problems` checks them, which reads each document itself
(here: :func:`signed_screenings`, then the documents read once)."""

def verify_audit(store: StoreCore, *, records: bool = True,
                 anchor: tuple[int, str] | None = None,
                 heads: tuple[tuple[int, str, str], ...] = ()) -> AuditReport:
    """Recompute the audit chain; with ``records``, also check every signed record and
    document against the hashes recorded when it was signed, every row of the tracked
    tables against the hash the trail recorded for it, and the chain against the heads
    embedded in the stored signed checklists.

    With many signed documents in a SQLite file, a second process reads them from the last
    while this one verifies the chain, the signed records and the rows, then reads them from
    the first until the two meet (:class:`ketascreen.records.docscan.DocumentWorker`); the
    report is the same.

    Args:
        store: the records store.
        records: cross-check the signed records, the rows and the embedded heads (reads
            every signed document).
        anchor: an event number and its hash as noted earlier.
        heads: more heads noted earlier: ``(event number, hash, where it was noted)``,
            e.g. from a checkpoint file.
    """
    with _collector_paused():
        return _verify(store, records=records, anchor=anchor, heads=heads)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the records are read: they hold hundreds of
    thousands of small containers, which each collection would walk again (no cycles are
    made; reference counting frees what is dropped)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Reading:
    """The documents, read when first needed: here, and by a second process if one was
    started (then as if read here).

    Args:
        session: this process's reading session.
        worker: the second process, if one was started.
        head: the audit head this session sees.
        recorded: the row hashes the trail recorded (filled by the chain's check before the
            documents are read): with ``row_hashes``, each document's row is compared with
            its hash as soon as it is read.
        seen: filled with the keys of the document rows whose hash is the one recorded.
        row_hashes: hash the documents' rows (SQLite: :meth:`rows`).
    """

    def __init__(self, session: Session, worker: DocumentWorker | None,
                 head: tuple[int, str] | None, recorded: dict[str, tuple[int, object]],
                 seen: set[str], *, row_hashes: bool) -> None:
        self._session = session
        self._documents = Documents()
        self._worker = worker
        self._head = head
        self._recorded = recorded
        self._seen = seen
        self._row_hashes = row_hashes
        self._read = False
        self._again: list[int] = []

    def _add(self, documents: Documents) -> None:
        """Add documents of later screenings, their rows compared with the trail's hashes:
        those that differ (or that it does not record) are read again by :meth:`rows`."""
        recorded, seen, again = self._recorded, self._seen, self._again
        for ident, digest in documents.row_hashes.items():
            key = f"signed_documents/{ident}"
            found = recorded.get(key)
            stored = None if found is None else found[1]
            if isinstance(stored, dict) and stored.get("sha256") == digest:
                seen.add(key)
            else:
                again.append(ident)
        self._documents.extend(documents)

    def documents(self) -> Documents:
        """Every document: read here, or with a second process, chunk by chunk until the two
        meet (then waits for it)."""
        if self._read:
            return self._documents
        self._read = True
        worker, self._worker = self._worker, None
        if worker is None:
            self._add(read_documents(self._session, row_hashes=self._row_hashes))
            return self._documents
        try:
            while (chunk := worker.claim()) is not None:
                self._add(read_documents(self._session, after=chunk[0], upto=chunk[1],
                                         row_hashes=self._row_hashes))
            rest = worker.rest()
            later = worker.parts(self._head)
        finally:
            worker.close()
        if later is None and rest is not None:  # it failed: read its chunks here
            later = [read_documents(self._session, after=rest[0], upto=rest[1],
                                    row_hashes=self._row_hashes)]
        for part in later or ():
            self._add(part)
        return self._documents

    def rows(self) -> dict[int, dict[str, object]]:
        """The rows of ``signed_documents`` that :func:`row_problems` must look at: those whose
        hash differs from the one the trail last recorded for them (or that it recorded for
        none), read again; the others are checked already (in ``seen``)."""
        self.documents()
        return document_rows(self._session, self._again)

    def close(self) -> None:
        """Stop the second process if it was not needed."""
        if self._worker is not None:
            self._worker.close()


def _verify(store: StoreCore, *, records: bool, anchor: tuple[int, str] | None,
            heads: tuple[tuple[int, str, str], ...]) -> AuditReport:
    signed: dict[str, dict[str, object]] = {}
    rows: dict[str, tuple[int, object]] = {}
    database = store.database
    # a SQLite file: the second process starts before this process's snapshot (it may be
    # forked only while no connection is open); the heads tell whether both saw the same
    worker = _worker(database) if records and database.is_sqlite else None
    try:
        with database.read() as session:
            head = session.get(AuditHead, 1)  # the first read: this transaction's snapshot
            checked_rows: set[str] = set()
            reading, worker = _Reading(
                session, worker, None if head is None else (head.last_seq, head.last_hash),
                rows, checked_rows, row_hashes=database.is_sqlite), None
            try:
                hashes: list[str] = []
                events, close = plain_events(session)  # plain tuples, no ORM
                try:
                    report = verify_chain(events, head, signed, anchor, row_hashes=rows,
                                          hashes=hashes)
                finally:
                    close()
                changed_rows: tuple[str, ...] = ()
                screenings: list[_Signed] = []
                missing: list[str] = []
                countersigned: tuple[tuple[str, str], ...] = ()
                if records and report.broken_at is None:
                    # what needs no document of the second process first, while it reads
                    screenings = signed_screenings(session, signed)
                    missing = sorted(set(signed) - {item.record_id for item in screenings})
                    signed.clear()  # not needed any more: freed while the other reads
                    countersigned = tuple(countersigned_problems(session))
                    changed_rows = tuple(row_problems(
                        session, rows, checked_rows, pdf_digests=reading.documents().by_id
                        if not database.is_sqlite else None,
                        document_rows=reading.rows
                        if database.is_sqlite else None))
                documents = reading.documents() if records else Documents()
            finally:
                reading.close()
    finally:
        if worker is not None:
            worker.close()
    wanted = [*heads, *documents.heads]
    by_seq = {seq: hashes[seq - 1] for seq, _, _ in wanted if 0 < seq <= len(hashes)}
    head_problems = tuple(_head_problems(wanted, by_seq))
    if not records or report.broken_at is not None:
        return dataclasses.replace(report, head_problems=head_problems)
    seen: set[str] = set()
    problems = (*_record_problems(screenings, missing, seen, documents), *countersigned)
    return dataclasses.replace(report, record_problems=problems, records_checked=len(seen),
                               row_problems=changed_rows, rows_checked=len(checked_rows),
                               head_problems=head_problems)


@dataclass(frozen=True, slots=True)
class _Signed:
    """A signed screening as checked before its documents are known: its problems but those
    of its document (``None``: no sign or amend event names it) and the document hash its
    event recorded."""

    screening_id: int
    record_id: str
    problems: tuple[str, ...] | None
    document_sha256: object


_NO_EVENT = "signed, but no sign or amend event in the audit trail"


def signed_screenings(session: Session, signed: dict[str, dict[str, object]]
                      ) -> list[_Signed]:
    """The first half of :func:`ketascreen.records.audit.record_problems`, which needs no
    document: each signed screening (by id) checked against its ``sign`` or ``amend`` event
    (content and certificate)."""
    columns = cast("Table", ScreeningRow.__table__).c
    query = (select(columns.id, columns.record_id, columns.case_json, columns.result_json,
                    columns.content_sha256, columns.signer_certificate_sha256)
             .where(columns.status != "draft").order_by(columns.id))
    checked: list[_Signed] = []
    for (screening_id, record_id, case_json, result_json, stored_sha,
         certificate_sha) in plain_rows(session.connection(), query):
        event = signed.get(record_id)
        if event is None:
            checked.append(_Signed(screening_id, record_id, None, None))
            continue
        problems: tuple[str, ...] = ()
        if content_sha256(case_json, result_json) != stored_sha or (
                stored_sha != event.get("content_sha256")):
            problems += ("its case or result changed after it was signed",)
        if "certificate_sha256" in event and certificate_sha != event["certificate_sha256"]:
            problems += ("its signing certificate changed after it was signed",)
        checked.append(_Signed(screening_id, record_id, problems,
                               event.get("document_sha256")))
    return checked


def _record_problems(screenings: list[_Signed], missing: list[str], seen: set[str],
                     documents: Documents) -> Iterator[tuple[str, str]]:
    """:func:`ketascreen.records.audit.record_problems` from :func:`signed_screenings` and the
    documents: the same problems in the same order. ``missing``: the records signed in the
    trail that no signed screening has, in order."""
    no_document: list[tuple[int | None, str | None]] = [(None, None)]
    stored, digests = documents.stored, documents.by_screening
    for screening in screenings:
        record_id = screening.record_id
        seen.add(record_id)
        for document_id, document_sha in stored.get(screening.screening_id) or no_document:
            if screening.problems is None:
                yield record_id, _NO_EVENT
                continue
            for problem in screening.problems:
                yield record_id, problem
            pdf_sha = None if document_id is None else digests.get(screening.screening_id)
            if pdf_sha is None:
                yield record_id, "its signed document is missing"
            elif pdf_sha != document_sha or document_sha != screening.document_sha256:
                yield record_id, "its signed document changed after it was signed"
    for record_id in missing:
        yield record_id, "signed in the audit trail, but missing from the records"


def _worker(database: Database) -> DocumentWorker | None:
    """The second process reading the last documents of a SQLite file with many, or ``None``
    (too few, not a file, or it cannot be started: the documents are then read here)."""
    if not _shareable(database.url):
        return None
    with database.read() as session:
        cuts = chunk_bounds(session)
    if cuts is None:
        return None
    try:
        return DocumentWorker(database.url, cuts, database=database)
    except OSError:
        return None


def _shareable(url: URL) -> bool:
    """Whether a second process may read this SQLite database (a file of its own)."""
    name = url.database
    return bool(name) and name != ":memory:" and not cast("str", name).startswith("file:") \
        and not getattr(sys, "frozen", False)


def _head_problems(heads: list[tuple[int, str, str]], found: dict[int, str]) -> Iterator[str]:
    """Heads noted earlier that the trail no longer has at their event number."""
    for seq, digest, where in heads:
        if seq == 0:
            continue  # noted on an empty trail: nothing to compare
        now = found.get(seq) or None
        if now is None:
            yield (f"{where} names event {seq} with hash {digest}, but the trail has no event "
                   f"{seq}: the trail was cut or rewritten")
        elif now != digest.lower():
            yield (f"{where} names event {seq} with hash {digest}, but the trail now has "
                   f"{now} there: the trail was rewritten")


def countersigned_problems(session: Session) -> Iterator[tuple[str, str]]:
    """Countersigned checklists that no longer match the hash their ``countersign`` event
    recorded, or whose bytes no longer start with the physician's signed document as stored
    (a countersignature only appends), and countersign events whose document is gone.

    Yields:
        ``(record_id, problem)`` pairs.
    """
    events: dict[str, str | None] = {}
    for record_id, detail in session.execute(
            select(AuditEventRow.record_id, AuditEventRow.detail)
            .where(AuditEventRow.action == "countersign", AuditEventRow.outcome == "ok")):
        events[record_id or ""] = json.loads(detail or "{}").get("document_sha256")
    seen: set[str] = set()
    result = session.execute(
        select(ScreeningRow.record_id, CountersignedDocument.pdf, CountersignedDocument.sha256,
               SignedDocument.pdf)
        .join(ScreeningRow, ScreeningRow.id == CountersignedDocument.screening_id)
        .outerjoin(SignedDocument, SignedDocument.screening_id == ScreeningRow.id)
        .order_by(CountersignedDocument.id).execution_options(yield_per=100))
    try:
        for record_id, pdf, stored_sha, physician_pdf in result:
            seen.add(record_id)
            if record_id not in events:
                yield record_id, "countersigned, but no countersign event in the audit trail"
                continue
            if hashlib.sha256(pdf).hexdigest() != stored_sha or stored_sha != events[record_id]:
                yield record_id, "its countersigned document changed after it was countersigned"
            if physician_pdf is None or not bytes(pdf).startswith(bytes(physician_pdf)):
                yield record_id, ("its countersigned document does not start with the "
                                  "physician's signed document")
    finally:
        result.close()
    for record_id in sorted(set(events) - seen):
        yield record_id, ("countersigned in the audit trail, but the countersigned document is "
                          "missing")
