"""House-style checks of the desktop app package that the linters do not make."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from PySide6.QtCore import QObject

import ketascreen.ui


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
