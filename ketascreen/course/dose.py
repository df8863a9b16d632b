"""The dose of one infusion of a course: which protocol it is dosed with, how many infusions the
course plans, and how its dose per weight differs from the previous infusion's.

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

from ketascreen.course.outcome import ProtocolChoice, ProtocolSource
from ketascreen.models.case import Protocol
from ketascreen.models.course import Course

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

