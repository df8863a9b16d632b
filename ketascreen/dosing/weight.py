"""Step 3: the dosing weight: actual, ideal (Devine) or adjusted body weight, checked for
plausibility, with the reason it was chosen.

Formulas (R17, calculator pages citing Devine 1974):

- ideal body weight: men 50 kg, women 45.5 kg, plus 2.3 kg per inch of height over 60 in;
- adjusted body weight: IBW + 0.4 x (actual - IBW).

Sex ``unknown`` uses the women's formula: the lower ideal weight, so the lower dose.
Below 60 in the formula is applied as written, subtracting 2.3 kg per inch under 60 in; the
dosing weight is then checked against the plausible range like the actual weight.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ketascreen.display import format_number
from ketascreen.knowledge.formulary import Formulary, IndicationProtocol
from ketascreen.models.case import WeightBasis
from ketascreen.models.doses import (
    INCH,
    KG,
    KG_PER_INCH,
    KG_PER_M2,
    METER,
    as_decimal,
    as_typed,
    in_unit,
    quantity_of,
    same_unit,
)
from ketascreen.units import Q_, Quantity

from .magnitudes import shown
from .outcome import DoseRefusal, DosingWeight, WorkingStep

DEVINE_BASE: dict[str, Quantity] = {"male": Q_(50.0, KG), "female": Q_(45.5, KG)}  # R17
DEVINE_PER_INCH_OVER_REFERENCE: Quantity = Q_(2.3, KG_PER_INCH)  # R17
DEVINE_REFERENCE_HEIGHT: Quantity = Q_(60.0, INCH)  # R17
ADJUSTED_WEIGHT_FRACTION = Decimal("0.4")  # R17: of the excess over IBW
# The same numbers as plain magnitudes, for the arithmetic (kg/in, in).
_KG_PER_INCH = in_unit(DEVINE_PER_INCH_OVER_REFERENCE, KG_PER_INCH)
_REFERENCE_INCHES = in_unit(DEVINE_REFERENCE_HEIGHT, INCH)
_ADJUSTED_FRACTION = float(ADJUSTED_WEIGHT_FRACTION)
_WEIGHT_STEP = Decimal("0.01")  # kg; the plausibility check compares at this resolution, as the
_BMI_STEP = Decimal("0.1")      # implausible-weight rule does (same rounding, same verdict)


def _rounded(value: float, step: Decimal) -> Decimal:
    return as_decimal(value).quantize(step, rounding=ROUND_HALF_UP)


def _kilograms(value: Decimal) -> Quantity:
    # The dose is calculated on the dosing weight as shown (0.01 kg), so that every working
    # line can be recomputed by hand from the numbers it shows.
    return quantity_of(float(value), KG)


def determine_dosing_weight(
    *,
    weight: Quantity | None,
    weight_text: str | None,
    height: Quantity | None,
    height_text: str | None,
    sex: str,
    ordered_basis: WeightBasis | None,
    protocol: IndicationProtocol,
    formulary: Formulary,
    plausible_weight: tuple[Quantity, Quantity],
    plausible_bmi: tuple[float, float],
    working: list[WorkingStep],
) -> DosingWeight:
    """Check the weight (and BMI) for plausibility and choose the dosing weight.

    Args:
        weight, weight_text: the measured weight as a quantity and as typed.
        height, height_text: the measured height, or ``None``.
        sex: ``female``, ``male`` or ``unknown``.
        ordered_basis: the weight basis written in the case's protocol, or ``None``.
        protocol: the formulary protocol of the case's indication (its default basis).
        formulary: for the optional ideal-weight-by-BMI policy.
        plausible_weight: lowest and highest plausible weight (policy).
        plausible_bmi: lowest and highest plausible BMI in kg/m² (policy).
        working: the working; the steps are appended (written when the working is read).

    Returns:
        The dosing weight with its basis and reason.

    Raises:
        DoseRefusal: no weight, an implausible weight, BMI or dosing weight, or no height where
            the basis (or the clinic's BMI policy) needs one.
    """
    if weight is None or weight_text is None:
        raise DoseRefusal("missing-weight", "no weight in the case (measurements.weight); a "
                          "weight-based dose cannot be calculated")
    typed_weight = weight_text
    already_kg = same_unit(weight, KG)
    actual_m = in_unit(weight, KG)  # pint converts at the boundary; magnitudes in kg from here
    actual = weight if already_kg else quantity_of(actual_m, KG)
    actual_kg = _rounded(actual_m, _WEIGHT_STEP)
    shown_actual = f"{format_number(actual_kg, 2)} kg"
    if already_kg:
        working.append(f"Actual body weight {shown_actual}")
    else:
        working.append(lambda: f"Actual body weight {as_typed(typed_weight)} = {shown_actual}")
    low, high = (in_unit(limit, KG) for limit in plausible_weight)
    if not Decimal(repr(low)) <= actual_kg <= Decimal(repr(high)):
        raise DoseRefusal("implausible-weight",
                          f"weight {as_typed(typed_weight)} = {shown_actual} is outside the "
                          f"plausible range {_plausible_range(low, high)}; check the unit (lb "
                          "entered as kg?) and re-weigh")

    bmi = height_m = None
    if height is not None and height_text is not None:
        typed_height = height_text
        measured_height = height_m = in_unit(height, METER)
        bmi_m = actual_m / (height_m * height_m)
        bmi = quantity_of(bmi_m, KG_PER_M2)
        bmi_value = _rounded(bmi_m, _BMI_STEP)
        bmi_low, bmi_high = plausible_bmi
        working.append(lambda: f"BMI {shown_actual} ÷ ({shown(measured_height, 'm', 4)})² "
                       f"= {_shown_bmi(bmi_value)} (height {as_typed(typed_height)}; plausible "
                       f"{format_number(bmi_low)}-{format_number(bmi_high)} kg/m²)")
        if not Decimal(repr(float(bmi_low))) <= bmi_value <= Decimal(repr(float(bmi_high))):
            raise DoseRefusal("implausible-weight",
                              f"BMI {_shown_bmi(bmi_value)} (weight {as_typed(typed_weight)}, "
                              f"height {as_typed(typed_height)}) is outside the plausible range "
                              f"{format_number(bmi_low)}-{format_number(bmi_high)} kg/m²; check "
                              "weight and height units")
    else:
        working.append(lambda: f"BMI not checked: no height (weight checked against "
                       f"{_plausible_range(low, high)} only)")

    basis, reason = _choose_basis(ordered_basis, protocol, formulary, bmi, height)
    if basis == "actual":
        working.append(f"Dosing weight {shown_actual}: {reason}")
        return DosingWeight(_kilograms(actual_kg), "actual", reason, actual, None, bmi)

    if height_m is None or height_text is None:  # the BMI policy already refused without one
        raise DoseRefusal("missing-height",
                          f"the {basis} body weight needs a height (measurements.height is "
                          "empty); give the height or order actual body weight")
    ideal_m = _devine_ideal_weight(height_m, height_text, sex, working)
    ideal = quantity_of(ideal_m, KG)
    chosen = ideal_m
    if basis == "adjusted":
        excess = actual_m - ideal_m
        adjusted = chosen = ideal_m + excess * _ADJUSTED_FRACTION
        working.append(lambda: f"Adjusted body weight {shown(ideal_m, 'kg', 2)} + "
                       f"{ADJUSTED_WEIGHT_FRACTION} x ({shown_actual} - {shown(ideal_m, 'kg', 2)})"
                       f" = {shown(adjusted, 'kg', 2)} (R17)")
    if chosen > actual_m:
        reason = (f"{reason}; the {basis} body weight {shown(chosen, 'kg', 2)} is above the "
                  f"actual weight {shown_actual}, so the lower, actual weight is used "
                  "(local policy: never dose above the actual weight)")
        working.append(f"Dosing weight {shown_actual}: {reason}")
        return DosingWeight(_kilograms(actual_kg), "actual", reason, actual, ideal, bmi)
    chosen_kg = _rounded(chosen, _WEIGHT_STEP)
    if chosen_kg < Decimal(repr(low)):
        raise DoseRefusal("implausible-weight",
                          f"the {basis} body weight {format_number(chosen_kg, 2)} kg (height "
                          f"{as_typed(height_text)}) is below the plausible minimum "
                          f"{format_number(low)} kg; check the height, or order actual body "
                          "weight")
    working.append(lambda: f"Dosing weight {format_number(chosen_kg, 2)} kg: {reason}")
    return DosingWeight(_kilograms(chosen_kg), basis, reason, actual, ideal, bmi)


def _plausible_range(low: float, high: float) -> str:
    return f"{format_number(low)}-{format_number(high)} kg"


def _shown_bmi(bmi: Decimal) -> str:
    return f"{format_number(bmi, 1)} kg/m²"


def _choose_basis(ordered: WeightBasis | None, protocol: IndicationProtocol,
                  formulary: Formulary, bmi: Quantity | None,
                  height: Quantity | None) -> tuple[WeightBasis, str]:
    if ordered is not None:
        return ordered, f"{ordered} body weight, as ordered in the protocol"
    default = protocol.weight_basis
    default_reason = (f"{default.value} body weight, the formulary default for "
                      f"{protocol.indication} ({', '.join(default.sources)})")
    policy = formulary.ideal_weight_when_bmi_at_least
    if policy is None:
        return default.value, default_reason
    if bmi is None or height is None:
        raise DoseRefusal("missing-height",
                          f"the clinic's policy doses on ideal body weight at BMI {policy.text} "
                          "or above, which needs a height (measurements.height is empty); "
                          "give the height or order a weight basis in the protocol")
    bmi_value = _rounded(in_unit(bmi, KG_PER_M2), _BMI_STEP)
    threshold = Decimal(repr(in_unit(policy.value, KG_PER_M2)))
    shown_bmi = f"{format_number(bmi_value, 1)} kg/m²"
    if bmi_value >= threshold:
        return "ideal", (f"ideal body weight: BMI {shown_bmi} is at least {policy.text}, the "
                         f"clinic's policy ({', '.join(policy.sources)}: APA consensus)")
    return default.value, f"{default_reason}; BMI {shown_bmi} is below {policy.text}"


def _devine_ideal_weight(height_m: float, height_text: str, sex: str,
                         working: list[WorkingStep]) -> float:
    """The Devine ideal body weight in kg of a height in metres."""
    formula_sex = "male" if sex == "male" else "female"
    base = in_unit(DEVINE_BASE[formula_sex], KG)
    inches = in_unit(quantity_of(height_m, METER), INCH)  # pint converts m to in
    over_reference = inches - _REFERENCE_INCHES
    ideal = base + _KG_PER_INCH * over_reference
    note = ""
    if sex not in ("male", "female"):
        note = "; sex unknown: the women's formula is used (the lower ideal weight, the stricter)"
    elif over_reference < 0:
        note = "; height under 60 in: the formula subtracts 2.3 kg per inch under 60 in"
    working.append(lambda: (
        f"Ideal body weight (Devine, {'men' if formula_sex == 'male' else 'women'}) "
        f"{shown(base, 'kg', 1)} + 2.3 kg/in x ({shown(inches, 'in', 2)} - 60 in) = "
        f"{shown(ideal, 'kg', 2)} (R17; height {as_typed(height_text)}{note})"))
    return ideal
