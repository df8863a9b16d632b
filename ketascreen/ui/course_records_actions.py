"""The desktop app's door into the records store for a course of infusions: the courses of a
patient, a course's view and document, starting a course, screening and storing an infusion's
day-of check, recording what follows an infusion, and a course refusal's words.

Like :mod:`ketascreen.ui.records_actions` (screenings, the worklist and certificates), each
function is small, keyword-only, imports no Qt and calls one core entry point
(:mod:`ketascreen.records`), handing back plain data or a typed core error. Refusals are
described from the errors' fields, never their messages.
"""

from __future__ import annotations

from ketascreen.display import format_local_time
from ketascreen.errors import (
    CertificateNotRegisteredError,
    PermissionDeniedError,
    SameDaySigningError,
    SignedRecordImmutableError,
)
from ketascreen.models.course import Course
from ketascreen.records.courseviews import (
    CourseNotFoundError,
    CourseStartError,
    CourseView,
    InfusionNotSignedError,
    InfusionOrderError,
    InfusionRecordError,
    InfusionSignedError,
    InfusionView,
)
from ketascreen.records.monitoring import MonitoringFinding
from ketascreen.records.repository import RecordStore, StoredScreening
from ketascreen.records.users import Actor
from ketascreen.screening import Screening
from ketascreen.ui.records_actions import (
    certificate_refusal_text,
    refusal_text,
    same_day_error_text,
)

__all__ = [
    "CourseView",
    "InfusionView",
    "MonitoringFinding",
    "check_infusion",
    "course_document",
    "course_error_text",
    "course_view",
    "courses_of_patient",
    "record_after_infusion",
    "screen_infusion",
    "start_course",
]


def courses_of_patient(*, store: RecordStore, actor: Actor, patient_id: str) -> list[str]:
    """The course ids of patient ``patient_id``, oldest first.

    Raises:
        PermissionDeniedError: the role may not view courses (recorded).
        StorageError: the database cannot be read.
    """
    return store.courses_of_patient(actor, patient_id)


def course_view(*, store: RecordStore, actor: Actor, course_id: str) -> CourseView:
    """Course ``course_id``: each infusion with its state as the records hold it (planned,
    checked, signed, infused, discharged) and the figures of its latest screened infusion.

    Raises:
        PermissionDeniedError: the role may not view courses (recorded).
        CourseNotFoundError: no such course.
    """
    return store.course(actor, course_id)


def course_document(*, store: RecordStore, actor: Actor, course_id: str) -> Course | None:
    """Course ``course_id`` as a validated ``ketascreen-course/1`` course with what was recorded
    after each infusion; ``None`` while no infusion is stored.

    Raises:
        PermissionDeniedError: the role may not read it (recorded).
        CourseNotFoundError: no such course.
    """
    if not store.course(actor, course_id).stored:
        return None
    return store.course_document(actor, course_id)


def start_course(*, store: RecordStore, actor: Actor, record_id: str) -> CourseView:
    """Start a course of infusions after the signed screening ``record_id``.

    Raises:
        PermissionDeniedError: the role may not screen (recorded).
        RecordNotFoundError: no such record.
        CourseStartError: a draft, amended, or an infusion's screening (recorded).
    """
    return store.start_course(actor, record_id)


def screen_infusion(*, store: RecordStore, actor: Actor, course_id: str,
                    infusion: dict[str, object]) -> Screening:
    """Screen the next infusion of course ``course_id`` exactly as :func:`check_infusion` will
    store it (the store's clinic files, the changes since the last signed checklist), without
    storing anything: the screening whose checklist is signed.

    Raises:
        PermissionDeniedError: the role may not screen.
        CourseValidationError: the infusion (in its course) is invalid, naming each field path.
        InfusionOrderError, InfusionRecordError, SignedRecordImmutableError: see
            :meth:`RecordStore.check_infusion`.
    """
    return store.screen_infusion(actor, course_id, dict(infusion))


def check_infusion(*, store: RecordStore, actor: Actor, course_id: str,
                   infusion: dict[str, object], signed_pdf: bytes) -> StoredScreening:
    """Store the day-of check of an infusion, screened by the store, with its signed checklist.

    Raises:
        PermissionDeniedError: the role may not screen or sign (recorded).
        CertificateNotRegisteredError: the PDF's certificate is not ``actor``'s (recorded).
        SameDaySigningError: a checklist of this kind is signed today for the patient.
        CourseValidationError, InfusionOrderError, SignedRecordImmutableError, RecordError:
            see :meth:`RecordStore.check_infusion`.
    """
    return store.check_infusion(actor, course_id, dict(infusion), signed_pdf=signed_pdf)


def record_after_infusion(*, store: RecordStore, actor: Actor, course_id: str, number: int,
                          monitoring: list[dict[str, object]],
                          rescue: list[dict[str, object]] | None = None,
                          discharge: dict[str, object] | None = None
                          ) -> list[MonitoringFinding]:
    """Record new monitoring readings, rescue drugs and the discharge of infusion ``number``
    (each validated with its unit, the thresholds applied and their findings stored); returns
    the findings.

    Raises:
        PermissionDeniedError: the role may not record monitoring (recorded).
        InfusionNotSignedError: the infusion's checklist is not signed.
        InfusionRecordError: nothing to record, or a second discharge.
        CourseValidationError: a value is invalid, naming its field path.
    """
    return store.record_after_infusion(
        actor, course_id, number, monitoring=[dict(m) for m in monitoring],
        rescue=[dict(r) for r in rescue or []],
        discharge=None if discharge is None else dict(discharge))


def course_error_text(*, error: Exception) -> str | None:
    """A course action's refusal for the person at the screen, from the typed error's fields
    (never its message text); ``None`` for an error that is not a course refusal."""
    if isinstance(error, CourseStartError):
        if error.superseded_by is not None:
            return (f"No course is started from {error.record_id}: the amendment "
                    f"{error.superseded_by} replaces it. Open that record and start from it.")
        if error.status == "draft":
            return (f"No course is started from {error.record_id}: it is not signed. Sign "
                    "its checklist first.")
        return (f"No course is started from {error.record_id}: a course starts from a signed "
                f"first screening (this record is {error.status}).")
    if isinstance(error, CourseNotFoundError):
        return f"Course {error.record_id}: not found, or no infusion stored in it yet."
    if isinstance(error, InfusionNotSignedError):
        return (f"Infusion {error.number} of course {error.record_id} has no signed "
                "checklist: nothing is recorded after an infusion before its checklist is "
                "signed.")
    if isinstance(error, InfusionOrderError):
        return (f"Infusion {error.number} cannot be checked in course {error.record_id}: the "
                f"next infusion of the course is {error.expected}.")
    if isinstance(error, InfusionRecordError):
        where = f" ({error.field})" if error.field else ""
        return (f"Not recorded for infusion {error.number} of course {error.record_id}"
                f"{where}: " + ("the discharge is recorded already." if error.field ==
                                "discharge" else "no reading typed to record."))
    if isinstance(error, InfusionSignedError):
        when = "" if error.signed_at is None else " at " + format_local_time(error.signed_at)
        return (f"Infusion {error.number} of course {error.course_id} has a signed checklist "
                f"already: {error.record_id}, signed by {error.signer_name}{when}. Not stored: "
                f"a signed infusion checklist is never changed; amend {error.record_id} "
                "instead.")
    if isinstance(error, SameDaySigningError):
        return same_day_error_text(error=error)
    if isinstance(error, SignedRecordImmutableError):
        return (f"{error.record_id} is signed: a signed infusion checklist is never changed "
                "(amend it instead).")
    if isinstance(error, CertificateNotRegisteredError):
        return certificate_refusal_text(error=error)
    if isinstance(error, PermissionDeniedError):
        return refusal_text(error=error)
    return None
