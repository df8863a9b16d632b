"""Fixtures of the records tests: the same tests run on SQLite and on a real PostgreSQL server.

``database_url`` is parametrised ``sqlite`` / ``postgresql``. PostgreSQL is the server named by
``$KETASCREEN_TEST_POSTGRES_URL`` (``.ci/run`` starts one), else a throwaway server this session
starts itself (``tests/records/pgserver.py``). Each test gets a fresh schema on it. When no
server can be started, the ``postgresql`` tests are skipped with the reason in the report.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ketascreen.records import users
from ketascreen.records.db import Database
from ketascreen.records.repository import RecordStore
from ketascreen.records.users import Actor
from ketascreen.reports.keys import generate_self_signed
from ketascreen.reports.output import SigningRequest
from tests.records import pgserver, rawsql
from tests.records.support import KEY_PASSPHRASE, PASSWORDS, register, signed_pdf

ENV_POSTGRES = "KETASCREEN_TEST_POSTGRES_URL"
ENV_POSTGRES_OWNER = "KETASCREEN_TEST_POSTGRES_OWNER_URL"
ENV_POSTGRES_APP = "KETASCREEN_TEST_POSTGRES_APP_URL"


@dataclass(frozen=True)
class PostgresServer:
    """Where the PostgreSQL tests run, or why they cannot.

    Attributes:
        url: the superuser (sets up test schemas; tampers as a database administrator would).
        reason: why there is no server.
        owner_url: the owner of the records tables (runs the migrations).
        app_url: the application role (what the store connects as).
    """

    url: str | None
    reason: str | None
    owner_url: str | None = None
    app_url: str | None = None

    def app_role(self) -> str:
        """The application role's name."""
        assert self.app_url is not None
        return str(make_url(self.app_url).username)


def _with_roles(url: str) -> PostgresServer:
    """The server of superuser ``url``, its owner and application roles created if missing (a
    server given by CI made them already; see ``tests/records/pgserver.py``)."""
    admin_url = make_url(url)
    owner = os.environ.get(ENV_POSTGRES_OWNER) or admin_url.set(
        username=pgserver.OWNER).render_as_string(hide_password=False)
    app = os.environ.get(ENV_POSTGRES_APP) or admin_url.set(
        username=pgserver.APP).render_as_string(hide_password=False)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            database = connection.execute(text("SELECT current_database()")).scalar_one()
            for role in (make_url(owner).username, make_url(app).username):
                exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                                            {"r": role}).scalar()
                if not exists:
                    connection.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER'))
            connection.execute(text(
                f'GRANT CREATE ON DATABASE "{database}" TO "{make_url(owner).username}"'))
    finally:
        admin.dispose()
    return PostgresServer(url, None, owner, app)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server of this session (started here unless CI gave one)."""
    given = os.environ.get(ENV_POSTGRES)
    if given:
        yield _with_roles(given)
        return
    try:
        server = pgserver.start()
    except pgserver.ServerUnavailableError as error:
        yield PostgresServer(None, str(error))
        return
    try:
        yield _with_roles(server.url)
    finally:
        pgserver.stop(server)


def in_schema(url: str, schema: str) -> str:
    """``url`` with ``schema`` as its search path."""
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}
                                           ).render_as_string(hide_password=False)


@contextmanager
def postgres_schema(server: PostgresServer) -> Iterator[str]:
    """A new schema owned by the owner role, dropped (as the superuser) afterwards."""
    if server.url is None:
        pytest.skip(f"PostgreSQL NOT TESTED: no server could be started "
                    f"({server.reason}); set {ENV_POSTGRES} or install postgresql")
    assert server.owner_url is not None
    schema = f"t_{uuid.uuid4().hex[:16]}"
    owner = make_url(server.owner_url).username
    admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{owner}"'))
        yield schema
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                 postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database: a SQLite file (empty), or a new schema on the PostgreSQL server set
    up as a clinic would (``ketascreen db init``: migrated by the owner role, rights granted
    to the application role), reached as the application role.

    Raw SQL through :func:`tests.records.rawsql.raw` on this URL runs as the superuser (an
    attacker who is database administrator); the store runs as the application role.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.sqlite3'}"
        return
    with postgres_schema(postgres_server) as schema:
        assert postgres_server.owner_url is not None and postgres_server.app_url is not None
        owner = Database(in_schema(postgres_server.owner_url, schema), migrate=False)
        try:
            owner.migrate(app_roles=[postgres_server.app_role()])
        finally:
            owner.dispose()
        url = in_schema(postgres_server.app_url, schema)
        assert postgres_server.url is not None
        rawsql.ADMIN_URLS[url] = in_schema(postgres_server.url, schema)
        try:
            yield url
        finally:
            rawsql.ADMIN_URLS.pop(url, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path,
                       postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database that may be migrated by whoever opens it: a SQLite file, or a
    new schema on the PostgreSQL server reached as the owner role (tests of migrations)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.sqlite3'}"
        return
    with postgres_schema(postgres_server) as schema:
        assert postgres_server.owner_url is not None and postgres_server.url is not None
        url = in_schema(postgres_server.owner_url, schema)
        rawsql.ADMIN_URLS[url] = in_schema(postgres_server.url, schema)
        try:
            yield url
        finally:
            rawsql.ADMIN_URLS.pop(url, None)


@pytest.fixture
def backend(database_url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    return make_url(database_url).get_backend_name()


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Argon2 at its cheapest profile (hashes still verify the same way), and no test touches
    the real user data directory."""
    monkeypatch.setattr(users, "_HASHER", PasswordHasher.from_parameters(CHEAPEST))
    monkeypatch.setenv("KETASCREEN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KETASCREEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("KETASCREEN_USER", raising=False)


@pytest.fixture
def store(database_url: str) -> Iterator[RecordStore]:
    """An open store on a fresh database."""
    opened = RecordStore.open(database_url)
    try:
        yield opened
    finally:
        opened.close()


@dataclass(frozen=True)
class People:
    """The accounts of a test clinic, logged in."""

    admin: Actor
    physician: Actor
    nurse: Actor
    nurse2: Actor


def add_people(store: RecordStore, certificate: SigningRequest | None = None) -> People:
    """Create an admin, a physician and two nurses, and log each in; with ``certificate``, its
    certificate is registered to the physician (Dr Smith) so she may sign with it."""
    store.add_user(None, username="admin", display_name="Clinic Admin", role="admin",
                   password=PASSWORDS["admin"])
    admin = store.authenticate("admin", PASSWORDS["admin"])
    for username, name, role in (("drsmith", "Dr Jane Smith", "physician"),
                                 ("rnpatel", "Sam Patel RN", "nurse"),
                                 ("rnlee", "Kim Lee RN", "nurse")):
        store.add_user(admin, username=username, display_name=name, role=role,
                       password=PASSWORDS[username])
    people = People(admin, store.authenticate("drsmith", PASSWORDS["drsmith"]),
                    store.authenticate("rnpatel", PASSWORDS["rnpatel"]),
                    store.authenticate("rnlee", PASSWORDS["rnlee"]))
    if certificate is not None:
        register(store, people.physician, certificate)
    return people


@pytest.fixture
def people(store: RecordStore, signing_request: SigningRequest) -> People:
    """Admin, physician and nurses of a fresh store; Dr Smith's certificate is registered."""
    return add_people(store, signing_request)


@pytest.fixture(scope="session")
def signing_request(tmp_path_factory: pytest.TempPathFactory) -> SigningRequest:
    """A self-signed EC key for Dr Jane Smith."""
    pair = generate_self_signed("Dr Jane Smith", KEY_PASSPHRASE, credentials="MD")
    path = tmp_path_factory.mktemp("records-key") / "drsmith.p12"
    path.write_bytes(pair.pkcs12)
    return SigningRequest(pair.pkcs12, KEY_PASSPHRASE, str(path))


@pytest.fixture
def sign(signing_request: SigningRequest) -> Any:
    """``sign(screening) -> bytes``: its signed checklist."""
    return lambda screening: signed_pdf(screening, signing_request)
