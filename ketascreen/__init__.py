"""ketascreen: pre-infusion safety screening for IV ketamine.

The Python API::

    import ketascreen
    case = ketascreen.load_case("case.json")
    result = ketascreen.screen(case)

The API (:mod:`ketascreen.api`, which loads pint, pydantic and the models) is imported on first
use of one of its names, not with the package: ``import ketascreen.ui`` or ``ketascreen.cli``
alone stays cheap, so the desktop app can paint its window before the core is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ketascreen.api import load_case, parse_case, parse_case_json, screen

__version__ = "0.1.0"
__all__ = ["__version__", "load_case", "parse_case", "parse_case_json", "screen"]

_API_NAMES = frozenset({"load_case", "parse_case", "parse_case_json", "screen"})


def __getattr__(name: str) -> Any:
    """The API's names, imported from :mod:`ketascreen.api` on first use (PEP 562)."""
    if name in _API_NAMES:
        from ketascreen import api  # noqa: PLC0415 - lazy: the package import stays cheap

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ketascreen' has no attribute {name!r}")
