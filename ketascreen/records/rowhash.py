"""Row hashes: every security-relevant row is inside the audit chain.

Each row of the tracked tables (accounts and roles, patients, screenings, signed documents,
signing certificates, account settings, clinic files) has a hash over its canonical columns. The
audit event written in the same transaction as a change records the new hash of every row the
transaction added or changed (``None`` for a deleted row) in its ``row_hashes``, which the event's
own hash covers. ``ketascreen audit verify`` recomputes the hash of every row and compares it with
the latest one the chain recorded for it, so an edit, insert or delete made outside ketascreen (SQL
on the database file, a dropped trigger) is named, with the columns that changed.

Rows are named by table and primary key in the chain (``patients/3``), never by patient data.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, cast

from sqlalchemy import Connection, Dialect, MetaData, Table, inspect, select
from sqlalchemy.engine import processors as sqlalchemy_processors
from sqlalchemy.orm import Session

from ketascreen.records.chain import canonical, event_hash, timestamp
from ketascreen.records.models import (
    Base,
    ClinicFile,
    CountersignedDocument,
    CourseInfusionRow,
    CourseRow,
    InfusionRecordRow,
    Patient,
    ScreeningRow,
    SignedDocument,
    SigningCertificate,
    User,
    UserSetting,
    UTCDateTime,
)
from ketascreen.records.plainrows import CursorRows, Processor, cursor_rows

TRACKED: Final[tuple[type[Base], ...]] = (User, Patient, ScreeningRow, SignedDocument,
                                           SigningCertificate, UserSetting, ClinicFile,
                                           CourseRow, CourseInfusionRow, InfusionRecordRow,
                                           CountersignedDocument)
"""The tables whose every row the audit chain commits to."""

_LABELS: Final[dict[str, str]] = {
    "users": "username", "patients": "external_id", "screenings": "record_id",
    "signing_certificates": "sha256", "clinic_files": "version", "courses": "course_id",
}
"""The column that names a row to a person reading ``audit verify`` (besides its key)."""

COLUMN_DIGEST_LENGTH: Final = 12
"""Hex digits kept per column, enough to say which column changed (the row hash decides)."""


_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"


def _value(value: object) -> object:
    """A column value as canonical JSON: times in UTC text, bytes by their sha256."""
    if isinstance(value, datetime):
        # UTC already (or naive, taken as UTC): the same fields
        moment = value if value.tzinfo is None or value.tzinfo is UTC else value.astimezone(UTC)
        if type(moment) is datetime and moment.year >= 1000:
            # the fields strftime writes, in the same widths (faster): "+00:00" dropped
            return moment.isoformat(timespec="microseconds")[:26] + "Z"
        return moment.strftime(_TIME_FORMAT)  # a year before 1000 unpadded, as always
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    return value


_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
"""One encoder for every digest (``json.dumps`` with options builds one a call)."""
_STRING: Final = json.encoder.encode_basestring  # what _CANONICAL writes for a str (C)


def _encoded(value: object) -> str:
    """``_CANONICAL.encode(_value(value))``: strings, integers and nulls written directly, as
    the encoder writes them."""
    kind = type(value)
    if kind is str:
        return _STRING(cast("str", value))
    if kind is int:
        return int.__repr__(cast("int", value))
    if value is None:
        return "null"
    return _CANONICAL.encode(_value(value))


def _digest(data: object) -> str:
    return hashlib.sha256(_CANONICAL.encode(data).encode("utf-8")).hexdigest()


def row_key(obj: Base) -> str:
    """``table/primary key`` of a tracked row, e.g. ``patients/3`` or ``user_settings/2/k``."""
    identity = inspect(obj).identity
    if identity is None:
        raise ValueError("the row has no primary key yet (flush first)")
    return "/".join([type(obj).__table__.name, *(str(part) for part in identity)])  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RowHash:
    """A row's hash and a short digest of each of its columns.

    Attributes:
        sha256: over the canonical columns (the column names and values).
        columns: the first :data:`COLUMN_DIGEST_LENGTH` hex digits of each column's digest.
    """

    sha256: str
    columns: dict[str, str]

    def as_json(self) -> dict[str, object]:
        """The form stored in an event's ``row_hashes``."""
        return {"sha256": self.sha256, "columns": self.columns}

    def changed_columns(self, recorded: object) -> list[str]:
        """The columns that differ from a recorded :meth:`as_json` (all, if unreadable)."""
        old = recorded.get("columns") if isinstance(recorded, dict) else None
        if not isinstance(old, dict):
            return sorted(self.columns)
        return sorted(name for name in set(self.columns) | set(old)
                      if self.columns.get(name) != old.get(name))


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")


def hash_values(values: Mapping[str, object]) -> RowHash:
    """The hash of a row given as its column values by column name.

    Each column's digest is over the canonical JSON of ``[name, value]``, the row's over that of
    ``{name: value, ...}``; every value is encoded once and the two texts are put together
    from it (the bytes the encoder writes for the list and the object, column names being
    plain words that JSON writes as they are).
    """
    if not all(_PLAIN_NAME.fullmatch(name) for name in values):
        canonical = {name: _value(value) for name, value in values.items()}
        return RowHash(_digest(canonical), {
            name: _digest([name, value])[:COLUMN_DIGEST_LENGTH]
            for name, value in canonical.items()})
    encoded = {name: _encoded(value) for name, value in values.items()}
    columns = {name: hashlib.sha256(f'["{name}",{text}]'.encode()).hexdigest()[
        :COLUMN_DIGEST_LENGTH] for name, text in encoded.items()}
    row = "{" + ",".join(f'"{name}":{encoded[name]}' for name in sorted(encoded)) + "}"
    return RowHash(hashlib.sha256(row.encode()).hexdigest(), columns)


def row_sha256(values: Mapping[str, object], order: list[str] | None = None) -> str:
    """``hash_values(values).sha256`` alone (no column digests): the row's hash.

    Args:
        values: the row's column values by name.
        order: ``sorted(values)`` when every name is a plain word (:func:`plain_order`), known
            already for a table's rows.
    """
    if order is None:
        order = plain_order(values)
        if order is None:
            return hash_values(values).sha256
    s, n, e = _STRING, int.__repr__, _encoded  # strings and integers without _encoded's call
    text = ",".join([f'"{k}":'
                     f'{s(v) if type(v := values[k]) is str else n(v) if type(v) is int else e(v)}'
                     for k in order])
    return hashlib.sha256(("{" + text + "}").encode()).hexdigest()


def plain_order(names: Iterable[str]) -> list[str] | None:
    """The names sorted, or ``None`` when one is not a plain word (JSON would escape it)."""
    ordered = sorted(names)
    return ordered if all(_PLAIN_NAME.fullmatch(name) for name in ordered) else None


def row_hash(obj: Base) -> RowHash:
    """The hash of a tracked row's current column values (as the ORM holds them)."""
    mapper = inspect(type(obj))
    return hash_values({attribute.columns[0].name: getattr(obj, attribute.key)
                        for attribute in mapper.column_attrs})


def label(obj: Base) -> str:
    """How ``audit verify`` names a row: its key and, where it has one, its natural name."""
    key = row_key(obj)
    column = _LABELS.get(type(obj).__table__.name)  # type: ignore[attr-defined]
    if column is None:
        return key
    return f"{key} ({getattr(obj, column)})"


class RowTracker:
    """Collects the tracked rows a session adds, changes or deletes, until they are taken.

    Args:
        session: a session in a write transaction; a ``before_flush`` hook is installed on it.
    """

    def __init__(self, session: Session) -> None:
        from sqlalchemy import event  # noqa: PLC0415

        self._session = session
        self._pending: dict[int, Base] = {}
        self._deleted: dict[str, None] = {}
        event.listen(session, "before_flush", self._before_flush)

    def _before_flush(self, session: Session, *_: Any) -> None:
        for obj in (*session.new, *session.dirty):
            if isinstance(obj, TRACKED) and (obj in session.new or session.is_modified(obj)):
                self._pending[id(obj)] = obj
        for obj in session.deleted:
            if isinstance(obj, TRACKED):
                self._pending.pop(id(obj), None)
                self._deleted[row_key(obj)] = None

    def track(self, model: type[Base], keys: list[object], column: str | None = None
              ) -> None:
        """Also record the rows of ``model`` whose ``column`` (default: the primary key) is
        one of ``keys`` at the next event: rows written with Core statements (bulk
        ``insert()``), which the ORM hook does not see."""
        if model not in TRACKED:
            raise ValueError(f"{model.__name__} is not a tracked table")
        self._session.flush()
        mapper = inspect(model)
        selected = mapper.primary_key[0] if column is None else mapper.columns[column]
        for start in range(0, len(keys), 500):
            for obj in self._session.scalars(select(model).where(
                    selected.in_(keys[start:start + 500]))):
                self._pending[id(obj)] = obj

    @property
    def pending(self) -> bool:
        """Whether rows changed since the last :meth:`take` (flushes the session)."""
        self._session.flush()
        return bool(self._pending or self._deleted)

    def take(self) -> str | None:
        """Flush, and return the hashes of the rows changed since the last call (canonical
        JSON text, ``null`` for a deleted row), or ``None`` when no tracked row changed."""
        self._session.flush()
        if not self._pending and not self._deleted:
            return None
        hashes: dict[str, object] = dict(self._deleted)
        for obj in self._pending.values():
            hashes[row_key(obj)] = row_hash(obj).as_json()
        self._pending.clear()
        self._deleted.clear()
        return json.dumps(hashes, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def close(self) -> None:
        """Remove the hook from the session."""
        from sqlalchemy import event  # noqa: PLC0415

        if event.contains(self._session, "before_flush", self._before_flush):
            event.remove(self._session, "before_flush", self._before_flush)


def current_rows(session: Session) -> Iterator[tuple[str, Base, RowHash]]:
    """Every row of every tracked table: ``(key, row, hash)``, table by table (streamed)."""
    for model in TRACKED:
        result = session.execute(select(model).execution_options(yield_per=200))
        try:
            for obj in result.scalars():
                yield row_key(obj), obj, row_hash(obj)
                session.expunge(obj)  # keep memory flat: the documents are large
        finally:
            result.close()


def all_row_hashes(session: Session) -> str | None:
    """The hashes of every tracked row (the ``row_hashes`` of a migration event), or ``None``
    when the tables are empty."""
    hashes = {key: digest.as_json() for key, _, digest in current_rows(session)}
    if not hashes:
        return None
    return json.dumps(hashes, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def table_row_hashes(session: Session, pdf_digests: Mapping[int, str | None] | None = None
                     ) -> Iterator[tuple[str, str, RowHash]]:
    """Every row of every tracked table as :func:`current_rows` hashes it, read as plain rows
    (no ORM objects): ``(key, label, hash)``, table by table, streamed.

    Args:
        session: a reading session.
        pdf_digests: the sha256 (hex) of ``signed_documents.pdf`` by the row's id, already
            computed (:func:`ketascreen.records.integrity.verify_audit` reads each document
            once); those rows are read without their PDF. A row not in it is read whole.
    """
    for key, shown, values, _ in _table_rows(session, pdf_digests):
        yield key, shown, hash_values(values)


def _table_rows(session: Session, pdf_digests: Mapping[int, str | None] | None,
                document_rows: Callable[[], Mapping[int, dict[str, object]]] | None = None,
                models: tuple[type[Base], ...] = TRACKED
                ) -> Iterator[tuple[str, str, dict[str, object], list[str] | None]]:
    """Every row of every tracked table as plain values: ``(key, label, values, order)``, the
    order being :func:`plain_order` of the table's columns. ``document_rows``: gives the rows
    of ``signed_documents`` by id, already read (SQLite: in the table's order, by id), when
    that table is reached. ``models``: the tables read (default: every tracked table)."""
    for model in models:
        table = model.__table__
        assert isinstance(table, Table)
        keys = [column.name for column in table.primary_key.columns]
        named = _LABELS.get(table.name)
        order = plain_order(column.name for column in table.columns)
        if document_rows is not None and table.name == "signed_documents":
            by_id = document_rows()
            for number in sorted(by_id):
                values = by_id[number]
                key = "/".join([table.name, *(str(values[column]) for column in keys)])
                yield key, key if named is None else f"{key} ({values[named]})", values, order
            continue
        skip_pdf = pdf_digests is not None and table.name == "signed_documents"
        columns = [c for c in table.columns if not (skip_pdf and c.name == "pdf")]
        result = session.connection().execute(  # plain rows, no ORM
            select(*columns).execution_options(yield_per=500))
        names = [column.name for column in columns]
        try:
            for row in result:  # a tuple in the columns' order
                values = dict(zip(names, row, strict=True))
                if skip_pdf:
                    assert pdf_digests is not None
                    ident = cast("int", values["id"])
                    if ident in pdf_digests:
                        digest = pdf_digests[ident]
                        values["pdf"] = None if digest is None else "sha256:" + digest
                    else:  # written after the documents were read: read its PDF now
                        values["pdf"] = session.execute(
                            select(table.c.pdf).where(table.c.id == ident)).scalar_one()
                key = "/".join([table.name, *(str(values[column]) for column in keys)])
                yield key, key if named is None else f"{key} ({values[named]})", values, order
        finally:
            result.close()


def row_problems(session: Session, recorded: dict[str, tuple[int, object]],
                 seen: set[str] | None = None, *,
                 pdf_digests: Mapping[int, str | None] | None = None,
                 document_rows: Callable[[], Mapping[int, dict[str, object]]] | None = None
                 ) -> Iterator[str]:
    """Rows that differ from the latest hash the chain recorded for them.

    Args:
        session: a reading session.
        recorded: by row key, the number of the last event that recorded the row and what it
            recorded (a :meth:`RowHash.as_json`, or ``None`` for a deletion).
        seen: filled with the key of every row checked.
        pdf_digests: the signed documents' PDF hashes already computed
            (:func:`table_row_hashes`).
        document_rows: gives every row of ``signed_documents`` by id, read already with the
            PDF's ``sha256:`` digest in place of the PDF, when that table is reached (SQLite
            only: they are checked by id, the order a table read gives there).

    Yields:
        One message per row, e.g. ``patients/3 (MRN-0042): edited after its event #12
        (changed: name)``.
    """
    seen = set() if seen is None else seen
    for model in TRACKED:
        table = model.__table__
        assert isinstance(table, Table)
        cursor = None
        if not (table.name == "signed_documents"
                and (document_rows is not None or pdf_digests is not None)):
            cursor = cursor_rows(session.connection(), select(*table.columns), batch=500)
        if cursor is None:
            rows = _table_rows(session, pdf_digests, document_rows, (model,))
            yield from _problems(rows, recorded, seen)
        else:
            try:
                yield from _stored_problems(table, cursor, session.connection().dialect,
                                            recorded, seen)
            finally:
                cursor.close()
    for key in sorted(set(recorded) - seen):
        seq, stored = recorded[key]
        if stored is not None:
            yield f"{key}: deleted outside ketascreen (recorded by event #{seq})"


def _problems(rows: Iterable[tuple[str, str, dict[str, object], list[str] | None]],
              recorded: dict[str, tuple[int, object]], seen: set[str]) -> Iterator[str]:
    """:func:`row_problems` of rows read as values."""
    for key, shown, values, order in rows:
        seen.add(key)
        found = recorded.get(key)
        if found is None:
            yield (f"{shown}: inserted outside ketascreen (no audit event records "
                   "this row)")
            continue
        seq, stored = found
        if stored is None:
            yield f"{shown}: inserted outside ketascreen after its deletion in event #{seq}"
            continue
        if not isinstance(stored, dict) or stored.get("sha256") != row_sha256(values, order):
            # the column digests only where the row changed
            changed = ", ".join(hash_values(values).changed_columns(stored))
            yield f"{shown}: edited after its event #{seq} (changed: {changed})"


def stored_row_sha256(table: Table, converters: list[Processor | None], dialect: Dialect
                      ) -> Callable[[tuple[Any, ...]], str]:
    """The function giving a row's hash (:func:`row_sha256` of its converted values) from the
    row as the DBAPI cursor gives it, without converting the values where the stored text is
    already the canonical one (:func:`ketascreen.records.plainrows.cursor_rows`).

    Args:
        table: the table; the rows have its columns, in its order.
        converters: each column's result processor (:attr:`CursorRows.processors`).
        dialect: the connection's dialect (SQLite's stored times and dates are read as text).

    A value may be given already in the form the hash takes, e.g. ``sha256:<hex>`` (a
    ``str``) for a ``bytes`` column whose bytes were hashed already: the row hash is the same.
    """
    text_of = _stored_text(table, converters, plain_order(c.name for c in table.columns),
                           dialect)

    def digest(row: tuple[Any, ...]) -> str:
        return _sha256(text_of(row).encode()).hexdigest()
    return digest


def _stored_problems(table: Table, cursor: CursorRows, dialect: Dialect,
                     recorded: dict[str, tuple[int, object]], seen: set[str]) -> Iterator[str]:
    """:func:`row_problems` of one table's rows as stored (:func:`_stored_text`): each value
    converted only where its row differs."""
    names = [column.name for column in table.columns]
    order = plain_order(names)
    row_hash = stored_row_sha256(table, cursor.processors, dialect)
    keys = [names.index(column.name) for column in table.primary_key.columns]
    named = _LABELS.get(table.name)
    converters = cursor.processors

    def values_of(row: tuple[Any, ...]) -> dict[str, object]:
        return {name: value if convert is None else convert(value)
                for name, value, convert in zip(names, row, converters, strict=True)}

    def key_of(row: tuple[Any, ...]) -> str:
        values = values_of(row)
        return "/".join([table.name, *(str(values[names[index]]) for index in keys)])

    def shown(key: str, row: tuple[Any, ...]) -> str:
        return key if named is None else f"{key} ({values_of(row)[named]})"

    if len(keys) == 1 and converters[keys[0]] is None:  # the usual: one plain key
        index, prefix = keys[0], table.name + "/"
        for row in cursor:
            key = prefix + str(row[index])
            seen.add(key)
            found = recorded.get(key)
            if found is not None and type(stored := found[1]) is dict and (
                    stored.get("sha256") == row_hash(row)):
                continue
            yield from _problems([(key, shown(key, row), values_of(row), order)], recorded,
                                 seen)
        return
    for row in cursor:
        key = key_of(row)
        yield from _problems([(key, shown(key, row), values_of(row), order)], recorded, seen)


_sha256: Final = hashlib.sha256
_NULL: Final = "null"


def _iso_text(convert: Processor, stored: Callable[[str], object],
              parse: Callable[[str], object], canonical: Callable[[str], str]
              ) -> Callable[[object], str]:
    """``_encoded(convert(value))`` for a time or date column read from SQLite as stored: a
    value in the text SQLAlchemy stores (``stored`` matches it) that is a valid time or date
    (``parse`` reads it) is written as ``canonical(value)`` without being converted; anything
    else is converted (the same text, or the same error)."""
    def text(value: object) -> str:
        if type(value) is str and stored(value) is not None:
            try:
                parse(value)
            except ValueError:
                pass
            else:
                return canonical(value)
        return _encoded(convert(value))
    return text


def _time_text(value: str) -> str:
    """A naive UTC time as SQLAlchemy stores it in SQLite, ``YYYY-MM-DD HH:MM:SS.ffffff`` (a
    year from 1000, which ``strftime`` writes with four digits), as the canonical text
    ``"YYYY-MM-DDTHH:MM:SS.ffffffZ"``."""
    return f'"{value[:10]}T{value[11:]}Z"'


def _date_text(value: str) -> str:
    """A date as stored (``YYYY-MM-DD``, its own ISO text) as the canonical text."""
    return f'"{value}"'


_STORED_TIME: Final = re.compile(
    r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}").fullmatch
_STORED_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
_FROM_ISO: Final = datetime.fromisoformat
_DATE_FROM_ISO: Final = date.fromisoformat


def _stored_text(table: Table, converters: list[Processor | None], order: list[str] | None,
                 dialect: Dialect) -> Callable[[tuple[Any, ...]], str]:
    """The canonical JSON text of a row of ``table`` (``{name: _encoded(value), ...}`` in
    ``order``, :func:`row_sha256`'s text) from its values as the cursor gives them.

    Each value's text is written straight from the stored value where that is the same text:
    strings, integers and nulls of a column without converter; booleans (SQLite's 0 and 1);
    UTC times and dates in the text SQLAlchemy stores them as. Anything else is converted by
    its column's converter and encoded as :func:`_encoded` encodes it.
    """
    names = [column.name for column in table.columns]
    if order is None:  # a name JSON would escape: the values' own route
        def whole(row: tuple[Any, ...]) -> str:
            values = {name: value if convert is None else convert(value)
                      for name, value, convert in zip(names, row, converters, strict=True)}
            return _CANONICAL.encode({name: _value(value) for name, value in values.items()})
        return whole
    scope: dict[str, object] = {"string": _STRING, "number": int.__repr__, "null": _NULL,
                                "encoded": _encoded, "joined": "".join,
                                "__builtins__": {"type": type, "str": str, "int": int}}
    parts: list[str] = []
    for position, name in enumerate(order):
        index = names.index(name)
        column = table.columns[name]
        convert = converters[index]
        scope[f"label_{position}"] = ("{" if position == 0 else ",") + f'"{name}":'
        parts.append(f"label_{position}")
        value = f"row[{index}]"
        converter = f"convert_{index}"
        if convert is None:
            parts.append(f"(string(v) if (t := type(v := {value})) is str else null if v is None "
                         "else number(v) if t is int else encoded(v))")
        elif convert is sqlalchemy_processors.int_to_boolean:
            scope[converter] = _converted(convert)
            parts.append(f"(('true' if v else 'false') if type(v := {value}) is int "
                         f"else null if v is None else {converter}(v))")
        elif (type(column.type) is UTCDateTime and column.type.impl_instance.dialect_impl(
                dialect).result_processor(dialect, None) is sqlalchemy_processors.str_to_datetime):
            scope[converter] = _iso_text(convert, _STORED_TIME, _FROM_ISO, _time_text)
            parts.append(f"(null if (v := {value}) is None else {converter}(v))")
        elif convert is sqlalchemy_processors.str_to_date:
            scope[converter] = _iso_text(convert, _STORED_DATE, _DATE_FROM_ISO, _date_text)
            parts.append(f"(null if (v := {value}) is None else {converter}(v))")
        else:
            scope[converter] = _converted(convert)
            parts.append(f"{converter}({value})")
    parts.append("'}'" if order else "'{}'")
    source = f"def text(row):\n    return joined(({', '.join(parts)},))\n"
    exec(source, scope)  # our own text, built from the column names (plain words)
    return cast("Callable[[tuple[Any, ...]], str]", scope["text"])


def _converted(convert: Processor) -> Callable[[object], str]:
    def text(value: object) -> str:
        return _encoded(convert(value))
    return text


def record_all_rows(connection: Connection, *, action: str, detail: Mapping[str, object]
                    ) -> int | None:
    """Append an audit event recording the hash of every tracked row, read by reflection.

    For migrations: run it after any migration that adds a tracked table or a column to one,
    so that ``audit verify`` compares the rows with hashes over their new columns.

    Args:
        connection: the migration's connection (in its transaction).
        action: the event's action, e.g. ``migrate``.
        detail: the event's detail (e.g. the revision).

    Returns:
        The event's number, or ``None`` when no tracked table has a row (no event needed).
    """
    metadata = MetaData()
    hashes: dict[str, object] = {}
    present = set(inspect(connection).get_table_names())
    for model in TRACKED:
        name = model.__table__.name  # type: ignore[attr-defined]
        if name not in present:  # added by a later revision than the one running
            continue
        table = Table(name, metadata, autoload_with=connection)
        keys = [column.name for column in table.primary_key.columns]
        for row in connection.execute(select(table)).mappings():
            key = "/".join([name, *(str(row[column]) for column in keys)])
            hashes[key] = hash_values(dict(row)).as_json()
    if not hashes:
        return None
    head = Table("audit_head", metadata, autoload_with=connection)
    events = Table("audit_events", metadata, autoload_with=connection)
    last_seq, last_hash = connection.execute(
        select(head.c.last_seq, head.c.last_hash).where(head.c.id == 1)).one()
    seq = int(last_seq) + 1
    row_text = json.dumps(hashes, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    detail_text = canonical(dict(detail)).decode("utf-8")
    occurred_at, workstation = timestamp(), socket.gethostname()[:255]
    digest = event_hash(seq=seq, occurred_at=occurred_at, username="(ketascreen)", role="",
                        workstation=workstation, action=action, outcome="ok", record_id=None,
                        detail=detail_text, prev_hash=str(last_hash), row_hashes=row_text)
    fields = {"seq": seq, "occurred_at": occurred_at, "username": "(ketascreen)", "role": "",
              "workstation": workstation, "action": action, "outcome": "ok",
              "record_id": None, "detail": detail_text, "prev_hash": last_hash}
    connection.execute(events.insert().values(**fields, row_hashes=row_text, hash=digest))
    connection.execute(head.update().where(head.c.id == 1).values(last_seq=seq,
                                                                   last_hash=digest))
    return seq
