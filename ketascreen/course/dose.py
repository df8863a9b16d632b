"""The dose of one infusion of a course: which protocol it is dosed with
(:func:`protocol_for`), how many infusions the course plans (:func:`planned_infusions`), and how
its dose per weight differs from the previous infusion's (:func:`dose_change`).

The dose itself is calculated exactly as for a first screening (:mod:`ketascreen.dosing`: the same
limits, rounding and inverse check) on the protocol :func:`protocol_for` resolves; this module
only decides what goes in and how a change between two calculated doses reads.

**Which protocol (course-format.md: "optional protocol fields as in the case format; absent -> the
previous infusion's, or the screening's").** The rule is applied *field by field*: each of
``dose``, ``duration`` and ``weight_basis`` is the latest one given at or before the infusion
(its own ``dose`` block, then each earlier infusion's, newest first, then the screening's
``protocol``); a field given nowhere stays absent, so the formulary's default for the indication
applies, as in the case format. The preparation is one choice, not three fields: a final
``concentration``, or a ``vial`` with its ``diluent_volume``. It is taken whole from the latest
block that gives any of them, so a new concentration never combines with an old vial.

Reading the whole block instead (an infusion's ``{"dose": "0.75 mg/kg"}`` standing alone) would
silently drop what the screening ordered and nobody re-typed: a 100 min slow infusion would
become the formulary's 40 min, an ideal-weight basis would become actual weight (a larger dose).
Carrying each field forward keeps what was ordered until somebody orders otherwise.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ketascreen.course.outcome import DoseChange, ProtocolChoice, ProtocolSource
from ketascreen.display import format_number
from ketascreen.dosing.outcome import DoseOutcome
from ketascreen.knowledge.formulary import LOCAL_POLICY, Formulary
from ketascreen.knowledge.formulary.display import decimal_places
from ketascreen.models.case import Protocol
from ketascreen.models.course import Course, Plan
from ketascreen.models.doses import DosePerWeight, DoseRatePerWeight, as_decimal, divided_by

SCREENING = 0
"""The "infusion number" of the first screening in :attr:`ProtocolChoice.origins`."""

_SINGLE_FIELDS = ("dose", "duration", "weight_basis")
_PREPARATION_FIELDS = ("concentration", "vial", "diluent_volume")


def _given(protocol: Protocol | None) -> frozenset[str]:
    """The protocol fields a block gives (``None`` and an empty block give none)."""
    if protocol is None:
        return frozenset()
    return frozenset(name for name in (*_SINGLE_FIELDS, *_PREPARATION_FIELDS)
                     if getattr(protocol, name) is not None)


def protocol_for(course: Course, infusion: int) -> ProtocolChoice:
    """The protocol infusion ``infusion`` of ``course`` is dosed with, and where it came from.

    Each of ``dose``, ``duration`` and ``weight_basis`` is the latest given at or before the
    infusion: the infusion's own ``dose`` block, else an earlier infusion's (newest first), else
    the screening's ``protocol``. The preparation (``concentration``, or ``vial`` with
    ``diluent_volume``) is taken whole from the latest block giving any part of it. A field
    given nowhere is absent: the formulary's default for the indication applies.

    Args:
        course: a validated course.
        infusion: the infusion's number (1-based, as numbered in the file).

    Returns:
        The protocol in force. ``source`` and ``from_infusion`` name the newest block that gives
        any field (``infusion``: the infusion's own; ``previous``: an earlier infusion's;
        ``screening``: none of the infusions up to this one gives a field). ``origins`` names,
        for every field in force, the infusion it came from (``0``: the screening).

    Raises:
        IndexError: the course has no infusion ``infusion``.
    """
    course.infusion(infusion)  # raises IndexError naming the range
    blocks: list[tuple[int, Protocol | None]] = [
        (number, course.infusion(number).dose) for number in range(infusion, 0, -1)]
    blocks.append((SCREENING, course.screening.protocol))

    values: dict[str, str] = {}
    origins: dict[str, int] = {}
    newest: int | None = None
    for number, block in blocks:
        given = _given(block)
        if not given or block is None:
            continue
        if newest is None:
            newest = number
        for name in _SINGLE_FIELDS:
            if name in given and name not in origins:
                values[name] = getattr(block, name)
                origins[name] = number
        if given & set(_PREPARATION_FIELDS) and not any(
                name in origins for name in _PREPARATION_FIELDS):
            for name in _PREPARATION_FIELDS:
                if name in given:
                    values[name] = getattr(block, name)
                    origins[name] = number

    if newest is None or newest == SCREENING:
        source: ProtocolSource = "screening"
        from_infusion = None
    elif newest == infusion:
        source, from_infusion = "infusion", infusion
    else:
        source, from_infusion = "previous", newest
    protocol = Protocol(**values)
    ordered = tuple((name, origins[name]) for name in (*_SINGLE_FIELDS, *_PREPARATION_FIELDS)
                    if name in origins)
    return ProtocolChoice(protocol=protocol, source=source, from_infusion=from_infusion,
                          origins=ordered)



# --- the plan --------------------------------------------------------------------------------

def course_plan(course: Course, formulary: Formulary) -> Plan | None:
    """The course's plan: the course file's ``plan``, else the formulary's course default for the
    screening's indication, else ``None`` (no plan known)."""
    if course.plan is not None:
        return course.plan
    defaults = formulary.course_defaults(course.screening.indication)
    if defaults is None or defaults.plan is None:
        return None
    return defaults.plan.value


def planned_infusions(course: Course, formulary: Formulary) -> int | None:
    """How many infusions the course plans (``plan.infusions`` of the course file, else the
    formulary's default for the indication), or ``None`` when neither gives a plan."""
    plan = course_plan(course, formulary)
    return None if plan is None else plan.infusions


# --- the change of dose per weight -----------------------------------------------------------

PerWeight = DosePerWeight | DoseRatePerWeight


def _per_weight(outcome: DoseOutcome, per_hour: bool) -> PerWeight | None:
    """The outcome's intended dose per dosing weight, in the protocol's form; ``None`` without
    a dose. Taken from the unrounded intended dose (rate) and the dosing weight it was
    calculated on, so the weight's unit (lb or kg) cancels out."""
    programme, dosing = outcome.programme, outcome.dosing_weight
    if outcome.dose is None or programme is None or dosing is None:
        return None
    if per_hour:
        return DoseRatePerWeight.from_quantity(
            divided_by(programme.intended_dose_rate, dosing.weight))
    return DosePerWeight.from_quantity(divided_by(programme.intended_dose, dosing.weight))


def _magnitude(value: PerWeight) -> float:
    return (value.mg_per_kg_per_h() if isinstance(value, DoseRatePerWeight)
            else value.mg_per_kg())


def dose_change(previous: DoseOutcome | None, current: DoseOutcome, formulary: Formulary, *,
                indication: str) -> DoseChange | None:
    """How this infusion's dose per weight differs from the previous infusion's.

    Both doses are compared in the form of the indication's protocol (mg/kg per session, or
    mg/kg/h where the protocol's limits are per hour), at the formulary's display resolution
    for a dose per weight: two doses that print the same are the same.

    Args:
        previous: the previous infusion's dose outcome (``None``: there is none).
        current: this infusion's.
        formulary: the formulary both were calculated from; its course entry for
            ``indication`` gives the escalation step and ceiling and their sources.
        indication: the course's indication (the screening's).

    Returns:
        ``None`` when either has no dose or the two are equal; else the change, e.g. text
        ``0.5 -> 0.75 mg/kg: escalation, R10``. An escalation larger than the formulary's step,
        or a dose above its ceiling, is flagged (``exceeds_step``, ``above_ceiling``) and said
        in the text; a rule decides what it means.

    Raises:
        KeyError: ``indication`` is not an indication of case-format.md.
    """
    protocol = formulary.protocol(indication)
    per_hour = protocol.limits_per_hour
    if previous is None:
        return None
    before, after = _per_weight(previous, per_hour), _per_weight(current, per_hour)
    if before is None or after is None:
        return None
    places = decimal_places(formulary.display.dose_per_weight.value)
    step = Decimal(1).scaleb(-places)
    old, new = (as_decimal(_magnitude(v)).quantize(step, rounding=ROUND_HALF_UP)
                for v in (before, after))
    if old == new:
        return None
    formats = formulary.formats
    unit = "mg/kg/h" if per_hour else "mg/kg"
    shown_old, shown_new = formats.per_weight(before), formats.per_weight(after)
    defaults = formulary.course_defaults(indication)
    escalation = defaults.escalation_step if defaults else None
    ceiling = defaults.escalation_ceiling if defaults else None
    rising = new > old
    exceeds = bool(rising and escalation is not None
                   and new - old > as_decimal(_magnitude(escalation.value)))
    above = bool(ceiling is not None and new > as_decimal(_magnitude(ceiling.value)))
    if not rising:
        sources: tuple[str, ...] = ()
        said = "reduction"
    elif escalation is None:
        sources = ()
        said = "escalation, no escalation step in the formulary"
    else:
        sources = escalation.sources
        said = "escalation, " + ", ".join(
            "local policy" if key == LOCAL_POLICY else key for key in sources)
    if exceeds and escalation is not None:
        said += f"; larger than the escalation step of {formats.per_weight(escalation.value)}"
    if above and ceiling is not None:
        said += f"; above the escalation ceiling of {formats.per_weight(ceiling.value)}"
    return DoseChange(
        previous=shown_old, current=shown_new,
        direction="escalation" if rising else "reduction", sources=sources,
        text=f"{format_number(old, places)} -> {format_number(new, places)} {unit}: {said}",
        step=None if escalation is None else formats.per_weight(escalation.value),
        exceeds_step=exceeds,
        ceiling=None if ceiling is None else formats.per_weight(ceiling.value),
        above_ceiling=above)
