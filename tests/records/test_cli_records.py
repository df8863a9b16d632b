"""The command line: users add, screen --save, records list/show/export, refusals (exit 4)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from ketascreen.cli import main
from ketascreen.reports.keys import generate_self_signed, read_certificate
from ketascreen.reports.output import SigningRequest
from tests.records.support import ACKNOWLEDGED, KEY_PASSPHRASE
from tests.reports.helpers import write_case as write_example_case


@dataclass(frozen=True)
class Clinic:
    """Files of a CLI test: password files per user, the signing key and its passphrase."""

    folder: Path
    key: Path
    passphrase: Path

    def password(self, user: str) -> str:
        """The password file of ``user``."""
        return str(self.folder / f"{user}.pw")


@pytest.fixture
def clinic(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch,
           signing_request: SigningRequest, capsys: pytest.CaptureFixture[str]) -> Clinic:
    """A database with an admin, a physician and a nurse created through the CLI."""
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", database_url)
    folder = tmp_path / "secrets"
    folder.mkdir()
    for user in ("admin", "drsmith", "rnpatel"):
        (folder / f"{user}.pw").write_text(f"{user}-password-123\n")
    passphrase = folder / "key.pass"
    passphrase.write_bytes(KEY_PASSPHRASE + b"\n")
    clinic = Clinic(folder, Path(signing_request.path), passphrase)
    assert main(["users", "add", "admin", "--role", "admin", "--name", "Clinic Admin",
                 "--new-password-file", clinic.password("admin")]) == 0
    for user, role, name, certificate in (
            ("drsmith", "physician", "Dr Jane Smith",
             ["--certificate", str(clinic.key), "--passphrase-file", str(passphrase)]),
            ("rnpatel", "nurse", "Sam Patel RN", [])):
        assert main(["users", "add", user, "--role", role, "--name", name,
                     "--new-password-file", clinic.password(user), "--user", "admin",
                     "--password-file", clinic.password("admin"), *certificate]) == 0
    capsys.readouterr()
    return clinic


def write_case(directory: Path, changes: dict[str, object] | None = None) -> Path:
    """The example case, acknowledged so that it is CLEAR and may be signed."""
    return write_example_case(directory, {**ACKNOWLEDGED, **(changes or {})})


def _as(clinic: Clinic, user: str) -> list[str]:
    return ["--user", user, "--password-file", clinic.password(user)]


def _save_signed(clinic: Clinic, tmp_path: Path, *extra: str,
                 changes: dict[str, object] | None = None, key: Path | None = None) -> int:
    case = write_case(tmp_path, changes)
    return main(["screen", str(case), "--save", "--pdf", str(tmp_path / "out.pdf"),
                 "--sign", str(key or clinic.key), "--passphrase-file", str(clinic.passphrase),
                 "--force", *extra, *_as(clinic, "drsmith")])


def _record_id(stderr: str) -> str:
    return stderr.split("saved record ")[1].split(maxsplit=1)[0]


def test_screen_save_draft_then_signed(clinic: Clinic, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """`screen --save` stores a draft; with --pdf --sign the same screening is signed."""
    case = write_case(tmp_path)
    assert main(["screen", str(case), "--save", *_as(clinic, "drsmith")]) == 0
    err = capsys.readouterr().err
    record = _record_id(err)
    assert f"saved record {record} (draft)" in err
    assert _save_signed(clinic, tmp_path) == 0
    err = capsys.readouterr().err
    assert f"saved record {record} (signed)" in err and f"record {record})" in err
    assert _save_signed(clinic, tmp_path) == 2
    assert "stored already (signed)" in capsys.readouterr().err


def test_records_list_show_export(clinic: Clinic, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """list (--today, --patient, --json), show (with events) and export of a signed record."""
    assert _save_signed(clinic, tmp_path) == 0
    record = _record_id(capsys.readouterr().err)
    assert main(["records", "list", "--today", *_as(clinic, "rnpatel")]) == 0
    out = capsys.readouterr().out
    assert record in out and "MRN-0042" in out and "signed" in out
    assert main(["records", "list", "--patient", "MRN-9", *_as(clinic, "rnpatel")]) == 0
    assert capsys.readouterr().out == "no records\n"
    assert main(["records", "list", "--json", *_as(clinic, "drsmith")]) == 0
    assert json.loads(capsys.readouterr().out)[0]["record_id"] == record
    assert main(["records", "show", record.lower(), *_as(clinic, "rnpatel")]) == 0
    out = capsys.readouterr().out
    assert f"Record:          {record}" in out
    assert "Signed:" in out and "certificate: Dr Jane Smith" in out
    assert "Clinic policy:   2026.11.0-default sha256" in out
    assert "create by drsmith (physician)" in out and "sign by drsmith" in out
    assert main(["records", "show", record, "--json", *_as(clinic, "rnpatel")]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["result"]["decision"] == shown["decision"]
    assert [e["action"] for e in shown["events"]] == ["create", "sign"]
    out_pdf = tmp_path / "exported.pdf"
    assert main(["records", "export", record, "--pdf", str(out_pdf),
                 *_as(clinic, "rnpatel")]) == 0
    assert out_pdf.read_bytes() == (tmp_path / "out.pdf").read_bytes()
    assert main(["records", "export", record, "--pdf", str(out_pdf),
                 *_as(clinic, "rnpatel")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_amend_from_the_command_line(clinic: Clinic, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`screen --save --amends ID --reason ...` stores a signed amendment."""
    assert _save_signed(clinic, tmp_path) == 0
    original = _record_id(capsys.readouterr().err)
    assert _save_signed(clinic, tmp_path, "--amends", original,
                        changes={"measurements.weight": "190 lb"}) == 2
    assert "--reason" in capsys.readouterr().err
    assert _save_signed(clinic, tmp_path, "--amends", original, "--reason", "weight",
                        changes={"measurements.weight": "190 lb"}) == 0
    err = capsys.readouterr().err
    assert f"(amendment of {original})" in err
    assert main(["records", "list", *_as(clinic, "drsmith")]) == 0
    assert f"SUPERSEDED by {_record_id(err)}" in capsys.readouterr().out


def test_nurse_is_refused_with_exit_4(clinic: Clinic, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A nurse saving a signed screening is refused before anything is written."""
    case = write_case(tmp_path)
    out_pdf = tmp_path / "nurse.pdf"
    assert main(["screen", str(case), "--save", "--pdf", str(out_pdf), "--sign",
                 str(clinic.key), "--passphrase-file", str(clinic.passphrase),
                 *_as(clinic, "rnpatel")]) == 4
    assert "refused: rnpatel (nurse) may not screen" in capsys.readouterr().err
    assert not out_pdf.exists()
    assert main(["users", "add", "x1", "--role", "nurse", "--name", "X",
                 "--new-password-file", clinic.password("admin"),
                 *_as(clinic, "drsmith")]) == 4
    assert main(["audit", "verify"]) == 0


def test_login_problems(clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    """No user named, a wrong password, and the prompt and KETASCREEN_USER paths."""
    assert main(["records", "list"]) == 4
    assert "--user or KETASCREEN_USER" in capsys.readouterr().err
    wrong = tmp_path / "wrong.pw"
    wrong.write_text("not the password\n")
    assert main(["records", "list", "--user", "drsmith", "--password-file", str(wrong)]) == 4
    assert "login refused for 'drsmith'" in capsys.readouterr().err
    monkeypatch.setenv("KETASCREEN_USER", "drsmith")
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return "drsmith-password-123"

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert main(["records", "list"]) == 0
    assert prompts == ["ketascreen password for drsmith: "]


def test_users_add_prompts_twice(clinic: Clinic, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A new password is asked twice; differing entries are refused."""
    answers = iter(["first-password-1", "second-password-1"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt: next(answers))
    assert main(["users", "add", "rnlee", "--role", "nurse", "--name", "Kim Lee",
                 *_as(clinic, "admin")]) == 2
    assert "the two entries differ" in capsys.readouterr().err
    assert main(["users", "list", *_as(clinic, "admin")]) == 0
    assert "rnpatel" in capsys.readouterr().out


def test_save_argument_combinations(clinic: Clinic, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """--save takes one source, no --summary; --amends needs --save and --sign."""
    case = str(write_case(tmp_path))
    assert main(["screen", case, case, "--save"]) == 2
    assert main(["screen", case, "--save", "--summary"]) == 2
    assert main(["screen", case, "--amends", "KS-1"]) == 2
    assert main(["screen", case, "--save", "--amends", "KS-1", "--reason", "x"]) == 2
    assert "--sign" in capsys.readouterr().err


def test_broken_database_url_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    """An unusable KETASCREEN_DATABASE_URL exits 3 without a traceback."""
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", "mysql://x@y/z")
    assert main(["audit", "verify"]) == 3
    assert "configuration error: records database" in capsys.readouterr().err


def _new_key(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A new self-signed key store and its PEM certificate."""
    pair = generate_self_signed(name, KEY_PASSPHRASE)
    key, pem = tmp_path / "new.p12", tmp_path / "cert.pem"
    key.write_bytes(pair.pkcs12)
    pem.write_bytes(pair.certificate_pem)
    return key, pem


def test_users_add_registers_the_certificate_of_a_p12(clinic: Clinic,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`users add --certificate KEY.p12 --passphrase-file` (the fixture) registered it:
    `users certificate list` shows the fingerprint; a nurse's account takes none."""
    fingerprint = read_certificate(clinic.key.read_bytes(), passphrase=KEY_PASSPHRASE).sha256
    assert main(["users", "certificate", "list", *_as(clinic, "drsmith")]) == 0
    out = capsys.readouterr().out
    assert f"drsmith              {fingerprint}  Dr Jane Smith" in out and "by admin" in out
    assert main(["users", "add", "rnx", "--role", "nurse", "--name", "X RN",
                 "--new-password-file", clinic.password("admin"), "--certificate",
                 str(clinic.key), "--passphrase-file", str(clinic.passphrase),
                 *_as(clinic, "admin")]) == 2
    assert "only a physician's account" in capsys.readouterr().err


def test_certificate_add_with_a_pem_file(clinic: Clinic, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`users certificate add USER CERT.pem` by the physician themself; not by a nurse, not
    for another physician; a certificate already registered to another account is refused."""
    key, pem = _new_key(tmp_path, "Dr Jane Smith")
    assert main(["users", "certificate", "add", "drsmith", str(pem),
                 *_as(clinic, "rnpatel")]) == 4
    assert main(["users", "certificate", "add", "drsmith", str(pem),
                 *_as(clinic, "drsmith")]) == 0
    fingerprint = read_certificate(pem.read_bytes()).sha256
    assert f"sha256 {fingerprint}) is registered to drsmith" in capsys.readouterr().err
    assert main(["users", "add", "drjones", "--role", "physician", "--name", "Dr Tom Jones",
                 "--new-password-file", clinic.password("admin"), "--certificate", str(pem),
                 *_as(clinic, "admin")]) == 4
    assert "registered to another account (drsmith)" in capsys.readouterr().err
    assert main(["users", "certificate", "add", "drjones", str(pem),
                 *_as(clinic, "drsmith")]) == 4
    assert main(["users", "certificate", "list", "drsmith", *_as(clinic, "admin")]) == 0
    assert fingerprint in capsys.readouterr().out
    # the new key now signs for drsmith
    assert _save_signed(clinic, tmp_path, key=key) == 0
    assert main(["audit", "verify"]) == 0


def test_signing_with_an_unregistered_key_is_refused_before_writing(
        clinic: Clinic, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`screen --save --sign` with a key not registered to the user: exit 4, no PDF, audited."""
    key, _ = _new_key(tmp_path, "Dr Jane Smith")
    fingerprint = read_certificate(key.read_bytes(), passphrase=KEY_PASSPHRASE).sha256
    assert _save_signed(clinic, tmp_path, key=key) == 4
    err = capsys.readouterr().err
    assert f"sha256 {fingerprint[:16]}" in err and "is not registered to drsmith" in err
    assert not (tmp_path / "out.pdf").exists()
    assert main(["records", "list", *_as(clinic, "drsmith")]) == 0
    assert capsys.readouterr().out == "no records\n"
    assert main(["audit", "verify"]) == 0


def test_same_day_second_signing_is_refused_with_the_way_to_amend(
        clinic: Clinic, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second signed checklist for the patient today: exit 4 naming the record, the signer
    and `--amends ID --reason`; no PDF written; the amendment then goes through."""
    assert _save_signed(clinic, tmp_path) == 0
    original = _record_id(capsys.readouterr().err)
    (tmp_path / "out.pdf").unlink()
    assert _save_signed(clinic, tmp_path, changes={"measurements.weight": "190 lb"}) == 4
    err = capsys.readouterr().err
    assert f"already has a checklist signed today: {original}, signed by Dr Jane Smith" in err
    assert f"--amends {original} --reason" in err
    assert not (tmp_path / "out.pdf").exists()
    assert _save_signed(clinic, tmp_path, "--amends", original, "--reason", "weight",
                        changes={"measurements.weight": "190 lb"}) == 0
    assert f"(amendment of {original})" in capsys.readouterr().err
    assert main(["records", "list", "--current", *_as(clinic, "rnpatel")]) == 0
    out = capsys.readouterr().out
    assert original not in out.replace(f"[amends {original}]", "")
    assert f"[amends {original}]" in out and "SUPERSEDED" not in out
    fingerprint = read_certificate(clinic.key.read_bytes(), passphrase=KEY_PASSPHRASE).sha256
    assert main(["records", "show", original, *_as(clinic, "rnpatel")]) == 0
    assert f"Certificate:     sha256 {fingerprint}" in capsys.readouterr().out
