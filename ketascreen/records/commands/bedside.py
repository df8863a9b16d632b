"""``ketascreen records double-check`` and ``ketascreen records countersign``: the bedside on the
command line (:mod:`ketascreen.records.bedside`).

``double-check RECORD --entries ENTRIES.json --witness NAME``: the checking nurse (``--user``)
and the witness each authenticate (``--password-file`` / ``--witness-password-file``, or
prompts); ENTRIES.json holds what she has in hand::

    {"identifiers": [["name", "Alex Rivera"], ["birth-date", "1979-05-14"]],
     "vial_concentration": "50", "volume_drawn": "0.66", "diluent_volume": "100",
     "pump_rate": "151", "vtbi": "100.6"}

(plain numbers in mg/mL, mL, mL, mL/h, mL, or quantities with a unit). Each item's result is
printed; a mismatch names the items and what she entered (never the order's values: she checks
again what she has in hand), exit status 1. An override: ``--override-reason TEXT
--override-nurse NAME`` (and ``--override-password-file`` or a prompt).

``countersign RECORD --sign KEY.p12 --passphrase-file F --out OUT.pdf [--register]``: after her
double check matched (or was overridden), the stored physician-signed checklist is countersigned
with her key store, stored as a new document, and written to OUT.pdf.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ketascreen import secretfile
from ketascreen.errors import AuthenticationFailedError, FieldProblem, InputFileError
from ketascreen.records.commands.session import ENV_USER, EXIT_BROKEN, EXIT_OK, read_secret

if TYPE_CHECKING:
    from ketascreen.doublecheck import BedsideEntries
    from ketascreen.records.bedside import DoubleCheckRecord
    from ketascreen.records.repository import RecordStore

EXIT_MISMATCH = EXIT_BROKEN
"""A double check that did not match the order (nothing refused: check again)."""


def add_bedside_parsers(actions: argparse._SubParsersAction[argparse.ArgumentParser]
                        ) -> list[argparse.ArgumentParser]:
    """``records double-check`` and ``records countersign``; returns them (for the login
    options)."""
    check = actions.add_parser(
        "double-check", help="the blinded independent bedside double check of a signed "
        "checklist (a nurse; exit 1 on a mismatch)")
    check.add_argument("record_id", metavar="ID")
    check.add_argument("--entries", required=True, metavar="ENTRIES.json",
                       help="what you have in hand: identifiers, vial_concentration, "
                       "volume_drawn, diluent_volume, pump_rate, vtbi")
    check.add_argument("--witness", required=True, metavar="NAME",
                       help="user name of the clinician who prepared and programmed the pump")
    check.add_argument("--witness-password-file", metavar="FILE",
                       help="file holding the witness's password (instead of the prompt)")
    check.add_argument("--override-reason", metavar="TEXT",
                       help="give it although an item differs: why (needs --override-nurse)")
    check.add_argument("--override-nurse", metavar="NAME",
                       help="user name of the second nurse who approves the override")
    check.add_argument("--override-password-file", metavar="FILE",
                       help="file holding the second nurse's password (instead of the prompt)")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    sign = actions.add_parser(
        "countersign", help="countersign a checklist after your double check (a nurse)")
    sign.add_argument("record_id", metavar="ID")
    sign.add_argument("--sign", required=True, metavar="KEY.p12", help="your key store")
    sign.add_argument("--passphrase-file", required=True, metavar="FILE",
                      help="file holding the key store's passphrase")
    sign.add_argument("--out", required=True, metavar="OUT.pdf",
                      help="where to write the countersigned checklist")
    sign.add_argument("--register", action="store_true",
                      help="register the key store's certificate to your account (it must "
                      "name you, and be nobody else's)")
    sign.add_argument("--force", action="store_true", help="replace an existing file")
    return [check, sign]


def _password(path: str | None, prompt: str) -> str:
    return read_secret(path, "password") if path else getpass.getpass(prompt)


def _entries(path: str) -> BedsideEntries:
    """The entries file, parsed (its problems named by field).

    Raises:
        InputFileError: not readable, or not a JSON object of the expected form.
        DoubleCheckEntryError: a field cannot be read.
    """
    from ketascreen.doublecheck import parse_entries  # noqa: PLC0415
    from ketascreen.errors import DoubleCheckEntryError  # noqa: PLC0415

    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InputFileError(path, f"cannot be read: {error.strerror}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise InputFileError(path, f"is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise InputFileError(path, "must be a JSON object")
    raw = data.pop("identifiers", [])
    identifiers: list[tuple[str, str]] = []
    problems: list[FieldProblem] = []
    for index, given in enumerate(raw if isinstance(raw, list) else []):
        pair = [given.get("kind"), given.get("value")] if isinstance(given, dict) else given
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(p, str) for p in pair)):
            problems.append(FieldProblem(f"identifiers[{index}]", "must be [kind, value]"))
            continue
        identifiers.append((pair[0], pair[1]))
    if not isinstance(raw, list):
        problems.append(FieldProblem("identifiers", "must be a list of [kind, value]"))
    fields = {key: value if isinstance(value, str) else str(value)
              for key, value in data.items() if value is not None}
    try:
        entries = parse_entries(identifiers, fields)
    except DoubleCheckEntryError as error:
        raise DoubleCheckEntryError((*problems, *error.problems)) from None
    if problems:
        raise DoubleCheckEntryError(tuple(problems))
    return entries


def double_check(store: RecordStore, args: argparse.Namespace, out: TextIO) -> int:
    """``records double-check``: exit 0 on a match or an override, 1 on a mismatch."""
    from ketascreen.records.bedside import Override  # noqa: PLC0415

    username = args.user or os.environ.get(ENV_USER)
    if not username:
        raise AuthenticationFailedError("", f"name the user with --user or {ENV_USER}")
    entries = _entries(args.entries)
    password = _password(args.password_file, f"ketascreen password for {username}: ")
    actor = store.authenticate(username, password)
    witness_password = _password(args.witness_password_file,
                                 f"password of the witness {args.witness}: ")
    override = None
    if args.override_reason is not None or args.override_nurse is not None:
        nurse = args.override_nurse or ""
        override = Override(args.override_reason or "", nurse, _password(
            args.override_password_file, f"password of the second nurse {nurse}: ")
            if nurse else "")
    record = store.perform_double_check(actor, args.record_id, password=password,
                                       witness=args.witness, witness_password=witness_password,
                                       entries=entries, override=override)
    _print(record, args.json, out)
    return EXIT_OK if record.result != "mismatch" else EXIT_MISMATCH


def _print(record: DoubleCheckRecord, as_json: bool, out: TextIO) -> None:
    blinded = record.result == "mismatch"
    items = [{"key": item.key, "item": item.item, "entered": item.entered,
              "matches": item.matches, **({} if blinded else {"ordered": item.ordered})}
             for item in record.outcome.items]
    if as_json:
        json.dump({"result": record.result, "event": record.event, "checker": record.checker,
                   "witness": record.witness, "override_by": record.override_by,
                   "items": items}, out, indent=2)
        out.write("\n")
        return
    width = max(len(item.item) for item in record.outcome.items)
    for item in record.outcome.items:
        verdict = "matches" if item.matches else "DIFFERS"
        ordered = "" if blinded else f" (order: {item.ordered})"
        out.write(f"{item.item:<{width}}  {verdict:<8} entered {item.entered}{ordered}\n")
    if record.result == "match":
        out.write(f"RESULT: MATCHES THE ORDER (event {record.event}; checked by "
                  f"{record.checker}, witness {record.witness})\n")
    elif record.result == "override":
        out.write(f"RESULT: OVERRIDDEN by {record.override_by} (event {record.event}): "
                  f"{record.reason}\n")
    else:
        names = ", ".join(item.item for item in record.outcome.mismatches)
        out.write(f"RESULT: MISMATCH: {names} (event {record.event}): check what you have in "
                  "hand and enter it again; an override needs a reason and a second nurse\n")


def countersign(store: RecordStore, args: argparse.Namespace, out: TextIO) -> int:
    """``records countersign``: countersign, store, then write the countersigned copy."""
    from ketascreen.records import bedside  # noqa: PLC0415
    from ketascreen.records.commands.session import login  # noqa: PLC0415
    from ketascreen.reports.keys import load_signer  # noqa: PLC0415
    from ketascreen.reports.output import write_atomically  # noqa: PLC0415
    from ketascreen.reports.signing import countersign_pdf  # noqa: PLC0415

    actor = login(store, args)
    record_id = args.record_id.strip().upper()
    try:
        key = Path(args.sign).read_bytes()
    except OSError as error:
        raise InputFileError(args.sign, f"cannot be read: {error.strerror}") from None
    identity = load_signer(key, secretfile.read_secret(args.passphrase_file, "passphrase"),
                           path=args.sign)
    stamp = bedside.countersign_stamp(store, actor, record_id)
    pdf = countersign_pdf(store.document(actor, record_id), identity, stamp)
    event = store.countersign(actor, record_id, pdf, register=args.register)
    replaced = write_atomically(Path(args.out), pdf, force=args.force)
    if replaced:
        print(f"ketascreen: warning: replaced the signed document {args.out}", file=sys.stderr)
    out.write(f"countersigned {record_id} as {identity.name} (event {event}); wrote {args.out}\n")
    return EXIT_OK
