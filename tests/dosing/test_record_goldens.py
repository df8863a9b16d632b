"""Re-recording the dosing goldens is deterministic and restores exactly what the engine does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dosing import record_goldens
from tests.dosing.test_golden import CASES, GOLDEN


def test_recording_an_unchanged_tree_leaves_the_file_byte_identical(tmp_path: Path) -> None:
    """Recorded now, the goldens are the committed file byte for byte, and recording twice
    writes the same bytes."""
    copy = tmp_path / "golden_outcomes.json"
    copy.write_bytes(GOLDEN.read_bytes())
    assert record_goldens.record(copy) is False
    assert copy.read_bytes() == GOLDEN.read_bytes()
    assert record_goldens.recorded() == record_goldens.recorded()


def test_recording_restores_an_edited_file(tmp_path: Path) -> None:
    """A golden file with one value changed is rewritten to what the engine hands out."""
    data = json.loads(GOLDEN.read_text(encoding="utf-8"))
    first = next(iter(CASES))
    data[first]["working"][0] += " (edited)"
    edited = tmp_path / "golden_outcomes.json"
    edited.write_text(record_goldens.render(data), encoding="utf-8")
    assert record_goldens.record(edited) is True
    assert edited.read_bytes() == GOLDEN.read_bytes()


def test_the_command_checks_and_records(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """``--check`` exits 1 on a file that would change and 0 once it is recorded."""
    out = tmp_path / "golden_outcomes.json"
    out.write_text("{}\n", encoding="utf-8")
    assert record_goldens.main(["--check", "--out", str(out)]) == 1
    assert "WOULD CHANGE" in capsys.readouterr().out
    assert record_goldens.main(["--out", str(out)]) == 0
    assert "CHANGED" in capsys.readouterr().out
    assert record_goldens.main(["--check", "--out", str(out)]) == 0
    assert out.read_bytes() == GOLDEN.read_bytes()
