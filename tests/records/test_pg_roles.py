"""PostgreSQL roles: the owner migrates, the application role holds only what the app needs.

The store in every PostgreSQL records test connects as the application role of a schema set up
by the owner (``tests/records/conftest.py``, as ``ketascreen db init`` does). Here that role
tries what someone with the app's database credentials would to hide a change: disable or drop
the audit trail's triggers, update, delete or truncate it, change the schema. PostgreSQL
refuses each (insufficient privilege), and the trail still verifies. The app does not migrate a
schema that is behind; the owner does, with ``ketascreen db upgrade``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ketascreen.cli import main
from ketascreen.errors import AuthenticationFailedError, LoginThrottledError, StorageError
from ketascreen.records import db
from ketascreen.records.db import Database
from ketascreen.records.repository import RecordStore
from ketascreen.records.users import THROTTLE_AFTER
from tests.records import pgserver
from tests.records.conftest import PostgresServer, in_schema, postgres_schema
from tests.records.support import PASSWORDS

ON_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
INSUFFICIENT_PRIVILEGE = "42501"

ATTACKS = {
    "ALTER TABLE audit_events DISABLE TRIGGER ALL": "must be owner of table audit_events",
    "ALTER TABLE audit_events DISABLE TRIGGER USER": "must be owner of table audit_events",
    "DROP TRIGGER audit_events_no_change ON audit_events":
        "must be owner of relation audit_events",
    "UPDATE audit_events SET detail = '{}'": "permission denied for table audit_events",
    "DELETE FROM audit_events": "permission denied for table audit_events",
    "TRUNCATE audit_events": "permission denied for table audit_events",
    "UPDATE signed_documents SET size = 0": "permission denied for table signed_documents",
    "DELETE FROM signing_certificates": "permission denied for table signing_certificates",
    "DELETE FROM screenings": "permission denied for table screenings",
    "ALTER TABLE screenings DISABLE TRIGGER USER": "must be owner of table screenings",
    "DROP TABLE audit_events": "must be owner of table audit_events",
    "ALTER TABLE audit_events ADD COLUMN note text": "must be owner of table audit_events",
    "CREATE TABLE shadow (id int)": "permission denied for schema",
    "DROP FUNCTION ketascreen_refuse()": "must be owner of function ketascreen_refuse",
    "SET session_replication_role = replica":
        'permission denied to set parameter "session_replication_role"',
    "UPDATE alembic_version SET version_num = '0001'":
        "permission denied for table alembic_version",
}


@pytest.fixture
def server(postgres_server: PostgresServer) -> PostgresServer:
    if postgres_server.url is None:
        pytest.skip(f"PostgreSQL NOT TESTED: {postgres_server.reason}")
    return postgres_server


@pytest.fixture
def schema(server: PostgresServer) -> Iterator[str]:
    """An empty schema owned by the owner role."""
    with postgres_schema(server) as name:
        yield name


def _owner(server: PostgresServer, schema: str) -> str:
    assert server.owner_url is not None
    return in_schema(server.owner_url, schema)


def _app(server: PostgresServer, schema: str) -> str:
    assert server.app_url is not None
    return in_schema(server.app_url, schema)


def _refusal(url: str, statement: str) -> DBAPIError:
    engine = create_engine(url)
    try:
        with pytest.raises(DBAPIError) as refused, engine.begin() as connection:
            connection.execute(text(statement))
        return refused.value
    finally:
        engine.dispose()


@ON_POSTGRESQL
@pytest.mark.parametrize("statement", list(ATTACKS))
def test_the_app_role_cannot_rewrite_the_trail(store: RecordStore, database_url: str,
                                               statement: str) -> None:
    """Each statement is refused by PostgreSQL itself (insufficient privilege, with its
    message), and the trail it targeted still verifies, event for event."""
    store.add_user(None, username="admin", display_name="Clinic Admin", role="admin",
                   password=PASSWORDS["admin"])
    store.authenticate("admin", PASSWORDS["admin"])
    before = store.verify_audit()
    assert make_url(database_url).username == "ketascreen_app"
    error = _refusal(database_url, statement)
    assert getattr(error.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE
    assert ATTACKS[statement] in str(error.orig)
    after = store.verify_audit()
    assert after.ok and after.events == before.events and after.head_hash == before.head_hash


@ON_POSTGRESQL
def test_the_app_role_holds_exactly_the_listed_rights(database_url: str) -> None:
    """SELECT everywhere, INSERT everywhere but alembic_version, UPDATE only where drafts,
    accounts, settings, the head and the throttle need it; no DELETE, TRUNCATE, REFERENCES or
    TRIGGER; no CREATE on the schema; owns nothing."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            grants = connection.execute(text(
                "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = current_user AND table_schema = current_schema()")).all()
            owned = connection.execute(text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND pg_has_role(current_user, c.relowner, "
                "'USAGE')")).scalar_one()
            create = connection.execute(text(
                "SELECT has_schema_privilege(current_schema(), 'CREATE')")).scalar_one()
    finally:
        engine.dispose()
    rights: dict[str, set[str]] = {}
    for table, privilege in grants:
        rights.setdefault(table, set()).add(privilege)
    updatable = {"users", "patients", "screenings", "user_settings", "audit_head",
                 "login_throttle"}
    assert set(rights) >= {"audit_events", "signed_documents", "signing_certificates",
                           "clinic_files", "alembic_version", *updatable}
    for table, held in rights.items():
        expected = {"SELECT"} if table == "alembic_version" else (
            {"SELECT", "INSERT", "UPDATE"} if table in updatable else {"SELECT", "INSERT"})
        assert held == expected, table
    assert owned == 0 and create is False


def test_the_app_does_not_migrate_a_schema_that_is_behind(
        server: PostgresServer, schema: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A schema at the previous revision, opened by the app role: refused, naming the
    revisions and the command for the owner; `db upgrade` as the owner migrates it and
    re-grants, and the app then uses the new revision's table (login_throttle)."""
    owner = Database(_owner(server, schema), migrate=False)
    try:
        with owner.writer.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(db.MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, db.KNOWN_REVISIONS[1])
            db.grant_app_role(connection, server.app_role(), owner.name)
    finally:
        owner.dispose()
    with pytest.raises(StorageError) as behind:
        RecordStore.open(_app(server, schema))
    assert (f"the records schema is at revision {db.KNOWN_REVISIONS[1]} and this ketascreen "
            f"needs {db.SCHEMA_REVISION}, but the role ketascreen_app may not change the "
            "schema: run `ketascreen db upgrade --owner-url URL` as the owner of the records "
            "tables") in str(behind.value)

    monkeypatch.setenv("KETASCREEN_DATABASE_URL", _app(server, schema))
    assert main(["db", "status"]) == 0
    assert "the role connected may NOT change the schema" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 3  # as the app role: refused the same way
    assert "run `ketascreen db upgrade --owner-url URL`" in capsys.readouterr().err

    assert main(["db", "upgrade", "--owner-url", _owner(server, schema)]) == 0
    out = capsys.readouterr().out
    assert (f"schema revision {db.SCHEMA_REVISION} (migrated from {db.KNOWN_REVISIONS[1]})"
            in out)
    assert "application role ketascreen_app: SELECT on every table" in out
    with RecordStore.open(_app(server, schema)) as store:
        store.add_user(None, username="admin", display_name="Clinic Admin", role="admin",
                       password=PASSWORDS["admin"])
        for _ in range(THROTTLE_AFTER):
            with pytest.raises(AuthenticationFailedError):
                store.authenticate("admin", "not-the-password")
        with pytest.raises(LoginThrottledError):
            store.authenticate("admin", PASSWORDS["admin"])
        assert store.verify_audit().ok


def test_db_init_sets_up_an_empty_schema(server: PostgresServer, schema: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "init", "--owner-url", _owner(server, schema),
                 "--app-role", "ketascreen_app"]) == 0
    out = capsys.readouterr().out
    assert f"schema revision {db.SCHEMA_REVISION} (migrated from (empty))" in out
    assert "application role ketascreen_app:" in out
    with RecordStore.open(_app(server, schema)) as store:
        store.add_user(None, username="admin", display_name="Clinic Admin", role="admin",
                       password=PASSWORDS["admin"])
        assert store.authenticate("admin", PASSWORDS["admin"]).username == "admin"
        assert store.verify_audit().ok
    error = _refusal(_app(server, schema), "ALTER TABLE audit_events DISABLE TRIGGER ALL")
    assert "must be owner of table audit_events" in str(error.orig)
    assert main(["db", "init", "--owner-url", _owner(server, schema),
                 "--app-role", "ketascreen_app"]) == 0  # again: harmless
    assert "(already current)" in capsys.readouterr().out


@pytest.mark.parametrize(("role", "reason"), [
    ("ketascreen_owner", "is the owner running this script"),
    ("ketascreen", "is a superuser"),
    ("nobody_here", "the role nobody_here does not exist"),
    (None, "name the role the app connects as with --app-role"),
])
def test_db_init_refuses_an_application_role_that_could_disable_triggers(
        server: PostgresServer, schema: str, capsys: pytest.CaptureFixture[str],
        role: str | None, reason: str) -> None:
    superuser = str(make_url(server.url or "").username)
    role = superuser if role == "ketascreen" else role
    argv = ["db", "init", "--owner-url", _owner(server, schema)]
    assert main([*argv, "--app-role", role] if role else argv) == 3
    assert reason in capsys.readouterr().err


def test_db_init_on_sqlite_migrates_the_file(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    assert main(["db", "init", "--owner-url", url]) == 0
    assert f"schema revision {db.SCHEMA_REVISION} (migrated from (empty))" in \
        capsys.readouterr().out
    assert main(["db", "init", "--owner-url", url, "--app-role", "app"]) == 3
    assert "application roles are a PostgreSQL feature" in capsys.readouterr().err


def test_roles_sql_run_by_hand_with_psql(server: PostgresServer, schema: str) -> None:
    """The documented way without ketascreen: the owner migrates, then runs roles.sql with
    psql naming the role in PGOPTIONS; the app role then works and cannot disable a trigger."""
    bindir = pgserver.find_bindir()
    if bindir is None or not (bindir / "psql").exists():
        pytest.skip("psql is not installed")
    owner_url = _owner(server, schema)
    Database(owner_url).dispose()  # migrated by the owner, no rights granted yet
    with pytest.raises(StorageError) as unusable:
        RecordStore.open(_app(server, schema))
    assert ("no records schema that the role ketascreen_app may use, and it may not create "
            "one: the owner of the records tables runs `ketascreen db init --owner-url URL "
            "--app-role ketascreen_app` first") in str(unusable.value)
    owner = make_url(owner_url)
    done = subprocess.run(
        [str(bindir / "psql"), "-h", str(owner.query["host"]), "-U", str(owner.username),
         "-d", str(owner.database), "-v", "ON_ERROR_STOP=1", "-q", "-f", str(db.ROLES_SQL)],
        env={**os.environ, "PGOPTIONS": f"-c search_path={schema} "
             f"-c ketascreen.app_role={server.app_role()}"},
        capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    with RecordStore.open(_app(server, schema)) as store:
        store.add_user(None, username="admin", display_name="Clinic Admin", role="admin",
                       password=PASSWORDS["admin"])
        assert store.verify_audit().ok
    error = _refusal(_app(server, schema), "ALTER TABLE audit_events DISABLE TRIGGER ALL")
    assert "must be owner of table audit_events" in str(error.orig)
