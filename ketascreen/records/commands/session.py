"""Logging in on the command line: the user named by ``--user`` (or ``$KETASCREEN_USER``), the
password from ``--password-file`` or a prompt, and secrets read from files."""

from __future__ import annotations

import argparse
import getpass
import os
from datetime import date, datetime
from typing import TYPE_CHECKING

from ketascreen import secretfile
from ketascreen.errors import AuthenticationFailedError, InputFileError, UserAccountError

if TYPE_CHECKING:
    from ketascreen.records.repository import RecordStore
    from ketascreen.records.users import Actor

ENV_USER = "KETASCREEN_USER"
EXIT_OK = 0
EXIT_BROKEN = 1


def read_secret(path: str, what: str) -> str:
    """The secret in the file ``path`` as text.

    Raises:
        InputFileError: naming the file when it cannot be read, is empty or is not UTF-8.
    """
    try:
        return secretfile.read_secret(path, what).decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InputFileError(path, f"the {what} file is not UTF-8 text") from None


def open_store() -> RecordStore:
    """The records store named by the environment (see README, Records)."""
    from ketascreen.records.repository import RecordStore  # noqa: PLC0415

    return RecordStore.open()


def login(store: RecordStore, args: argparse.Namespace) -> Actor:
    """Log in the user named by ``--user`` or ``$KETASCREEN_USER``.

    Raises:
        AuthenticationFailedError: no user named, or the login is refused.
    """
    username = args.user or os.environ.get(ENV_USER)
    if not username:
        raise AuthenticationFailedError("", f"name the user with --user or {ENV_USER}")
    if args.password_file:
        password = read_secret(args.password_file, "password")
    else:
        password = getpass.getpass(f"ketascreen password for {username}: ")
    return store.authenticate(username, password)


def new_password(args: argparse.Namespace) -> str:
    """The new account's password: from ``--new-password-file``, or asked for twice.

    Raises:
        UserAccountError: the two entries differ.
    """
    if args.new_password_file:
        return read_secret(args.new_password_file, "new password")
    first = getpass.getpass(f"new password for {args.username}: ")
    if getpass.getpass("repeat it: ") != first:
        raise UserAccountError(args.username, "password", "the two entries differ")
    return first


def local_time(moment: datetime | None) -> str:
    """``moment`` in the local time zone, as the listings print it (``-`` for none)."""
    return "-" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M %z")


def jsonable(value: object) -> object:
    """``json.dumps`` default: dates and times as ISO 8601."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
