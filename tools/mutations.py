"""Mutation check: each one-line mutation of a safety decision must make a test fail.

Each mutation replaces one exact snippet of one file by another, in a COPY of the tree (never
in the working tree), and runs the pytest paths given for it there (``-x -q -p
no:cacheprovider``, offscreen Qt, no bytecode written, ``PYTHONPATH`` on the copy). A mutation
is *caught* when a test fails, and *SURVIVED* when every test still passes: then a test is
missing. A snippet that is not in the file (or is there more than once) is an error: the code
moved, so the mutation must be pointed at its new place.

Usage (from the repository)::

    .venv/bin/python tools/mutations.py                 # every mutation, on a copy of HEAD
    .venv/bin/python tools/mutations.py --only audit-hash-role --only pdf-drops-source
    .venv/bin/python tools/mutations.py --worktree      # the working tree, uncommitted too
    .venv/bin/python tools/mutations.py --ref bcee08c   # any commit
    .venv/bin/python tools/mutations.py --snippets      # only: is each snippet still there?
    .venv/bin/python tools/mutations.py --list

Each set of test paths first runs once on the unmutated copy (skip with ``--no-baseline``): a
mutation is only "caught" by tests that pass without it; when they fail unmutated, the mutation
is an ERROR naming the failing test. Exit status: 0 when every mutation was caught, else 1.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[1]
TIMEOUT_SECONDS: Final = 1200
PYTEST_OPTIONS: Final = ("-x", "-q", "-p", "no:cacheprovider")
CLEARED_ENV: Final = ("KETASCREEN_POLICY", "KETASCREEN_FORMULARY", "KETASCREEN_DATABASE_URL",
                      "KETASCREEN_HOME", "PYTHONPATH")


@dataclass(frozen=True)
class Mutation:
    """One mutation: in ``path``, the exact text ``old`` becomes ``new``.

    Attributes:
        name: a short stable name (``--only NAME``).
        what: the behaviour it breaks, in a few words.
        path: the file, relative to the repository.
        old: the exact snippet replaced (must occur exactly once).
        new: its replacement.
        tests: the pytest paths (files, folders or node ids) that must catch it.
    """

    name: str
    what: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


AUDIT_TESTS = ("tests/records/test_audit_hash_columns.py",)
PDF_TESTS = ("tests/reports/test_finding_fields.py",)
APP_TESTS = ("tests/ui/test_finding_fields.py",)
CHAIN = "ketascreen/records/chain.py"
ENGINE = "ketascreen/rules/engine.py"
SCREENING = "ketascreen/screening.py"

MUTATIONS: Final[tuple[Mutation, ...]] = (
    # The nine of issue 12: five columns of the audit event hash, source and action on the PDF
    # and in the app.
    Mutation("audit-hash-occurred_at", "the event hash leaves out when it happened", CHAIN,
             '"seq": seq, "at": occurred_at, "user": username,', '"seq": seq, "user": username,',
             AUDIT_TESTS),
    Mutation("audit-hash-role", "the event hash leaves out the role", CHAIN,
             '"user": username, "role": role,', '"user": username,', AUDIT_TESTS),
    Mutation("audit-hash-workstation", "the event hash leaves out the workstation", CHAIN,
             '"workstation": workstation, "action": action,', '"action": action,', AUDIT_TESTS),
    Mutation("audit-hash-outcome", "the event hash leaves out the outcome", CHAIN,
             '"action": action, "outcome": outcome,', '"action": action,', AUDIT_TESTS),
    Mutation("audit-hash-record_id", "the event hash leaves out the record", CHAIN,
             '"record": record_id, "detail": detail,', '"detail": detail,', AUDIT_TESTS),
    Mutation("pdf-drops-source", "the PDF's findings table leaves the source empty",
             "ketascreen/reports/pdf.py", 'self._p(f.source, "small")])', 'self._p("", "small")])',
             PDF_TESTS),
    Mutation("pdf-drops-action", "the PDF's findings table leaves the action empty",
             "ketascreen/reports/pdf.py", 'self._p(f.action, "small"),', 'self._p("", "small"),',
             PDF_TESTS),
    Mutation("app-drops-source", "the app's finding details leave out the source",
             "ketascreen/ui/qt_result.py", "<br><b>Source:</b> {_escape(finding.source)}", "",
             APP_TESTS),
    Mutation("app-drops-action", "the app's finding details leave out the action",
             "ketascreen/ui/qt_result.py", "{_escape(finding.action)}", "", APP_TESTS),
    # The decision.
    Mutation("decision-ignores-absolute", "an absolute finding no longer means DO NOT INFUSE",
             ENGINE, 'if any(f.severity == "absolute" and not f.acknowledged for f in findings):',
             "if False:", ("tests/rules/test_decision.py",)),
    Mutation("decision-ignores-acknowledgement",
             "an acknowledged relative finding still needs review", ENGINE,
             'if any(f.severity == "relative" and not f.acknowledged for f in findings):',
             'if any(f.severity == "relative" for f in findings):',
             ("tests/rules/test_decision.py",)),
    Mutation("decision-passes-missing-data", "missing data no longer means insufficient data",
             ENGINE, "if any(f.blocking for f in fired):", "if False:",
             ("tests/rules/test_decision.py",)),
    Mutation("any-absolute-acknowledgeable",
             "every absolute finding may be acknowledged, not only the policy's", ENGINE,
             "and rule.concept in self.policy.acknowledgeable_absolute))", "))",
             ("tests/rules/test_decision.py", "tests/rules/test_clinic_policy.py")),
    # The dose.
    Mutation("dose-rounds-down", "drawn-up volume and pump rate rounded down, not half up",
             "ketascreen/dosing/rounding.py",
             "return _round_to_step(value, step, ROUND_HALF_UP)",
             "return _round_to_step(value, step, ROUND_FLOOR)", ("tests/dosing",)),
    Mutation("vtbi-rounds-half-up", "the VTBI rounded half up (more than the bag holds)",
             "ketascreen/dosing/rounding.py", "return _round_to_step(value, step, ROUND_FLOOR)",
             "return _round_to_step(value, step, ROUND_HALF_UP)", ("tests/dosing",)),
    Mutation("hard-limit-ignored", "a dose above the hard limit is not refused",
             "ketascreen/dosing/limits.py", "if value > hard.value:", "if False:",
             ("tests/dosing",)),
    Mutation("inverse-check-off", "the independent inverse check never objects",
             "ketascreen/dosing/inverse.py", "if difference > tolerance:", "if False:",
             ("tests/dosing",)),
    Mutation("ideal-weight-2.54-per-inch", "Devine's 2.3 kg per inch becomes 2.54",
             "ketascreen/dosing/weight.py", "Q_(2.3, KG_PER_INCH)", "Q_(2.54, KG_PER_INCH)",
             ("tests/dosing",)),
    # Units.
    Mutation("pound-read-as-kilogram", '"lb" is read as kilograms', "ketascreen/units.py",
             '"lb": "pound",', '"lb": "kilogram",', ("tests/unit/test_units.py",)),
    Mutation("ten-inches-a-foot", '"5 ft 7 in" is read with 10 inches to the foot',
             "ketascreen/units.py", '("foot", "inch"): 12,', '("foot", "inch"): 10,',
             ("tests/unit/test_units.py",)),
    Mutation("ismp-trailing-zero", "numbers keep a trailing zero (1.0 mg)",
             "ketascreen/display.py", 'text = text.rstrip("0").rstrip(".")', "text = text",
             ("tests/unit/test_display.py",)),
    # Signing and the no-dose rule.
    Mutation("cli-signs-needs-review", "a NEEDS REVIEW screening may be signed (command line)",
             SCREENING, 'if decision == "needs-review":\n        return SigningRefusal(',
             'if decision == "never":\n        return SigningRefusal(',
             ("tests/reports/test_signing.py",)),
    Mutation("cli-signs-despite-refusal", "the signing refusal is never raised",
             SCREENING, "if self.signing_refusal is not None:\n            raise",
             "if False:\n            raise", ("tests/reports/test_signing.py",)),
    Mutation("app-signs-do-not-infuse", "the app would sign a DO NOT INFUSE checklist",
             SCREENING, 'if decision == "do-not-infuse":\n        return SigningRefusal(',
             'if decision == "never":\n        return SigningRefusal(',
             ("tests/ui/test_actions.py", "tests/ui/test_checklist.py")),
    Mutation("pdf-dose-on-do-not-infuse", "a DO NOT INFUSE checklist prints a dose",
             SCREENING, 'if result.decision == "do-not-infuse":\n        no_dose: str | None',
             'if result.decision == "never":\n        no_dose: str | None',
             ("tests/reports",)),
    Mutation("app-dose-on-do-not-infuse", "the app shows a dose on DO NOT INFUSE", SCREENING,
             'if result.decision == "do-not-infuse":\n        no_dose: str | None',
             'if result.decision == "never":\n        no_dose: str | None',
             ("tests/ui/test_checklist.py", "tests/ui/test_actions.py")),
    Mutation("verify-ignores-changed-bytes", "verify does not name changed signed bytes",
             "ketascreen/reports/verification.py",
             'if not status.intact:\n        problems.append(',
             'if False:\n        problems.append(', ("tests/reports/test_signing.py",)),
    # Records.
    Mutation("audit-verify-skips-hash", "audit verify no longer recomputes each event's hash",
             "ketascreen/records/audit.py", "if _row_hash(row) != row.hash:", "if False:",
             ("tests/records/test_audit.py",)),
    Mutation("nurse-may-sign", "a nurse account may sign",
             "ketascreen/records/roles.py",
             "Permission.VIEW_COURSES, Permission.RECORD_MONITORING, Permission.COUNTERSIGN}),",
             "Permission.VIEW_COURSES, Permission.RECORD_MONITORING, Permission.COUNTERSIGN,"
             " Permission.SIGN}),",
             ("tests/records/test_roles.py",)),
    Mutation("countersign-without-a-passing-check",
             "a nurse may countersign without her own double check that matched",
             "ketascreen/records/bedside.py",
             'if check is None or check.result not in ("match", "override"):', "if False:",
             ("tests/records/test_bedside.py",)),
    Mutation("double-check-ignores-pump-rate",
             "the bedside double check takes any pump rate (15.1 for 151 mL/h passes)",
             "ketascreen/doublecheck.py",
             "_same_at(rate, order.programmed_rate, order.rate_resolution)),", "True),",
             ("tests/test_doublecheck.py",)),
    Mutation("login-never-throttled", "failed logins never slow the next one",
             "ketascreen/records/users.py", "if failures < THROTTLE_AFTER:", "if True:",
             ("tests/records/test_throttle.py",)),
    # Recognition.
    Mutation("names-match-inside-words", "a drug name matches inside another word",
             "ketascreen/knowledge/recognition.py",
             "if ((start == 0 or text[start - 1] not in _WORD_CHARACTERS)",
             "if ((True or text[start - 1] not in _WORD_CHARACTERS)",
             ("tests/rules",)),
    Mutation("negation-counts-as-affirmed", '"No history of stroke" counts as a stroke',
             "ketascreen/knowledge/context.py", '"NEGATED_EXISTENCE": "negated",',
             '"NEGATED_EXISTENCE": "affirmed",', ("tests/rules/test_context.py",)),
)


@dataclass(frozen=True)
class Outcome:
    """What running one mutation's tests gave.

    Attributes:
        status: ``caught``, ``SURVIVED``, ``ERROR`` (snippet not found, ambiguous, collection
            failed) or ``TIMEOUT``.
        detail: the first failing test, or what went wrong.
        seconds: how long the tests ran.
    """

    status: str
    detail: str
    seconds: float


def copy_tree(ref: str | None, destination: Path) -> Path:
    """A copy of the repository in ``destination/<name>``, beside a link to ``../shared``.

    Args:
        ref: the commit to copy (``git archive``), or ``None`` for the working tree (every
            file git tracks or would track, as it is on disk now).
        destination: an empty folder.

    Returns:
        The copy's root.
    """
    root = destination / REPO.name
    root.mkdir()
    shared = REPO.parent / "shared"
    if shared.is_dir():
        (destination / "shared").symlink_to(shared, target_is_directory=True)
    if ref is not None:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref],
                                 capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(root, filter="data")
        return root
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True, check=True).stdout
    for name in filter(None, listed.decode("utf-8").split("\0")):
        path = REPO / name
        if path.is_file():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return root


def environment(root: Path) -> dict[str, str]:
    """The tests' environment: the copy first on the path, offscreen Qt, no bytecode files
    (a mutated and a restored file of the same size in the same second must not share one)."""
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    env.update(PYTHONPATH=str(root), QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
    return env


def run_tests(root: Path, paths: Sequence[str]) -> tuple[int | None, str, float]:
    """Run pytest on ``paths`` in ``root``: (exit status or None on timeout, output, seconds)."""
    start = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", *PYTEST_OPTIONS, *paths],
                              cwd=root, env=environment(root), capture_output=True, text=True,
                              timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        return None, "", time.monotonic() - start
    return done.returncode, done.stdout + done.stderr, time.monotonic() - start


def baseline(root: Path, paths: Sequence[str]) -> str | None:
    """Run ``paths`` unmutated: ``None`` when they pass, else the first failing test."""
    status, output, seconds = run_tests(root, paths)
    print(f"  baseline {' '.join(paths)}: exit {status} ({seconds:.0f} s)", flush=True)
    if status == 0:
        return None
    return "timeout" if status is None else first_failure(output)


def first_failure(output: str) -> str:
    """The first ``FAILED``/``ERROR`` test of pytest's summary, else its last line."""
    for line in output.splitlines():
        found = re.match(r"(?:FAILED|ERROR) (.+?)(?: - .*)?$", line)
        if found:
            return found.group(1)
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def apply(root: Path, mutation: Mutation) -> str | None:
    """Apply ``mutation`` in the copy; returns the original text, or ``None`` when its snippet
    is not there exactly once (nothing is changed then)."""
    path = root / mutation.path
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    if text.count(mutation.old) != 1:
        return None
    path.write_text(text.replace(mutation.old, mutation.new, 1), encoding="utf-8")
    return text


def check(root: Path, mutation: Mutation) -> Outcome:
    """Apply one mutation in the copy, run its tests, and restore the file."""
    path = root / mutation.path
    original = apply(root, mutation)
    if original is None:
        count = (path.read_text(encoding="utf-8").count(mutation.old) if path.is_file()
                 else None)
        where = ("file not found" if count is None else
                 "snippet not found" if count == 0 else f"snippet found {count} times")
        return Outcome("ERROR", f"{where} in {mutation.path}", 0.0)
    try:
        status, output, seconds = run_tests(root, mutation.tests)
    finally:
        path.write_text(original, encoding="utf-8")
    if status is None:
        return Outcome("TIMEOUT", f"no result within {TIMEOUT_SECONDS} s", seconds)
    if status == 0:
        return Outcome("SURVIVED", "every test passed", seconds)
    if status == 1:
        return Outcome("caught", first_failure(output), seconds)
    return Outcome("ERROR", f"pytest exit {status}: {first_failure(output)}", seconds)


def snippets(root: Path, mutations: Sequence[Mutation]) -> int:
    """Print whether each mutation's snippet is in its file exactly once; 0 when all are."""
    rows = [("mutation", "snippet", "file")]
    for mutation in mutations:
        path = root / mutation.path
        count = path.read_text(encoding="utf-8").count(mutation.old) if path.is_file() else -1
        state = {-1: "NO FILE", 0: "NOT FOUND", 1: "found"}.get(count, f"FOUND {count} TIMES")
        rows.append((mutation.name, state, mutation.path))
    print(table(rows))
    return 0 if all(row[1] == "found" for row in rows[1:]) else 1


def table(rows: Iterable[tuple[str, str, str]]) -> str:
    """Rows as aligned text columns."""
    rows = list(rows)
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return "\n".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() for a, b, c in rows)


def selected(only: Sequence[str]) -> list[Mutation]:
    """The mutations named by ``--only`` (all when none is named)."""
    if not only:
        return list(MUTATIONS)
    names = {m.name for m in MUTATIONS}
    unknown = [name for name in only if name not in names]
    if unknown:
        raise SystemExit(f"mutations.py: unknown mutation(s): {', '.join(unknown)} "
                         "(see --list)")
    return [m for m in MUTATIONS if m.name in only]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the mutations; returns the exit status."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this mutation (repeatable)")
    parser.add_argument("--ref", default="HEAD", help="the commit to copy (default: HEAD)")
    parser.add_argument("--worktree", action="store_true",
                        help="copy the working tree (uncommitted changes too) instead")
    parser.add_argument("--snippets", action="store_true",
                        help="only say whether each snippet is in its file, once")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the run of the unmutated tests")
    parser.add_argument("--keep", action="store_true", help="keep the copy (path printed)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args(argv)
    mutations = selected(args.only)
    if args.list:
        print(table([("name", "file", "breaks"),
                     *((m.name, m.path, m.what) for m in mutations)]))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="ketascreen-mutations-"))
    try:
        ref = None if args.worktree else args.ref
        root = copy_tree(ref, folder)
        print(f"copy of {ref or 'the working tree'}: {root}", flush=True)
        if args.snippets:
            return snippets(root, mutations)
        rows = [("mutation", "result", "first failing test (or problem)")]
        outcomes: list[Outcome] = []
        baselines: dict[tuple[str, ...], str | None] = {}
        for mutation in mutations:
            if not args.no_baseline and mutation.tests not in baselines:
                baselines[mutation.tests] = baseline(root, mutation.tests)
            broken = baselines.get(mutation.tests)
            outcome = (Outcome("ERROR", f"fails unmutated: {broken}", 0.0) if broken
                       else check(root, mutation))
            outcomes.append(outcome)
            print(f"  {mutation.name}: {outcome.status} ({outcome.seconds:.0f} s) "
                  f"{outcome.detail}", flush=True)
            rows.append((mutation.name, outcome.status, outcome.detail))
        print()
        print(table(rows))
        caught = sum(o.status == "caught" for o in outcomes)
        print(f"\n{caught} of {len(outcomes)} mutations caught")
        return 0 if caught == len(outcomes) else 1
    finally:
        if args.keep:
            print(f"kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
