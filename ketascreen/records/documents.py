"""Checks that a signed PDF belongs to the screening it is stored with.

The checklist embeds the case and result JSON (canonical bytes) in the signed revision. A
document is stored with a screening only if its signatures validate cryptographically (pyHanko:
every signature intact and valid, the last one covering the whole file), its embedded case and
result are byte for byte the stored ones, and its page prints the record id, so the signature
is linked to its record (21 CFR 11.70). Text such as ``/ByteRange`` in the file proves nothing.

The checklist also embeds the audit trail's head when it was signed
(:data:`HEAD_ATTACHMENT`), under the signature: ``ketascreen audit verify`` checks that the trail
still has that hash at that event number, so a rewritten trail is caught against any stored
signed checklist.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from ketascreen.errors import RecordError
from ketascreen.reports.attachments import (
    CASE_ATTACHMENT,
    HEAD_ATTACHMENT,
    RESULT_ATTACHMENT,
    read_head_attachment,
)

__all__ = [
    "DocumentFacts", "check_signed_document", "embedded_head", "record_id_printed",
    "signature_problem",
]


@dataclass(frozen=True)
class DocumentFacts:
    """What the store keeps about a signed PDF.

    Attributes:
        sha256: of the PDF bytes.
        size: in bytes.
        signer_name: the common name of the signing certificate.
        certificate_sha256: the signing certificate's sha256 fingerprint (of its DER), or
            ``None`` when the document carries no certificate.
        certificate_der: the signing certificate's DER bytes, or ``None``.
    """

    sha256: str
    size: int
    signer_name: str
    certificate_sha256: str | None = None
    certificate_der: bytes | None = None


def check_signed_document(pdf: bytes, *, record_id: str, case_json: str,
                          result_json: str) -> DocumentFacts:
    """Check that ``pdf`` is a signed checklist of exactly this case and result.

    Args:
        pdf: the signed checklist.
        record_id: the record it is for (for messages).
        case_json: the stored canonical case JSON.
        result_json: the stored canonical result JSON.

    Raises:
        RecordError: the document is not signed, not readable, or carries another case or
            result.
    """
    from ketascreen.reports.signing import embedded_attachments  # noqa: PLC0415

    problem = signature_problem(pdf)
    if problem is not None:
        raise RecordError(record_id, problem)
    try:
        attachments = embedded_attachments(pdf)
        signer_name, fingerprint, der = _signer(pdf)
        printed = record_id_printed(pdf, record_id)
    except Exception as error:  # noqa: BLE001 - pyHanko raises many kinds on a broken PDF
        raise RecordError(record_id, f"the document cannot be read as a PDF: "
                          f"{type(error).__name__}") from None
    if attachments.get(CASE_ATTACHMENT) != case_json.encode("utf-8"):
        raise RecordError(record_id, "the signed document carries another case than the record")
    if attachments.get(RESULT_ATTACHMENT) != result_json.encode("utf-8"):
        raise RecordError(record_id,
                          "the signed document carries another result than the record")
    if not printed:
        raise RecordError(record_id, "the signed document does not print this record id")
    return DocumentFacts(hashlib.sha256(pdf).hexdigest(), len(pdf), signer_name, fingerprint,
                         der)


def _signer(pdf: bytes) -> tuple[str, str | None, bytes | None]:
    """The signing certificate's common name, sha256 fingerprint and DER bytes."""
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415

    signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    if not signatures or signatures[-1].signer_cert is None:
        return "(unknown signer)", None, None
    certificate = signatures[-1].signer_cert
    name = certificate.subject.native.get("common_name")
    der = certificate.dump()
    return (str(name) if name else "(unnamed certificate)", hashlib.sha256(der).hexdigest(),
            bytes(der))


def signature_problem(pdf: bytes) -> str | None:
    """Why ``pdf`` is not a cryptographically intact signed document, or ``None`` if it is.

    Every signature must be intact (the signed bytes unchanged) and valid (the signature value
    verifies with the certificate it carries), and the last must cover the whole file. Trust in
    the certificate is not decided here: the store requires it to be registered to the signing
    account. pyHanko's log messages are kept from the user.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415
    from pyhanko.sign.validation import validate_pdf_signature  # noqa: PLC0415
    from pyhanko_certvalidator import ValidationContext  # noqa: PLC0415

    from ketascreen.reports.signing import quiet_logs  # noqa: PLC0415 - reportlab, lazily

    with quiet_logs("pyhanko", "pyhanko_certvalidator"):
        try:
            reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        except Exception:  # noqa: BLE001 - pyHanko raises many kinds on a broken PDF
            return "the document cannot be read as a PDF"
        try:
            signatures = reader.embedded_signatures
        except Exception:  # noqa: BLE001 - e.g. a /Contents that is not a CMS structure
            return "its signature cannot be read (its signature data is corrupted)"
        if not signatures:
            return "the document is not signed (it carries no signature)"
        for number, embedded in enumerate(signatures, start=1):
            which = "its signature" if len(signatures) == 1 else f"signature {number}"
            if embedded.signer_cert is None:
                return f"{which} carries no certificate"
            context = ValidationContext(trust_roots=[embedded.signer_cert],
                                        allow_fetching=False)
            try:
                status = validate_pdf_signature(embedded, context)
            except Exception:  # noqa: BLE001 - a corrupted signature container
                return f"{which} cannot be validated (its signature data is corrupted)"
            if not status.intact:
                return f"{which} is broken: the signed bytes were changed"
            if not status.valid:
                return f"{which} is invalid: its signature value does not verify"
        coverage = getattr(status.coverage, "name", None)
        if coverage != "ENTIRE_FILE":
            return "the document was changed after it was signed (the signature does not cover "\
                   "the whole file)"
        return None


def record_id_printed(pdf: bytes, record_id: str) -> bool:
    """Whether a page of ``pdf`` prints ``record_id`` (its text, read with pypdf)."""
    from pypdf import PdfReader  # noqa: PLC0415

    from ketascreen.reports.signing import quiet_logs  # noqa: PLC0415 - reportlab, lazily

    with quiet_logs("pypdf"):
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        return any(record_id in (page.extract_text() or "").replace("\n", "")
                   for page in reader.pages)


def embedded_head(pdf: bytes) -> tuple[int, str] | None:
    """The audit head a signed checklist embeds (:data:`HEAD_ATTACHMENT`), or ``None`` (also
    where the document or that attachment cannot be read; the other attachments' data is not
    decoded: :func:`ketascreen.reports.signing.embedded_attachment`)."""
    from ketascreen.reports.signing import embedded_attachment  # noqa: PLC0415

    try:
        data = embedded_attachment(pdf, HEAD_ATTACHMENT)
    except Exception:  # noqa: BLE001 - an unreadable document has no head to compare
        return None
    return None if data is None else read_head_attachment(data)
