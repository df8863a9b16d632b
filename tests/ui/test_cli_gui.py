"""`ketascreen gui`: the screenshot mode, and that the rest of the CLI never loads Qt."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from ketascreen.ui.app import SCREENSHOT_SIZE, grab_window, screenshot
from ketascreen.ui.main_window import MainWindow
from tests.helpers.cases import EXAMPLE_CASE
from tests.ui.helpers import ini_settings

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KETASCREEN_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "ketascreen.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)


def test_gui_screenshot_renders_the_screened_case_to_png(tmp_path: Path) -> None:
    """`ketascreen gui CASE --screenshot PNG` writes the window offscreen and exits 0."""
    out = tmp_path / "shot.png"
    done = _run(["gui", str(EXAMPLE_CASE), "--screenshot", str(out)], tmp_path / "home")
    assert done.returncode == 0, done.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1400, 900)
    assert not (tmp_path / "home").exists()  # a screenshot touches no settings or drafts


def test_gui_screenshot_of_a_missing_case_fails_with_status_2(tmp_path: Path) -> None:
    """A case file that cannot be opened is reported and the status is 2."""
    done = _run(["gui", str(tmp_path / "missing.json"), "--screenshot", str(tmp_path / "x.png")],
                tmp_path / "home")
    assert done.returncode == 2
    assert "cannot be read" in done.stderr


def test_the_cli_does_not_import_qt_for_other_commands() -> None:
    """Screening from the command line loads no Qt module."""
    code = ("import sys, io, contextlib; from ketascreen import cli; "
            "f = io.StringIO(); contextlib.redirect_stdout(f).__enter__(); "
            f"cli.main(['screen', {str(EXAMPLE_CASE)!r}]); "
            "sys.stderr.write(str(sorted(m for m in sys.modules if m.startswith(('PySide6', "
            "'ketascreen.ui')))))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "[]"


def test_the_screenshot_shows_what_the_window_shows_and_its_png_holds_the_grabbed_pixels(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """The unattended window of a screenshot is the one a user opening the case sees, pixel for
    pixel; and the PNG (written at a fast compression level) holds exactly the grabbed pixels."""
    assert screenshot(EXAMPLE_CASE, tmp_path / "shot.png") == 0
    window.resize(*SCREENSHOT_SIZE)
    assert window.open_path(EXAMPLE_CASE, ask=False)
    window.rescreen_now()
    grab_window(window, tmp_path / "window.png")
    grabbed = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    written = QImage(str(tmp_path / "window.png")).convertToFormat(QImage.Format.Format_RGB32)
    shot = QImage(str(tmp_path / "shot.png")).convertToFormat(QImage.Format.Format_RGB32)
    assert written == grabbed
    assert shot == written


def test_an_unattended_window_leaves_no_settings(qtbot: QtBot, tmp_path: Path) -> None:
    """A screenshot's window (unattended) writes no settings when closed; an attended one
    remembers its geometry."""
    for unattended in (True, False):
        folder = tmp_path / f"unattended-{unattended}"
        window = MainWindow(ini_settings(folder), drafts=None, unattended=unattended)
        qtbot.addWidget(window)
        window.show()
        window.close()
        assert (folder / "settings.ini").exists() is not unattended
