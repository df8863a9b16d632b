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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ketascreen.records import users
from ketascreen.records.repository import RecordStore
from ketascreen.records.users import Actor
from ketascreen.reports.output import SigningRequest
from ketascreen.reports.signing import generate_self_signed
from tests.records import pgserver
from tests.records.support import KEY_PASSPHRASE, PASSWORDS, register, signed_pdf

ENV_POSTGRES = "KETASCREEN_TEST_POSTGRES_URL"


@dataclass(frozen=True)
class PostgresServer:
    """Where the PostgreSQL tests run, or why they cannot."""

    url: str | None
    reason: str | None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server of this session (started here unless CI gave one)."""
    given = os.environ.get(ENV_POSTGRES)
    if given:
        yield PostgresServer(given, None)
        return
    try:
        server = pgserver.start()
    except pgserver.ServerUnavailableError as error:
        yield PostgresServer(None, str(error))
        return
    try:
        yield PostgresServer(server.url, None)
    finally:
        pgserver.stop(server)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                 postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.sqlite3'}"
        return
    if postgres_server.url is None:
        pytest.skip(f"PostgreSQL NOT TESTED: no server could be started "
                    f"({postgres_server.reason}); set {ENV_POSTGRES} or install postgresql")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(postgres_server.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(postgres_server.url).update_query_dict(
            {"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


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
