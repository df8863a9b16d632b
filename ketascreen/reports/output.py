"""Producing the checklist file: render, attach the record, sign, and write atomically.

A file is written to a temporary name in the target folder, flushed to disk and renamed over the
target, so a crash leaves either the old file or the new one, never half of one. An existing file
is never replaced without ``force``; replacing a signed document is reported to the caller.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ketascreen.errors import InputFileError, KetascreenError
from ketascreen.models.checklist import SIGNATURE_MEANING, Checklist, Signer, canonical_json
from ketascreen.reports.attachments import CASE_ATTACHMENT, RESULT_ATTACHMENT
from ketascreen.reports.pdf import PageSize
from ketascreen.reports.pdf_infusion import renderer_for
from ketascreen.screening import DEFAULT_CLINIC, Screening, SigningRefusedError, checklist
from ketascreen.secretfile import read_secret
from ketascreen.tempfiles import TEMP_PREFIX, TEMP_SUFFIX

if TYPE_CHECKING:
    from ketascreen.reports.keys import SignerIdentity

__all__ = ["DEFAULT_CLINIC", "OutputExistsError", "SigningRefusedError", "SigningRequest",
           "StagedFile", "WrittenChecklist", "produce_checklist", "stage_file",
           "write_atomically"]


class OutputExistsError(KetascreenError):
    """The output file exists and ``force`` was not given.

    Attributes:
        path: the file that would have been replaced.
        signed: whether it is a signed document.
    """

    def __init__(self, path: Path, *, signed: bool) -> None:
        self.path = path
        self.signed = signed
        kind = "a signed document" if signed else "a file"
        super().__init__(f"{path}: {kind} already exists; not overwritten (use --force to "
                         "replace it)")


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


@dataclass
class StagedFile:
    """Data written and flushed to a temporary file beside its destination, not yet renamed.

    ``screen --save --pdf --sign`` stages the signed checklist, commits its record, and only
    then renames the file into place (:meth:`commit`): a signed PDF never appears at its
    destination without its record. Until then the destination is untouched; a crash leaves
    only the temporary file, which the next start removes.

    Attributes:
        path: the destination.
        temporary: the temporary file in the destination's folder.
        replaces_signed: whether the destination held a signed document when staged.
        done: whether it was committed or discarded (a second call does nothing).
    """

    path: Path
    temporary: Path
    replaces_signed: bool
    done: bool = False

    def commit(self) -> bool:
        """Rename the temporary file over the destination, durably.

        Returns:
            Whether a signed document was replaced.
        """
        try:
            os.replace(self.temporary, self.path)
        except BaseException:
            self.discard()
            raise
        self.done = True
        with contextlib.suppress(OSError):  # make the rename itself durable
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        return self.replaces_signed

    def discard(self) -> None:
        """Remove the temporary file (the destination is left as it was)."""
        if not self.done:
            self.done = True
            with contextlib.suppress(OSError):
                os.unlink(self.temporary)


def stage_file(path: Path, data: bytes, *, force: bool) -> StagedFile:
    """Write ``data`` to a temporary file in ``path``'s folder, flushed to disk.

    Args:
        path: the destination (checked now: it is not replaced without ``force``).
        data: the bytes.
        force: whether an existing destination may be replaced.

    Returns:
        The staged file; :meth:`StagedFile.commit` puts it in place, :meth:`StagedFile.discard`
        removes it.

    Raises:
        OutputExistsError: ``path`` exists and ``force`` is false.
    """
    from ketascreen.reports.signing import is_signed  # noqa: PLC0415 - pyHanko-free helper

    replaced_signed = False
    if path.exists():
        replaced_signed = is_signed(path.read_bytes())
        if not force:
            raise OutputExistsError(path, signed=replaced_signed)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{os.getpid()}-",
                                         suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return StagedFile(path, Path(temporary), replaced_signed)


def write_atomically(path: Path, data: bytes, *, force: bool) -> bool:
    """Write ``data`` to ``path`` via a temporary file and a rename.

    Returns:
        Whether a signed document was replaced (only possible with ``force``).

    Raises:
        OutputExistsError: ``path`` exists and ``force`` is false.
    """
    return stage_file(path, data, force=force).commit()


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
