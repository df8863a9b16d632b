"""An infusion's PHQ-9/GAD-7 from imported FHIR records, and their provenance in the audit trail.

``ketascreen infusion check COURSE_ID INFUSION.json --scores-from FHIR_SOURCE`` reads the
sources with :func:`ketascreen.fhir.import_fhir`, fills the infusion's ``pre.phq9`` /
``pre.gad7`` with :func:`ketascreen.course.scores.scores_for_infusion` (the window and the
conflict rules are there) before it is screened, and, once the infusion is stored, records the
provenance as the detail of an ``infusion-scores`` audit event of the course (the infusion's
stored content is the ``ketascreen-course/1`` infusion object, which has no place for it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ketascreen.course.scores import (
    SCORE_WINDOW_DAYS,
    ScoreProvenance,
    check_same_patient,
    scores_for_infusion,
)
from ketascreen.errors import ImportWarning
from ketascreen.fhir import ImportedScore, import_fhir
from ketascreen.models.course import Infusion
from ketascreen.records.core import normalise_id
from ketascreen.records.coursequeries import read
from ketascreen.records.roles import Permission

if TYPE_CHECKING:
    from ketascreen.records.core import StoreCore
    from ketascreen.records.roles import Actor

log = logging.getLogger(__name__)

SCORE_WARNINGS = frozenset({"unusable-score", "score-mismatch"})
"""The import warnings about scores (the rest are about the case, which is not used here)."""


def course_patient(store: StoreCore, actor: Actor, course_id: str) -> dict[str, Any]:
    """The ``patient`` object of the screening course ``course_id`` follows, for an actor who
    may screen.

    Raises:
        PermissionDeniedError: the role may not screen (recorded).
        CourseNotFoundError: no such course.
    """
    course_id = normalise_id(course_id)
    store.authorise(actor, Permission.SCREEN, course_id)
    patient: dict[str, Any] = json.loads(read(store, course_id).case_json)["patient"]
    return patient


def fill_infusion_scores(infusion: dict[str, Any], sources: Sequence[Path], *,
                         patient: Mapping[str, Any], window: int = SCORE_WINDOW_DAYS
                         ) -> tuple[dict[str, Any], list[ScoreProvenance],
                                    list[ImportWarning]]:
    """The infusion object with ``pre.phq9`` / ``pre.gad7`` filled from FHIR sources.

    Each source is imported as of the infusion's start date; the latest score of each scale in
    the window is used (:func:`~ketascreen.course.scores.scores_for_infusion`). An infusion
    that is not a valid infusion object is returned unchanged, for the store to report its
    errors with their full field paths.

    Args:
        infusion: the infusion object as read from its file.
        sources: FHIR Bundles, resource files or folders of the patient.
        patient: the course's patient (:func:`course_patient`): each source must be about
            them (same id and birth date).
        window: days before the start date a score may be taken.

    Returns:
        The infusion object (a copy; only ``pre.phq9`` / ``pre.gad7`` changed), the provenance
        of each score used, and the import warnings about scores left out.

    Raises:
        FhirImportError: a source cannot be imported.
        ScorePatientError: a source is about another patient.
        ScoreConflictError: a typed score differs from the imported one.
    """
    try:
        model = Infusion.model_validate(infusion)
    except ValidationError:
        return infusion, [], []
    scores: list[ImportedScore] = []
    warnings: list[ImportWarning] = []
    for source in sources:
        imported = import_fhir(source, as_of=model.start.date())
        check_same_patient(patient, imported.case["patient"], source=str(source))
        scores.extend(imported.scores)
        warnings.extend(w for w in imported.warnings if w.code in SCORE_WARNINGS)
    pre, used = scores_for_infusion(model, scores, window=window)
    filled = dict(infusion)
    filled_pre = dict(infusion.get("pre") or {})
    for provenance in used:
        scale = provenance.score.scale
        filled_pre[scale] = getattr(pre, scale)
    filled["pre"] = filled_pre
    return filled, used, warnings


def record_score_provenance(store: StoreCore, actor: Actor, course_id: str, *, number: int,
                            record_id: str, used: Sequence[ScoreProvenance]) -> None:
    """Append the ``infusion-scores`` audit event of the course: the stored infusion ``number``
    (screening ``record_id``) took its scores from ``used``: per scale its total, items, time
    taken as recorded, resource, response, file and whether it was typed too
    (:meth:`~ketascreen.course.scores.ScoreProvenance.audit_detail`). Nothing is written when
    ``used`` is empty."""
    if not used:
        return
    course_id = normalise_id(course_id)
    detail: dict[str, str | int | bool | None] = {"infusion": number, "record": record_id}
    for provenance in used:
        detail.update(provenance.audit_detail())
    with store.transaction() as tx:
        tx.trail.append(username=actor.username, role=actor.role.value,
                        action="infusion-scores", record_id=course_id, detail=detail)
    log.info("course %s: infusion %d scores imported (%d)", course_id, number, len(used))
