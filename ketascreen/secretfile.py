"""Secrets (passphrases, passwords) read from files, never from the command line."""

from __future__ import annotations

from pathlib import Path

from ketascreen.errors import InputFileError


def read_secret(path: str, what: str) -> bytes:
    """The secret in the file ``path`` (one trailing newline dropped).

    Args:
        what: what the file holds, as the error names it (``passphrase``, ``password``).

    Raises:
        InputFileError: naming the file when it cannot be read or is empty.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise InputFileError(path, f"cannot read the {what} file: {error.strerror}") from None
    secret = data.removesuffix(b"\n").removesuffix(b"\r")
    if not secret:
        raise InputFileError(path, f"the {what} file is empty")
    return secret
