"""Shell first: the window paints before the core, the records database and the case load;
the case is screened on the next turn of the event loop; the collector, paused during start-up,
runs again after it with the start-up's objects frozen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from ketascreen.ui.main_window import MENUS, MainWindow
from ketascreen.ui.settings import AppSettings
from tests.helpers.cases import EXAMPLE_CASE
from tests.ui.helpers import FakeDialogs

REPO = Path(__file__).resolve().parents[2]
CORE = ("pint", "pydantic", "numpy", "sqlalchemy", "alembic", "reportlab", "pyhanko",
        "PySide6.QtPdf", "spacy", "ketascreen.api", "ketascreen.screening", "ketascreen.ui.actions",
        "ketascreen.ui.controllers.course", "ketascreen.course.figures")

# Runs `ketascreen gui CASE` as the entry point does, watching paints from inside: which of CORE
# are loaded at the first paint, what the window shows once screened; then closes the window.
_DRIVER = r"""
import gc, json, sys, threading
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget
from ketascreen.ui.app import application
from ketascreen.ui.wheel_guard import WheelGuard, guarded_widget

def guarded():
    # (the wheel policy installed, value widgets the wheel would still give the focus)
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow))
    wheel_focus = [w for w in window.findChildren(QWidget) if guarded_widget(w) is w
                   and w.focusPolicy() == Qt.FocusPolicy.WheelFocus]
    return [QApplication.instance().findChild(WheelGuard) is not None, len(wheel_focus)]

seen = {}
core = json.loads(sys.argv[2])

class Watch(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and watched.isWidgetType():
            window = watched.window()
            if isinstance(window, QMainWindow) and "first_paint" not in seen:
                seen["first_paint"] = sorted(name for name in core if name in sys.modules)
                seen["loading"] = window.loading.text()
                seen["menus"] = [a.text() for a in window.menuBar().actions()]
                seen["guard_at_first_paint"] = guarded()
            if (isinstance(window, QMainWindow) and "decision" not in seen
                    and getattr(window, "ready", False) and window.outcome is not None):
                seen["decision"] = window.outcome.screening.result.decision
                seen["title"] = window.windowTitle()
                seen["frozen"] = gc.get_freeze_count()
                seen["collecting"] = gc.isenabled()
                seen["shown_with"] = sorted(name for name in core if name in sys.modules)
                seen["preloading"] = preloading()
                seen["guard_when_shown"] = guarded()
                if sys.argv[3] == "focus-problems":
                    window.activateWindow()
                    window.form.conditions.add_button.setFocus()
                    QTimer.singleShot(50, lambda: after_focus(window))
                else:
                    QTimer.singleShot(0, window.close)
        return False

def preloading():
    return any(thread.name == "ketascreen-context-preload" for thread in threading.enumerate())

def after_focus(window):
    seen["preloading_after_focus"] = preloading()
    window.close()

app = application()
watch = Watch()
app.installEventFilter(watch)
from ketascreen.cli import main
seen["status"] = main(["gui", sys.argv[1]])
print(json.dumps(seen))
"""


def _start(tmp_path: Path, case: Path, then: str = "close") -> dict[str, object]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KETASCREEN_HOME": str(tmp_path / "h")}
    env.pop("KETASCREEN_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", _DRIVER, str(case), json.dumps(CORE), then],
                          env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    seen: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


def test_the_window_paints_before_the_core_loads_then_shows_the_screened_case(
        tmp_path: Path) -> None:
    seen = _start(tmp_path, EXAMPLE_CASE)
    assert seen["first_paint"] == []  # none of the core, SQLAlchemy, reportlab, QtPdf, spaCy
    assert seen["loading"] == "Loading the rule set..."
    assert seen["menus"] == [title for _, title in MENUS]
    assert seen["decision"] == "needs-review"  # the example case, screened after that paint
    assert "case-example.json" in str(seen["title"])
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 0  # frozen after start-up
    assert seen["collecting"] is True  # and the collector runs again
    # Shown with the core, but without what a physician's start does not use: the records
    # database, the PDF and signing libraries, QtPdf, NumPy (pint runs without it), spaCy and
    # the course view.
    assert seen["shown_with"] == ["ketascreen.screening", "ketascreen.ui.actions", "pint",
                                  "pydantic"]
    assert seen["preloading"] is False
    # The wheel policy comes with the form: not filtering start-up's events, in place before
    # any input reaches a value widget (none left that the wheel would give the focus).
    assert seen["guard_at_first_paint"] == [False, 0]
    assert seen["guard_when_shown"] == [True, 0]


def test_the_context_reader_loads_in_the_background_once_the_problem_list_has_the_focus(
        tmp_path: Path) -> None:
    seen = _start(tmp_path, EXAMPLE_CASE, "focus-problems")
    assert seen["preloading"] is False
    assert seen["preloading_after_focus"] is True
    assert seen["status"] == 0  # the app waited for the load to finish before it exited
    assert seen["status"] == 0


def _built(window: MainWindow) -> bool:
    return window.ready


def test_shell_first_window_is_built_by_finish_start(qtbot: QtBot,
                                                     settings: AppSettings) -> None:
    window = MainWindow(settings, drafts=None, shell_first=True)
    qtbot.addWidget(window)
    assert not window.ready
    assert window.centralWidget() is window.loading
    assert [action.text() for action in window.menuBar().actions()][:len(MENUS)] == [
        title for _, title in MENUS]
    assert window.finish_start()
    assert _built(window)
    assert window.centralWidget() is window.pages
    form = window.form
    assert window.finish_start()  # built once
    assert window.form is form
    assert window.outcome is not None  # the new form was screened
    assert window.actions_by_name["new"] in window._menus["file"].actions()


def test_the_built_window_has_the_same_menus_as_before(qtbot: QtBot,
                                                       settings: AppSettings) -> None:
    shell = MainWindow(settings, drafts=None, shell_first=True)
    qtbot.addWidget(shell)
    shell.finish_start()
    whole = MainWindow(settings, drafts=None)
    qtbot.addWidget(whole)

    def menus(window: MainWindow) -> list[tuple[str, list[str]]]:
        return [(action.text(), [entry.objectName() for entry in menu.actions()])
                for action in window.menuBar().actions()
                if isinstance(menu := action.menu(), QMenu)]

    assert menus(shell) == menus(whole)
    assert len(menus(whole)) == len(MENUS)
    assert menus(whole)[0][1][:2] == ["new", "open"]


def test_dialogs_given_before_the_window_is_built_reach_the_controllers(
        qtbot: QtBot, settings: AppSettings) -> None:
    window = MainWindow(settings, drafts=None, shell_first=True)
    qtbot.addWidget(window)
    fake = FakeDialogs()
    window.dialogs = fake  # type: ignore[assignment]
    window.finish_start()
    given: object = fake
    assert window.dialogs is given
    assert window.document.dialogs is given and window.checklist.dialogs is given


def test_closed_before_it_was_built_the_window_is_never_built(qtbot: QtBot,
                                                               settings: AppSettings) -> None:
    window = MainWindow(settings, drafts=None, shell_first=True)
    qtbot.addWidget(window)
    window.show()
    assert window.close()
    assert not window.finish_start()
    assert not window.ready


def test_the_collector_is_restored_after_a_screenshot(tmp_path: Path) -> None:
    probe = ("import gc, sys\nfrom ketascreen.ui.app import run_gui\n"
             "before = gc.isenabled()\n"
             "status = run_gui(sys.argv[1], screenshot_path=sys.argv[2])\n"
             "print(before, status, gc.isenabled(), gc.get_freeze_count() > 0)\n"
             "gc.disable()\nrun_gui(sys.argv[1], screenshot_path=sys.argv[2])\n"
             "print(gc.isenabled())")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KETASCREEN_HOME": str(tmp_path / "h")}
    done = subprocess.run([sys.executable, "-c", probe, str(EXAMPLE_CASE),
                           str(tmp_path / "s.png")], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "0", "True", "True", "False"]  # a caller's choice kept
    assert (tmp_path / "s.png").stat().st_size > 10_000


@pytest.mark.parametrize("name", ["SignedView", "Amending", "RESCREEN_DELAY_MS",
                                  "AUTOSAVE_INTERVAL_MS", "new_document", "signature_line"])
def test_the_controllers_names_are_still_importable_from_the_window_module(name: str) -> None:
    import importlib

    from ketascreen.ui import main_window

    module = "checklist" if name in ("SignedView", "Amending", "RESCREEN_DELAY_MS",
                                     "signature_line") else "document"
    controllers = importlib.import_module(f"ketascreen.ui.controllers.{module}")
    assert getattr(main_window, name) is getattr(controllers, name)
    with pytest.raises(AttributeError):
        main_window.no_such_name  # noqa: B018


def test_the_start_runs_once_after_the_first_paint(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QLabel

    from ketascreen.ui.app import AfterFirstPaint

    calls: list[str] = []
    label = QLabel("Loading")
    qtbot.addWidget(label)
    watch = AfterFirstPaint(label, lambda: calls.append("start"), fallback_ms=60_000)
    assert calls == []  # nothing before the paint
    label.show()
    qtbot.waitUntil(lambda: calls == ["start"], timeout=5000)
    label.repaint()
    qtbot.wait(50)
    assert calls == ["start"]  # once
    assert watch.parent() is label


def test_an_unpainted_window_starts_after_the_fallback(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QLabel

    from ketascreen.ui.app import AfterFirstPaint

    calls: list[str] = []
    label = QLabel("never shown")
    qtbot.addWidget(label)
    AfterFirstPaint(label, lambda: calls.append("start"), fallback_ms=100)
    qtbot.wait(20)
    assert calls == []
    qtbot.waitUntil(lambda: calls == ["start"], timeout=5000)
