"""A course of infusions in the app: open and save the course file, word each infusion's
state, list the infusions, draw the PHQ-9 chart and screen one infusion.

No Qt here and no clinical decision: the findings, the dose and the course figures are the
screening's (:func:`ketascreen.screening.run_course`). The day-of re-check's prefill is
:mod:`.recheck`'s, the nurse's monitoring form :mod:`.monitoring`'s.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ketascreen.course.figures import DEFAULT_THRESHOLDS, CourseThresholds
from ketascreen.course.outcome import CourseScreening
from ketascreen.errors import FieldProblem
from ketascreen.models.course import Course, DayOfCheck, Infusion
from ketascreen.models.parsing import CourseValidationError, load_course
from ketascreen.screening import run_course
from ketascreen.ui.actions.screening import FormScreening, ruleset

if TYPE_CHECKING:
    from ketascreen.rules import RuleSet
    from ketascreen.screening import Screening


class InfusionState(enum.StrEnum):
    """Where an infusion of the course stands, in the order it moves through them."""

    PLANNED = "planned"
    """Booked: no day-of re-check typed yet."""
    CHECKED = "checked"
    """The day-of re-check is typed; its checklist is not signed."""
    SIGNED = "signed"
    """Its checklist is signed (known from the records database; a file alone cannot say)."""
    INFUSED = "infused"
    """Monitoring readings or rescue drugs are recorded."""
    DISCHARGED = "discharged"
    """The discharge is recorded."""


_STATE_MARK = {
    InfusionState.PLANNED: "\u25cb",     # white circle
    InfusionState.CHECKED: "\u25d0",     # circle with left half black
    InfusionState.SIGNED: "\u270d",      # writing hand
    InfusionState.INFUSED: "\u25cf",     # black circle
    InfusionState.DISCHARGED: "\u2714",  # heavy check mark
}


def state_label(state: InfusionState) -> str:
    """The state as shown in the infusion list: a mark and the word (never colour alone)."""
    return f"{_STATE_MARK[state]} {state.value}"


def open_course_file(*, path: Path) -> Course:
    """Read and validate a ``ketascreen-course/1`` file.

    Raises:
        CourseValidationError: unreadable, not JSON, or invalid; every problem names its full
            field path (``infusions[2].pre.phq9[8]``).
    """
    return load_course(path)


def course_file_bytes(*, course: Course) -> bytes:
    """The bytes of a course file for ``course`` (what :func:`write_file` writes)."""
    data = course.model_dump(mode="json", exclude_none=True)
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def _pre_given(pre: DayOfCheck) -> bool:
    return pre.model_dump(exclude_defaults=True) != {}


def infusion_state(infusion: Infusion, *, signed: bool = False) -> InfusionState:
    """The state of ``infusion``: discharged, infused, signed, checked or planned, the first
    that holds.

    Args:
        signed: whether its checklist is signed (the records database knows; ``False`` for a
            course opened from a file).
    """
    if infusion.discharge is not None:
        return InfusionState.DISCHARGED
    if infusion.monitoring or infusion.rescue:
        return InfusionState.INFUSED
    if signed:
        return InfusionState.SIGNED
    if _pre_given(infusion.pre):
        return InfusionState.CHECKED
    return InfusionState.PLANNED


@dataclass(frozen=True)
class InfusionRow:
    """One row of the course view's infusion list.

    Attributes:
        number: the infusion's number.
        start: its start, ``YYYY-MM-DD HH:MM``.
        state: its state.
        phq9: its PHQ-9 total, or ``None`` when not given.
        dose: the dose per weight its own protocol fields give, or ``""`` (the previous one's).
    """

    number: int
    start: str
    state: InfusionState
    phq9: int | None
    dose: str


def infusion_rows(course: Course, *, signed: Collection[int] = ()) -> tuple[InfusionRow, ...]:
    """The infusion list of ``course``, oldest first.

    Args:
        signed: the numbers of the infusions whose checklists are signed (records).
    """
    return tuple(
        InfusionRow(number=infusion.number,
                    start=infusion.start.strftime("%Y-%m-%d %H:%M"),
                    state=infusion_state(infusion, signed=infusion.number in signed),
                    phq9=infusion.pre.phq9_total(),
                    dose="" if infusion.dose is None or infusion.dose.dose is None
                    else infusion.dose.dose)
        for infusion in course.infusions)


def phq9_points(course: Course) -> tuple[tuple[int, int | None], ...]:
    """(infusion number, PHQ-9 total or ``None``) for every infusion, oldest first (the
    chart's points when no screening is at hand; the screening's own series otherwise)."""
    return tuple((i.number, i.pre.phq9_total()) for i in course.infusions)


_CLIP_PATH = re.compile(r"<clipPath[^>]*>.*?</clipPath>", re.DOTALL)
CHART_WIDTH = 520.0
"""The PHQ-9 chart's size in the app, in points (the same Drawing the checklist prints)."""
CHART_HEIGHT = 220.0


def phq9_chart_svg(series: Sequence[tuple[int, int | None]], *,
                   thresholds: CourseThresholds = DEFAULT_THRESHOLDS,
                   planned: int | None = None) -> bytes:
    """The PHQ-9 trend chart as SVG: the checklist's reportlab Drawing rendered with
    ``reportlab.graphics.renderSVG`` (one drawing for the PDF and the app)."""
    from reportlab.graphics import renderSVG  # noqa: PLC0415 - reportlab only when drawn

    from ketascreen.reports.chart import phq9_chart  # noqa: PLC0415

    drawing = phq9_chart(series, thresholds, width=CHART_WIDTH, height=CHART_HEIGHT,
                         planned=planned)
    text: str = renderSVG.drawToString(drawing)
    # Qt's SVG renderer (SVG Tiny 1.2) draws a clipPath's shape as an ordinary black rectangle
    # and reads "fill: None" as no valid value (black): both are rewritten to what they mean.
    text = _CLIP_PATH.sub("", text).replace("style=\"clip-path: url(#clip)\"", "")
    return text.replace("fill: None", "fill: none").encode("utf-8")


@dataclass(frozen=True)
class InfusionScreening:
    """The screening of one infusion of a course, as the app shows it.

    Attributes:
        form: the screening in the shape the decision banner, findings and dose box show
            (the same widgets as the screening form).
        course: what the course adds (figures, PHQ-9 series, changes, dose change).
    """

    form: FormScreening
    course: CourseScreening | None


def screen_infusion(*, course: Course, infusion: int,
                    rules: RuleSet | None = None) -> InfusionScreening:
    """Screen infusion ``infusion`` of ``course`` (:func:`ketascreen.screening.run_course`)
    with the rule set in force.

    Raises:
        KnowledgeBaseError: a data file of the rule set in force is invalid.
    """
    return infusion_screening(run_course(course, infusion=infusion, rules=rules or ruleset()))


def infusion_screening(screening: Screening) -> InfusionScreening:
    """An infusion's screening (run here, or by the records store) as the app shows it."""
    box = screening.dose_box
    form = FormScreening(
        document=screening.case.model_dump(mode="json", exclude_none=True), problems=(),
        screening=screening, acknowledgeable=screening.acknowledgeable,
        dose_rows=() if box is None else box.rows, working=() if box is None else box.working,
        no_dose_reason=screening.no_dose_reason)
    return InfusionScreening(form, screening.course)


def monitored_infusion(course: Course) -> int:
    """The infusion the monitoring form records: the last one past its plan (checked, signed,
    infused or discharged), else the first."""
    for infusion in reversed(course.infusions):
        if infusion_state(infusion) is not InfusionState.PLANNED:
            return infusion.number
    return 1


def problems_of(error: CourseValidationError) -> tuple[FieldProblem, ...]:
    """The problems of a refused course, each naming its full field path."""
    return tuple(error.problems)


def stored_rows(states: Sequence[tuple[int, str, str | None]],
                course: Course | None) -> tuple[InfusionRow, ...]:
    """The infusion list of a course stored in the records: every infusion of the records' view
    (``(number, state, start)``, planned ones included) with the state the records hold, and
    the PHQ-9 and own dose of the stored ones from ``course`` (its document)."""
    rows = {row.number: row for row in (() if course is None else infusion_rows(course))}
    shown = []
    for number, state, start in states:
        row = rows.get(number)
        shown.append(InfusionRow(
            number=number, start=row.start if row is not None else (start or "")[:16]
            .replace("T", " "), state=InfusionState(state),
            phq9=None if row is None else row.phq9, dose="" if row is None else row.dose))
    return tuple(shown)
