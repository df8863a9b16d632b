"""The ``ketascreen`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from ketascreen import __version__
from ketascreen.errors import CaseValidationError, KnowledgeBaseError

EXIT_OK = 0
EXIT_INVALID_INPUT = 2
EXIT_CONFIGURATION = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ketascreen",
        description="Pre-infusion safety screening for IV ketamine.")
    parser.add_argument("--version", action="version", version=f"ketascreen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    screen = commands.add_parser("screen", help="screen a case file and print the findings")
    screen.add_argument("case", help="a ketascreen-case/1 JSON file")
    screen.add_argument("--json", action="store_true",
                        help="print the ketascreen-result/1 JSON instead of the report")

    schema = commands.add_parser("schema", help="print a JSON Schema")
    schema.add_argument("which", choices=["case", "result"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "schema":
            return _schema(args.which, sys.stdout)
        return _screen(args.case, as_json=args.json, out=sys.stdout)
    except CaseValidationError as error:
        print(f"ketascreen: {error}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    except KnowledgeBaseError as error:
        print(f"ketascreen: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIGURATION


def _schema(which: str, out: TextIO) -> int:
    from ketascreen.models.case import Case  # noqa: PLC0415
    from ketascreen.models.result import Result  # noqa: PLC0415

    model = Case if which == "case" else Result
    out.write(json.dumps(model.model_json_schema(), indent=2) + "\n")
    return EXIT_OK


def _screen(path: str, *, as_json: bool, out: TextIO) -> int:
    from ketascreen.api import load_case, screen  # noqa: PLC0415
    from ketascreen.reports.text import render_report  # noqa: PLC0415

    case = load_case(path)
    result = screen(case)
    if as_json:
        out.write(result.model_dump_json(indent=2) + "\n")
    else:
        out.write(render_report(case, result))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
