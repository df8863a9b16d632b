"""The form's inputs: the questionnaire, the substance-use instruments, measurements with their
units, and the formulary's protocol defaults."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Literal

from ketascreen.display import format_number, format_quantity
from ketascreen.errors import UnitInputError
from ketascreen.rules.scores import audit_c_total, dast10_total
from ketascreen.ui.actions.screening import ruleset
from ketascreen.units import Dimension, magnitude_in, parse_blood_pressure, parse_quantity

if TYPE_CHECKING:
    from ketascreen.rules import RuleSet

MeasurementKind = Literal["weight", "height", "blood_pressure", "heart_rate", "spo2"]


@dataclass(frozen=True)
class HistoryQuestion:
    """One question of the screening questionnaire.

    Attributes:
        concept: the history concept id of concepts.md.
        title: the rule's clinician-facing title, used as the question.
        statement: why it matters (the rule's statement).
        severity: the severity under the clinic policy (absolute, relative or info).
    """

    concept: str
    title: str
    statement: str
    severity: str


def history_questions() -> tuple[HistoryQuestion, ...]:
    """Every history concept with its wording from the rule catalogue, in concepts.md order."""
    from ketascreen.concepts import HISTORY_CONCEPTS  # noqa: PLC0415 - small, data only

    rules = ruleset()
    by_concept = {r.concept: r for r in rules.catalogue.rules if r.kind == "contraindication"}
    questions = []
    for concept in HISTORY_CONCEPTS:
        rule = by_concept[concept]
        questions.append(HistoryQuestion(concept, rule.title, rule.statement,
                                         rules.policy.severity[rule.severity_key]))
    return tuple(questions)


def dast10_score(*, answers: Sequence[str | None]) -> int | None:
    """The DAST-10 total of ten yes/no answers (item 3 reverse-scored by the core), or
    ``None`` while any item is unanswered."""
    if len(answers) != 10 or any(a is None for a in answers):
        return None
    return dast10_total([str(a) for a in answers])


def audit_c_score(*, items: Sequence[int | None]) -> int | None:
    """The AUDIT-C total of three item scores, or ``None`` while any item is unanswered."""
    if len(items) != 3 or any(i is None for i in items):
        return None
    return audit_c_total([int(i) for i in items if i is not None])


_KIND_DIMENSION: dict[str, Dimension] = {
    "weight": Dimension.MASS, "height": Dimension.LENGTH, "heart_rate": Dimension.FREQUENCY,
    "spo2": Dimension.FRACTION,
}


def convert_measurement(*, kind: MeasurementKind, text: str) -> str | None:
    """The measurement in the other unit system, for display beside the input.

    ``"187 lb"`` -> ``"= 84.82 kg"``; ``"170 cm"`` -> ``"= 5 ft 6.9 in"``;
    ``"18.4/11.5 kPa"`` -> ``"= 138/86 mmHg"``. ``None`` when the text does not parse (the
    form's validation names the problem) or there is nothing to convert.
    """
    try:
        if kind == "blood_pressure":
            bp = parse_blood_pressure(text)
            systolic, diastolic = bp.mmhg()
            if str(bp.systolic.units) == "kilopascal":
                return f"= {format_number(systolic, 0)}/{format_number(diastolic, 0)} mmHg"
            return (f"= {format_number(magnitude_in(bp.systolic, 'kilopascal'), 1)}/"
                    f"{format_number(magnitude_in(bp.diastolic, 'kilopascal'), 1)} kPa")
        value = parse_quantity(text, _KIND_DIMENSION[kind])
    except UnitInputError:
        return None
    if kind == "weight":
        if str(value.units) == "kilogram":
            return f"= {format_quantity(value, 'lb', 1)}"
        return f"= {format_quantity(value, 'kg', 2)}"
    if kind == "height":
        if str(value.units) in ("centimeter", "meter", "millimeter"):
            # Round to the shown 0.1 in before splitting, so 182.8 cm is "6 ft 0 in", never
            # "5 ft 12 in" (a form the parser refuses and a nurse could misread).
            tenths = int(Decimal(str(magnitude_in(value, "inch"))).scaleb(1).quantize(
                Decimal(1), rounding=ROUND_HALF_UP))
            feet, rest = divmod(tenths, 120)
            return f"= {feet} ft {format_number(rest / 10, 1)} in"
        return f"= {format_quantity(value, 'cm', 1)}"
    return None


def unit_problem(*, kind: MeasurementKind, text: str) -> UnitInputError | None:
    """The unit error of a measurement text, or ``None`` when it parses (for tests and hints)."""
    try:
        if kind == "blood_pressure":
            parse_blood_pressure(text, field="measurements.blood_pressure")
        else:
            parse_quantity(text, _KIND_DIMENSION[kind], field=f"measurements.{kind}")
    except UnitInputError as error:
        return error
    return None


def protocol_defaults(*, indication: str, rules: RuleSet | None = None) -> str | None:
    """The formulary's default protocol for ``indication``, for display; ``None`` if unknown.

    Args:
        rules: the rule set that screens the form (``None``: the one in force without a
            records database).
    """
    formulary = (rules or ruleset()).formulary
    try:
        protocol = formulary.protocol(indication)
    except KeyError:
        return None
    dose = protocol.default_dose.text if protocol.default_dose else "no default dose"
    duration = (protocol.default_duration.text if protocol.default_duration
                else "no default duration")
    return (f"Formulary default for {indication}: {dose} over {duration}, "
            f"{protocol.weight_basis.value} body weight, limits {protocol.limits_text}.")
