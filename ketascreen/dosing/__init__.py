"""Weight-based ketamine dosing: formulary, dosing weight, pump programme, inverse check.

The one entry point is :func:`calculate_dose`; the clinic formulary is loaded with
:func:`load_formulary`.
"""

from __future__ import annotations

from .calculate import calculate_dose
from .formulary import (
    FORMULARY_SCHEMA,
    DoseLimits,
    Formulary,
    IndicationProtocol,
    PumpSettings,
    Sourced,
    Vial,
    load_formulary,
)
from .outcome import (
    DoseConcept,
    DoseFinding,
    DoseOutcome,
    DosingWeight,
    InverseCheck,
    PumpProgramme,
    RefusalCode,
)
from .types import DosePerWeight, DoseRatePerWeight, WeightBasedDose

__all__ = [
    "FORMULARY_SCHEMA",
    "DoseConcept",
    "DoseFinding",
    "DoseLimits",
    "DoseOutcome",
    "DosePerWeight",
    "DoseRatePerWeight",
    "DosingWeight",
    "Formulary",
    "IndicationProtocol",
    "InverseCheck",
    "PumpProgramme",
    "PumpSettings",
    "RefusalCode",
    "Sourced",
    "Vial",
    "WeightBasedDose",
    "calculate_dose",
    "load_formulary",
]
