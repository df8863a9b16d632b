"""Signed checklists: PAdES verified by ketascreen and by poppler's pdfsig; tampering caught."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ketascreen.api import load_case
from ketascreen.cli import main
from ketascreen.models.checklist import canonical_json
from ketascreen.reports.signing import embedded_attachments
from ketascreen.screening import screen
from tests.reports.conftest import SigningKey
from tests.reports.helpers import make_pdf, pages_text, write_case

needs_pdfsig = pytest.mark.skipif(shutil.which("pdfsig") is None or shutil.which("certutil")
                                  is None, reason="poppler-utils / libnss3-tools missing")


ACKNOWLEDGED = {"acknowledgements": [
    {"concept": "benzodiazepine", "reason": "Evening alprazolam held the night before."}]}


def _sign(tmp_path: Path, key: SigningKey, name: str = "signed.pdf") -> Path:
    return make_pdf(tmp_path, "--sign", str(key.p12), "--passphrase-file",
                    str(key.passphrase_file), name=name, changes=ACKNOWLEDGED)


def _verify(path: Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    capsys.readouterr()
    status = main(["verify", str(path), "--json", *extra])
    return status, json.loads(capsys.readouterr().out)


def test_signed_pdf_verifies_and_shows_signer(tmp_path: Path, ec_key: SigningKey,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """ketascreen verify accepts a fresh signature trusted with --trust; the page prints name,
    time and meaning. Without a trust anchor the trial certificate's claim is not trusted."""
    pdf = _sign(tmp_path, ec_key)
    status, report = _verify(pdf, "--trust", str(ec_key.certificate), capsys=capsys)
    assert status == 0, report
    assert report["intact"] and report["valid"] and report["ok"]
    assert report["status"] == "VALID"
    assert report["modified_after_signing"] is False
    assert report["signer"] == "Dr Jane Smith"
    assert report["trust"].startswith("trusted")
    fingerprint = report["certificate_sha256"]
    assert fingerprint in report["trust"] and len(fingerprint) == 64
    assert [s["field"] for s in report["signatures"]] == ["KetascreenSignature"]
    status, report = _verify(pdf, capsys=capsys)
    assert status == 5
    assert report["verdict"] == f"UNTRUSTED: unknown signer (fingerprint {fingerprint})"
    text = re.sub(r"\s+", " ", " ".join(pages_text(pdf)))
    assert "Signed by: Dr Jane Smith" in text
    assert "Credentials: MD" in text
    assert "Meaning of signature: Screened and approved for first infusion" in text


def test_embedded_json_equals_result(tmp_path: Path, ec_key: SigningKey,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The case and result travel under the signature, byte for byte as screened."""
    pdf = _sign(tmp_path, ec_key)
    attachments = embedded_attachments(pdf.read_bytes())
    case = load_case(write_case(tmp_path, ACKNOWLEDGED))
    result = screen(case)
    assert json.loads(attachments["ketascreen-result.json"]) == result.model_dump(mode="json")
    assert json.loads(attachments["ketascreen-case.json"]) == case.model_dump(
        mode="json", exclude_none=True)
    expected = hashlib.sha256(canonical_json(result.model_dump(mode="json"))).hexdigest()
    _, report = _verify(pdf, "--trust", str(ec_key.certificate), capsys=capsys)
    assert report["record_sha256"] == expected


def test_flipped_byte_and_appended_update_are_caught(tmp_path: Path, rsa_key: SigningKey,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """One byte changed inside the signed range, or an update appended after, fails verify."""
    pdf = _sign(tmp_path, rsa_key)
    data = bytearray(pdf.read_bytes())
    position = data.index(b"/Title (") + len(b"/Title (")
    data[position] ^= 0x20
    flipped = tmp_path / "flipped.pdf"
    flipped.write_bytes(bytes(data))
    status, report = _verify(flipped, "--trust", str(rsa_key.certificate), capsys=capsys)
    assert status == 1
    assert report["status"] == "INVALID"
    assert report["intact"] is False and report["ok"] is False
    assert "the signature: the signed bytes were changed" in report["problems"]

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with pdf.open("rb") as handle:
        writer = IncrementalPdfFileWriter(handle)
        writer.root["/Lang"] = generic.TextStringObject("fr")
        writer.update_root()
        appended = tmp_path / "appended.pdf"
        with appended.open("wb") as out:
            writer.write(out)
    status, report = _verify(appended, "--trust", str(rsa_key.certificate), capsys=capsys)
    assert status == 1
    assert report["modified_after_signing"] is True
    assert report["verdict"] == "INVALID: the signature: the document was modified after signing"


@needs_pdfsig
def test_pdfsig_agrees(tmp_path: Path, ec_key: SigningKey) -> None:
    """Poppler's pdfsig reports the signature valid and complete, and the flipped byte as a
    digest mismatch. (The trial certificate is an end entity: NSS does not trust a self-signed
    end entity as its own issuer; test_verify_attacks has pdfsig trust a CA-issued signer.)"""
    pdf = _sign(tmp_path, ec_key)
    nss = tmp_path / "nssdb"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "ketascreen", "-t", "P,P,P",
                    "-i", str(ec_key.certificate)], check=True)
    done = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True,
                          text=True, check=False)
    assert "Signature is Valid." in done.stdout, done.stdout
    assert "Total document signed" in done.stdout
    data = bytearray(pdf.read_bytes())
    position = data.index(b"/Title (") + len(b"/Title (")
    data[position] ^= 0x20
    flipped = tmp_path / "flipped.pdf"
    flipped.write_bytes(bytes(data))
    done = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(flipped)],
                          capture_output=True, text=True, check=False)
    assert "Digest Mismatch." in done.stdout, done.stdout


def test_existing_files_are_not_overwritten(tmp_path: Path, ec_key: SigningKey,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Without --force an existing file stays; replacing a signed one is never silent."""
    pdf = _sign(tmp_path, ec_key)
    before = pdf.read_bytes()
    case = write_case(tmp_path, ACKNOWLEDGED)
    assert main(["screen", str(case), "--pdf", str(pdf)]) == 2
    assert "a signed document already exists" in capsys.readouterr().err
    assert pdf.read_bytes() == before
    assert main(["screen", str(case), "--pdf", str(pdf), "--force"]) == 0
    assert "replaced the signed document" in capsys.readouterr().err
    assert list(tmp_path.glob(".*.tmp")) == []


def test_wrong_passphrase_is_a_clear_error(tmp_path: Path, ec_key: SigningKey,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong passphrase exits 2 with a message, and writes nothing."""
    wrong = tmp_path / "wrong.pass"
    wrong.write_text("not it")
    case = write_case(tmp_path, ACKNOWLEDGED)
    out = tmp_path / "x.pdf"
    assert main(["screen", str(case), "--pdf", str(out), "--sign", str(ec_key.p12),
                 "--passphrase-file", str(wrong)]) == 2
    assert "wrong passphrase" in capsys.readouterr().err
    assert not out.exists()


def test_keygen_writes_key_and_certificate(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """keygen makes a PKCS#12 and its PEM, refusing to overwrite them."""
    secret = tmp_path / "pass"
    secret.write_text("s3cret\n")
    out = tmp_path / "me.p12"
    args = ["keygen", "--name", "Dr A Test", "--credentials", "MD", "--out", str(out),
            "--passphrase-file", str(secret)]
    assert main(args) == 0
    assert out.exists()
    assert out.with_suffix(".pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(("changes", "decision"), [
    ({}, "needs-review"),
    ({"history.psychotic-disorder": "yes"}, "do-not-infuse"),
    ({"substance_use": {}}, "insufficient-data"),
])
def test_only_a_clear_screening_is_signed(tmp_path: Path, ec_key: SigningKey,
                                          capsys: pytest.CaptureFixture[str],
                                          changes: dict[str, object], decision: str) -> None:
    """The signature means approval for infusion: any other decision is refused, nothing written."""
    out = tmp_path / "refused.pdf"
    assert main(["screen", str(write_case(tmp_path, changes)), "--pdf", str(out), "--sign",
                 str(ec_key.p12), "--passphrase-file", str(ec_key.passphrase_file)]) == 2
    assert f"not signed: the decision is {decision}" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf missing")
def test_the_signature_stamp_shows_local_time_with_its_offset(
        tmp_path: Path, ec_key: SigningKey, monkeypatch: pytest.MonkeyPatch) -> None:
    """The visible stamp on page 1 says the clinic's local time with its UTC offset (as the
    page's signature block does), never a bare "UTC" or a zone abbreviation."""
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        pdf = _sign(tmp_path, ec_key)
    finally:
        monkeypatch.undo()
        time.tzset()
    expanded = tmp_path / "expanded.pdf"
    subprocess.run(["qpdf", "--qdf", "--object-streams=disable", str(pdf), str(expanded)],
                   check=False, capture_output=True)
    stamps = re.findall(rb"\(Time\\072 ([^)]*)\)", expanded.read_bytes())
    assert len(stamps) == 1
    shown = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), stamps[0]).decode()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d -0[45]:00", shown), shown
