"""Starting the desktop app: ``ketascreen gui [CASE] [--screenshot PNG]``."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from ketascreen.errors import KnowledgeBaseError
from ketascreen.ui import actions
from ketascreen.ui.dialogs import Dialogs
from ketascreen.ui.drafts import DraftStore
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.paths import APPLICATION, ORGANISATION, drafts_dir, open_settings
from ketascreen.ui.settings import AppSettings
from ketascreen.ui.wheel_guard import install_wheel_guard

EXIT_OK = 0
EXIT_INVALID_INPUT = 2
EXIT_CONFIGURATION = 3
SCREENSHOT_SIZE = (1400, 900)
_PRELOAD_DELAY_MS = 300
"""After the first paint, the problem-list context reader loads in the background."""


class StderrDialogs(Dialogs):
    """Dialogs for an unattended run (screenshots): errors go to stderr, nothing blocks.

    Args:
        parent: the window.
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.errors: list[str] = []

    def error(self, title: str, text: str) -> None:
        """Print the error instead of showing a dialog."""
        self.errors.append(text)
        print(f"ketascreen: {title}: {text}", file=sys.stderr)

    def info(self, title: str, text: str) -> None:
        """Print the message instead of showing a dialog."""
        print(f"ketascreen: {title}: {text}", file=sys.stderr)


def application() -> QApplication:
    """The process's QApplication, created with the app's names if there is none yet, with the
    wheel policy of :mod:`ketascreen.ui.wheel_guard` installed."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        install_wheel_guard(existing)
        return existing
    app = QApplication([sys.argv[0] if sys.argv else "ketascreen"])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("ketascreen")
    install_wheel_guard(app)  # no value changes from a wheel the user did not mean
    return app


def grab_window(window: QWidget, path: Path, *, over: QWidget | None = None) -> None:
    """Save a PNG of ``window`` (with ``over``, e.g. a dialog, drawn centred on it)."""
    from PySide6.QtGui import QColor, QPainter  # noqa: PLC0415

    for _ in range(3):  # word-wrapped labels settle their height over a few layout passes
        QApplication.processEvents()
    picture: QPixmap = window.grab()
    if over is not None:
        top = over.grab()
        painter = QPainter(picture)
        x = (picture.width() - top.width()) // 2
        y = (picture.height() - top.height()) // 3
        painter.fillRect(x + 6, y + 6, top.width(), top.height(), QColor(0, 0, 0, 90))
        painter.drawPixmap(x, y, top)
        painter.setPen(QColor("#303030"))
        painter.drawRect(x - 1, y - 1, top.width() + 1, top.height() + 1)
        painter.end()
    if not picture.save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")


def screenshot(case: Path | None, out: Path) -> int:
    """Render the main window with ``case`` screened to a PNG, touching no user settings."""
    app = application()
    app.setStyle("Fusion")
    with tempfile.TemporaryDirectory(prefix="ketascreen-shot-") as folder:
        settings = AppSettings(QSettings(str(Path(folder) / "settings.ini"),
                                         QSettings.Format.IniFormat))
        window = MainWindow(settings, drafts=None)
        dialogs = StderrDialogs(window)
        window.dialogs = dialogs
        window.resize(*SCREENSHOT_SIZE)
        status = EXIT_OK
        if case is not None and not window.open_path(case, ask=False):
            status = EXIT_INVALID_INPUT
        window.rescreen_now()
        window.show()
        try:
            grab_window(window, out)
        except OSError as error:
            print(f"ketascreen: {error}", file=sys.stderr)
            status = EXIT_INVALID_INPUT
        window.close()
        window.deleteLater()
        app.processEvents()
    return status


def _has_display() -> bool:
    """Whether Qt can open a window: a display, or a platform chosen explicitly."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_gui(case: str | None = None, *, screenshot_path: str | None = None) -> int:
    """Run the desktop app (or, with ``screenshot_path``, write a screenshot and exit).

    Returns:
        The exit status: 0, 2 for a case file that cannot be opened (screenshot mode), 3 for
        an invalid rule set, policy or knowledge base.
    """
    if not _has_display():
        if screenshot_path is None:
            print("ketascreen: no display (DISPLAY and WAYLAND_DISPLAY are unset): the desktop "
                  "app cannot open a window here. Use `ketascreen screen` on the command line, "
                  "or set QT_QPA_PLATFORM=offscreen for a screenshot.", file=sys.stderr)
            return EXIT_CONFIGURATION
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no display
    app = application()
    try:
        actions.ruleset()
    except KnowledgeBaseError as error:
        print(f"ketascreen: configuration error: {error}", file=sys.stderr)
        if screenshot_path is None:
            QMessageBox.critical(None, "ketascreen cannot start",
                                 f"A rule, policy or knowledge-base file is invalid:\n\n"
                                 f"{error.file}: {error.entry}: {error.problem}")
        return EXIT_CONFIGURATION
    if screenshot_path is not None:
        return screenshot(Path(case) if case else None, Path(screenshot_path))
    settings = AppSettings(open_settings())
    from ketascreen.ui.records_actions import default_database  # noqa: PLC0415 - SQLAlchemy

    window = MainWindow(settings, drafts=DraftStore(drafts_dir()), records=default_database())
    if case is not None:
        window.open_path(Path(case), ask=False)
    window.show()
    # Not a daemon: a quit during the load waits for it rather than finalising under it.
    loader = threading.Thread(target=actions.preload_condition_context,
                              name="ketascreen-context-preload")
    QTimer.singleShot(_PRELOAD_DELAY_MS, loader.start)
    status = app.exec()
    window.deleteLater()  # destroy the Qt objects before Python finalises
    app.processEvents()
    return status
