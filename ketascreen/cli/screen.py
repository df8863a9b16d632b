"""`ketascreen screen`: screen case files or FHIR records with the rule set in force, print the
report, and write (and sign, and store) the checklist."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ketascreen.cli.common import (
    EXIT_INVALID_INPUT,
    EXIT_OK,
    records_database_exists,
)
from ketascreen.errors import InputFileError, KetascreenError

if TYPE_CHECKING:
    from ketascreen.models.case import Case
    from ketascreen.models.checklist import Checklist
    from ketascreen.models.course import Course
    from ketascreen.records.commands import Saver
    from ketascreen.reports.files import StagedFile
    from ketascreen.rules.engine import RuleSet
    from ketascreen.screening import Screening


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Loaded:
    """A case to screen, with the warnings of its import (if it came from FHIR)."""

    case: Case
    warnings: tuple[str, ...]
    label: str
    course: Course | None = None
    """The course when the source is a ``ketascreen-course/1`` file (its last infusion is
    screened); ``None`` for a case or a FHIR record."""


def is_course_file(path: Path) -> bool:
    """Whether ``path`` is a ``ketascreen-course/1`` file, recognised by its ``format`` key.

    Anything else, including unreadable or invalid JSON, is not: the case loader then reports
    the problem by field.
    """
    from ketascreen.models.course import COURSE_FORMAT  # noqa: PLC0415

    if not path.is_file():
        return False
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("format") == COURSE_FORMAT


def refuse_saving_a_course(args: argparse.Namespace) -> None:
    """Refuse ``--save`` of a ``ketascreen-course/1`` file, before anything is screened, stored
    or written: an infusion is stored in its course in the records (screened with what the
    records hold of it, linked to it, one signed checklist per infusion), never as a plain
    screening unlinked to any course.

    Raises:
        InputFileError: naming the course file and ``ketascreen infusion check``.
    """
    if not args.save:
        return
    for source in args.sources:
        if is_course_file(Path(source)):
            raise InputFileError(source, "is a course file: --save stores a screening, not an "
                                 "infusion of a course; store the infusion in its course with "
                                 "`ketascreen infusion check COURSE_ID INFUSION.json [--pdf "
                                 "OUT.pdf --sign KEY.p12 --passphrase-file FILE]` (the course id "
                                 "from `ketascreen course start RECORD_ID`)")


def as_of_date(text: str | None) -> date | None:
    """The date of an ``--as-of`` option (``YYYY-MM-DD``), or ``None`` when not given.

    Raises:
        InputFileError: naming ``--as-of`` when it is not such a date.
    """
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputFileError("--as-of", f"{text!r} is not a date written YYYY-MM-DD") from None


def _load(source: str, as_of: date | None) -> Loaded:
    """A case file, or a FHIR record imported as a case (with its warnings)."""
    from ketascreen.models.parsing import load_case, parse_case  # noqa: PLC0415
    from ketascreen.sources import is_fhir_source  # noqa: PLC0415

    path = Path(source)
    if is_course_file(path):
        from ketascreen.models.parsing import load_course  # noqa: PLC0415

        course = load_course(path)
        return Loaded(course.screening, (), path.name, course)
    if not is_fhir_source(path):
        return Loaded(load_case(path), (), path.name)
    from ketascreen.fhir import import_fhir  # noqa: PLC0415

    imported = import_fhir(path, as_of=as_of)
    return Loaded(parse_case(imported.case, source=source),
                  tuple(w.describe() for w in imported.warnings), imported.patient_label)


def screen(args: argparse.Namespace, *, out: TextIO) -> int:
    """`ketascreen screen`: report, JSON or summary of each source; the checklist with --pdf
    (signed with --sign); stored in the records with --save."""
    if args.sign and not args.passphrase_file:
        raise InputFileError(args.sign, "--sign needs --passphrase-file")
    if args.sign and not args.pdf:
        raise InputFileError(args.sign, "--sign needs --pdf OUT.pdf")
    if len(args.sources) > 1 and (args.json or args.pdf):
        raise InputFileError(args.sources[1], "--json and --pdf take one source at a time")
    from ketascreen.records.commands import Saver, check_save_arguments  # noqa: PLC0415

    check_save_arguments(args)
    refuse_saving_a_course(args)
    as_of = as_of_date(args.as_of)
    if args.summary:
        return _summary(args.sources, as_of, out)
    saver = Saver(args) if args.save else None
    try:
        return _screen_sources(args, as_of, saver, out)
    finally:
        if saver is not None:
            saver.close()


def _run(loaded: Loaded, rules: RuleSet) -> Screening:
    """The screening of a source: a case, or the last infusion of a course."""
    from ketascreen.screening import run, run_course  # noqa: PLC0415

    if loaded.course is not None:
        return run_course(loaded.course, rules=rules)
    return run(loaded.case, rules=rules)


def course_lines(screening: Screening) -> str:
    """The course block of the readable report of an infusion: its figures and what changed
    since the last signed checklist (empty for a first screening)."""
    course = screening.course
    if course is None:
        return ""
    figures = course.figures.summary()
    planned = f" of {figures.planned}" if figures.planned is not None else ""
    since = ("the screening" if course.last_signed == 0
             else f"infusion {course.last_signed}")
    phq9 = figures.phq9
    lines = [
        f"COURSE: infusion {course.infusion}{planned}; status {figures.status}",
        f"  days since previous: {figures.days_since_previous}; infusions in 7 days: "
        f"{figures.infusions_last_7_days}, in 30 days: {figures.infusions_last_30_days}; "
        f"ketamine before this infusion: {figures.cumulative_mg} mg",
        f"  PHQ-9 baseline {phq9.baseline}, latest {phq9.latest}, change "
        f"{phq9.change_percent} %",
        f"  protocol from: {course.protocol.source}",
        f"  changed since the last signed checklist ({since}):",
        *(f"    {c.item}: {c.state}" + (f" ({c.detail})" if c.detail else "")
          for c in course.changes),
    ]
    if course.carried_acknowledgements:
        lines.append("  acknowledgements carried over (basis unchanged): "
                     + ", ".join(course.carried_acknowledgements))
    return "\n".join(lines) + "\n"


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
    from ketascreen.screening import rule_set_in_force  # noqa: PLC0415

    if saver is None and not records_database_exists():
        return rule_set_in_force()
    # SQLAlchemy is imported only here, when there is a database to read.
    from ketascreen.records.settings import clinic_files  # noqa: PLC0415

    if saver is not None:
        return rule_set_in_force(clinic_files(saver.store))
    from ketascreen.records.repository import RecordStore  # noqa: PLC0415

    with RecordStore.open() as store:
        return rule_set_in_force(clinic_files(store))


def _screen_sources(args: argparse.Namespace, as_of: date | None, saver: Saver | None,
                    out: TextIO) -> int:
    from ketascreen.reports.text import render_report  # noqa: PLC0415

    rules = None
    for number, source in enumerate(args.sources):
        loaded = _load(source, as_of)
        rules = rules or _rule_set(saver)
        screening = _run(loaded, rules)
        if saver is not None:
            saver.check(screening)
        if args.json:
            out.write(screening.result.model_dump_json(indent=2) + "\n")
        else:
            if number:
                out.write("\n" + "=" * 96 + "\n")
            out.write(render_report(screening, import_warnings=loaded.warnings))
            out.write(course_lines(screening))
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
        result = _run(loaded, rules).result
        concepts = ", ".join(dict.fromkeys(
            f.concept for f in result.findings if f.severity != "info")) or "-"
        patient = loaded.case.patient
        out.write(f"{patient.name} ({patient.id}): {result.decision.upper()}  [{concepts}]\n")
    return status


def _stage_pdf(args: argparse.Namespace, screening: Screening,
               import_warnings: tuple[str, ...], *, audit_head: tuple[int, str] | None = None
               ) -> tuple[bytes, Checklist, StagedFile]:
    """Produce the checklist and write it to a temporary file beside ``--pdf`` (not in place:
    see :class:`~ketascreen.reports.output.StagedFile`)."""
    from ketascreen.reports.output import (  # noqa: PLC0415
        clinic_name,
        produce_checklist,
        signing_request,
        stage_file,
    )

    signing = signing_request(args.sign, args.passphrase_file) if args.sign else None
    data, checklist = produce_checklist(
        screening, page_size=args.page_size, import_warnings=import_warnings,
        clinic=clinic_name(args.clinic), signing=signing, audit_head=audit_head)
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
