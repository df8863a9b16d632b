"""Signing keys and certificates: PKCS#12 key stores, trial certificates, fingerprints.

pyHanko costs about 0.3 s to import and cryptography is not free either, so nothing here imports
them at module level; screening and rendering never pay for it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ketascreen.errors import KetascreenError

SELF_SIGNED_MARK = "ketascreen self-signed trial certificate - not CA-issued"
KeyType = Literal["ec-p256", "rsa-2048"]


class SigningError(KetascreenError):
    """The document could not be signed.

    Attributes:
        reason: why, for the person signing (wrong passphrase, unreadable key file ...).
        path: the key file concerned, if any.
    """

    def __init__(self, reason: str, *, path: str | None = None) -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path}: {reason}" if path else reason)


@dataclass(frozen=True)
class KeyPair:
    """A PKCS#12 key store and its certificate (PEM), as bytes."""

    pkcs12: bytes
    certificate_pem: bytes


@dataclass(frozen=True)
class SignerIdentity:
    """The signer as read from the certificate: what the page prints."""

    name: str
    credentials: str
    self_signed: bool
    certificate_sha256: str
    _signer: Any = field(repr=False, compare=False)


@dataclass(frozen=True)
class CertificateFacts:
    """A signing certificate as the records bind it to an account.

    Attributes:
        sha256: the fingerprint: sha256 (lowercase hex) of the certificate's DER bytes.
        subject_name: its common name (what a checklist signed with it prints).
        der: the certificate's DER bytes.
    """

    sha256: str
    subject_name: str
    der: bytes


def certificate_sha256(certificate: Any) -> str:
    """The sha256 fingerprint (lowercase hex) of an asn1crypto certificate (over its DER)."""
    return hashlib.sha256(certificate.dump()).hexdigest()


def read_certificate(data: bytes, *, passphrase: bytes | None = None,
                     path: str | None = None) -> CertificateFacts:
    """Read a signing certificate from a PEM or DER certificate, or from a PKCS#12 key store.

    Args:
        data: the file's bytes.
        passphrase: the key store's passphrase (PKCS#12 only).
        path: the file, for messages.

    Raises:
        SigningError: the bytes are none of these, or the key store does not open.
    """
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs12  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    certificate: x509.Certificate | None = None
    loaders = (x509.load_pem_x509_certificate if b"-----BEGIN" in data else None,
               x509.load_der_x509_certificate)
    for loader in loaders:
        if loader is None:
            continue
        try:
            certificate = loader(data)
            break
        except ValueError:
            continue
    if certificate is None:
        try:
            _, certificate, _ = pkcs12.load_key_and_certificates(data, passphrase)
        except (ValueError, TypeError):
            raise SigningError("not a PEM or DER certificate, or a PKCS#12 key store that opens "
                               "with this passphrase", path=path) from None
        if certificate is None:
            raise SigningError("the key store holds no certificate", path=path)
    der = certificate.public_bytes(Encoding.DER)
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    name = str(names[0].value) if names else ""
    return CertificateFacts(hashlib.sha256(der).hexdigest(), name or "(unnamed certificate)",
                            der)


def generate_self_signed(name: str, passphrase: bytes, *, credentials: str = "",
                         key_type: KeyType = "ec-p256", days: int = 365) -> KeyPair:
    """Make a self-signed signing key for trying ketascreen; the certificate says so.

    The certificate is an end entity (basicConstraints CA:false, key usage digitalSignature and
    nonRepudiation, extended key usage documentSigning and emailProtection): it signs documents
    and cannot issue certificates. Nothing trusts it for what it claims: ``verify`` trusts it
    when the records register it to an account or when it is given with ``--trust``. Clinics
    sign with CA-issued certificates.
    """
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import pkcs12  # noqa: PLC0415
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: PLC0415

    # id-kp-documentSigning (RFC 9336) and emailProtection (what NSS, so poppler's pdfsig,
    # wants of a signer certificate that names an extended key usage).
    DOCUMENT_SIGNING_EKU = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # noqa: N806
    EMAIL_PROTECTION_EKU = ExtendedKeyUsageOID.EMAIL_PROTECTION  # noqa: N806
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if key_type == "ec-p256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, name),
                  x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, SELF_SIGNED_MARK)]
    if credentials:
        attributes.append(x509.NameAttribute(NameOID.TITLE, credentials))
    subject = x509.Name(attributes)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
        # End entity only: it cannot issue certificates (a certificate "minted" with it is
        # refused by verify_pdf), and it is for signing documents.
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING_EKU, EMAIL_PROTECTION_EKU]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    store = pkcs12.serialize_key_and_certificates(
        b"ketascreen-signer", key, certificate, None,
        serialization.BestAvailableEncryption(passphrase))
    return KeyPair(store, certificate.public_bytes(serialization.Encoding.PEM))


def load_signer(pkcs12_data: bytes, passphrase: bytes, *, path: str | None = None
                ) -> SignerIdentity:
    """Open a PKCS#12 key store.

    Raises:
        SigningError: wrong passphrase, or not a PKCS#12 file with a key and certificate.
    """
    from pyhanko.sign import signers  # noqa: PLC0415

    try:
        signer = signers.SimpleSigner.load_pkcs12_data(pkcs12_data, (), passphrase=passphrase)
    except (ValueError, TypeError):
        raise SigningError("cannot open the key file: wrong passphrase, or not a PKCS#12 "
                           "key store", path=path) from None
    if signer is None or signer.signing_cert is None:  # pragma: no cover - pyHanko < 0.25
        raise SigningError("cannot open the key file", path=path)
    subject = signer.signing_cert.subject.native
    return SignerIdentity(
        name=str(subject.get("common_name", "")) or "(unnamed certificate)",
        credentials=str(subject.get("title", "")),
        self_signed=declares_self_signed(signer.signing_cert),
        certificate_sha256=certificate_sha256(signer.signing_cert),
        _signer=signer,
    )


def declares_self_signed(certificate: Any) -> bool:
    """Whether ``certificate`` (asn1crypto) is self-signed and carries the trial-key mark that
    :func:`generate_self_signed` puts in its organisational unit."""
    subject = certificate.subject.native
    unit = subject.get("organizational_unit_name", "")
    units = unit if isinstance(unit, list) else [unit]
    return certificate.self_signed in ("yes", "maybe") and SELF_SIGNED_MARK in units
