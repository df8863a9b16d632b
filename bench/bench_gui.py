"""Benchmarks of the desktop app (issues 5 and 15), stand-alone: ``QT_QPA_PLATFORM=offscreen
.venv/bin/python bench/bench_gui.py [runs] [--no-keystroke] [--phases]``.

Every process figure is measured alternately (app, bare, app, bare ...) in one run so both see
the same machine load; medians are printed, with their ratios.

1. Interactive start (issue 15): ``ketascreen gui CASE`` as a user starts it, watched from inside
   by an event filter (``_DRIVER``): the time from spawning the process to the window's first
   paint, and to the paint that shows the screened case; then the window is closed. The filter
   watches the whole application until the first paint and again once the case is screened,
   not while the window is built (it would take each of those events into Python: ~10 % of
   the time it measures). Against the
   whole run of ``bench/bare_window.py`` (a bare PySide6 window: start, show, grab, exit).
   Goals: first paint <= 1.5x the bare window's whole run; the screened case shown <= 0.5 s
   after the first paint.
2. Screenshot: ``ketascreen gui CASE --screenshot PNG`` (start, load the rule set, build the
   window, open and screen the example case, grab to PNG, exit) against the bare window doing
   the same. Goal (issue 15): median ratio <= 2.5. With it, its floors (:data:`FLOORS`): the
   bare window after importing only the unit registry, and then also the case model; the
   screenshot cannot take less time than the second.
3. Peak RSS (issue 15): the interactive app with the case, closed once the case is shown, or
   1 s later; and (for information) once the problem list was focused and the background load
   of its context reader (spaCy) has finished; against the bare window. Goal: <= 1.8x the bare
   window.
4. Keystroke: one key press in the weight field, then the re-screen the debounce timer would run
   and a synchronous repaint of the whole window. Goal: median <= 16 ms (one 60 Hz frame).

With ``--phases``, only where ``gui CASE --screenshot`` spends its time, step by step.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EXAMPLE = REPO.parent / "shared" / "spec" / "examples" / "case-example.json"
GOAL_RATIO = 2.5
"""``gui CASE --screenshot`` against the bare window doing the same (issue 15)."""
GOAL_FIRST_PAINT_RATIO = 1.5
GOAL_SHOWN_AFTER_PAINT_S = 0.5
GOAL_RSS_RATIO = 1.8
GOAL_KEYSTROKE_MS = 16.0

FLOORS = {"floor_units": ["units"], "floor_case": ["units", "case"]}
"""The floors of the screenshot: the bare window after importing the unit registry, and the
unit registry and the case model (``bench/bare_window.py``)."""

_DRIVER = r"""
import json, sys, threading, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QMainWindow
from ketascreen.ui.app import application

marks = {}
mode = sys.argv[2]  # shown: close at once; idle: 1 s later; problems: focus the problem list

class Watch(QObject):
    # Application-wide until the first paint, and again once the case is screened: not while
    # the app builds its window (some 10,000 events, each taken into Python by a filter).
    def eventFilter(self, watched, event):
        if event.type() != QEvent.Type.Paint or not watched.isWidgetType():
            return False
        window = watched.window()
        if not isinstance(window, QMainWindow):
            return False
        if "first_paint" not in marks:
            marks["first_paint"] = time.monotonic()
            app.removeEventFilter(self)
            window.screened.connect(lambda: screened(window))
        if ("shown" not in marks and getattr(window, "ready", False)
                and window.outcome is not None and not window.pending):
            marks["shown"] = None
            QTimer.singleShot(0, lambda: shown(window))
        return False

def screened(window):
    if window.path is not None and "shown" not in marks:  # the case, not the new form
        app.installEventFilter(watch)

def shown(window):
    marks["shown"] = time.monotonic()  # after the paint that showed the screened case
    if mode == "problems":
        window.activateWindow()
        window.form.conditions.add_button.setFocus()
    QTimer.singleShot({"shown": 0, "idle": 1000, "problems": 100}[mode], lambda: close(window))

def close(window):
    if any(t.name == "ketascreen-context-preload" and t.is_alive()
           for t in threading.enumerate()):
        QTimer.singleShot(50, lambda: close(window))
        return
    window.close()

app = application()
watch = Watch()
app.installEventFilter(watch)
from ketascreen.cli import main
status = main(["gui", sys.argv[1]])
print(json.dumps({**marks, "status": status}))
"""


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of one process."""
    start = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - start
    if process.returncode != 0:
        raise RuntimeError(f"{command[:3]} exited with {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024, out


def _interactive(env: dict[str, str], mode: str) -> tuple[float, float, float]:
    """(first paint s, screened case shown s, peak RSS MiB) of ``ketascreen gui CASE``,
    both times from the spawn of the process."""
    start = time.monotonic()
    _, rss, out = _run([sys.executable, "-c", _DRIVER, str(EXAMPLE), mode], env)
    marks = json.loads(out.strip().splitlines()[-1])
    if marks["status"] != 0 or marks.get("shown") is None:
        raise RuntimeError(f"the app did not show the screened case: {marks}")
    return marks["first_paint"] - start, marks["shown"] - start, rss


def cold_start(runs: int) -> dict[str, list[float]]:
    """Alternating runs of the app (interactive, screenshot, interactive until idle) and of the
    bare window; every figure of every run."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    app_command = [str(Path(sys.executable).parent / "ketascreen"), "gui", str(EXAMPLE),
                   "--screenshot"]
    bare_command = [sys.executable, str(REPO / "bench" / "bare_window.py")]
    figures: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        env["KETASCREEN_HOME"] = str(Path(folder) / "home")
        env["XDG_CONFIG_HOME"] = str(Path(folder) / "config")
        png = str(Path(folder) / "shot.png")
        _run([*app_command, png], env)  # warm the OS file cache once
        _run([*bare_command, png], env)
        for _ in range(runs):
            first, shown, rss = _interactive(env, "shown")
            figures.setdefault("first_paint", []).append(first)
            figures.setdefault("shown", []).append(shown)
            figures.setdefault("shown_after_paint", []).append(shown - first)
            figures.setdefault("rss_shown", []).append(rss)
            bare, bare_rss, _ = _run([*bare_command, png], env)
            figures.setdefault("bare", []).append(bare)
            figures.setdefault("bare_rss", []).append(bare_rss)
            shot, shot_rss, _ = _run([*app_command, png], env)
            figures.setdefault("screenshot", []).append(shot)
            figures.setdefault("screenshot_rss", []).append(shot_rss)
            bare, bare_rss, _ = _run([*bare_command, png], env)
            figures.setdefault("bare", []).append(bare)
            figures.setdefault("bare_rss", []).append(bare_rss)
            for name, floor in FLOORS.items():
                figures.setdefault(name, []).append(_run([*bare_command, png, *floor], env)[0])
        for _ in range(max(1, runs // 3)):
            figures.setdefault("rss_idle", []).append(_interactive(env, "idle")[2])
            figures.setdefault("rss_problems", []).append(_interactive(env, "problems")[2])
    return figures


_PHASES = r"""
import json, sys, time
marks = [("interpreter up", time.monotonic())]  # CLOCK_MONOTONIC, as the parent's clock
def mark(label):
    marks.append((label, time.monotonic()))

import PySide6.QtWidgets
mark("PySide6.QtWidgets imported")
import ketascreen.cli
mark("ketascreen.cli imported")
from ketascreen.ui import app
mark("ketascreen.ui.app imported")
from ketascreen.ui.main_window import MainWindow

def wrap(owner, name, label):
    original = getattr(owner, name)
    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        mark(label)
        return result
    setattr(owner, name, wrapped)

wrap(app, "_rule_set_error", "the core imported, the rule set loaded")
wrap(MainWindow, "finish_start", "the window built (the empty form screened)")
wrap(MainWindow, "open_path", "the case opened and screened")
original_grab = app.grab_window
def grab(window, path, over=None):
    mark("the window shown")
    original_grab(window, path, over=over)
    mark("laid out, grabbed, PNG written")
app.grab_window = grab
status = ketascreen.cli.main(["gui", sys.argv[1], "--screenshot", sys.argv[2]])
mark("window closed, settings folder removed")
print(json.dumps({"status": status, "marks": marks}))
"""


def phases(runs: int) -> list[tuple[str, float]]:
    """Where ``gui CASE --screenshot`` spends its time: the median ms of each step, from the
    spawn of the process to its exit (the steps marked inside it on the same monotonic clock)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    steps: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        env["KETASCREEN_HOME"] = str(Path(folder) / "home")
        png = str(Path(folder) / "shot.png")
        for run in range(runs + 1):  # the first warms the OS file cache
            start = time.monotonic()
            elapsed, _, out = _run([sys.executable, "-c", _PHASES, str(EXAMPLE), png], env)
            result = json.loads(out.strip().splitlines()[-1])
            if result["status"] != 0:
                raise RuntimeError(f"the screenshot failed: {result}")
            previous = start
            for label, at in [*result["marks"], ("exit (interpreter and Qt teardown)",
                                                 start + elapsed)]:
                if run:
                    steps.setdefault(label, []).append((at - previous) * 1000)
                previous = at
    return [(label, statistics.median(values)) for label, values in steps.items()]


def _median_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def keystroke(runs: int) -> dict[str, tuple[float, float]]:
    """Median and 95th percentile ms of key press + re-screen + repaint, per scenario.

    Scenarios: a digit that changes the dose (84.8 <-> 84.85 kg, the form stays valid), the
    same with a repaint of the whole window forced, and a digit that makes the weight
    impossible and back (1875 lb: the findings and the dose disappear and come back).
    The screening alone (the core) is timed too.
    """
    from PySide6.QtCore import QSettings, Qt  # noqa: PLC0415
    from PySide6.QtTest import QTest  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from ketascreen.ui import actions  # noqa: PLC0415
    from ketascreen.ui.main_window import MainWindow  # noqa: PLC0415
    from ketascreen.ui.settings import AppSettings  # noqa: PLC0415

    app = QApplication.instance() or QApplication([])
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        settings = AppSettings(QSettings(str(Path(folder) / "s.ini"), QSettings.Format.IniFormat))
        window = MainWindow(settings, drafts=None)
        window.resize(1400, 900)
        window.show()
        window.open_path(EXAMPLE, ask=False)
        weight = window.form.measurements.inputs["weight"]
        scenarios = (("dose changes (84.8 <-> 84.85 kg)", "84.8", "kg", False),
                     ("dose changes, whole window repainted", "84.8", "kg", True),
                     ("weight becomes impossible and back (187 <-> 1875 lb)", "187", "lb", False))
        for name, value, unit, full in scenarios:
            weight.set_text(f"{value} {unit}")
            window.rescreen_now()
            for _ in range(3):
                app.processEvents()
            weight.value.end(False)
            times, core = [], []
            for index in range(runs + 20):
                key = Qt.Key.Key_Backspace if index % 2 else Qt.Key.Key_5
                start = time.perf_counter()
                QTest.keyClick(weight.value, key)
                window.rescreen_now()  # what the debounce timer runs
                if full:
                    window.repaint()
                app.processEvents()  # Qt repaints what changed
                elapsed = (time.perf_counter() - start) * 1000
                begin = time.perf_counter()
                actions.screen_document(document=window.form.document())
                if index >= 20:  # the first presses warm caches (fonts, style, pint)
                    times.append(elapsed)
                    core.append((time.perf_counter() - begin) * 1000)
            results[name] = _median_p95(times)
            results.setdefault("screening alone (core)", _median_p95(core))
        window.close()
        window.deleteLater()
        app.processEvents()
    return results


def main() -> int:
    """Run the benchmarks and print the figures with their goals."""
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    runs = int(args[0]) if args else 7
    if "--phases" in sys.argv:
        print(f"gui CASE --screenshot, step by step (medians of {runs} runs, ms):")
        for label, ms in phases(runs):
            print(f"  {ms:6.1f}  {label}")
        return 0
    figures = cold_start(runs)
    median = {name: statistics.median(values) for name, values in figures.items()}

    def verdict(ok: bool) -> str:
        return "OK" if ok else "MISSED"

    bare = median["bare"]
    print(f"cold start, medians of {runs} alternating runs (app, bare, app, bare ...):")
    print(f"  bare PySide6 window + screenshot, whole run   {bare * 1000:7.0f} ms")
    first = median["first_paint"]
    print(f"  ketascreen gui CASE: first paint              {first * 1000:7.0f} ms  "
          f"ratio {first / bare:.2f} (goal <= {GOAL_FIRST_PAINT_RATIO}) -> "
          f"{verdict(first / bare <= GOAL_FIRST_PAINT_RATIO)}")
    after = median["shown_after_paint"]
    print(f"  ketascreen gui CASE: screened case shown      {median['shown'] * 1000:7.0f} ms  "
          f"{after * 1000:.0f} ms after the first paint (goal <= "
          f"{GOAL_SHOWN_AFTER_PAINT_S * 1000:.0f} ms) -> "
          f"{verdict(after <= GOAL_SHOWN_AFTER_PAINT_S)}")
    shot = median["screenshot"]
    print(f"  ketascreen gui CASE --screenshot              {shot * 1000:7.0f} ms  "
          f"ratio {shot / bare:.2f} (goal <= {GOAL_RATIO}) -> {verdict(shot / bare <= GOAL_RATIO)}")
    print("  its floors: the bare window after importing only what a screened case cannot do "
          "without")
    for name, label in (("floor_units", "+ the unit registry (pint)"),
                        ("floor_case", "+ the unit registry and the case model (pydantic)")):
        print(f"    {label:52s}{median[name] * 1000:7.0f} ms  ratio {median[name] / bare:.2f}")
    bare_rss = median["bare_rss"]
    print(f"peak RSS (goal <= {GOAL_RSS_RATIO}x the bare window's {bare_rss:.0f} MiB):")
    for name, label in (("rss_shown", "interactive, closed when the case is shown"),
                        ("rss_idle", "interactive, closed 1 s after the case is shown"),
                        ("rss_problems", "interactive, problem list focused (spaCy loads)"),
                        ("screenshot_rss", "--screenshot")):
        ratio = median[name] / bare_rss
        print(f"  {label:48s} {median[name]:5.0f} MiB  ratio {ratio:.2f} -> "
              f"{verdict(ratio <= GOAL_RSS_RATIO)}")
    if "--no-keystroke" in sys.argv:
        return 0
    print("keystroke in the weight field -> re-screen -> repaint (goal median <= "
          f"{GOAL_KEYSTROKE_MS:g} ms):")
    for name, (median_ms, p95) in keystroke(max(runs * 30, 200)).items():
        print(f"  {name:56s} median {median_ms:5.1f} ms  p95 {p95:5.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
