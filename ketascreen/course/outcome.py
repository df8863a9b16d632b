"""What screening one infusion of a course adds to a screening: the data every surface presents.

:func:`ketascreen.screening.run_course` fills a :class:`CourseScreening` (the course figures, the
PHQ-9 series, what changed since the last signed checklist, the dose change and the
acknowledgements carried over); the checklist, the records, the command line and the app present
it and decide nothing again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ketascreen.course.figures import CourseFigures
from ketascreen.models.case import Protocol
from ketascreen.models.course import Course

ChangeState = Literal["unchanged", "changed", "new finding"]
ProtocolSource = Literal["infusion", "previous", "screening"]

CHANGE_ITEMS = ("medications", "weight", "vital signs", "fasting", "escort", "pregnancy test",
                "PHQ-9 item 9", "urinary symptoms")
"""The items of "changed since the last signed checklist", in their printed order (issue 13)."""


@dataclass(frozen=True)
class Change:
    """One item of "changed since the last signed checklist".

    Attributes:
        item: one of :data:`CHANGE_ITEMS`.
        state: ``unchanged``, ``changed``, or ``new finding`` (the item now fires a finding it
            did not fire at the last signed checklist).
        detail: what changed, as printed (``"alprazolam 0.5 mg added"``,
            ``"187 lb -> 85 kg"``); empty when unchanged.
    """

    item: str
    state: ChangeState
    detail: str = ""


@dataclass(frozen=True)
class ProtocolChoice:
    """The protocol an infusion is dosed with, and where it came from.

    Attributes:
        protocol: the protocol fields in force (the case format's shape).
        source: ``infusion`` (the infusion's own ``dose``), ``previous`` (an earlier infusion's)
            or ``screening`` (the first screening's protocol).
        from_infusion: the infusion whose fields are used (``None`` for the screening's).
        origins: for each protocol field in force, in the protocol's field order, the number of
            the infusion it was taken from (``0``: the screening's protocol); a field absent here
            is given nowhere, so the formulary's default for the indication applies.
    """

    protocol: Protocol
    source: ProtocolSource
    from_infusion: int | None = None
    origins: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class DoseChange:
    """A dose per weight different from the previous infusion's.

    Attributes:
        previous: the previous infusion's dose as printed (``"0.5 mg/kg"``).
        current: this infusion's (``"0.75 mg/kg"``).
        direction: ``escalation`` or ``reduction``.
        sources: for an escalation, the R#/C# keys the formulary's escalation step cites
            (``local-policy`` among them where the clinic set it); empty for a reduction or
            when the formulary has no escalation step for the indication.
        text: the one printed line, e.g. ``"0.5 -> 0.75 mg/kg: escalation, R10"``.
        step: the formulary's escalation step as printed (``"0.25 mg/kg"``), or ``None``
            when it has none for the indication.
        exceeds_step: an escalation by more than :attr:`step` (``False`` for a reduction or
            without a step).
        ceiling: the formulary's escalation ceiling as printed (``"0.75 mg/kg"``), or
            ``None`` when it has none for the indication.
        above_ceiling: this infusion's dose per weight is above :attr:`ceiling` (``False``
            without a ceiling). The protocol's hard limit is checked by the dosing as always.
    """

    previous: str
    current: str
    direction: Literal["escalation", "reduction"]
    sources: tuple[str, ...]
    text: str
    step: str | None = None
    exceeds_step: bool = False
    ceiling: str | None = None
    above_ceiling: bool = False


@dataclass(frozen=True)
class CourseScreening:
    """What screening infusion ``infusion`` of ``course`` adds to the screening.

    Attributes:
        course: the course as screened.
        infusion: the number of the infusion screened (the last one of the file).
        figures: the course figures and status (the result's ``course`` key).
        phq9_series: (infusion number, PHQ-9 total or ``None``) for every infusion up to this
            one, oldest first: the chart's points (the baseline is infusion 1's).
        changes: one :class:`Change` per item of :data:`CHANGE_ITEMS`, in that order.
        protocol: the protocol this infusion is dosed with.
        dose_change: the change of dose per weight from the previous infusion, or ``None``.
        carried_acknowledgements: concepts whose acknowledgement (from the screening or an
            earlier infusion) carries over because the finding's basis is unchanged.
        last_signed: the number of the infusion whose checklist was last signed (``0``: the
            first screening's), the reference of :attr:`changes`.
    """

    course: Course
    infusion: int
    figures: CourseFigures
    phq9_series: tuple[tuple[int, int | None], ...]
    changes: tuple[Change, ...]
    protocol: ProtocolChoice
    dose_change: DoseChange | None
    carried_acknowledgements: tuple[str, ...]
    last_signed: int
