"""``course start|show|export`` and ``infusion check|record``: courses of infusions in the
records, as the logged-in user."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ketascreen.errors import InputFileError
from ketascreen.records.commands.session import EXIT_OK, local_time

if TYPE_CHECKING:
    from ketascreen.course.scores import ScoreProvenance
    from ketascreen.records.courseviews import CourseView
    from ketascreen.records.repository import RecordStore
    from ketascreen.records.users import Actor


def add_course_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser],
                       add_login_options: Any) -> None:
    """Register ``course`` and ``infusion``."""
    course = commands.add_parser("course", help="courses of infusions in the records")
    actions = course.add_subparsers(dest="course_command", required=True, metavar="ACTION")
    start = actions.add_parser("start", help="start a course after a signed screening "
                               "(physician)")
    start.add_argument("record_id", metavar="RECORD_ID")
    start.add_argument("--plan", nargs=2, type=int, metavar=("INFUSIONS", "WEEKS"),
                       help="the infusions and weeks the clinic plans")
    show = actions.add_parser("show", help="a course: each infusion's state and the course "
                              "figures")
    show.add_argument("course_id", metavar="ID")
    show.add_argument("--json", action="store_true")
    export = actions.add_parser("export", help="write a course as a ketascreen-course/1 file "
                                "(-o) or its scores and vital signs as a FHIR R4 Bundle (--fhir)")
    export.add_argument("course_id", metavar="ID")
    target = export.add_mutually_exclusive_group(required=True)
    target.add_argument("-o", "--output", metavar="COURSE.json")
    target.add_argument("--fhir", metavar="OUT.json",
                        help="PHQ-9 and GAD-7 (QuestionnaireResponse and Observation) and the "
                        "vital signs (Observation) as a FHIR R4 Bundle, in the clinic's zone")
    export.add_argument("--force", action="store_true", help="replace an existing file")

    infusion = commands.add_parser("infusion", help="an infusion of a course in the records")
    steps = infusion.add_subparsers(dest="infusion_command", required=True, metavar="ACTION")
    check = steps.add_parser("check", help="store an infusion's day-of check with its "
                             "screening: a draft, or signed with --pdf and --sign (physician)")
    check.add_argument("course_id", metavar="COURSE_ID")
    check.add_argument("infusion", metavar="INFUSION.json",
                       help="the infusion object of ketascreen-course/1 (number, start, pre, "
                       "dose, acknowledgements)")
    check.add_argument("--pdf", metavar="OUT.pdf", help="write the infusion's checklist")
    check.add_argument("--sign", metavar="KEY.p12",
                       help="sign the checklist (with --pdf) and store the infusion signed")
    check.add_argument("--passphrase-file", metavar="FILE",
                       help="file holding the key store's passphrase")
    check.add_argument("--force", action="store_true", help="replace an existing --pdf")
    check.add_argument("--scores-from", action="append", default=[], metavar="FHIR_SOURCE",
                       help="fill pre.phq9 / pre.gad7 with the latest PHQ-9 and GAD-7 of a FHIR "
                       "record taken on the start date or the 7 days before (repeatable); the "
                       "provenance is printed and stored in the audit trail")
    record = steps.add_parser(
        "record", help="record monitoring, rescue drugs and the discharge after an infusion "
        "(nurse); values need their units")
    record.add_argument("course_id", metavar="COURSE_ID")
    record.add_argument("number", type=int, metavar="N", help="the infusion's number")
    record.add_argument("--monitoring", metavar="FILE.json",
                        help="a list of readings, or an object with monitoring, rescue and "
                        "discharge")
    record.add_argument("--minute", type=int, help="one reading: minutes from the start")
    record.add_argument("--bp", metavar="SYS/DIA UNIT", help='e.g. "152/94 mmHg"')
    record.add_argument("--hr", metavar="RATE", help='e.g. "84 /min"')
    record.add_argument("--spo2", metavar="PERCENT", help='e.g. "97 %%"')
    record.add_argument("--moaas", type=int, metavar="0-5")
    record.add_argument("--cadss6", type=int, metavar="SCORE")
    record.add_argument("--rescue", nargs=3, action="append", default=[],
                        metavar=("DRUG", "DOSE", "MINUTE"),
                        help='a rescue drug, e.g. ondansetron "4 mg" 15 (repeatable)')
    record.add_argument("--discharge", nargs=3, metavar=("MINUTE", "ALDRETE", "ESCORT"),
                        help="the discharge, e.g. 90 10 yes")
    for parser in (start, show, export, check, record):
        add_login_options(parser)


def run_course_command(store: RecordStore, actor: Actor, args: argparse.Namespace,
                       out: TextIO) -> int:
    """Run ``course ...`` or ``infusion ...``; returns the exit status."""
    if args.command == "course":
        if args.course_command == "start":
            view = store.start_course(actor, args.record_id,
                                      plan=tuple(args.plan) if args.plan else None)
            print(f"ketascreen: started course {view.course_id} after {view.screening_record}",
                  file=sys.stderr)
            out.write(view.course_id + "\n")
            return EXIT_OK
        if args.course_command == "show":
            view = store.course(actor, args.course_id)
            if args.json:
                out.write(json.dumps(view.as_json(), indent=2, ensure_ascii=False) + "\n")
            else:
                out.write(describe(view))
            return EXIT_OK
        if args.fhir:
            from ketascreen.records.course_export import export_course_fhir  # noqa: PLC0415

            output = args.fhir
            replaced = export_course_fhir(store, actor, args.course_id, Path(output),
                                          force=args.force)
        else:
            output = args.output
            replaced = store.export_course(actor, args.course_id, Path(output),
                                           force=args.force)
        if replaced:
            print(f"ketascreen: warning: replaced {output}", file=sys.stderr)
        what = "FHIR R4 Bundle of course" if args.fhir else "course"
        print(f"ketascreen: wrote {output} ({what} {args.course_id.upper()})",
              file=sys.stderr)
        return EXIT_OK
    if args.infusion_command == "check":
        return check(store, actor, args, out)
    monitoring, rescue, discharge = entries_of(args)
    findings = store.record_after_infusion(actor, args.course_id, args.number,
                                           monitoring=monitoring, rescue=rescue,
                                           discharge=discharge)
    for finding in findings:
        out.write(f"FINDING {finding.describe()}\n")
    print(f"ketascreen: recorded after infusion {args.number} of {args.course_id.upper()} "
          f"({len(findings)} finding(s))", file=sys.stderr)
    return EXIT_OK


def check(store: RecordStore, actor: Actor, args: argparse.Namespace, out: TextIO) -> int:
    """``infusion check``: screen the infusion in its stored course; with ``--pdf`` write its
    checklist (signed with ``--sign``, embedding the audit head) and store it, signed when
    signed; the checklist is put in place only once the record is stored."""
    from ketascreen.reports.output import (  # noqa: PLC0415
        clinic_name,
        produce_checklist,
        signing_request,
        stage_file,
    )

    if args.sign and not args.pdf:
        raise InputFileError("--sign", "a signed checklist is written: add --pdf OUT.pdf")
    infusion = _read_json(args.infusion)
    used: list[ScoreProvenance] = []
    if args.scores_from:
        from ketascreen.records.scoreimport import (  # noqa: PLC0415
            course_patient,
            fill_infusion_scores,
        )

        infusion, used, warnings = fill_infusion_scores(
            infusion, [Path(source) for source in args.scores_from],
            patient=course_patient(store, actor, args.course_id))
        for warning in warnings:
            print(f"ketascreen: warning: {warning.describe()}", file=sys.stderr)
        for provenance in used:
            print(f"ketascreen: score {provenance.describe()}", file=sys.stderr)
    signed_pdf = None
    staged = None
    if args.pdf:
        screening = store.screen_infusion(actor, args.course_id, infusion)
        signing = None
        if args.sign:
            if not args.passphrase_file:
                raise InputFileError("--sign", "give the key's --passphrase-file")
            signing = signing_request(args.sign, args.passphrase_file)
        data, _ = produce_checklist(screening, signing=signing, clinic=clinic_name(),
                                    audit_head=store.audit_head() if signing else None)
        staged = stage_file(Path(args.pdf), data, force=args.force)
        signed_pdf = data if signing else None
    try:
        stored = store.check_infusion(actor, args.course_id, infusion, signed_pdf=signed_pdf)
    except BaseException:
        if staged is not None:
            staged.discard()
        raise
    if used:
        from ketascreen.records.scoreimport import record_score_provenance  # noqa: PLC0415

        record_score_provenance(store, actor, args.course_id, number=infusion["number"],
                                record_id=stored.record_id, used=used)
    if staged is not None:
        staged.commit()
        print(f"ketascreen: wrote {args.pdf}", file=sys.stderr)
    print(f"ketascreen: saved record {stored.record_id} ({stored.status}, "
          f"decision {stored.decision})", file=sys.stderr)
    out.write(stored.record_id + "\n")
    return EXIT_OK


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InputFileError(path, f"cannot be read: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputFileError(path, f"is not JSON: {error}") from None


def entries_of(args: argparse.Namespace
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any] | None]:
    """The monitoring readings, rescue drugs and discharge given by ``infusion record``'s file
    and flags (validated later by the course model, with units).

    Raises:
        InputFileError: the file is unreadable or not a list or object of those keys, a reading
            flag is given without ``--minute``, or a number is not a whole number.
    """
    monitoring: list[dict[str, Any]] = []
    rescue: list[dict[str, Any]] = []
    discharge: dict[str, Any] | None = None
    if args.monitoring:
        data = _read_json(args.monitoring)
        if isinstance(data, list):
            monitoring.extend(data)
        elif isinstance(data, dict) and set(data) <= {"monitoring", "rescue", "discharge"}:
            monitoring.extend(data.get("monitoring") or [])
            rescue.extend(data.get("rescue") or [])
            discharge = data.get("discharge")
        else:
            raise InputFileError(args.monitoring, "must be a list of readings or an object "
                                 "with monitoring, rescue and discharge")
    reading = {key: value for key, value in (
        ("blood_pressure", args.bp), ("heart_rate", args.hr), ("spo2", args.spo2),
        ("moaas", args.moaas), ("cadss6", args.cadss6)) if value is not None}
    if reading or args.minute is not None:
        if args.minute is None:
            raise InputFileError("--minute", "a reading needs its minute from the start")
        monitoring.append({"minute": args.minute, **reading})
    for drug, dose, minute in args.rescue:
        rescue.append({"drug": drug, "dose": dose, "minute": _whole(minute, "--rescue")})
    if args.discharge:
        minute, aldrete, escort = args.discharge
        discharge = {"minute": _whole(minute, "--discharge"),
                     "aldrete": _whole(aldrete, "--discharge"), "escort": escort}
    return monitoring, rescue, discharge


def _whole(text: str, option: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputFileError(option, f"{text!r} is not a whole number") from None


def describe(view: CourseView) -> str:
    """``course show`` as text: the course, a line per infusion, its findings, the figures."""
    plan = (f"{view.planned} infusions over {view.plan_weeks} weeks" if view.planned
            else "no plan")
    lines = [f"Course {view.course_id}: {view.patient_name} ({view.patient_id})",
             f"  after screening {view.screening_record}; {plan}; started "
             f"{local_time(view.created_at)} by {view.created_by}",
             f"  {'N':>2} {'STATE':10} {'START':16} {'RECORD':16} {'DECISION':18} RECORDED"]
    for infusion in view.infusions:
        record = infusion.current_record_id or "-"
        if infusion.record_id and infusion.current_record_id != infusion.record_id:
            record += " (amended)"
        recorded = (f"{infusion.monitoring} readings, {infusion.rescue} rescue"
                    + (", discharged" if infusion.discharged else "")
                    if infusion.state.value in ("infused", "discharged") else "")
        lines.append(f"  {infusion.number:>2} {infusion.state.value:10} "
                     f"{infusion.start or '-':16} {record:16} {infusion.decision or '-':18} "
                     f"{recorded}".rstrip())
        for finding in infusion.findings:
            lines.append(f"       FINDING minute {finding.get('minute')}: "
                         f"{finding.get('field')} {finding.get('value')}: "
                         f"{finding.get('limit')}")
    if view.figures:
        figures = view.figures
        phq9 = figures.get("phq9") or {}
        lines.append(
            f"  figures (infusion {figures.get('infusion')}): "
            f"{figures.get('days_since_previous')} days since the previous, "
            f"{figures.get('infusions_last_7_days')} in 7 days, "
            f"{figures.get('infusions_last_30_days')} in 30 days, "
            f"{figures.get('cumulative_mg')} mg given before; PHQ-9 baseline "
            f"{phq9.get('baseline')}, latest {phq9.get('latest')}; status "
            f"{figures.get('status')}")
    return "\n".join(lines) + "\n"
