"""The bars of behaviour: a deterministic snapshot of what ketascreen shows, to compare a change.

Only the surfaces a refactor must not move are used: the command line (``ketascreen.cli.main``,
run in a fresh process) and ``ketascreen.api`` (``parse_case``, ``screen``). The snapshot holds

- ``holdout``: the result of every rule vector (``tests/rules/vectors/*.toml`` applied to the
  clean case, as the vector test does), and, through ``ketascreen screen SRC --json`` and the
  text report (``--as-of 2026-12-01``), the spec's example case, the dosing golden cases
  (``tests/dosing/test_golden.py``) and every sample patient of ``shared/fhir-samples``; and
  ``--summary``, ``import``, ``schema``, an invalid case, clinic policies and broken files;
- ``pdf``: for a set of varied cases the unsigned checklist's page count, its
  ``pdftotext -layout`` text and its attachments, and one checklist signed with a key made by
  ``ketascreen keygen``, verified;
- ``records``: a scripted session in a fresh data folder (accounts, saving, signing, listing,
  showing, the audit trail, a refused second signing, an amendment, a wrong password).

Only what must vary between runs is normalised, by narrow patterns: the temporary folder,
timestamps, today's date, certificate fingerprints and serials, audit hashes and signature
bytes. Usage::

    python tools/behaviour_bars.py --out before.json      # the ketascreen on sys.path
    python tools/behaviour_bars.py --out now.json --compare before.json   # exit 1 if different
    python tools/behaviour_bars.py --snapshot now.json --compare before.json --ignore-hashes

The code screened is the ``ketascreen`` this interpreter imports (``PYTHONPATH`` chooses it);
every command-line process gets that same package first on its path.
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

TOOL_REPO = Path(__file__).resolve().parents[1]
AS_OF = "2026-12-01"
FORMAT = "ketascreen-behaviour-bars/1"

CLEAN_MEDICATIONS = [
    {"text": "Sertraline 100 MG Oral Tablet",
     "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "312941",
     "status": "active"},
]
CLEAN_MEASUREMENTS = {"weight": "70 kg", "height": "170 cm", "blood_pressure": "120/80 mmHg",
                      "heart_rate": "72 /min", "spo2": "98 %"}

# -- normalisation ---------------------------------------------------------------------------

_ISO_TIME = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}| UTC)?")
_PDF_DATE = re.compile(r"D:\d{14}(?:Z|[+-]\d{2}'?\d{2}'?)?")
_HEX_COLON = re.compile(r"\b(?:[0-9A-F]{2}:){8,}[0-9A-F]{2}\b")


class Normaliser:
    """Replaces the few values that must differ between runs by stable placeholders."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = str(tmp)
        self.today = date.today()
        self.volatile: dict[str, str] = {}

    def forget(self, value: str, label: str) -> None:
        """Replace ``value`` (a fingerprint, a serial, a hash) by ``<label>`` wherever it occurs."""
        if value and value not in self.volatile:
            self.volatile[value] = f"<{label}>"

    def text(self, text: str) -> str:
        """Normalised ``text``."""
        text = text.replace(self.tmp, "<tmp>")
        for value, label in sorted(self.volatile.items(), key=lambda v: -len(v[0])):
            text = text.replace(value, label)
        text = _ISO_TIME.sub("<time>", text)
        text = _PDF_DATE.sub("<pdf-date>", text)
        text = _HEX_COLON.sub("<hex-colon>", text)
        today = self.today
        for form in (today.isoformat(), f"{today.day} {today:%b %Y}", f"{today:%d %b %Y}",
                     f"{today.day} {today:%B %Y}", f"{today:%d %B %Y}"):
            text = text.replace(form, "<today>")
        return text

    def value(self, value: Any) -> Any:
        """``value`` with every string normalised (JSON data)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.value(v) for k, v in value.items()}
        return value


# -- running ketascreen -----------------------------------------------------------------------

def package_root() -> Path:
    """The folder holding the ``ketascreen`` package this interpreter imports."""
    import ketascreen  # noqa: PLC0415

    return Path(ketascreen.__file__).resolve().parents[1]


class Runner:
    """Runs ``ketascreen`` command lines in fresh processes with a controlled environment."""

    def __init__(self, tmp: Path, norm: Normaliser) -> None:
        self.tmp = tmp
        self.norm = norm
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("KETASCREEN_") and k not in ("PYTHONPATH", "TZ")}
        self.env.update({
            "PYTHONPATH": str(package_root()), "TZ": "UTC", "LC_ALL": "C.UTF-8",
            "PYTHONHASHSEED": "0", "KETASCREEN_HOME": str(tmp / "home"),
            "KETASCREEN_CACHE_DIR": str(tmp / "cache"), "HOME": str(tmp / "user-home"),
            "XDG_DATA_HOME": str(tmp / "xdg-data"), "XDG_CACHE_HOME": str(tmp / "xdg-cache"),
        })
        self.commands = 0

    def raw(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Exit status, stdout and stderr of ``ketascreen ARGS`` (not normalised)."""
        code = "import sys; from ketascreen.cli import main; sys.exit(main(sys.argv[1:]))"
        work = self.tmp / "cwd"
        work.mkdir(exist_ok=True)
        completed = subprocess.run(
            [sys.executable, "-c", code, *args], cwd=work, env={**self.env, **(env or {})},
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600, check=False)
        self.commands += 1
        return completed.returncode, completed.stdout, completed.stderr

    def run(self, *args: str, env: dict[str, str] | None = None,
            json_out: bool = False) -> dict[str, Any]:
        """``ketascreen ARGS`` as ``{argv, exit, stdout, stderr}``, normalised."""
        status, out, err = self.raw(*args, env=env)
        stdout: Any = self.norm.text(out).split("\n")
        if json_out and status == 0:
            stdout = self.norm.value(json.loads(out))
        return {"argv": [self.norm.text(a) for a in args], "exit": status,
                "stdout": stdout, "stderr": self.norm.text(err).split("\n")}


def tool(*args: str) -> str:
    """stdout of a poppler tool."""
    return subprocess.run(list(args), capture_output=True, text=True, check=True,
                          timeout=120).stdout


# -- inputs ----------------------------------------------------------------------------------

def patched(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with dotted paths set; ``None`` deletes the key (as tests/helpers/cases.py)."""
    case = copy.deepcopy(base)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = case
        for part in parents:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = copy.deepcopy(value)
    return case


def golden_cases(repo: Path) -> dict[str, dict[str, Any]]:
    """The ``CASES`` literal of tests/dosing/test_golden.py (read, not imported)."""
    tree = ast.parse((repo / "tests" / "dosing" / "test_golden.py").read_text(encoding="utf-8"))
    for node in tree.body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign):
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == "CASES" and value is not None:
            cases: dict[str, dict[str, Any]] = ast.literal_eval(value)
            return cases
    raise SystemExit("tests/dosing/test_golden.py has no CASES literal")


def fhir_samples(shared: Path) -> list[tuple[str, Path]]:
    """Every sample patient: a Synthea Bundle, an eCQM case folder, the US Core folder."""
    root = shared / "fhir-samples"
    samples = [(f"synthea/{p.name}", p) for p in sorted((root / "synthea-r4").glob("*.json"))]
    samples += [(f"ecqm/{p.parent.name}/{p.name}", p)
                for p in sorted((root / "ecqm-qicore-2024").glob("*/*")) if p.is_dir()]
    samples.append(("us-core", root / "us-core"))
    return samples


def file_digest(paths: list[Path]) -> str:
    """One sha256 over the given files (names and bytes)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# -- (a) holdout -----------------------------------------------------------------------------

def vector_results(repo: Path, example: dict[str, Any]) -> dict[str, Any]:
    """Every rule vector through ``ketascreen.api``: its result JSON, or its refusal."""
    from ketascreen.api import parse_case, screen  # noqa: PLC0415
    from ketascreen.errors import KetascreenError  # noqa: PLC0415

    clean = copy.deepcopy(example)
    clean["medications"] = copy.deepcopy(CLEAN_MEDICATIONS)
    clean["measurements"] = dict(CLEAN_MEASUREMENTS)
    results: dict[str, Any] = {}
    for path in sorted((repo / "tests" / "rules" / "vectors").glob("KS-*.toml")):
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        for number, vector in enumerate(doc["vector"]):
            key = f"{doc['rule']}#{number:03d} {vector['name']}"
            try:
                result = screen(parse_case(patched(clean, vector.get("set", {}))))
                results[key] = json.loads(result.model_dump_json())
            except KetascreenError as error:
                results[key] = {"refused": type(error).__name__, "message": str(error)}
    return results


def screened(runner: Runner, source: Path) -> dict[str, Any]:
    """``screen SOURCE --json`` and the text report of the same source."""
    return {"json": runner.run("screen", str(source), "--json", "--as-of", AS_OF, json_out=True),
            "text": runner.run("screen", str(source), "--as-of", AS_OF)}


def holdout(runner: Runner, repo: Path, shared: Path, log: Callable[[str], None]
            ) -> dict[str, Any]:
    """Part (a): vectors in-process; case files and FHIR samples through the command line."""
    example_path = shared / "spec" / "examples" / "case-example.json"
    example = json.loads(example_path.read_text(encoding="utf-8"))
    vectors = vector_results(repo, example)
    log(f"holdout: {len(vectors)} vectors")
    cases_dir = runner.tmp / "cases"
    cases_dir.mkdir()
    case_files: dict[str, Any] = {"spec/case-example.json": screened(runner, example_path)}
    for number, (name, changes) in enumerate(golden_cases(repo).items()):
        path = cases_dir / f"golden-{number:02d}.json"
        path.write_text(json.dumps(patched(example, changes), indent=2), encoding="utf-8")
        case_files[f"dosing golden: {name}"] = screened(runner, path)
    log(f"holdout: {len(case_files)} case files")
    samples = {name: screened(runner, path) for name, path in fhir_samples(shared)}
    log(f"holdout: {len(samples)} FHIR samples")
    commands = other_commands(runner, example, [path for _, path in fhir_samples(shared)])
    log(f"holdout: {len(commands)} other commands (summary, import, schema, refusals)")
    return {"vectors": vectors, "case_files": case_files, "fhir_samples": samples,
            "other_commands": commands}


def other_commands(runner: Runner, example: dict[str, Any], samples: list[Path]
                   ) -> dict[str, Any]:
    """``--summary`` of every sample, ``import``, ``schema``, an invalid case, broken files."""
    folder = runner.tmp / "other"
    folder.mkdir()
    bad_weight = folder / "bad-weight.json"
    bad_weight.write_text(json.dumps(patched(example, {"measurements.weight": "70"})),
                          encoding="utf-8")
    broken_policy = folder / "policy.toml"
    broken_policy.write_text('version = "broken"\n[severities]\nnot-a-concept = "absolute"\n',
                             encoding="utf-8")
    valid = folder / "example.json"
    valid.write_text(json.dumps(example), encoding="utf-8")
    unparsable = folder / "formulary.toml"
    unparsable.write_text("version = \n", encoding="utf-8")
    shipped = next(path for path in (
        package_root() / "ketascreen" / "knowledge" / "data" / "policy.toml",
        package_root() / "ketascreen" / "rules" / "data" / "policy.toml") if path.exists())
    policy = shipped.read_text(encoding="utf-8")
    wrong_severity = folder / "policy-wrong-severity.toml"
    wrong_severity.write_text(policy.replace('"porphyria" = "relative"', '"porphyria" = "severe"'),
                              encoding="utf-8")
    stricter = folder / "policy-stricter.toml"
    stricter.write_text(policy.replace('"benzodiazepine" = "relative"',
                                       '"benzodiazepine" = "absolute"').replace(
        'version = "2026.11.0-default"', 'version = "2026.12.0-stricter"'), encoding="utf-8")
    commands: dict[str, Any] = {
        "screen --json: stricter clinic policy (KETASCREEN_POLICY)": runner.run(
            "screen", str(valid), "--json", env={"KETASCREEN_POLICY": str(stricter)},
            json_out=True),
        "screen: policy with an unknown severity": runner.run(
            "screen", str(valid), env={"KETASCREEN_POLICY": str(wrong_severity)}),
        "screen --summary (every sample)": runner.run(
            "screen", *map(str, samples), "--summary", "--as-of", AS_OF),
        "schema case": runner.run("schema", "case", json_out=True),
        "schema result": runner.run("schema", "result", json_out=True),
        "screen: weight without a unit": runner.run("screen", str(bad_weight)),
        "screen: broken policy (KETASCREEN_POLICY)": runner.run(
            "screen", str(valid), env={"KETASCREEN_POLICY": str(broken_policy)}),
        "screen: unparsable formulary (KETASCREEN_FORMULARY)": runner.run(
            "screen", str(valid), env={"KETASCREEN_FORMULARY": str(unparsable)}),
    }
    for sample in (samples[0], samples[-1]):
        out = folder / f"imported-{sample.stem[:20]}.json"
        step = runner.run("import", str(sample), "-o", str(out), "--as-of", AS_OF)
        step["written"] = runner.norm.value(json.loads(out.read_text(encoding="utf-8"))) \
            if out.exists() else None
        commands[f"import {sample.parent.name}/{sample.name}"] = step
    return commands


# -- (b) PDF ---------------------------------------------------------------------------------

def pdf_cases(example: dict[str, Any]) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """Varied checklists: each decision, units, page sizes, a preparation, acknowledgements."""
    clean = copy.deepcopy(example)
    clean["medications"] = copy.deepcopy(CLEAN_MEDICATIONS)
    clean["measurements"] = dict(CLEAN_MEASUREMENTS)
    ack = [{"concept": "benzodiazepine",
            "reason": "Evening alprazolam held the night before; discussed."}]
    return {
        "clear": (clean, []),
        "clear a4": (clean, ["--page-size", "a4"]),
        "needs-review (spec example, lb and ft/in)": (example, []),
        "needs-review acknowledged": (patched(example, {"acknowledgements": ack}), []),
        "do-not-infuse (hypersensitivity)": (
            patched(clean, {"history.ketamine-hypersensitivity": "yes"}), []),
        "do-not-infuse (hard limit, a4)": (
            patched(clean, {"protocol.dose": "1.2 mg/kg"}), ["--page-size", "a4"]),
        "insufficient-data (unanswered, no weight)": (
            patched(clean, {"history.porphyria": "unknown", "measurements.weight": None}), []),
        "lb and oz, mcg/kg, vial into bag": (
            patched(clean, {"measurements.weight": "154 lb 5 oz",
                            "protocol": {"dose": "400 mcg/kg", "duration": "45 min",
                                         "vial": "50 mg/mL", "diluent_volume": "100 mL"}}), []),
        "implausible weight (no dose)": (patched(clean, {"measurements.weight": "25 kg"}), []),
        "chronic pain, mg/kg/h, clinic name": (
            patched(clean, {"indication": "chronic-pain",
                            "protocol": {"dose": "0.3 mg/kg/h", "duration": "4 h",
                                         "concentration": "2 mg/mL"}}),
            ["--clinic", "Riverside Ketamine Clinic"]),
    }


def pdf_facts(runner: Runner, path: Path) -> dict[str, Any]:
    """Page count, layout text and attachments of a checklist."""
    norm = runner.norm
    info = tool("pdfinfo", str(path))
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))  # type: ignore[union-attr]
    text = norm.text(tool("pdftotext", "-layout", str(path), "-"))
    attached = path.parent / f"{path.stem}-attachments"
    attached.mkdir()
    subprocess.run(["pdfdetach", "-saveall", "-o", str(attached), str(path)], check=True,
                   capture_output=True, timeout=120)
    attachments: dict[str, Any] = {}
    for item in sorted(attached.iterdir()):
        raw = item.read_text(encoding="utf-8", errors="replace")
        try:
            data = json.loads(raw)
            forget_volatile_fields(norm, data)
            attachments[item.name] = norm.value(data)
        except json.JSONDecodeError:
            attachments[item.name] = norm.text(raw)
    return {"pages": pages, "text": text.split("\n"), "attachments": attachments}


def fingerprints(pem: Path) -> Iterator[tuple[str, str]]:
    """(label, value) of a certificate's sha256/sha1 fingerprints and serial, in the spellings
    the outputs use."""
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415

    certificate = x509.load_pem_x509_certificate(pem.read_bytes())
    for algorithm, label in ((hashes.SHA256(), "sha256"), (hashes.SHA1(), "sha1")):
        raw = certificate.fingerprint(algorithm).hex()
        for spelling in (raw, raw.upper(), ":".join(raw[i:i + 2] for i in range(0, len(raw), 2)),
                         ":".join(raw[i:i + 2] for i in range(0, len(raw), 2)).upper()):
            yield f"{pem.stem}-{label}", spelling
    serial = certificate.serial_number
    for spelling in (str(serial), f"{serial:x}", f"{serial:X}"):
        yield f"{pem.stem}-serial", spelling


def keygen(runner: Runner, name: str, credentials: str, stem: str) -> dict[str, Any]:
    """A trial key made by ``ketascreen keygen``; its varying values forgotten."""
    keys = runner.tmp / "keys"
    keys.mkdir(exist_ok=True)
    passphrase = keys / f"{stem}.pass"
    passphrase.write_text(f"passphrase of {stem}\n", encoding="utf-8")
    step = runner.run("keygen", "--name", name, "--credentials", credentials,
                      "--out", str(keys / f"{stem}.p12"), "--passphrase-file", str(passphrase))
    for label, value in fingerprints(keys / f"{stem}.pem"):
        runner.norm.forget(value, label)
    step["stdout"] = [runner.norm.text(line) for line in step["stdout"]]
    return step


def pdfs(runner: Runner, shared: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Part (b): unsigned checklists of varied cases, and one signed and verified."""
    example = json.loads((shared / "spec" / "examples" / "case-example.json").read_text(
        encoding="utf-8"))
    folder = runner.tmp / "pdf"
    folder.mkdir()
    unsigned: dict[str, Any] = {}
    cases = pdf_cases(example)
    for number, (name, (case, options)) in enumerate(cases.items()):
        source = folder / f"case-{number:02d}.json"
        source.write_text(json.dumps(case, indent=2), encoding="utf-8")
        out = folder / f"checklist-{number:02d}.pdf"
        step = runner.run("screen", str(source), "--pdf", str(out), "--as-of", AS_OF, *options)
        unsigned[name] = {"command": step, **(pdf_facts(runner, out) if out.exists() else {})}
    fhir = shared / "fhir-samples" / "synthea-r4"
    sample = next(iter(sorted(fhir.glob("Liz_Conn_*.json"))))
    out = folder / "checklist-fhir.pdf"
    step = runner.run("screen", str(sample), "--pdf", str(out), "--as-of", AS_OF)
    unsigned["FHIR sample Liz Conn (import warnings)"] = {
        "command": step, **(pdf_facts(runner, out) if out.exists() else {})}
    log(f"pdf: {len(unsigned)} unsigned checklists")

    signed: dict[str, Any] = {"keygen": keygen(runner, "Dr Jane Smith", "MD", "signer")}
    clear = cases["clear"][0]
    source = folder / "signed-case.json"
    source.write_text(json.dumps(clear, indent=2), encoding="utf-8")
    out = folder / "checklist-signed.pdf"
    keys = runner.tmp / "keys"
    signed["sign"] = runner.run("screen", str(source), "--pdf", str(out), "--as-of", AS_OF,
                                "--sign", str(keys / "signer.p12"), "--passphrase-file",
                                str(keys / "signer.pass"))
    signed.update(pdf_facts(runner, out) if out.exists() else {})
    signed["verify untrusted"] = runner.run("verify", str(out))
    signed["verify --trust"] = runner.run("verify", str(out), "--trust", str(keys / "signer.pem"))
    signed["verify --trust --json"] = runner.run(
        "verify", str(out), "--trust", str(keys / "signer.pem"), "--json", json_out=True)
    refused = folder / "refused.pdf"
    signed["sign do-not-infuse (refused)"] = runner.run(
        "screen", str(folder / "case-04.json"), "--pdf", str(refused), "--as-of", AS_OF,
        "--sign", str(keys / "signer.p12"), "--passphrase-file", str(keys / "signer.pass"))
    signed["sign do-not-infuse wrote a file"] = refused.exists()
    log("pdf: 1 signed checklist, verified")
    return {"unsigned": unsigned, "signed": signed}


# -- (c) records -----------------------------------------------------------------------------

def records(runner: Runner, shared: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Part (c): a scripted session in a fresh data folder."""
    folder = runner.tmp / "records"
    folder.mkdir()
    env = {"KETASCREEN_HOME": str(folder / "data")}
    secrets = folder / "secrets"
    secrets.mkdir()
    for user in ("admin", "drsmith", "rnpatel", "wrong"):
        (secrets / user).write_text(f"password of {user} 123!\n", encoding="utf-8")
    example = json.loads((shared / "spec" / "examples" / "case-example.json").read_text(
        encoding="utf-8"))
    clean = pdf_cases(example)["clear"][0]
    cases = {"clear": clean, "example": example,
             "amended": patched(clean, {"measurements.weight": "72 kg"}),
             "second": patched(clean, {"measurements.heart_rate": "74 /min"}),
             "other": patched(clean, {"patient.id": "MRN-0043", "patient.name": "Sam Okafor"})}
    for name, case in cases.items():
        (folder / f"{name}.json").write_text(json.dumps(case, indent=2), encoding="utf-8")
    steps: list[tuple[str, list[str]]] = []
    keygen_step = keygen(runner, "Dr Jane Smith", "MD", "drsmith")
    keys = runner.tmp / "keys"
    sign = ["--sign", str(keys / "drsmith.p12"), "--passphrase-file", str(keys / "drsmith.pass")]

    def login(user: str, secret: str | None = None) -> list[str]:
        return ["--user", user, "--password-file", str(secrets / (secret or user))]

    steps += [
        ("users add admin (bootstrap)",
         ["users", "add", "admin", "--role", "admin", "--name", "Clinic Admin",
          "--new-password-file", str(secrets / "admin")]),
        ("users add drsmith (physician, certificate)",
         ["users", "add", "drsmith", "--role", "physician", "--name", "Dr Jane Smith",
          "--new-password-file", str(secrets / "drsmith"), "--certificate",
          str(keys / "drsmith.p12"), "--passphrase-file", str(keys / "drsmith.pass"),
          *login("admin")]),
        ("users add rnpatel (nurse)",
         ["users", "add", "rnpatel", "--role", "nurse", "--name", "Ravi Patel",
          "--new-password-file", str(secrets / "rnpatel"), *login("admin")]),
        ("users list", ["users", "list", *login("admin")]),
        ("users certificate list", ["users", "certificate", "list", *login("drsmith")]),
        ("screen --save (draft)",
         ["screen", str(folder / "example.json"), "--save", "--as-of", AS_OF,
          *login("drsmith")]),
        ("screen --save --sign",
         ["screen", str(folder / "clear.json"), "--save", "--as-of", AS_OF, "--pdf",
          str(folder / "signed.pdf"), *sign, *login("drsmith")]),
        ("screen --save --sign again the same day (refused)",
         ["screen", str(folder / "clear.json"), "--save", "--as-of", AS_OF, "--pdf",
          str(folder / "signed-again.pdf"), *sign, *login("drsmith")]),
        ("screen --save --sign another case of the patient the same day (refused)",
         ["screen", str(folder / "second.json"), "--save", "--as-of", AS_OF, "--pdf",
          str(folder / "second.pdf"), *sign, *login("drsmith")]),
        ("screen --save --sign by a nurse (refused)",
         ["screen", str(folder / "other.json"), "--save", "--as-of", AS_OF, "--pdf",
          str(folder / "nurse.pdf"), *sign, *login("rnpatel")]),
        ("records list --json", ["records", "list", "--json", *login("rnpatel")]),
        ("records list", ["records", "list", *login("rnpatel")]),
        ("audit verify (1)", ["audit", "verify"]),
        ("verify the signed checklist (registered signer)", ["verify", str(folder / "signed.pdf")]),
        ("screen --save --sign --amends",
         ["screen", str(folder / "amended.json"), "--save", "--as-of", AS_OF, "--pdf",
          str(folder / "amended.pdf"), *sign, "--amends", "<record:clear>", "--reason",
          "weight re-measured", *login("drsmith")]),
        ("records list --current --json",
         ["records", "list", "--current", "--json", *login("rnpatel")]),
        ("records show --json (amended)",
         ["records", "show", "<record:clear>", "--json", *login("rnpatel")]),
        ("records show --json (amendment)",
         ["records", "show", "<record:amended>", "--json", *login("rnpatel")]),
        ("records show (amendment, text)", ["records", "show", "<record:amended>",
                                            *login("rnpatel")]),
        ("records export", ["records", "export", "<record:amended>", "--pdf",
                            str(folder / "export.pdf"), *login("rnpatel")]),
        ("records list as admin (refused)", ["records", "list", *login("admin")]),
        ("wrong password", ["records", "list", *login("drsmith", "wrong")]),
        ("unknown user", ["records", "list", *login("nobody", "wrong")]),
        ("audit verify (2)", ["audit", "verify"]),
        ("audit verify --chain-only", ["audit", "verify", "--chain-only"]),
    ]
    ids: dict[str, str] = {}
    session: dict[str, Any] = {"keygen": keygen_step}
    for number, (label, template) in enumerate(steps):
        argv = [ids.get(a, a) for a in template]
        status, out, err = runner.raw(*argv, env=env)
        for match in re.finditer(r"record (KS-[0-9A-F]{12})", err):
            ids.setdefault(_record_key(argv), match.group(1))
        forget_audit_hashes(runner.norm, out + err)
        stdout: Any = out
        if "--json" in argv and status == 0:
            stdout = json.loads(out)
            forget_volatile_fields(runner.norm, stdout)
        err = _DOCUMENT_SIZE.sub(r"\1<signed document size>\2", err)
        if isinstance(stdout, str):
            stdout = _DOCUMENT_SIZE.sub(r"\1<signed document size>\2", stdout)
        session[f"{number:02d} {label}"] = {
            "argv": [runner.norm.text(a) for a in argv], "exit": status,
            "stdout": runner.norm.value(stdout) if not isinstance(stdout, str)
            else runner.norm.text(stdout).split("\n"),
            "stderr": runner.norm.text(err).split("\n")}
    session["record ids"] = ids
    pdf = folder / "export.pdf"
    session["exported checklist"] = pdf_facts(runner, pdf) if pdf.exists() else None
    log(f"records: {len(steps)} steps")
    return session


def _record_key(argv: list[str]) -> str:
    """``<record:NAME>`` for the case file a ``screen`` step saved."""
    return f"<record:{Path(argv[1]).stem}>" if argv and argv[0] == "screen" else "<record:?>"


_AUDIT_HASH = re.compile(
    r"\bevent \d+ sha256 ([0-9a-f]{64})\b|\bDocument:\s+sha256 ([0-9a-f]{64})\b")
_VOLATILE_KEYS = frozenset({"hash", "previous_hash", "prev_hash", "document_sha256"})
_DOCUMENT_SIZE = re.compile(r"(\bDocument:\s+sha256 \S+, )\d+( bytes)")


def forget_audit_hashes(norm: Normaliser, text: str) -> None:
    """Forget the audit trail's hashes (they cover timestamps) and a signed document's sha256
    (it covers signature bytes), where the text names them so."""
    for match in _AUDIT_HASH.finditer(text):
        norm.forget(match.group(1) or match.group(2), "volatile-sha256")


def forget_volatile_fields(norm: Normaliser, value: Any) -> None:
    """The same for JSON: the values of the audit and document hash fields."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _VOLATILE_KEYS and isinstance(item, str):
                norm.forget(item, "volatile-sha256")
            elif key == "document_size" and isinstance(item, int):
                value[key] = "<signed document size>"
            else:
                forget_volatile_fields(norm, item)
    elif isinstance(value, list):
        for item in value:
            forget_volatile_fields(norm, item)


# -- compare ---------------------------------------------------------------------------------

def flatten(value: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, leaf) pairs of a JSON value; a list of lines is one leaf."""
    if isinstance(value, dict) and value:
        for key in value:
            yield from flatten(value[key], (*prefix, key))
    elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
        for number, item in enumerate(value):
            yield from flatten(item, (*prefix, f"[{number}]"))
    else:
        yield prefix, value


def compare(before: dict[str, Any], now: dict[str, Any], limit: int = 80) -> list[str]:
    """A summary (entries that differ, per part) and the first differences, line by line;
    empty when ``now`` shows exactly what ``before`` showed."""
    old = dict(flatten(before["bars"]))
    new = dict(flatten(now["bars"]))
    details: list[str] = []
    differing: dict[str, set[str]] = {}
    for path in sorted(old.keys() | new.keys()):
        if old.get(path, _MISSING) == new.get(path, _MISSING):
            continue
        part, entry = _entry(path)
        differing.setdefault(part, set()).add(entry)
        shown = " / ".join(path)
        if path not in new:
            details.append(f"ONLY BEFORE {shown}: {_short(old[path])}")
        elif path not in old:
            details.append(f"ONLY NOW    {shown}: {_short(new[path])}")
        else:
            details.append(f"CHANGED     {shown}:")
            if isinstance(old[path], list) and isinstance(new[path], list):
                details += [f"    {line}" for line in _line_diff(old[path], new[path])]
            else:
                details += [f"    before: {_short(old[path])}",
                            f"    now:    {_short(new[path])}"]
    if not details and before.get("inputs") == now.get("inputs"):
        return []
    lines = [f"INPUTS DIFFER: before {before.get('inputs')} now {now.get('inputs')}"] \
        if before.get("inputs") != now.get("inputs") else []
    for part in sorted(_parts(before["bars"]) | _parts(now["bars"])):
        entries = sorted(differing.get(part, set()))
        total = max(_count(before["bars"], part), _count(now["bars"], part))
        lines.append(f"{part}: {len(entries)} of {total} entries differ"
                     + (f" (first: {entries[0]})" if entries else ""))
    lines += details[:limit]
    if len(details) > limit:
        lines.append(f"... {len(details) - limit} more lines")
    return lines


_MISSING = object()


def _entry(path: tuple[str, ...]) -> tuple[str, str]:
    """(part, entry) of a flattened path: ``("holdout", "vectors", KEY, "decision")`` gives
    ``holdout/vectors`` and the vector's key; a records step is its own entry."""
    depth = 1 if path[0] == "records" else 2
    return "/".join(path[:depth]), path[depth] if len(path) > depth else ""


def _parts(bars: dict[str, Any]) -> set[str]:
    found = set()
    for part, value in bars.items():
        if part == "records":
            found.add(part)
        else:
            found |= {f"{part}/{key}" for key in value}
    return found


def _count(bars: dict[str, Any], part: str) -> int:
    node: Any = bars
    for key in part.split("/"):
        if not isinstance(node, dict) or key not in node:
            return 0
        node = node[key]
    return len(node) if isinstance(node, dict) else 1


_HASH_MASKS = (
    (re.compile(r"\b[0-9a-f]{64}\b"), "<sha256>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<sha12>"),
    (re.compile(r"\bKS-[0-9A-F]{12}\b"), "KS-<record id>"),
)
_WATERMARK_LINE = re.compile(r"^\s*(?:\S|UNSIGNED \u2014 NOT AN ORDER)\s*$")


def without_hashes(value: Any) -> Any:
    """``value`` with every sha256, 12-digit hash prefix and record id masked, and the lines
    of the diagonal UNSIGNED watermark dropped (pdftotext places its letters by the page's
    glyph widths, which other hashes change): to compare across a deliberate change of the
    knowledge files, whose hashes every result, record id and checklist carries."""
    if isinstance(value, str):
        for pattern, mask in _HASH_MASKS:
            value = pattern.sub(mask, value)
        return value
    if isinstance(value, list):
        return [without_hashes(v) for v in value
                if not (isinstance(v, str) and _WATERMARK_LINE.match(v))]
    if isinstance(value, dict):
        return {without_hashes(k): without_hashes(v) for k, v in value.items()}
    return value


def _line_diff(old: list[str], new: list[str]) -> list[str]:
    import difflib  # noqa: PLC0415

    diff = list(difflib.unified_diff(old, new, "before", "now", n=1, lineterm=""))
    return diff[2:14] + (["..."] if len(diff) > 14 else [])


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


def summary_counts(bars: dict[str, Any]) -> dict[str, int]:
    """How much the snapshot covers."""
    return {
        "vectors": len(bars["holdout"]["vectors"]),
        "case_files": len(bars["holdout"]["case_files"]),
        "fhir_samples": len(bars["holdout"]["fhir_samples"]),
        "other_commands": len(bars["holdout"]["other_commands"]),
        "pdfs_unsigned": len(bars["pdf"]["unsigned"]),
        "pdfs_signed": 1,
        "records_steps": sum(1 for k in bars["records"] if k[:2].isdigit()),
    }


def main(argv: list[str] | None = None) -> int:
    """Write the snapshot; with ``--compare``, print the differences (exit 1 if any)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="the snapshot JSON to write")
    parser.add_argument("--compare", type=Path, metavar="BEFORE.json",
                        help="compare with an earlier snapshot (exit 1 on any difference)")
    parser.add_argument("--repo", type=Path, default=TOOL_REPO,
                        help="where the test inputs are read (default: this tool's repository)")
    parser.add_argument("--shared", type=Path, default=TOOL_REPO.parent / "shared",
                        help="the shared folder (spec example, FHIR samples)")
    parser.add_argument("--only", choices=["holdout", "pdf", "records"], action="append",
                        help="build only these parts (default: all)")
    parser.add_argument("--ignore-hashes", action="store_true",
                        help="with --compare: mask hashes and record ids (see without_hashes)")
    parser.add_argument("--snapshot", type=Path, metavar="NOW.json",
                        help="compare this existing snapshot instead of building one")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr)

    if args.snapshot is not None:
        if args.compare is None:
            parser.error("--snapshot needs --compare")
        return _report(args, json.loads(args.snapshot.read_text(encoding="utf-8")),
                       args.snapshot)
    if args.out is None:
        parser.error("--out is required (unless --snapshot)")
    log(f"ketascreen from {package_root()}")
    parts = args.only or ["holdout", "pdf", "records"]
    with tempfile.TemporaryDirectory(prefix="bars-") as directory:
        tmp = Path(directory).resolve()
        norm = Normaliser(tmp)
        runner = Runner(tmp, norm)
        bars: dict[str, Any] = {}
        if "holdout" in parts:
            bars["holdout"] = holdout(runner, args.repo, args.shared, log)
        if "pdf" in parts:
            bars["pdf"] = pdfs(runner, args.shared, log)
        if "records" in parts:
            bars["records"] = records(runner, args.shared, log)
        vectors = sorted((args.repo / "tests" / "rules" / "vectors").glob("KS-*.toml"))
        snapshot = {
            "format": FORMAT,
            "inputs": {
                "vectors_sha256": file_digest(vectors),
                "golden_cases_sha256": hashlib.sha256(json.dumps(
                    golden_cases(args.repo), sort_keys=True).encode()).hexdigest(),
                "example_sha256": file_digest(
                    [args.shared / "spec" / "examples" / "case-example.json"]),
            },
            "commands_run": runner.commands,
            "bars": bars,
        }
    args.out.write_text(json.dumps(snapshot, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                        encoding="utf-8")
    if len(parts) == 3:
        log(f"wrote {args.out}: {summary_counts(bars)}, {runner.commands} commands")
    if args.compare is None:
        return 0
    return _report(args, snapshot, args.out)


def _report(args: argparse.Namespace, snapshot: dict[str, Any], name: Path) -> int:
    """Print the comparison of ``snapshot`` with ``--compare``; 1 if they differ."""
    before = json.loads(args.compare.read_text(encoding="utf-8"))
    if args.ignore_hashes:
        before, snapshot = without_hashes(before), without_hashes(snapshot)
        before["inputs"] = snapshot["inputs"] = None
    lines = compare(before, snapshot)
    masked = " (hashes and record ids masked)" if args.ignore_hashes else ""
    print("\n".join(lines) if lines else f"SAME: {name} matches {args.compare}{masked}")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
