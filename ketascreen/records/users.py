"""Local accounts: creating, listing and deactivating them, passwords and logins.

Passwords are hashed with Argon2id (argon2-cffi, its default parameters). The roles and what
each may do are in :mod:`ketascreen.records.roles` (their names are importable from here too).
Every refusal is recorded in the audit trail by the store
(:meth:`~ketascreen.records.core.StoreCore.authorise`).

Logins are throttled per user name: after :data:`THROTTLE_AFTER` failures in a row a login waits
1 s, then 2 s, 4 s ... at most 60 s, refused without checking the password meanwhile
(:func:`authenticate`).
"""

from __future__ import annotations

import functools
import math
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select

from ketascreen.errors import AuthenticationFailedError, LoginThrottledError, UserAccountError
from ketascreen.records.models import LoginThrottle, User
from ketascreen.records.roles import ROLE_PERMISSIONS, Actor, Permission, Role, UserInfo
from ketascreen.visible import normalise_visible, visible_text_problem

if TYPE_CHECKING:
    from ketascreen.records.core import StoreCore


MIN_PASSWORD_LENGTH: Final = 10
THROTTLE_AFTER: Final = 3
"""Failed logins in a row for one user name before its logins wait."""
THROTTLE_FIRST_DELAY: Final = timedelta(seconds=1)
"""The wait after the :data:`THROTTLE_AFTER`-th failure; each further failure doubles it."""
THROTTLE_MAX_DELAY: Final = timedelta(seconds=60)
"""The longest wait."""
_USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for an unknown user, so the refusal takes as long."""
    return _HASHER.hash("ketascreen: equalises the time of a login for an unknown user")


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (salted; PHC string format)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_new_account(username: str, display_name: str, role: str, password: str) -> Role:
    """Validate the fields of a new account; returns the role.

    Raises:
        UserAccountError: naming the field that is not acceptable.
    """
    if not _USERNAME.fullmatch(username):
        raise UserAccountError(username, "username", "2 to 64 characters: lowercase letters, "
                               "digits, '.', '_' or '-', starting with a letter")
    if not display_name.strip():
        raise UserAccountError(username, "display name", "is empty")
    problem = visible_text_problem(display_name)  # NFC, letters, no invisible characters
    if problem is not None:
        raise UserAccountError(username, "display name", problem)
    try:
        chosen = Role(role)
    except ValueError:
        raise UserAccountError(username, "role", f"{role!r} is not one of "
                               f"{', '.join(r.value for r in Role)}") from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserAccountError(username, "password",
                               f"must be at least {MIN_PASSWORD_LENGTH} characters")
    return chosen


def has_users(store: StoreCore) -> bool:
    """Whether any account exists (the first one may be created without logging in)."""
    with store.database.read() as session:
        return bool(session.execute(select(func.count()).select_from(User)).scalar_one())


def throttle_delay(failures: int) -> timedelta:
    """How long logins for an account wait after its ``failures``-th failed login in a row:
    nothing before :data:`THROTTLE_AFTER` failures, then :data:`THROTTLE_FIRST_DELAY`, doubling
    with each further failure, at most :data:`THROTTLE_MAX_DELAY`."""
    if failures < THROTTLE_AFTER:
        return timedelta(0)
    doublings = min(failures - THROTTLE_AFTER, 32)  # 2**32 s is far beyond the cap
    delay: timedelta = THROTTLE_FIRST_DELAY * (2 ** doublings)
    return min(delay, THROTTLE_MAX_DELAY)


def throttle_key(username: str) -> str:
    """The user name the throttle counts failures under (case and spaces do not escape it)."""
    return username.strip().lower()[:64]


def authenticate(store: StoreCore, username: str, password: str) -> Actor:
    """Log ``username`` in; a ``login`` event is recorded either way.

    Failed logins in a row are counted per user name in the database (known or not, so the wait
    does not tell which names exist). From the :data:`THROTTLE_AFTER`-th on, logins for that
    name wait (:func:`throttle_delay`): until the wait is over a login is refused without
    checking the password, and that refusal is recorded too. A successful login clears the
    count. The count is read and written under the audit trail's lock, which every write
    transaction takes first, so two processes never both miss each other's failure.

    Raises:
        LoginThrottledError: the name's wait is not over (the password was not checked).
        AuthenticationFailedError: unknown user, wrong password or deactivated account (the message
            does not say which).
    """
    key = throttle_key(username)
    throttled: LoginThrottledError | None = None
    actor: Actor | None = None
    with store.transaction() as tx:
        now = store.clock()  # read under the trail's lock: a queued login sees the wait as it is
        throttle = tx.session.get(LoginThrottle, key)
        user = tx.session.execute(select(User).where(User.username == username)
                                  ).scalar_one_or_none()
        role = user.role if user else ""
        if throttle is not None and throttle.blocked_until is not None \
                and now < throttle.blocked_until:
            wait = math.ceil((throttle.blocked_until - now).total_seconds())
            throttled = LoginThrottledError(username, retry_at=throttle.blocked_until,
                                            wait_seconds=max(wait, 1),
                                            failures=throttle.failures)
            tx.trail.append(username=username[:64], role=role, action="login", outcome="refused",
                            detail={"reason": "throttled: password not checked",
                                    "failures": throttle.failures,
                                    "retry_at": throttle.blocked_until.isoformat()})
        else:
            if user is None:
                verify_password(_dummy_hash(), password)
                ok = False
            else:
                ok = verify_password(user.password_hash, password) and user.active
            if not ok or user is None:
                if throttle is None:
                    throttle = LoginThrottle(username=key, failures=0)
                    tx.session.add(throttle)
                throttle.failures += 1
                throttle.last_failure_at = now
                delay = throttle_delay(throttle.failures)
                throttle.blocked_until = now + delay if delay else None
                detail: dict[str, str | int | bool | None] = {
                    "reason": "inactive account" if user and not user.active
                    else "unknown user or wrong password", "failures": throttle.failures}
                if throttle.blocked_until is not None:
                    detail["retry_at"] = throttle.blocked_until.isoformat()
                tx.trail.append(username=username[:64], role=role, action="login",
                                outcome="refused", detail=detail)
            else:
                if _HASHER.check_needs_rehash(user.password_hash):
                    user.password_hash = hash_password(password)
                if throttle is not None and (throttle.failures or throttle.blocked_until):
                    throttle.failures = 0
                    throttle.blocked_until = None
                tx.trail.append(username=user.username, role=user.role, action="login")
                actor = Actor(user.id, user.username, user.display_name, Role(user.role))
    if throttled is not None:
        raise throttled
    if actor is None:
        raise AuthenticationFailedError(username)
    return actor


def add_user(store: StoreCore, actor: Actor | None, *, username: str, display_name: str,
             role: str, password: str) -> UserInfo:
    """Create an account. Needs an admin, except for the very first account (an admin).

    Args:
        store: the records store.
        actor: the admin creating the account; ``None`` only while no account exists.
        username: the login name.
        display_name: the name shown and printed.
        role: ``physician``, ``nurse`` or ``admin``.
        password: at least :data:`MIN_PASSWORD_LENGTH` characters.

    Raises:
        PermissionDeniedError: ``actor`` is not an admin (recorded in the audit trail).
        UserAccountError: a field is not acceptable, the user exists, or no actor was given
            although accounts exist (or the first account is not an admin).
    """
    chosen = check_new_account(username, display_name, role, password)
    if actor is not None:
        store.authorise(actor, Permission.MANAGE_USERS)
    password_hash = hash_password(password)
    now = store.clock()
    with store.transaction() as tx:
        count = tx.session.execute(select(func.count()).select_from(User)).scalar_one()
        if actor is None and count:
            raise UserAccountError(username, "administrator",
                                   "accounts exist: log in as an admin to add one")
        if actor is None and chosen is not Role.ADMIN:
            raise UserAccountError(username, "role", "the first account must be an admin")
        exists = tx.session.execute(select(User.id).where(User.username == username)
                                    ).scalar_one_or_none()
        if exists is not None:
            raise UserAccountError(username, "username", "is already taken")
        tx.session.add(User(username=username, display_name=normalise_visible(display_name),
                            role=chosen.value, password_hash=password_hash, active=True,
                            created_at=now))
        tx.trail.append(username=actor.username if actor else "(first account)",
                        role=actor.role.value if actor else "", action="user-create",
                        detail={"user": username, "role": chosen.value})
    return UserInfo(username, normalise_visible(display_name), chosen, True, now)


def list_users(store: StoreCore, actor: Actor) -> list[UserInfo]:
    """Every account, by user name.

    Raises:
        PermissionDeniedError: ``actor`` is not an admin (recorded in the audit trail).
    """
    store.authorise(actor, Permission.MANAGE_USERS)
    with store.database.read() as session:
        rows = session.execute(select(User).order_by(User.username)).scalars()
        return [UserInfo(u.username, u.display_name, Role(u.role), u.active, u.created_at)
                for u in rows]


def set_active(store: StoreCore, actor: Actor, username: str, *, active: bool) -> None:
    """Deactivate (or reactivate) an account; it is never deleted, the trail names it.

    Raises:
        PermissionDeniedError: ``actor`` is not an admin (recorded in the audit trail).
        UserAccountError: no such user, or an admin deactivating their own account.
    """
    store.authorise(actor, Permission.MANAGE_USERS)
    if username == actor.username and not active:
        raise UserAccountError(username, "active", "an admin cannot deactivate their own account")
    with store.transaction() as tx:
        user = tx.session.execute(select(User).where(User.username == username)
                                  ).scalar_one_or_none()
        if user is None:
            raise UserAccountError(username, "username", "no such user")
        user.active = active
        tx.trail.append(username=actor.username, role=actor.role.value,
                        action="user-activate" if active else "user-deactivate",
                        detail={"user": username})


__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ROLE_PERMISSIONS",
    "THROTTLE_AFTER",
    "THROTTLE_FIRST_DELAY",
    "THROTTLE_MAX_DELAY",
    "Actor",
    "Permission",
    "Role",
    "UserInfo",
    "add_user",
    "authenticate",
    "check_new_account",
    "has_users",
    "hash_password",
    "list_users",
    "set_active",
    "throttle_delay",
    "throttle_key",
    "verify_password",
]
