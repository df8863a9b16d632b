"""Producing the checklist file: render, attach the record, sign, and write atomically.

A file is written to a temporary name in the target folder, flushed to disk and renamed over the
target, so a crash leaves either the old file or the new one, never half of one. An existing file
is never replaced without ``force``; replacing a signed document is reported to the caller. The
writing itself lives in :mod:`ketascreen.reports.files` (re-exported here), which a command that
only writes a file imports without reportlab or the screening.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ketascreen.errors import InputFileError
from ketascreen.models.checklist import SIGNATURE_MEANING, Checklist, Signer, canonical_json
from ketascreen.reports.attachments import CASE_ATTACHMENT, RESULT_ATTACHMENT
from ketascreen.reports.files import OutputExistsError, StagedFile, stage_file, write_atomically
from ketascreen.reports.pdf import PageSize
from ketascreen.reports.pdf_infusion import renderer_for
from ketascreen.screening import DEFAULT_CLINIC, Screening, SigningRefusedError, checklist
from ketascreen.secretfile import read_secret

if TYPE_CHECKING:
    from ketascreen.reports.keys import SignerIdentity

__all__ = ["DEFAULT_CLINIC", "OutputExistsError", "SigningRefusedError", "SigningRequest",
           "StagedFile", "WrittenChecklist", "produce_checklist", "stage_file",
           "write_atomically"]


@dataclass(frozen=True)
class SigningRequest:
    """A key store and its passphrase, for signing."""

    pkcs12: bytes
    passphrase: bytes
    path: str


CLINIC_ENV = "KETASCREEN_CLINIC"
"""The clinic name printed on checklists made on the command line (when none is given)."""


def clinic_name(given: str | None = None) -> str:
    """The clinic name printed on a checklist: ``given``, else ``$KETASCREEN_CLINIC``, else
    the default."""
    return given or os.environ.get(CLINIC_ENV) or DEFAULT_CLINIC


def signing_request(key_path: str, passphrase_file: str) -> SigningRequest:
    """The key store at ``key_path`` with the passphrase in ``passphrase_file``.

    Raises:
        InputFileError: either file cannot be read (or the passphrase file is empty).
    """
    try:
        key = Path(key_path).read_bytes()
    except OSError as error:
        raise InputFileError(key_path, f"cannot be read: {error.strerror}") from None
    return SigningRequest(key, read_secret(passphrase_file, "passphrase"), key_path)


@dataclass(frozen=True)
class WrittenChecklist:
    """What was written."""

    path: Path
    checklist: Checklist
    signed: bool
    replaced_signed_document: bool


def _meaning(content: Checklist) -> str:
    """What the signature means: the first screening's, or an infusion's day-of approval."""
    return content.signer.meaning if content.signer is not None else SIGNATURE_MEANING


def produce_checklist(
    screening: Screening,
    *,
    page_size: PageSize = "letter",
    clinic: str = DEFAULT_CLINIC,
    signing: SigningRequest | SignerIdentity | None = None,
    now: datetime | None = None,
    import_warnings: tuple[str, ...] = (),
    audit_head: tuple[int, str] | None = None,
) -> tuple[bytes, Checklist]:
    """Render the checklist of ``screening``, embed its case and result JSON, and sign it if
    asked.

    The content is :func:`ketascreen.screening.checklist`'s; this only renders, attaches and
    signs it.

    Args:
        signing: a key store and passphrase to open, or a signer already opened with
            :func:`ketascreen.reports.keys.load_signer` (to sign many documents with one
            key without decrypting it each time); ``None`` for an unsigned document.
        audit_head: the records audit trail's last event (number, sha256) before this
            signature; printed beside the record id and attached under the signature
            (``ketascreen-audit-head.json``), so ``ketascreen audit verify`` can catch a
            rewritten trail against the signed document. Only with ``signing``.

    Raises:
        SigningRefusedError: a signature was asked for a screening that is not CLEAR
            (:attr:`~ketascreen.screening.Screening.signing_refusal`).
        SigningError: the key store cannot be opened with the passphrase.
    """
    identity = None
    signer = None
    if signing is not None:
        screening.refuse_signing()
    if isinstance(signing, SigningRequest):
        from ketascreen.reports.keys import load_signer  # noqa: PLC0415

        identity = load_signer(signing.pkcs12, signing.passphrase, path=signing.path)
    elif signing is not None:
        identity = signing
    if identity is not None:
        signer = Signer(identity.name, identity.credentials, now or datetime.now(UTC))
    content = checklist(screening, signer=signer, clinic=clinic,
                        import_warnings=import_warnings, audit_head=audit_head)
    rendered = renderer_for(content, page_size).render(content)
    attachments = {
        CASE_ATTACHMENT: canonical_json(screening.case.model_dump(mode="json",
                                                                  exclude_none=True)),
        RESULT_ATTACHMENT: canonical_json(screening.result.model_dump(mode="json")),
    }
    if identity is not None and audit_head is not None:
        from ketascreen.reports.attachments import HEAD_ATTACHMENT, head_attachment  # noqa: PLC0415

        attachments[HEAD_ATTACHMENT] = head_attachment(*audit_head)
    from ketascreen.reports import signing as pdf_signing  # noqa: PLC0415

    if identity is None:
        return pdf_signing.attach_unsigned(rendered.data, attachments), content
    # pyHanko logs a layout note when the stamp text fills its box exactly (a longer meaning,
    # e.g. an infusion's); the stamp is drawn all the same, and its log never reaches the user.
    with pdf_signing.quiet_logs("pyhanko"):
        data = pdf_signing.sign_pdf(rendered.data, rendered.signature_box, identity,
                                    attachments,
                                    reason=f"{_meaning(content)} (record {content.record_id})",
                                    countersignature_box=rendered.countersignature_box)
    return data, content
