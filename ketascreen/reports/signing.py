"""Keys, PAdES signatures and their verification (pyHanko, imported only when needed).

pyHanko costs about 0.3 s to import, so nothing here imports it at module level; screening and
rendering never pay for it. Signing is PAdES baseline B-B with a visible stamp placed on the box
the renderer left in the signature block. The case and result JSON are embedded as attachments
in the same revision, so the machine-readable record is covered by the signature.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ketascreen.display import format_local_time
from ketascreen.errors import KetascreenError
from ketascreen.reports.attachments import RESULT_ATTACHMENT
from ketascreen.reports.pdf import SignatureBox

SIGNATURE_FIELD = "KetascreenSignature"
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
        stamp.TextStampStyle(stamp_text="Digitally signed by: %(signer)s\nTime: %(local_time)s\n"
                             + reason)))
    out = io.BytesIO()
    # The stamp shows the clinic's local time with its UTC offset, as the page does.
    pdf_signer.sign_pdf(writer, output=out, appearance_text_params={
        "local_time": format_local_time(datetime.now(UTC))})
    return out.getvalue()


def is_signed(pdf: bytes) -> bool:
    """Whether ``pdf`` carries a signature field with a signature (cheap byte check)."""
    return b"/ByteRange" in pdf and b"/Sig" in pdf


@dataclass(frozen=True)
class SignatureCheck:
    """One signature of a document, as `ketascreen verify` reports it.

    Attributes:
        field: the signature field's name.
        signer: the signing certificate's common name (a claim, not an identity).
        signing_time: when the signer says it signed (UTC, ISO 8601), if it says.
        certificate_sha256: the signing certificate's fingerprint (sha256 of its DER).
        intact: the signed bytes are unchanged.
        valid: the signature value verifies with the certificate.
        trusted: the certificate is registered in the records or chains (as an end entity,
            through CA certificates) to a configured trust anchor.
        trust: what the trust rests on, or why there is none.
        coverage: pyHanko's coverage level (``ENTIRE_FILE``, ``ENTIRE_REVISION`` ...).
        modification: what changed after this signature (pyHanko's modification level), or
            ``None`` when it could not be analysed.
        problems: what is wrong with this signature, for the clinic.
    """

    field: str
    signer: str | None
    signing_time: str | None
    certificate_sha256: str | None
    intact: bool
    valid: bool
    trusted: bool
    trust: str
    coverage: str | None
    modification: str | None
    problems: tuple[str, ...]


@dataclass(frozen=True)
class Verification:
    """What `ketascreen verify` reports.

    ``status`` is ``VALID`` (every signature intact, valid and trusted, nothing changed after
    signing but a countersignature), ``UNTRUSTED`` (intact and unmodified, but a signer is not
    one the clinic trusts), ``INVALID`` (broken, corrupted or modified after signing) or
    ``NOT SIGNED``. The signer fields describe the last signature; ``signatures`` has each one,
    in the order they were made.
    """

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
    certificate_sha256: str | None = None
    status: str = "NOT SIGNED"
    signatures: tuple[SignatureCheck, ...] = ()

    @property
    def ok(self) -> bool:
        """Every signature intact, valid and trusted; nothing but a countersignature after."""
        return self.status == "VALID"


_PERMITTED_AFTER_SIGNING = ("NONE", "LTA_UPDATES", "FORM_FILLING")
"""pyHanko modification levels permitted after a signature that is not the last (a further
signature filling a signature field; a later non-signature field fill is refused apart)."""


def verify_pdf(pdf: bytes, *, trust_pem: bytes | None = None,
               registered: Callable[[str], str | None] | None = None) -> Verification:
    """Check every signature of a ketascreen checklist: integrity, coverage and identity.

    Trust comes from the clinic, never from the certificate's own claim: a signer is trusted
    when ``registered`` (the records' registered signing certificates, looked up by sha256
    fingerprint; it returns whom the certificate is registered to, or ``None``) knows its
    certificate, or when its certificate chains through CA certificates to one of
    ``trust_pem`` (PEM certificates, one or several, or one DER certificate). A certificate
    used to issue the signer's certificate must be a CA; a ketascreen trial certificate never
    is. Never raises on a broken document: a corrupted signature is an ``INVALID`` report;
    pyHanko's log messages are kept from the user.

    Raises:
        SigningError: ``trust_pem`` holds no readable certificate.
    """
    anchors = trust_certificates(trust_pem) if trust_pem is not None else []
    with quiet_logs("pyhanko", "pyhanko_certvalidator"):
        try:
            return _verify(pdf, anchors, registered)
        except Exception as error:  # noqa: BLE001 - pyHanko raises many kinds on broken input
            return Verification(signed=True, status="INVALID", problems=(
                f"the signature cannot be read (its signature data is corrupted: "
                f"{type(error).__name__})",))


def trust_certificates(data: bytes, *, path: str | None = None) -> list[Any]:
    """The certificates of a trust bundle: PEM certificates (one or several) or one DER.

    Raises:
        SigningError: no certificate could be read.
    """
    from pyhanko.keys import load_certs_from_pemder_data  # noqa: PLC0415

    try:
        found = list(load_certs_from_pemder_data(data))
        for certificate in found:
            certificate.native  # noqa: B018 - parse now, not inside the validation
    except (ValueError, TypeError) as error:
        raise SigningError(f"not a PEM or DER certificate: {error}", path=path) from None
    if not found:
        raise SigningError("holds no certificate", path=path)
    return found


def trust_bundle(files: Sequence[tuple[str, bytes]]) -> bytes:
    """One PEM bundle of the certificates of several trust files (PEM or DER).

    Args:
        files: each file's path (for messages) and bytes.

    Raises:
        SigningError: a file holds no readable certificate.
    """
    import base64  # noqa: PLC0415

    bundle = []
    for path, data in files:
        for certificate in trust_certificates(data, path=path):
            bundle.append(b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(
                certificate.dump()) + b"-----END CERTIFICATE-----\n")
    return b"".join(bundle)


def _verify(pdf: bytes, anchors: list[Any],
            registered: Callable[[str], str | None] | None) -> Verification:
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    except Exception as error:  # noqa: BLE001 - pyHanko raises many kinds on a broken PDF
        return Verification(signed=False, status="INVALID",
                            problems=(f"not a readable PDF: {type(error).__name__}",))
    record_sha = _record_sha256(reader)
    try:
        signatures = list(reader.embedded_signatures)
    except Exception as error:  # noqa: BLE001 - e.g. /Contents that is not a CMS structure
        return Verification(signed=True, status="INVALID", record_sha256=record_sha, problems=(
            f"the signature cannot be read (its signature data is corrupted: "
            f"{type(error).__name__})",))
    if not signatures:
        return Verification(signed=False, status="NOT SIGNED", record_sha256=record_sha,
                            problems=("the document has no signature",))
    checks = [_check_one(embedded, anchors, registered, last=index == len(signatures) - 1,
                         number=index + 1, count=len(signatures))
              for index, embedded in enumerate(signatures)]
    other_fields = _non_signature_fields(reader)
    problems = [problem for check in checks for problem in check.problems]
    if other_fields:
        problems.append("the document has form fields that are not signatures: "
                        + ", ".join(other_fields))
    broken = (not all(c.intact and c.valid for c in checks) or other_fields
              or any(p.endswith(_MODIFIED) or "cannot be validated" in p for p in problems))
    modified = any(p.endswith(_MODIFIED) for p in problems) or bool(other_fields)
    status = ("INVALID" if broken else "UNTRUSTED" if not all(c.trusted for c in checks)
              else "VALID")
    last = checks[-1]
    return Verification(
        signed=True, signer=last.signer, signing_time=last.signing_time,
        intact=all(c.intact for c in checks), valid=all(c.valid for c in checks),
        trust=last.trust if all(c.trusted for c in checks) else next(
            c.trust for c in checks if not c.trusted),
        modified_after_signing=modified, coverage=last.coverage, record_sha256=record_sha,
        problems=tuple(problems), certificate_sha256=last.certificate_sha256, status=status,
        signatures=tuple(checks))


_MODIFIED = "the document was modified after signing"


def _check_one(embedded: Any, anchors: list[Any],
               registered: Callable[[str], str | None] | None, *, last: bool, number: int,
               count: int) -> SignatureCheck:
    from pyhanko.sign.validation import validate_pdf_signature  # noqa: PLC0415
    from pyhanko_certvalidator import ValidationContext  # noqa: PLC0415

    which = "the signature" if count == 1 else f"signature {number}"
    field_name = str(getattr(embedded, "field_name", "") or f"signature {number}")
    certificate = embedded.signer_cert
    if certificate is None:
        return SignatureCheck(field_name, None, None, None, False, False, False, "untrusted",
                              None, None, (f"{which} carries no certificate",))
    fingerprint = certificate_sha256(certificate)
    name = str(certificate.subject.native.get("common_name") or "(unnamed certificate)")
    owner = registered(fingerprint) if registered is not None else None
    # The signer's certificate is a root only when the clinic registered it; otherwise only
    # the configured anchors are roots, and the path to them is validated (CA intermediates).
    roots = [*anchors, certificate] if owner is not None else list(anchors)
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    try:
        status = validate_pdf_signature(embedded, context)
    except Exception as error:  # noqa: BLE001 - a corrupted signature container
        return SignatureCheck(field_name, name, None, fingerprint, False, False, False,
                              "untrusted", None, None,
                              (f"{which} cannot be validated (its signature data is "
                               f"corrupted: {type(error).__name__})",))
    problems: list[str] = []
    if not status.intact:
        problems.append(f"{which}: the signed bytes were changed")
    if not status.valid:
        problems.append(f"{which}: the signature value does not verify")
    coverage = getattr(status.coverage, "name", None)
    level = getattr(getattr(status, "modification_level", None), "name", None)
    modified = (coverage != "ENTIRE_FILE" if last else
                coverage not in ("ENTIRE_FILE", "ENTIRE_REVISION")
                or level not in _PERMITTED_AFTER_SIGNING or status.docmdp_ok is False)
    if modified:
        problems.append(f"{which}: {_MODIFIED}")
    trusted, trust = _trust(status, owner, fingerprint)
    if not trusted:
        problems.append(f"{which}: UNTRUSTED: {trust}")
    when = status.signer_reported_dt
    return SignatureCheck(
        field_name, name,
        when.astimezone(UTC).isoformat(timespec="seconds") if when else None, fingerprint,
        bool(status.intact), bool(status.valid), trusted, trust, coverage, level,
        tuple(problems))


def _trust(status: Any, owner: str | None, fingerprint: str) -> tuple[bool, str]:
    """Whether the signer is trusted and on what: registration, or a path through CAs."""
    unknown = f"unknown signer (fingerprint {fingerprint})"
    if not status.trusted:
        return False, unknown
    path = status.validation_path
    certificates = list(path.iter_certs(include_root=True)) if path is not None else []
    issuers = certificates[:-1]
    for issuer in issuers:
        usage = issuer.key_usage_value
        if (not issuer.ca or (usage is not None and "key_cert_sign" not in usage.native)
                or _declares_self_signed(issuer)):
            subject = issuer.subject.native.get("common_name", "(unnamed)")
            return False, (f"{unknown}: issued by {subject}, which is not a certificate "
                           "authority")
    if not issuers and owner is not None:
        return True, f"registered signer ({owner}; fingerprint {fingerprint})"
    if not issuers:
        return True, f"trusted (a configured trust certificate; fingerprint {fingerprint})"
    anchor = issuers[0].subject.native.get("common_name", "(unnamed)")
    return True, f"trusted (chains to {anchor}; fingerprint {fingerprint})"


def _non_signature_fields(reader: Any) -> list[str]:
    """Names of the document's form fields that are not signature fields."""
    try:
        fields = reader.root["/AcroForm"]["/Fields"]
    except (KeyError, TypeError):
        return []
    found = []
    for reference in fields:
        field_dict = reference.get_object()
        if field_dict.get("/FT") != "/Sig":
            found.append(str(field_dict.get("/T", "(unnamed field)")))
    return found


@contextmanager
def quiet_logs(*prefixes: str) -> Iterator[None]:
    """Keep a library's log messages from the user: every logger under ``prefixes``, including
    those its modules create while the block runs (they propagate to the prefix's logger, which
    drops them)."""
    manager = logging.root.manager
    names = [name for name in list(manager.loggerDict)
             if any(name == p or name.startswith(p + ".") for p in prefixes)]
    loggers = [logging.getLogger(name) for name in {*names, *prefixes}]
    previous = [(logger.disabled, logger.propagate) for logger in loggers]
    drop = logging.NullHandler()
    for logger in loggers:
        logger.disabled = True
        if logger.name in prefixes:
            logger.addHandler(drop)
            logger.propagate = False
    try:
        yield
    finally:
        for logger, (was_disabled, propagated) in zip(loggers, previous, strict=True):
            logger.disabled = was_disabled
            logger.propagate = propagated
            if logger.name in prefixes:
                logger.removeHandler(drop)


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
