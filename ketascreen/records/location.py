"""Where the records database lives, without SQLAlchemy.

Starting the desktop app asks only whether a database is configured or exists
(:func:`default_database`); answering it must not load SQLAlchemy and the ORM, which
:mod:`ketascreen.records.db` imports to open one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

ENV_HOME: Final = "KETASCREEN_HOME"
ENV_DATABASE_URL: Final = "KETASCREEN_DATABASE_URL"
DATABASE_FILE: Final = "ketascreen.sqlite3"


def data_dir() -> Path:
    """The directory of the default SQLite database: ``$KETASCREEN_HOME`` or the user data dir."""
    home = os.environ.get(ENV_HOME)
    if home:
        return Path(home).expanduser()
    import platformdirs  # noqa: PLC0415 - only needed when no override is given

    return platformdirs.user_data_path("ketascreen", appauthor=False)


def default_database() -> str | None:
    """The records database the app opens at start, or ``None`` to start with files only.

    ``$KETASCREEN_DATABASE_URL`` when set; else the SQLite file in the data folder, but only if
    it exists already, so that merely starting the app never creates a database (the first
    account is made with ``ketascreen users add``).
    """
    url = os.environ.get(ENV_DATABASE_URL)
    if url:
        return url
    path = data_dir() / DATABASE_FILE
    return f"sqlite:///{path}" if path.is_file() else None
