"""The desktop app's door into the records store: signing in, the nurse worklist and its
bedside double check and countersignature, storing and amending signed checklists, and the
signing certificates bound to accounts.

Like :mod:`ketascreen.ui.actions`, each function is small, keyword-only, imports no Qt and calls
one core entry point (:mod:`ketascreen.records`), handing back plain data or a typed core error
(``PermissionDeniedError``, ``RecordError``, ``StorageError``, ``AuthenticationFailedError``,
``UserAccountError``). Refusals are described from the errors' fields, never their messages.
A course of infusions has its own door, :mod:`ketascreen.ui.course_records_actions`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ketascreen.display import format_local_time
from ketascreen.doublecheck import parse_entries
from ketascreen.errors import (
    CertificateNameMismatchError,
    CertificateNotRegisteredError,
    PermissionDeniedError,
    SameDaySigningError,
)
from ketascreen.models.checklist import DECISION_LABELS
from ketascreen.records.bedside import (
    DoubleCheckRecord,
    Override,
    countersign,
    perform_double_check,
)
from ketascreen.records.bedside import countersign_stamp as bedside_stamp
from ketascreen.records.certificates import (
    CertificateStatus,
    certificate_names_holder,
    check_signer,
)
from ketascreen.records.location import default_database
from ketascreen.records.repository import RecordStore, StoredScreening
from ketascreen.records.users import Actor, Permission
from ketascreen.records.worklist import (
    OpenedChecklist,
    WorklistItem,
    open_checklist,
    record_print,
    todays_checklists,
)
from ketascreen.reports.keys import SignerIdentity
from ketascreen.reports.signing import CountersignStamp, countersign_pdf
from ketascreen.rules import RuleSet
from ketascreen.screening import Screening

__all__ = [
    "Actor",
    "BedsideRow",
    "OpenedChecklist",
    "Permission",
    "RecordStore",
    "StoredScreening",
    "WorklistItem",
    "bedside_row",
    "certificate_refusal_text",
    "certificate_status",
    "countersign_record",
    "countersign_stamp",
    "default_database",
    "describe_item",
    "fingerprint_text",
    "last_certificate_path",
    "may",
    "open_record",
    "open_store",
    "perform_bedside_check",
    "record_printed",
    "refusal_text",
    "refuse_certificate",
    "register_certificate",
    "remember_certificate_path",
    "require",
    "rule_set_in_force",
    "same_day_error_text",
    "same_day_text",
    "sign_in",
    "signed_record",
    "signed_today",
    "store_signed",
    "worklist",
]


def open_store(*, url: str | None = None) -> RecordStore:
    """Open the records store (``url``, else the one the environment names).

    Raises:
        StorageError: the database cannot be opened.
    """
    return RecordStore.open(url)


def rule_set_in_force(*, store: RecordStore) -> RuleSet:
    """The rule set the app screens with while ``store`` is open: the clinic policy and
    formulary installed in the records database, else the files the environment names, else
    the shipped ones (:func:`ketascreen.screening.rule_set_in_force`, loaded once per content).

    Raises:
        ClinicFileConflictError: the database and the environment both give the same kind of
            file.
        KnowledgeBaseError: an installed file no longer validates against this ketascreen.
        StorageError: the database cannot be read.
    """
    from ketascreen.records.settings import clinic_files  # noqa: PLC0415
    from ketascreen.screening import rule_set_in_force as in_force  # noqa: PLC0415

    return in_force(clinic_files(store))


def sign_in(*, store: RecordStore, username: str, password: str) -> Actor:
    """Log a user in (a ``login`` event either way).

    Raises:
        AuthenticationFailedError: unknown user, wrong password or deactivated account.
    """
    return store.authenticate(username.strip(), password)


def may(*, actor: Actor | None, permission: Permission) -> bool:
    """Whether the signed-in user's role allows ``permission`` (``False`` when nobody is)."""
    return actor is not None and actor.may(permission)


def require(*, store: RecordStore, actor: Actor, permission: Permission,
            record_id: str | None = None) -> None:
    """Check that ``actor`` may do ``permission`` before the app lets them try.

    Raises:
        PermissionDeniedError: the role does not allow it (the refusal is recorded).
    """
    store.authorise(actor, permission, record_id)


def worklist(*, store: RecordStore, actor: Actor) -> list[WorklistItem]:
    """Today's current signed checklists, oldest first.

    Raises:
        PermissionDeniedError: the role may not view signed checklists (recorded).
        StorageError: the database cannot be read.
    """
    return todays_checklists(store, actor)


def open_record(*, store: RecordStore, actor: Actor, record_id: str) -> OpenedChecklist:
    """A signed checklist with its PDF bytes, for preview and printing.

    Raises:
        PermissionDeniedError: the role may not view signed checklists (recorded).
        RecordError: no such record, a draft, replaced by an amendment, or a changed document.
    """
    return open_checklist(store, actor, record_id)


def record_printed(*, store: RecordStore, actor: Actor, record_id: str, copies: int = 1) -> int:
    """Record that a checklist was printed (after the print job); returns the event number.

    Raises:
        PermissionDeniedError: the role may not print (recorded).
        RecordError: no such record, a draft, or ``copies`` below 1.
    """
    return record_print(store, actor, record_id, copies=copies)


def store_signed(*, store: RecordStore, actor: Actor, screening: Screening, signed_pdf: bytes,
                 amends: str | None = None, reason: str | None = None) -> StoredScreening:
    """Store a screening signed in the app with its signed checklist (or sign its stored draft),
    so it appears on the nurses' worklist; with ``amends``, as the signed amendment of that
    record (which it replaces on the worklist).

    Raises:
        PermissionDeniedError: the role may not screen, acknowledge, sign or amend (recorded).
        CertificateNotRegisteredError: the certificate that signed the PDF is not registered to
            ``actor`` (recorded).
        SameDaySigningError: the patient has a checklist signed today (amend it; recorded).
        AmendmentReasonMissingError: ``amends`` without a typed reason.
        RecordError: already stored as signed, or the PDF is not this screening's checklist.
        StorageError: the database cannot be used.
    """
    if amends is not None:
        return store.amend(actor, amends, screening, signed_pdf=signed_pdf, reason=reason or "")
    return store.create(actor, screening, signed_pdf=signed_pdf)


def signed_record(*, store: RecordStore, actor: Actor, record_id: str) -> StoredScreening:
    """A stored record in full (its case, result and signature line).

    Raises:
        PermissionDeniedError: the role may not view it (recorded).
        RecordNotFoundError: no such record.
    """
    return store.get(actor, record_id)


def signed_today(*, store: RecordStore, actor: Actor, patient_id: str) -> StoredScreening | None:
    """The current checklist signed today for ``patient_id`` (the one to amend), or ``None``.

    Raises:
        PermissionDeniedError: the role may not view signed records (recorded).
    """
    return store.signed_today_for_patient(actor, patient_id)


def same_day_text(*, existing: StoredScreening) -> str:
    """Why a second checklist for the patient is not signed today, and how to amend instead."""
    patient = f"{existing.patient.name} ({existing.patient.patient_id})"
    return (f"{patient} already has a checklist signed today: {existing.signature_line()}. "
            "A second checklist for the same patient on the same day is not signed. To "
            f"change or replace it, amend {existing.record_id}: give the reason, and the "
            "signed amendment replaces it on the worklist (File > Amend signed checklist).")


def same_day_error_text(*, error: SameDaySigningError) -> str:
    """The same refusal, from the store's error fields (the backstop when storing)."""
    when = "" if error.signed_at is None else " at " + format_local_time(error.signed_at)
    return (f"Patient {error.patient_id} already has a checklist signed today: "
            f"{error.record_id}, signed by {error.signer_name}{when}. Not stored: "
            f"amend {error.record_id} instead (open it from today's signed checklists and "
            "press Amend).")


def certificate_status(*, store: RecordStore, actor: Actor,
                       identity: SignerIdentity) -> CertificateStatus:
    """Whether the certificate of ``identity`` is ``registered`` to ``actor``,
    ``unregistered`` (nobody's) or another account's (``another-account``); not audited."""
    return store.certificate_status(actor, identity.certificate_sha256)


def register_certificate(*, store: RecordStore, actor: Actor, identity: SignerIdentity) -> None:
    """Register the certificate of ``identity`` to ``actor`` after they confirmed it is theirs
    (audited).

    Raises:
        CertificateOwnedByAnotherError: it is another account's (recorded).
        PermissionDeniedError: ``actor`` is not a physician.
        UserAccountError: the account is not an active physician.
    """
    store.register_certificate(actor, identity.certificate_sha256, identity.name,
                               confirmed=True)


def refuse_misnamed_certificate(*, store: RecordStore, actor: Actor, identity: SignerIdentity,
                                record_id: str | None, action: str = "sign") -> None:
    """Refuse (and record, as a refused ``action``) registering a certificate that names
    somebody else; nothing happens when it names ``actor``.

    Raises:
        CertificateNameMismatchError: the certificate's name does not name ``actor`` (recorded).
    """
    if not certificate_names_holder(identity.name, actor.display_name):
        check_signer(store, actor, identity.certificate_sha256, identity.name, action=action,
                     record_id=record_id, register=True)


def refuse_certificate(*, store: RecordStore, actor: Actor, identity: SignerIdentity,
                       record_id: str | None, action: str = "sign") -> None:
    """Record the refusal of signing (``action``: ``sign`` or ``countersign``) with a
    certificate not registered to ``actor``.

    Raises:
        CertificateNotRegisteredError: always (unless it is ``actor``'s after all), recorded in
            the audit trail as a refused ``action``; the fields say whose it is.
    """
    check_signer(store, actor, identity.certificate_sha256, identity.name, action=action,
                 record_id=record_id, register=False)


def fingerprint_text(fingerprint: str, *, groups: int = 8) -> str:
    """The start of a sha256 fingerprint as people compare it: ``AB:CD:...`` (``groups`` bytes)."""
    pairs = [fingerprint[i:i + 2].upper() for i in range(0, len(fingerprint), 2)]
    return ":".join(pairs[:groups]) + (":..." if len(pairs) > groups else "")


def certificate_refusal_text(*, error: CertificateNotRegisteredError) -> str:
    """The refusal of a certificate, from the error's fields."""
    short = fingerprint_text(error.fingerprint)
    which = f"The certificate '{error.subject_name}' (SHA-256 {short})"
    if isinstance(error, CertificateNameMismatchError):
        return (f"{which} does not name you ({error.display_name}): it cannot be registered to "
                f"{error.account} from here, and signing with it is refused (recorded in the "
                "audit trail). Sign with your own certificate, or ask the clinic administrator, "
                "who checks who holds the key, to register it (ketascreen users certificate "
                "add).")
    if error.owner is not None:
        return (f"{which} is registered to another account ({error.owner}), not to "
                f"{error.account}: signing with it is refused and the refusal is recorded in "
                "the audit trail. Sign with your own certificate.")
    return (f"{which} is not registered to {error.account}: signing with it is refused and "
            "the refusal is recorded. Confirm that it is yours to register it, or ask the "
            "clinic administrator (ketascreen users certificate add).")


def last_certificate_path(*, store: RecordStore, actor: Actor) -> str | None:
    """The key store ``actor`` signed with last (remembered per account), or ``None``."""
    return store.last_certificate_path(actor)


def remember_certificate_path(*, store: RecordStore, actor: Actor, path: Path) -> None:
    """Remember the key store ``actor`` signs with (per account, in the records database)."""
    store.remember_certificate_path(actor, path)


def refusal_text(*, error: PermissionDeniedError) -> str:
    """A refusal for the person at the screen, from the error's fields."""
    what = f" on record {error.record_id}" if error.record_id else ""
    return (f"{error.user} ({error.role}) is not allowed to {error.action}{what}. "
            "The refusal is recorded in the audit trail.")


DOUBLE_CHECK_TEXT = {"not done": "NOT DONE", "match": "\u2714 MATCH",
                     "mismatch": "\u2716 MISMATCH", "override": "\u26a0 OVERRIDE"}
"""The worklist's double-check states as the nurse's table shows them (a mark and a word)."""


def describe_item(*, item: WorklistItem) -> tuple[str, str]:
    """The two lines the worklist shows for ``item``: the patient, then the decision, who
    signed it when, and what was done at the bedside (printed, the latest double check and
    who did it, the countersignature)."""
    patient = f"{item.patient.name} ({item.patient.patient_id})"
    decision = DECISION_LABELS.get(item.decision, (item.decision.upper(), ""))[0]
    signed = item.signed_at.astimezone().strftime("%H:%M")
    parts = [f"{decision} \u00b7 signed {signed} by {item.signed_by}", f"{item.record_id}"]
    if item.amends:
        parts.append(f"amends {item.amends}")
    parts.append(f"printed {item.printed}x" if item.printed else "not printed")
    if item.double_check == "not done":
        parts.append("NOT double-checked")
    else:
        by = f" ({item.double_checked_by[-1]})" if item.double_checked_by else ""
        parts.append("double check " + DOUBLE_CHECK_TEXT.get(item.double_check,
                                                             item.double_check.upper()) + by)
    if item.countersigned_by is not None:
        parts.append(f"countersigned by {item.countersigned_by}")
    return patient, " \u00b7 ".join(parts)



@dataclass(frozen=True)
class BedsideRow:
    """One row of the nurse's table (:data:`ketascreen.ui.qt_bedside.COLUMNS` order).

    Attributes:
        record_id: the signed checklist.
        cells: the texts of the columns.
        double_check: the latest double check: ``not done``, ``match``, ``mismatch`` or
            ``override``.
        countersigned: whether a nurse countersigned the bedside copy.
    """

    record_id: str
    cells: tuple[str, ...]
    double_check: str
    countersigned: bool


def infusion_text(infusion: tuple[int, int | None] | None) -> str:
    """``First screening``, ``Infusion 3 of 6`` or ``Infusion 3`` (no plan)."""
    if infusion is None:
        return "First screening"
    number, planned = infusion
    return f"Infusion {number}" + ("" if planned is None else f" of {planned}")


def bedside_row(*, item: WorklistItem) -> BedsideRow:
    """The nurse's table row of ``item``: times local, the order's values as signed."""
    patient = item.patient
    decision = DECISION_LABELS.get(item.decision, (item.decision.upper(), ""))[0]
    if item.amends:
        decision += f" (amends {item.amends})"
    signed = item.signed_at.astimezone().strftime("%H:%M")
    printed = f"{item.printed}\u00d7" if item.printed else "not printed"
    countersigned = "\u2014"
    if item.countersigned_by is not None:
        countersigned = item.countersigned_by
        if item.countersigned_at is not None:
            countersigned += " at " + item.countersigned_at.astimezone().strftime("%H:%M")
    cells = (signed, f"{patient.name}\nborn {patient.birth_date.isoformat()} \u00b7 "
             f"{patient.patient_id}", infusion_text(item.infusion), decision,
             item.dose or "no dose", item.pump_rate or "\u2014", item.signed_by, printed,
             DOUBLE_CHECK_TEXT.get(item.double_check, item.double_check.upper()),
             countersigned)
    return BedsideRow(item.record_id, cells, item.double_check,
                      item.countersigned_by is not None)


def perform_bedside_check(*, store: RecordStore, actor: Actor, record_id: str, password: str,
                          witness: str, witness_password: str,
                          identifiers: Sequence[tuple[str, str]], fields: Mapping[str, str],
                          override: tuple[str, str, str] | None = None) -> DoubleCheckRecord:
    """The blinded independent double check of ``record_id`` by ``actor`` (the checker): the
    typed entries are read first (nothing is recorded when one cannot be), then both people
    authenticate and the entries are compared with the signed order and recorded.

    Args:
        override: (reason, second nurse's user name, her password) to override a mismatch.

    Raises:
        DoubleCheckEntryError: an entry cannot be read (each field named; nothing recorded).
        AuthenticationFailedError: a password was not accepted (``LoginThrottledError``: the
            account waits).
        DoubleCheckRefusedError: the checker or witness signed the order, the witness is the
            checker or not an active clinician, or the override is not allowed (recorded).
        OrderNotRederivableError: the signed order cannot be re-derived to compare with.
        PermissionDeniedError: the role may not double-check (recorded).
        RecordError: no such signed record.
    """
    entries = parse_entries(identifiers, fields)
    return perform_double_check(
        store, actor, record_id, password=password, witness=witness,
        witness_password=witness_password, entries=entries,
        override=None if override is None else Override(*override))


def countersign_stamp(*, store: RecordStore, actor: Actor, record_id: str) -> CountersignStamp:
    """What the countersignature's stamp carries for ``actor``'s latest double check of
    ``record_id`` (read from its audit event, as the command line does): the checker and the
    witness, the result (an override's reason) and the values entered.

    Raises:
        CountersignRefusedError: her latest double check did not match and was not
            overridden, or there is none (recorded).
    """
    return bedside_stamp(store, actor, record_id)


def countersign_record(*, store: RecordStore, actor: Actor, record_id: str,
                       identity: SignerIdentity, stamp: CountersignStamp,
                       register: bool) -> bytes:
    """Countersign the physician-signed checklist ``record_id`` with ``identity`` (an
    incremental update filling its countersignature field) and store it as a new document;
    returns the countersigned PDF.

    Raises:
        SigningError: the document has no empty countersignature field.
        CountersignRefusedError: no passing or overridden double check by ``actor``, already
            countersigned, or the signatures do not verify (recorded).
        CertificateNotRegisteredError: the certificate is not ``actor``'s (recorded).
        PermissionDeniedError: the role may not countersign (recorded).
        RecordError: no such signed record.
    """
    opened = open_checklist(store, actor, record_id)
    pdf = countersign_pdf(opened.pdf, identity, stamp)
    countersign(store, actor, record_id, pdf, register=register)
    return pdf
