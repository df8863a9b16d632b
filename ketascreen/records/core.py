"""The store's core: the database, the clock, write transactions and role checks.

Every action of the store (:class:`~ketascreen.records.repository.RecordStore`) is a function
over a :class:`StoreCore` (accounts in :mod:`~ketascreen.records.users`, certificates in
:mod:`~ketascreen.records.certificates`, writes in :mod:`~ketascreen.records.writes`, reads in
:mod:`~ketascreen.records.queries`): it checks the actor's role with :meth:`StoreCore.authorise`
and writes its change together with its audit event in one :meth:`StoreCore.transaction`, so a
crash leaves both or neither. A refused action is recorded as a ``refused`` event before the
error is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import NoReturn, Self

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from ketascreen.errors import (
    PermissionDeniedError,
    RecordError,
    SignedRecordImmutableError,
    StorageError,
)
from ketascreen.records.audit import AuditTrail
from ketascreen.records.db import Database
from ketascreen.records.roles import Actor, Permission

log = logging.getLogger(__name__)
"""Logs name record ids, event numbers and actions only, never patient data."""

IMMUTABLE_REASON = "a signed record is never changed; amend it instead"


@dataclass(frozen=True)
class Tx:
    """One write transaction: the session and the audit trail appender (holding its lock)."""

    session: Session
    trail: AuditTrail


def day_bounds(day: date, zone: tzinfo | None = None) -> tuple[datetime, datetime]:
    """The start and end (exclusive) of ``day`` in ``zone`` (default: this computer's), in UTC."""
    def midnight(of: date) -> datetime:
        naive = datetime.combine(of, time.min)
        # naive.astimezone() reads the local zone's rules for that date (DST included)
        return naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()

    return midnight(day).astimezone(UTC), midnight(day + timedelta(days=1)).astimezone(UTC)


def utc_now() -> datetime:
    """Now, aware, in UTC (the store's default clock)."""
    return datetime.now(UTC)


def normalise_id(record_id: str) -> str:
    """A record id as stored: stripped, upper case."""
    return record_id.strip().upper()


class StoreCore:
    """The database, the clock and the clinic's time zone, with transactions and role checks.

    Args:
        database: an open :class:`Database`.
        clock: the current time, aware (tests and the benchmark set it; default: now, UTC).
        zone: the clinic's time zone, which decides what "the same day" is (default: this
            computer's).
    """

    def __init__(self, database: Database, *,
                 clock: Callable[[], datetime] | None = None,
                 zone: tzinfo | None = None) -> None:
        self.database = database
        self.clock: Callable[[], datetime] = clock or utc_now
        self.zone = zone

    def close(self) -> None:
        """Release the database connections."""
        self.database.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One write transaction with the audit trail locked; committed when the block ends.

        Raises:
            RecordError: the database refused the change (a constraint or trigger).
            StorageError: the database cannot be written.
        """
        try:
            with self.database.write() as session:
                trail = AuditTrail(session, clock=self.clock)
                yield Tx(session, trail)
                trail.finish()
        except IntegrityError as error:
            raise RecordError(None, f"the database refused the change: {_first_line(error)}"
                              ) from None
        except DBAPIError as error:
            raise StorageError(self.database.name, _first_line(error)) from None

    def record_refusal(self, actor: Actor | None, action: str, *, reason: str,
                       record_id: str | None = None, username: str | None = None) -> int:
        """Append a ``refused`` event in its own transaction; returns its number."""
        with self.transaction() as tx:
            seq = tx.trail.append(
                username=actor.username if actor else (username or "(unknown)"),
                role=actor.role.value if actor else "", action=action, outcome="refused",
                record_id=record_id, detail={"reason": reason})
        log.info("refused %s on %s (event %d)", action, record_id or "-", seq)
        return seq

    def authorise(self, actor: Actor, permission: Permission, record_id: str | None = None
                  ) -> None:
        """Check that ``actor``'s role allows ``permission``.

        Raises:
            PermissionDeniedError: it does not; the refusal is recorded in the audit trail first.
        """
        if actor.may(permission):
            return
        self.record_refusal(actor, permission.value, record_id=record_id,
                            reason=f"the {actor.role.value} role may not {permission.value}")
        raise PermissionDeniedError(actor.username, actor.role.value, permission.value, record_id)

    def refuse_immutable(self, actor: Actor, action: str, record_id: str) -> NoReturn:
        """Refuse (recorded) changing a signed record.

        Raises:
            SignedRecordImmutableError: always.
        """
        self.record_refusal(actor, action, record_id=record_id, reason=IMMUTABLE_REASON)
        raise SignedRecordImmutableError(record_id, IMMUTABLE_REASON)


def _first_line(error: DBAPIError) -> str:
    text = str(error.orig) if error.orig is not None else str(error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__
