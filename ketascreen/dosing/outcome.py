"""What the dose calculation hands back: the dose, its working, limit findings, the pump
programme, or the reason there is no dose."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, TypeAlias

from ketascreen.display import format_number
from ketascreen.errors import CalculationMismatchError
from ketascreen.knowledge.formulary import QuantityFormats
from ketascreen.models.case import WeightBasis
from ketascreen.models.doses import (
    PERCENT,
    DosePerWeight,
    as_decimal,
    in_unit,
)
from ketascreen.models.result import Dose
from ketascreen.units import Quantity

DoseConcept = Literal[
    "dose-above-hard-limit", "dose-above-soft-limit", "dose-below-range", "duration-outside-range",
]

WorkingStep: TypeAlias = "str | Callable[[], str]"
"""One line of the working: the text itself, or a function that writes it when the working is
first read (so a calculation whose working is never shown does not pay for formatting it)."""

RefusalCode = Literal[
    "missing-weight",          # no weight in the case
    "implausible-weight",      # weight, BMI or dosing weight outside the plausible range
    "missing-height",          # ideal/adjusted basis (or the BMI policy) needs a height
    "no-protocol",             # neither the case nor the formulary gives a dose or duration
    "dose-above-hard-limit",   # a formulary hard limit (dose, dose rate)
    "pump-maximum",            # programmed rate above the pump maximum
    "invalid-preparation",     # unstocked vial, undiluted 100 mg/mL, concentration too high
    "pump-resolution",         # rounding would change the dose by more than the formulary allows
    "calculation-mismatch",    # the independent inverse check disagrees
]


@dataclass(frozen=True, eq=False, repr=False)
class DoseFinding:
    """A dose limit that fired; the engine turns it into a ``KS-DOSE-000x`` finding.

    Attributes:
        concept: the dose concept of concepts.md.
        basis: the inputs that fired it, for a clinician, e.g. ``1.2 mg/kg is above the hard
            limit of 1 mg/kg (formulary depression)``.
        source_keys: reference keys (R#) of the limit; ``"local-policy"`` for a clinic number.
        blocks_dose: True when no dose may be shown (hard limits).
    """

    concept: DoseConcept
    basis: str
    source_keys: tuple[str, ...]
    blocks_dose: bool


@dataclass(frozen=True, eq=False, repr=False)
class DosingWeight:
    """The weight the dose is calculated on, and why.

    Attributes:
        weight: the dosing weight (kg, rounded to 0.01 kg as shown; the dose is calculated on
            it so each working line can be recomputed by hand).
        basis: ``actual``, ``ideal`` or ``adjusted``.
        reason: why this basis was used, for a clinician.
        actual: the actual body weight (kg).
        ideal: the Devine ideal body weight when it was calculated, else ``None``.
        bmi: the BMI (kg/m²) when a height was given, else ``None``.
    """

    weight: Quantity
    basis: WeightBasis
    reason: str
    actual: Quantity
    ideal: Quantity | None
    bmi: Quantity | None


@dataclass(frozen=True, eq=False, repr=False)
class PumpProgramme:
    """What the bedside prepares and programs, with the dose it really delivers.

    Attributes:
        intended_dose: the dose as ordered for this patient (mg, unrounded).
        intended_dose_rate: the ordered dose rate (mg/h, unrounded).
        vial_strength: the vial drawn from (``None`` when a final concentration was ordered).
        drug_volume: volume to draw up from the vial, rounded to the syringe resolution.
        diluent_volume: the bag the drug is added to (``None`` with a final concentration).
        diluent: the diluent's name (``None`` with a final concentration).
        prepared_dose: the drug in the total volume (mg), after rounding the drawn-up volume.
        total_volume: the volume to be infused (VTBI, mL).
        final_concentration: mg/mL in the infused volume.
        duration: the planned infusion duration.
        exact_rate: the pump rate before rounding (mL/h).
        programmed_rate: the pump rate as programmed, rounded half up to the pump resolution.
        rate_resolution: the pump's rate resolution.
        volume_resolution: the resolution volumes were rounded to.
        delivered_dose: the dose delivered at the programmed rate over the planned duration.
        delivered_dose_per_weight: the same per dosing weight.
        delivered_deviation: difference of the delivered from the intended dose (signed, %).
        prepared_deviation: difference of the prepared from the intended dose (signed, %).
        infusion_time: how long the pump takes to infuse the VTBI at the programmed rate.
        vtbi: the volume to be infused as programmed: the prepared volume rounded down to the
            pump's VTBI resolution (``total_volume`` is the prepared volume itself).
        vtbi_deviation: difference of the dose in the VTBI from the intended dose (signed, %).
        formats: the formulary's one formatter of every dose quantity.
    """

    intended_dose: Quantity
    intended_dose_rate: Quantity
    vial_strength: Quantity | None
    drug_volume: Quantity | None
    diluent_volume: Quantity | None
    diluent: str | None
    prepared_dose: Quantity
    total_volume: Quantity
    final_concentration: Quantity
    duration: Quantity
    exact_rate: Quantity
    programmed_rate: Quantity
    rate_resolution: Quantity
    volume_resolution: Quantity
    delivered_dose: Quantity
    delivered_dose_per_weight: DosePerWeight
    delivered_deviation: Quantity
    prepared_deviation: Quantity
    infusion_time: Quantity
    vtbi: Quantity
    vtbi_deviation: Quantity
    formats: QuantityFormats = field(repr=False, compare=False)

    def rows(self) -> tuple[tuple[str, str], ...]:
        """The order as the bedside reads it: one labelled row per quantity, each written by the
        formulary's one formatter (:class:`~ketascreen.knowledge.formulary.QuantityFormats`).

        Labels: ``Intended dose``, ``Drawn up`` (or ``Prepare``), ``Diluent``, ``Final
        concentration``, ``VTBI``, ``Dose rate`` (smart-pump dose mode: mg/h at mg/mL),
        ``Delivered``, and last ``PUMP RATE``.
        """
        fmt = self.formats
        rows: list[tuple[str, str]] = [("Intended dose", fmt.dose(self.intended_dose))]
        if self.vial_strength is not None and self.drug_volume is not None:
            rows.append(("Drawn up", f"{fmt.drawn_volume(self.drug_volume)} of ketamine "
                         f"{fmt.concentration(self.vial_strength)} vial = "
                         f"{fmt.dose(self.prepared_dose)}"))
            if self.diluent_volume is not None:
                rows.append(("Diluent", f"add to {fmt.drawn_volume(self.diluent_volume)} "
                             f"{self.diluent}"))
        else:
            rows.append(("Prepare", f"{fmt.drawn_volume(self.total_volume)} at "
                         f"{fmt.concentration(self.final_concentration)} = "
                         f"{fmt.dose(self.prepared_dose)}"))
        rows += [
            ("Final concentration", fmt.concentration(self.final_concentration)),
            ("VTBI", fmt.vtbi(self.vtbi)),
            ("Dose rate", f"{fmt.dose_rate(self.intended_dose_rate)} at "
                          f"{fmt.concentration(self.final_concentration)} (smart-pump dose mode)"),
            ("Delivered", f"{fmt.dose(self.delivered_dose)} "
                          f"({fmt.per_weight(self.delivered_dose_per_weight)}), "
                          f"{describe_deviation(self.delivered_deviation)} the intended dose"),
            ("PUMP RATE", fmt.rate(self.programmed_rate)),
        ]
        return tuple(rows)

    def lines(self) -> tuple[str, ...]:
        """The pump-programming block, one ISMP-safe ``label: value`` line per row."""
        return tuple(f"{label}: {value}" for label, value in self.rows())


@dataclass(frozen=True, eq=False, repr=False)
class InverseCheck:
    """The independent inverse check that passed (see :mod:`ketascreen.dosing.inverse`).

    Attributes:
        intended_mg_per_kg: the ordered dose per session.
        from_rate_mg_per_kg: recomputed from the programmed rate, duration, concentration and
            the independently recomputed dosing weight.
        in_volume_mg_per_kg: recomputed from the VTBI and the concentration.
        difference_percent: the larger relative difference of the two from the intended dose.
        tolerance_percent: the allowed difference (1 % plus what rounding can explain).
        write_line: writes the working line stating the check; read :attr:`line` instead.
    """

    intended_mg_per_kg: Decimal
    from_rate_mg_per_kg: Decimal
    in_volume_mg_per_kg: Decimal
    difference_percent: Decimal
    tolerance_percent: Decimal
    write_line: Callable[[], str] = field(repr=False, compare=False)

    @functools.cached_property
    def line(self) -> str:
        """The working line stating the check, written on first access and kept."""
        return self.write_line()


@dataclass(frozen=True, eq=False, repr=False)
class DoseOutcome:
    """The result of :func:`~ketascreen.dosing.calculate_dose`.

    Attributes:
        dose: the ``dose`` object of result-format.md, or ``None`` when there is no dose.
        working_steps: the working as calculated: each line, or the function that writes it.
            Read :attr:`working` instead; the lines are written once, on first access.
        findings: dose limits that fired (also when the dose is refused).
        refusal: why there is no dose, for a clinician; ``None`` when there is a dose.
        refusal_code: the kind of refusal, for programs.
        dosing_weight_basis_reason: which weight was used and why (or why none was).
        dosing_weight: the dosing weight, when one was determined.
        programme: the pump programme; ``None`` whenever ``dose`` is ``None``.
        inverse_check: the passed inverse check; ``None`` whenever ``dose`` is ``None``.
        mismatch: the inverse check's error when it refused the dose.
        formulary_version, formulary_sha256: the formulary the dose was calculated from.
    """

    dose: Dose | None
    working_steps: tuple[WorkingStep, ...] = field(repr=False, compare=False)
    findings: tuple[DoseFinding, ...]
    refusal: str | None
    refusal_code: RefusalCode | None
    dosing_weight_basis_reason: str
    dosing_weight: DosingWeight | None
    programme: PumpProgramme | None
    inverse_check: InverseCheck | None
    mismatch: CalculationMismatchError | None
    formulary_version: str
    formulary_sha256: str

    @functools.cached_property
    def working(self) -> tuple[str, ...]:
        """Every step with its values substituted, ISMP-safe, ready for UI and PDF.

        Written from :attr:`working_steps` on first access and kept: the dose, the findings
        and the refusal never depend on it, so screening without showing the working does not
        format it. The lines are written from the very quantities of this outcome; like every
        quantity the engine hands out, they must not be converted in place (``ito``).
        """
        return tuple(step if isinstance(step, str) else step() for step in self.working_steps)

    def programme_lines(self) -> tuple[str, ...]:
        """The pump-programming block, or the refusal line when there is no dose."""
        if self.programme is None:
            return (f"No dose: {self.refusal}",)
        return self.programme.lines()


class DoseRefusal(Exception):  # noqa: N818 - a refusal is an outcome, not an error condition
    """Raised inside the forward path to stop with a refusal; never escapes calculate_dose.

    Attributes:
        code: the kind of refusal.
        message: the reason, for a clinician.
        mismatch: the inverse check's error, for a calculation-mismatch refusal.
    """

    def __init__(self, code: RefusalCode, message: str,
                 mismatch: CalculationMismatchError | None = None) -> None:
        super().__init__(message)
        self.code: RefusalCode = code
        self.message = message
        self.mismatch = mismatch


def describe_deviation(deviation: Quantity) -> str:
    """``0.74 % above``, ``0.03 % below`` or ``exactly`` (words, not signs: ISMP avoids ``+``)."""
    value = as_decimal(in_unit(deviation, PERCENT))
    shown = format_number(abs(value), 2)
    if shown == "0":
        return "exactly" if value == 0 else "within 0.01 % of"
    return f"{shown} % {'above' if value > 0 else 'below'}"


