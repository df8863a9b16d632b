"""What the command line's commands share: exit statuses, secrets read from files, and whether
a records database is there to consult."""

from __future__ import annotations

import os

EXIT_OK = 0
EXIT_INVALID_INPUT = 2
EXIT_CONFIGURATION = 3
EXIT_NOT_VALID = 1
EXIT_REFUSED = 4
EXIT_UNTRUSTED = 5
"""`verify`: intact and unmodified, but a signer is not one the clinic trusts."""
ENV_TRUST = "KETASCREEN_TRUST"
"""Trust bundle(s) for `verify` (PEM files, separated by the path separator)."""


def records_database_exists() -> bool:
    """Whether a records database is configured (``$KETASCREEN_DATABASE_URL``) or exists in the
    data folder (nothing is created to find out, and SQLAlchemy is not imported to ask)."""
    from ketascreen.records.location import (  # noqa: PLC0415
        DATABASE_FILE,
        ENV_DATABASE_URL,
        data_dir,
    )

    return bool(os.environ.get(ENV_DATABASE_URL)) or (data_dir() / DATABASE_FILE).exists()
