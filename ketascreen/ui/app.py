"""Starting the desktop app: ``ketascreen gui [CASE] [--screenshot PNG]``.

Shell first: the interactive app shows its window (title, menus, "Loading the rule set...")
with nothing but Qt imported; after that first paint, on the next turn of the event loop, it
loads the core and the rule set, builds the rest of the window, opens the records database (if
one is configured or exists) and the case, and screens it. The garbage collector is paused
during start-up (the imports, the rule set and the widgets allocate many long-lived objects and
free almost no cycles), then everything alive is frozen and it runs again: the start-up's
objects live as long as the app, so later collections need not walk them. At exit everything is
frozen again, so the last collections do not walk the heap only to free what the process is
about to release anyway.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from ketascreen.ui.dialogs import Dialogs
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.paths import APPLICATION, ORGANISATION, drafts_dir, open_settings
from ketascreen.ui.pyside_hook import lighten_feature_hook
from ketascreen.ui.settings import AppSettings

EXIT_OK = 0
EXIT_INVALID_INPUT = 2
EXIT_CONFIGURATION = 3
SCREENSHOT_SIZE = (1400, 900)
PNG_QUALITY = 80
"""Qt's PNG writer maps a quality of 80 to zlib's compression level 1: lossless like any PNG
(the same pixels), written in about two thirds of the default level's time, and here no
larger."""
PRELOAD_THREAD = "ketascreen-context-preload"
"""The thread that loads the problem-list context reader (spaCy, medspaCy: about 1-3 s and
80 MiB) in the background when the problem list first gets the keyboard focus, so the first
problem typed does not wait for it; a session that never edits the problem list (a nurse's, or
a case screened as it was opened) never loads it."""
_START_FALLBACK_MS = 500
"""If the window is not painted by then (e.g. started minimised), the core loads anyway."""


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
    """The process's QApplication, created with the app's names if there is none yet.

    The wheel policy of :mod:`ketascreen.ui.wheel_guard` is installed by the main window once
    its widgets are built, before any input can reach them (an application-wide event filter
    costs every event a call into Python: start-up sends some ten thousand)."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication([sys.argv[0] if sys.argv else "ketascreen"])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("ketascreen")
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
    if not picture.save(str(path), "PNG", PNG_QUALITY):
        raise OSError(f"cannot write {path}")


def screenshot(case: Path | None, out: Path) -> int:
    """Render the main window with ``case`` screened to a PNG, touching no user settings."""
    app = application()
    app.setStyle("Fusion")
    with tempfile.TemporaryDirectory(prefix="ketascreen-shot-") as folder:
        settings = AppSettings(QSettings(str(Path(folder) / "settings.ini"),
                                         QSettings.Format.IniFormat))
        window = MainWindow(settings, drafts=None, unattended=True)
        dialogs = StderrDialogs(window)
        window.dialogs = dialogs
        window.resize(*SCREENSHOT_SIZE)
        status = EXIT_OK
        if case is not None and not window.open_path(case, ask=False):
            status = EXIT_INVALID_INPUT
        if window.pending:  # opening screened the case (or the window the empty form) already
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


def _rule_set_error(*, dialog_parent: QWidget | None) -> bool:
    """Load the rule set; on an invalid rule, policy or knowledge-base file say so (stderr, and
    a message box when ``dialog_parent`` is given) and return False."""
    from ketascreen.errors import KnowledgeBaseError  # noqa: PLC0415 - loaded with the core
    from ketascreen.ui import actions  # noqa: PLC0415

    try:
        actions.ruleset()
    except KnowledgeBaseError as error:
        print(f"ketascreen: configuration error: {error}", file=sys.stderr)
        if dialog_parent is not None:
            QMessageBox.critical(dialog_parent, "ketascreen cannot start",
                                 f"A rule, policy or knowledge-base file is invalid:\n\n"
                                 f"{error.file}: {error.entry}: {error.problem}")
        return False
    return True


class AfterFirstPaint(QObject):
    """Run ``start`` once, on the turn of the event loop after ``widget`` is first painted (or
    after ``fallback_ms`` if it is not painted by then).

    Args:
        widget: the widget whose first paint is awaited (the window's loading line).
        start: what to run then.
        fallback_ms: the longest wait.

    Signals:
        none (it watches paint events).
    """

    def __init__(self, widget: QWidget, start: Callable[[], None], *, fallback_ms: int) -> None:
        super().__init__(widget)
        self._start = start
        self._done = False
        widget.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self._run)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """On the first paint, schedule the start for the next turn of the event loop."""
        if event.type() == QEvent.Type.Paint and not self._done:
            QTimer.singleShot(0, self._run)
        return False

    def _run(self) -> None:
        if self._done:
            return
        self._done = True
        self._start()


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
    lighten_feature_hook()  # before the core is imported: see ketascreen.ui.pyside_hook
    restart_collector = gc.isenabled()
    gc.disable()  # start-up: see the module
    try:
        return _run(case, screenshot_path)
    finally:
        gc.freeze()  # the collections at exit need not walk what is alive now
        if restart_collector:
            gc.enable()


def _started() -> None:
    """Start-up is over: freeze what it made (it lives as long as the app), collect again."""
    gc.freeze()
    gc.enable()


def _run(case: str | None, screenshot_path: str | None) -> int:
    app = application()
    if screenshot_path is not None:
        if not _rule_set_error(dialog_parent=None):
            return EXIT_CONFIGURATION
        return screenshot(Path(case) if case else None, Path(screenshot_path))
    from ketascreen.records.location import default_database  # noqa: PLC0415 - no SQLAlchemy

    window = MainWindow(AppSettings(open_settings()), drafts=None, records=default_database(),
                        shell_first=True)
    window.show()
    refused: list[int] = []
    # Not a daemon: a quit during the load waits for it rather than finalising under it.
    loader = threading.Thread(target=_preload_condition_context, name=PRELOAD_THREAD)

    def focus_changed(_old: QWidget | None, new: QWidget | None) -> None:
        if (new is not None and window.ready and loader.ident is None
                and window.form.conditions.isAncestorOf(new)):
            loader.start()

    def start() -> None:
        if not _rule_set_error(dialog_parent=window):
            _started()
            refused.append(EXIT_CONFIGURATION)
            window.close()
            app.exit(EXIT_CONFIGURATION)
            return
        from ketascreen.ui.drafts import DraftStore  # noqa: PLC0415 - loaded with the core

        window.drafts = DraftStore(drafts_dir())
        if not window.finish_start():
            _started()
            return  # closed before it was built
        if case is not None:
            window.open_path(Path(case), ask=False)
        _started()
        app.focusChanged.connect(focus_changed)

    # Held here while the app runs (Qt also owns it, as the loading line's child).
    watch = AfterFirstPaint(window.loading, start, fallback_ms=_START_FALLBACK_MS)
    code = app.exec()
    del watch
    window.deleteLater()  # destroy the Qt objects before Python finalises
    app.processEvents()
    if loader.is_alive():
        loader.join()
    return refused[0] if refused else code


def _preload_condition_context() -> None:
    from ketascreen.ui import actions  # noqa: PLC0415

    actions.preload_condition_context()
