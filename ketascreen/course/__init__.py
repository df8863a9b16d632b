"""The course of infusions: what is computed across a patient's infusions after the screening.

:mod:`~ketascreen.course.figures` holds the course figures and the course status of one infusion
(``course-format.md``, "Result"): days since the previous infusion, infusions in the last 7 and
30 days, the milligrams given before it, the PHQ-9 change from the baseline and what it means.
:mod:`~ketascreen.course.dose` resolves an infusion's protocol, the plan and the dose change;
:mod:`~ketascreen.course.context` builds the case and the day-of facts the rules read for
infusion N; :mod:`~ketascreen.course.carryover` decides which acknowledgements carry over and
what changed since the last signed checklist; :mod:`~ketascreen.course.prepare` puts them
together for :func:`ketascreen.screening.run_course`; :mod:`~ketascreen.course.outcome` holds
the types every surface presents. The package sits above the rules and the dosing and below the
screening, which calls it.
"""

from __future__ import annotations

from .figures import (
    DEFAULT_THRESHOLDS,
    CourseFigureError,
    CourseFigures,
    CourseStatus,
    CourseThresholds,
    Phq9Change,
    course_figures,
    course_status,
    cumulative_mg,
    days_since_previous,
    infusions_in_window,
    phq9_change,
    status_for_change,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "CourseFigureError",
    "CourseFigures",
    "CourseStatus",
    "CourseThresholds",
    "Phq9Change",
    "course_figures",
    "course_status",
    "cumulative_mg",
    "days_since_previous",
    "infusions_in_window",
    "phq9_change",
    "status_for_change",
]
