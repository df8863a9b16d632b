"""The bedside on the command line, end to end: a physician signs (``screen --save --sign``), a
nurse double-checks (``records double-check``: a mismatch names the item and exits 1, a recheck
matches) and countersigns (``records countersign``), and ``ketascreen verify --json`` lists two
valid signatures, in order, trusted through the records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ketascreen.cli import main
from tests.records.test_cli_records import Clinic, _as, _record_id, _save_signed
from tests.records.test_cli_records import clinic as clinic  # noqa: PLC0414 - the fixture

BAG = {"protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "weight_basis": "actual"},
       "measurements.weight": "66 kg"}
RIGHT = {"identifiers": [["name", "RIVERA, Alex"], ["birth-date", "1979-05-14"]],
         "vial_concentration": "50", "volume_drawn": "0.66", "diluent_volume": "100",
         "pump_rate": "151", "vtbi": "100.6"}


@pytest.fixture
def ward(clinic: Clinic, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, Path]:
    """A second nurse (the witness), the bag order signed, and the nurse's own trial key."""
    (clinic.folder / "rnlee.pw").write_text("rnlee-password-123\n")
    assert main(["users", "add", "rnlee", "--role", "nurse", "--name", "Kim Lee RN",
                 "--new-password-file", clinic.password("rnlee"), *_as(clinic, "admin")]) == 0
    assert _save_signed(clinic, tmp_path, changes=BAG) == 0
    record = _record_id(capsys.readouterr().err)
    key = tmp_path / "patel.p12"
    assert main(["keygen", "--name", "Sam Patel", "--credentials", "RN", "--out", str(key),
                 "--passphrase-file", str(clinic.passphrase)]) == 0
    capsys.readouterr()
    return record, key


def _entries(tmp_path: Path, **changes: str) -> str:
    path = tmp_path / "entries.json"
    path.write_text(json.dumps({**RIGHT, **changes}), encoding="utf-8")
    return str(path)


def _double_check(clinic: Clinic, record: str, entries: str, *extra: str) -> int:
    return main(["records", "double-check", record, "--entries", entries,
                 "--witness", "rnlee", "--witness-password-file", clinic.password("rnlee"),
                 *extra, *_as(clinic, "rnpatel")])


def test_sign_double_check_countersign_verify(clinic: Clinic, ward: tuple[str, Path],
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    record, key = ward
    assert _double_check(clinic, record, _entries(tmp_path, pump_rate="15.1")) == 1
    out = capsys.readouterr().out
    assert "Pump rate" in out and "DIFFERS  entered 15.1 mL/h" in out
    assert "RESULT: MISMATCH: Pump rate" in out
    assert "151 mL/h" not in out and "order:" not in out  # blinded: the order is not shown
    assert _double_check(clinic, record, _entries(tmp_path), "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["result"] == "match" and shown["witness"] == "rnlee"
    rate = next(item for item in shown["items"] if item["key"] == "pump-rate")
    assert rate == {"key": "pump-rate", "item": "Pump rate", "entered": "151 mL/h",
                    "matches": True, "ordered": "151 mL/h"}

    out_pdf = tmp_path / "countersigned.pdf"
    countersign = ["records", "countersign", record, "--sign", str(key), "--passphrase-file",
                   str(clinic.passphrase), "--out", str(out_pdf), *_as(clinic, "rnpatel")]
    assert main([*countersign, "--register"]) == 0
    assert f"countersigned {record} as Sam Patel" in capsys.readouterr().out
    assert out_pdf.read_bytes().startswith((tmp_path / "out.pdf").read_bytes())

    assert main(["verify", "--json", str(out_pdf)]) == 0
    verified = json.loads(capsys.readouterr().out)
    signatures = verified["signatures"]
    assert [s["field"] for s in signatures] == ["KetascreenSignature",
                                                "KetascreenCountersignature"]
    assert all(s["intact"] and s["valid"] and s["trusted"] for s in signatures)
    assert [s["signer"] for s in signatures] == ["Dr Jane Smith", "Sam Patel"]
    assert verified["status"] == "VALID"

    assert main([*countersign, "--force"]) == 4  # once only
    assert "countersigned already" in capsys.readouterr().err
    assert main(["audit", "verify"]) == 0


def test_countersigning_before_a_passing_check_is_refused(
        clinic: Clinic, ward: tuple[str, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    record, key = ward
    assert main(["records", "countersign", record, "--sign", str(key), "--passphrase-file",
                 str(clinic.passphrase), "--out", str(tmp_path / "c.pdf"), "--register",
                 *_as(clinic, "rnpatel")]) == 4
    assert "double check" in capsys.readouterr().err
    assert not (tmp_path / "c.pdf").exists()


def test_double_check_refusals_exit_4_and_bad_entries_exit_2(
        clinic: Clinic, ward: tuple[str, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    record, _ = ward
    entries = _entries(tmp_path)
    assert main(["records", "double-check", record, "--entries", entries, "--witness",
                 "rnlee", "--witness-password-file", clinic.password("rnpatel"),
                 *_as(clinic, "rnpatel")]) == 4  # the witness's password is not hers
    assert "login refused for 'rnlee'" in capsys.readouterr().err
    assert main(["records", "double-check", record, "--entries", entries, "--witness",
                 "drsmith", "--witness-password-file", clinic.password("drsmith"),
                 *_as(clinic, "rnpatel")]) == 4
    assert "the witness signed the order" in capsys.readouterr().err
    assert _double_check(clinic, record, _entries(tmp_path, pump_rate="151 mL",
                                                  vtbi="")) == 2
    err = capsys.readouterr().err
    assert "pump_rate" in err and "vtbi" in err
    assert _double_check(clinic, record, _entries(tmp_path, pump_rate="0.151 L/h")) == 0
