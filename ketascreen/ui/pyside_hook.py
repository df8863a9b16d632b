"""A lighter check in PySide6's import hook (its ``__feature__`` support, PYSIDE-2029).

Once ``PySide6.QtCore`` is imported, PySide6 asks of every module imported afterwards whether
its source mentions ``PySide6`` (to know which modules its ``from __feature__ import ...``
switches apply to). It asks with ``inspect.getsource``, which reads, splits and keeps every
such module's source in :mod:`linecache`: for the app's start-up about 300 files, some 70 ms and
10 MiB that stay allocated. :func:`lighten_feature_hook` gives the hook the same answer from the
file's bytes, read once and not kept. ketascreen uses no ``__feature__``; the answer is the
same for every module anyway (a test compares both over every module loaded).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType

_MARK = "_ketascreen_light"


def uses_pyside(module: ModuleType, *, fallback: Callable[[ModuleType], bool]) -> bool:
    """Whether the source file of ``module`` contains ``PySide6`` (``fallback`` answers for a
    module without a ``.py`` file, or one that cannot be read)."""
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return fallback(module)
    try:
        with open(path, "rb") as source:
            return b"PySide6" in source.read()
    except OSError:
        return fallback(module)


def lighten_feature_hook() -> bool:
    """Replace the hook's source check with :func:`uses_pyside` (once); False if this PySide6
    has no such check (then nothing is changed)."""
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or not callable(original):
        return False
    if getattr(original, _MARK, False):
        return True

    def light(module: ModuleType) -> bool:
        return uses_pyside(module, fallback=original)

    setattr(light, _MARK, True)
    setattr(light, "original", original)  # noqa: B010 - kept for the differential test
    feature._mod_uses_pyside = light  # type: ignore[attr-defined]
    return True
