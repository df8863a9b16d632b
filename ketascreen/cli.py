"""The ``ketascreen`` command line."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ketascreen import __version__
from ketascreen.errors import (
    AuditChainBrokenError,
    AuthenticationFailedError,
    CertificateNotRegisteredError,
    InputFileError,
    KetascreenError,
    KnowledgeBaseError,
    PermissionDeniedError,
    SameDaySigningError,
    StorageError,
)

if TYPE_CHECKING:
    from ketascreen.models.case import Case
    from ketascreen.models.checklist import Checklist
    from ketascreen.records.commands import Saver
    from ketascreen.reports.output import StagedFile
    from ketascreen.rules.engine import RuleSet
    from ketascreen.screening import Screening


@dataclasses.dataclass(frozen=True)
class Loaded:
    """A case to screen, with the warnings of its import (if it came from FHIR)."""

    case: Case
    warnings: tuple[str, ...]
    label: str

EXIT_OK = 0
EXIT_INVALID_INPUT = 2
EXIT_CONFIGURATION = 3
EXIT_NOT_VALID = 1
EXIT_REFUSED = 4
EXIT_UNTRUSTED = 5
"""`verify`: intact and unmodified, but a signer is not one the clinic trusts."""
ENV_TRUST = "KETASCREEN_TRUST"
"""Trust bundle(s) for `verify` (PEM files, separated by the path separator)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ketascreen",
        description="Pre-infusion safety screening for IV ketamine.")
    parser.add_argument("--version", action="version", version=f"ketascreen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    screen = commands.add_parser(
        "screen", help="screen case files or FHIR records and print the findings")
    screen.add_argument("sources", nargs="+", metavar="SOURCE",
                        help="a ketascreen-case/1 JSON file, or a FHIR R4 Bundle, resource "
                        "file or folder of resource files (one patient)")
    screen.add_argument("--summary", action="store_true",
                        help="one line per patient: name, decision, concepts")
    screen.add_argument("--as-of", metavar="YYYY-MM-DD",
                        help="screening date for FHIR sources (default: today)")
    screen.add_argument("--json", action="store_true",
                        help="print the ketascreen-result/1 JSON instead of the report")
    screen.add_argument("--pdf", metavar="OUT.pdf", help="also write the pre-infusion checklist")
    screen.add_argument("--sign", metavar="KEY.p12", help="sign the checklist with this key store")
    screen.add_argument("--passphrase-file", metavar="FILE",
                        help="file holding the key store's passphrase (never on the command line)")
    screen.add_argument("--page-size", choices=["letter", "a4"], default="letter")
    screen.add_argument("--clinic", default=None, help="clinic name printed on the checklist "
                        "(default: $KETASCREEN_CLINIC)")
    screen.add_argument("--force", action="store_true",
                        help="replace an existing output file (a signed one is reported)")
    from ketascreen.records.commands import add_parsers, add_screen_options  # noqa: PLC0415

    add_screen_options(screen)

    importer = commands.add_parser("import", help="import a FHIR R4 record as a case file")
    importer.add_argument("source", metavar="SOURCE",
                          help="a FHIR R4 Bundle, resource file or folder of resource files")
    importer.add_argument("-o", "--output", required=True, metavar="CASE.json")
    importer.add_argument("--as-of", metavar="YYYY-MM-DD",
                          help="screening date (default: today)")
    importer.add_argument("--force", action="store_true", help="replace an existing case file")

    keygen = commands.add_parser("keygen", help="make a self-signed signing key for trying the app")
    keygen.add_argument("--name", required=True, help="the signer's printed name")
    keygen.add_argument("--credentials", default="", help="e.g. MD, printed under the name")
    keygen.add_argument("--out", required=True, metavar="KEY.p12")
    keygen.add_argument("--passphrase-file", required=True, metavar="FILE")
    keygen.add_argument("--key-type", choices=["ec-p256", "rsa-2048"], default="ec-p256")
    keygen.add_argument("--force", action="store_true")

    verify = commands.add_parser("verify", help="verify a signed checklist")
    verify.add_argument("pdf", metavar="FILE.pdf")
    verify.add_argument("--trust", metavar="CERT.pem", action="append", default=[],
                        help="trust signers whose certificate is this one or is issued by "
                             "this CA (PEM, several certificates allowed; repeatable; also "
                             "$KETASCREEN_TRUST); certificates registered in the records are "
                             "trusted without it")
    verify.add_argument("--json", action="store_true")

    schema = commands.add_parser("schema", help="print a JSON Schema")
    schema.add_argument("which", choices=["case", "result"])

    gui = commands.add_parser("gui", help="open the desktop app (needs PySide6)")
    gui.add_argument("case", nargs="?", metavar="CASE.json", help="a case file to open")
    gui.add_argument("--screenshot", metavar="PNG",
                     help="render the main window with the case screened to PNG and exit")
    add_parsers(commands)
    from ketascreen.records.dbcommands import add_db_parser  # noqa: PLC0415

    add_db_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    _remove_leftovers(args)
    try:
        if args.command == "schema":
            return _schema(args.which, sys.stdout)
        if args.command == "gui":
            return _gui(args)
        if args.command == "keygen":
            return _keygen(args)
        if args.command == "verify":
            return _verify(args, sys.stdout)
        if args.command == "import":
            return _import(args)
        if args.command == "db":
            from ketascreen.records.dbcommands import run_db  # noqa: PLC0415

            return run_db(args, sys.stdout)
        if args.command in ("records", "audit", "users"):
            from ketascreen.records.commands import run  # noqa: PLC0415

            return run(args, sys.stdout)
        return _screen(args, out=sys.stdout)
    except (KnowledgeBaseError, StorageError) as error:
        print(f"ketascreen: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIGURATION
    except (PermissionDeniedError, AuthenticationFailedError, CertificateNotRegisteredError,
            SameDaySigningError) as error:
        print(f"ketascreen: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except AuditChainBrokenError as error:
        print(f"ketascreen: {error}", file=sys.stderr)
        return EXIT_NOT_VALID
    except KetascreenError as error:
        print(f"ketascreen: {error}", file=sys.stderr)
        return EXIT_INVALID_INPUT


def _remove_leftovers(args: argparse.Namespace) -> None:
    """Remove the temporary files a killed ketascreen left (they may hold patient data) from the
    data folder and from each folder this command writes to."""
    from ketascreen.tempfiles import remove_leftovers  # noqa: PLC0415

    home = os.environ.get("KETASCREEN_HOME")
    folders = [Path(home).expanduser()] if home else []
    if not home:
        import platformdirs  # noqa: PLC0415

        folders.append(platformdirs.user_data_path("ketascreen", appauthor=False))
    for option in ("pdf", "out", "output"):
        value = getattr(args, option, None)
        if isinstance(value, str) and value:
            folders.append(Path(value).expanduser().absolute().parent)
    for folder in dict.fromkeys(folders):
        remove_leftovers(folder)


def _gui(args: argparse.Namespace) -> int:
    """The desktop app, imported only here: the rest of the CLI never loads Qt."""
    try:
        from ketascreen.ui.app import run_gui  # noqa: PLC0415 - Qt only for this command
    except ImportError as error:
        print(f"ketascreen: the desktop app needs PySide6 ({error.name or error}); install "
              "pyside6-essentials and pyside6-pdf", file=sys.stderr)
        return EXIT_CONFIGURATION
    return run_gui(args.case, screenshot_path=args.screenshot)


def _read_passphrase(path: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise InputFileError(path, f"cannot read the passphrase file: {error.strerror}") from None
    passphrase = data.removesuffix(b"\n").removesuffix(b"\r")
    if not passphrase:
        raise InputFileError(path, "the passphrase file is empty")
    return passphrase


def _keygen(args: argparse.Namespace) -> int:
    from ketascreen.reports.output import write_atomically  # noqa: PLC0415
    from ketascreen.reports.signing import generate_self_signed  # noqa: PLC0415
    from ketascreen.visible import checked_visible  # noqa: PLC0415

    # The signer's name is printed on every checklist: NFC, visible letters, nothing invisible.
    name = checked_visible(args.name, field="--name")
    credentials = checked_visible(args.credentials, field="--credentials") if args.credentials \
        else ""
    passphrase = _read_passphrase(args.passphrase_file)
    out = Path(args.out)
    pair = generate_self_signed(name, passphrase, credentials=credentials,
                                key_type=args.key_type)
    certificate = out.with_suffix(".pem")
    write_atomically(out, pair.pkcs12, force=args.force)
    write_atomically(certificate, pair.certificate_pem, force=args.force)
    print(f"wrote {out} and {certificate} (self-signed trial certificate for {name}; "
          "clinics sign with CA-issued certificates)")
    return EXIT_OK


def _verify(args: argparse.Namespace, out: TextIO) -> int:
    """Verify every signature of a checklist; trust from the records and the trust bundles."""
    from ketascreen.reports.signing import trust_bundle, verify_pdf  # noqa: PLC0415

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
                f"  Certificate sha256:  {check.certificate_sha256 or '-'}",
                f"  Signing time:        {check.signing_time or '-'}",
                f"  Signed bytes intact: {yes_no[check.intact]}",
                f"  Signature valid:     {yes_no[check.valid]}",
                f"  Trust:               {check.trust}",
                f"  Coverage:            {check.coverage or '-'}",
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
    if not _records_database_exists():
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


def _schema(which: str, out: TextIO) -> int:
    from ketascreen.models.case import Case  # noqa: PLC0415
    from ketascreen.models.result import Result  # noqa: PLC0415

    model = Case if which == "case" else Result
    out.write(json.dumps(model.model_json_schema(), indent=2) + "\n")
    return EXIT_OK


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputFileError("--as-of", f"{text!r} is not a date written YYYY-MM-DD") from None


def _load(source: str, as_of: date | None) -> Loaded:
    """A case file, or a FHIR record imported as a case (with its warnings)."""
    from ketascreen.api import load_case, parse_case  # noqa: PLC0415
    from ketascreen.sources import is_fhir_source  # noqa: PLC0415

    path = Path(source)
    if not is_fhir_source(path):
        return Loaded(load_case(path), (), path.name)
    from ketascreen.fhir import import_fhir  # noqa: PLC0415

    imported = import_fhir(path, as_of=as_of)
    return Loaded(parse_case(imported.case, source=source),
                  tuple(w.describe() for w in imported.warnings), imported.patient_label)


def _screen(args: argparse.Namespace, *, out: TextIO) -> int:
    if args.sign and not args.passphrase_file:
        raise InputFileError(args.sign, "--sign needs --passphrase-file")
    if args.sign and not args.pdf:
        raise InputFileError(args.sign, "--sign needs --pdf OUT.pdf")
    if len(args.sources) > 1 and (args.json or args.pdf):
        raise InputFileError(args.sources[1], "--json and --pdf take one source at a time")
    from ketascreen.records.commands import Saver, check_save_arguments  # noqa: PLC0415

    check_save_arguments(args)
    as_of = _as_of(args.as_of)
    if args.summary:
        return _summary(args.sources, as_of, out)
    saver = Saver(args) if args.save else None
    try:
        return _screen_sources(args, as_of, saver, out)
    finally:
        if saver is not None:
            saver.close()


def _records_database_exists() -> bool:
    """Whether a records database is configured (``$KETASCREEN_DATABASE_URL``) or exists in the
    data folder (nothing is created to find out)."""
    from ketascreen.records.db import DATABASE_FILE, ENV_DATABASE_URL, data_dir  # noqa: PLC0415

    return bool(os.environ.get(ENV_DATABASE_URL)) or (data_dir() / DATABASE_FILE).exists()


def _rule_set(saver: Saver | None) -> RuleSet:
    """The rule set in force: with the clinic policy and formulary installed in the records
    database when there is one (never created just to screen), else the environment's files,
    else the shipped ones.

    Raises:
        StorageError: the records database cannot be read (a screening never silently falls
            back to another policy than the clinic's).
        ClinicFileConflictError: the database and the environment both give a file.
        KnowledgeBaseError: a data file is invalid.
    """
    from ketascreen.records.settings import clinic_files  # noqa: PLC0415
    from ketascreen.screening import rule_set_in_force  # noqa: PLC0415

    if saver is not None:
        return rule_set_in_force(clinic_files(saver.store))
    if not _records_database_exists():
        return rule_set_in_force()
    from ketascreen.records.repository import RecordStore  # noqa: PLC0415

    with RecordStore.open() as store:
        return rule_set_in_force(clinic_files(store))


def _screen_sources(args: argparse.Namespace, as_of: date | None, saver: Saver | None,
                    out: TextIO) -> int:
    from ketascreen.reports.text import render_report  # noqa: PLC0415
    from ketascreen.screening import run  # noqa: PLC0415

    rules = None
    for number, source in enumerate(args.sources):
        loaded = _load(source, as_of)
        rules = rules or _rule_set(saver)
        screening = run(loaded.case, rules=rules)
        if saver is not None:
            saver.check(screening)
        if args.json:
            out.write(screening.result.model_dump_json(indent=2) + "\n")
        else:
            if number:
                out.write("\n" + "=" * 96 + "\n")
            out.write(render_report(loaded.case, screening.result, screening.dose,
                                    import_warnings=loaded.warnings))
        signed_pdf = None
        staged = None
        if args.pdf:
            head = saver.store.audit_head() if saver is not None and args.sign else None
            data, checklist, staged = _stage_pdf(args, screening, loaded.warnings,
                                                 audit_head=head)
            signed_pdf = data if checklist.signer is not None else None
        try:
            # The record is committed first; only then does the checklist appear at its
            # destination (a crash in between leaves a temporary file the next start removes,
            # never a signed PDF without its record).
            if saver is not None:
                saver.save(screening, signed_pdf)
            if staged is not None:
                _announce_pdf(args, staged.commit(), checklist)
        finally:
            if staged is not None:
                staged.discard()
    return EXIT_OK


def _summary(sources: list[str], as_of: date | None, out: TextIO) -> int:
    """One line per source; a source that cannot be screened is reported, not fatal."""
    from ketascreen.errors import DeceasedPatientError  # noqa: PLC0415
    from ketascreen.screening import run  # noqa: PLC0415

    rules = None
    status = EXIT_OK
    for source in sources:
        try:
            loaded = _load(source, as_of)
        except DeceasedPatientError as error:
            out.write(f"{source}: REFUSED (deceased) - {error.reason}\n")
            continue
        except (KetascreenError, OSError) as error:
            out.write(f"{source}: NOT SCREENED - {error}\n")
            status = EXIT_INVALID_INPUT
            continue
        rules = rules or _rule_set(None)
        result = run(loaded.case, rules=rules).result
        concepts = ", ".join(dict.fromkeys(
            f.concept for f in result.findings if f.severity != "info")) or "-"
        patient = loaded.case.patient
        out.write(f"{patient.name} ({patient.id}): {result.decision.upper()}  [{concepts}]\n")
    return status


def _import(args: argparse.Namespace) -> int:
    from ketascreen.fhir import import_fhir  # noqa: PLC0415
    from ketascreen.reports.output import write_atomically  # noqa: PLC0415

    imported = import_fhir(Path(args.source), as_of=_as_of(args.as_of))
    data = json.dumps(imported.case, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    write_atomically(Path(args.output), data, force=args.force)
    for warning in imported.warnings:
        print(f"warning: {warning.describe()}", file=sys.stderr)
    for trace in imported.provenance:
        print(f"  {trace.describe()}", file=sys.stderr)
    print(f"ketascreen: wrote {args.output} for {imported.patient_label} "
          f"({len(imported.warnings)} warning(s)); answer the screening questions before "
          "screening", file=sys.stderr)
    return EXIT_OK


def _stage_pdf(args: argparse.Namespace, screening: Screening,
               import_warnings: tuple[str, ...], *, audit_head: tuple[int, str] | None = None
               ) -> tuple[bytes, Checklist, StagedFile]:
    """Produce the checklist and write it to a temporary file beside ``--pdf`` (not in place:
    see :class:`~ketascreen.reports.output.StagedFile`)."""
    from ketascreen.reports.output import (  # noqa: PLC0415
        DEFAULT_CLINIC,
        SigningRequest,
        produce_checklist,
        stage_file,
    )

    signing = None
    if args.sign:
        try:
            key = Path(args.sign).read_bytes()
        except OSError as error:
            raise InputFileError(args.sign, f"cannot be read: {error.strerror}") from None
        signing = SigningRequest(key, _read_passphrase(args.passphrase_file), args.sign)
    data, checklist = produce_checklist(
        screening, page_size=args.page_size, import_warnings=import_warnings,
        clinic=args.clinic or os.environ.get("KETASCREEN_CLINIC") or DEFAULT_CLINIC,
        signing=signing, audit_head=audit_head)
    return data, checklist, stage_file(Path(args.pdf), data, force=args.force)


def _announce_pdf(args: argparse.Namespace, replaced: bool, checklist: Checklist) -> None:
    if replaced:
        print(f"ketascreen: warning: replaced the signed document {args.pdf}", file=sys.stderr)
    state = f"signed by {checklist.signer.name}" if checklist.signer else "NOT signed"
    print(f"ketascreen: wrote {args.pdf} ({state}; record {checklist.record_id})",
          file=sys.stderr)
    if checklist.audit_head is not None:
        print(f"ketascreen: audit trail head at signing: event {checklist.audit_head[0]} "
              f"sha256 {checklist.audit_head[1]} (embedded in the signed checklist)",
              file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
