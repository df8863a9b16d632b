"""Weight-based ketamine dosing: dosing weight, pump programme, inverse check.

The one entry point is :func:`calculate_dose`; the clinic formulary it reads is loaded with
:func:`ketascreen.knowledge.formulary.load_formulary`.
"""

from __future__ import annotations

from .calculate import calculate_dose
from .outcome import (
    DoseConcept,
    DoseFinding,
    DoseOutcome,
    DosingWeight,
    InverseCheck,
    PumpProgramme,
    RefusalCode,
)

__all__ = [
    "DoseConcept",
    "DoseFinding",
    "DoseOutcome",
    "DosingWeight",
    "InverseCheck",
    "PumpProgramme",
    "RefusalCode",
    "calculate_dose",
]
