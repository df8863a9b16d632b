"""Recording after an infusion of a course: what a nurse records once the infusion's
checklist is signed.

- :func:`record_after_infusion`: monitoring readings, rescue drugs and the discharge, each value
  validated with its unit by the course model, the thresholds applied
  (:mod:`~ketascreen.records.monitoring`) and the findings stored with the reading.

Each call checks the role and writes its ``infusion_records`` rows with an audit event per
entry in one transaction (the event names the course id; the rows' hashes are in the chain).
The table is append-only in the database as well (triggers, revision 0005). Starting a course
and the day-of check are in :mod:`ketascreen.records.courses`; the course's exports in
:mod:`ketascreen.records.course_export`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ketascreen.records.core import StoreCore, normalise_id
from ketascreen.records.coursequeries import CourseState, read
from ketascreen.records.courseviews import InfusionNotSignedError, InfusionRecordError
from ketascreen.records.models import InfusionRecordRow
from ketascreen.records.monitoring import (
    MonitoringFinding,
    NotifyValues,
    discharge_findings,
    reading_findings,
)
from ketascreen.records.roles import Actor, Permission
from ketascreen.records.settings import rules_in_force

if TYPE_CHECKING:
    from ketascreen.models.course import Course

log = logging.getLogger(__name__)
"""Logs name course ids, infusion numbers and counts only, never patient data."""


def record_after_infusion(store: StoreCore, actor: Actor, course_id: str, number: int, *,
                          monitoring: list[dict[str, Any]] | None = None,
                          rescue: list[dict[str, Any]] | None = None,
                          discharge: dict[str, Any] | None = None) -> list[MonitoringFinding]:
    """Record monitoring readings, rescue drugs and the discharge of infusion ``number``.

    Each entry is appended to what is recorded already and validated by the course model with
    its units (an error names the field path, e.g. ``infusions[1].monitoring[3].spo2``); the
    thresholds are applied to each new reading and to the discharge
    (:mod:`~ketascreen.records.monitoring`), and the findings are stored with the entry.

    Args:
        store: the records store.
        actor: a nurse.
        course_id: the course.
        number: the infusion (its checklist signed).
        monitoring: readings (``minute``, ``blood_pressure``, ``heart_rate``, ``spo2``,
            ``moaas``, ``cadss6``), after those recorded already in minute order.
        rescue: rescue drugs (``drug``, ``dose``, ``minute``).
        discharge: the discharge (``minute``, ``aldrete``, ``escort``), once.

    Returns:
        The findings of the new entries (empty when every value is within the thresholds).

    Raises:
        PermissionDeniedError: the role may not record monitoring (recorded).
        CourseNotFoundError: no such course.
        InfusionNotSignedError: the infusion is not stored, or its checklist is not signed.
        InfusionRecordError: nothing to record, or a second discharge.
        CourseValidationError: an entry is invalid, naming its field path.
    """
    from ketascreen.models.checklist import canonical_json  # noqa: PLC0415

    course_id = normalise_id(course_id)
    store.authorise(actor, Permission.RECORD_MONITORING, course_id)
    state = read(store, course_id)
    stored = state.infusion(number)
    if stored is None or not stored.signed:
        raise InfusionNotSignedError(course_id, f"infusion {number} has no signed checklist: "
                                     "nothing is recorded before its checklist is signed",
                                     number)
    monitoring, rescue = list(monitoring or []), list(rescue or [])
    if not monitoring and not rescue and discharge is None:
        raise InfusionRecordError(course_id, "nothing to record", number, "")
    if discharge is not None and any(e.kind == "discharge" for e in stored.entries):
        raise InfusionRecordError(course_id, f"infusions[{number - 1}].discharge: the "
                                  "discharge is recorded already", number, "discharge")
    course = _with_entries(state, number, monitoring, rescue, discharge)
    infusion = course.infusion(number)
    notify = NotifyValues.from_policy(rules_in_force(store).policy)
    baseline = infusion.pre.blood_pressure_value()  # the band the checklist printed
    first = len(infusion.monitoring) - len(monitoring)
    new: list[tuple[str, dict[str, Any], list[MonitoringFinding]]] = []
    for index in range(first, len(infusion.monitoring)):
        reading = infusion.monitoring[index]
        new.append(("monitoring", reading.model_dump(mode="json", exclude_none=True),
                    reading_findings(reading, index, notify, baseline)))
    for item in infusion.rescue[len(infusion.rescue) - len(rescue):]:
        new.append(("rescue", item.model_dump(mode="json", exclude_none=True), []))
    if discharge is not None and infusion.discharge is not None:
        new.append(("discharge", infusion.discharge.model_dump(mode="json", exclude_none=True),
                    discharge_findings(infusion.discharge)))
    with store.transaction() as tx:
        for kind, entry, findings in new:
            tx.session.add(InfusionRecordRow(
                infusion_id=stored.row_id, kind=kind,
                entry_json=canonical_json(entry).decode("utf-8"),
                findings_json=canonical_json([f.as_json() for f in findings]).decode("utf-8"),
                created_at=store.clock(), created_by=actor.user_id))
            tx.session.flush()
            tx.trail.append(username=actor.username, role=actor.role.value, action=kind,
                            record_id=course_id,
                            detail={"infusion": number, "record": stored.current_record_id,
                                    "findings": len(findings)})
    log.info("course %s: infusion %d: %d entries recorded", course_id, number, len(new))
    return [f for _, _, findings in new for f in findings]


def _with_entries(state: CourseState, number: int, monitoring: list[dict[str, Any]],
                  rescue: list[dict[str, Any]], discharge: dict[str, Any] | None) -> Course:
    """The stored course with the new entries added to infusion ``number``, validated."""
    from ketascreen.models.parsing import parse_course  # noqa: PLC0415

    data = state.document()
    target = data["infusions"][number - 1]
    target["monitoring"] = [*target.get("monitoring", []), *monitoring]
    target["rescue"] = [*target.get("rescue", []), *rescue]
    if discharge is not None:
        target["discharge"] = discharge
    return parse_course(data, source=state.course_id)
