"""Starting a course of infusions and the writes of each infusion's day-of check: storing it
with its screening, signing it, amending it.

- :func:`start_course`: a course follows a signed screening (no amendment replaces it).
- :func:`check_infusion`: the next infusion's day-of content (the infusion object of
  ``ketascreen-course/1``), screened with the store's clinic files
  (:func:`ketascreen.screening.run_course`) and stored like any screening (record id, content
  hash; a draft, or signed with its signed checklist). Its screening is a row of
  ``screenings``: signing (:meth:`RecordStore.sign`) and amending (:meth:`RecordStore.amend`)
  work as for a first screening, with the same immutability and triggers.
- :func:`screen_infusion`: the same screening, nothing stored (to render and sign first).
- :func:`amend_infusion`: a signed infusion corrected by a signed amendment of its screening.

What a nurse records after the infusion (monitoring, rescue, discharge) is in
:mod:`ketascreen.records.aftercare`; the course's exports in
:mod:`ketascreen.records.course_export`.

Every action checks the role and writes its rows with an audit event in one transaction (the
event names the course id; the rows' hashes are in the chain). The three course tables are
append-only in the database as well (triggers, revision 0005).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ketascreen.errors import RecordError, RecordExistsError
from ketascreen.records import writes
from ketascreen.records.core import StoreCore, normalise_id
from ketascreen.records.coursequeries import CourseState, StoredInfusion, read
from ketascreen.records.courseviews import (
    CourseStartError,
    CourseView,
    InfusionOrderError,
    InfusionRecordError,
)
from ketascreen.records.models import CourseInfusionRow, CourseRow, ScreeningRow
from ketascreen.records.queries import get_any
from ketascreen.records.roles import Actor, Permission
from ketascreen.records.settings import rules_in_force

if TYPE_CHECKING:
    from ketascreen.models.course import Infusion
    from ketascreen.records.views import StoredScreening
    from ketascreen.rules.engine import RuleSet
    from ketascreen.screening import Screening

log = logging.getLogger(__name__)
"""Logs name course and record ids, event numbers and actions only, never patient data."""

AFTER_INFUSION = ("monitoring", "rescue", "discharge")
"""The infusion object's keys typed in after the infusion (never with the day-of check)."""


def new_course_id() -> str:
    """A new course id: ``KC-`` and 12 upper-case hex digits (random)."""
    return "KC-" + secrets.token_hex(6).upper()


def _canonical(data: object) -> str:
    from ketascreen.models.checklist import canonical_json  # noqa: PLC0415

    return canonical_json(data).decode("utf-8")


def start_course(store: StoreCore, actor: Actor, record_id: str, *,
                 plan: tuple[int, int] | None = None) -> CourseView:
    """Start a course of infusions after the signed screening ``record_id``.

    Args:
        store: the records store.
        actor: a physician.
        record_id: a signed screening (or signed amendment) that no amendment replaces.
        plan: the infusions and weeks planned, if the clinic gives them.

    Raises:
        PermissionDeniedError: the role may not screen (recorded).
        RecordNotFoundError: no such record.
        CourseStartError: the record is a draft, an amendment replaces it, or it is an
            infusion's screening (recorded).
        RecordError: the plan is not two positive whole numbers.
    """
    record_id = normalise_id(record_id)
    store.authorise(actor, Permission.SCREEN, record_id)
    stored = get_any(store, record_id)
    infusion_of_a_course = _linked(store, record_id)
    if not stored.is_signed or stored.superseded_by is not None or infusion_of_a_course:
        reason = ("the screening is not signed: sign its checklist first"
                  if not stored.is_signed else
                  f"it was amended by {stored.superseded_by}: start from that record"
                  if stored.superseded_by is not None else
                  "it is the screening of an infusion of a course, not a first screening")
        store.record_refusal(actor, "course-start", record_id=record_id, reason=reason)
        raise CourseStartError(record_id, f"a course starts from a signed screening: {reason}",
                               stored.status, stored.superseded_by)
    if plan is not None and (min(plan) < 1 or any(isinstance(n, bool) for n in plan)):
        raise CourseStartError(record_id, "a plan is a number of infusions and of weeks, each "
                               "1 or more", stored.status)
    course_id = new_course_id()
    with store.transaction() as tx:
        screening = tx.session.execute(select(ScreeningRow).where(
            ScreeningRow.record_id == record_id)).scalar_one()
        tx.session.add(CourseRow(
            course_id=course_id, patient_id=screening.patient_id, screening_id=screening.id,
            plan_infusions=plan[0] if plan else None, plan_weeks=plan[1] if plan else None,
            created_at=store.clock(), created_by=actor.user_id))
        tx.session.flush()
        tx.trail.append(username=actor.username, role=actor.role.value, action="course-start",
                        record_id=course_id, detail={"screening": record_id})
    log.info("started course %s after %s", course_id, record_id)
    return read(store, course_id).view()


def check_infusion(store: StoreCore, actor: Actor, course_id: str,
                   infusion: Infusion | dict[str, Any], *, signed_pdf: bytes | None = None,
                   register_certificate: bool = False) -> StoredScreening:
    """Store an infusion's day-of check, screened with the store's clinic files.

    The infusion is the course's next, or a stored one whose checklist is not signed yet
    (checked again: a new row replaces the draft's; checked again unchanged with its signed
    checklist, the draft itself is signed, as :meth:`RecordStore.sign` would; a signed one is
    amended instead with :func:`amend_infusion`).

    The infusion is screened as part of the stored course (its earlier infusions with what was
    recorded after them), with changes shown since the last signed checklist of the course,
    and its screening is stored like any screening: a draft, or signed when ``signed_pdf``
    (its signed checklist) is given. Sign a draft later with :meth:`RecordStore.sign`; correct
    a signed one with :meth:`RecordStore.amend` (the amendment links to it).

    Args:
        store: the records store.
        actor: a physician.
        course_id: the course.
        infusion: the infusion object (``number``, ``start``, ``pre``, ``dose``,
            ``acknowledgements``), without monitoring, rescue or discharge.
        signed_pdf: the signed checklist of exactly this screening.
        register_certificate: see :func:`ketascreen.records.writes.create`.

    Returns:
        The stored screening of the infusion.

    Raises:
        PermissionDeniedError: the role may not screen (or sign).
        CourseNotFoundError: no such course.
        InfusionOrderError: the number is neither the course's next nor a stored one.
        SignedRecordImmutableError: the infusion's checklist is signed (amend it; recorded).
        InfusionRecordError: the day-of check carries monitoring, rescue or discharge.
        CourseValidationError: the infusion (in its course) is invalid, naming the field path,
            e.g. ``infusions[2].pre.weight``.
        InfusionSignedError: the infusion has a current signed checklist (recorded).
        RecordError: as :func:`ketascreen.records.writes.create`; or a draft checked again
            differs from it only in values its screening does not hold (nothing stored).
        CertificateNotRegisteredError: as :func:`ketascreen.records.writes.create`.
    """
    course_id = normalise_id(course_id)
    prepared = _prepare(store, actor, course_id, infusion)
    _refuse_a_change_its_screening_does_not_hold(prepared)
    try:
        stored = writes.create(store, actor, prepared.screening, ruleset=prepared.ruleset,
                               signed_pdf=signed_pdf, register_certificate=register_certificate,
                               infusion=(course_id, prepared.number))
    except RecordExistsError as error:
        # stored by an earlier attempt that stopped before linking it: link it now
        if error.record_id is None or _linked(store, error.record_id):
            raise
        stored = get_any(store, error.record_id)
    if prepared.replaces is not None and prepared.replaces.current_record_id == stored.record_id:
        # the draft checked again unchanged: signed in place (its "sign" event is its trail),
        # already linked to its infusion
        log.info("course %s: infusion %d signed as %s", prepared.state.course_id,
                 prepared.number, stored.record_id)
        return stored
    _link(store, actor, prepared, stored, action="infusion-check")
    return stored


def _refuse_a_change_its_screening_does_not_hold(prepared: _Prepared) -> None:
    """A draft checked again screens to its own record (the same case and result) but with
    another day-of content (e.g. only the free text or GAD-7 changed): its screening cannot be
    linked twice, and signing the draft would keep the stored day-of, not what was checked.

    Raises:
        RecordError: naming the draft and the way (change a value its screening reads, or
            check it again as stored).
    """
    from ketascreen.records.content import content_of  # noqa: PLC0415

    replaces = prepared.replaces
    if (replaces is None or replaces.signed
            or _canonical(replaces.day_of) == prepared.day_of_json
            or content_of(prepared.screening, prepared.ruleset).record_id
            != replaces.current_record_id):
        return
    stored_pre = replaces.day_of.get("pre", {})
    given_pre = json.loads(prepared.day_of_json).get("pre", {})
    changed = sorted(key for key in {*stored_pre, *given_pre}
                     if stored_pre.get(key) != given_pre.get(key))
    raise RecordError(replaces.current_record_id,
                      f"infusion {prepared.number} is stored as this draft, and the day-of "
                      "check given differs from it only in what its screening does not hold"
                      + (f" (pre.{', pre.'.join(changed)})" if changed else "")
                      + ": check it again as stored, or with the change of a value it screens")


def screen_infusion(store: StoreCore, actor: Actor, course_id: str,
                    infusion: Infusion | dict[str, Any]) -> Screening:
    """Screen the next infusion of a stored course as :func:`check_infusion` would store it,
    without storing anything (to render and sign its checklist first).

    Raises:
        the same as :func:`check_infusion` before it stores.
    """
    return _prepare(store, actor, normalise_id(course_id), infusion).screening


def _prepare(store: StoreCore, actor: Actor, course_id: str,
             infusion: Infusion | dict[str, Any], *, amend: bool = False) -> _Prepared:
    """Check the role and the order, validate the infusion in its course, and screen it."""
    from ketascreen.screening import run_course  # noqa: PLC0415

    store.authorise(actor, Permission.AMEND if amend else Permission.SCREEN, course_id)
    data = (infusion.model_dump(mode="json", exclude_none=True) if not isinstance(infusion, dict)
            else dict(infusion))
    number = data.get("number")
    state = read(store, course_id)
    expected = len(state.infusions) + 1
    replaces = state.infusion(number) if isinstance(number, int) else None
    if replaces is None and (amend or number != expected):
        raise InfusionOrderError(course_id, f"infusion {number!r} given: the next infusion of "
                                 f"the course is {expected}"
                                 + (" (only a stored infusion is amended)" if amend else ""),
                                 number if isinstance(number, int) else 0, expected)
    if replaces is not None and replaces.signed and not amend:
        store.refuse_immutable(actor, "infusion-check", replaces.current_record_id)
    if replaces is not None and amend and not replaces.signed:
        raise InfusionOrderError(course_id, f"infusion {number} is a draft: check it again "
                                 "instead of amending it", replaces.number, expected)
    for key in AFTER_INFUSION:
        if data.get(key):
            raise InfusionRecordError(course_id, f"infusions[{len(state.infusions)}].{key}: "
                                      "recorded after the infusion (ketascreen infusion "
                                      "record), not with the day-of check",
                                      number if isinstance(number, int) else 0, key)
    course = state.course(data)
    at = replaces.number if replaces is not None else expected
    day_of = {k: v for k, v in course.infusion(at).model_dump(
        mode="json", exclude_none=True).items() if k not in AFTER_INFUSION}
    ruleset = rules_in_force(store)
    screening = run_course(course, infusion=at, rules=ruleset,
                           last_signed=state.last_signed(at))
    return _Prepared(state, at, _canonical(day_of), ruleset, screening, replaces)


@dataclass(frozen=True)
class _Prepared:
    state: CourseState
    number: int
    day_of_json: str
    ruleset: RuleSet
    screening: Screening
    replaces: StoredInfusion | None


def _link(store: StoreCore, actor: Actor, prepared: _Prepared, stored: StoredScreening, *,
          action: str) -> None:
    """Append the ``course_infusions`` row of a stored screening, with its audit event."""
    with store.transaction() as tx:
        screening_row = tx.session.execute(select(ScreeningRow.id).where(
            ScreeningRow.record_id == stored.record_id)).scalar_one()
        sha = hashlib.sha256(prepared.day_of_json.encode("utf-8")).hexdigest()
        replaces = prepared.replaces
        tx.session.add(CourseInfusionRow(
            course_id=prepared.state.row_id, number=prepared.number,
            infusion_json=prepared.day_of_json, content_sha256=sha, screening_id=screening_row,
            replaces_id=replaces.row_id if replaces else None, created_at=store.clock(),
            created_by=actor.user_id))
        tx.session.flush()
        tx.trail.append(username=actor.username, role=actor.role.value, action=action,
                        record_id=prepared.state.course_id,
                        detail={"infusion": prepared.number, "record": stored.record_id,
                                "replaces": replaces.current_record_id if replaces else None,
                                "content_sha256": sha})
    log.info("course %s: infusion %d stored as %s", prepared.state.course_id, prepared.number,
             stored.record_id)


def amend_infusion(store: StoreCore, actor: Actor, course_id: str,
                   infusion: Infusion | dict[str, Any], *, signed_pdf: bytes, reason: str,
                   register_certificate: bool = False) -> StoredScreening:
    """Correct a signed infusion: its corrected day-of check, screened, stored as a signed
    amendment of its screening (:func:`ketascreen.records.writes.amend`: the original is left
    as it is and the amendment links to it), and a new ``course_infusions`` row naming the one
    it replaces. What was recorded after the infusion stays with it.

    Raises:
        PermissionDeniedError: the role may not amend.
        InfusionOrderError: the infusion is not stored, or is a draft (check it again).
        AmendmentReasonMissingError, CertificateNotRegisteredError, RecordError: as
            :func:`ketascreen.records.writes.amend`.
        CourseValidationError: the corrected infusion is invalid, naming the field path.
    """
    course_id = normalise_id(course_id)
    prepared = _prepare(store, actor, course_id, infusion, amend=True)
    assert prepared.replaces is not None
    stored = writes.amend(store, actor, prepared.replaces.current_record_id,
                          prepared.screening, signed_pdf=signed_pdf, reason=reason,
                          ruleset=prepared.ruleset, register_certificate=register_certificate,
                          of_infusion=True)
    _link(store, actor, prepared, stored, action="infusion-amend")
    return stored


def _linked(store: StoreCore, record_id: str) -> bool:
    with store.database.read() as session:
        return session.execute(
            select(CourseInfusionRow.id).join(ScreeningRow,
                                              ScreeningRow.id == CourseInfusionRow.screening_id)
            .where(ScreeningRow.record_id == record_id)).first() is not None
