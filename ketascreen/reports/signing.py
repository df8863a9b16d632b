"""Keys, PAdES signatures and their verification (pyHanko, imported only when needed).

pyHanko costs about 0.3 s to import, so nothing here imports it at module level; screening and
rendering never pay for it. Signing is PAdES baseline B-B with a visible stamp placed on the box
the renderer left in the signature block. The case and result JSON are embedded as attachments
in the same revision, so the machine-readable record is covered by the signature.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ketascreen.errors import KetascreenError
from ketascreen.reports.pdf import SignatureBox

SIGNATURE_FIELD = "KetascreenSignature"
SELF_SIGNED_MARK = "ketascreen self-signed trial certificate - not CA-issued"
CASE_ATTACHMENT = "ketascreen-case.json"
RESULT_ATTACHMENT = "ketascreen-result.json"
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

    Clinics sign with CA-issued certificates; verification trusts those with ``--trust``.
    """
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import pkcs12  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

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
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
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
        self_signed=_declares_self_signed(signer.signing_cert),
        certificate_sha256=certificate_sha256(signer.signing_cert),
        _signer=signer,
    )


def _declares_self_signed(certificate: Any) -> bool:
    subject = certificate.subject.native
    unit = subject.get("organizational_unit_name", "")
    units = unit if isinstance(unit, list) else [unit]
    return certificate.self_signed in ("yes", "maybe") and SELF_SIGNED_MARK in units


def _embed(writer: Any, attachments: dict[str, bytes]) -> None:
    from pyhanko.pdf_utils import embed, generic  # noqa: PLC0415

    for name, data in attachments.items():
        stream = embed.EmbeddedFileObject.from_file_data(
            writer, data=data, mime_type="application/json",
            params=embed.EmbeddedFileParams(embed_size=True, embed_checksum=True))
        embed.embed_file(writer, embed.FileSpec(
            file_spec_string=name, file_name=name, embedded_data=stream,
            description="ketascreen machine-readable record",
            af_relationship=generic.pdf_name("/Data")))


def attach_unsigned(pdf: bytes, attachments: dict[str, bytes]) -> bytes:
    """Embed the JSON attachments in an unsigned document."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: PLC0415

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    _embed(writer, attachments)
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def sign_pdf(pdf: bytes, box: SignatureBox, identity: SignerIdentity,
             attachments: dict[str, bytes], *, reason: str, location: str = "") -> bytes:
    """Embed ``attachments`` and sign ``pdf`` (PAdES B-B) with a visible stamp on ``box``."""
    from pyhanko import stamp  # noqa: PLC0415
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: PLC0415
    from pyhanko.sign import fields, signers  # noqa: PLC0415

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    _embed(writer, attachments)
    fields.append_signature_field(writer, fields.SigFieldSpec(
        sig_field_name=SIGNATURE_FIELD, on_page=box.page_index,
        box=tuple(round(v) for v in box.box)))  # type: ignore[arg-type]
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD, subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256", reason=reason, location=location or None, name=identity.name)
    pdf_signer = signers.PdfSigner(metadata, signer=identity._signer, stamp_style=(
        stamp.TextStampStyle(stamp_text="Digitally signed by: %(signer)s\nTime: %(ts)s\n"
                             + reason)))
    out = io.BytesIO()
    pdf_signer.sign_pdf(writer, output=out)
    return out.getvalue()


def is_signed(pdf: bytes) -> bool:
    """Whether ``pdf`` carries a signature field with a signature (cheap byte check)."""
    return b"/ByteRange" in pdf and b"/Sig" in pdf


@dataclass(frozen=True)
class Verification:
    """What `ketascreen verify` reports."""

    signed: bool
    signer: str | None = None
    signing_time: str | None = None
    intact: bool = False
    valid: bool = False
    trust: str = "untrusted"
    modified_after_signing: bool | None = None
    coverage: str | None = None
    record_sha256: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Intact, cryptographically valid, trusted (or self-signed as declared), unmodified."""
        return (self.signed and self.intact and self.valid and self.trust != "untrusted"
                and self.modified_after_signing is False)


def verify_pdf(pdf: bytes, *, trust_pem: bytes | None = None) -> Verification:
    """Check the signature of a ketascreen checklist.

    Without ``trust_pem``, only a certificate that declares itself a ketascreen self-signed
    trial certificate is accepted (reported as such); with it, the signer must chain to it.
    """
    from pyhanko.keys import load_cert_from_pemder  # noqa: PLC0415
    from pyhanko.pdf_utils.misc import PdfError  # noqa: PLC0415
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415
    from pyhanko.sign.validation import validate_pdf_signature  # noqa: PLC0415
    from pyhanko.sign.validation.errors import SignatureValidationError  # noqa: PLC0415
    from pyhanko_certvalidator import ValidationContext  # noqa: PLC0415

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError) as error:
        return Verification(signed=False, problems=(f"not a readable PDF: {error}",))
    record_sha = _record_sha256(reader)
    if not signatures:
        return Verification(signed=False, record_sha256=record_sha,
                            problems=("the document has no signature",))
    embedded = signatures[-1]
    certificate = embedded.signer_cert
    if trust_pem is not None:
        roots = [load_cert_from_pemder_bytes(trust_pem, load_cert_from_pemder)]
        trust_label = "trusted (chains to the given certificate)"
    elif certificate is not None and _declares_self_signed(certificate):
        roots = [certificate]
        trust_label = "self-signed trial certificate (as declared; identity not CA-verified)"
    else:
        roots = []
        trust_label = "untrusted"
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    name = None if certificate is None else str(certificate.subject.native.get("common_name"))
    try:
        status = validate_pdf_signature(embedded, context)
    except (SignatureValidationError, ValueError, KeyError, TypeError) as error:
        return Verification(signed=True, signer=name, record_sha256=record_sha,
                            problems=(f"signature could not be validated: {error}",))
    coverage = status.coverage.name if status.coverage is not None else None
    modified = coverage != "ENTIRE_FILE"
    problems = []
    if not status.intact:
        problems.append("the signed bytes were changed")
    if not status.valid:
        problems.append("the signature value is invalid")
    if not status.trusted:
        problems.append("the signer's certificate is not trusted")
        trust_label = "untrusted"
    if modified:
        problems.append("the document was modified after signing")
    when = status.signer_reported_dt
    return Verification(
        signed=True, signer=name,
        signing_time=when.astimezone(UTC).isoformat(timespec="seconds") if when else None,
        intact=bool(status.intact), valid=bool(status.valid), trust=trust_label,
        modified_after_signing=modified, coverage=coverage, record_sha256=record_sha,
        problems=tuple(problems))


def load_cert_from_pemder_bytes(data: bytes, loader: Any) -> Any:
    """Load a PEM or DER certificate from bytes with pyHanko's loader (which wants a path)."""
    import os  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    handle, name = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        return loader(name)
    finally:
        os.unlink(name)


def _record_sha256(reader: Any) -> str | None:
    """sha256 of the embedded result JSON, if the document carries one."""
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
        for index in range(0, len(names), 2):
            if str(names[index]) == RESULT_ATTACHMENT:
                data = names[index + 1].get_object()["/EF"]["/F"].get_object().data
                return hashlib.sha256(data).hexdigest()
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return None


def embedded_attachments(pdf: bytes) -> dict[str, bytes]:
    """Every embedded file of ``pdf`` by name (for tests and `records export`)."""
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    found: dict[str, bytes] = {}
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return found
    for index in range(0, len(names), 2):
        spec = names[index + 1].get_object()
        found[str(names[index])] = spec["/EF"]["/F"].get_object().data
    return found
