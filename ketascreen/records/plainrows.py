"""Many rows read as plain tuples, without SQLAlchemy's ``Result`` and ``Row`` objects.

``audit verify`` reads every row of the tracked tables and every audit event: hundreds of
thousands of rows, where SQLAlchemy's row objects and their buffering cost about as much as the
checks themselves. :func:`plain_rows` executes the statement through the connection as usual
(the same SQL, parameters, transaction and snapshot) and then reads the DBAPI cursor in batches,
converting each value with the column type's own result processor, the function SQLAlchemy's
``Result`` would call: the values are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from sqlalchemy import Connection, Select
from sqlalchemy.engine.cursor import CursorFetchStrategy, CursorResult

__all__ = ["plain_rows"]

_PLAIN_DRIVERS: Final = frozenset({("sqlite", "pysqlite")})
"""``(dialect, driver)`` pairs read through the DBAPI cursor (elsewhere: the Core route)."""

_Processor = Callable[[Any], Any]


def plain_rows(connection: Connection, statement: Select[Any], *, batch: int = 500
               ) -> Iterator[tuple[Any, ...]]:
    """The statement's rows as plain tuples, each value converted exactly as SQLAlchemy's
    ``Result`` would convert it (the column types' own result processors, TypeDecorators
    included), read through the DBAPI cursor of the same connection (same transaction and
    snapshot) without ``Result``/``Row`` objects.

    Dialects other than SQLite's ``pysqlite``, and any statement whose result SQLAlchemy does
    not read straight from the cursor (e.g. one with ``yield_per``, whose first row may be
    buffered already), take the Core route: ``tuple(row)`` of each row of the ``Result``.

    Args:
        connection: the connection (in its transaction).
        statement: a ``SELECT``.
        batch: rows fetched from the cursor at a time.

    Yields:
        One tuple per row, in the statement's column order (streamed; the cursor is closed when
        the iterator is exhausted or closed).
    """
    dialect = connection.dialect
    result = connection.execute(statement)
    try:
        convert = None
        if (dialect.name, dialect.driver) in _PLAIN_DRIVERS:
            convert = _converter(result, statement)
        if convert is None:  # the Core route
            for row in result:
                yield tuple(row)
            return
        cursor = result.cursor
        fetch = cursor.fetchmany
        while rows := fetch(batch):
            if convert is _AS_IS:
                yield from rows
            else:
                yield from map(convert, rows)
    finally:
        result.close()


def _as_is(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return row


_AS_IS: Final = _as_is


def _converter(result: CursorResult[Any], statement: Select[Any]
               ) -> Callable[[tuple[Any, ...]], tuple[Any, ...]] | None:
    """The function converting a cursor's row as the result's rows would be, or ``None`` when
    the cursor cannot be read directly."""
    if type(result.cursor_strategy) is not CursorFetchStrategy:  # rows buffered: Core route
        return None
    if getattr(result.cursor, "row_factory", None) is not None:  # rows other than tuples
        return None
    description = result.cursor.description
    columns = list(statement.selected_columns)
    if description is None or len(description) != len(columns):
        return None
    dialect = result.context.dialect
    processors: list[_Processor | None] = []
    for column, described in zip(columns, description, strict=True):
        kind = column.type
        processors.append(kind.dialect_impl(dialect).result_processor(dialect, described[1]))
    return _compiled(processors)


def _compiled(processors: Sequence[_Processor | None]
              ) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """``lambda row: (p0(row[0]), row[1], ...)`` for these processors (``None``: the value as
    it is), written out once so that a row costs one call."""
    if not any(processors):
        return _AS_IS
    names: dict[str, object] = {}
    parts = []
    for index, processor in enumerate(processors):
        if processor is None:
            parts.append(f"row[{index}]")
        else:
            names[f"p{index}"] = processor
            parts.append(f"p{index}(row[{index}])")
    source = f"lambda row: ({', '.join(parts)},)"
    function: Callable[[tuple[Any, ...]], tuple[Any, ...]] = eval(  # our own text
        source, {"__builtins__": {}, **names})
    return function
