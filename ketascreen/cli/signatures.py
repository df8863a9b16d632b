"""`ketascreen keygen` and `ketascreen verify`: trial signing keys, and the verification of a
signed checklist (trust from the records' registered certificates and the trust bundles)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from ketascreen.cli.common import (
    ENV_TRUST,
    EXIT_NOT_VALID,
    EXIT_OK,
    EXIT_UNTRUSTED,
    records_database_exists,
)
from ketascreen.errors import InputFileError, KetascreenError
from ketascreen.secretfile import read_secret


def keygen(args: argparse.Namespace) -> int:
    """`ketascreen keygen`: a self-signed trial key store and its certificate."""
    from ketascreen.reports.files import write_atomically  # noqa: PLC0415
    from ketascreen.reports.keys import generate_self_signed  # noqa: PLC0415
    from ketascreen.visible import checked_visible  # noqa: PLC0415

    # The signer's name is printed on every checklist: NFC, visible letters, nothing invisible.
    name = checked_visible(args.name, field="--name")
    credentials = checked_visible(args.credentials, field="--credentials") if args.credentials \
        else ""
    passphrase = read_secret(args.passphrase_file, "passphrase")
    out = Path(args.out)
    pair = generate_self_signed(name, passphrase, credentials=credentials,
                                key_type=args.key_type)
    certificate = out.with_suffix(".pem")
    write_atomically(out, pair.pkcs12, force=args.force)
    write_atomically(certificate, pair.certificate_pem, force=args.force)
    print(f"wrote {out} and {certificate} (self-signed trial certificate for {name}; "
          "clinics sign with CA-issued certificates)")
    return EXIT_OK


_CHANGES = {"NONE": "nothing", "LTA_UPDATES": "validation data only",
            "FORM_FILLING": "a signature field filled (the countersignature)",
            "ANNOTATIONS": "annotations (not permitted)", "OTHER": "the content (not permitted)"}
"""What changed after a signature, in words, by pyHanko's modification level."""


def verify(args: argparse.Namespace, out: TextIO) -> int:
    """Verify every signature of a checklist; trust from the records and the trust bundles."""
    from ketascreen.reports.verification import trust_bundle, verify_pdf  # noqa: PLC0415

    paths = [*(p for p in os.environ.get(ENV_TRUST, "").split(os.pathsep) if p), *args.trust]
    try:
        data = Path(args.pdf).read_bytes()
        bundles = [(path, Path(path).read_bytes()) for path in paths]
    except OSError as error:
        raise InputFileError(error.filename or args.pdf, f"cannot be read: {error.strerror}"
                             ) from None
    anchors = trust_bundle(bundles)
    with _registered_signers() as registered:
        report = verify_pdf(data, trust_pem=anchors or None, registered=registered)
    verdict = report.status
    if report.status == "UNTRUSTED":
        verdict = f"UNTRUSTED: {report.trust}"
    elif report.status in ("INVALID", "NOT SIGNED") and report.problems:
        verdict = f"{report.status}: {report.problems[0]}"
    if args.json:
        out.write(json.dumps({**dataclasses.asdict(report), "ok": report.ok, "verdict": verdict},
                             indent=2) + "\n")
    else:
        yes_no = {True: "yes", False: "no", None: "unknown"}
        lines = [f"File:               {args.pdf}", f"Signed:             {yes_no[report.signed]}"]
        for number, check in enumerate(report.signatures, start=1):
            lines += [
                f"Signature {number} ({check.field}):",
                f"  Signer (certificate name): {check.signer or '-'}",
                f"  Meaning:             {check.meaning or '-'}",
                f"  Certificate sha256:  {check.certificate_sha256 or '-'}",
                f"  Signing time:        {check.signing_time or '-'}",
                f"  Signed bytes intact: {yes_no[check.intact]}",
                f"  Signature valid:     {yes_no[check.valid]}",
                f"  Trust:               {check.trust}",
                f"  Coverage:            {check.coverage or '-'}",
                f"  Changed after it:    {_CHANGES.get(check.modification or '', '-')}",
            ]
        lines += [
            f"Changed after signing: {yes_no[report.modified_after_signing]}",
            f"Embedded record sha256: {report.record_sha256 or '-'}",
            *(f"PROBLEM: {p}" for p in report.problems),
            f"RESULT: {verdict}",
        ]
        out.write("\n".join(lines) + "\n")
    if report.ok:
        return EXIT_OK
    return EXIT_UNTRUSTED if report.status == "UNTRUSTED" else EXIT_NOT_VALID


@contextlib.contextmanager
def _registered_signers() -> Iterator[Callable[[str], str | None] | None]:
    """Who a signing certificate is registered to in the records (read-only, no login), when a
    records database is configured (``$KETASCREEN_DATABASE_URL``) or exists in the data folder;
    ``None`` when there is none. A database that cannot be read is said on stderr."""
    if not records_database_exists():
        yield None
        return
    from ketascreen.records.certificates import registered_owner  # noqa: PLC0415
    from ketascreen.records.repository import RecordStore  # noqa: PLC0415

    try:
        store = RecordStore.open()
    except KetascreenError as error:
        print(f"ketascreen: the records were not consulted for registered signers: {error}",
              file=sys.stderr)
        yield None
        return
    failed: list[str] = []

    def lookup(fingerprint: str) -> str | None:
        try:
            return registered_owner(store, fingerprint)
        except KetascreenError as error:
            failed.append(str(error))
            return None

    try:
        yield lookup
    finally:
        store.close()
        for message in failed[:1]:
            print(f"ketascreen: the records were not consulted for registered signers: "
                  f"{message}", file=sys.stderr)
