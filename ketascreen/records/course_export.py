"""Exporting a course of infusions: the stored course written as a file, with the export
recorded in the audit trail.

- :func:`export_course`: the course as a ``ketascreen-course/1`` file (canonical JSON,
  validated by the course model).
- :func:`export_course_fhir`: its PHQ-9, GAD-7 and vital signs as a FHIR R4 Bundle.

Each export checks the role, writes the file atomically, then appends an audit event naming the
course id with the sha256 of what was written.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

from ketascreen.records.core import StoreCore, normalise_id
from ketascreen.records.coursequeries import read
from ketascreen.records.roles import Actor, Permission

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)
"""Logs name course ids and actions only, never patient data."""


def export_course(store: StoreCore, actor: Actor, course_id: str, path: Path, *,
                  force: bool = False) -> bool:
    """Write course ``course_id`` as a ``ketascreen-course/1`` file (canonical JSON, validated
    by the course model before it is written; atomically) and record the export.

    Returns:
        Whether an existing file was replaced.

    Raises:
        PermissionDeniedError: the role may not export (recorded).
        CourseNotFoundError: no such course, or no infusion stored yet.
        OutputExistsError: ``path`` exists and ``force`` is not given.
        OSError: the file cannot be written.
    """
    course_id = normalise_id(course_id)
    store.authorise(actor, Permission.EXPORT, course_id)
    course = read(store, course_id).course()
    text = json.dumps(course.model_dump(mode="json", exclude_none=True), indent=2,
                      ensure_ascii=False, sort_keys=False) + "\n"
    return _write_export(store, actor, course_id, path, text, force=force,
                         action="course-export", detail={"infusions": len(course.infusions)})


def export_course_fhir(store: StoreCore, actor: Actor, course_id: str, path: Path, *,
                       force: bool = False) -> bool:
    """Write course ``course_id``'s PHQ-9, GAD-7 and vital signs as a FHIR R4 Bundle
    (:func:`ketascreen.fhir.course_bundle_json`, the course's local times written in the
    store's clinic time zone; atomically) and record the export.

    Returns:
        Whether an existing file was replaced.

    Raises:
        the same as :func:`export_course`.
    """
    from ketascreen.fhir import course_bundle_json  # noqa: PLC0415

    course_id = normalise_id(course_id)
    store.authorise(actor, Permission.EXPORT, course_id)
    course = read(store, course_id).course()
    text = course_bundle_json(course, zone=store.zone)
    return _write_export(store, actor, course_id, path, text, force=force,
                         action="course-export-fhir",
                         detail={"infusions": len(course.infusions), "format": "fhir-r4"})


def _write_export(store: StoreCore, actor: Actor, course_id: str, path: Path, text: str, *,
                  force: bool, action: str, detail: dict[str, Any]) -> bool:
    """Write ``text`` to ``path`` atomically (a temporary file and a rename), then append the
    export's audit event with the sha256 of what was written."""
    from ketascreen.reports.output import write_atomically  # noqa: PLC0415

    data = text.encode("utf-8")
    replaced = path.exists()
    write_atomically(path, data, force=force)
    with store.transaction() as tx:
        tx.trail.append(username=actor.username, role=actor.role.value, action=action,
                        record_id=course_id,
                        detail={**detail, "sha256": hashlib.sha256(data).hexdigest()})
    log.info("course %s: %s", course_id, action)
    return replaced
