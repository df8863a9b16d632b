"""The app checks signatures as `ketascreen verify` does: trust from the clinic (the records'
registered certificates or $KETASCREEN_TRUST), never from the certificate's own claim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ketascreen.cli import main
from ketascreen.reports.keys import generate_self_signed, read_certificate
from ketascreen.ui.actions import open_signed_checklist
from tests.helpers.cases import example_case, patched

PASSPHRASE = b"correct horse"


def _signed(tmp_path: Path, name: str) -> tuple[Path, str]:
    pair = generate_self_signed(name, PASSPHRASE, credentials="MD")
    key = tmp_path / f"{name}.p12"
    key.write_bytes(pair.pkcs12)
    (tmp_path / f"{name}.pem").write_bytes(pair.certificate_pem)
    secret = tmp_path / "pass"
    secret.write_bytes(PASSPHRASE + b"\n")
    case = tmp_path / "case.json"
    case.write_text(json.dumps(patched(example_case(), {"acknowledgements": [
        {"concept": "benzodiazepine", "reason": "Evening alprazolam held."}]})))
    out = tmp_path / f"{name}.pdf"
    assert main(["screen", str(case), "--pdf", str(out), "--sign", str(key),
                 "--passphrase-file", str(secret)]) == 0
    return out, read_certificate(pair.certificate_pem).sha256


def test_opened_checklist_trusted_only_when_registered_or_configured(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a trial-signed checklist: unknown signer, unless the records register its
    certificate or KETASCREEN_TRUST names it."""
    monkeypatch.delenv("KETASCREEN_TRUST", raising=False)
    pdf, fingerprint = _signed(tmp_path, "Dr Jane Smith")
    opened = open_signed_checklist(path=pdf)
    assert not opened.verification.ok
    assert opened.verification.status == "UNTRUSTED"
    assert f"UNTRUSTED: unknown signer (fingerprint {fingerprint})" in "; ".join(
        opened.verification.problems)
    opened = open_signed_checklist(path=pdf, registered={fingerprint: "drsmith"}.get)
    assert opened.verification.ok
    assert opened.verification.trust.startswith("registered signer (drsmith")
    monkeypatch.setenv("KETASCREEN_TRUST", str(tmp_path / "Dr Jane Smith.pem"))
    assert open_signed_checklist(path=pdf).verification.ok
