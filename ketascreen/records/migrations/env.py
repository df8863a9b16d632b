"""Alembic environment: migrates the connection handed over by :meth:`Database.migrate`.

Run from the command line (``alembic -c ketascreen/records/migrations/alembic.ini ...``) it
opens ``sqlalchemy.url`` from that file or ``$KETASCREEN_DATABASE_URL`` instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from ketascreen.records.models import Base


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    from ketascreen.records.db import Database  # noqa: PLC0415

    database = Database(context.config.get_main_option("sqlalchemy.url") or None,
                        migrate=False)
    try:
        with database.writer.begin() as connection:
            _run(connection)
    finally:
        database.dispose()


_main()
