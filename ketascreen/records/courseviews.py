"""What the records store returns about courses of infusions (plain frozen dataclasses), and
the typed errors of the course actions.

:class:`CourseView` is what ``ketascreen course show`` prints and the app's course view lists:
the course, each infusion with its state, and the course figures of the latest screened
infusion (the result's ``course`` key as stored with that screening).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ketascreen.errors import RecordError, RecordNotFoundError, SameDaySigningError


@dataclass
class CourseNotFoundError(RecordNotFoundError):
    """No stored course has this course id (``record_id`` holds the course id)."""


@dataclass
class CourseStartError(RecordError):
    """A course may start only from a signed screening that no amendment replaces.

    Attributes:
        status: the screening's status (``draft``, ``signed`` or ``amended``).
        superseded_by: the amendment that replaces it, if any (start from that one).
    """

    status: str = "draft"
    superseded_by: str | None = None


@dataclass
class InfusionOrderError(RecordError):
    """An infusion was given out of turn: stored already, or an earlier one is missing.

    Attributes:
        number: the infusion's number as given.
        expected: the number of the next infusion of the course.
    """

    number: int = 0
    expected: int = 0


@dataclass
class InfusionNotSignedError(RecordError):
    """Monitoring was to be recorded for an infusion whose checklist is not signed (or not
    stored): nothing may be infused without a signed checklist.

    Attributes:
        number: the infusion's number.
    """

    number: int = 0


@dataclass
class InfusionSignedError(SameDaySigningError):
    """A checklist was to be signed for an infusion of a course that has a current signed
    checklist already (one signed checklist per infusion: amend it instead). Recorded.

    ``record_id`` is the signed record to amend; the other attributes are those of
    :class:`~ketascreen.errors.SameDaySigningError`.

    Attributes:
        course_id: the course.
        number: the infusion's number.
    """

    course_id: str = ""
    number: int = 0


@dataclass
class InfusionRecordError(RecordError):
    """What was to be recorded after an infusion is refused: a second discharge, or the
    day-of check carrying monitoring, rescue drugs or a discharge (recorded separately).

    Attributes:
        number: the infusion's number.
        field: the field concerned, e.g. ``discharge``.
    """

    number: int = 0
    field: str = ""


class InfusionState(enum.StrEnum):
    """Where an infusion of a course stands.

    - ``planned``: in the plan, not checked yet;
    - ``checked``: its day-of check is stored and screened, its checklist not signed;
    - ``signed``: its checklist is signed (or a signed amendment replaces it);
    - ``infused``: monitoring readings or rescue drugs are recorded after it;
    - ``discharged``: its discharge is recorded.
    """

    PLANNED = "planned"
    CHECKED = "checked"
    SIGNED = "signed"
    INFUSED = "infused"
    DISCHARGED = "discharged"


@dataclass(frozen=True)
class InfusionView:
    """One infusion of a stored course.

    Attributes:
        number: 1, 2, 3 ...
        state: see :class:`InfusionState`.
        start: the local start as typed (``2026-03-02T09:00``); ``None`` while planned.
        record_id: the record of its screening as stored first; ``None`` while planned.
        current_record_id: the record now in force (the latest amendment of that line).
        decision: the current record's decision.
        monitoring: readings recorded.
        rescue: rescue drugs recorded.
        discharged: whether the discharge is recorded.
        findings: the thresholds' findings over what was recorded (``MonitoringFinding``
            JSON), in the order recorded.
    """

    number: int
    state: InfusionState
    start: str | None = None
    record_id: str | None = None
    current_record_id: str | None = None
    decision: str | None = None
    monitoring: int = 0
    rescue: int = 0
    discharged: bool = False
    findings: tuple[dict[str, object], ...] = ()


@dataclass(frozen=True)
class CourseView:
    """A stored course as shown.

    Attributes:
        course_id: ``KC-`` and 12 hex digits.
        patient_id: the clinic's patient id.
        patient_name: the patient's name.
        screening_record: the signed screening the course follows.
        planned: the infusions planned, or ``None`` without a plan.
        plan_weeks: the weeks planned, or ``None``.
        created_at: when the course was started (UTC).
        created_by: who started it (user name).
        infusions: stored infusions, then the planned ones not stored yet.
        figures: the result's ``course`` key of the latest stored infusion's screening, or
            ``None`` before the first infusion.
    """

    course_id: str
    patient_id: str
    patient_name: str
    screening_record: str
    planned: int | None
    plan_weeks: int | None
    created_at: datetime
    created_by: str
    infusions: tuple[InfusionView, ...] = ()
    figures: dict[str, Any] | None = field(default=None)

    @property
    def stored(self) -> int:
        """How many infusions are stored (checked or further)."""
        return sum(1 for i in self.infusions if i.state is not InfusionState.PLANNED)

    def as_json(self) -> dict[str, object]:
        """The view as ``course show --json`` prints it (times in ISO 8601 UTC)."""
        return {
            "course_id": self.course_id, "patient_id": self.patient_id,
            "patient_name": self.patient_name, "screening_record": self.screening_record,
            "plan": (None if self.planned is None
                     else {"infusions": self.planned, "weeks": self.plan_weeks}),
            "created_at": self.created_at.isoformat(), "created_by": self.created_by,
            "infusions": [{
                "number": i.number, "state": i.state.value, "start": i.start,
                "record_id": i.record_id, "current_record_id": i.current_record_id,
                "decision": i.decision, "monitoring": i.monitoring, "rescue": i.rescue,
                "discharged": i.discharged, "findings": list(i.findings)}
                for i in self.infusions],
            "figures": self.figures,
        }
