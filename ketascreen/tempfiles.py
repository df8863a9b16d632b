"""Temporary files ketascreen writes, and the leftovers of a crash.

Every temporary file (a checklist or case file on its way to its destination) is named
``.ketascreen-partial-<pid>-<random>.tmp`` in the destination's folder and created mode 0600:
it may hold patient data. A process killed before renaming it leaves it behind; the next start
of the command line or the app removes it (:func:`remove_leftovers`) from the data folder and
the folders it writes to. Standard library only: this runs before anything else is imported.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

TEMP_PREFIX = ".ketascreen-partial-"
"""Every temporary file ketascreen writes starts with this, then the writing process's id
(``.ketascreen-partial-4242-k3j9.tmp``): a leftover of a crash is recognised and removed at the
next start (:func:`remove_leftovers`). The file is created mode 0600 (it may hold patient data)."""
TEMP_SUFFIX = ".tmp"


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":  # no harmless liveness probe: judged by age alone
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, another user's
        return True
    return True


def remove_leftovers(folder: Path, *, older_than: float | None = None) -> list[Path]:
    """Remove the temporary files a crashed ketascreen left in ``folder``.

    A file is a leftover when its name is ``TEMP_PREFIX<pid>-...TEMP_SUFFIX``, it was last
    written before ``older_than`` (this process's start), and process ``pid`` is not running
    (so another ketascreen writing into the same folder right now keeps its file).

    Args:
        folder: where to look (not recursively); a missing folder has no leftovers.
        older_than: a time (seconds since the epoch); by default when this process started.

    Returns:
        The files removed.
    """
    cutoff = _process_started() if older_than is None else older_than
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)):
            continue
        pid_text = name[len(TEMP_PREFIX):].split("-", 1)[0]
        try:
            if not entry.is_file(follow_symlinks=False) or \
                    entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            if pid_text.isdigit() and _running(int(pid_text)):
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def _process_started() -> float:
    """When this process started (seconds since the epoch); else when this module loaded."""
    try:  # Linux: field 22 of /proc/self/stat is the start time in clock ticks after boot
        stat = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(stat[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return _IMPORTED


_IMPORTED = time.time()
