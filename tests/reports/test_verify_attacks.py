"""`ketascreen verify` under attack: trust comes from the clinic, never from the certificate.

Each test plays an attacker with a copy of ketascreen and file access to a workstation, and
checks the verdict a clinic would see (the ``RESULT:`` line, the JSON ``verdict``, the exit
status: 0 VALID, 1 INVALID, 5 UNTRUSTED).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ketascreen.cli import main
from ketascreen.reports.keys import generate_self_signed, read_certificate
from ketascreen.reports.signing import COUNTERSIGNATURE_FIELD
from tests.reports.conftest import SigningKey
from tests.reports.helpers import make_pdf

ACKNOWLEDGED = {"acknowledgements": [
    {"concept": "benzodiazepine", "reason": "Evening alprazolam held the night before."}]}
PASSPHRASE = b"correct horse battery staple"
needs_pdfsig = pytest.mark.skipif(shutil.which("pdfsig") is None or shutil.which("certutil")
                                  is None, reason="poppler-utils / libnss3-tools missing")


@pytest.fixture(autouse=True)
def _no_records(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the real data folder or a configured database or trust bundle."""
    monkeypatch.setenv("KETASCREEN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KETASCREEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("KETASCREEN_TRUST", raising=False)


def _key_files(directory: Path, stem: str, p12: bytes, pem: bytes) -> SigningKey:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{stem}.p12").write_bytes(p12)
    (directory / f"{stem}.pem").write_bytes(pem)
    (directory / f"{stem}.pass").write_bytes(PASSPHRASE + b"\n")
    return SigningKey(directory / f"{stem}.p12", directory / f"{stem}.pass",
                      directory / f"{stem}.pem")


def _trial_key(directory: Path, stem: str, name: str = "Dr Jane Smith") -> SigningKey:
    pair = generate_self_signed(name, PASSPHRASE, credentials="MD")
    return _key_files(directory, stem, pair.pkcs12, pair.certificate_pem)


def _sign(directory: Path, key: SigningKey, name: str = "signed.pdf") -> Path:
    return make_pdf(directory, "--sign", str(key.p12), "--passphrase-file",
                    str(key.passphrase_file), name=name, changes=ACKNOWLEDGED)


def _verify(path: Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    capsys.readouterr()
    status = main(["verify", str(path), "--json", *extra])
    return status, json.loads(capsys.readouterr().out)


def _verify_text(path: Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["verify", str(path), *extra])
    return status, capsys.readouterr().out


def _fingerprint(key: SigningKey) -> str:
    return read_certificate(key.certificate.read_bytes()).sha256


@dataclass(frozen=True)
class Issuer:
    """A certificate with its private key, able to issue certificates (if it is allowed to)."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _issue(name: str, issuer: Issuer | None, *, ca: bool) -> Issuer:
    """A certificate for ``name`` issued by ``issuer`` (self-signed when ``None``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder().subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False))
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
    signing_key = issuer.key if issuer else key
    return Issuer(builder.sign(signing_key, hashes.SHA256()), key)


def _key_store(directory: Path, stem: str, leaf: Issuer, chain: list[x509.Certificate]
               ) -> SigningKey:
    p12 = pkcs12.serialize_key_and_certificates(
        b"signer", leaf.key, leaf.certificate, chain,
        serialization.BestAvailableEncryption(PASSPHRASE))
    return _key_files(directory, stem, p12,
                      leaf.certificate.public_bytes(serialization.Encoding.PEM))


def _trial_issuer(key: SigningKey) -> Issuer:
    """The certificate and private key of a `keygen` trial key store."""
    private, certificate, _ = pkcs12.load_key_and_certificates(key.p12.read_bytes(), PASSPHRASE)
    assert isinstance(private, ec.EllipticCurvePrivateKey) and certificate is not None
    return Issuer(certificate, private)


def test_forged_self_signed_signer_is_untrusted(tmp_path: Path, ec_key: SigningKey,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A forger's new `keygen` key named "Dr Jane Smith" signs a checklist that looks right;
    verify names it an unknown signer with its fingerprint and exits 5, with or without the
    real Dr Smith's certificate trusted."""
    forger = _trial_key(tmp_path / "forger", "forger")
    pdf = _sign(tmp_path, forger)
    forged_fingerprint = _fingerprint(forger)
    assert forged_fingerprint != _fingerprint(ec_key)
    for extra in ((), ("--trust", str(ec_key.certificate))):
        status, out = _verify_text(pdf, *extra, capsys=capsys)
        assert status == 5, out
        assert (f"RESULT: UNTRUSTED: unknown signer (fingerprint {forged_fingerprint})"
                in out)
        assert "Signer (certificate name): Dr Jane Smith" in out
        assert "RESULT: VALID" not in out
    status, report = _verify(pdf, "--trust", str(ec_key.certificate), capsys=capsys)
    assert status == 5 and report["status"] == "UNTRUSTED" and not report["ok"]
    assert report["intact"] and report["valid"]  # the bytes are fine; the identity is not
    assert report["certificate_sha256"] == forged_fingerprint


def test_real_signer_trusted_with_trust_or_keygen_bundle_env(
        tmp_path: Path, ec_key: SigningKey, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The real key verifies with --trust of its certificate, or KETASCREEN_TRUST naming a
    bundle of several certificates."""
    pdf = _sign(tmp_path, ec_key)
    other = _trial_key(tmp_path / "other", "other", "Dr Other")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(other.certificate.read_bytes() + ec_key.certificate.read_bytes())
    monkeypatch.setenv("KETASCREEN_TRUST", str(bundle))
    status, out = _verify_text(pdf, capsys=capsys)
    assert status == 0, out
    assert "RESULT: VALID" in out
    assert f"fingerprint {_fingerprint(ec_key)}" in out


def test_tampered_file_signed_again_is_invalid(tmp_path: Path, ec_key: SigningKey,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A real signed checklist gets a new line drawn on its page in an incremental update,
    then a second signature (the forger's, then even the real key's) over everything: the
    first signature reports the modification, so the file is INVALID, never VALID. A second
    signature (another person's) that only fills the pre-created countersignature field is a
    permitted countersignature; one in a field of its own, or by the first signer's
    certificate, is refused."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    pdf = _sign(tmp_path, ec_key)
    forger = _trial_key(tmp_path / "forger", "forger")

    def sign_again(key: SigningKey, *, tamper: bool, name: str,
                   field: str | None = None) -> Path:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf.read_bytes()))
        if tamper:
            overlay = writer.add_object(generic.StreamObject(
                stream_data=b"BT /F1 24 Tf 72 400 Td (PUMP RATE 150 mL/h) Tj ET"))
            writer.add_stream_to_page(0, overlay)
        signer = signers.SimpleSigner.load_pkcs12(str(key.p12), passphrase=PASSPHRASE)
        assert signer is not None
        out = io.BytesIO()
        signers.sign_pdf(writer, signers.PdfSignatureMetadata(
            field_name=field or f"Second{name}"), signer=signer, output=out)
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(out.getvalue())
        return path

    tampered = sign_again(forger, tamper=True, name="forged")
    trust_both = ("--trust", str(ec_key.certificate), "--trust", str(forger.certificate))
    status, report = _verify(tampered, *trust_both, capsys=capsys)
    assert status == 1, report
    assert report["status"] == "INVALID" and report["modified_after_signing"] is True
    assert report["verdict"] == "INVALID: signature 1: the document was modified after signing"
    assert [s["field"] for s in report["signatures"]] == ["KetascreenSignature",
                                                          "Secondforged"]
    tampered_real = sign_again(ec_key, tamper=True, name="real")
    status, out = _verify_text(tampered_real, "--trust", str(ec_key.certificate),
                               capsys=capsys)
    assert status == 1
    assert "RESULT: INVALID: signature 1: the document was modified after signing" in out

    nurse = _trial_key(tmp_path / "nurse", "nurse", name="Ann Lee")
    countersigned = sign_again(nurse, tamper=False, name="counter",
                               field=COUNTERSIGNATURE_FIELD)
    status, report = _verify(countersigned, "--trust", str(ec_key.certificate), "--trust",
                             str(nurse.certificate), capsys=capsys)
    assert status == 0, report
    assert [s["trusted"] for s in report["signatures"]] == [True, True]
    own = sign_again(ec_key, tamper=False, name="own", field=COUNTERSIGNATURE_FIELD)
    status, report = _verify(own, "--trust", str(ec_key.certificate), capsys=capsys)
    assert status == 1, report
    assert report["verdict"] == ("INVALID: signature 2 is by the certificate of signature 1: "
                                 "an independent double check is countersigned by someone "
                                 "else")
    own_field = sign_again(ec_key, tamper=False, name="ownfield")
    status, report = _verify(own_field, "--trust", str(ec_key.certificate), capsys=capsys)
    assert status == 1, report
    assert report["verdict"] == ("INVALID: signature 2 is not the countersignature: it is in "
                                 f"field Secondownfield, not {COUNTERSIGNATURE_FIELD}")
    assert report["modified_after_signing"] is False
    status, report = _verify(sign_again(forger, tamper=False, name="forgedcounter",
                                        field=COUNTERSIGNATURE_FIELD),
                             "--trust", str(ec_key.certificate), capsys=capsys)
    assert status == 5  # a countersignature by an unknown signer is not trusted either
    assert report["verdict"] == ("UNTRUSTED: unknown signer (fingerprint "
                                 f"{_fingerprint(forger)})")


def test_certificate_minted_by_a_trial_certificate_is_refused(
        tmp_path: Path, ec_key: SigningKey, capsys: pytest.CaptureFixture[str]) -> None:
    """keygen makes end-entity certificates; one "issued" by a trial key (in the chain of the
    signature) is refused even when the trial certificate is given as --trust."""
    trial = _trial_issuer(ec_key)
    assert trial.certificate.extensions.get_extension_for_class(
        x509.BasicConstraints).value.ca is False
    usage = trial.certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    minted = _issue("Dr Jane Smith", trial, ca=False)
    key = _key_store(tmp_path / "minted", "minted", minted, [trial.certificate])
    pdf = _sign(tmp_path, key)
    status, report = _verify(pdf, "--trust", str(ec_key.certificate), capsys=capsys)
    assert status == 5, report
    assert report["verdict"] == (
        f"UNTRUSTED: unknown signer (fingerprint {_fingerprint(key)}): issued by Dr Jane "
        "Smith, which is not a certificate authority")


def test_ca_issued_signer_is_trusted_through_the_chain(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A clinic CA issues Dr Smith's certificate: --trust of the CA is enough; a certificate
    issued by a non-CA intermediate of that CA is refused."""
    root = _issue("Riverside Clinic CA", None, ca=True)
    leaf = _issue("Dr Jane Smith", root, ca=False)
    key = _key_store(tmp_path / "ca", "leaf", leaf, [root.certificate])
    ca_pem = tmp_path / "ca.pem"
    ca_pem.write_bytes(root.certificate.public_bytes(serialization.Encoding.PEM))
    pdf = _sign(tmp_path, key)
    status, report = _verify(pdf, "--trust", str(ca_pem), capsys=capsys)
    assert status == 0, report
    assert report["trust"] == (f"trusted (chains to Riverside Clinic CA; fingerprint "
                               f"{_fingerprint(key)})")
    minted = _issue("Dr Minted", leaf, ca=False)
    minted_key = _key_store(tmp_path / "minted", "minted", minted,
                            [leaf.certificate, root.certificate])
    status, report = _verify(_sign(tmp_path, minted_key, "minted.pdf"), "--trust", str(ca_pem),
                             capsys=capsys)
    assert status == 5, report
    assert report["status"] == "UNTRUSTED"


def _corrupt_contents(pdf: bytes) -> bytes:
    """The signature container (/Contents hex string) overwritten with other hex digits."""
    match = re.search(rb"/Contents\s*<([0-9a-fA-F]+)>", pdf)
    assert match is not None
    start, end = match.span(1)
    garbage = (b"3082" + b"deadbeef" * ((end - start) // 8 + 1))[: end - start]
    return pdf[:start] + garbage + pdf[end:]


def test_corrupted_contents_is_a_clean_invalid(tmp_path: Path, ec_key: SigningKey) -> None:
    """Garbage in /Contents: INVALID in text and valid JSON, exit 1, nothing on stderr (no
    traceback, no pyHanko log line). Run as a separate process, as a clinic would."""
    corrupted = tmp_path / "corrupted.pdf"
    corrupted.write_bytes(_corrupt_contents(_sign(tmp_path, ec_key).read_bytes()))
    command = [sys.executable, "-c", "import sys; from ketascreen.cli import main; "
               "sys.exit(main(sys.argv[1:]))", "verify", str(corrupted),
               "--trust", str(ec_key.certificate)]
    done = subprocess.run([*command, "--json"], capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    report = json.loads(done.stdout)
    assert report["status"] == "INVALID" and report["ok"] is False
    assert "corrupted" in report["verdict"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and done.stderr == ""
    assert "RESULT: INVALID: " in done.stdout and "corrupted" in done.stdout


def test_registered_certificate_is_trusted_without_trust(
        tmp_path: Path, ec_key: SigningKey, capsys: pytest.CaptureFixture[str]) -> None:
    """With a records database in the data folder, a certificate registered to a physician's
    account is trusted without --trust (read-only lookup, no login); a forger's is not."""
    from ketascreen.records.certificates import register_certificate
    from ketascreen.records.repository import RecordStore

    facts = read_certificate(ec_key.certificate.read_bytes())
    with RecordStore.open() as store:
        store.add_user(None, username="admin", display_name="Clinic Admin", role="admin",
                       password="admin password 1")
        admin = store.authenticate("admin", "admin password 1")
        store.add_user(admin, username="drsmith", display_name="Dr Jane Smith",
                       role="physician", password="drsmith password 1")
        register_certificate(store, admin, facts.sha256, facts.subject_name, confirmed=True,
                             username="drsmith", certificate_der=facts.der)
    pdf = _sign(tmp_path, ec_key)
    status, report = _verify(pdf, capsys=capsys)
    assert status == 0, report
    assert report["trust"] == f"registered signer (drsmith; fingerprint {facts.sha256})"
    forged = _sign(tmp_path, _trial_key(tmp_path / "forger", "forger"), "forged.pdf")
    status, report = _verify(forged, capsys=capsys)
    assert status == 5
    assert report["verdict"].startswith("UNTRUSTED: unknown signer (fingerprint ")


@needs_pdfsig
def test_pdfsig_trusts_the_ca_issued_signer(tmp_path: Path) -> None:
    """Poppler's pdfsig, trusting the clinic CA, reports the signature valid, the whole
    document signed and the certificate trusted."""
    root = _issue("Riverside Clinic CA", None, ca=True)
    key = _key_store(tmp_path / "ca", "leaf", _issue("Dr Jane Smith", root, ca=False),
                     [root.certificate])
    ca_pem = tmp_path / "ca.pem"
    ca_pem.write_bytes(root.certificate.public_bytes(serialization.Encoding.PEM))
    pdf = _sign(tmp_path, key)
    nss = tmp_path / "nssdb"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "clinic-ca", "-t", "CT,C,C",
                    "-i", str(ca_pem)], check=True)
    done = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True,
                          text=True, check=False)
    assert "Signature is Valid." in done.stdout, done.stdout
    assert "Total document signed" in done.stdout
    assert "Certificate is Trusted." in done.stdout


def test_unreadable_trust_file_is_an_input_error(tmp_path: Path, ec_key: SigningKey,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A --trust file that holds no certificate stops verify (exit 2) naming the file."""
    pdf = _sign(tmp_path, ec_key)
    bogus = tmp_path / "bogus.pem"
    bogus.write_bytes(b"not a certificate")
    capsys.readouterr()
    assert main(["verify", str(pdf), "--trust", str(bogus)]) == 2
    assert f"{bogus}: not a PEM or DER certificate" in capsys.readouterr().err


def test_an_old_ca_trial_certificate_cannot_vouch_for_a_minted_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Trial certificates made before keygen became end-entity only said CA:true; one that
    declares itself a ketascreen trial certificate is never accepted as an issuer."""
    from ketascreen.reports.keys import SELF_SIGNED_MARK

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Dr Old Trial"),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, SELF_SIGNED_MARK)])
    now = datetime.now(UTC)
    old = Issuer(
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256()), key)
    old_pem = tmp_path / "old.pem"
    old_pem.write_bytes(old.certificate.public_bytes(serialization.Encoding.PEM))
    minted = _key_store(tmp_path / "minted", "minted", _issue("Dr Jane Smith", old, ca=False),
                        [old.certificate])
    status, report = _verify(_sign(tmp_path, minted), "--trust", str(old_pem), capsys=capsys)
    assert status == 5, report
    assert report["verdict"].endswith("issued by Dr Old Trial, which is not a certificate "
                                      "authority")


def test_untrusted_verdict_prints_no_library_log(tmp_path: Path) -> None:
    """An unknown signer (pyHanko finds no path and logs a traceback internally): the clinic
    sees the verdict on stdout and nothing on stderr. A separate process, as a clinic runs it."""
    pdf = _sign(tmp_path, _trial_key(tmp_path / "forger", "forger"))
    done = subprocess.run([sys.executable, "-c", "import sys; from ketascreen.cli import main; "
                           "sys.exit(main(sys.argv[1:]))", "verify", str(pdf)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 5
    assert done.stderr == ""
    assert "RESULT: UNTRUSTED: unknown signer (fingerprint " in done.stdout
