"""The records part of the command line: ``records``, ``audit``, ``users`` and ``screen --save``.

``ketascreen.cli`` registers these parsers and calls these handlers. Every command that touches
records logs a user in (:mod:`~ketascreen.records.commands.session`): ``--user`` (or
``$KETASCREEN_USER``) and the password from ``--password-file`` or a prompt. Refusals exit with
status 4; a broken audit trail with 1. The commands live beside it: ``screen --save``
(:mod:`~ketascreen.records.commands.save`), ``records list|show``
(:mod:`~ketascreen.records.commands.listing`), ``records double-check|countersign``
(:mod:`~ketascreen.records.commands.bedside`), ``audit verify|checkpoint``
(:mod:`~ketascreen.records.commands.audit`), ``users``
(:mod:`~ketascreen.records.commands.accounts`) and ``course``/``infusion``
(:mod:`~ketascreen.records.commands.course`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from ketascreen.records.commands.accounts import users
from ketascreen.records.commands.audit import checkpoint, verify
from ketascreen.records.commands.bedside import add_bedside_parsers, countersign, double_check
from ketascreen.records.commands.course import add_course_parsers, run_course_command
from ketascreen.records.commands.listing import list_records, show
from ketascreen.records.commands.save import Saver, check_save_arguments
from ketascreen.records.commands.session import ENV_USER, EXIT_OK, login, open_store

__all__ = ["ENV_USER", "Saver", "add_login_options", "add_parsers", "add_screen_options",
           "check_save_arguments", "login", "open_store", "run"]


def add_login_options(parser: argparse.ArgumentParser) -> None:
    """``--user`` and ``--password-file`` on a sub-command."""
    parser.add_argument("--user", metavar="NAME",
                        help=f"who is acting (default: ${ENV_USER}); the password is asked for")
    parser.add_argument("--password-file", metavar="FILE",
                        help="file holding the user's password (instead of the prompt)")


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``records``, ``audit``, ``users``, ``course`` and ``infusion``."""
    records = commands.add_parser("records", help="stored screenings")
    actions = records.add_subparsers(dest="records_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list stored screenings, newest first")
    listing.add_argument("--today", action="store_true",
                         help="only those signed (or, for drafts, stored) today")
    listing.add_argument("--patient", metavar="ID", help="only this patient id")
    listing.add_argument("--current", action="store_true",
                         help="leave out records replaced by an amendment (as the worklist)")
    listing.add_argument("--limit", type=int, default=100, metavar="N")
    listing.add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="show one stored screening and its audit events")
    show.add_argument("record_id", metavar="ID")
    show.add_argument("--json", action="store_true")
    export = actions.add_parser("export", help="write a record's signed checklist")
    export.add_argument("record_id", metavar="ID")
    export.add_argument("--pdf", required=True, metavar="OUT.pdf")
    export.add_argument("--force", action="store_true", help="replace an existing file")
    bedside = add_bedside_parsers(actions)
    for parser in (listing, show, export, *bedside):
        add_login_options(parser)

    audit = commands.add_parser("audit", help="the audit trail")
    audit_actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_actions.add_parser(
        "verify", help="recompute the hash chain and check the signed records (exit 1 if not)")
    verify.add_argument("--chain-only", action="store_true",
                        help="skip the cross-check of signed records and documents")
    verify.add_argument("--expect-head", metavar="N:SHA256|FILE",
                        help="also check that event N still has this hash (noted earlier), or "
                        "the head of a signed checkpoint file")
    verify.add_argument("--checkpoint", metavar="FILE", action="append", default=[],
                        help="also check the head of this signed checkpoint file (repeatable)")
    checkpoint = audit_actions.add_parser(
        "checkpoint", help="write a signed checkpoint of the trail's head, to keep off the "
        "machine (audit verify --checkpoint FILE checks the trail against it)")
    checkpoint.add_argument("-o", "--output", required=True, metavar="FILE")
    checkpoint.add_argument("--sign", required=True, metavar="KEY.p12",
                            help="the key store that signs the checkpoint")
    checkpoint.add_argument("--passphrase-file", required=True, metavar="FILE",
                            help="file holding the key store's passphrase")
    checkpoint.add_argument("--force", action="store_true", help="replace an existing file")
    add_login_options(checkpoint)

    users = commands.add_parser("users", help="user accounts (admin)")
    user_actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = user_actions.add_parser("add", help="create an account (the first one: an admin, "
                                  "without logging in)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["physician", "nurse", "admin"])
    add.add_argument("--name", required=True, help="display name, as printed")
    add.add_argument("--new-password-file", metavar="FILE",
                     help="file holding the new account's password (instead of the prompt)")
    add_certificate_options(add, required=False)
    listing_users = user_actions.add_parser("list", help="list accounts")
    certificate = user_actions.add_parser(
        "certificate", help="signing certificates bound to a physician's account")
    certificate_actions = certificate.add_subparsers(dest="certificate_command", required=True,
                                                     metavar="ACTION")
    certificate_add = certificate_actions.add_parser(
        "add", help="register a signing certificate to a physician (admin, or the physician)")
    certificate_add.add_argument("username")
    add_certificate_options(certificate_add, required=True)
    certificate_list = certificate_actions.add_parser(
        "list", help="the certificates registered to an account (default: your own)")
    certificate_list.add_argument("username", nargs="?")
    for parser in (add, listing_users, certificate_add, certificate_list):
        add_login_options(parser)

    add_course_parsers(commands, add_login_options)


def add_certificate_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """The certificate to register: a file, and the passphrase of a PKCS#12 key store."""
    if required:
        parser.add_argument("certificate", metavar="CERT",
                            help="PEM or DER certificate, or the PKCS#12 key store (.p12)")
    else:
        parser.add_argument("--certificate", metavar="CERT",
                            help="register this signing certificate to the new physician (PEM "
                            "or DER certificate, or the .p12 with --passphrase-file)")
    parser.add_argument("--passphrase-file", metavar="FILE",
                        help="file holding the passphrase of a .p12 given as CERT")


def add_screen_options(screen: argparse.ArgumentParser) -> None:
    """``--save`` and its companions on ``screen``."""
    screen.add_argument("--save", action="store_true",
                        help="store the screening in the records (signed when --sign is given)")
    screen.add_argument("--amends", metavar="ID",
                        help="with --save and --sign: store it as a signed amendment of ID")
    screen.add_argument("--reason", help="why the record is amended (with --amends)")
    add_login_options(screen)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``records``, ``audit``, ``users``, ``course`` or ``infusion``; returns the exit
    status."""
    store = open_store()
    try:
        if args.command == "audit":
            if args.audit_command == "checkpoint":
                return checkpoint(store, args)
            return verify(store, args, out)
        if args.command == "users":
            return users(store, args, out)
        if args.command == "records" and args.records_command == "double-check":
            return double_check(store, args, out)  # she authenticates with the witness
        if args.command == "records" and args.records_command == "countersign":
            return countersign(store, args, out)
        actor = login(store, args)
        if args.command in ("course", "infusion"):
            return run_course_command(store, actor, args, out)
        if args.records_command == "list":
            return list_records(store, actor, args, out)
        if args.records_command == "show":
            return show(store, actor, args, out)
        replaced = store.export(actor, args.record_id, Path(args.pdf), force=args.force)
        if replaced:
            print(f"ketascreen: warning: replaced the signed document {args.pdf}",
                  file=sys.stderr)
        print(f"ketascreen: wrote {args.pdf} (record {args.record_id.upper()})",
              file=sys.stderr)
        return EXIT_OK
    finally:
        store.close()
