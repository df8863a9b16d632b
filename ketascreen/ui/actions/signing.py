"""The checklist: render it, sign it, read signed checklists back and verify them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ketascreen.errors import InputFileError
from ketascreen.models.checklist import record_id_for
from ketascreen.screening import DEFAULT_CLINIC
from ketascreen.ui.actions.files import write_file
from ketascreen.ui.actions.screening import FormScreening, screening_of, signing_refusal

if TYPE_CHECKING:
    from ketascreen.reports.keys import SignerIdentity
    from ketascreen.reports.output import StagedFile
    from ketascreen.reports.verification import Verification

PageSize = Literal["letter", "a4"]


def read_signer(*, key_path: Path, passphrase: bytes) -> SignerIdentity:
    """Open a PKCS#12 key store and read the signer's printed name and credentials.

    Raises:
        InputFileError: the key file cannot be read.
        SigningError: wrong passphrase, or not a PKCS#12 key store.
    """
    from ketascreen.reports.keys import load_signer  # noqa: PLC0415 - pyHanko is slow

    try:
        data = key_path.read_bytes()
    except OSError as error:
        raise InputFileError(str(key_path), f"cannot be read: {error.strerror}") from None
    return load_signer(data, passphrase, path=str(key_path))


def checklist_pdf(*, outcome: FormScreening, page_size: PageSize = "letter",
                  clinic: str | None = None, import_warnings: tuple[str, ...] = ()) -> bytes:
    """The unsigned checklist of a screened form (it prints "Not signed").

    Raises:
        ValueError: the form was not screened (invalid document).
    """
    from ketascreen.reports.output import produce_checklist  # noqa: PLC0415

    data, _ = produce_checklist(screening_of(outcome), page_size=page_size,
                                clinic=clinic or DEFAULT_CLINIC, import_warnings=import_warnings)
    return data


@dataclass(frozen=True)
class SignedChecklist:
    """A signed checklist that was written and checked.

    Attributes:
        path: where it was written.
        record_id: the checklist's record id.
        signer: the printed name of the signer.
        verification: the core's verification of the written bytes.
        replaced_signed: whether a signed document was replaced (only with force).
        staged: with ``stage``, the signed file waiting beside ``path`` for its record to be
            committed (``staged.commit()`` puts it in place, ``staged.discard()`` removes it);
            ``None`` when it was written straight to ``path``.
    """

    path: Path
    record_id: str
    signer: str
    verification: Verification
    replaced_signed: bool
    staged: StagedFile | None = None


def sign_checklist(*, outcome: FormScreening, key_path: Path, passphrase: bytes, out_path: Path,
                   page_size: PageSize = "letter", clinic: str | None = None,
                   import_warnings: tuple[str, ...] = (), force: bool = False,
                   audit_head: tuple[int, str] | None = None,
                   stage: bool = False) -> SignedChecklist:
    """Render, sign (PAdES) and write the checklist, then verify the written file.

    ``audit_head`` (the records audit trail's last event, when signing into the records) is
    printed on the checklist and embedded under the signature. With ``stage`` the file is only
    staged beside ``out_path`` (see :attr:`SignedChecklist.staged`): signing into the records,
    the signed PDF appears at its destination only once its record is committed.

    Raises:
        ValueError: signing is refused for this outcome (see :func:`signing_refusal`).
        InputFileError: the key file cannot be read.
        SigningError: wrong passphrase, or not a PKCS#12 key store.
        OutputExistsError: ``out_path`` exists and ``force`` is false.
        OSError: the folder is not writable.
    """
    refusal = signing_refusal(outcome=outcome)
    if refusal is not None:
        raise ValueError(refusal)
    from ketascreen.reports.output import (  # noqa: PLC0415
        SigningRequest,
        produce_checklist,
        stage_file,
    )
    screening = screening_of(outcome)
    try:
        key = key_path.read_bytes()
    except OSError as error:
        raise InputFileError(str(key_path), f"cannot be read: {error.strerror}") from None
    data, checklist = produce_checklist(
        screening, page_size=page_size, clinic=clinic or DEFAULT_CLINIC,
        import_warnings=import_warnings,
        signing=SigningRequest(key, passphrase, str(key_path)), audit_head=audit_head)
    staged = None
    if stage:
        staged = stage_file(out_path, data, force=force)
        replaced, written = staged.replaces_signed, staged.temporary.read_bytes()
    else:
        replaced = write_file(path=out_path, data=data, force=force)
        written = out_path.read_bytes()
    signer = checklist.signer.name if checklist.signer else ""
    verification = _check_written(written, key=key, passphrase=passphrase)
    return SignedChecklist(out_path, checklist.record_id, signer, verification, replaced,
                           staged)


def _check_written(pdf: bytes, *, key: bytes, passphrase: bytes) -> Verification:
    """Verify the written checklist against the key it was just signed with (whether that
    certificate is this physician's is the records' decision, made separately)."""
    from ketascreen.reports.keys import read_certificate  # noqa: PLC0415
    from ketascreen.reports.verification import verify_pdf  # noqa: PLC0415

    used = read_certificate(key, passphrase=passphrase).sha256
    return verify_pdf(pdf, registered=lambda fingerprint: (
        "the key this checklist was just signed with" if fingerprint == used else None))


def configured_trust() -> bytes | None:
    """The trust bundles named by ``$KETASCREEN_TRUST`` (read as `ketascreen verify` reads
    them), or ``None`` when none is configured or readable."""
    import os  # noqa: PLC0415

    from ketascreen.reports.keys import SigningError  # noqa: PLC0415
    from ketascreen.reports.verification import trust_bundle  # noqa: PLC0415

    paths = [p for p in os.environ.get("KETASCREEN_TRUST", "").split(os.pathsep) if p]
    try:
        return trust_bundle([(p, Path(p).read_bytes()) for p in paths]) or None
    except (OSError, SigningError):
        return None


def display_copy(*, pdf: bytes) -> bytes:
    """A copy of a signed PDF for the screen and the printer, with each signature's visible
    stamp drawn into its page (QtPdf, which previews and prints, draws no signature stamp: a
    countersigned bedside copy would show and print an empty box where the nurse's entered
    values are). The stamps are the signed file's own appearance streams, placed on their
    boxes; the copy is never stored, signed or verified: the signed bytes stay the record.
    ``pdf`` itself when it has no stamp or cannot be read.
    """
    import io  # noqa: PLC0415

    from pypdf import PdfReader, PdfWriter  # noqa: PLC0415
    from pypdf.errors import PyPdfError  # noqa: PLC0415
    from pypdf.generic import (  # noqa: PLC0415
        ContentStream,
        DictionaryObject,
        IndirectObject,
        NameObject,
    )

    try:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
        drawn = 0
        for page in writer.pages:
            stamps: list[tuple[IndirectObject, float, float]] = []
            for ref in page.get("/Annots") or []:
                annot = ref.get_object()
                looks = annot.get("/AP")
                appearance = None if looks is None else looks.get_object().raw_get("/N")
                if annot.get("/Subtype") != "/Widget" or not isinstance(appearance,
                                                                         IndirectObject):
                    continue  # a stream is always an indirect object
                field = annot if "/FT" in annot else (annot.get("/Parent") or {})
                if field.get("/FT") != "/Sig" or "/V" not in field:
                    continue  # only a signature's stamp, once signed
                x, y = (float(v) for v in annot["/Rect"][:2])
                stamps.append((appearance, x, y))
            if not stamps:
                continue
            resources = page["/Resources"].get_object()
            if not isinstance(resources, DictionaryObject):
                continue
            if "/XObject" not in resources:
                resources[NameObject("/XObject")] = DictionaryObject()
            xobjects = resources["/XObject"].get_object()
            if not isinstance(xobjects, DictionaryObject):
                continue
            contents = page.get_contents()
            drawing = [b"q\n", b"" if contents is None else contents.get_data(), b"\nQ\n"]
            for appearance, x, y in stamps:
                drawn += 1
                name = NameObject(f"/KsStamp{drawn}")
                xobjects[name] = appearance
                drawing.append(f"q 1 0 0 1 {x:.4f} {y:.4f} cm {name} Do Q\n".encode())
            content = ContentStream(None, writer)
            content.set_data(b"".join(drawing))
            page.replace_contents(content)
        if not drawn:
            return pdf
        out = io.BytesIO()
        writer.write(out)
    except (PyPdfError, KeyError, ValueError, TypeError):
        return pdf
    return out.getvalue()


def record_id_of(*, outcome: FormScreening) -> str | None:
    """The record id the checklist of ``outcome`` prints (the hash of its case and result), or
    ``None`` when the form is not a valid case. Equal ids mean the same case and result, so
    the same dose, as a signed checklist bearing that id."""
    return None if outcome.screening is None else outcome.screening.record_id


@dataclass(frozen=True)
class OpenedSignedChecklist:
    """A signed checklist file, read back for the form.

    Attributes:
        document: the case it embeds (the form shows it, read-only).
        record_id: the record id of the embedded case and result (what the page prints).
        pdf: the file's bytes.
        signer: the signing certificate's name, as the page prints it.
        signed_at: when it was signed (aware), or ``None`` if the signature does not say.
        verification: the signature check.
    """

    document: dict[str, Any]
    record_id: str
    pdf: bytes
    signer: str
    signed_at: datetime | None
    verification: Verification


def open_signed_checklist(*, path: Path,
                          registered: Callable[[str], str | None] | None = None
                          ) -> OpenedSignedChecklist:
    """Read a signed checklist file: its embedded case, signer and signing time.

    The signer is trusted only when ``registered`` (who a certificate is registered to in the
    records, by sha256 fingerprint) knows its certificate, or a trust bundle in
    ``$KETASCREEN_TRUST`` issued it; otherwise ``verification`` says "unknown signer".

    Raises:
        InputFileError: the file cannot be read, is not signed, or embeds no case.
    """
    from ketascreen.reports.attachments import CASE_ATTACHMENT, RESULT_ATTACHMENT  # noqa: PLC0415
    from ketascreen.reports.signing import embedded_attachments  # noqa: PLC0415
    from ketascreen.reports.verification import verify_pdf  # noqa: PLC0415

    try:
        pdf = path.read_bytes()
    except OSError as error:
        raise InputFileError(str(path), f"cannot be read: {error.strerror}") from None
    verification = verify_pdf(pdf, trust_pem=configured_trust(), registered=registered)
    try:
        attachments = embedded_attachments(pdf)
    except Exception:  # noqa: BLE001 - pyHanko raises many kinds on a broken PDF
        attachments = {}
    case_bytes = attachments.get(CASE_ATTACHMENT)
    result_bytes = attachments.get(RESULT_ATTACHMENT)
    if not verification.signed or case_bytes is None or result_bytes is None:
        raise InputFileError(str(path), "is not a signed ketascreen checklist")
    document = json.loads(case_bytes)
    when = (datetime.fromisoformat(verification.signing_time)
            if verification.signing_time else None)
    return OpenedSignedChecklist(document, record_id_for(case_bytes, result_bytes), pdf,
                                 verification.signer or "(unknown signer)",
                                 when, verification)
