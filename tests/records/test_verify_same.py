"""``audit verify`` reads the trail and the tracked rows as plain rows and each signed PDF once
(issue 15); these tests show it reports what the ORM-based reading reported, row by row and
problem by problem, on an intact database and after each edit of ``test_integrity.EDITS``, a
deleted document and a changed PDF (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from ketascreen.records import docscan
from ketascreen.records.audit import AuditReport, record_problems, verify_chain
from ketascreen.records.documents import embedded_head
from ketascreen.records.integrity import _head_problems, countersigned_problems
from ketascreen.records.models import AuditEventRow, AuditHead, ScreeningRow, SignedDocument
from ketascreen.records.repository import RecordStore
from ketascreen.records.rowhash import current_rows, label, table_row_hashes
from ketascreen.records.views import StoredScreening
from tests.records.rawsql import drop_protection, raw
from tests.records.test_integrity import EDITS, signed  # noqa: F401 - the fixture

OTHER = {
    "deleted document": "DELETE FROM signed_documents",
    "changed pdf": "UPDATE signed_documents SET pdf = :pdf",
    "document hash": "UPDATE signed_documents SET sha256 = upper(sha256)",
    "inserted document": "INSERT INTO signed_documents (screening_id, pdf, sha256, size, "
                         "created_at) SELECT (SELECT id FROM screenings WHERE status = 'draft'), "
                         ":pdf, sha256, size, created_at FROM signed_documents",
}


@pytest.fixture(autouse=True, params=["serial", "second process"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[str]:
    """``audit verify`` reading every document here, or (SQLite) all of them in a second
    process (:mod:`ketascreen.records.docscan`), whose result is taken."""
    taken: list[object] = []
    if request.param == "second process":
        monkeypatch.setattr(docscan, "MIN_SHARED", 0)
        monkeypatch.setattr(docscan, "SHARE", 1.0)
        parts = docscan.DocumentWorker.parts

        def spy(worker: docscan.DocumentWorker, head: tuple[int, str] | None
                ) -> list[docscan.Documents] | None:
            taken.append(parts(worker, head))
            return taken[-1]  # type: ignore[return-value]

        monkeypatch.setattr(docscan.DocumentWorker, "parts", spy)
    else:
        monkeypatch.setattr(docscan, "MIN_SHARED", 10**9)
    yield str(request.param)
    assert None not in taken


def _reference(store: RecordStore) -> AuditReport:
    """``verify_audit`` as it was before issue 15: ORM rows, every PDF read by pyHanko."""
    signed_events: dict[str, dict[str, object]] = {}
    seen: set[str] = set()
    rows: dict[str, tuple[int, object]] = {}
    with store.database.read() as session:
        wanted = []
        for record_id, pdf in session.execute(
                select(ScreeningRow.record_id, SignedDocument.pdf)
                .join(SignedDocument, SignedDocument.screening_id == ScreeningRow.id)
                .order_by(ScreeningRow.id)):
            head = embedded_head(bytes(pdf))
            if head is not None:
                wanted.append((head[0], head[1], f"the signed checklist {record_id}"))
        by_seq: dict[int, str] = {seq: "" for seq, _, _ in wanted}
        report = verify_chain(session.scalars(select(AuditEventRow).order_by(
            AuditEventRow.seq)).all(), session.get(AuditHead, 1), signed_events,
            row_hashes=rows, hashes_by_seq=by_seq)
        heads = tuple(_head_problems(wanted, by_seq))
        if report.broken_at is not None:
            return dataclasses.replace(report, head_problems=heads)
        problems = (*record_problems(session, signed_events, seen),
                    *countersigned_problems(session))
        checked: set[str] = set()
        changed: list[str] = []
        for key, obj, digest in current_rows(session):
            checked.add(key)
            found = rows.get(key)
            if found is None:
                changed.append(f"{label(obj)}: inserted outside ketascreen (no audit event "
                               "records this row)")
                continue
            seq, stored = found
            if stored is None:
                changed.append(f"{label(obj)}: inserted outside ketascreen after its "
                               f"deletion in event #{seq}")
            elif not isinstance(stored, dict) or stored.get("sha256") != digest.sha256:
                changed.append(f"{label(obj)}: edited after its event #{seq} (changed: "
                               f"{', '.join(digest.changed_columns(stored))})")
        changed += [f"{key}: deleted outside ketascreen (recorded by event #{rows[key][0]})"
                    for key in sorted(set(rows) - checked) if rows[key][1] is not None]
    return dataclasses.replace(report, record_problems=problems, records_checked=len(seen),
                               row_problems=tuple(changed), rows_checked=len(checked),
                               head_problems=heads)


def test_plain_rows_hash_as_orm_rows(store: RecordStore, signed: StoredScreening  # noqa: F811
                                     ) -> None:
    with store.database.read() as session:
        orm = [(key, label(obj), digest) for key, obj, digest in current_rows(session)]
        digests = {ident: hashlib.sha256(pdf).hexdigest() for ident, pdf in session.execute(
            select(SignedDocument.id, SignedDocument.pdf))}
        assert digests
        assert list(table_row_hashes(session)) == orm
        assert list(table_row_hashes(session, digests)) == orm
        assert list(table_row_hashes(session, {})) == orm  # none known: each PDF read


def test_intact_database_reports_the_same(store: RecordStore,
                                          signed: StoredScreening) -> None:  # noqa: F811
    report = store.verify_audit()
    assert report.ok and report.head_problems == () and report.records_checked == 1
    assert report == _reference(store)


@pytest.mark.parametrize("attack", sorted([*EDITS, *OTHER]))
def test_each_attack_reports_the_same(store: RecordStore, signed: StoredScreening,  # noqa: F811
                                      database_url: str, attack: str) -> None:
    statement = EDITS[attack][0] if attack in EDITS else OTHER[attack]
    with raw(database_url) as connection:
        drop_protection(connection)
        pdf = connection.execute(text("SELECT pdf FROM signed_documents")).scalar_one()
        assert connection.execute(text(statement), {"pdf": bytes(pdf) + b"\n"}
                                  ).rowcount == 1
    report = store.verify_audit()
    assert not report.ok
    assert report == _reference(store)
