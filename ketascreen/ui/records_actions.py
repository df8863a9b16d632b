"""The desktop app's door into the records store: signing in and the nurse worklist.

Like :mod:`ketascreen.ui.actions`, each function is small, keyword-only, imports no Qt and calls
one core entry point (:mod:`ketascreen.records`), handing back plain data or a typed core error
(``PermissionDeniedError``, ``RecordError``, ``StorageError``, ``AuthenticationFailedError``,
``UserAccountError``). Refusals are described from the errors' fields, never their messages.
"""

from __future__ import annotations

import os
from pathlib import Path

from ketascreen.errors import PermissionDeniedError
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
from ketascreen.reports.checklist import DECISION_LABELS
from ketascreen.rules.engine import Screening

__all__ = [
    "Actor",
    "OpenedChecklist",
    "Permission",
    "RecordStore",
    "WorklistItem",
    "default_database",
    "describe_item",
    "may",
    "open_record",
    "open_store",
    "record_bedside_check",
    "record_printed",
    "refusal_text",
    "require",
    "sign_in",
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


def store_signed(*, store: RecordStore, actor: Actor, screening: Screening,
                 signed_pdf: bytes) -> StoredScreening:
    """Store a screening signed in the app with its signed checklist (or sign its stored draft),
    so it appears on the nurses' worklist.

    Raises:
        PermissionDeniedError: the role may not screen, acknowledge or sign (recorded).
        RecordError: already stored as signed, or the PDF is not this screening's checklist.
        StorageError: the database cannot be used.
    """
    return store.create(actor, screening, signed_pdf=signed_pdf)


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
