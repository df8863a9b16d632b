"""What is done with a signed record that changes nothing but the audit trail: printing it, the
bedside double check (:func:`log_action`, used by :mod:`ketascreen.records.worklist`),
exporting its signed PDF, and checkpoints of the trail.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from sqlalchemy import select

from ketascreen.errors import RecordError, RecordNotFoundError
from ketascreen.records.chain import Detail
from ketascreen.records.core import StoreCore, normalise_id
from ketascreen.records.models import ScreeningRow
from ketascreen.records.queries import document_of
from ketascreen.records.roles import Actor, Permission

log = logging.getLogger(__name__)
"""Logs name record ids, event numbers and actions only, never patient data."""


def log_action(store: StoreCore, actor: Actor, permission: Permission, record_id: str, *,
               action: str | None = None, detail: Detail | None = None) -> int:
    """Record that ``actor`` did ``permission`` (print, double check ...) on a signed
    record; returns the event number.

    Raises:
        PermissionDeniedError: the role may not.
        RecordNotFoundError: no such record.
        RecordError: the record is a draft.
    """
    record_id = normalise_id(record_id)
    store.authorise(actor, permission, record_id)
    with store.transaction() as tx:
        row = tx.session.execute(select(ScreeningRow).where(
            ScreeningRow.record_id == record_id)).scalar_one_or_none()
        if row is None:
            raise RecordNotFoundError(record_id, "no such record")
        if row.status == "draft":
            raise RecordError(record_id, "it is a draft: only signed checklists are used "
                              "at the bedside")
        seq = tx.trail.append(username=actor.username, role=actor.role.value,
                              action=action or permission.value, record_id=record_id,
                              detail=detail)
    log.info("%s %s (event %d)", action or permission.value, record_id, seq)
    return seq


def export(store: StoreCore, actor: Actor, record_id: str, path: Path, *,
           force: bool = False) -> bool:
    """Write a record's signed PDF to ``path`` (atomically); an ``export`` event.

    Returns:
        Whether a signed document was replaced at ``path``.

    Raises:
        PermissionDeniedError: the role may not export.
        RecordNotFoundError: no such record.
        RecordError: the record is a draft or its document does not match its sha256.
        OutputExistsError: ``path`` exists and ``force`` is false.
    """
    from ketascreen.reports.output import write_atomically  # noqa: PLC0415

    record_id = normalise_id(record_id)
    store.authorise(actor, Permission.EXPORT, record_id)
    pdf = document_of(store, record_id)
    replaced = write_atomically(path, pdf, force=force)
    with store.transaction() as tx:
        tx.trail.append(username=actor.username, role=actor.role.value, action="export",
                        record_id=record_id,
                        detail={"document_sha256": hashlib.sha256(pdf).hexdigest()})
    log.info("exported %s", record_id)
    return replaced


def checkpoint(store: StoreCore, actor: Actor) -> tuple[int, str]:
    """Append a ``checkpoint`` event and return it as the head to keep: its number and
    sha256 (``ketascreen audit checkpoint`` signs them into a file kept off the machine)."""
    with store.transaction() as tx:
        tx.trail.append(username=actor.username, role=actor.role.value, action="checkpoint")
        head = tx.trail.head
    log.info("checkpoint at event %d", head[0])
    return head
