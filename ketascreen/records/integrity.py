"""Verifying the records: the audit chain, the signed records, the rows and the embedded heads.

``ketascreen audit verify`` calls :func:`verify_audit`; it writes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketascreen.records.audit import AuditReport, record_problems, verify_chain
from ketascreen.records.core import StoreCore
from ketascreen.records.headscan import embedded_head
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

    Args:
        store: the records store.
        records: cross-check the signed records, the rows and the embedded heads (reads
            every signed document).
        anchor: an event number and its hash as noted earlier.
        heads: more heads noted earlier: ``(event number, hash, where it was noted)``,
            e.g. from a checkpoint file.
    """
    signed: dict[str, dict[str, object]] = {}
    seen: set[str] = set()
    rows: dict[str, tuple[int, object]] = {}
    with store.database.read() as session:
        documents = _read_documents(session) if records else _Documents()
        wanted = [*heads, *documents.heads]
        by_seq: dict[int, str] = {seq: "" for seq, _, _ in wanted}
        head = session.get(AuditHead, 1)
        table = AuditEventRow.__table__
        result = session.connection().execute(  # plain rows, no ORM
            select(table).order_by(table.c.seq).execution_options(yield_per=1000))
        try:
            report = verify_chain(result, head, signed, anchor, row_hashes=rows,
                                  hashes_by_seq=by_seq)
        finally:
            result.close()  # a server-side cursor on PostgreSQL, maybe not read to the end
        head_problems = tuple(_head_problems(wanted, by_seq))
        if not records or report.broken_at is not None:
            return dataclasses.replace(report, head_problems=head_problems)
        problems = (*record_problems(session, signed, seen,
                                     pdf_digests=documents.by_screening),
                    *countersigned_problems(session))
        checked_rows: set[str] = set()
        changed_rows = tuple(row_problems(session, rows, checked_rows,
                                          pdf_digests=documents.by_id))
    return dataclasses.replace(report, record_problems=problems, records_checked=len(seen),
                               row_problems=changed_rows, rows_checked=len(checked_rows),
                               head_problems=head_problems)


@dataclass
class _Documents:
    """What one read of the signed documents gives: each PDF's sha256 (by the document's id
    and by its screening's id) and the audit heads they embed ``(seq, hash, where)``, in the
    order of their screenings."""

    by_id: dict[int, str | None] = field(default_factory=dict)
    by_screening: dict[int, str | None] = field(default_factory=dict)
    heads: list[tuple[int, str, str]] = field(default_factory=list)


def _read_documents(session: Session) -> _Documents:
    """Read every signed document once: hash its PDF and read the head it embeds."""
    found = _Documents()
    connection = session.connection()  # plain rows, no ORM
    screenings = ScreeningRow.__table__.c
    record_ids = dict(connection.execute(select(screenings.id, screenings.record_id)).all())
    documents = SignedDocument.__table__.c
    # in the order of their screenings, along the unique index (no sort of the PDFs)
    result = connection.execute(
        select(documents.id, documents.screening_id, documents.pdf)
        .order_by(documents.screening_id, documents.id).execution_options(yield_per=100))
    try:
        for document_id, screening_id, pdf in result:
            record_id = record_ids.get(screening_id)
            data = None if cast("bytes | None", pdf) is None else bytes(pdf)
            digest = None if data is None else hashlib.sha256(data).hexdigest()
            found.by_id[document_id] = digest
            found.by_screening[screening_id] = digest
            if cast("str | None", record_id) is None or data is None:
                continue  # no screening (no record to name) or no PDF: no head, as before
            embedded = embedded_head(data)
            if embedded is not None:
                found.heads.append((embedded[0], embedded[1],
                                    f"the signed checklist {record_id}"))
    finally:
        result.close()
    return found


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
