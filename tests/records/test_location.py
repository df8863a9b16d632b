"""Where the records database lives is answered without SQLAlchemy (the app's start asks it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ketascreen.records import db, location


def test_default_database_none_until_configured_or_present(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KETASCREEN_DATABASE_URL", raising=False)
    monkeypatch.setenv("KETASCREEN_HOME", str(tmp_path / "home"))
    assert location.default_database() is None
    assert not (tmp_path / "home").exists()  # nothing is created to find out
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "ketascreen.sqlite3").touch()
    assert location.default_database() == f"sqlite:///{tmp_path / 'home' / 'ketascreen.sqlite3'}"
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", "postgresql://db/ketascreen")
    assert location.default_database() == "postgresql://db/ketascreen"


def test_a_folder_named_like_the_database_is_not_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KETASCREEN_DATABASE_URL", raising=False)
    monkeypatch.setenv("KETASCREEN_HOME", str(tmp_path))
    (tmp_path / "ketascreen.sqlite3").mkdir()
    assert location.default_database() is None


def test_db_opens_the_file_location_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KETASCREEN_DATABASE_URL", raising=False)
    monkeypatch.setenv("KETASCREEN_HOME", str(tmp_path))
    assert db.data_dir() == location.data_dir() == tmp_path
    assert db.database_url().database == str(tmp_path / location.DATABASE_FILE)


def test_asking_where_loads_no_sqlalchemy(tmp_path: Path) -> None:
    probe = ("import sys\nfrom ketascreen.records.location import default_database\n"
             "default_database()\nprint('sqlalchemy' in sys.modules, 'alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True, env={"KETASCREEN_HOME": str(tmp_path), "PATH": ""}).stdout
    assert out.split() == ["False", "False"]
