"""Where the database lives, how SQLite is configured, and that migrations match the models."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from ketascreen.errors import StorageError
from ketascreen.records import db
from ketascreen.records.db import Database, database_url
from ketascreen.records.models import Base
from ketascreen.records.repository import RecordStore
from tests.records.conftest import add_people


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_default_database_is_sqlite_in_ketascreen_home(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """KETASCREEN_HOME names the directory of the default SQLite file."""
    monkeypatch.setenv("KETASCREEN_HOME", str(tmp_path / "kh"))
    url = database_url()
    assert url.get_backend_name() == "sqlite"
    assert url.database == str(tmp_path / "kh" / db.DATABASE_FILE)


def test_default_directory_is_the_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without KETASCREEN_HOME the file is in the platform's user data directory."""
    import platformdirs

    monkeypatch.delenv("KETASCREEN_HOME", raising=False)
    assert db.data_dir() == platformdirs.user_data_path("ketascreen", appauthor=False)


def test_database_url_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """KETASCREEN_DATABASE_URL wins over KETASCREEN_HOME; postgresql:// means psycopg 3."""
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    assert database_url().database == str(tmp_path / "other.db")
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", "postgresql://clinic:secret@db.local/ks")
    url = database_url()
    assert url.drivername == "postgresql+psycopg"
    assert "secret" not in db.describe(url)


def test_unsupported_and_bad_urls_are_refused() -> None:
    """Only SQLite and PostgreSQL; a URL that does not parse is named as such."""
    with pytest.raises(StorageError, match="only SQLite and PostgreSQL"):
        database_url("mysql://x@y/z")
    with pytest.raises(StorageError, match="not a database URL"):
        database_url("not a url")


def test_unreachable_server_is_a_storage_error(tmp_path: Path) -> None:
    """A PostgreSQL server that is not there is a StorageError naming the database."""
    with pytest.raises(StorageError) as caught:
        Database(f"postgresql://nobody@/ketascreen?host={tmp_path}&connect_timeout=2")
    assert "records database" in str(caught.value)


def test_sqlite_file_is_private_wal_and_checks_foreign_keys(tmp_path: Path) -> None:
    """The file (and its -wal/-shm) is 0600 in a 0700 folder; WAL; foreign keys on."""
    path = tmp_path / "new" / "records.sqlite3"
    with RecordStore.open(f"sqlite:///{path}") as store:
        add_people(store)
        with store.database.write() as session:
            connection = session.connection()
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        for name in (path.name, path.name + "-wal", path.name + "-shm"):
            assert _mode(path.with_name(name)) == 0o600, name
        assert _mode(path.parent) == 0o700


def test_existing_sqlite_file_is_made_private(tmp_path: Path) -> None:
    """A database file someone made world-readable is reset to 0600 when opened."""
    path = tmp_path / "records.sqlite3"
    path.touch()
    os.chmod(path, 0o644)
    Database(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o600


def test_migrations_reach_head_and_match_the_models(database_url: str) -> None:
    """The schema after the migrations is exactly what the models declare (both databases)."""
    database = Database(database_url)
    try:
        assert database.revision() == db.SCHEMA_REVISION
        config = Config()
        config.set_main_option("script_location", str(db.MIGRATIONS))
        script = ScriptDirectory.from_config(config)
        assert script.get_current_head() == db.SCHEMA_REVISION
        assert tuple(r.revision for r in script.walk_revisions()) == db.KNOWN_REVISIONS
        with database.writer.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        database.dispose()


def test_reopening_does_not_migrate_again(empty_database_url: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A current database is opened without running Alembic (the first opening did)."""
    upgrades: list[object] = []
    upgrade = db._upgrade

    def counted(connection: Connection) -> None:
        upgrades.append(connection)
        upgrade(connection)

    monkeypatch.setattr(db, "_upgrade", counted)
    Database(empty_database_url).dispose()
    assert len(upgrades) == 1
    Database(empty_database_url).dispose()
    assert len(upgrades) == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database written by a newer ketascreen is not touched."""
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    database = Database(url)
    with database.writer.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    database.dispose()
    with pytest.raises(StorageError, match="newer ketascreen"):
        Database(url)
