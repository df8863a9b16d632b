"""Writing a file atomically: a temporary file in the target folder, flushed to disk, renamed.

A crash leaves either the old file or the new one, never half of one. An existing file is never
replaced without ``force``; replacing a signed document is reported to the caller. Kept apart from
:mod:`ketascreen.reports.output` (which renders checklists with reportlab and runs screenings) so
that writing a case file or a key store imports neither.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ketascreen.errors import KetascreenError
from ketascreen.tempfiles import TEMP_PREFIX, TEMP_SUFFIX

__all__ = ["OutputExistsError", "StagedFile", "is_signed", "stage_file", "write_atomically"]


def is_signed(pdf: bytes) -> bool:
    """Whether ``pdf`` carries a signature field with a signature (cheap byte check)."""
    return b"/ByteRange" in pdf and b"/Sig" in pdf


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
