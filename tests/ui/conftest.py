"""Fixtures of the desktop app tests: isolated settings and data folder, a window, Qt warnings.

Every test runs with ``KETASCREEN_HOME`` in a temporary folder and settings in an INI file
there, so no test reads or writes the user's settings or drafts. A Qt warning fails the test
(house style practice 13), except the short list below, each with its reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QStandardPaths, QtMsgType
from pytestqt.qtbot import QtBot

from ketascreen.ui.drafts import DraftStore
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.settings import AppSettings
from tests.helpers.cases import EXAMPLE_CASE
from tests.ui.helpers import FakeDialogs, ini_settings

QT_WARNINGS_ALLOWED = (
    # The offscreen platform cannot pass window size hints on; harmless and unavoidable there.
    "This plugin does not support propagateSizeHints()",
    # Printed once by QStandardPaths when XDG_RUNTIME_DIR is unset (CI containers).
    "XDG_RUNTIME_DIR not set",
    # Popups (the medication completer, combo lists) raise and grab the keyboard; the offscreen
    # platform has neither a window stack nor a keyboard to grab.
    "This plugin does not support raise()",
    "This plugin does not support grabbing the keyboard",
)


@pytest.fixture(autouse=True)
def ketascreen_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point KETASCREEN_HOME at a temporary folder; Qt's standard paths in test mode."""
    home = tmp_path / "ketascreen-home"
    monkeypatch.setenv("KETASCREEN_HOME", str(home))
    QStandardPaths.setTestModeEnabled(True)
    return home


@pytest.fixture(autouse=True)
def _no_qt_warnings(qtlog: Any) -> Iterator[None]:
    """Fail a test that made Qt print a warning (or worse) not on the allowed list."""
    yield
    bad = [r.message for r in qtlog.records
           if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
           and not any(allowed in r.message for allowed in QT_WARNINGS_ALLOWED)]
    assert not bad, f"Qt warnings: {bad}"


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    """Settings in a temporary INI file."""
    return ini_settings(tmp_path)


@pytest.fixture
def dialogs() -> FakeDialogs:
    """Dialogs that answer at once ("discard" when asked about unsaved changes)."""
    return FakeDialogs()


@pytest.fixture
def drafts(ketascreen_home: Path) -> DraftStore:
    """The drafts folder under the temporary KETASCREEN_HOME."""
    return DraftStore(ketascreen_home / "drafts")


@pytest.fixture
def window(qtbot: QtBot, settings: AppSettings, drafts: DraftStore,
           dialogs: FakeDialogs) -> MainWindow:
    """A shown main window with an empty form (autosave every 100 ms)."""
    main = MainWindow(settings, drafts=drafts, dialogs=dialogs,  # type: ignore[arg-type]
                      autosave_ms=100)
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    return main


@pytest.fixture
def example() -> dict[str, Any]:
    """The spec's example case document."""
    data: dict[str, Any] = json.loads(EXAMPLE_CASE.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def case_file(tmp_path: Path, example: dict[str, Any]) -> Path:
    """A copy of the example case in a temporary folder."""
    path = tmp_path / "case.json"
    path.write_text(json.dumps(example), encoding="utf-8")
    return path
