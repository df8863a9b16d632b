"""Many rows read as plain tuples, without SQLAlchemy's ``Result`` and ``Row`` objects.

``audit verify`` reads every row of the tracked tables and every audit event: hundreds of
thousands of rows, where SQLAlchemy's row objects and their buffering cost about as much as the
checks themselves. :func:`plain_rows` executes the statement through the connection as usual
(the same SQL, parameters, transaction and snapshot) and then reads the DBAPI cursor in batches,
converting each value with the column type's own result processor, the function SQLAlchemy's
``Result`` would call: the values are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any, Final

from sqlalchemy import Connection, Select
from sqlalchemy.engine.cursor import CursorFetchStrategy, CursorResult

__all__ = ["AnySelect", "CursorRows", "Processor", "cursor_rows", "plain_rows"]

_PLAIN_DRIVERS: Final = frozenset({("sqlite", "pysqlite")})
"""``(dialect, driver)`` pairs read through the DBAPI cursor (elsewhere: the Core route)."""

AnySelect = Select[*tuple[Any, ...]]
"""A ``SELECT`` of any columns."""
_AnyResult = CursorResult[*tuple[Any, ...]]
Processor = Callable[[Any], Any]
"""A column type's result processor: the stored value to the Python value."""


def plain_rows(connection: Connection, statement: AnySelect, *, batch: int = 500
               ) -> Generator[tuple[Any, ...], None, None]:
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
    rows = cursor_rows(connection, statement, batch=batch)
    if rows is None:  # the Core route
        result = connection.execute(statement)
        try:
            for row in result:
                yield tuple(row)
        finally:
            result.close()
        return
    try:
        convert = _compiled(rows.processors)
        yield from rows if convert is None else map(convert, rows)
    finally:
        rows.close()


class CursorRows:
    """A statement's rows as the DBAPI cursor gives them, with the converter SQLAlchemy would
    apply to each column (:func:`cursor_rows`). Iterate once; :meth:`close` it."""

    def __init__(self, result: _AnyResult, processors: list[Processor | None], batch: int
                 ) -> None:
        self._result = result
        self._batch = batch
        self.processors: Final = processors
        """Per column, its type's result processor (``None``: the value as it is)."""

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return _fetched(self._result, self._batch)

    def close(self) -> None:
        """Close the cursor."""
        self._result.close()


def cursor_rows(connection: Connection, statement: AnySelect, *, batch: int = 500
                ) -> CursorRows | None:
    """The statement's rows unconverted, as the DBAPI cursor of the connection gives them,
    with each column's result processor (``processor(value)`` is what :func:`plain_rows`
    and SQLAlchemy's ``Result`` give); ``None`` where :func:`plain_rows` takes the Core route
    (another dialect, execution options, a result SQLAlchemy does not read straight from the
    cursor: closed then)."""
    dialect = connection.dialect
    if (dialect.name, dialect.driver) not in _PLAIN_DRIVERS or statement.get_execution_options():
        return None
    result = connection.execute(statement)
    processors = _processors(result, statement)
    if processors is None:
        result.close()
        return None
    return CursorRows(result, processors, batch)


def _fetched(result: _AnyResult, batch: int) -> Iterator[tuple[Any, ...]]:
    fetch = result.cursor.fetchmany
    while rows := fetch(batch):
        yield from rows


def _processors(result: _AnyResult, statement: AnySelect
                ) -> list[Processor | None] | None:
    """Each column's result processor, as SQLAlchemy's ``Result`` applies them, or ``None``
    when the cursor cannot be read directly (rows buffered already, rows that are not
    tuples)."""
    dialect = result.context.dialect
    if type(result.cursor_strategy) is not CursorFetchStrategy:  # rows buffered: Core route
        return None
    if getattr(result.cursor, "row_factory", None) is not None:  # rows other than tuples
        return None
    description = result.cursor.description
    columns = list(statement.selected_columns)
    if description is None or len(description) != len(columns):
        return None
    return [column.type.dialect_impl(dialect).result_processor(dialect, described[1])
            for column, described in zip(columns, description, strict=True)]


def _compiled(processors: Sequence[Processor | None]
              ) -> Callable[[tuple[Any, ...]], tuple[Any, ...]] | None:
    """``lambda row: (p0(row[0]), row[1], ...)`` for these processors (``None``: the value as
    it is), written out once so that a row costs one call; ``None`` when no column has one."""
    if not any(processors):
        return None
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
