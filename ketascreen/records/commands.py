"""The records part of the command line: ``records``, ``audit``, ``users`` and ``screen --save``.

``ketascreen.cli`` registers these parsers and calls these handlers. Every command that touches
records logs a user in: ``--user`` (or ``$KETASCREEN_USER``) and the password from
``--password-file`` or a prompt. Refusals exit with status 4; a broken audit trail with 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ketascreen.errors import (
    AuthenticationFailedError,
    InputFileError,
    RecordExistsError,
    UserAccountError,
)

if TYPE_CHECKING:
    from ketascreen.records.checkpoint import Checkpoint
    from ketascreen.records.repository import RecordStore
    from ketascreen.records.users import Actor
    from ketascreen.records.views import RecordSummary, StoredScreening
    from ketascreen.reports.signing import CertificateFacts
    from ketascreen.screening import Screening

ENV_USER = "KETASCREEN_USER"
EXIT_OK = 0
EXIT_BROKEN = 1


def add_login_options(parser: argparse.ArgumentParser) -> None:
    """``--user`` and ``--password-file`` on a sub-command."""
    parser.add_argument("--user", metavar="NAME",
                        help=f"who is acting (default: ${ENV_USER}); the password is asked for")
    parser.add_argument("--password-file", metavar="FILE",
                        help="file holding the user's password (instead of the prompt)")


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``records``, ``audit`` and ``users``."""
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
    for parser in (listing, show, export):
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


# -- logging in ---------------------------------------------------------------------------

def _read_secret_bytes(path: str, what: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise InputFileError(path, f"cannot read the {what} file: {error.strerror}") from None
    secret = data.removesuffix(b"\n").removesuffix(b"\r")
    if not secret:
        raise InputFileError(path, f"the {what} file is empty")
    return secret


def _read_secret(path: str, what: str) -> str:
    try:
        return _read_secret_bytes(path, what).decode("utf-8", errors="strict")
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
        password = _read_secret(args.password_file, "password")
    else:
        password = getpass.getpass(f"ketascreen password for {username}: ")
    return store.authenticate(username, password)


def _new_password(args: argparse.Namespace) -> str:
    if args.new_password_file:
        return _read_secret(args.new_password_file, "new password")
    first = getpass.getpass(f"new password for {args.username}: ")
    if getpass.getpass("repeat it: ") != first:
        raise UserAccountError(args.username, "password", "the two entries differ")
    return first


# -- screen --save ----------------------------------------------------------------------------

class Saver:
    """Stores what ``screen --save`` screened, as the logged-in user.

    Args:
        args: the parsed ``screen`` arguments.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        from ketascreen.records.users import Permission  # noqa: PLC0415

        self._args = args
        self.store = open_store()
        try:
            self.actor = login(self.store, args)
            # refuse before anything is screened or written (each refusal is audited)
            self.store.authorise(self.actor, Permission.AMEND if args.amends
                                 else Permission.SCREEN)
            if args.sign:
                self.store.authorise(self.actor, Permission.SIGN)
        except BaseException:
            self.store.close()
            raise

    def check(self, screening: Screening) -> None:
        """Stop before a checklist is written when the record cannot be stored.

        Raises:
            RecordExistsError: the same screening is stored and signed already (or stored as a
                draft and not being signed now).
            CertificateNotRegisteredError: the key's certificate is not registered to the
                user (recorded in the audit trail).
            SameDaySigningError: the patient has a checklist signed today and this is not an
                amendment (recorded).
        """
        from ketascreen.records.content import record_id_of  # noqa: PLC0415

        record_id = record_id_of(screening, screening.rules)
        record = self.store.find(self.actor, record_id)
        if record is not None and (record.is_signed or not self._args.sign or self._args.amends):
            raise RecordExistsError(record.record_id, "this screening is stored already "
                                    f"({record.status})", record.status)
        if self._args.sign:
            self._check_key(record_id)
            if not self._args.amends:
                self.store.refuse_same_day_signing(self.actor, screening.case.patient.id,
                                                   record_id)

    def _check_key(self, record_id: str) -> None:
        """Refuse (recorded) a key whose certificate is not registered to the user."""
        from ketascreen.records.certificates import check_signer  # noqa: PLC0415
        from ketascreen.reports.signing import read_certificate  # noqa: PLC0415

        passphrase = _read_secret_bytes(self._args.passphrase_file, "passphrase")
        try:
            data = Path(self._args.sign).read_bytes()
        except OSError as error:
            raise InputFileError(self._args.sign, f"cannot be read: {error.strerror}") from None
        facts = read_certificate(data, passphrase=passphrase, path=self._args.sign)
        check_signer(self.store, self.actor, facts.sha256, facts.subject_name,
                     action="amend" if self._args.amends else "sign", record_id=record_id,
                     register=False)

    def save(self, screening: Screening, signed_pdf: bytes | None) -> None:
        """Store the screening (an amendment with ``--amends``) and say so on stderr."""
        ruleset = screening.rules
        if self._args.amends:
            assert signed_pdf is not None
            stored = self.store.amend(self.actor, self._args.amends, screening,
                                      signed_pdf=signed_pdf, reason=self._args.reason or "",
                                      ruleset=ruleset)
        else:
            stored = self.store.create(self.actor, screening, ruleset=ruleset,
                                       signed_pdf=signed_pdf)
        what = f"amendment of {stored.amends}" if stored.amends else stored.status
        print(f"ketascreen: saved record {stored.record_id} ({what})", file=sys.stderr)

    def close(self) -> None:
        """Release the database."""
        self.store.close()


def check_save_arguments(args: argparse.Namespace) -> None:
    """The combinations ``--save`` allows.

    Raises:
        InputFileError: naming the option that does not fit.
    """
    if (args.amends or args.reason) and not args.save:
        raise InputFileError("--amends", "--amends and --reason need --save")
    if not args.save:
        return
    if args.summary:
        raise InputFileError("--save", "--save does not combine with --summary")
    if len(args.sources) > 1:
        raise InputFileError(args.sources[1], "--save takes one source at a time")
    if args.amends and not args.sign:
        raise InputFileError("--amends", "an amendment is signed: add --pdf OUT --sign KEY")
    if args.amends and not (args.reason or "").strip():
        raise InputFileError("--amends", "say why with --reason")


# -- records, audit, users ------------------------------------------------------------------

def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``records``, ``audit`` or ``users``; returns the exit status."""
    store = open_store()
    try:
        if args.command == "audit":
            if args.audit_command == "checkpoint":
                return _checkpoint(store, args)
            return _verify(store, args, out)
        if args.command == "users":
            return _users(store, args, out)
        actor = login(store, args)
        if args.records_command == "list":
            return _list(store, actor, args, out)
        if args.records_command == "show":
            return _show(store, actor, args, out)
        replaced = store.export(actor, args.record_id, Path(args.pdf), force=args.force)
        if replaced:
            print(f"ketascreen: warning: replaced the signed document {args.pdf}",
                  file=sys.stderr)
        print(f"ketascreen: wrote {args.pdf} (record {args.record_id.upper()})",
              file=sys.stderr)
        return EXIT_OK
    finally:
        store.close()


def _local(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M %z")


def _jsonable(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _list(store: RecordStore, actor: Actor, args: argparse.Namespace, out: TextIO) -> int:
    records = store.list_records(actor, day=date.today() if args.today else None,
                                 patient_id=args.patient, limit=args.limit,
                                 current_only=args.current)
    if args.json:
        out.write(json.dumps([dataclasses.asdict(r) for r in records], indent=2,
                             default=_jsonable) + "\n")
        return EXIT_OK
    if not records:
        out.write("no records\n")
        return EXIT_OK
    out.write(f"{'RECORD':16} {'STATUS':8} {'SIGNED (or stored)':22} {'PATIENT ID':14} "
              f"{'DECISION':18} PATIENT\n")
    for record in records:
        out.write(f"{record.record_id:16} {record.status:8} "
                  f"{_local(record.signed_at or record.created_at):22} "
                  f"{record.patient.patient_id:14} {record.decision:18} "
                  f"{record.patient.name}{_links(record)}\n")
    return EXIT_OK


def _links(record: RecordSummary) -> str:
    text = ""
    if record.amends:
        text += f"  [amends {record.amends}]"
    if record.superseded_by:
        text += f"  [SUPERSEDED by {record.superseded_by}]"
    return text


def _show(store: RecordStore, actor: Actor, args: argparse.Namespace, out: TextIO) -> int:
    stored = store.get(actor, args.record_id)
    events = store.events(actor, stored.record_id)
    if args.json:
        data = dataclasses.asdict(stored)
        data["case"] = json.loads(data.pop("case_json"))
        data["result"] = json.loads(data.pop("result_json"))
        data["events"] = [dataclasses.asdict(e) for e in events]
        out.write(json.dumps(data, indent=2, default=_jsonable, ensure_ascii=False) + "\n")
        return EXIT_OK
    out.write(_describe(stored) + "\nAudit events:\n")
    for event in events:
        flag = "" if event.outcome == "ok" else " REFUSED"
        out.write(f"  #{event.seq} {event.occurred_at} {event.action}{flag} by "
                  f"{event.username} ({event.role or '-'})\n")
    return EXIT_OK


def _describe(stored: StoredScreening) -> str:
    from ketascreen.models.checklist import DECISION_LABELS  # noqa: PLC0415

    result = stored.result()
    versions = stored.versions
    status = stored.status + _links(stored)
    lines = [
        f"Record:          {stored.record_id}",
        f"Status:          {status}",
        f"Patient:         {stored.patient.name} ({stored.patient.patient_id}), born "
        f"{stored.patient.birth_date.isoformat()}",
        f"Screening date:  {stored.screening_date.isoformat()}",
        f"Decision:        {DECISION_LABELS[stored.decision][0]}",
        f"Stored:          {_local(stored.created_at)} by {stored.created_by}",
    ]
    if stored.signed_at is not None:
        lines.append(f"Signed:          {_local(stored.signed_at)} by {stored.signed_by} "
                     f"(certificate: {stored.signer_name})")
        lines.append(f"Certificate:     sha256 {stored.signer_certificate_sha256 or '-'}")
        lines.append(f"Document:        sha256 {stored.document_sha256}, "
                     f"{stored.document_size} bytes")
    if stored.amendment_reason:
        lines.append(f"Amendment reason: {stored.amendment_reason}")
    lines += [
        f"Rule set:        {versions.ruleset_version} sha256 {versions.ruleset_sha256}",
        f"Clinic policy:   {versions.policy_version} sha256 {versions.policy_sha256}",
        f"Formulary:       {versions.formulary_version} sha256 {versions.formulary_sha256}",
        f"Findings ({len(result.findings)}):",
        *(f"  {f.severity.upper():8} {f.rule_id}  {f.title}"
          + ("  [acknowledged]" if f.acknowledged else "") for f in result.findings),
    ]
    return "\n".join(lines)


def _anchor(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    number, _, digest = text.partition(":")
    if not number.isdigit() or len(digest) != 64:
        if Path(text).is_file():
            return None  # a checkpoint file: see _checkpoints
        raise InputFileError("--expect-head", f"{text!r} is not N:SHA256 (an event number, "
                             "a colon and 64 hex digits) nor a checkpoint file")
    return int(number), digest


def _checkpoints(args: argparse.Namespace) -> list[tuple[Checkpoint, str]]:
    """The signed checkpoints named by ``--checkpoint`` (and a file given as --expect-head)."""
    from ketascreen.records.checkpoint import read_checkpoint  # noqa: PLC0415

    paths = list(args.checkpoint)
    if args.expect_head is not None and _anchor(args.expect_head) is None:
        paths.append(args.expect_head)
    found = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise InputFileError(path, f"cannot be read: {error.strerror}") from None
        found.append((read_checkpoint(data, path=path), path))
    return found


def _checkpoint(store: RecordStore, args: argparse.Namespace) -> int:
    from ketascreen.records.audit import timestamp  # noqa: PLC0415
    from ketascreen.records.checkpoint import write_checkpoint  # noqa: PLC0415
    from ketascreen.reports.output import write_atomically  # noqa: PLC0415

    actor = login(store, args)
    passphrase = _read_secret_bytes(args.passphrase_file, "passphrase")
    try:
        key = Path(args.sign).read_bytes()
    except OSError as error:
        raise InputFileError(args.sign, f"cannot be read: {error.strerror}") from None
    write_checkpoint(seq=0, sha256="0" * 64, database="", created_at="", created_by="",
                     pkcs12=key, passphrase=passphrase, key_path=args.sign)  # the key opens
    seq, digest = store.checkpoint(actor)
    data = write_checkpoint(seq=seq, sha256=digest, database=store.database.name,
                            created_at=timestamp(), created_by=actor.username, pkcs12=key,
                            passphrase=passphrase, key_path=args.sign)
    write_atomically(Path(args.output), data, force=args.force)
    print(f"ketascreen: wrote {args.output}: signed checkpoint of event {seq} sha256 {digest}; "
          "keep it off this computer and check the trail with `ketascreen audit verify "
          f"--checkpoint {args.output}`", file=sys.stderr)
    return EXIT_OK


def _verify(store: RecordStore, args: argparse.Namespace, out: TextIO) -> int:
    checkpoints = _checkpoints(args)
    heads = tuple((c.seq, c.sha256, f"the checkpoint {path} (signed by {c.signer}, "
                   f"certificate sha256 {c.certificate_sha256[:16]}..., {c.created_at})")
                  for c, path in checkpoints)
    report = store.verify_audit(records=not args.chain_only, anchor=_anchor(args.expect_head),
                                heads=heads)
    lines = [f"Database:        {store.database.name}"]
    if report.broken_at is not None:
        lines.append(f"Audit trail:     BROKEN at event {report.broken_at}: {report.reason}")
        lines.append(f"                 ({report.events} events read; the first broken link "
                     "is named)")
    else:
        lines.append(f"Audit trail:     {report.events} events, every link verifies")
        lines.append(f"Head:            event {report.events} sha256 {report.head_hash}")
    if report.anchor_problem:
        lines.append(f"Expected head:   NOT FOUND: {report.anchor_problem}")
    if report.broken_at is None and not args.chain_only:
        if report.record_problems:
            lines += [f"Record {record_id}: {problem}"
                      for record_id, problem in report.record_problems]
        else:
            lines.append(f"Signed records:  {report.records_checked} checked, each matches "
                         "the hashes recorded when it was signed")
        if report.row_problems:
            lines += [f"Row {problem}" for problem in report.row_problems]
        else:
            lines.append(f"Rows:            {report.rows_checked} checked (accounts, patients, "
                         "screenings, documents, certificates, settings, clinic files), each "
                         "matches the hash its last audit event recorded")
    lines += [f"Checkpoint:      {path}: event {c.seq} sha256 {c.sha256}, signed by "
              f"{c.signer} (certificate sha256 {c.certificate_sha256})"
              for c, path in checkpoints]
    lines += [f"Noted head:      NOT IN THE TRAIL: {problem}" for problem in report.head_problems]
    lines.append("RESULT: " + ("VERIFIED" if report.ok else "NOT VERIFIED"))
    out.write("\n".join(lines) + "\n")
    return EXIT_OK if report.ok else EXIT_BROKEN


def _certificate_file(args: argparse.Namespace) -> CertificateFacts:
    """The certificate of ``args.certificate`` (with ``--passphrase-file`` for a .p12).

    Raises:
        InputFileError: the file cannot be read.
        SigningError: it is not a certificate or a key store that opens.
    """
    from ketascreen.reports.signing import read_certificate  # noqa: PLC0415

    try:
        data = Path(args.certificate).read_bytes()
    except OSError as error:
        raise InputFileError(args.certificate, f"cannot be read: {error.strerror}") from None
    passphrase = (_read_secret_bytes(args.passphrase_file, "passphrase")
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
                  f"{_local(info.registered_at)} by {info.registered_by})\n")
    return EXIT_OK


def _users(store: RecordStore, args: argparse.Namespace, out: TextIO) -> int:
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
                          role=args.role, password=_new_password(args))
    note = " (the first account)" if first else ""
    print(f"ketascreen: added {info.role.value} {info.username}{note}", file=sys.stderr)
    if certificate is not None:
        assert actor is not None  # the first account is an admin, without a certificate
        _register(store, actor, info.username, certificate)
    return EXIT_OK
