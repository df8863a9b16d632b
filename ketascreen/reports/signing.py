"""PAdES signatures and attachments put into a PDF (pyHanko, imported only when needed).

pyHanko costs about 0.3 s to import, so nothing here imports it at module level; screening and
rendering never pay for it. Signing is PAdES baseline B-B with a visible stamp placed on the box
the renderer left in the signature block. The case and result JSON are embedded as attachments
in the same revision, so the machine-readable record is covered by the signature. Keys and
certificates are in :mod:`ketascreen.reports.keys`; checking signatures is in
:mod:`ketascreen.reports.verification`.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from ketascreen.display import format_local_time
from ketascreen.reports.keys import SignerIdentity
from ketascreen.reports.pdf import SignatureBox

SIGNATURE_FIELD = "KetascreenSignature"


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
