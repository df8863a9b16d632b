"""``users``: accounts (the first one an admin, without logging in) and the signing
certificates registered to physicians."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ketascreen.errors import InputFileError
from ketascreen.records.commands.session import (
    EXIT_OK,
    local_time,
    login,
    new_password,
)
from ketascreen.secretfile import read_secret

if TYPE_CHECKING:
    from ketascreen.records.repository import RecordStore
    from ketascreen.records.users import Actor
    from ketascreen.reports.keys import CertificateFacts


def _certificate_file(args: argparse.Namespace) -> CertificateFacts:
    """The certificate of ``args.certificate`` (with ``--passphrase-file`` for a .p12).

    Raises:
        InputFileError: the file cannot be read.
        SigningError: it is not a certificate or a key store that opens.
    """
    from ketascreen.reports.keys import read_certificate  # noqa: PLC0415

    try:
        data = Path(args.certificate).read_bytes()
    except OSError as error:
        raise InputFileError(args.certificate, f"cannot be read: {error.strerror}") from None
    passphrase = (read_secret(args.passphrase_file, "passphrase")
                  if args.passphrase_file else None)
    return read_certificate(data, passphrase=passphrase, path=args.certificate)


def _register(store: RecordStore, actor: Actor, username: str, facts: CertificateFacts) -> None:
    info = store.register_certificate(actor, facts.sha256, facts.subject_name, confirmed=True,
                                      username=username, certificate_der=facts.der)
    print(f"ketascreen: certificate {info.subject_name!r} (sha256 {info.fingerprint}) is "
          f"registered to {info.username}", file=sys.stderr)


def _certificates(store: RecordStore, args: argparse.Namespace, out: TextIO) -> int:
    actor = login(store, args)
    if args.certificate_command == "add":
        _register(store, actor, args.username, _certificate_file(args))
        return EXIT_OK
    found = store.certificates(actor, args.username)
    if not found:
        out.write("no registered certificates\n")
    for info in found:
        out.write(f"{info.username:20} {info.fingerprint}  {info.subject_name}  (registered "
                  f"{local_time(info.registered_at)} by {info.registered_by})\n")
    return EXIT_OK


def users(store: RecordStore, args: argparse.Namespace, out: TextIO) -> int:
    """`users add`, `users list` and `users certificate add|list`."""
    from ketascreen.records.users import has_users, list_users  # noqa: PLC0415

    if args.users_command == "certificate":
        return _certificates(store, args, out)
    if args.users_command == "list":
        for user in list_users(store, login(store, args)):
            state = "" if user.active else "  (deactivated)"
            out.write(f"{user.username:20} {user.role.value:10} {user.display_name}{state}\n")
        return EXIT_OK
    first = not has_users(store)
    actor = None if first else login(store, args)
    if actor is not None:
        from ketascreen.records.users import Permission  # noqa: PLC0415

        store.authorise(actor, Permission.MANAGE_USERS)
    if args.certificate and args.role != "physician":
        raise InputFileError("--certificate", "only a physician's account holds signing "
                             "certificates")
    certificate = _certificate_file(args) if args.certificate else None  # before the account
    info = store.add_user(actor, username=args.username, display_name=args.name,
                          role=args.role, password=new_password(args))
    note = " (the first account)" if first else ""
    print(f"ketascreen: added {info.role.value} {info.username}{note}", file=sys.stderr)
    if certificate is not None:
        assert actor is not None  # the first account is an admin, without a certificate
        _register(store, actor, info.username, certificate)
    return EXIT_OK
