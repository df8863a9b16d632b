"""The files a checklist embeds under its signature, by name, and the audit head's encoding.

A checklist carries its case and result (canonical JSON) and, when it is signed for the records,
the audit trail's head at that moment (:data:`HEAD_ATTACHMENT`). The records read them back to
check that a signed document belongs to its record and that the trail was not rewritten since
(:mod:`ketascreen.records.documents`).
"""

from __future__ import annotations

import json
from typing import Final

CASE_ATTACHMENT: Final = "ketascreen-case.json"
RESULT_ATTACHMENT: Final = "ketascreen-result.json"
HEAD_ATTACHMENT: Final = "ketascreen-audit-head.json"
"""``{"seq": N, "sha256": "..."}``: the audit trail's last event when the checklist was made."""


def head_attachment(seq: int, digest: str) -> bytes:
    """The bytes of :data:`HEAD_ATTACHMENT` for the trail's head (event ``seq``, ``digest``)."""
    return json.dumps({"seq": seq, "sha256": digest}, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def read_head_attachment(data: bytes) -> tuple[int, str] | None:
    """The event number and hash (lowercase) of :data:`HEAD_ATTACHMENT` bytes, or ``None``
    when they do not hold a head."""
    try:
        found = json.loads(data)
        seq, digest = found["seq"], found["sha256"]
    except Exception:  # noqa: BLE001 - an unreadable attachment holds no head to compare
        return None
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(digest, str):
        return None
    return seq, digest.lower()
