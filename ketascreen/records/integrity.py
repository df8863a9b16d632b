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

from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from ketascreen.records.audit import AuditReport, plain_events, record_problems, verify_chain
from ketascreen.records.core import StoreCore
from ketascreen.records.docscan import Documents, DocumentWorker, read_documents, split_point
from ketascreen.records.models import (
    AuditEventRow,
    AuditHead,
    CountersignedDocument,
    ScreeningRow,
    SignedDocument,
)
from ketascreen.records.rowhash import row_problems


def verify_audit(store: StoreCore, *, records: bool = True,
                 anchor: tuple[int, str] | None = None,
                 heads: tuple[tuple[int, str, str], ...] = ()) -> AuditReport:
    """Recompute the audit chain; with ``records``, also check every signed record and
    document against the hashes recorded when it was signed, every row of the tracked
    tables against the hash the trail recorded for it, and the chain against the heads
    embedded in the stored signed checklists.

    With many signed documents in a SQLite file, a second process reads the last part of them
    while this one verifies the chain (:class:`ketascreen.records.docscan.DocumentWorker`);
    the report is the same.

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
    """The documents: those read here, and those of a second process, joined when first
    needed (then as if read here)."""

    def __init__(self, session: Session, documents: Documents, worker: DocumentWorker | None,
                 split: int | None, head: tuple[int, str] | None) -> None:
        self._session = session
        self._documents = documents
        self._worker = worker
        self._split = split
        self._head = head

    def own(self) -> Documents:
        """The documents read here so far."""
        return self._documents

    def documents(self) -> Documents:
        """Every document (waits for the second process)."""
        if self._worker is not None and self._split is not None:
            worker, self._worker = self._worker, None
            try:
                later = worker.result(self._head)
            finally:
                worker.close()
            self._documents.extend(read_documents(self._session, after=self._split)
                                   if later is None else later)
        return self._documents

    def close(self) -> None:
        """Stop the second process if it was not needed."""
        if self._worker is not None:
            self._worker.close()


def _verify(store: StoreCore, *, records: bool, anchor: tuple[int, str] | None,
            heads: tuple[tuple[int, str, str], ...]) -> AuditReport:
    signed: dict[str, dict[str, object]] = {}
    seen: set[str] = set()
    rows: dict[str, tuple[int, object]] = {}
    database = store.database
    with database.read() as session:
        head = session.get(AuditHead, 1)  # the first read: this transaction's snapshot
        split = _split(session, database.url) if records and database.is_sqlite else None
        worker = None if split is None else _started(database.url, split)
        if worker is None:
            split = None  # every document read here
        reading = _Reading(session, Documents(), worker, split,
                           None if head is None else (head.last_seq, head.last_hash))
        try:
            if records:  # this process's part, while the second process reads the rest
                reading.own().extend(read_documents(session, upto=split))
            hashes: list[str] = []
            events, close = plain_events(session)  # plain tuples, no ORM
            try:
                report = verify_chain(events, head, signed, anchor, row_hashes=rows,
                                      hashes=hashes)
            finally:
                close()
            changed_rows: tuple[str, ...] = ()
            checked_rows: set[str] = set()
            if records and report.broken_at is None:
                # the rows first: those of the tables before the documents while the second
                # process still reads (the two lists are reported apart)
                changed_rows = tuple(row_problems(
                    session, rows, checked_rows, pdf_digests=reading.documents().by_id
                    if not database.is_sqlite else None,
                    document_rows=(lambda: reading.documents().rows)
                    if database.is_sqlite else None))
            documents = reading.documents()
        finally:
            reading.close()
        wanted = [*heads, *documents.heads]
        by_seq = {seq: hashes[seq - 1] for seq, _, _ in wanted if 0 < seq <= len(hashes)}
        head_problems = tuple(_head_problems(wanted, by_seq))
        if not records or report.broken_at is not None:
            return dataclasses.replace(report, head_problems=head_problems)
        problems = (*record_problems(session, signed, seen,
                                     pdf_digests=documents.by_screening,
                                     documents=documents.stored),
                    *countersigned_problems(session))
    return dataclasses.replace(report, record_problems=problems, records_checked=len(seen),
                               row_problems=changed_rows, rows_checked=len(checked_rows),
                               head_problems=head_problems)


def _started(url: URL, split: int) -> DocumentWorker | None:
    """The second process, or ``None`` when it cannot be started (the documents are then read
    here)."""
    try:
        return DocumentWorker(url, split)
    except OSError:
        return None


def _split(session: Session, url: URL) -> int | None:
    """Where a second process takes over the documents (a SQLite file with many of them), or
    ``None``."""
    name = url.database
    if not name or name == ":memory:" or name.startswith("file:") or getattr(sys, "frozen", False):
        return None
    return split_point(session)


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
