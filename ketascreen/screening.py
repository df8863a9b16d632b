"""Screening a case: the one place where a screening's policy decisions are made.

:func:`run` calculates the dose, runs the rules over facts that carry it, and returns a
:class:`Screening` carrying, as data, what every surface presents and none decides again: which
findings the physician may acknowledge, why the checklist may not be signed
(:class:`SigningRefusal`) and why no dose is shown. :func:`rule_set_in_force` is the rule set a
screening uses (the records database's clinic files, else the environment's, else the shipped
ones); :func:`checklist` is the content of a screening's pre-infusion checklist.

The command line, the app and the records present what these return; :mod:`ketascreen.reports`
renders, signs and writes it.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from ketascreen.checklist import build_checklist, dose_box_from
from ketascreen.dosing import DoseOutcome, calculate_dose
from ketascreen.errors import ClinicFileConflictError, KetascreenError
from ketascreen.models.case import Case
from ketascreen.models.checklist import (
    NO_DOSE_PREFIX,
    SIGNATURE_MEANING,
    Checklist,
    DoseBox,
    Signer,
    canonical_json,
    infusion_signature_meaning,
    record_id_for,
)
from ketascreen.models.result import Decision, Result
from ketascreen.rules.engine import Evaluation, RuleSet
from ketascreen.rules.facts import Facts

if TYPE_CHECKING:
    # A course is screened by run_course only: a plain screening never imports the course
    # modules (their import is paid by the first course screening).
    from ketascreen.course.outcome import CourseScreening
    from ketascreen.models.course import Course

POLICY_ENV = "KETASCREEN_POLICY"
"""A clinic policy file replacing the shipped one (when the records database holds none)."""
FORMULARY_ENV = "KETASCREEN_FORMULARY"
"""A clinic formulary file replacing the shipped one (when the records database holds none)."""
DEFAULT_CLINIC = "ketascreen clinic"
"""The clinic name printed on a checklist when none is configured."""

RefusalCode = Literal["invalid", "insufficient-data", "needs-review", "do-not-infuse"]


# --------------------------------------------------------------------------------------------
# Signing refusal


@dataclass(frozen=True, eq=False, repr=False)
class SigningRefusal:
    """Why a screening's checklist may not be signed (``None`` on a screening that may be).

    Only a CLEAR screening is signed: its one signature means "Screened and approved for first
    infusion" (an infusion's: "Day-of re-check: approved for infusion N of M", see
    :attr:`meaning`). Insufficient data and unacknowledged relative findings are resolved
    first; a DO NOT INFUSE checklist is documented unsigned.

    Attributes:
        decision: the screening's decision; ``None`` when the case was invalid (not screened).
        code: ``invalid``, ``insufficient-data``, ``needs-review`` or ``do-not-infuse``.
        message: the clinician-facing sentence the app shows where signing is refused.
        waiting: rule ids still needing an acknowledgement with a reason (``needs-review``).
        status: the one line the app's decision banner shows (``Not ready to sign: ...``).
        reason: the clause the command line prints after the decision
            (``complete the missing data first``); see :meth:`error`.
        meaning: what the signature would mean: :data:`SIGNATURE_MEANING` for a first
            screening, :func:`~ketascreen.models.checklist.infusion_signature_meaning` for an
            infusion of a course.
    """

    decision: Decision | None
    code: RefusalCode
    message: str
    waiting: tuple[str, ...] = ()
    status: str = ""
    reason: str = ""
    meaning: str = SIGNATURE_MEANING

    def error(self, record_id: str) -> SigningRefusedError:
        """The typed error of this refusal for the checklist of ``record_id``."""
        return SigningRefusedError(self.decision or self.code, record_id, self.reason,
                                   meaning=self.meaning)


class SigningRefusedError(KetascreenError):
    """A signature was asked for a screening that is not CLEAR (see :class:`SigningRefusal`).

    Attributes:
        decision: the screening's decision.
        record_id: the checklist's record id.
        reason: what to do instead.
        meaning: what the signature would have meant.
    """

    def __init__(self, decision: str, record_id: str, reason: str, *,
                 meaning: str = SIGNATURE_MEANING) -> None:
        self.decision = decision
        self.record_id = record_id
        self.reason = reason
        self.meaning = meaning
        super().__init__(f"record {record_id}: not signed: the decision is {decision}; {reason} "
                         f"(a signature means \"{meaning}\")")


INVALID_CASE = SigningRefusal(
    decision=None, code="invalid",
    message="The form is incomplete or has errors: correct the marked fields first.",
    status="Not ready to sign: the form is incomplete or has errors.",
    reason="only a clear screening is signed")
"""The refusal of a document that is not a valid case (it was not screened)."""


def _signing_refusal(decision: Decision, waiting: tuple[str, ...],
                     course: CourseScreening | None = None) -> SigningRefusal | None:
    """Why a screening of ``decision`` may not be signed; the signature's meaning is the
    infusion's (:func:`~ketascreen.models.checklist.infusion_signature_meaning`) for an
    infusion of a ``course``, else the first screening's."""
    meaning, approval = SIGNATURE_MEANING, "infusion"
    if course is not None:
        meaning = infusion_signature_meaning(course.infusion, course.figures.planned)
        approval = f"infusion {course.infusion}"
    if decision == "insufficient-data":
        return SigningRefusal(
            decision, "insufficient-data",
            "Insufficient data: complete the missing items listed under the findings, then "
            "sign.",
            status="Not ready to sign: complete the missing or doubtful data first.",
            reason="complete the missing data first", meaning=meaning)
    if decision == "needs-review":
        return SigningRefusal(
            decision, "needs-review",
            "Each relative finding must be acknowledged with a reason before signing.",
            waiting=waiting,
            status=(f"Not ready to sign: {len(waiting)} finding(s) still need an "
                    "acknowledgement with a reason."),
            reason="acknowledge each relative finding with a reason first", meaning=meaning)
    if decision == "do-not-infuse":
        return SigningRefusal(
            decision, "do-not-infuse",
            "DO NOT INFUSE: an absolute contraindication was found. The signature means "
            f"\"{meaning}\", so this checklist cannot be signed. Print it or export "
            "it unsigned to document the decision.",
            status=f"Cannot be signed (a signature means approval for {approval}): print or "
                   "export the unsigned checklist to document the decision.",
            reason="a DO NOT INFUSE checklist is documented unsigned", meaning=meaning)
    return None


# --------------------------------------------------------------------------------------------
# The screening


DO_NOT_INFUSE_NO_DOSE = "do not infuse."
"""The no-dose reason of a DO NOT INFUSE screening: its dose is never shown or printed."""


@dataclass(frozen=True, eq=False, repr=False)
class Screening:
    """A screened case: the result JSON and everything the surfaces present besides it.

    Attributes:
        case: the case screened.
        result: the ``ketascreen-result/1`` result.
        facts: the facts the rules read.
        dose: the dose outcome (calculation, programme, working, refusal).
        versions: version and sha256 of each data file beside the rules, as printed.
        acknowledgeable: rule ids of the findings the policy lets the physician acknowledge
            (the engine's criterion).
        signing_refusal: why its checklist may not be signed; ``None`` when it may.
        no_dose_reason: why no dose is shown, for a clinician (``do not infuse.``, or the
            calculation's refusal); ``None`` when the dose is shown.
        rules: the rule set that screened it.
        course: for an infusion of a course (:func:`run_course`), what the course adds: the
            figures, PHQ-9 series, changes, protocol and acknowledgements carried over;
            ``None`` for a first screening.
    """

    case: Case
    result: Result
    facts: Facts
    dose: DoseOutcome
    versions: tuple[tuple[str, str], ...]
    acknowledgeable: frozenset[str]
    signing_refusal: SigningRefusal | None
    no_dose_reason: str | None
    rules: RuleSet = field(compare=False, repr=False)
    course: CourseScreening | None = None

    @property
    def signable(self) -> bool:
        """Whether its checklist may be signed (only a CLEAR screening is)."""
        return self.signing_refusal is None

    @property
    def dose_box(self) -> DoseBox | None:
        """The dose box as the checklist prints it, or ``None`` when no dose is shown."""
        if self.no_dose_reason is not None:
            return None
        return dose_box_from(self.dose)[0]

    @property
    def record_id(self) -> str:
        """The record id its checklist prints (the hash of its case and result)."""
        return record_id_for(canonical_json(self.case.model_dump(mode="json", exclude_none=True)),
                             canonical_json(self.result.model_dump(mode="json")))

    def refuse_signing(self) -> None:
        """Raise the signing refusal, if there is one.

        Raises:
            SigningRefusedError: the screening is not CLEAR.
        """
        if self.signing_refusal is not None:
            raise self.signing_refusal.error(self.record_id)


def dose_for(case: Case, rules: RuleSet) -> DoseOutcome:
    """The dose outcome of ``case`` under the formulary and plausibility limits of ``rules``."""
    policy = rules.policy
    return calculate_dose(
        case, rules.formulary,
        plausible_weight=(policy.quantity("plausible_weight_min"),
                          policy.quantity("plausible_weight_max")),
        plausible_bmi=(float(policy.number("plausible_bmi_min_kg_m2")),
                       float(policy.number("plausible_bmi_max_kg_m2"))))


def run(case: Case, *, rules: RuleSet | None = None) -> Screening:
    """Screen ``case``: the dose, every finding, the abuse-risk tier and the decision, with
    what may be acknowledged, why it may not be signed and why no dose is shown.

    Args:
        rules: the rule set (default: :func:`rule_set_in_force` without clinic files).

    Raises:
        KnowledgeBaseError: the rule set in force does not load.
    """
    rules = rules or rule_set_in_force()
    return _screened(rules.facts(case, dose_for(case, rules)), rules)


def _screened(facts: Facts, rules: RuleSet, course: CourseScreening | None = None,
              evaluation: Evaluation | None = None) -> Screening:
    """The screening of ``facts`` (which carry the dose outcome and, for an infusion of a
    course, its day-of facts); ``course`` fills the result's ``course`` key; ``evaluation`` is
    the rules' evaluation of ``facts`` when already made."""
    evaluation = evaluation or rules.evaluate(facts)
    result = evaluation.result
    if course is not None:
        result = result.model_copy(update={"course": course.figures.summary()})
    acknowledgeable = evaluation.acknowledgeable
    waiting = tuple(f.rule_id for f in result.findings
                    if f.rule_id in acknowledgeable and not f.acknowledged)
    dose = facts.dose_outcome
    assert dose is not None  # rules.evaluate refuses facts without one
    if result.decision == "do-not-infuse":
        no_dose: str | None = DO_NOT_INFUSE_NO_DOSE
    else:
        _, missing = dose_box_from(dose)
        no_dose = None if missing is None else missing.removeprefix(NO_DOSE_PREFIX)
    return Screening(case=facts.case, result=result, facts=facts, dose=dose,
                     versions=rules.versions, acknowledgeable=acknowledgeable,
                     signing_refusal=_signing_refusal(result.decision, waiting, course),
                     no_dose_reason=no_dose, rules=rules, course=course)


def run_course(course: Course, *, infusion: int | None = None, rules: RuleSet | None = None,
               last_signed: int | None = None) -> Screening:
    """Screen infusion ``infusion`` of ``course`` in the context of everything before it.

    The rules read the case of :func:`ketascreen.course.context.infusion_case` (the latest
    weight, medications and protocol; today's vital signs) with the day-of facts; the
    acknowledgements are the infusion's own and those carried over from the last signed
    checklist while their finding's basis is unchanged (:mod:`ketascreen.course.carryover`).

    Args:
        infusion: the infusion's number (default: the last of the file).
        rules: the rule set (default: :func:`rule_set_in_force` without clinic files).
        last_signed: the infusion whose checklist was signed last, the reference of the
            changes and of the acknowledgements carried over (0: the first screening's;
            default: the infusion before this one).

    Raises:
        IndexError: there is no infusion ``infusion``, or ``last_signed`` is not before it.
        CourseFigureError: a course figure cannot be computed.
        KnowledgeBaseError: the rule set in force does not load.
    """
    from ketascreen.course.prepare import prepare_infusion  # noqa: PLC0415 - courses only

    rules = rules or rule_set_in_force()
    prepared = prepare_infusion(course, infusion, last_signed=last_signed, rules=rules,
                                dose_for=functools.partial(dose_for, rules=rules))
    return _screened(prepared.facts, rules, prepared.course, prepared.evaluation)


def screen(case: Case, *, rules: RuleSet | None = None) -> Result:
    """The result of screening ``case`` (see :func:`run`)."""
    return run(case, rules=rules).result


# --------------------------------------------------------------------------------------------
# The rule set in force


@dataclass(frozen=True, eq=False, repr=False)
class ClinicFiles:
    """The clinic policy and formulary installed in the records database (TOML bytes), each
    ``None`` when none is installed."""

    policy: bytes | None = None
    formulary: bytes | None = None


_Source = tuple[str, str, bytes | None] | None
"""Where a clinic file comes from, as a cache key: ("database", "", bytes) or
("environment", path, bytes or None when unreadable); ``None`` for the shipped file."""


def _environment_source(variable: str) -> _Source:
    path = os.environ.get(variable)
    if not path:
        return None
    try:
        return ("environment", path, Path(path).read_bytes())
    except OSError:
        return ("environment", path, None)  # the loader names the problem


def _source(kind: str, stored: bytes | None, variable: str) -> _Source:
    environment = _environment_source(variable)
    if stored is not None and environment is not None:
        raise ClinicFileConflictError(
            file=environment[1], entry=f"${variable}",
            problem=(f"the records database also holds a clinic {kind} (sha256 "
                     f"{hashlib.sha256(stored).hexdigest()[:12]}...); one of them must go: "
                     f"unset ${variable} to screen with the installed one"),
            kind=kind, variable=variable)
    if stored is not None:
        return ("database", "", stored)
    return environment


def rule_set_in_force(clinic_files: ClinicFiles | None = None) -> RuleSet:
    """The rule set screenings use: the shipped rules with the clinic policy and formulary.

    Each clinic file comes from the records database (``clinic_files``, read by the caller with
    :func:`ketascreen.records.settings.clinic_files`), else from the file named by
    ``$KETASCREEN_POLICY`` / ``$KETASCREEN_FORMULARY``, else the shipped default. Rule sets are
    loaded once per content and reused.

    Raises:
        ClinicFileConflictError: the database and the environment both give the same kind of
            file (no silent choice between them).
        KnowledgeBaseError: a data file is invalid (the program must not start on it).
    """
    files = clinic_files or ClinicFiles()
    return _rule_set(_source("policy", files.policy, POLICY_ENV),
                     _source("formulary", files.formulary, FORMULARY_ENV))


def clinic_rule_set(clinic_files: ClinicFiles) -> RuleSet:
    """The shipped rules with exactly these clinic files (the shipped ones where ``None``),
    whatever the environment says: to validate a file before the records database stores it.

    Raises:
        KnowledgeBaseError: a file is not a valid policy or formulary for the rule set.
    """
    return _rule_set(
        None if clinic_files.policy is None else ("database", "", clinic_files.policy),
        None if clinic_files.formulary is None else ("database", "", clinic_files.formulary))


@functools.lru_cache(maxsize=8)
def _rule_set(policy: _Source, formulary: _Source) -> RuleSet:
    return RuleSet(policy_path=_data(policy), formulary_path=_data(formulary))


def _data(source: _Source) -> bytes | Path | None:
    """A database file by its bytes; an environment file by its path, so errors name it."""
    if source is None:
        return None
    kind, path, content = source
    return Path(path) if kind == "environment" else content


# --------------------------------------------------------------------------------------------
# The checklist


class Named(Protocol):
    """A signer as read from a key store: a printed name and credentials."""

    @property
    def name(self) -> str:
        """The signer's printed name."""

    @property
    def credentials(self) -> str:
        """E.g. ``MD``, printed under the name."""


def checklist(screening: Screening, *, signer: Signer | Named | None = None,
              clinic: str = DEFAULT_CLINIC, now: datetime | None = None,
              import_warnings: Sequence[str] = (),
              audit_head: tuple[int, str] | None = None) -> Checklist:
    """The content of the pre-infusion checklist of ``screening``.

    Args:
        signer: who signs (a :class:`Signer`, or a name and credentials signed at ``now``);
            ``None`` for an unsigned checklist.
        clinic: the clinic name printed on it.
        now: the signing time when ``signer`` is not a :class:`Signer` (default: now).
        import_warnings: the data-quality warnings of its FHIR import, as printed.
        audit_head: the records audit trail's last event (number, sha256) when signed; printed
            only on a signed checklist.

    Raises:
        SigningRefusedError: a signer was given for a screening that is not CLEAR.
    """
    if signer is not None:
        screening.refuse_signing()
        if not isinstance(signer, Signer):
            signer = Signer(signer.name, signer.credentials, now or datetime.now(UTC))
    missing = screening.no_dose_reason
    return build_checklist(
        screening.case, screening.result, dose=screening.dose_box,
        no_dose_reason=None if missing is None else NO_DOSE_PREFIX + missing,
        versions=screening.versions, clinic=clinic, signer=signer,
        import_warnings=tuple(import_warnings), policy=screening.rules.policy,
        audit_head=audit_head if signer is not None else None,
        course=screening.course, dose_outcome=screening.dose)
