"""Where the records database lives, how it is opened, and its schema migrations.

SQLite is the default: one file in the user data directory (``KETASCREEN_HOME`` overrides the
directory, ``KETASCREEN_DATABASE_URL`` the whole database). The file is created with mode 0600,
runs in WAL mode with foreign keys on and ``synchronous=FULL``, and every write transaction starts
with ``BEGIN IMMEDIATE`` so writers queue instead of failing half-way. A clinic with several
workstations points every copy at one PostgreSQL server (``postgresql://...``); the same code runs
there.

The schema is migrated with Alembic when the database is opened (the scripts are in
``ketascreen/records/migrations``; no ``alembic.ini`` is needed).

On PostgreSQL a clinic runs two roles: the *owner* of the records tables, which runs the
migrations (``ketascreen db init`` / ``ketascreen db upgrade``), and the *application* role the
app connects as, which owns nothing and holds only the rights of ``sql/roles.sql``: it cannot
change the schema, disable or drop a trigger, or update, delete or truncate the audit trail.
Opened by a role that may not change the schema, a database whose schema is behind is not
migrated: the error says to run ``ketascreen db upgrade`` as the owner. Every migration by the
owner re-applies the application role's rights to every table, new ones included.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ketascreen.errors import StorageError

# Re-exported: where the database lives is decided without SQLAlchemy (records/location.py).
from ketascreen.records.location import DATABASE_FILE as DATABASE_FILE  # noqa: PLC0414
from ketascreen.records.location import ENV_DATABASE_URL as ENV_DATABASE_URL  # noqa: PLC0414
from ketascreen.records.location import ENV_HOME as ENV_HOME  # noqa: PLC0414
from ketascreen.records.location import data_dir as data_dir  # noqa: PLC0414

SCHEMA_REVISION: Final = "0006"
"""The newest migration (``tests/records`` checks it against the migration scripts)."""
KNOWN_REVISIONS: Final = ("0006", "0005", "0004", "0003", "0002", "0001")
"""Every revision, newest first."""
MIGRATIONS: Final = Path(__file__).resolve().parent / "migrations"
ROLES_SQL: Final = Path(__file__).resolve().parent / "sql" / "roles.sql"
"""The application role's rights on PostgreSQL (run by the owner after every migration)."""
APP_ROLE_SETTING: Final = "ketascreen.app_role"
"""The setting ``roles.sql`` reads the application role's name from."""
_PG_MIGRATION_LOCK: Final = 0x6B657461  # "keta": serialises migrations of one server
_SQLITE_BUSY_TIMEOUT_MS: Final = 30_000


def database_url(url: str | URL | None = None) -> URL:
    """The database to use: ``url``, else ``$KETASCREEN_DATABASE_URL``, else the SQLite file.

    ``postgresql://`` URLs use the psycopg (3) driver.

    Raises:
        StorageError: the URL cannot be parsed or names an unsupported database.
    """
    chosen = url if url is not None else os.environ.get(ENV_DATABASE_URL) or None
    if chosen is None:
        return URL.create("sqlite", database=str(data_dir() / DATABASE_FILE))
    try:
        parsed = make_url(chosen)
    except ArgumentError:
        raise StorageError("(unparsable URL)", "not a database URL such as "
                           "postgresql://user@host/ketascreen or sqlite:////path/file") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StorageError(describe(parsed), "only SQLite and PostgreSQL are supported")
    return parsed


def describe(url: URL) -> str:
    """The database for messages: the file of a SQLite URL, else the URL without password."""
    if url.get_backend_name() == "sqlite" and url.database:
        return url.database
    return url.render_as_string(hide_password=True)


def _prepare_sqlite_file(url: URL) -> None:
    """Create the SQLite file (and its folder) private to the user before SQLite opens it."""
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return
    path = Path(url.database)
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(descriptor)
    # SQLite creates the -wal and -shm files with the mode of the database file.
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if candidate.exists() and candidate.stat().st_mode & 0o077:
            candidate.chmod(0o600)


def _configure_sqlite(engine: Engine, *, immediate: bool) -> None:
    """Pragmas on every connection; explicit BEGIN (IMMEDIATE for the writer)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA secure_delete = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """The two engines of one database: a reader and a writer.

    On SQLite the writer begins every transaction with ``BEGIN IMMEDIATE``, so a write never
    starts from a snapshot another process has since changed; readers use plain ``BEGIN`` and are
    not blocked by the writer (WAL). On PostgreSQL the reader is read-only.

    Args:
        url: the database (see :func:`database_url`); ``None`` for the default.
        migrate: bring the schema to the newest revision now (the default).

    Raises:
        StorageError: the database cannot be opened, or was written by a newer ketascreen.
    """

    def __init__(self, url: str | URL | None = None, *, migrate: bool = True) -> None:
        self.url = database_url(url)
        self.name = describe(self.url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        try:
            if self.is_sqlite:
                _prepare_sqlite_file(self.url)
        except OSError as error:
            raise StorageError(self.name, f"cannot create the database file: {error.strerror}"
                               ) from None
        options: dict[str, Any] = {"hide_parameters": True}  # no patient data in errors/logs
        self.writer = create_engine(self.url, **options)
        self.reader = create_engine(self.url, **options)
        if self.is_sqlite:
            _configure_sqlite(self.writer, immediate=True)
            _configure_sqlite(self.reader, immediate=False)
        else:
            self.reader = self.reader.execution_options(postgresql_readonly=True)
        self._read_sessions = sessionmaker(self.reader, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.writer, expire_on_commit=False)
        if migrate:
            try:
                self.migrate()
            except BaseException:
                self.dispose()  # the caller never gets the engines to close
                raise

    def migrate(self, *, app_roles: Sequence[str] = ()) -> tuple[str, ...]:
        """Upgrade the schema to :data:`SCHEMA_REVISION` (nothing to do when it is current).

        On PostgreSQL, after a migration (or when ``app_roles`` are named) the rights of
        :data:`ROLES_SQL` are applied to ``app_roles`` and to every role that already holds them
        (so tables a migration added are covered); that needs the owner of the tables.

        Args:
            app_roles: PostgreSQL application roles to grant the rights to (``db init``).

        Returns:
            The application roles whose rights were applied (none on SQLite).

        Raises:
            StorageError: the database cannot be reached, its schema is newer than this code,
                or it is behind and this role may not change it (run ``ketascreen db upgrade``
                as the owner), or a named role cannot be an application role.
        """
        if app_roles and self.is_sqlite:
            raise StorageError(self.name, "application roles are a PostgreSQL feature; a SQLite "
                               "file is protected by its file mode (0600)")
        try:
            with self.writer.begin() as connection:
                if not self.is_sqlite:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                       {"key": _PG_MIGRATION_LOCK})
                current = _current_revision(connection)
                if current is not None and current not in KNOWN_REVISIONS:
                    raise StorageError(self.name, f"the database has schema revision {current}, "
                                       "written by a newer ketascreen; upgrade ketascreen")
                if current == SCHEMA_REVISION and not app_roles:
                    return ()
                if current != SCHEMA_REVISION:
                    if not self.is_sqlite and not _may_change_schema(connection):
                        user = connection.execute(text("SELECT current_user")).scalar()
                        if current is None:
                            raise StorageError(self.name, (
                                f"no records schema that the role {user} may use, and it may "
                                "not create one: the owner of the records tables runs "
                                f"`ketascreen db init --owner-url URL --app-role {user}` first"))
                        raise StorageError(self.name, (
                            f"the records schema is at revision {current or '(none)'} and this "
                            f"ketascreen needs {SCHEMA_REVISION}, but the role {user} may not "
                            "change the schema: run `ketascreen db upgrade --owner-url URL` as "
                            "the owner of the records tables"))
                    _upgrade(connection)
                if self.is_sqlite:
                    return ()
                roles = sorted({*app_roles, *_granted_roles(connection)})
                for role in roles:
                    grant_app_role(connection, role, self.name)
                return tuple(roles)
        except DBAPIError as error:
            raise StorageError(self.name, _reason(error)) from None

    def may_change_schema(self) -> bool:
        """Whether the connected role may migrate (always on SQLite; on PostgreSQL: it may
        create in the schema and owns the tables)."""
        if self.is_sqlite:
            return True
        with self.writer.connect() as connection:
            return _may_change_schema(connection)

    def revision(self) -> str | None:
        """The schema revision stored in the database (``None`` before the first migration)."""
        with self.reader.connect() as connection:
            return _current_revision(connection)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (one snapshot on SQLite; read-only on PostgreSQL)."""
        with self._read_sessions() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction: committed at the end, rolled back on error."""
        with self._write_sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.writer.dispose()
        self.reader.dispose()


def _current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if value is None else str(value)


def _may_change_schema(connection: Connection) -> bool:
    """PostgreSQL: the role may create in the current schema and owns ``alembic_version`` (or
    there is none yet)."""
    allowed = connection.execute(text(
        "SELECT current_schema() IS NOT NULL "
        "AND has_schema_privilege(current_schema(), 'CREATE') "
        "AND COALESCE((SELECT pg_has_role(current_user, tableowner, 'USAGE') FROM pg_tables "
        "WHERE schemaname = current_schema() AND tablename = 'alembic_version'), true)")
                                 ).scalar()
    return bool(allowed)


def _granted_roles(connection: Connection) -> list[str]:
    """PostgreSQL: the roles other than the owner granted USAGE on the current schema."""
    rows = connection.execute(text(
        "SELECT DISTINCT r.rolname FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a "
        "JOIN pg_roles r ON r.oid = a.grantee WHERE n.nspname = current_schema() "
        "AND a.privilege_type = 'USAGE' AND a.grantee <> n.nspowner")).scalars()
    return [str(name) for name in rows]


def grant_app_role(connection: Connection, role: str, database: str) -> None:
    """Apply :data:`ROLES_SQL` for ``role`` on the current schema (PostgreSQL, as the owner).

    Args:
        connection: a connection in a transaction, as the owner of the records tables.
        role: the application role.
        database: the database, for messages.

    Raises:
        StorageError: the script refused the role (it does not exist, is the owner, a superuser
            or a member of the owner) or the connected role may not grant.
    """
    connection.execute(text("SELECT set_config(:name, :role, true)"),
                       {"name": APP_ROLE_SETTING, "role": role})
    # the driver's cursor without parameters: the script's '%' are format() and RAISE markers
    cursor = connection.connection.cursor()
    try:
        cursor.execute(ROLES_SQL.read_text(encoding="utf-8"))
    except connection.dialect.loaded_dbapi.Error as error:
        lines = str(error).strip().splitlines()
        raise StorageError(database, f"cannot grant the application role {role} its rights: "
                           f"{lines[0] if lines else type(error).__name__}") from None
    finally:
        cursor.close()


def _upgrade(connection: Connection) -> None:
    """Run the Alembic scripts on ``connection`` (inside its transaction)."""
    from alembic import command  # noqa: PLC0415 - only when the schema must change
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _reason(error: SQLAlchemyError) -> str:
    """The first line of the driver's message, without SQL or parameters."""
    original = getattr(error, "orig", None)
    text_ = str(original) if original is not None else str(error)
    return text_.strip().splitlines()[0] if text_.strip() else type(error).__name__
