"""Checks that a signed PDF belongs to the screening it is stored with.

The checklist embeds the case and result JSON (canonical bytes) in the signed revision. A
document is stored with a screening only if it is signed and its embedded case and result are
byte for byte the stored ones, so the signature is linked to its record (21 CFR 11.70).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from ketascreen.errors import RecordError

CASE_ATTACHMENT = "ketascreen-case.json"
RESULT_ATTACHMENT = "ketascreen-result.json"


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
    from ketascreen.reports.signing import embedded_attachments, is_signed  # noqa: PLC0415

    if not is_signed(pdf):
        raise RecordError(record_id, "the document is not signed")
    try:
        attachments = embedded_attachments(pdf)
        signer_name, fingerprint, der = _signer(pdf)
    except Exception as error:  # noqa: BLE001 - pyHanko raises many kinds on a broken PDF
        raise RecordError(record_id, f"the document cannot be read as a PDF: "
                          f"{type(error).__name__}") from None
    if attachments.get(CASE_ATTACHMENT) != case_json.encode("utf-8"):
        raise RecordError(record_id, "the signed document carries another case than the record")
    if attachments.get(RESULT_ATTACHMENT) != result_json.encode("utf-8"):
        raise RecordError(record_id,
                          "the signed document carries another result than the record")
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
