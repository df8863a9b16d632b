"""Weight-based ketamine dosing: dosing weight, pump programme, inverse check.

The one entry point is :func:`calculate_dose`; the clinic formulary it reads is loaded with
:func:`ketascreen.knowledge.formulary.load_formulary`. One module per step, in the order
:mod:`~ketascreen.dosing.calculate` runs them: :mod:`~ketascreen.dosing.order` (the dose and
duration ordered), :mod:`~ketascreen.dosing.limits` (the formulary's limits),
:mod:`~ketascreen.dosing.weight` (the dosing weight), :mod:`~ketascreen.dosing.preparation`
(vial into bag, or a given concentration), :mod:`~ketascreen.dosing.pump` (the pump programme,
rounded to the device resolutions of :mod:`~ketascreen.dosing.rounding`) and
:mod:`~ketascreen.dosing.inverse` (the independent check); :mod:`~ketascreen.dosing.outcome`
is what they hand back.
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
