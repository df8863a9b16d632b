"""The public Python API: load a case, screen it."""

from __future__ import annotations

from ketascreen.models.case import Case
from ketascreen.models.parsing import load_case, parse_case, parse_case_json, problems_from
from ketascreen.models.result import Result

__all__ = ["load_case", "parse_case", "parse_case_json", "problems_from", "screen"]


def screen(case: Case) -> Result:
    """Screen ``case`` with the rule set in force (the shipped rules with the clinic policy and
    formulary of ``$KETASCREEN_POLICY`` / ``$KETASCREEN_FORMULARY``, else the shipped ones)."""
    from ketascreen.screening import run  # noqa: PLC0415 - keeps `import ketascreen` light

    return run(case).result
