"""The forward dose calculation: the orchestrator of the steps (pint quantities at their
boundaries, plain magnitudes in fixed units inside; :mod:`~ketascreen.dosing.magnitudes`).

Order of work: resolve the order (case protocol, else formulary default;
:mod:`~ketascreen.dosing.order`) -> dose limits (:mod:`~ketascreen.dosing.limits`; they need no
weight, so a hard limit is reported even when the weight is missing) -> dosing weight
(plausibility, basis; :mod:`~ketascreen.dosing.weight`) -> dose and dose rate -> preparation
(vial into bag, or a final concentration; :mod:`~ketascreen.dosing.preparation`) -> pump rate,
rounded half up to the pump resolution, and what that rate really delivers
(:mod:`~ketascreen.dosing.pump`) -> the independent inverse check
(:mod:`~ketascreen.dosing.inverse`) -> whether rounding changed the dose too much. Any step may
refuse; a refusal means no dose and no pump programme, never a valid-looking one.

The working lines are recorded as they are reached but written (formatted) only when
:attr:`DoseOutcome.working <ketascreen.dosing.outcome.DoseOutcome.working>` is first read: each
step appends a function of values that never change afterwards. Refusal messages, findings and
the dose's display strings are written at once; they are part of the outcome itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pint

from ketascreen.errors import CalculationMismatchError
from ketascreen.knowledge.formulary import Formulary
from ketascreen.models.case import Case
from ketascreen.models.doses import (
    KG,
    MG,
    MG_PER_H,
    MG_PER_KG,
    MG_PER_ML,
    MINUTE,
    ML,
    ML_PER_H,
    as_decimal,
    in_unit,
)
from ketascreen.models.result import Dose, DoseDisplay
from ketascreen.units import Quantity

from .inverse import verify_dose
from .limits import check_limits
from .order import Order, intended_dose, resolve_order
from .outcome import (
    DoseFinding,
    DoseOutcome,
    DoseRefusal,
    DosingWeight,
    InverseCheck,
    PumpProgramme,
    WorkingStep,
)
from .preparation import prepare, resolve_preparation
from .pump import check_rounding, pump_programme
from .weight import determine_dosing_weight

# Decimal places of the numbers in the dose JSON (result-format.md: 84.82 kg, 42.41 mg).
_JSON_STEP = {"kg": Decimal("0.01"), "mg": Decimal("0.01"), "mg/kg": Decimal("0.0001"),
              "min": Decimal("0.01"), "mg/h": Decimal("0.01"), "mg/mL": Decimal("0.0001")}


@dataclass(eq=False, repr=False)
class _Run:
    """What a calculation has produced so far (kept when it is refused)."""

    formulary: Formulary
    working: list[WorkingStep] = field(default_factory=list)
    findings: list[DoseFinding] = field(default_factory=list)
    dosing_weight: DosingWeight | None = None

    def refused(self, refusal: DoseRefusal) -> DoseOutcome:
        self.working.append(f"No dose: {refusal.message}")
        reason = (self.dosing_weight.reason if self.dosing_weight is not None
                  else f"no dosing weight: {refusal.message}")
        return DoseOutcome(
            dose=None, working_steps=tuple(self.working), findings=tuple(self.findings),
            refusal=refusal.message, refusal_code=refusal.code,
            dosing_weight_basis_reason=reason, dosing_weight=self.dosing_weight,
            programme=None, inverse_check=None, mismatch=refusal.mismatch,
            formulary_version=self.formulary.version, formulary_sha256=self.formulary.sha256,
        )


def calculate_dose(case: Case, formulary: Formulary, *,
                   plausible_weight: tuple[Quantity, Quantity],
                   plausible_bmi: tuple[float, float]) -> DoseOutcome:
    """Calculate the dose and pump programme of ``case`` from the clinic ``formulary``.

    Args:
        case: a validated case.
        formulary: the clinic formulary (protocols, preparations, pump settings).
        plausible_weight: lowest and highest plausible weight (policy ``plausible_weight_*``);
            a weight outside it gives no dose.
        plausible_bmi: lowest and highest plausible BMI in kg/m² (policy
            ``plausible_bmi_*_kg_m2``); a BMI outside it gives no dose.

    Returns:
        The outcome: the dose (or the refusal and why), the working, limit findings and the
        pump programme. Never raises for a problem of the case; every such problem is a
        refusal.
    """
    run = _Run(formulary)
    try:
        return _calculate(case, formulary, plausible_weight, plausible_bmi, run)
    except DoseRefusal as refusal:
        return run.refused(refusal)


def _calculate(case: Case, formulary: Formulary, plausible_weight: tuple[Quantity, Quantity],
               plausible_bmi: tuple[float, float], run: _Run) -> DoseOutcome:
    """The steps, in order; any of them may raise :class:`DoseRefusal` (what ``run`` holds by
    then is kept in the refused outcome)."""
    working = run.working
    indication = case.indication  # the case is a mutable model: keep what the working shows
    working.append(lambda: f"Formulary {formulary.version} (sha256 {formulary.sha256[:12]}), "
                   f"protocol for {indication}")
    order = resolve_order(case, formulary, working)
    check_limits(order, formulary, run.findings, working)
    dosing = _dosing_weight(case, order, formulary, plausible_weight=plausible_weight,
                            plausible_bmi=plausible_bmi, working=working)
    run.dosing_weight = dosing
    weight_kg = in_unit(dosing.weight, KG)  # magnitudes from here (see .magnitudes)
    dose_mg, dose_rate = intended_dose(order, weight_kg, formulary.formats, working)
    preparation = resolve_preparation(case.protocol, formulary)
    bag = prepare(dose_mg, preparation, formulary, working)
    programme = pump_programme(order, bag, formulary, dose_mg=dose_mg, dose_rate=dose_rate,
                               weight_kg=weight_kg, findings=run.findings, working=working)
    check = _inverse_check(case, formulary, dosing, programme)
    working.append(lambda: check.line)
    check_rounding(programme, formulary)
    return _outcome(order, dosing, programme=programme, check=check, run=run)


def _dosing_weight(case: Case, order: Order, formulary: Formulary, *,
                   plausible_weight: tuple[Quantity, Quantity],
                   plausible_bmi: tuple[float, float],
                   working: list[WorkingStep]) -> DosingWeight:
    measurements = case.measurements
    return determine_dosing_weight(
        weight=measurements.weight_quantity(), weight_text=measurements.weight,
        height=measurements.height_quantity(), height_text=measurements.height,
        sex=case.patient.sex,
        ordered_basis=case.protocol.weight_basis if case.protocol else None,
        protocol=order.protocol, formulary=formulary, plausible_weight=plausible_weight,
        plausible_bmi=plausible_bmi, working=working)


def _inverse_check(case: Case, formulary: Formulary, dosing: DosingWeight,
                   programme: PumpProgramme) -> InverseCheck:
    """The independent inverse check; a disagreement is a ``calculation-mismatch`` refusal."""
    try:
        return verify_dose(case, formulary, dosing_weight=dosing, programme=programme)
    except CalculationMismatchError as mismatch:
        raise DoseRefusal("calculation-mismatch",
                          f"calculation mismatch: the independent check disagrees ({mismatch})",
                          mismatch) from None


# --- the result ------------------------------------------------------------------------------

def _json(value: Quantity, unit: pint.Unit, step: Decimal) -> float:
    magnitude = as_decimal(in_unit(value, unit))
    return float(magnitude.quantize(step, rounding=ROUND_HALF_UP))


def _outcome(order: Order, dosing: DosingWeight, *, programme: PumpProgramme,
             check: InverseCheck, run: _Run) -> DoseOutcome:
    dose_mg, dose_rate = programme.intended_dose, programme.intended_dose_rate
    formulary = run.formulary
    pump = formulary.pump
    dose = Dose(
        dosing_weight_kg=_json(dosing.weight, KG, _JSON_STEP["kg"]),
        weight_basis=dosing.basis,
        dose_mg_per_kg=_json(order.session_dose.per_kg, MG_PER_KG, _JSON_STEP["mg/kg"]),
        dose_mg=_json(dose_mg, MG, _JSON_STEP["mg"]),
        duration_min=_json(order.duration_minutes, MINUTE, _JSON_STEP["min"]),
        rate_mg_per_h=_json(dose_rate, MG_PER_H, _JSON_STEP["mg/h"]),
        concentration_mg_per_ml=_json(programme.final_concentration, MG_PER_ML,
                                      _JSON_STEP["mg/mL"]),
        volume_ml=_json(programme.total_volume, ML, pump.volume_step),
        rate_ml_per_h=_json(programme.programmed_rate, ML_PER_H, pump.rate_step),
        display=DoseDisplay(dose=formulary.formats.dose(dose_mg),
                            rate=formulary.formats.rate(programme.programmed_rate)),
    )
    return DoseOutcome(
        dose=dose, working_steps=tuple(run.working), findings=tuple(run.findings), refusal=None,
        refusal_code=None, dosing_weight_basis_reason=dosing.reason, dosing_weight=dosing,
        programme=programme, inverse_check=check, mismatch=None,
        formulary_version=formulary.version, formulary_sha256=formulary.sha256,
    )
