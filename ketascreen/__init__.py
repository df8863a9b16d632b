"""ketascreen: pre-infusion safety screening for IV ketamine.

The Python API::

    import ketascreen
    case = ketascreen.load_case("case.json")
    result = ketascreen.screen(case)
"""

from ketascreen.api import load_case, parse_case, parse_case_json, screen

__version__ = "0.1.0"
__all__ = ["__version__", "load_case", "parse_case", "parse_case_json", "screen"]
