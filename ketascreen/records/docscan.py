"""The signed documents as ``audit verify`` reads them: each PDF once, for its sha256, the audit
head it embeds and the hash of its row, in one pass (:func:`read_documents`).

With many documents in a SQLite file, part of them is read by a second process
(:class:`DocumentWorker`) while this one verifies the chain, the signed records and the rows:
the machine's second core hashes and scans them. The documents are cut into chunks
(:func:`chunk_bounds`); the second process claims them from the last while this one, its other
checks done, claims them from the first, until the two meet. It reads in a transaction of its
own and reports the audit head it saw there;
every ketascreen write appends an event and moves the head in the same transaction, so when the
heads agree both read the same records. When they do not (a write in between), or the second
process fails, this process reads those documents itself: the report is the same either way.

The second process is forked from this one when this one runs a single thread on Linux and has
no connection to the database open (it then opens its own: a SQLite connection must not cross a
fork), else started as ``python -m ketascreen.records.docscan``.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn, cast

from sqlalchemy import Connection, Select, Table, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from ketascreen.records.headscan import embedded_head
from ketascreen.records.models import AuditHead, ScreeningRow, SignedDocument
from ketascreen.records.plainrows import cursor_rows, plain_rows
from ketascreen.records.rowhash import plain_order, row_sha256, stored_row_sha256

if TYPE_CHECKING:
    from ketascreen.records.db import Database

__all__ = ["CHUNK", "MIN_SHARED", "DocumentWorker", "Documents", "chunk_bounds",
           "document_rows", "read_documents", "seen_head"]

MIN_SHARED: Final = 4000
"""Documents below which a second process is not worth its start."""
CHUNK: Final = 200
"""Documents in a chunk, the part of the documents a process claims at a time."""
SHARE: Final = 0.7
"""The part of the chunks (the last) a second process started as ``python -m`` reads (a
forked one claims chunks as it goes): this one verifies the chain, the signed records and the
rows meanwhile."""

_TABLE: Final = cast("Table", SignedDocument.__table__)
_NAMES: Final = tuple(column.name for column in _TABLE.columns)
_ORDER: Final = plain_order(_NAMES)
_ID, _SCREENING, _PDF, _SHA = (_NAMES.index(name) for name in ("id", "screening_id", "pdf",
                                                                "sha256"))
_BATCH: Final = 50
"""Documents fetched at a time (each about 70 KB)."""


@dataclass
class Documents:
    """What one read of the signed documents gives.

    Attributes:
        by_id: each PDF's sha256 (hex) by the document's id (``None``: no PDF).
        by_screening: the same by the document's screening id.
        heads: the audit heads the documents embed ``(seq, hash, where)``, in the order of
            their screenings.
        row_hashes: when asked for, each document's row hash
            (:func:`ketascreen.records.rowhash.row_sha256`, with ``sha256:<hex>`` of its PDF
            for the PDF) by id; :func:`document_rows` reads a row's values again.
        stored: by screening id, its documents ``(id, sha256 column)``.
    """

    by_id: dict[int, str | None] = field(default_factory=dict)
    by_screening: dict[int, str | None] = field(default_factory=dict)
    heads: list[tuple[int, str, str]] = field(default_factory=list)
    row_hashes: dict[int, str] = field(default_factory=dict)
    stored: dict[int, list[tuple[int, str]]] = field(default_factory=dict)

    def extend(self, other: Documents) -> None:
        """Add the documents of a later range of screenings (``other``'s lists are taken,
        not copied)."""
        self.by_id.update(other.by_id)
        self.by_screening.update(other.by_screening)
        self.heads += other.heads
        self.row_hashes.update(other.row_hashes)
        if self.stored.keys().isdisjoint(other.stored):  # screenings apart (chunks): at once
            self.stored.update(other.stored)
            return
        for screening_id, stored in other.stored.items():
            self.stored.setdefault(screening_id, []).extend(stored)


def _values(row: tuple[Any, ...]) -> tuple[dict[str, object], bytes | None, str | None]:
    """A document's row as the row hash takes it (``sha256:<hex>`` for the PDF), its PDF and
    the PDF's sha256 (hex)."""
    values = dict(zip(_NAMES, row, strict=True))
    pdf = values["pdf"]
    if pdf is None:
        return values, None, None
    data = pdf if type(pdf) is bytes else bytes(cast("bytes", pdf))
    digest = hashlib.sha256(data).hexdigest()
    values["pdf"] = "sha256:" + digest
    return values, data, digest


def read_documents(session: Session, *, after: int | None = None, upto: int | None = None,
                   row_hashes: bool = False) -> Documents:
    """Read every signed document (of the screenings with ``after < id <= upto``) once: hash
    its PDF, read the head it embeds and, with ``row_hashes``, hash its row."""
    found = Documents()
    connection = session.connection()  # plain rows, no ORM
    screenings = ScreeningRow.__table__.c
    names = select(screenings.id, screenings.record_id)
    documents = _TABLE.c
    query = select(*_TABLE.columns)
    if after is not None:
        names = names.where(screenings.id > after)
        query = query.where(documents.screening_id > after)
    if upto is not None:
        names = names.where(screenings.id <= upto)
        query = query.where(documents.screening_id <= upto)
    record_ids: dict[int, str | None] = dict(plain_rows(connection, names))
    hashed = found.row_hashes
    # in the order of their screenings, along the unique index (no sort of the PDFs)
    for document_id, screening_id, data, digest, stored_sha, row_hash in _rows(
            connection, query.order_by(documents.screening_id, documents.id),
            row_hashes=row_hashes):
        found.by_id[document_id] = digest
        found.by_screening[screening_id] = digest
        found.stored.setdefault(screening_id, []).append((document_id, stored_sha))
        if row_hash is not None:
            hashed[document_id] = row_hash
        record_id = record_ids.get(screening_id)
        if record_id is None or data is None:
            continue  # no screening (no record to name) or no PDF: no head, as before
        embedded = embedded_head(data)
        if embedded is not None:
            found.heads.append((embedded[0], embedded[1], f"the signed checklist {record_id}"))
    return found


_Document = tuple[int, int, bytes | None, str | None, str, str | None]
"""A document as read: id, screening id, PDF, the PDF's sha256 (hex), the sha256 column and
the row's hash (when asked for)."""


def _rows(connection: Connection, query: Select[Any], *, row_hashes: bool
          ) -> Iterator[_Document]:
    """The documents of ``query`` (every column of the table, in its order); with
    ``row_hashes`` on SQLite, each row hashed from its values as stored
    (:func:`ketascreen.records.rowhash.stored_row_sha256`, the PDF given as its sha256)."""
    cursor = cursor_rows(connection, query, batch=_BATCH) if row_hashes else None
    if cursor is None:  # converted values
        for row in plain_rows(connection, query, batch=_BATCH):
            values, data, digest = _values(row)
            yield (cast("int", values["id"]), cast("int", values["screening_id"]), data, digest,
                   cast("str", values["sha256"]),
                   row_sha256(values, _ORDER) if row_hashes else None)
        return
    try:
        row_hash = stored_row_sha256(_TABLE, cursor.processors, connection.dialect)
        used = [(index, cursor.processors[index]) for index in (_ID, _SCREENING, _PDF, _SHA)]
        for row in cursor:
            ident, screening, pdf, stored_sha = (row[index] if convert is None
                                                 else convert(row[index])
                                                 for index, convert in used)
            if pdf is None:
                yield ident, screening, None, None, stored_sha, row_hash(row)
                continue
            data = pdf if type(pdf) is bytes else bytes(pdf)
            digest = hashlib.sha256(data).hexdigest()
            yield (ident, screening, data, digest, stored_sha,
                   row_hash((*row[:_PDF], "sha256:" + digest, *row[_PDF + 1:])))
    finally:
        cursor.close()


def document_rows(session: Session, ids: Iterable[int]) -> dict[int, dict[str, object]]:
    """The rows of these signed documents by id, as :func:`read_documents` hashed them
    (``sha256:<hex>`` of the PDF for the PDF): read again where a row's hash differs from
    the one the trail recorded, to say which columns changed."""
    wanted = sorted(ids)
    rows: dict[int, dict[str, object]] = {}
    connection = session.connection()
    for start in range(0, len(wanted), 500):
        query = select(*_TABLE.columns).where(_TABLE.c.id.in_(wanted[start:start + 500]))
        for row in plain_rows(connection, query, batch=_BATCH):
            values = _values(row)[0]
            rows[cast("int", values["id"])] = values
    return rows


def seen_head(session: Session) -> tuple[int, str] | None:
    """The audit head this transaction sees (``None``: no head row)."""
    head = session.get(AuditHead, 1)
    return None if head is None else (head.last_seq, head.last_hash)


def _scanned(url: str, claim: Callable[[], _Range | None], store: int | None = None) -> bytes:
    """The pickled ``(head, parts)`` of the chunks ``claim`` gives (the last first, until it
    gives none), read through a connection of its own: each chunk's :class:`Documents`
    pickled as soon as it is read; ``parts``, those pickles in the order of the screenings,
    or, with ``store`` (a file), their sizes in the order they were written there (the last
    chunk's is left once the other process waits, not the whole)."""
    from ketascreen.records.db import Database  # noqa: PLC0415

    database = Database(url, migrate=False)
    parts: list[bytes] = []
    sizes: list[int] = []
    try:
        with database.read() as session:
            head = seen_head(session)
            while (chunk := claim()) is not None:
                part = pickle.dumps(read_documents(session, after=chunk[0], upto=chunk[1],
                                                   row_hashes=True),
                                    protocol=pickle.HIGHEST_PROTOCOL)
                if store is None:
                    parts.append(part)
                    continue
                view = memoryview(part)
                while view:
                    view = view[os.write(store, view):]
                sizes.append(len(part))
    finally:
        database.dispose()
    parts.reverse()  # claimed from the last
    return pickle.dumps((head, parts if store is None else sizes),
                        protocol=pickle.HIGHEST_PROTOCOL)


_Range = tuple[int | None, int | None]
"""Documents of the screenings with ``after < id <= upto`` (``None``: no bound)."""


def chunk_bounds(session: Session) -> list[int] | None:
    """The screening ids that cut the documents into chunks of :data:`CHUNK` (chunk ``k``:
    the screenings after cut ``k - 1`` up to cut ``k``; the first from the start, the last to
    the end), or ``None`` when there are too few documents to share."""
    column = _TABLE.c.screening_id
    ids = [row[0] for row in plain_rows(session.connection(),
                                        select(column).order_by(column), batch=5000)]
    if len(ids) < max(1, MIN_SHARED):
        return None
    return ids[CHUNK - 1:-1:CHUNK] if CHUNK > 0 else []


def _chunk(cuts: list[int], number: int) -> _Range:
    return (None if number == 0 else cuts[number - 1],
            None if number == len(cuts) else cuts[number])


class _Claims:
    """The chunks not read yet, claimed by this process from the first and by the second from
    the last (a lock and two counters shared across the fork): each chunk is read once, and
    the two meet wherever their other work lets them."""

    def __init__(self, count: int) -> None:
        import multiprocessing  # noqa: PLC0415 - the fork route only

        context = multiprocessing.get_context("fork")
        self._lock = context.Lock()
        self._ends = context.RawArray("q", [0, count])  # next first, end of the last

    def first(self, alive: Callable[[], bool]) -> int | None:
        """The first chunk not claimed (this process), or ``None``. ``alive``: whether the
        second process still runs (one stopped while it held the lock never gives it back:
        then no chunk is left to it)."""
        while not self._lock.acquire(timeout=0.5):
            if not alive():
                self._ends[1] = self._ends[0]  # what it claimed is read here
                return None
        try:
            if self._ends[0] >= self._ends[1]:
                return None
            self._ends[0] += 1
            return int(self._ends[0] - 1)
        finally:
            self._lock.release()

    def last(self, alive: Callable[[], bool]) -> int | None:
        """The last chunk not claimed (the second process), or ``None``. ``alive``: whether
        the first process still runs (stopped, it needs no more)."""
        while not self._lock.acquire(timeout=0.5):
            if not alive():
                return None
        try:
            if self._ends[0] >= self._ends[1]:
                return None
            self._ends[1] -= 1
            return int(self._ends[1])
        finally:
            self._lock.release()

    def second_from(self) -> int:
        """The first chunk the second process claimed (once all are claimed)."""
        return int(self._ends[1])


def _one_thread() -> bool:
    """Whether this process runs a single thread: none started by Python, and none started by
    a library (``/proc/self/task``; e.g. a numerical library's pool of workers)."""
    if threading.active_count() != 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _may_fork(database: Database | None) -> bool:
    """Whether the second process may be forked from this one: Linux, one thread (no other
    thread holds a lock the child would inherit), and no connection of ``database`` checked out
    (they are closed before the fork, so that the child inherits none)."""
    if database is None or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    if not _one_thread():
        return False
    pools = [database.writer.pool, database.reader.pool]
    return all(isinstance(pool, QueuePool) and pool.checkedout() == 0 for pool in pools)


class DocumentWorker:
    """A second process reading part of the documents, cut into chunks.

    Forked, it claims the chunks from the last while this process claims them from the first
    (:meth:`claim`), until none is left. Started as ``python -m ketascreen.records.docscan``,
    it reads the last :data:`SHARE` of the chunks, this process the others.

    Args:
        url: the SQLite database.
        cuts: the chunks (:func:`chunk_bounds`).
        database: this process's engines on ``url``: the second process may then be forked
            (their pooled connections are closed first); without it, or where a fork is not
            safe, it is started.
    """

    def __init__(self, url: URL, cuts: list[int], *, database: Database | None = None
                 ) -> None:
        self._cuts = cuts
        count = len(cuts) + 1
        self._process: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None
        self._pipe: int | None = None
        self._claims: _Claims | None = None
        self._status: int | None = None
        self._store: int | None = None
        self._second = count - min(count, round(count * SHARE))
        self._mine = iter(range(self._second))
        self.forked = _may_fork(database)
        """Whether the second process was forked from this one."""
        if self.forked:
            try:
                self._claims = _Claims(count)
            except (ImportError, OSError):  # no shared semaphore here: start it instead
                self.forked = False
        if self.forked:
            assert database is not None
            database.dispose()  # no connection crosses the fork
            self._fork(url.render_as_string(hide_password=False))
            return
        after = _chunk(cuts, self._second)[0]
        package = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [package, *filter(None, [os.environ.get("PYTHONPATH")])])}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ketascreen.records.docscan",
             url.render_as_string(hide_password=False), str(0 if after is None else after)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env)

    def _fork(self, url: str) -> None:
        claims, cuts = self._claims, self._cuts
        assert claims is not None
        try:  # its chunks, written as it reads them: no pipe to empty at the end
            self._store = os.memfd_create("ketascreen-documents", os.MFD_CLOEXEC)
        except (AttributeError, OSError):
            self._store = None  # all through the pipe at the end
        store = self._store
        read, write = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code
            os.close(read)

            def claim() -> _Range | None:
                number = claims.last(lambda: os.getppid() == parent)
                return None if number is None else _chunk(cuts, number)

            _child(url, claim, write, store)
        os.close(write)
        self._pid, self._pipe = pid, read

    def claim(self) -> _Range | None:
        """The next chunk this process reads, or ``None`` when the rest is the second
        process's (:meth:`rest`)."""
        claims = self._claims
        number = next(self._mine, None) if claims is None else claims.first(self._alive)
        return None if number is None else _chunk(self._cuts, number)

    def rest(self) -> _Range | None:
        """The second process's documents (read them here when it fails), or ``None`` when
        it has none: once :meth:`claim` gave ``None``."""
        first = self._second if self._claims is None else self._claims.second_from()
        return (_chunk(self._cuts, first)[0], None) if first <= len(self._cuts) else None

    def _alive(self) -> bool:
        """Whether the forked process still runs (its exit status kept once it stopped)."""
        if self._pid is None or self._status is not None:
            return False
        pid, status = os.waitpid(self._pid, os.WNOHANG)
        if pid == 0:
            return True
        self._status = status
        return False

    def parts(self, head: tuple[int, str] | None) -> list[Documents] | None:
        """Its documents chunk by chunk, in the order of the screenings, or ``None`` when it
        failed or saw another audit head than ``head`` (read them here then)."""
        store, self._store = self._store, None
        try:
            try:
                out = self._output()
                # read while it exits; taken only once it is known to have succeeded
                parts = None if out is None else self._parts(out, head, store)
                succeeded = self._succeeded()
            finally:
                self.close()
            return parts if succeeded else None
        finally:
            if store is not None:
                os.close(store)

    @staticmethod
    def _parts(out: bytes, head: tuple[int, str] | None, store: int | None
               ) -> list[Documents] | None:
        try:
            seen, pickled = pickle.loads(out)
            if seen != head:
                return None
            if store is not None:  # their sizes, in the order written
                data = memoryview(os.pread(store, sum(pickled), 0))
                ends = list(itertools.accumulate(pickled))
                pickled = [data[end - size:end] for size, end in zip(pickled, ends,
                                                                     strict=True)][::-1]
            parts = [pickle.loads(part) for part in pickled]
        except Exception:  # noqa: BLE001 - a broken output: read them here
            return None
        return parts if all(isinstance(part, Documents) for part in parts) else None

    def _output(self) -> bytes | None:
        """What it wrote (all of it: to the end of its pipe), or ``None`` when it was
        stopped already."""
        if self._process is not None:
            out, _ = self._process.communicate()
            return out
        if self._pipe is None:
            return None
        pipe, self._pipe = self._pipe, None
        with open(pipe, "rb") as stream:  # closes the pipe
            return stream.read()

    def _succeeded(self) -> bool:
        """Whether it succeeded (waits for it to end)."""
        if self._process is not None:
            return self._process.wait() == 0
        if self._pid is None:
            return False
        pid, self._pid = self._pid, None
        try:
            status = self._status if self._status is not None else os.waitpid(pid, 0)[1]
        except ChildProcessError:  # reaped elsewhere: its output is not known to be whole
            return False
        return os.waitstatus_to_exitcode(status) == 0

    def close(self) -> None:
        """Stop it if it still runs."""
        if self._store is not None:
            os.close(self._store)
            self._store = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            return
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
        if self._pid is not None:
            pid, self._pid = self._pid, None
            if self._status is None:
                with contextlib.suppress(ProcessLookupError):  # gone already
                    os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):  # reaped elsewhere
                    os.waitpid(pid, 0)


def _child(url: str, claim: Callable[[], _Range | None], out: int, store: int | None
           ) -> NoReturn:
    """The forked second process: its documents into ``out`` (and ``store``), then exit (no
    cleanup of what it inherited: the parent's objects are the parent's)."""
    code = 1
    try:
        gc.disable()  # many small containers, no cycles: as in the first process
        data = _scanned(url, claim, store)
        with open(out, "wb") as stream:
            stream.write(data)
        code = 0
    except BaseException:  # noqa: BLE001 - the parent reads the documents itself
        pass
    finally:
        os._exit(code)


def _main(argv: list[str]) -> int:
    """``python -m ketascreen.records.docscan URL AFTER``: the pickled ``(head, Documents)``
    of the screenings after ``AFTER`` on stdout."""
    url, after = argv
    gc.disable()  # many small containers, no cycles: as in the first process
    chunks: list[_Range] = [(int(after), None)]
    sys.stdout.buffer.write(_scanned(url, lambda: chunks.pop() if chunks else None))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    from ketascreen.records import docscan  # noqa: PLW0406 - pickled under its own name

    sys.exit(docscan._main(sys.argv[1:]))
