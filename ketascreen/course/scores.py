"""An imported record's PHQ-9 and GAD-7 as an infusion's ``pre.phq9`` / ``pre.gad7``.

:func:`scores_for_infusion` takes the scores :func:`ketascreen.fhir.import_fhir` found
(:attr:`~ketascreen.fhir.FhirImport.scores`) and fills the infusion's day-of scores with the
latest of each scale taken in the window, with a provenance line for each.

The window (local policy, no C# key gives it): the infusion's start date or the
:data:`SCORE_WINDOW_DAYS` days before it, by the date as recorded (the clock time of the record,
without zone). The PHQ-9 asks about the last two weeks (the questionnaire's own wording; no C#
key): a score a week old still covers most of that period, an older one is asked again. A
score dated after the start date is never used.

A score already typed in the infusion is never replaced silently: an imported score of a
different total (or, both with items, different items) is a :class:`ScoreConflictError` naming
both; an equal one is kept, its provenance printed, and the imported item scores fill a typed
total (they add up to it, and item 9 is read by the rules, C51).

Scores are only taken from the course's own patient: :func:`check_same_patient` refuses a record
whose patient id or birth date differs from the course's screening (:class:`ScorePatientError`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from ketascreen.errors import CaseValidationError, FieldProblem
from ketascreen.fhir.result import ImportedScore
from ketascreen.models.course import DayOfCheck, Infusion
from ketascreen.models.scales import gad7_total, phq9_total

SCORE_WINDOW_DAYS = 7
"""Days before the infusion's start date an imported score may be taken (local policy)."""

ScaleName = Literal["phq9", "gad7"]
NAMES: dict[ScaleName, str] = {"phq9": "PHQ-9", "gad7": "GAD-7"}
_TOTALS = {"phq9": phq9_total, "gad7": gad7_total}


class ScoreConflictError(CaseValidationError):
    """An imported score differs from the one typed in the infusion (or two imported scores
    taken at the same moment differ): nothing is chosen silently.

    Attributes:
        problems: one per conflicting scale, naming the field (``pre.phq9``), the typed value
            and the imported one with its source.
        source: ``None``.
    """

    def __str__(self) -> str:
        lines = [p.describe() for p in self.problems]
        return "imported scores conflict: " + "; ".join(lines)


class ScorePatientError(CaseValidationError):
    """The imported record is not about the course's patient (patient id or birth date differ).

    Attributes:
        problems: one per differing field (``patient.id``, ``patient.birth_date``), the value
            being the imported record's.
        source: the imported file.
    """

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return (where + "not the course's patient, no score imported: "
                + "; ".join(p.describe() for p in self.problems))


def check_same_patient(course_patient: Mapping[str, Any], imported_patient: Mapping[str, Any],
                       *, source: str) -> None:
    """Refuse scores of another patient: the ``patient`` objects (``ketascreen-case/1``) of the
    course's screening and of the imported record must have the same ``id`` and
    ``birth_date``.

    Raises:
        ScorePatientError: either differs, naming both values.
    """
    problems = [FieldProblem(f"patient.{key}", "of the imported record differs from the "
                             f"course's patient's {course_patient.get(key)!r}",
                             imported_patient.get(key))
                for key in ("id", "birth_date")
                if course_patient.get(key) != imported_patient.get(key)]
    if problems:
        raise ScorePatientError(problems, source)


@dataclass(frozen=True)
class ScoreProvenance:
    """Where an infusion's score came from.

    Attributes:
        field: ``"pre.phq9"`` or ``"pre.gad7"``.
        score: the imported score used.
        typed: whether the infusion already had this score typed (equal to the imported one).
    """

    field: str
    score: ImportedScore
    typed: bool = False

    def describe(self) -> str:
        """E.g. ``PHQ-9 14 from Observation/abc (2026-12-01 08:30, file bundle.json)``."""
        score = self.score
        items = f", items from {score.response}" if score.response else ""
        typed = ", as typed" if self.typed else ""
        return (f"{NAMES[score.scale]} {score.total} from {score.resource} "
                f"({score.taken:%Y-%m-%d %H:%M}, file {score.file}{items}{typed})")

    def audit_detail(self) -> dict[str, str | int | bool | None]:
        """The provenance as flat audit-event detail, each key prefixed with the scale
        (``phq9``: total, ``phq9_items``: ``"2,2,1,..."`` or ``None``, ``phq9_taken``: as
        recorded, ``phq9_resource``, ``phq9_response``, ``phq9_file``, ``phq9_typed``)."""
        score = self.score
        name = score.scale
        items = None if score.items is None else ",".join(map(str, score.items))
        return {name: score.total, f"{name}_items": items, f"{name}_taken": score.taken_text,
                f"{name}_resource": score.resource, f"{name}_response": score.response,
                f"{name}_file": score.file, f"{name}_typed": self.typed}


def window_of(start: date, days: int = SCORE_WINDOW_DAYS) -> tuple[date, date]:
    """The first and last dates a score may be taken for an infusion starting on ``start``."""
    return start - timedelta(days=days), start


def latest_in_window(scores: Sequence[ImportedScore], scale: ScaleName, start: date, *,
                     window: int = SCORE_WINDOW_DAYS) -> ImportedScore | None:
    """The latest ``scale`` score taken in the window of ``start``, or ``None``.

    Raises:
        ScoreConflictError: two scores of the scale taken at that latest moment differ.
    """
    first, last = window_of(start, window)
    usable = [s for s in scores if s.scale == scale and first <= s.taken.date() <= last]
    if not usable:
        return None
    latest = max(s.taken for s in usable)
    at_latest = [s for s in usable if s.taken == latest]
    if len({(s.total, s.items) for s in at_latest}) > 1:
        raise ScoreConflictError([FieldProblem(
            f"pre.{scale}", "two imported scores taken at the same time differ: "
            + " and ".join(f"{s.total} ({s.resource})" for s in at_latest)
            + "; type the right one in the infusion")])
    best = at_latest[0]
    return next((s for s in at_latest if s.items is not None), best)


def scores_for_infusion(infusion: Infusion, scores: Sequence[ImportedScore], *,
                        window: int = SCORE_WINDOW_DAYS
                        ) -> tuple[DayOfCheck, list[ScoreProvenance]]:
    """The infusion's day-of check with ``phq9`` / ``gad7`` filled from imported scores.

    Args:
        infusion: the infusion (its ``start`` and any typed ``pre.phq9`` / ``pre.gad7``).
        scores: the scores of an import (:attr:`ketascreen.fhir.FhirImport.scores`).
        window: days before the start date a score may be taken (local policy, default
            :data:`SCORE_WINDOW_DAYS`); 0 = the start date only.

    Returns:
        The new ``pre`` (other fields unchanged) and the provenance of each score used, PHQ-9
        first. A scale with no score in the window is left as typed (or absent).

    Raises:
        ValueError: ``window`` is negative.
        ScoreConflictError: a typed score differs from the imported one (every such scale is
            named, with both values and the imported score's source).
    """
    if window < 0:
        raise ValueError(f"the window is a number of days, 0 or more, not {window}")
    pre = infusion.pre
    update: dict[str, object] = {}
    used: list[ScoreProvenance] = []
    problems: list[FieldProblem] = []
    for scale in ("phq9", "gad7"):
        imported = latest_in_window(scores, scale, infusion.start.date(), window=window)
        if imported is None:
            continue
        typed = getattr(pre, scale)
        field = f"pre.{scale}"
        if typed is None:
            update[scale] = imported.value
            used.append(ScoreProvenance(field, imported))
            continue
        typed_items = tuple(typed) if isinstance(typed, list) else None
        differs = _TOTALS[scale](typed) != imported.total or (
            typed_items is not None and imported.items is not None
            and typed_items != imported.items)
        if differs:
            problems.append(FieldProblem(
                field, f"typed in the infusion differs from the imported {NAMES[scale]} "
                f"{_shown(imported.value)} from {imported.resource} (taken "
                f"{imported.taken_text}, file {imported.file}): correct one of them", typed))
            continue
        if typed_items is None and imported.items is not None:
            update[scale] = imported.value
        used.append(ScoreProvenance(field, imported, typed=True))
    if problems:
        raise ScoreConflictError(problems)
    return pre.model_copy(update=update), used


def _shown(value: list[int] | int) -> str:
    return str(value) if isinstance(value, int) else "[" + ", ".join(map(str, value)) + "]"
