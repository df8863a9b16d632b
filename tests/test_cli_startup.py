"""The command line's start-up: what `screen` imports, and the garbage collector around a command.

Figures are in ``bench/bench_cli.py``; these tests pin the behaviour the speed rests on (a
module not loaded, the collector's state) and that the output does not change.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ketascreen import cli
from ketascreen.api import load_case
from ketascreen.cli import main
from ketascreen.screening import rule_set_in_force, run

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("sqlalchemy", "alembic", "reportlab", "pyhanko", "cryptography", "PySide6",
         "ketascreen.records.db", "ketascreen.records.settings")


def _child(code: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "KETASCREEN_DATABASE_URL"}
    environment.update(KETASCREEN_HOME=str(home), **env)
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, cwd=REPO, env=environment)


def _loaded_after_screen(example: Path, home: Path) -> dict[str, bool]:
    return _loaded_after(["screen", str(example), "--json"], home, HEAVY)


def test_screen_without_a_database_loads_no_records_pdf_or_qt(example_case_path: Path,
                                                              tmp_path: Path) -> None:
    """With no records database (none configured, none in the data folder), `screen --json`
    never imports SQLAlchemy, the records' modules, reportlab, pyHanko or Qt."""
    loaded = _loaded_after_screen(example_case_path, tmp_path)
    assert not any(loaded.values()), loaded


def test_screen_with_a_database_still_reads_it(example_case_path: Path, tmp_path: Path) -> None:
    """The other side: when the data folder holds a database, `screen` opens it for the clinic
    files (so the probe above would see SQLAlchemy if the check were skipped)."""
    _child("from ketascreen.records.repository import RecordStore\n"
           "RecordStore.open().close()\n", tmp_path)
    assert (tmp_path / "ketascreen.sqlite3").is_file()
    loaded = _loaded_after_screen(example_case_path, tmp_path)
    assert loaded["sqlalchemy"] and loaded["ketascreen.records.settings"]


def test_screen_json_is_the_screening_of_the_case(example_case_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """What `screen --json` prints is, byte for byte, the result of screening the case."""
    assert main(["screen", str(example_case_path), "--json"]) == 0
    expected = run(load_case(example_case_path), rules=rule_set_in_force()).result
    assert capsys.readouterr().out == expected.model_dump_json(indent=2) + "\n"


def test_a_short_command_runs_with_the_collector_paused_and_restores_it(
        example_case_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`screen` runs with the cyclic collector paused; it is running again afterwards."""
    seen: list[bool] = []
    monkeypatch.setattr(cli, "screen", lambda args, out: seen.append(gc.isenabled()) or 0)
    assert gc.isenabled()
    assert main(["screen", str(example_case_path), "--json"]) == 0
    assert seen == [False]
    assert gc.isenabled()


def test_the_collector_is_restored_when_the_command_fails(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    """An input error (exit status 2) restores the collector too."""
    assert main(["screen", str(tmp_path / "nope.json")]) == 2
    assert "cannot be read" in capsys.readouterr().err
    assert gc.isenabled()


def test_a_collector_paused_by_the_caller_stays_paused(example_case_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """main() does not switch on a collector its caller had switched off."""
    monkeypatch.setattr(cli, "screen", lambda args, out: 0)
    gc.disable()
    try:
        assert main(["screen", str(example_case_path)]) == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_records_commands_keep_the_collector_running(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    """A records command (which may walk a whole database) runs with the collector on."""
    from ketascreen.records import commands

    seen: list[bool] = []
    monkeypatch.setenv("KETASCREEN_HOME", str(tmp_path))
    monkeypatch.setattr(commands, "run", lambda args, out: seen.append(gc.isenabled()) or 0)
    assert main(["audit", "verify"]) == 0
    assert seen == [True]


def test_objects_alive_at_exit_are_frozen_before_the_final_collection(tmp_path: Path) -> None:
    """A process that ran a command freezes what is alive at exit (the final collections then
    skip it); one that only imported the command line does not."""
    probe = ("import atexit, gc, contextlib, io\n"
             "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
             "from ketascreen.cli import main\n")
    ran = _child(probe + "with contextlib.redirect_stdout(io.StringIO()):\n"
                 "    main(['schema', 'case'])\n", tmp_path)
    assert ran.stdout.strip() == "frozen True"
    imported = _child(probe, tmp_path)
    assert imported.stdout.strip() == "frozen False"


def _loaded_after(argv: list[str], home: Path, names: tuple[str, ...]) -> dict[str, bool]:
    code = ("import contextlib, io, json, sys\n"
            "from ketascreen.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), "
            "contextlib.redirect_stderr(io.StringIO()):\n"
            f"    assert main({argv!r}) == 0\n"
            f"print(json.dumps({{m: m in sys.modules for m in {names!r}}}))\n")
    loaded: dict[str, bool] = json.loads(_child(code, home).stdout.splitlines()[-1])
    return loaded


PDF_AND_SCREENING = ("reportlab", "PIL", "pyhanko", "sqlalchemy", "ketascreen.screening",
                     "ketascreen.rules", "ketascreen.reports.output", "ketascreen.reports.pdf")


def test_import_writes_the_case_without_reportlab_or_the_screening(tmp_path: Path) -> None:
    """`ketascreen import` writes the case file (atomically, as before) without importing
    reportlab, the screening or the rules."""
    source = sorted((REPO.parent / "shared" / "fhir-samples" / "synthea-r4").glob("*.json"))[0]
    out = tmp_path / "case.json"
    loaded = _loaded_after(["import", str(source), "-o", str(out), "--as-of", "2026-12-01"],
                           tmp_path, PDF_AND_SCREENING)
    assert not any(loaded.values()), loaded
    assert json.loads(out.read_text(encoding="utf-8"))["patient"]


def test_keygen_writes_the_key_store_without_reportlab(tmp_path: Path) -> None:
    """`ketascreen keygen` writes its key store and certificate without reportlab or the
    screening (the checklist renderer)."""
    (tmp_path / "pass.txt").write_text("correct horse battery staple\n", encoding="utf-8")
    loaded = _loaded_after(["keygen", "--name", "Dr Jane Smith", "--out",
                            str(tmp_path / "me.p12"), "--passphrase-file",
                            str(tmp_path / "pass.txt")], tmp_path, PDF_AND_SCREENING)
    assert not any(loaded.values()), loaded
    assert (tmp_path / "me.p12").stat().st_size > 0 and (tmp_path / "me.pem").is_file()


def test_the_writer_is_the_same_from_both_modules() -> None:
    """reports.output re-exports the writer of reports.files: one class, one function."""
    from ketascreen.reports import files, output, signing

    assert output.write_atomically is files.write_atomically
    assert signing.is_signed is files.is_signed
    assert output.OutputExistsError is files.OutputExistsError
    assert output.StagedFile is files.StagedFile


def test_the_course_models_are_built_only_for_a_course(example_case_path: Path,
                                                       tmp_path: Path) -> None:
    """Screening a case leaves the course file's models unbuilt (pydantic's defer_build); the
    first course validated builds them (the course tests check what they accept and refuse)."""
    course = REPO / "tests" / "course" / "data" / "course-example.json"
    code = ("import contextlib, io, json, sys\n"
            "from ketascreen.cli import main\n"
            "from ketascreen.models.course import Course, Infusion\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['screen', {str(example_case_path)!r}, '--json']) == 0\n"
            "before = Course.__pydantic_complete__ or Infusion.__pydantic_complete__\n"
            "from ketascreen.models.parsing import load_course\n"
            f"load_course({str(course)!r})\n"
            "print(json.dumps({'before': before, 'after': Course.__pydantic_complete__}))\n")
    state = json.loads(_child(code, tmp_path).stdout.splitlines()[-1])
    assert state == {"before": False, "after": True}


def test_the_records_a_screening_builds_compare_by_identity_value_types_by_value() -> None:
    """The records built at every start and for every screening (data files, formulary, dose
    steps, facts, rules, the screening, the checklist rows) generate only their __init__ (no
    field-by-field __eq__ or __repr__, which nothing uses); the value types that are compared
    (a dose per weight, a field problem, a recognised medication) keep value equality."""
    from ketascreen.dosing.outcome import DoseOutcome
    from ketascreen.errors import FieldProblem
    from ketascreen.knowledge.formulary import Formulary
    from ketascreen.knowledge.policy import Policy
    from ketascreen.models.checklist import Checklist, DoseBox
    from ketascreen.models.doses import DosePerWeight
    from ketascreen.rules.facts import Facts
    from ketascreen.screening import Screening

    for record in (DoseOutcome, Formulary, Policy, Checklist, Facts, Screening):
        assert record.__eq__ is object.__eq__ and record.__repr__ is object.__repr__, record
    for value in (DosePerWeight, FieldProblem, DoseBox):
        assert value.__eq__ is not object.__eq__, value
    assert FieldProblem("a", "b") == FieldProblem("a", "b")
    screened = [run(load_case(REPO.parent / "shared" / "spec" / "examples" / "case-example.json"),
                    rules=rule_set_in_force()) for _ in range(2)]
    assert screened[0] != screened[1] and screened[0] == screened[0]
    assert screened[0].result == screened[1].result  # the result (pydantic) compares by value


COURSE_MODULES = ("ketascreen.course.outcome", "ketascreen.course.prepare",
                  "ketascreen.course.figures", "ketascreen.course.context",
                  "ketascreen.course.monitoring", "ketascreen.infusion_checklist")


def test_screening_a_case_loads_no_course_module(example_case_path: Path,
                                                 tmp_path: Path) -> None:
    """`screen --json` of a case (no course) imports none of the course modules; screening a
    course file imports those the screening of an infusion uses (the checklist's infusion
    section and the monitoring grid come with a course's checklist)."""
    assert not any(_loaded_after_screen_of(example_case_path, tmp_path).values())
    course = REPO / "tests" / "course" / "data" / "course-example.json"
    loaded = _loaded_after_screen_of(course, tmp_path)
    assert all(loaded[name] for name in COURSE_MODULES[:4]), loaded


def _loaded_after_screen_of(path: Path, home: Path) -> dict[str, bool]:
    return _loaded_after(["screen", str(path), "--json"], home, COURSE_MODULES)


def test_a_course_file_screens_as_run_course(capsys: pytest.CaptureFixture[str]) -> None:
    """The other side in this process: `screen --json` of a course file prints the result of
    run_course on its last infusion, with its course key."""
    from ketascreen.models.parsing import load_course
    from ketascreen.screening import run_course

    course = REPO / "tests" / "course" / "data" / "course-example.json"
    assert main(["screen", str(course), "--json"]) == 0
    expected = run_course(load_course(course), rules=rule_set_in_force()).result
    printed = capsys.readouterr().out
    assert printed == expected.model_dump_json(indent=2) + "\n"
    assert json.loads(printed)["course"] is not None


CORE_ARGVS = [
    ["screen", "case.json", "--json"],
    ["screen", "a.json", "b/", "--summary", "--as-of", "2026-12-01"],
    ["screen", "case.json", "--pdf", "out.pdf", "--sign", "me.p12", "--passphrase-file", "p",
     "--page-size", "a4", "--clinic", "North", "--force", "--save", "--user", "drsmith"],
    ["import", "bundle.json", "-o", "case.json", "--as-of", "2026-12-01", "--force"],
    ["keygen", "--name", "Dr Jane Smith", "--out", "me.p12", "--passphrase-file", "p"],
    ["verify", "out.pdf", "--trust", "ca.pem", "--trust", "b.pem", "--json"],
    ["schema", "course"],
    ["gui", "case.json", "--screenshot", "shot.png"],
]


@pytest.mark.parametrize("argv", CORE_ARGVS, ids=lambda argv: argv[0])
def test_a_core_command_parses_the_same_without_the_records_commands(argv: list[str]) -> None:
    """The parser without the records' commands reads a core command exactly as the full one."""
    assert argv[0] in cli._CORE_COMMANDS
    assert vars(cli._parser(records=False).parse_args(argv)) == \
        vars(cli._parser().parse_args(argv))


@pytest.mark.parametrize("command", sorted(cli._CORE_COMMANDS))
def test_a_core_commands_help_and_errors_are_the_same(command: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`ketascreen COMMAND --help` and a usage error print the same text either way."""
    texts = []
    for records in (False, True):
        for argv in ([command, "--help"], [command, "--no-such-option"]):
            with pytest.raises(SystemExit):
                cli._parser(records=records).parse_args(argv)
            captured = capsys.readouterr()
            texts.append(captured.out + captured.err)
    assert texts[:2] == texts[2:]
    assert "usage: ketascreen " + command in texts[0]


def test_the_records_commands_and_the_listing_use_the_full_parser(
        capsys: pytest.CaptureFixture[str]) -> None:
    """`ketascreen --help` still lists the records' commands; an unknown command is refused
    naming them among the choices."""
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out
    assert "screen" in listing and "audit" in listing and "records" in listing
    with pytest.raises(SystemExit):
        main(["no-such-command"])
    assert "'audit'" in capsys.readouterr().err


def test_tomllib_is_imported_only_when_the_data_cache_misses(example_case_path: Path,
                                                             tmp_path: Path) -> None:
    """The data files are read from their JSON cache; TOML is parsed (and tomllib imported) only
    when the cache does not hold a file's bytes, the first time."""
    code = ("import contextlib, io, json, sys\n"
            "from ketascreen.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            f"    assert main(['screen', {str(example_case_path)!r}, '--json']) == 0\n"
            "print(json.dumps({'tomllib': 'tomllib' in sys.modules,\n"
            "                  'result': out.getvalue()}))\n")
    cache = str(tmp_path / "cache")
    cold = json.loads(_child(code, tmp_path, KETASCREEN_CACHE_DIR=cache).stdout.splitlines()[-1])
    warm = json.loads(_child(code, tmp_path, KETASCREEN_CACHE_DIR=cache).stdout.splitlines()[-1])
    assert cold["tomllib"] is True and warm["tomllib"] is False
    assert cold["result"] == warm["result"]


def _command(args: list[str], home: Path, *, entry: str = "run"
             ) -> subprocess.CompletedProcess[str]:
    code = ("import sys\n"
            f"from ketascreen.cli import {entry}\n"
            f"sys.exit({entry}(sys.argv[1:]))\n")
    environment = {k: v for k, v in os.environ.items() if k != "KETASCREEN_DATABASE_URL"}
    environment["KETASCREEN_HOME"] = str(home)
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=REPO, env=environment, check=False)


@pytest.mark.parametrize("args", [["screen", "EXAMPLE", "--json"], ["screen", "EXAMPLE"],
                                  ["screen", "MISSING"], ["schema", "result"],
                                  ["audit", "verify"], ["no-such-command"]],
                         ids="-".join)
def test_the_command_prints_and_exits_as_main_does(args: list[str], example_case_path: Path,
                                                  tmp_path: Path) -> None:
    """`ketascreen` (run: a fast exit after a short command) prints the same stdout and stderr
    and exits with the same status as main() followed by a normal exit."""
    names = {"EXAMPLE": str(example_case_path), "MISSING": str(tmp_path / "nope.json")}
    argv = [names.get(a, a) for a in args]
    fast = _command(argv, tmp_path)
    normal = _command(argv, tmp_path, entry="main")
    assert (fast.returncode, fast.stdout, fast.stderr) == \
        (normal.returncode, normal.stdout, normal.stderr)


def test_the_exit_handlers_still_run_before_a_fast_exit(tmp_path: Path) -> None:
    """An atexit handler registered before the command runs at its exit, after its output."""
    code = ("import atexit\n"
            "atexit.register(lambda: print('exit handler ran', flush=True))\n"
            "from ketascreen.cli import run\n"
            "run(['schema', 'case'])\n")
    done = _child_text(code, tmp_path)
    assert done.returncode == 0
    assert done.stdout.endswith("}\nexit handler ran\n")


def _child_text(code: str, home: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "KETASCREEN_DATABASE_URL"}
    environment["KETASCREEN_HOME"] = str(home)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, env=environment, check=False)


class _ExitedError(Exception):
    """What the stand-in for os._exit raises."""


@pytest.mark.parametrize(("argv", "fast"), [(["schema", "case"], True),
                                            (["audit", "verify"], False)])
def test_only_a_short_command_skips_the_teardown(argv: list[str], fast: bool,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    """`schema` ends with os._exit after the exit handlers; a records command exits normally."""
    import atexit

    calls: list[str] = []
    monkeypatch.setenv("KETASCREEN_HOME", str(tmp_path))
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: calls.append("handlers"))

    def fake_exit(status: int) -> None:
        calls.append(f"_exit {status}")
        raise _ExitedError

    monkeypatch.setattr(os, "_exit", fake_exit)
    from ketascreen.records import commands

    monkeypatch.setattr(commands, "run", lambda args, out: 0)
    with pytest.raises((_ExitedError, SystemExit)) as ended:
        cli.run(argv)
    if fast:
        assert ended.type is _ExitedError and calls == ["handlers", "_exit 0"]
    else:
        assert ended.type is SystemExit and calls == []
