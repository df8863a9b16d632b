"""The content of the checklist of an infusion of a course, decided from its course screening.

What :func:`ketascreen.checklist.build_checklist` adds for an infusion (infusion N of M, the
changes since the last signed checklist, the day-of re-check, the monitoring grid, the course
panel), in the same screening layer; :mod:`ketascreen.reports` only renders it. The monitoring
cadence, the patient's band and the notify values are the course layer's
(:mod:`ketascreen.course.monitoring`), decided once for the checklist, the records and the app.
"""

from __future__ import annotations

from ketascreen.course.context import course_thresholds
from ketascreen.course.figures import CourseThresholds
from ketascreen.course.monitoring import (
    AFTER_EVERY_MIN,
    AFTER_FOR_MIN,
    BAND_PERCENT,
    BP_PEAK_MIN,
    DURING_EVERY_MIN,
    blood_pressure_band,
    monitoring_times,
    notify_values,
)
from ketascreen.course.outcome import CourseScreening
from ketascreen.display import format_number, format_quantity
from ketascreen.dosing import DoseOutcome
from ketascreen.errors import UnitInputError
from ketascreen.knowledge.policy import Policy
from ketascreen.models.checklist import ChangeRow, InfusionSection, Phq9Trend
from ketascreen.models.course import DayOfCheck
from ketascreen.units import Dimension, Quantity, parse_quantity

_SOURCE_WORDS = {"infusion": "this infusion's own protocol fields",
                 "screening": "the first screening's protocol"}
_STATUS_WORDS = {
    "too-early": "too early to judge (before infusion 5: C44)",
    "improving": "improving (20 % or more below baseline: C44)",
    "no-improvement": "no improvement (less than 20 % below baseline from infusion 5: C44; "
                      "some respond only after 10-12 infusions: C45)",
    "response": "response (50 % or more below baseline: C43, C48)",
    "remission": "remission (PHQ-9 below 5: C43, C48)",
    "unknown": "unknown (no baseline or no latest PHQ-9)",
}


def _clock(moment: object) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def _band_text(today: str | None) -> str:
    band = blood_pressure_band(today)
    if band is None or today is None:
        return ("No band: today's blood pressure is not recorded. Take it before the infusion "
                "(R41, R42).")
    (s_low, s_high), (d_low, d_high) = band.systolic, band.diastolic
    return (f"Within {BAND_PERCENT} % of today's pre-infusion {today}: "
            f"systolic {s_low} to {s_high} mmHg, diastolic {d_low} to {d_high} mmHg "
            "(Aldrete circulation within 20 % of baseline: C34, R116; PADSS: C32).")


def _duration_of(course: CourseScreening, outcome: DoseOutcome | None) -> Quantity | None:
    if outcome is not None and outcome.programme is not None:
        return outcome.programme.duration
    text = course.protocol.protocol.duration
    try:
        return None if text is None else parse_quantity(text, Dimension.TIME)
    except UnitInputError:
        return None


def _day_of(course: CourseScreening) -> tuple[tuple[str, str], ...]:
    pre = course.course.infusion(course.infusion).pre
    weight = pre.weight or "not re-weighed (the latest earlier weight is used)"
    phq9 = pre.phq9_total()
    item9 = pre.phq9_item9()
    phq9_text = "not done" if phq9 is None else f"{phq9} of 27"
    if item9 is not None:
        phq9_text += f"; item 9: {item9}"
    gad7 = pre.gad7_total()
    return (
        ("Last solids", "not recorded" if pre.last_solids is None else _clock(pre.last_solids)),
        ("Last clear fluids",
         "not recorded" if pre.last_clear_fluids is None else _clock(pre.last_clear_fluids)),
        ("Escort", pre.escort), ("Pregnancy test", pre.pregnancy_test),
        ("Weight today", weight),
        ("Medications", "changed (see the findings)" if pre.medications_changed()
         else "unchanged since the last infusion"),
        ("PHQ-9", phq9_text), ("GAD-7", "not done" if gad7 is None else f"{gad7} of 21"),
        ("Urinary symptoms", pre.urinary_symptoms),
    )


def _today(item: str, pre: DayOfCheck) -> str:
    """What an unchanged item shows: today's vital signs (so page 1 carries them), else ``""``."""
    if item != "vital signs":
        return ""
    values = [f"{name} {value}" for name, value in (("BP", pre.blood_pressure),
                                                    ("HR", pre.heart_rate), ("SpO2", pre.spo2))
              if value is not None]
    return "today " + ", ".join(values) if values else "today: not recorded"


def _course_rows(course: CourseScreening) -> tuple[tuple[str, str], ...]:
    f = course.figures
    change = f.phq9.change_percent_rounded()
    phq9 = (f"baseline {'not given' if f.phq9.baseline is None else f.phq9.baseline}, "
            f"latest {'not given' if f.phq9.latest is None else f.phq9.latest}, change "
            f"{'not computable' if change is None else format_number(change, 1) + ' %'}")
    since = ("first infusion" if f.days_since_previous is None
             else f"{f.days_since_previous} day{'s' if f.days_since_previous != 1 else ''}")
    return (
        ("Infusion", f"{f.infusion} of {f.planned}" if f.planned else f"{f.infusion} (no plan)"),
        ("Since the previous infusion", since),
        ("Infusions in the last 7 days", str(f.infusions_last_7_days)),
        ("Infusions in the last 30 days", str(f.infusions_last_30_days)),
        ("Ketamine given in this course before today", format_quantity(f.cumulative_mg, "mg")),
        ("PHQ-9", phq9),
        ("Course status", _STATUS_WORDS.get(f.status.value, f.status.value)),
    )


def build_infusion_section(course: CourseScreening, *, policy: Policy,
                           dose_outcome: DoseOutcome | None = None,
                           thresholds: CourseThresholds | None = None) -> InfusionSection:
    """What the checklist of infusion ``course.infusion`` adds: infusion N of M, the changes since
    the last signed checklist, the dose change, the day-of re-check, the monitoring grid's times,
    the patient's own blood-pressure band and the clinic's notify values, and the course panel.

    Args:
        course: the course screening (:class:`~ketascreen.course.outcome.CourseScreening`).
        policy: the clinic policy the infusion was screened with (its thresholds are the
            notify values printed beside the grid).
        dose_outcome: the infusion's dose outcome; its duration times the grid (else the
            protocol's duration).
        thresholds: the course status thresholds the chart draws (default: the policy's,
            :func:`ketascreen.course.context.course_thresholds`).
    """
    thresholds = thresholds or course_thresholds(policy)
    infusion = course.course.infusion(course.infusion)
    planned = course.figures.planned
    if course.last_signed == 0:
        record = course.course.screening_record
        reference = "the signed first screening" + (f" ({record})" if record else "")
    else:
        reference = f"the signed checklist of infusion {course.last_signed}"
    choice = course.protocol
    source = (f"infusion {choice.from_infusion}'s protocol fields" if choice.source == "previous"
              else _SOURCE_WORDS[choice.source])
    dose_change = None if course.dose_change is None else course.dose_change.text
    return InfusionSection(
        number=course.infusion,
        planned=planned,
        heading=f"Infusion {course.infusion}" + (f" of {planned}" if planned else ""),
        start=_clock(infusion.start),
        reference=reference,
        changes=tuple(ChangeRow(c.item, c.state, c.detail or _today(c.item, infusion.pre))
                      for c in course.changes),
        dose_change=dose_change,
        protocol_source=source,
        day_of=_day_of(course),
        monitoring_times=monitoring_times(infusion.start, _duration_of(course, dose_outcome)),
        monitoring_cadence=(
            f"Every {DURING_EVERY_MIN} min during the infusion (C7, C8), every "
            f"{AFTER_EVERY_MIN} min after it (C7) for {AFTER_FOR_MIN} min of recovery "
            f"(30 to 60 min: C36); blood pressure peaks at about {BP_PEAK_MIN} min (C8)."),
        bp_band=_band_text(infusion.pre.blood_pressure),
        notify=notify_values(policy).rows(),
        notify_note=("Notify the physician beyond these values: the clinic's policy thresholds. "
                     "Local policy: no published stop or notify value exists for ketamine "
                     "infusions for depression. A value outside the band is marked on its own."),
        rescue_note=("Record every rescue drug with its time, dose and running total (C101). "
                     "Available: an antiemetic (e.g. ondansetron) and a benzodiazepine for a "
                     "severe emergence reaction (R113, R25); a benzodiazepine may blunt the "
                     "antidepressant effect (R64, R65)."),
        discharge_note=("Modified Aldrete score: 9 or more of 10 to leave (R116, R117). "
                        "Ready to leave at ____ min from the start (C2)."),
        course_rows=_course_rows(course),
        phq9=Phq9Trend(series=course.phq9_series, planned=planned,
                       remission_below=thresholds.remission_below,
                       response_percent=thresholds.response_percent,
                       improvement_percent=thresholds.improvement_percent),
        since_last=infusion.pre.since_last,
    )
