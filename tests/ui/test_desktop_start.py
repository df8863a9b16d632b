"""A real desktop start: the app under an X server (Xvfb) with Qt's xcb platform plugin, the one
a Debian desktop uses, rather than the offscreen plugin of the other tests. It fails when a
runtime library the plugin needs (libxcb-cursor0, libxcb-icccm4, ...; README "Desktop app") is
missing, which is what `make run` on a fresh machine would hit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from tests.helpers.cases import EXAMPLE_CASE

REPO = Path(__file__).resolve().parents[2]
XVFB_RUN = shutil.which("xvfb-run")

pytestmark = pytest.mark.skipif(
    XVFB_RUN is None, reason="xvfb-run is not installed (Debian: apt-get install xvfb xauth; "
                             ".ci/run installs it)")


def _under_xvfb(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update({"QT_QPA_PLATFORM": "xcb", "KETASCREEN_HOME": str(home)})
    return subprocess.run([str(XVFB_RUN), "-a", "-s", "-screen 0 1600x1000x24", *args],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=180,
                          check=False)


def test_the_xcb_platform_plugin_loads_under_an_x_server(tmp_path: Path) -> None:
    """Qt starts on xcb (not offscreen) under Xvfb: the plugin and its libraries load."""
    code = ("from PySide6.QtWidgets import QApplication; app = QApplication([]); "
            "print(QApplication.platformName())")
    done = _under_xvfb([sys.executable, "-c", code], tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "xcb"


def test_ketascreen_gui_opens_its_window_on_xcb(tmp_path: Path) -> None:
    """`ketascreen gui CASE --screenshot PNG` under xvfb-run draws the screened window."""
    out = tmp_path / "desktop.png"
    done = _under_xvfb([sys.executable, "-m", "ketascreen.cli", "gui", str(EXAMPLE_CASE),
                        "--screenshot", str(out)], tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert "Could not load the Qt platform plugin" not in done.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1400, 900)
    colours = {image.pixel(x, y) for x in range(0, 1400, 35) for y in range(0, 900, 30)}
    assert len(colours) > 20  # a drawn window, not a blank frame


def test_the_interactive_app_paints_before_the_core_loads_on_xcb(tmp_path: Path) -> None:
    """On an X server, whose expose events come when the server sends them, the window still
    paints before the core is imported, then shows the screened case (shell first)."""
    from tests.ui.test_shell_first import _DRIVER, CORE

    done = _under_xvfb([sys.executable, "-c", _DRIVER, str(EXAMPLE_CASE), json.dumps(CORE),
                        "close"], tmp_path / "home")
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["first_paint"] == []
    assert seen["decision"] == "needs-review"
    assert seen["status"] == 0
