"""The signed documents as ``audit verify`` reads them: each PDF once, for its sha256, the audit
head it embeds and its row, in one pass (:func:`read_documents`).

With many documents in a SQLite file, part of them is read by a second process
(:class:`DocumentWorker`, ``python -m ketascreen.records.docscan``) while this one verifies the
chain: the machine's second core hashes and scans them. It reads in a transaction of its own and
reports the audit head it saw there; every ketascreen write appends an event and moves the head
in the same transaction, so when the heads agree both read the same records. When they do not
(a write in between), or the second process fails, this process reads those documents itself:
the report is the same either way.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, cast

from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from ketascreen.records.headscan import embedded_head
from ketascreen.records.models import AuditHead, ScreeningRow, SignedDocument

__all__ = ["MIN_SHARED", "DocumentWorker", "Documents", "read_documents", "seen_head"]

MIN_SHARED: Final = 4000
"""Documents below which a second process is not worth its start (about 0.5 s)."""
SHARE: Final = 0.7
"""The part of the documents (the last by screening) the second process reads: this one
verifies the chain and the rows of the tables before the documents meanwhile."""


@dataclass
class Documents:
    """What one read of the signed documents gives.

    Attributes:
        by_id: each PDF's sha256 (hex) by the document's id (``None``: no PDF).
        by_screening: the same by the document's screening id.
        heads: the audit heads the documents embed ``(seq, hash, where)``, in the order of
            their screenings.
        rows: each document's row by id, with ``sha256:<hex>`` of its PDF for the PDF (as the
            row hash takes it).
        stored: by screening id, its documents ``(id, sha256 column)``.
    """

    by_id: dict[int, str | None] = field(default_factory=dict)
    by_screening: dict[int, str | None] = field(default_factory=dict)
    heads: list[tuple[int, str, str]] = field(default_factory=list)
    rows: dict[int, dict[str, object]] = field(default_factory=dict)
    stored: dict[int, list[tuple[int, str]]] = field(default_factory=dict)

    def extend(self, other: Documents) -> None:
        """Add the documents of a later range of screenings."""
        self.by_id.update(other.by_id)
        self.by_screening.update(other.by_screening)
        self.heads += other.heads
        self.rows.update(other.rows)
        for screening_id, stored in other.stored.items():
            self.stored.setdefault(screening_id, []).extend(stored)


def read_documents(session: Session, *, after: int | None = None, upto: int | None = None
                   ) -> Documents:
    """Read every signed document (of the screenings with ``after < id <= upto``) once: hash
    its PDF, read the head it embeds and keep its row."""
    found = Documents()
    connection = session.connection()  # plain rows, no ORM
    screenings = ScreeningRow.__table__.c
    names = select(screenings.id, screenings.record_id)
    table = SignedDocument.__table__
    documents = table.c
    query = select(*table.columns)
    if after is not None:
        names = names.where(screenings.id > after)
        query = query.where(documents.screening_id > after)
    if upto is not None:
        names = names.where(screenings.id <= upto)
        query = query.where(documents.screening_id <= upto)
    record_ids = dict(connection.execute(names).all())
    # in the order of their screenings, along the unique index (no sort of the PDFs)
    result = connection.execute(query.order_by(documents.screening_id, documents.id)
                                .execution_options(yield_per=100))
    try:
        for row in result.mappings():
            values = dict(row)
            document_id, screening_id = values["id"], values["screening_id"]
            pdf = cast("bytes | None", values["pdf"])
            data = None if pdf is None else bytes(pdf)
            digest = None if data is None else hashlib.sha256(data).hexdigest()
            values["pdf"] = None if digest is None else "sha256:" + digest
            found.by_id[document_id] = digest
            found.by_screening[screening_id] = digest
            found.rows[document_id] = values
            found.stored.setdefault(screening_id, []).append(
                (document_id, cast("str", values["sha256"])))
            record_id = record_ids.get(screening_id)
            if cast("str | None", record_id) is None or data is None:
                continue  # no screening (no record to name) or no PDF: no head, as before
            embedded = embedded_head(data)
            if embedded is not None:
                found.heads.append((embedded[0], embedded[1],
                                    f"the signed checklist {record_id}"))
    finally:
        result.close()
    return found


def seen_head(session: Session) -> tuple[int, str] | None:
    """The audit head this transaction sees (``None``: no head row)."""
    head = session.get(AuditHead, 1)
    return None if head is None else (head.last_seq, head.last_hash)


class DocumentWorker:
    """The documents of the last screenings, read by a second process.

    Args:
        url: the SQLite database.
        after: it reads the documents of the screenings with a greater id.
    """

    def __init__(self, url: URL, after: int) -> None:
        self.after = after
        package = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [package, *filter(None, [os.environ.get("PYTHONPATH")])])}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ketascreen.records.docscan",
             url.render_as_string(hide_password=False), str(after)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env)

    def result(self, head: tuple[int, str] | None) -> Documents | None:
        """Its documents, or ``None`` when it failed or saw another audit head than ``head``
        (read them here then)."""
        try:
            out, _ = self._process.communicate()
        finally:
            self.close()
        if self._process.returncode != 0:
            return None
        try:
            seen, documents = pickle.loads(out)
        except Exception:  # noqa: BLE001 - a broken output: read them here
            return None
        if seen != head or not isinstance(documents, Documents):
            return None
        return documents

    def close(self) -> None:
        """Stop it if it still runs."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


def split_point(session: Session) -> int | None:
    """The last screening id whose documents this process reads (the second process reads the
    rest, :data:`SHARE` of them), or ``None`` when there are too few documents to share."""
    documents = SignedDocument.__table__.c
    count = session.execute(select(func.count()).select_from(SignedDocument.__table__)
                            ).scalar_one()
    if count < max(1, MIN_SHARED):
        return None
    here = int(count * (1 - SHARE))
    if here <= 0:
        return 0  # screening ids start at 1: the second process reads them all
    split = session.execute(select(documents.screening_id).order_by(documents.screening_id)
                            .offset(here - 1).limit(1)).scalar()
    return None if split is None else int(split)


def _main(argv: list[str]) -> int:
    """``python -m ketascreen.records.docscan URL AFTER``: the pickled ``(head, Documents)``
    of the screenings after ``AFTER`` on stdout."""
    from ketascreen.records.db import Database  # noqa: PLC0415

    url, after = argv
    gc.disable()  # many small containers, no cycles: as in the first process
    database = Database(url, migrate=False)
    try:
        with database.read() as session:
            head = seen_head(session)
            documents = read_documents(session, after=int(after))
    finally:
        database.dispose()
    sys.stdout.buffer.write(pickle.dumps((head, documents), protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    from ketascreen.records import docscan  # noqa: PLW0406 - pickled under its own name

    sys.exit(docscan._main(sys.argv[1:]))
