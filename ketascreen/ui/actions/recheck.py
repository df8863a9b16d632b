"""The day-of re-check of the next infusion of a course: what its form starts from (the values
carried over from an earlier infusion or the screening, a draft's own values) and the course or
infusion it gives back.

No Qt here and no clinical decision: what this module adds is presentation data, which values of
the re-check form were carried over (so the form marks them) and from where.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from ketascreen.models.course import Course, Infusion
from ketascreen.models.parsing import parse_course
from ketascreen.ui.actions.course import InfusionState, infusion_state

if TYPE_CHECKING:
    from ketascreen.models.case import Case


RecheckField = Literal["weight", "medications", "dose", "duration"]
"""The re-check values carried over from an earlier infusion (or the screening) when the next
infusion gives none of its own. Everything else of the day-of re-check (fasting, escort,
pregnancy test, vital signs, PHQ-9, urinary symptoms) is asked afresh on the day."""


@dataclass(frozen=True)
class Carried:
    """A value the re-check form shows before anyone typed it.

    Attributes:
        value: the value as the course file holds it (a quantity string, or the medication
            list's lines for ``medications``).
        source: where it came from, as shown beside it (``"infusion 3"``, ``"the screening"``).
    """

    value: str
    source: str


@dataclass(frozen=True)
class RecheckPrefill:
    """The re-check form of the next infusion, before the nurse types anything.

    Attributes:
        number: the infusion the form checks.
        new: whether that infusion is new (appended to the course) or the course's planned
            last one.
        previous: the infusion the values are carried from (``0``: the first screening).
        carried: the carried-over values, by field (each shown with its mark and source).
        medications: the medication list in force (the case format's shape), unchanged unless
            the nurse edits it.
        draft: a draft checked again (its checklist not signed): its own day-of values by
            form field (``pre`` keys, ``escort``/``pregnancy_test``/``urinary_symptoms``,
            ``dose``, ``duration``, and its own ``medications`` list's lines) as the form
            shows them; loaded as the draft's (not carried:
            they are written back as typed, so an unchanged draft is signed as it is).
    """

    number: int
    new: bool
    previous: int
    carried: Mapping[RecheckField, Carried]
    medications: tuple[dict[str, Any], ...] = field(default=())
    draft: Mapping[str, str] = field(default_factory=dict)
    acknowledgements: tuple[dict[str, str], ...] = ()
    """A draft's own acknowledgements (``concept``, ``reason``), kept when it is checked again."""


def _medication_line(entry: Mapping[str, Any]) -> str:
    text = str(entry.get("text") or entry.get("code") or "")
    if entry.get("daily_dose"):
        text += f" ({entry['daily_dose']} a day)"
    if entry.get("status", "active") != "active":
        text += f" [{entry['status']}]"
    return text


def recheck_prefill(course: Course, *, again: bool = False) -> RecheckPrefill:
    """What the re-check form of the next infusion starts from.

    The next infusion is the course's last one while it is only planned (or, with ``again``,
    while its checklist is not signed: a draft of the records is checked again), else a new
    one. Its weight, medication list and protocol (dose and duration) are the latest given at
    or before the previous infusion (that infusion's own protocol fields first), else the
    screening's: the same values the screening of that infusion reads when the form leaves them
    as they are (``course-format.md``, rules of interpretation).
    """
    last = course.last
    new = not again and infusion_state(last) is not InfusionState.PLANNED
    number = last.number + 1 if new else last.number
    earlier = course.infusions[:number - 1]
    previous = earlier[-1].number if earlier else 0
    carried: dict[RecheckField, Carried] = {}

    weight = next(((i.pre.weight, i.number) for i in reversed(earlier)
                   if i.pre.weight is not None), None)
    if weight is not None:
        carried["weight"] = Carried(weight[0], f"infusion {weight[1]}")
    elif course.screening.measurements.weight is not None:
        carried["weight"] = Carried(course.screening.measurements.weight, "the screening")

    listed = next(((i.pre.medications, i.number) for i in reversed(earlier)
                   if i.pre.medications is not None), None)
    if listed is not None:
        source, medications = f"infusion {listed[1]}", listed[0]
    else:
        source, medications = "the screening", list(course.screening.medications)
    dumped = tuple(m.model_dump(mode="json", exclude_none=True) for m in medications or [])
    carried["medications"] = Carried(
        "\n".join(_medication_line(m) for m in dumped) or "(none)", source)

    protocol_fields: tuple[Literal["dose", "duration"], ...] = ("dose", "duration")
    # a planned infusion's own protocol fields come first; a draft's are its own (not carried)
    dosed = course.infusions[:number - 1] if again else course.infusions[:number]
    for name in protocol_fields:
        own = next(((getattr(i.dose, name), i.number) for i in reversed(dosed)
                    if i.dose is not None and getattr(i.dose, name) is not None), None)
        screened = (None if course.screening.protocol is None
                    else getattr(course.screening.protocol, name))
        if own is not None:
            carried[name] = Carried(str(own[0]), f"infusion {own[1]}")
        elif screened is not None:
            carried[name] = Carried(str(screened), "the screening")
    draft = draft_values(last) if again else {}
    if again and last.pre.medications is not None:  # the draft's own list is the one in force
        dumped = tuple(m.model_dump(mode="json", exclude_none=True) for m in last.pre.medications)
        draft["medications"] = "\n".join(_medication_line(m) for m in dumped) or "(none)"
    acknowledged = tuple({"concept": a.concept, "reason": a.reason}
                         for a in last.acknowledgements) if again else ()
    return RecheckPrefill(number=number, new=new, previous=previous, carried=carried,
                          medications=dumped, draft=draft, acknowledgements=acknowledged)


def draft_values(infusion: Infusion) -> dict[str, str]:
    """The day-of values of a stored draft ``infusion`` as the re-check form shows them (by
    form field; a time as ``YYYY-MM-DDTHH:MM``, PHQ-9/GAD-7 items separated by spaces); the
    fields it does not give are left out."""
    values: dict[str, str] = {}
    for name, value in infusion.pre.model_dump(exclude_none=True).items():
        if isinstance(value, datetime):
            values[name] = value.strftime("%Y-%m-%dT%H:%M")
        elif isinstance(value, (list, tuple)) and name in ("phq9", "gad7"):
            values[name] = " ".join(str(item) for item in value)
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            values[name] = str(value)
    if infusion.dose is not None:
        for name in ("dose", "duration"):
            given = getattr(infusion.dose, name)
            if given is not None:
                values[name] = str(given)
    return values


def draft_label(number: int) -> str:
    """The mark beside a value loaded from a draft: an icon and words, never colour alone."""
    return f"\u270e the draft's value (infusion {number}, not signed): confirm or change"


def carried_label(carried: Carried) -> str:
    """The mark beside a carried-over value: an icon and words, never colour alone."""
    return f"\u21bb carried over from {carried.source}: confirm or change"


def course_with_recheck(course: Course, prefill: RecheckPrefill, *, start: str,
                        pre: Mapping[str, Any], protocol: Mapping[str, str],
                        acknowledgements: Sequence[Mapping[str, str]] = ()) -> Course:
    """``course`` with the re-checked infusion: appended when new, else its planned last one
    replaced (keeping what the file held beyond the day-of re-check).

    Args:
        start: the infusion's start, ``YYYY-MM-DDTHH:MM``.
        pre: the day-of re-check as typed (the course format's ``pre`` keys; a carried value
            the nurse left as it was is *not* given here, so the file keeps meaning
            "unchanged").
        protocol: the protocol fields typed for this infusion (``dose``, ``duration``); empty
            when it keeps the previous one's.
        acknowledgements: this infusion's own acknowledgements (``concept``, ``reason``).

    Raises:
        CourseValidationError: the result is not a valid course; each problem names its full
            field path (``infusions[3].pre.blood_pressure``).
    """
    data = course.model_dump(mode="json", exclude_none=True)
    infusion = recheck_infusion(prefill, start=start, pre=pre, protocol=protocol,
                                acknowledgements=acknowledgements)
    if prefill.new:
        data["infusions"].append(infusion)
    else:
        kept = data["infusions"][prefill.number - 1]
        own = kept.get("pre", {}).get("medications")
        if own is not None and "medications" not in infusion["pre"]:
            infusion["pre"]["medications"] = own  # the form shows the list, never edits it
        kept.update(infusion)
    return parse_course(data)


# -- a course from the records database ----------------------------------------------------------

def first_prefill(case: Case) -> RecheckPrefill:
    """The re-check form of infusion 1 of a course just started from the signed screening
    ``case``: its weight, medication list, dose and duration carried over from the screening."""
    carried: dict[RecheckField, Carried] = {}
    if case.measurements.weight is not None:
        carried["weight"] = Carried(case.measurements.weight, "the screening")
    dumped = tuple(m.model_dump(mode="json", exclude_none=True) for m in case.medications)
    carried["medications"] = Carried(
        "\n".join(_medication_line(m) for m in dumped) or "(none)", "the screening")
    if case.protocol is not None:
        for name in ("dose", "duration"):
            value = getattr(case.protocol, name)
            if value is not None:
                carried[name] = Carried(str(value), "the screening")
    return RecheckPrefill(number=1, new=True, previous=0, carried=carried, medications=dumped)


def recheck_infusion(prefill: RecheckPrefill, *, start: str, pre: Mapping[str, Any],
                     protocol: Mapping[str, str],
                     acknowledgements: Sequence[Mapping[str, str]] = ()) -> dict[str, Any]:
    """The infusion object the re-check form holds (``number``, ``start``, ``pre``, ``dose``,
    ``acknowledgements``): what the records store screens and stores as the day-of check (a
    carried value left as it was is not given, as in :func:`course_with_recheck`)."""
    infusion: dict[str, Any] = {"number": prefill.number, "start": start,
                                "pre": {k: v for k, v in pre.items() if v not in (None, "")}}
    if protocol:
        infusion["dose"] = dict(protocol)
    if acknowledgements:
        infusion["acknowledgements"] = [dict(a) for a in acknowledgements]
    return infusion
