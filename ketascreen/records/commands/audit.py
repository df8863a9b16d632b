"""``audit verify`` and ``audit checkpoint``: the hash chain and the signed records checked, and
signed checkpoints of the trail's head written to keep elsewhere."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ketascreen.errors import InputFileError
from ketascreen.records.commands.session import EXIT_BROKEN, EXIT_OK, login
from ketascreen.secretfile import read_secret

if TYPE_CHECKING:
    from ketascreen.records.checkpoint import Checkpoint
    from ketascreen.records.repository import RecordStore


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


def checkpoint(store: RecordStore, args: argparse.Namespace) -> int:
    """`audit checkpoint`: a signed checkpoint of the trail's head, written atomically."""
    from ketascreen.records.audit import timestamp  # noqa: PLC0415
    from ketascreen.records.checkpoint import write_checkpoint  # noqa: PLC0415
    from ketascreen.reports.output import write_atomically  # noqa: PLC0415

    actor = login(store, args)
    passphrase = read_secret(args.passphrase_file, "passphrase")
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


def verify(store: RecordStore, args: argparse.Namespace, out: TextIO) -> int:
    """`audit verify`: exit 0 when the trail, the signed records and the rows verify, else 1."""
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
