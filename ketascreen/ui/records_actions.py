"""The desktop app's door into the records store: signing in, the nurse worklist, storing
and amending signed checklists, and the signing certificates bound to accounts.

Like :mod:`ketascreen.ui.actions`, each function is small, keyword-only, imports no Qt and calls
one core entry point (:mod:`ketascreen.records`), handing back plain data or a typed core error
(``PermissionDeniedError``, ``RecordError``, ``StorageError``, ``AuthenticationFailedError``,
``UserAccountError``). Refusals are described from the errors' fields, never their messages.
A course of infusions has its own door, :mod:`ketascreen.ui.course_records_actions`.
"""

from __future__ import annotations

import os
from pathlib import Path

from ketascreen.display import format_local_time
from ketascreen.errors import (
    CertificateNameMismatchError,
    CertificateNotRegisteredError,
    PermissionDeniedError,
    SameDaySigningError,
)
from ketascreen.models.checklist import DECISION_LABELS
from ketascreen.records.certificates import (
    CertificateStatus,
    certificate_names_holder,
    check_signer,
)
from ketascreen.records.db import DATABASE_FILE, ENV_DATABASE_URL, data_dir
from ketascreen.records.repository import RecordStore, StoredScreening
from ketascreen.records.users import Actor, Permission
from ketascreen.records.worklist import (
    OpenedChecklist,
    WorklistItem,
    open_checklist,
    record_double_check,
    record_print,
    todays_checklists,
)
from ketascreen.reports.keys import SignerIdentity
from ketascreen.rules import RuleSet
from ketascreen.screening import Screening

__all__ = [
    "Actor",
    "OpenedChecklist",
    "Permission",
    "RecordStore",
    "StoredScreening",
    "WorklistItem",
    "certificate_refusal_text",
    "certificate_status",
    "default_database",
    "describe_item",
    "fingerprint_text",
    "last_certificate_path",
    "may",
    "open_record",
    "open_store",
    "record_bedside_check",
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


def default_database() -> str | None:
    """The records database the app opens at start, or ``None`` to start with files only.

    ``$KETASCREEN_DATABASE_URL`` when set; else the SQLite file in the data folder, but only if
    it exists already, so that merely starting the app never creates a database (the first
    account is made with ``ketascreen users add``).
    """
    url = os.environ.get(ENV_DATABASE_URL)
    if url:
        return url
    path: Path = data_dir() / DATABASE_FILE
    return f"sqlite:///{path}" if path.is_file() else None


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


def record_bedside_check(*, store: RecordStore, actor: Actor, record_id: str,
                         witness: str | None) -> int:
    """Record the independent bedside double check; returns the event number.

    Raises:
        PermissionDeniedError: the role may not record the double check (recorded).
        RecordError: no such record, or a draft.
        UserAccountError: ``witness`` is not another active nurse or physician.
    """
    return record_double_check(store, actor, record_id, witness=witness or None)


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
                                record_id: str | None) -> None:
    """Refuse (and record) registering a certificate that names somebody else; nothing happens
    when it names ``actor``.

    Raises:
        CertificateNameMismatchError: the certificate's name does not name ``actor`` (recorded).
    """
    if not certificate_names_holder(identity.name, actor.display_name):
        check_signer(store, actor, identity.certificate_sha256, identity.name, action="sign",
                     record_id=record_id, register=True)


def refuse_certificate(*, store: RecordStore, actor: Actor, identity: SignerIdentity,
                       record_id: str | None) -> None:
    """Record the refusal of signing with a certificate not registered to ``actor``.

    Raises:
        CertificateNotRegisteredError: always (unless it is ``actor``'s after all), recorded in
            the audit trail as a refused ``sign``; the fields say whose it is.
    """
    check_signer(store, actor, identity.certificate_sha256, identity.name, action="sign",
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


def describe_item(*, item: WorklistItem) -> tuple[str, str]:
    """The two lines the worklist shows for ``item``: the patient, then the decision, who
    signed it when, and what was done at the bedside."""
    patient = f"{item.patient.name} ({item.patient.patient_id})"
    decision = DECISION_LABELS.get(item.decision, (item.decision.upper(), ""))[0]
    signed = item.signed_at.astimezone().strftime("%H:%M")
    parts = [f"{decision} \u00b7 signed {signed} by {item.signed_by}", f"{item.record_id}"]
    if item.amends:
        parts.append(f"amends {item.amends}")
    parts.append(f"printed {item.printed}x" if item.printed else "not printed")
    parts.append("double-checked by " + ", ".join(item.double_checked_by)
                 if item.double_checked_by else "NOT double-checked")
    return patient, " \u00b7 ".join(parts)
