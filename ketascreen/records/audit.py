"""The audit trail: append-only events in a sha256 hash chain.

Each event carries the sha256 of the event before it (``prev_hash``) and its own ``hash``, the
sha256 of its canonical serialisation (JSON, sorted keys, no spaces, UTF-8) which includes
``prev_hash``. Events are numbered 1, 2, 3 ... by the writer, under a lock on the one
``audit_head`` row that also names the last event. So:

- an edited event no longer matches its hash, or (if its hash was recomputed) the next event's
  link;
- a deleted event leaves a gap in the numbers and a broken link (the last one: a head that names
  an event that is not there);
- an inserted event breaks a link, or is not named by the head.

What a hash chain without a secret cannot show is a rewrite of every event after the change
*and* of the head: compare the head printed by ``ketascreen audit verify`` with one noted
earlier (``--expect-head``) to rule that out. Events hold user names, actions, record ids and
hashes, never patient data.
"""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketascreen.errors import AuditChainBrokenError, StorageError
from ketascreen.records.chain import (
    GENESIS,
    Detail,
    canonical,
    event_hash,
    stored_event_hash,
    timestamp,
)
from ketascreen.records.content import content_sha256
from ketascreen.records.models import (
    AuditEventRow,
    AuditHead,
    Base,
    ScreeningRow,
    SignedDocument,
)
from ketascreen.records.plainrows import plain_rows
from ketascreen.records.rowhash import RowTracker

__all__ = [
    "GENESIS", "AuditEvent", "AuditReport", "AuditTrail", "Detail", "PlainEvent", "canonical",
    "event_hash", "plain_events", "record_problems", "timestamp", "verify_chain",
]


class EventRow(Protocol):
    """An audit event's stored columns: an :class:`AuditEventRow`, or a plain row of
    ``audit_events`` (read without the ORM, as ``audit verify`` does)."""

    @property
    def seq(self) -> int: ...
    @property
    def occurred_at(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def workstation(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def record_id(self) -> str | None: ...
    @property
    def detail(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...
    @property
    def row_hashes(self) -> str | None: ...


class PlainEvent(NamedTuple):
    """An audit event's stored columns as a plain tuple (:func:`plain_events`): an
    :class:`EventRow` whose fields are read without SQLAlchemy's row attribute lookup."""

    seq: int
    occurred_at: str
    username: str
    role: str
    workstation: str
    action: str
    outcome: str
    record_id: str | None
    detail: str
    prev_hash: str
    row_hashes: str | None
    hash: str


def plain_events(session: Session) -> tuple[Iterator[PlainEvent], Callable[[], None]]:
    """Every audit event in ``seq`` order as :class:`PlainEvent` (streamed), and the call
    that closes the cursor (a server-side cursor on PostgreSQL, maybe not read to the end)."""
    columns = AuditEventRow.__table__.c
    statement = select(*(columns[name] for name in PlainEvent._fields)).order_by(columns.seq)
    connection = session.connection()
    if connection.dialect.name == "sqlite":  # straight from the cursor (the same values)
        rows = plain_rows(connection, statement, batch=1000)
        return map(PlainEvent._make, rows), rows.close
    result = connection.execute(statement.execution_options(yield_per=1000))
    return map(PlainEvent._make, result), result.close


def _row_hash(row: EventRow) -> str:
    return event_hash(seq=row.seq, occurred_at=row.occurred_at, username=row.username,
                      role=row.role, workstation=row.workstation, action=row.action,
                      outcome=row.outcome, record_id=row.record_id, detail=row.detail,
                      prev_hash=row.prev_hash, row_hashes=row.row_hashes)


@dataclass(frozen=True)
class AuditEvent:
    """One audit event as stored.

    Attributes:
        seq: its number in the trail.
        occurred_at: when (ISO 8601 UTC text).
        username: who.
        role: their role ("" when unknown).
        workstation: on which computer.
        action: what, e.g. ``create``, ``sign``, ``print``, ``login``.
        outcome: ``ok`` or ``refused``.
        record_id: the record, if any.
        detail: extra facts (hashes, counts, the reason of a refusal), never patient data.
        hash: this event's hash.
    """

    seq: int
    occurred_at: str
    username: str
    role: str
    workstation: str
    action: str
    outcome: str
    record_id: str | None
    detail: dict[str, object]
    hash: str

    @classmethod
    def from_row(cls, row: AuditEventRow) -> AuditEvent:
        """The event of a table row."""
        return cls(seq=row.seq, occurred_at=row.occurred_at, username=row.username,
                   role=row.role, workstation=row.workstation, action=row.action,
                   outcome=row.outcome, record_id=row.record_id,
                   detail=json.loads(row.detail), hash=row.hash)


class AuditTrail:
    """Appends events inside one write transaction, holding the lock on the trail's head.

    Create it first in every write transaction: on PostgreSQL ``SELECT ... FOR UPDATE`` on the
    head row makes writers queue (on SQLite, ``BEGIN IMMEDIATE`` already has).

    Args:
        session: a session in a write transaction.
        clock: the current time (default: now).

    Raises:
        StorageError: the head row is missing (run ``ketascreen audit verify``).
    """

    def __init__(self, session: Session, *, clock: Callable[[], datetime] | None = None
                 ) -> None:
        self._session = session
        self._clock = clock
        head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()
                               ).scalar_one_or_none()
        if head is None:
            raise StorageError("audit trail", "its head record is missing: the trail was "
                               "tampered with; run `ketascreen audit verify`")
        self._head = head
        self._workstation = socket.gethostname()[:255]
        self._rows = RowTracker(session)

    @property
    def head(self) -> tuple[int, str]:
        """The number and hash of the last event so far."""
        return self._head.last_seq, self._head.last_hash

    def track_rows(self, model: type[Base], keys: list[object], column: str | None = None
                   ) -> None:
        """Record the hashes of rows written with Core statements (e.g. a bulk ``insert()``)
        in the next event, like the rows changed through the ORM; ``column`` (default: the
        primary key) selects them by ``keys``."""
        self._rows.track(model, keys, column)

    def finish(self) -> None:
        """End the transaction's trail: rows changed after its last event get an event of their
        own (``rows``), so no change of a tracked row is outside the chain."""
        try:
            if self._rows.pending:
                self.append(username="(ketascreen)", role="", action="rows")
        finally:
            self._rows.close()

    def append(self, *, username: str, role: str, action: str, outcome: str = "ok",
               record_id: str | None = None, detail: Detail | None = None,
               at: datetime | None = None) -> int:
        """Add one event after the last; returns its number.

        Args:
            username: who acted (or tried to).
            role: their role, or "" when unknown.
            action: what, e.g. ``sign``.
            outcome: ``ok`` or ``refused``.
            record_id: the record concerned, if any.
            detail: extra facts; never patient data.
            at: when (default: now).
        """
        row_hashes = self._rows.take()
        seq = self._head.last_seq + 1
        occurred_at = timestamp(at or (self._clock() if self._clock else None))
        detail_text = canonical(dict(detail or {})).decode("utf-8")
        digest = event_hash(seq=seq, occurred_at=occurred_at, username=username, role=role,
                            workstation=self._workstation, action=action, outcome=outcome,
                            record_id=record_id, detail=detail_text,
                            prev_hash=self._head.last_hash, row_hashes=row_hashes)
        self._session.add(AuditEventRow(
            seq=seq, occurred_at=occurred_at, username=username, role=role,
            workstation=self._workstation, action=action, outcome=outcome, record_id=record_id,
            detail=detail_text, prev_hash=self._head.last_hash, hash=digest,
            row_hashes=row_hashes))
        self._head.last_seq = seq
        self._head.last_hash = digest
        return seq


@dataclass(frozen=True)
class AuditReport:
    """What ``ketascreen audit verify`` found.

    Attributes:
        events: how many events were checked.
        head_hash: the hash of the last event (compare it with one noted earlier).
        broken_at: the number of the first event that does not verify, or ``None``.
        reason: what is wrong there.
        record_problems: signed records whose stored content or document no longer matches
            the hashes recorded in the trail when they were signed (``(record_id, problem)``).
        anchor_problem: set when an expected head (``--expect-head``) is not in the trail.
        records_checked: how many signed records were cross-checked (0 when not asked).
        row_problems: rows of the tracked tables edited, inserted or deleted outside
            ketascreen (each message names the row and what changed).
        rows_checked: how many rows were compared with the hashes the trail recorded.
        head_problems: heads embedded in stored signed checklists (or a checkpoint) that the
            trail no longer has at their event number: the trail was rewritten.
    """

    events: int
    head_hash: str
    broken_at: int | None = None
    reason: str | None = None
    record_problems: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    anchor_problem: str | None = None
    records_checked: int = 0
    row_problems: tuple[str, ...] = field(default_factory=tuple)
    rows_checked: int = 0
    head_problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """The chain, the head, the anchor, every signed record and every row verify."""
        return (self.broken_at is None and not self.record_problems and not self.anchor_problem
                and not self.row_problems and not self.head_problems)

    def raise_if_broken(self) -> None:
        """Raise when the chain itself is broken.

        Raises:
            AuditChainBrokenError: naming the first event that does not verify.
        """
        if self.broken_at is not None:
            raise AuditChainBrokenError(self.broken_at, self.reason or "does not verify")


def verify_chain(rows: Iterable[EventRow], head: AuditHead | None,
                 signed_hashes: dict[str, dict[str, object]] | None = None,
                 anchor: tuple[int, str] | None = None, *,
                 row_hashes: dict[str, tuple[int, object]] | None = None,
                 hashes_by_seq: dict[int, str] | None = None,
                 hashes: list[str] | None = None) -> AuditReport:
    """Recompute the chain over ``rows`` (in ``seq`` order) and compare the end with ``head``.

    Args:
        rows: every audit event, ordered by ``seq`` (ORM rows or plain rows of the table).
        head: the head row (``None`` if it was deleted).
        signed_hashes: filled with the detail of each successful ``sign`` and ``amend`` event
            by record id, for the record cross-check.
        anchor: an event number and the hash it had when noted earlier; a rewritten trail no
            longer has that hash there.
        row_hashes: filled, by row key, with the last event that recorded each tracked row and
            what it recorded (for :func:`ketascreen.records.rowhash.row_problems`).
        hashes_by_seq: with keys set to the event numbers wanted, filled with their hashes.
        hashes: filled with the hash of every event verified, in order (event ``n`` at
            ``n - 1``).

    Returns:
        The report; ``broken_at`` names the first event that does not verify.
    """
    previous_hash = GENESIS
    previous_seq = 0
    count = 0
    found_anchor: str | None = None

    def broken(seq: int, reason: str) -> AuditReport:
        return AuditReport(events=count, head_hash=previous_hash, broken_at=seq, reason=reason)

    anchor_seq = None if anchor is None else anchor[0]
    loads = json.loads
    for row in rows:
        count += 1
        seq = row.seq
        if seq != previous_seq + 1:
            expected = previous_seq + 1
            if seq > expected:
                gap = (f"event {expected} is missing" if seq == expected + 1
                       else f"events {expected} to {seq - 1} are missing")
                return broken(expected, f"{gap} (deleted): the trail jumps from event "
                              f"{previous_seq} to event {seq}")
            return broken(seq, f"unexpected event number (expected {expected}): inserted")
        if row.prev_hash != previous_hash:
            where = "the start of the trail" if seq == 1 else f"event {previous_seq}"
            return broken(seq, f"its link to {where} does not match (an event before it "
                          "was edited, deleted or inserted)")
        digest = row.hash
        if (stored_event_hash(*row) if type(row) is PlainEvent else _row_hash(row)) != digest:
            return broken(seq, "its content does not match its hash (edited)")
        if signed_hashes is not None and row.outcome == "ok" and row.record_id and (
                row.action in ("sign", "amend")):
            signed_hashes[row.record_id] = loads(row.detail)
        if row_hashes is not None and (recorded := row.row_hashes) is not None:
            for key, value in loads(recorded).items():
                row_hashes[key] = (seq, value)
        if hashes_by_seq is not None and seq in hashes_by_seq:
            hashes_by_seq[seq] = digest
        if hashes is not None:
            hashes.append(digest)
        if seq == anchor_seq:
            found_anchor = digest
        previous_hash, previous_seq = digest, seq
    anchor_problem = None
    if anchor is not None and found_anchor != anchor[1].lower():
        anchor_problem = (f"event {anchor[0]} is not in the trail" if found_anchor is None else
                          f"event {anchor[0]} now has hash {found_anchor}, not the {anchor[1]} "
                          "noted earlier: the trail was rewritten")
    if head is None:
        return broken(previous_seq + 1, "the trail's head record is missing (deleted)")
    if head.last_seq > previous_seq:
        return broken(previous_seq + 1,
                      f"the trail ends at event {previous_seq} but {head.last_seq} events were "
                      f"written: event {previous_seq + 1} and after were deleted")
    if head.last_seq < previous_seq:
        return broken(head.last_seq + 1,
                      f"event {head.last_seq + 1} and after were added outside ketascreen "
                      f"(the head names event {head.last_seq} as the last): inserted")
    if head.last_hash != previous_hash:
        return broken(previous_seq, "the last event does not match the trail's head (edited or "
                      "replaced)")
    return AuditReport(events=count, head_hash=previous_hash, anchor_problem=anchor_problem)


def record_problems(session: Session, signed: dict[str, dict[str, object]],
                    seen: set[str]) -> Iterator[tuple[str, str]]:
    """Signed records whose content or document no longer matches the hashes their ``sign`` or
    ``amend`` event recorded, and signed events whose record is gone.

    Args:
        session: a reading session.
        signed: the detail of each sign and amend event by record id (from
            :func:`verify_chain`).
        seen: filled with the record id of every signed record checked.

    Yields:
        ``(record_id, problem)`` pairs.
    """
    query = (select(ScreeningRow.record_id, ScreeningRow.case_json,
                    ScreeningRow.result_json, ScreeningRow.content_sha256,
                    SignedDocument.sha256, SignedDocument.id,
                    ScreeningRow.signer_certificate_sha256)
             .outerjoin(SignedDocument, SignedDocument.screening_id == ScreeningRow.id)
             .where(ScreeningRow.status != "draft").order_by(ScreeningRow.id)
             .execution_options(yield_per=500))
    result = session.connection().execute(query)  # streamed, plain rows; PDFs one by one
    try:
        for (record_id, case_json, result_json, stored_sha, document_sha,
             document_id, certificate_sha) in result:
            seen.add(record_id)
            event = signed.get(record_id)
            if event is None:
                yield record_id, "signed, but no sign or amend event in the audit trail"
                continue
            if content_sha256(case_json, result_json) != stored_sha or (
                    stored_sha != event.get("content_sha256")):
                yield record_id, "its case or result changed after it was signed"
            if "certificate_sha256" in event and certificate_sha != event["certificate_sha256"]:
                yield record_id, "its signing certificate changed after it was signed"
            if cast("int | None", document_id) is None:  # no document (an outer join)
                pdf_sha = None
            else:
                pdf = session.execute(select(SignedDocument.pdf).where(
                    SignedDocument.id == document_id)).scalar_one()
                pdf_sha = None if cast("bytes | None", pdf) is None else \
                    hashlib.sha256(pdf).hexdigest()
            if pdf_sha is None:
                yield record_id, "its signed document is missing"
            elif pdf_sha != document_sha or document_sha != event.get("document_sha256"):
                yield record_id, "its signed document changed after it was signed"
    finally:
        result.close()
    for record_id in sorted(set(signed) - seen):
        yield record_id, "signed in the audit trail, but missing from the records"
