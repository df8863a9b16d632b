"""PAdES signatures and attachments put into a PDF (pyHanko, imported only when needed).

pyHanko costs about 0.3 s to import, so nothing here imports it at module level; screening and
rendering never pay for it. Signing is PAdES baseline B-B with a visible stamp placed on the box
the renderer left in the signature block. The case and result JSON are embedded as attachments
in the same revision, so the machine-readable record is covered by the signature. Keys and
certificates are in :mod:`ketascreen.reports.keys`; checking signatures is in
:mod:`ketascreen.reports.verification`.

The nurse's countersignature (:func:`countersign_pdf`) fills a second signature field,
:data:`COUNTERSIGNATURE_FIELD`, as an incremental update. The physician's signature creates that
field, empty, in its own revision (on the box the renderer left in the bedside double-check
block): a field created later would break a certification signature (course-facts 4.4), and
pre-creating it keeps every variant valid. The physician's signature is an approval signature
(no DocMDP certification), as it always was.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ketascreen.display import format_local_time
from ketascreen.models.checklist import COUNTERSIGNATURE_MEANING, ORDER_ROW_LABELS
from ketascreen.reports.files import is_signed
from ketascreen.reports.keys import SignerIdentity, SigningError
from ketascreen.reports.pdf import (
    BEDSIDE_ROW_PITCH,
    MIN_FONT_SIZE,
    SignatureBox,
)

__all__ = ["COUNTERSIGNATURE_FIELD", "COUNTERSIGNATURE_MEANING", "DIFFERS", "MATCHES_THE_ORDER",
           "NOT_CHECKED", "SIGNATURE_FIELD", "CountersignStamp", "attach_unsigned",
           "countersign_pdf", "embedded_attachment", "embedded_attachments", "is_signed",
           "quiet_logs", "sign_pdf", "stamp_lines"]

SIGNATURE_FIELD = "KetascreenSignature"
"""The physician's signature field."""
COUNTERSIGNATURE_FIELD = "KetascreenCountersignature"
"""The nurse's countersignature field, created empty with the physician's signature."""
MATCHES_THE_ORDER = "MATCHES THE ORDER"
"""The result line of a countersignature after a double check that matched the order."""


@dataclass(frozen=True)
class CountersignStamp:
    """What the nurse's countersignature stamp says besides her name and the time.

    Attributes:
        checker: who checked (the signed-in nurse; printed as her account names her).
        witness: the other clinician at the bedside, who prepared and programmed the pump.
        result: :data:`MATCHES_THE_ORDER` or ``OVERRIDDEN: <reason>``.
        entered: (label, value) of what she entered, with the order column's labels
            (:data:`~ketascreen.models.checklist.ORDER_ROW_LABELS`); each prints level with
            the order's row of that label.
        differs: the labels whose entered value differed from the order (an overridden
            double check); marked on the stamp.
    """

    checker: str
    witness: str
    result: str
    entered: tuple[tuple[str, str], ...]
    differs: tuple[str, ...] = ()


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


def _field_spec(name: str, box: SignatureBox) -> Any:
    from pyhanko.sign import fields  # noqa: PLC0415

    return fields.SigFieldSpec(sig_field_name=name, on_page=box.page_index,
                               box=tuple(round(v) for v in box.box))  # type: ignore[arg-type]


def sign_pdf(pdf: bytes, box: SignatureBox, identity: SignerIdentity,
             attachments: dict[str, bytes], *, reason: str, location: str = "",
             countersignature_box: SignatureBox | None = None) -> bytes:
    """Embed ``attachments`` and sign ``pdf`` (PAdES B-B) with a visible stamp on ``box``.

    With ``countersignature_box`` the empty :data:`COUNTERSIGNATURE_FIELD` is created on it in
    the same revision, for the nurse's countersignature (:func:`countersign_pdf`).
    """
    from pyhanko import stamp  # noqa: PLC0415
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: PLC0415
    from pyhanko.sign import fields, signers  # noqa: PLC0415

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    _embed(writer, attachments)
    fields.append_signature_field(writer, _field_spec(SIGNATURE_FIELD, box))
    if countersignature_box is not None:
        fields.append_signature_field(
            writer, _field_spec(COUNTERSIGNATURE_FIELD, countersignature_box))
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


_STAMP_MARGIN = 4
"""Points between the countersignature box's left, right and bottom edges and its text."""
_COURIER_WIDTH = 0.6
"""Courier's advance width per character, in ems (every glyph)."""
NOT_CHECKED = "not checked"
"""The stamp's value for an order row she did not enter (the third patient identifier)."""
DIFFERS = "  <- DIFFERS"
"""Appended to a stamp line whose entered value differed from the order (an override)."""


def stamp_lines(stamp: CountersignStamp, signer: str, when: str, width: float,
                height: float) -> list[str]:
    """The countersignature stamp's lines for a box ``width`` x ``height`` points.

    First one line per row of the order column (:data:`~ketascreen.models.checklist.
    ORDER_ROW_LABELS`, at the column's pitch, so each entered value prints level with the
    order's), ``not checked`` for a row she did not enter and :data:`DIFFERS` after a value
    that differed; then any other entered item; after a blank line, the meaning, the signer,
    the local time, the checker and the witness, and the result. Lines are wrapped to the box
    at :data:`~ketascreen.reports.pdf.MIN_FONT_SIZE` (monospaced). When they do not fit, the
    result (an override's reason) is cut short with a pointer to the records, which keep it
    whole.
    """
    import textwrap  # noqa: PLC0415

    columns = max(int((width - 2 * (_STAMP_MARGIN + 1)) / (MIN_FONT_SIZE * _COURIER_WIDTH)),
                  20)
    rows = max(int((height - _STAMP_MARGIN - 1) / BEDSIDE_ROW_PITCH), 1)

    def wrap(text: str) -> list[str]:
        return textwrap.wrap(_latin1(text), columns, subsequent_indent="  ") or [""]

    entered = dict(stamp.entered)

    def line(label: str) -> list[str]:
        mark = DIFFERS if label in stamp.differs else ""
        return wrap(f"{label}: {entered.get(label, NOT_CHECKED)}{mark}")

    values = [text for label in ORDER_ROW_LABELS for text in line(label)]
    values += [text for label, _ in stamp.entered if label not in ORDER_ROW_LABELS
               for text in line(label)]
    people = f"Checker: {stamp.checker}; witness: {stamp.witness}"
    head = [*wrap(COUNTERSIGNATURE_MEANING.upper()), *wrap(f"Countersigned by: {signer}"),
            *wrap(f"Time: {when}"),
            *(wrap(people) if len(_latin1(people)) <= columns else
              [*wrap(f"Checker: {stamp.checker}"), *wrap(f"Witness: {stamp.witness}")])]
    result = wrap(f"Result: {stamp.result}")
    room = rows - len(head) - len(values) - 1
    if len(result) > room:
        result = [*result[:max(room - 1, 1)], *wrap("(cut short: whole in the records)")]
    return [*values, "", *head, *result]


def _latin1(text: str) -> str:
    """``text`` as the stamp's standard font can show it: accents kept where Latin-1 has them,
    other characters as their closest Latin-1 letter or ``?``."""
    import unicodedata  # noqa: PLC0415

    out = []
    for char in unicodedata.normalize("NFC", text):
        if ord(char) < 256:
            out.append(char)
            continue
        plain = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
        out.append(plain or "?")
    return "".join(out)


def _empty_countersignature_field(reader: Any) -> Any:
    """The countersignature field's (name, value, reference), or raise why there is none."""
    from pyhanko.sign import fields  # noqa: PLC0415

    try:
        found = [(name, value, ref) for name, value, ref in fields.enumerate_sig_fields(reader)
                 if name == COUNTERSIGNATURE_FIELD]
    except Exception as error:  # noqa: BLE001 - pyHanko raises many kinds on a broken PDF
        raise SigningError(f"the document's signature fields cannot be read "
                           f"({type(error).__name__})") from None
    if not found:
        raise SigningError("the document has no countersignature field (it was not signed by "
                           "a physician with this version, or has no dose to double-check)")
    if found[0][1] is not None:
        raise SigningError("the document is already countersigned")
    return found[0]


def countersign_pdf(pdf: bytes, identity: SignerIdentity, stamp: CountersignStamp) -> bytes:
    """Fill the physician-signed document's countersignature field: PAdES B-B, an incremental
    update (the physician's signed bytes stay as they are), meaning
    :data:`COUNTERSIGNATURE_MEANING`, with a visible stamp on the box: the meaning, the
    signer, the local time, the checker and the witness, the result and the entered values
    (:func:`stamp_lines`, at a fixed :data:`~ketascreen.reports.pdf.MIN_FONT_SIZE`).

    Raises:
        SigningError: the document has no empty :data:`COUNTERSIGNATURE_FIELD` (none, or
            already countersigned), or cannot be read.
    """
    from pyhanko import stamp as stamps  # noqa: PLC0415
    from pyhanko.pdf_utils import layout  # noqa: PLC0415
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: PLC0415
    from pyhanko.pdf_utils.text import TextBoxStyle  # noqa: PLC0415
    from pyhanko.sign import fields, signers  # noqa: PLC0415

    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except Exception as error:  # noqa: BLE001 - pyHanko raises many kinds on a broken PDF
        raise SigningError(f"not a readable PDF ({type(error).__name__})") from None
    _, _, reference = _empty_countersignature_field(writer.prev)
    widget = reference.get_object()
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    when = format_local_time(datetime.now(UTC))
    lines = stamp_lines(stamp, identity.name, when, abs(x2 - x1), abs(y2 - y1))
    top_left = layout.SimpleBoxLayoutRule(
        x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MAX,
        # no top margin: the first line's baseline is one leading below the box's top, level
        # with the first order row's (the renderer raises the box by STAMP_RAISE for it)
        margins=layout.Margins(_STAMP_MARGIN, _STAMP_MARGIN, 0, _STAMP_MARGIN),
        inner_content_scaling=layout.InnerScaling.NO_SCALING)
    style = stamps.TextStampStyle(
        stamp_text="%(lines)s", border_width=1, inner_content_layout=top_left,
        text_box_style=TextBoxStyle(font_size=int(MIN_FONT_SIZE), leading=BEDSIDE_ROW_PITCH,
                                    box_layout_rule=layout.SimpleBoxLayoutRule(
                                        x_align=layout.AxisAlignment.ALIGN_MIN,
                                        y_align=layout.AxisAlignment.ALIGN_MAX,
                                        inner_content_scaling=layout.InnerScaling.NO_SCALING)))
    metadata = signers.PdfSignatureMetadata(
        field_name=COUNTERSIGNATURE_FIELD, subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256", reason=COUNTERSIGNATURE_MEANING, name=identity.name)
    pdf_signer = signers.PdfSigner(metadata, signer=identity._signer, stamp_style=style)
    out = io.BytesIO()
    with quiet_logs("pyhanko"):
        pdf_signer.sign_pdf(writer, output=out,
                            appearance_text_params={"lines": "\n".join(lines)})
    return out.getvalue()


def embedded_attachments(pdf: bytes) -> dict[str, bytes]:
    """Every embedded file of ``pdf`` by name (for tests and `records export`)."""
    return {name: stream.data for name, stream in _embedded_streams(pdf)}


def embedded_attachment(pdf: bytes, name: str) -> bytes | None:
    """The embedded file ``name`` of ``pdf`` (the last listed under it), or ``None``: every
    listed file's stream is read as :func:`embedded_attachments` reads it, only this one's data
    decoded (an audit head is read without inflating the case and result beside it)."""
    found = dict(_embedded_streams(pdf)).get(name)
    return None if found is None else found.data


def _embedded_streams(pdf: bytes) -> list[tuple[str, Any]]:
    """Each embedded file's name and stream object, in the catalog's name tree's order."""
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return []
    return [(str(names[index]), names[index + 1].get_object()["/EF"]["/F"].get_object())
            for index in range(0, len(names), 2)]


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
