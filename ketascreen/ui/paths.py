"""Where the desktop app keeps its settings and drafts.

Everything goes under one data folder: ``$KETASCREEN_HOME`` when set (tests, demos, a second
profile), else the user data directory of the platform (platformdirs). Settings are QSettings:
the platform's native store normally, an INI file under ``$KETASCREEN_HOME`` when it is set, so
a test or a screenshot run never touches the user's settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANISATION = "ketascreen"
APPLICATION = "ketascreen"
HOME_VARIABLE = "KETASCREEN_HOME"


def data_home() -> Path:
    """The app's data folder (``$KETASCREEN_HOME`` or the platform's user data directory)."""
    override = os.environ.get(HOME_VARIABLE)
    if override:
        return Path(override)
    from platformdirs import user_data_dir  # noqa: PLC0415 - only the GUI needs it

    return Path(user_data_dir(APPLICATION, appauthor=False))


def drafts_dir() -> Path:
    """The folder autosaved drafts are written to."""
    return data_home() / "drafts"


def open_settings() -> QSettings:
    """The app's settings: an INI file under ``$KETASCREEN_HOME`` when set, else native."""
    override = os.environ.get(HOME_VARIABLE)
    if override:
        return QSettings(str(Path(override) / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, ORGANISATION,
                     APPLICATION)
