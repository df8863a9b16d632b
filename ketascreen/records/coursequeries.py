"""Reading stored courses: their state, the view ``course show`` prints, and the
``ketascreen-course/1`` document ``course export`` writes.

A course is read in four queries whatever its length (the course with its patient, screening
and starter; its infusions; the patient's screenings, for the amendment lines; what was
recorded after the infusions), so ``course show`` stays fast with many courses stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketascreen.records.core import StoreCore, normalise_id
from ketascreen.records.courseviews import (
    CourseNotFoundError,
    CourseView,
    InfusionState,
    InfusionView,
)
from ketascreen.records.models import (
    AuditEventRow,
    CourseInfusionRow,
    CourseRow,
    InfusionRecordRow,
    Patient,
    ScreeningRow,
    User,
)
from ketascreen.records.roles import Actor, Permission

if TYPE_CHECKING:
    from ketascreen.models.course import Course
    from ketascreen.records.audit import AuditEvent

COURSE_FORMAT = "ketascreen-course/1"


@dataclass(frozen=True)
class RecordedEntry:
    """One row of ``infusion_records``: its kind, the entry and the findings stored with it."""

    kind: str
    entry: dict[str, Any]
    findings: tuple[dict[str, object], ...]


@dataclass(frozen=True)
class StoredInfusion:
    """One stored infusion with its screening line and what was recorded after it.

    Attributes:
        row_id: the ``course_infusions`` row in force (the latest of this number).
        number: the infusion's number.
        day_of: its day-of content as stored (an infusion object without monitoring, rescue
            and discharge).
        record_id: its screening as first stored.
        current_record_id: the latest amendment of that screening's line (or itself).
        current_status: that record's status (``draft``, ``signed``, ``amended``).
        decision: that record's decision.
        result_json: that record's result JSON.
        entries: what was recorded after the infusion (under any of its rows), in the order
            recorded.
    """

    row_id: int
    number: int
    day_of: dict[str, Any]
    record_id: str
    current_record_id: str
    current_status: str
    decision: str
    result_json: str
    entries: tuple[RecordedEntry, ...]

    @property
    def signed(self) -> bool:
        """Whether the checklist in force for this infusion is signed."""
        return self.current_status != "draft"

    def state(self) -> InfusionState:
        """Where the infusion stands (see :class:`InfusionState`)."""
        kinds = {entry.kind for entry in self.entries}
        if "discharge" in kinds:
            return InfusionState.DISCHARGED
        if kinds:
            return InfusionState.INFUSED
        return InfusionState.SIGNED if self.signed else InfusionState.CHECKED

    def document(self) -> dict[str, Any]:
        """The infusion object of ``ketascreen-course/1``: the day-of content with what was
        recorded after it."""
        data = dict(self.day_of)
        monitoring = [e.entry for e in self.entries if e.kind == "monitoring"]
        rescue = [e.entry for e in self.entries if e.kind == "rescue"]
        discharge = [e.entry for e in self.entries if e.kind == "discharge"]
        if monitoring:
            data["monitoring"] = monitoring
        if rescue:
            data["rescue"] = rescue
        if discharge:
            data["discharge"] = discharge[-1]
        return data


@dataclass(frozen=True)
class CourseState:
    """A stored course as read from the database (no role check: the callers check).

    Attributes:
        row_id: the ``courses`` row.
        course_id: ``KC-`` and 12 hex digits.
        patient_id: the clinic's patient id.
        patient_name: the patient's name.
        screening_record: the signed screening the course follows.
        case_json: that screening's case JSON.
        planned: the plan's infusions, or ``None``.
        plan_weeks: the plan's weeks, or ``None``.
        created_at: when the course was started.
        created_by: who started it.
        infusions: the stored infusions in order.
    """

    row_id: int
    course_id: str
    patient_id: str
    patient_name: str
    screening_record: str
    case_json: str
    planned: int | None
    plan_weeks: int | None
    created_at: datetime
    created_by: str
    infusions: tuple[StoredInfusion, ...]

    def infusion(self, number: int) -> StoredInfusion | None:
        """Stored infusion ``number``, or ``None``."""
        return self.infusions[number - 1] if 1 <= number <= len(self.infusions) else None

    def last_signed(self, before: int) -> int:
        """The number of the last infusion before ``before`` whose checklist is signed; 0 (the
        screening) when there is none."""
        return max((i.number for i in self.infusions if i.number < before and i.signed),
                   default=0)

    def document(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The course as a ``ketascreen-course/1`` JSON value; ``extra`` (an infusion object)
        replaces the stored infusion of its number (keeping what was recorded after it), or
        is appended after the stored infusions."""
        infusions = [i.document() for i in self.infusions]
        if extra is not None:
            number = extra.get("number")
            stored = self.infusion(number) if isinstance(number, int) else None
            if stored is None:
                infusions.append(extra)
            else:
                recorded = {k: v for k, v in stored.document().items() if k not in stored.day_of}
                infusions[stored.number - 1] = {**extra, **recorded}
        data: dict[str, Any] = {
            "format": COURSE_FORMAT, "screening": json.loads(self.case_json),
            "screening_record": self.screening_record, "infusions": infusions,
        }
        if self.planned is not None and self.plan_weeks is not None:
            data["plan"] = {"infusions": self.planned, "weeks": self.plan_weeks}
        return data

    def course(self, extra: dict[str, Any] | None = None) -> Course:
        """:meth:`document` validated by the course model.

        Raises:
            CourseValidationError: naming each offending field by its full path.
            RecordError: the course has no infusion yet (a course file holds at least one).
        """
        from ketascreen.models.parsing import parse_course  # noqa: PLC0415

        data = self.document(extra)
        if not data["infusions"]:
            raise CourseNotFoundError(self.course_id, "the course has no infusion stored yet: "
                                      "a ketascreen-course/1 file holds at least one")
        return parse_course(data, source=self.course_id)

    def view(self) -> CourseView:
        """The view ``course show`` prints."""
        shown = [InfusionView(
            number=i.number, state=i.state(), start=str(i.day_of.get("start")),
            record_id=i.record_id, current_record_id=i.current_record_id,
            decision=i.decision,
            monitoring=sum(1 for e in i.entries if e.kind == "monitoring"),
            rescue=sum(1 for e in i.entries if e.kind == "rescue"),
            discharged=any(e.kind == "discharge" for e in i.entries),
            findings=tuple(f for e in i.entries for f in e.findings)) for i in self.infusions]
        shown += [InfusionView(number=n, state=InfusionState.PLANNED)
                  for n in range(len(self.infusions) + 1, (self.planned or 0) + 1)]
        figures = None
        if self.infusions:
            course = json.loads(self.infusions[-1].result_json).get("course")
            figures = course if isinstance(course, dict) else None
        return CourseView(
            course_id=self.course_id, patient_id=self.patient_id,
            patient_name=self.patient_name, screening_record=self.screening_record,
            planned=self.planned, plan_weeks=self.plan_weeks, created_at=self.created_at,
            created_by=self.created_by, infusions=tuple(shown), figures=figures)


def load(session: Session, course_id: str) -> CourseState:
    """Read course ``course_id`` in ``session`` (no role check).

    Raises:
        CourseNotFoundError: no such course.
    """
    course_id = normalise_id(course_id)
    found = session.execute(
        select(CourseRow, Patient.external_id, Patient.name, ScreeningRow.record_id,
               ScreeningRow.case_json, User.username)
        .join(Patient, Patient.id == CourseRow.patient_id)
        .join(ScreeningRow, ScreeningRow.id == CourseRow.screening_id)
        .join(User, User.id == CourseRow.created_by)
        .where(CourseRow.course_id == course_id)).one_or_none()
    if found is None:
        raise CourseNotFoundError(course_id, "no such course")
    row, patient_id, patient_name, screening_record, case_json, username = found
    every_row = session.execute(
        select(CourseInfusionRow).where(CourseInfusionRow.course_id == row.id)
        .order_by(CourseInfusionRow.number, CourseInfusionRow.id)).scalars().all()
    in_force = {r.number: r for r in every_row}  # the latest row of each number
    number_of = {r.id: r.number for r in every_row}
    lines = _screening_lines(session, row.patient_id) if every_row else {}
    entries: dict[int, list[RecordedEntry]] = {n: [] for n in in_force}
    if every_row:
        for entry in session.execute(
                select(InfusionRecordRow).where(InfusionRecordRow.infusion_id.in_(
                    list(number_of))).order_by(InfusionRecordRow.id)).scalars():
            entries[number_of[entry.infusion_id]].append(RecordedEntry(
                entry.kind, json.loads(entry.entry_json),
                tuple(json.loads(entry.findings_json))))
    infusions = []
    for number in sorted(in_force):
        infusion = in_force[number]
        first, current = lines[infusion.screening_id]
        infusions.append(StoredInfusion(
            row_id=infusion.id, number=number,
            day_of=json.loads(infusion.infusion_json), record_id=first.record_id,
            current_record_id=current.record_id, current_status=current.status,
            decision=current.decision, result_json=current.result_json,
            entries=tuple(entries[number])))
    return CourseState(
        row_id=row.id, course_id=row.course_id, patient_id=patient_id,
        patient_name=patient_name, screening_record=screening_record, case_json=case_json,
        planned=row.plan_infusions, plan_weeks=row.plan_weeks, created_at=row.created_at,
        created_by=username, infusions=tuple(infusions))


def _screening_lines(session: Session, patient_id: int
                     ) -> dict[int, tuple[ScreeningRow, ScreeningRow]]:
    """By screening row id: the row and the latest amendment of its line."""
    rows = session.execute(select(ScreeningRow).where(ScreeningRow.patient_id == patient_id)
                           ).scalars().all()
    amended_by = {r.amends_id: r for r in rows if r.amends_id is not None}
    lines = {}
    for row in rows:
        current = row
        while current.id in amended_by:
            current = amended_by[current.id]
        lines[row.id] = (row, current)
    return lines


def read(store: StoreCore, course_id: str) -> CourseState:
    """Course ``course_id``, whoever asks (no role check).

    Raises:
        CourseNotFoundError: no such course.
    """
    with store.database.read() as session:
        return load(session, course_id)


def show(store: StoreCore, actor: Actor, course_id: str) -> CourseView:
    """Course ``course_id`` as ``course show`` prints it: each infusion with its state and the
    course figures. Physicians and nurses; not audited (reading).

    Raises:
        PermissionDeniedError: the role may not view courses (recorded).
        CourseNotFoundError: no such course.
    """
    store.authorise(actor, Permission.VIEW_COURSES, normalise_id(course_id))
    return read(store, course_id).view()


def document(store: StoreCore, actor: Actor, course_id: str) -> Course:
    """Course ``course_id`` as a validated ``ketascreen-course/1`` course (what
    ``course export`` writes); not audited here (the export action is).

    Raises:
        PermissionDeniedError: the role may not export.
        CourseNotFoundError: no such course, or it has no infusion yet.
    """
    store.authorise(actor, Permission.EXPORT, normalise_id(course_id))
    return read(store, course_id).course()


def events(store: StoreCore, actor: Actor, course_id: str) -> list[AuditEvent]:
    """The audit events naming course ``course_id``, oldest first (start, each infusion
    checked or amended, each entry recorded, exports, refusals).

    Raises:
        PermissionDeniedError: the role may not view courses.
        CourseNotFoundError: no such course.
    """
    from ketascreen.records.audit import AuditEvent  # noqa: PLC0415

    course_id = normalise_id(course_id)
    store.authorise(actor, Permission.VIEW_COURSES, course_id)
    with store.database.read() as session:
        if session.execute(select(CourseRow.id).where(CourseRow.course_id == course_id)
                           ).first() is None:
            raise CourseNotFoundError(course_id, "no such course")
        return [AuditEvent.from_row(row) for row in session.execute(
            select(AuditEventRow).where(AuditEventRow.record_id == course_id)
            .order_by(AuditEventRow.seq)).scalars()]


def courses_of_patient(store: StoreCore, actor: Actor, patient_id: str) -> list[str]:
    """The course ids of a patient (the clinic's patient id), oldest first.

    Raises:
        PermissionDeniedError: the role may not view courses.
    """
    store.authorise(actor, Permission.VIEW_COURSES)
    with store.database.read() as session:
        return list(session.execute(
            select(CourseRow.course_id).join(Patient, Patient.id == CourseRow.patient_id)
            .where(Patient.external_id == patient_id).order_by(CourseRow.id)).scalars())
