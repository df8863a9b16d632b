"""Checking the signatures of a ketascreen checklist (pyHanko, imported only when needed).

Integrity, coverage and identity of every signature; trust comes from the clinic (registered
certificates, configured trust anchors), never from the certificate's own claim.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from ketascreen.reports.attachments import RESULT_ATTACHMENT
from ketascreen.reports.keys import SigningError, certificate_sha256, declares_self_signed
from ketascreen.reports.signing import COUNTERSIGNATURE_FIELD, quiet_logs

MAX_SIGNATURES = 2
"""A checklist carries the physician's signature and at most the nurse's countersignature."""


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
        meaning: what the signer says the signature means (its /Reason), e.g. ``Bedside
            independent double check``; ``None`` when it says nothing.
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
    meaning: str | None = None


@dataclass(frozen=True)
class Verification:
    """What `ketascreen verify` reports.

    ``status`` is ``VALID`` (every signature intact, valid and trusted, nothing changed after
    signing but the nurse's countersignature filling its pre-created field), ``UNTRUSTED``
    (intact and unmodified, but a signer is not one the clinic trusts), ``INVALID`` (broken,
    corrupted or modified after signing; a second signature anywhere but the countersignature
    field, or more than two) or ``NOT SIGNED``. The signer fields describe the last signature;
    ``signatures`` has each one, in the order they were made.
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
    refused = _refused_signatures(checks)
    if len(checks) >= 2 and checks[1].field == COUNTERSIGNATURE_FIELD and not _pre_created(
            reader, signatures[0]):
        refused.append("signature 2: the countersignature field was not created with the "
                       "physician's signature (it was added later, so it could be placed "
                       "anywhere on the page)")
    problems += refused
    broken = (not all(c.intact and c.valid for c in checks) or other_fields or refused
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


def _pre_created(reader: Any, first: Any) -> bool:
    """Whether the countersignature field was in the revision the first signature signed,
    empty (created with it, on the box the renderer left), rather than added later."""
    from pyhanko.sign import fields  # noqa: PLC0415

    try:
        signed = reader.get_historical_resolver(first.signed_revision)
        return any(name == COUNTERSIGNATURE_FIELD and value is None
                   for name, value, _ in fields.enumerate_sig_fields(signed))
    except Exception:  # noqa: BLE001 - an unreadable revision proves nothing
        return False


def _refused_signatures(checks: Sequence[SignatureCheck]) -> list[str]:
    """Signatures a checklist may not carry: more than :data:`MAX_SIGNATURES`, a later
    signature anywhere but the nurse's countersignature field (pre-created, empty, by the
    physician's signature), or a countersignature with the first signer's certificate."""
    problems = []
    if len(checks) > MAX_SIGNATURES:
        problems.append(f"the document has {len(checks)} signatures; a checklist carries at "
                        f"most {MAX_SIGNATURES} (the physician's and the nurse's "
                        "countersignature)")
    for number, check in enumerate(checks[1:], start=2):
        if check.field != COUNTERSIGNATURE_FIELD:
            problems.append(f"signature {number} is not the countersignature: it is in field "
                            f"{check.field}, not {COUNTERSIGNATURE_FIELD}")
        elif check.certificate_sha256 is not None and (
                check.certificate_sha256 == checks[0].certificate_sha256):
            problems.append(f"signature {number} is by the certificate of signature 1: an "
                            "independent double check is countersigned by someone else")
    return problems


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
                              None, None, (f"{which} carries no certificate",),
                              _reason(embedded))
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
                               f"corrupted: {type(error).__name__})",), _reason(embedded))
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
        tuple(problems), _reason(embedded))


def _reason(embedded: Any) -> str | None:
    """The signature's /Reason (its meaning), if it gives one."""
    try:
        reason = embedded.sig_object.get("/Reason")
    except Exception:  # noqa: BLE001 - a damaged signature dictionary says nothing
        return None
    return None if reason is None else str(reason)


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
                or declares_self_signed(issuer)):
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
