"""The command line: report, JSON, schema, and exit status 2 with a field-naming message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ketascreen.cli import main
from ketascreen.models.result import Result
from ketascreen.records.db import DATABASE_FILE
from ketascreen.screening import rule_set_in_force
from tests.helpers.cases import clean_case, patched


def test_screen_prints_report(example_case_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The readable report groups findings by severity with basis, action and source."""
    assert main(["screen", str(example_case_path)]) == 0
    out = capsys.readouterr().out
    assert "DECISION: [!] NEEDS REVIEW" in out
    assert "RELATIVE - physician must acknowledge (1)" in out
    assert "basis   Xanax 0.5 mg tablet (alprazolam)" in out
    assert "source  R64" in out


def test_screen_json_is_result_format(example_case_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints exactly ketascreen-result/1."""
    assert main(["screen", str(example_case_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["format", "decision", "findings", "abuse_risk", "dose", "ruleset"]
    assert list(data["findings"][0]) == ["rule_id", "concept", "kind", "severity", "title",
                                         "basis", "action", "source", "acknowledged"]
    Result.model_validate(data)
    assert data["format"] == "ketascreen-result/1"


def test_invalid_case_exits_2_naming_field(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """An invalid case prints no result, and names the field and value on stderr."""
    path = tmp_path / "case.json"
    path.write_text(json.dumps(patched(clean_case(), {"measurements.weight": "70 mL"})))
    assert main(["screen", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert 'measurements.weight: "70 mL" is a volume, not a mass' in captured.err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that does not exist is an input error too."""
    assert main(["screen", str(tmp_path / "nope.json")]) == 2
    assert "cannot be read" in capsys.readouterr().err


def test_schema_case(capsys: pytest.CaptureFixture[str]) -> None:
    """`ketascreen schema case` prints the case model's JSON Schema."""
    assert main(["schema", "case"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False
    assert {"format", "screening_date", "patient", "indication"} <= set(schema["required"])


def test_console_script_runs(example_case_path: Path) -> None:
    """The installed entry point works as a separate process."""
    done = subprocess.run([sys.executable, "-m", "ketascreen.cli", "screen",
                           str(example_case_path), "--json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["decision"] == "needs-review"


def test_screening_never_creates_a_records_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    """Without a configured or existing records database, `screen` (report, JSON, summary)
    uses the shipped files and leaves no database behind in the data folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("KETASCREEN_HOME", str(home))
    monkeypatch.delenv("KETASCREEN_DATABASE_URL", raising=False)
    case = tmp_path / "case.json"
    case.write_text(json.dumps(clean_case()), encoding="utf-8")
    assert main(["screen", str(case), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ruleset"]["sha256"] == rule_set_in_force().info.sha256
    assert main(["screen", str(case), "--summary"]) == 0
    assert main(["screen", str(case)]) == 0
    assert not (home / DATABASE_FILE).exists()
