"""The ``ketascreen`` command line: the parser and the dispatch to each command.

The commands live beside it: ``screen`` in :mod:`ketascreen.cli.screen`, ``keygen`` and
``verify`` in :mod:`ketascreen.cli.signatures`, ``records``/``audit``/``users`` and ``db`` in
:mod:`ketascreen.records`.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from ketascreen import __version__
from ketascreen.cli.common import (
    ENV_TRUST,
    EXIT_CONFIGURATION,
    EXIT_INVALID_INPUT,
    EXIT_NOT_VALID,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNTRUSTED,
)
from ketascreen.cli.screen import as_of_date, screen
from ketascreen.cli.signatures import keygen, verify
from ketascreen.errors import (
    AuditChainBrokenError,
    AuthenticationFailedError,
    CertificateNotRegisteredError,
    CountersignRefusedError,
    DoubleCheckRefusedError,
    KetascreenError,
    KnowledgeBaseError,
    OrderNotRederivableError,
    PermissionDeniedError,
    SameDaySigningError,
    StorageError,
)

__all__ = ["ENV_TRUST", "EXIT_CONFIGURATION", "EXIT_INVALID_INPUT", "EXIT_NOT_VALID", "EXIT_OK",
           "EXIT_REFUSED", "EXIT_UNTRUSTED", "main", "run"]


_CORE_COMMANDS = frozenset({"screen", "import", "keygen", "verify", "schema", "gui"})
"""The commands defined here; the records' commands (``records``, ``audit``, ``users``,
``course``, ``infusion``, ``db``) are added by :mod:`ketascreen.records`."""


def _parser(*, records: bool = True) -> argparse.ArgumentParser:
    """The command line's parser; without ``records``, only the commands defined here (what
    the records add is a few milliseconds of argparse a core command does not need)."""
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
    schema.add_argument("which", choices=["case", "course", "result"])

    gui = commands.add_parser("gui", help="open the desktop app (needs PySide6)")
    gui.add_argument("case", nargs="?", metavar="CASE.json", help="a case file to open")
    gui.add_argument("--screenshot", metavar="PNG",
                     help="render the main window with the case screened to PNG and exit")
    if not records:
        return parser
    add_parsers(commands)
    from ketascreen.records.dbcommands import add_db_parser  # noqa: PLC0415

    add_db_parser(commands)
    return parser


_GC_PAUSED_COMMANDS = frozenset({"screen", "schema", "verify", "keygen"})
"""Commands that run with the cyclic garbage collector paused: short runs whose start-up (the
imports, the data files) allocates many long-lived objects and frees almost no cycles, so every
collection during it is wasted work. The records commands (which may walk a whole database) and
the FHIR import keep it running."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    The garbage collector is paused during the short commands (:data:`_GC_PAUSED_COMMANDS`) and
    restored afterwards. At interpreter exit (after any command but ``gui``) everything still
    alive is frozen first, so the final collections do not walk the whole heap only to free
    what the process is about to release anyway. Neither changes what a command prints or
    writes.
    """
    arguments = sys.argv[1:] if argv is None else list(argv)
    # A core command is parsed without the records' commands; anything else (a records command,
    # --help, --version, a mistake) with all of them, so listings and errors name every command.
    core = bool(arguments) and arguments[0] in _CORE_COMMANDS
    args = _parser(records=not core).parse_args(arguments)
    if args.command != "gui":  # the app manages its own collector
        _freeze_at_exit()
    if args.command not in _GC_PAUSED_COMMANDS or not gc.isenabled():
        return _dispatch(args)
    gc.disable()
    try:
        return _dispatch(args)
    finally:
        gc.enable()


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """The ``ketascreen`` command: :func:`main`, then the process ends with its exit status.

    After a short command (:data:`_GC_PAUSED_COMMANDS`) that left no other thread running, the
    process ends without the interpreter's teardown of every module and object (~15 ms that
    free memory the operating system takes back anyway): stdout and stderr are flushed and the
    ``atexit`` handlers run first, as at a normal exit; whatever a command writes to a file it
    has already written, flushed and closed. Otherwise, and when flushing fails (a closed pipe,
    reported as usual), it exits normally.
    """
    arguments = sys.argv[1:] if argv is None else list(argv)
    status = main(arguments)
    if arguments and arguments[0] in _GC_PAUSED_COMMANDS and threading.active_count() == 1:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            sys.exit(status)
        atexit._run_exitfuncs()
        os._exit(status)
    sys.exit(status)


_exit_hook: list[bool] = []


def _freeze_at_exit() -> None:
    """At interpreter exit, move every object still alive to the collector's permanent
    generation (:func:`gc.freeze`) so the final collections skip them (registered once)."""
    if not _exit_hook:
        _exit_hook.append(True)
        atexit.register(gc.freeze)


def _dispatch(args: argparse.Namespace) -> int:
    """The command's handler, with the errors every command shares turned into exit statuses."""
    _remove_leftovers(args)
    try:
        if args.command == "schema":
            return _schema(args.which, sys.stdout)
        if args.command == "gui":
            return _gui(args)
        if args.command == "keygen":
            return keygen(args)
        if args.command == "verify":
            return verify(args, sys.stdout)
        if args.command == "import":
            return _import(args)
        if args.command == "db":
            from ketascreen.records.dbcommands import run_db  # noqa: PLC0415

            return run_db(args, sys.stdout)
        if args.command in ("records", "audit", "users", "course", "infusion"):
            from ketascreen.records.commands import run  # noqa: PLC0415

            return run(args, sys.stdout)
        return screen(args, out=sys.stdout)
    except (KnowledgeBaseError, StorageError) as error:
        print(f"ketascreen: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIGURATION
    except (PermissionDeniedError, AuthenticationFailedError, CertificateNotRegisteredError,
            SameDaySigningError, DoubleCheckRefusedError, CountersignRefusedError,
            OrderNotRederivableError) as error:
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


def _schema(which: str, out: TextIO) -> int:
    from pydantic import BaseModel  # noqa: PLC0415

    from ketascreen.models.case import Case  # noqa: PLC0415
    from ketascreen.models.course import Course  # noqa: PLC0415
    from ketascreen.models.result import Result  # noqa: PLC0415

    models: dict[str, type[BaseModel]] = {"case": Case, "course": Course, "result": Result}
    model = models[which]
    out.write(json.dumps(model.model_json_schema(), indent=2) + "\n")
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    from ketascreen.fhir import import_fhir  # noqa: PLC0415
    from ketascreen.reports.files import write_atomically  # noqa: PLC0415

    imported = import_fhir(Path(args.source), as_of=as_of_date(args.as_of))
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
