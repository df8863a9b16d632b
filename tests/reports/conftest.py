"""Fixtures for the report tests: a throwaway signing key, made once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ketascreen.reports.keys import generate_self_signed


@dataclass(frozen=True)
class SigningKey:
    """A key store on disk with its passphrase file and certificate."""

    p12: Path
    passphrase_file: Path
    certificate: Path


def _make(directory: Path, key_type: str) -> SigningKey:
    passphrase = b"correct horse battery staple"
    pair = generate_self_signed("Dr Jane Smith", passphrase, credentials="MD",
                                key_type=key_type)  # type: ignore[arg-type]
    p12 = directory / f"{key_type}.p12"
    p12.write_bytes(pair.pkcs12)
    certificate = directory / f"{key_type}.pem"
    certificate.write_bytes(pair.certificate_pem)
    passphrase_file = directory / f"{key_type}.pass"
    passphrase_file.write_bytes(passphrase + b"\n")
    return SigningKey(p12, passphrase_file, certificate)


@pytest.fixture(scope="session")
def ec_key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    """An EC P-256 self-signed trial key."""
    return _make(tmp_path_factory.mktemp("keys"), "ec-p256")


@pytest.fixture(scope="session")
def rsa_key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    """An RSA-2048 self-signed trial key."""
    return _make(tmp_path_factory.mktemp("keys"), "rsa-2048")
