"""House-style checks of the desktop app package that the linters do not make."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from PySide6.QtCore import QObject

import ketascreen.ui
from ketascreen.ui import actions, controllers


def test_every_qobject_subclass_documents_its_signals() -> None:
    """Every QObject subclass of ketascreen.ui has a docstring with a Signals: section."""
    missing = []
    for info in pkgutil.iter_modules(ketascreen.ui.__path__):
        module = importlib.import_module(f"ketascreen.ui.{info.name}")
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, QObject)
                    and value.__module__ == module.__name__
                    and "Signals:" not in (value.__doc__ or "")):
                missing.append(f"{module.__name__}.{name}")
    assert missing == []


def test_every_qobject_subclass_of_the_subpackages_documents_its_signals() -> None:
    """The controllers (and any other subpackage) document their signals too."""
    missing = []
    names = [i.name for i in pkgutil.walk_packages(ketascreen.ui.__path__, "ketascreen.ui.")]
    assert "ketascreen.ui.controllers.document" in names
    for module_name in names:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, QObject)
                    and value.__module__ == module.__name__
                    and "Signals:" not in (value.__doc__ or "")):
                missing.append(f"{module.__name__}.{name}")
    assert missing == []


def test_no_action_module_imports_qt() -> None:
    """Every module of the action package is plain Python (no Qt in its source)."""
    names = [info.name for info in pkgutil.iter_modules(actions.__path__)]
    assert {"screening", "files", "signing", "recognition", "measurements"} <= set(names)
    for name in names:
        module = importlib.import_module(f"ketascreen.ui.actions.{name}")
        source = inspect.getsource(module)
        assert "PySide6" not in source and "shiboken6" not in source, name


def test_controllers_hold_no_layout() -> None:
    """The controllers are QObjects with signals: no widget or layout is built in them."""
    names = [info.name for info in pkgutil.iter_modules(controllers.__path__)]
    assert {"document", "checklist", "session", "signing"} <= set(names)
    for name in names:
        module = importlib.import_module(f"ketascreen.ui.controllers.{name}")
        source = inspect.getsource(module)
        assert "Layout(" not in source and "addWidget" not in source, name
