"""PySide6's import hook gets the same answers from the lighter check, without filling
linecache with the source of every module imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import PySide6.QtCore  # noqa: F401 - installs the hook

from ketascreen.ui import pyside_hook, settings

REPO = Path(__file__).resolve().parents[2]
assert settings.__name__ == "ketascreen.ui.settings"  # imports PySide6 (answers below)


def _never(module: ModuleType) -> bool:
    raise AssertionError(f"fallback asked about {module.__name__}")


def test_the_light_check_answers_as_the_original_for_every_module_loaded() -> None:
    feature = sys.modules["shibokensupport.feature"]
    assert pyside_hook.lighten_feature_hook()
    light = feature._mod_uses_pyside
    original = light.original
    modules = [module for module in list(sys.modules.values()) if isinstance(module, ModuleType)]
    assert len(modules) > 300
    answers = {module.__name__: light(module) for module in modules}
    assert answers == {module.__name__: original(module) for module in modules}
    assert answers["ketascreen.ui.settings"] is True  # it imports PySide6
    assert answers["ketascreen.ui.pyside_hook"] is True  # its text names it
    assert answers["json"] is False
    assert answers["sys"] is False  # built in: the original's answer


def test_the_check_reads_the_file_and_falls_back_without_one(tmp_path: Path) -> None:
    with_name = ModuleType("with_name")
    with_name.__file__ = str(tmp_path / "a.py")
    (tmp_path / "a.py").write_text("import PySide6.QtCore\n", encoding="utf-8")
    without = ModuleType("without")
    without.__file__ = str(tmp_path / "b.py")
    (tmp_path / "b.py").write_text("import json\n", encoding="utf-8")
    assert pyside_hook.uses_pyside(with_name, fallback=_never) is True
    assert pyside_hook.uses_pyside(without, fallback=_never) is False
    gone = ModuleType("gone")
    gone.__file__ = str(tmp_path / "missing.py")
    built_in = ModuleType("built_in")
    assert pyside_hook.uses_pyside(gone, fallback=lambda module: True) is True
    assert pyside_hook.uses_pyside(built_in, fallback=lambda module: False) is False


def test_lightened_twice_is_lightened_once() -> None:
    assert pyside_hook.lighten_feature_hook()
    light = sys.modules["shibokensupport.feature"]._mod_uses_pyside
    assert pyside_hook.lighten_feature_hook()
    assert sys.modules["shibokensupport.feature"]._mod_uses_pyside is light


def test_imports_after_it_leave_no_source_in_linecache() -> None:
    probe = ("import linecache, sys\nimport PySide6.QtCore\n"
             "from ketascreen.ui.pyside_hook import lighten_feature_hook\n"
             "light = sys.argv[1] == 'light'\n"
             "if light:\n    lighten_feature_hook()\n"
             "before = len(linecache.cache)\nimport ketascreen.models.case, pint\n"
             "print(len(linecache.cache) - before)")
    counts = [int(subprocess.run([sys.executable, "-c", probe, mode], cwd=REPO, check=True,
                                 capture_output=True, text=True).stdout)
              for mode in ("original", "light")]
    assert counts[0] > 50  # the original check keeps every source it read
    assert counts[1] == 0
