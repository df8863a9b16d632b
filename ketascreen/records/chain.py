"""The audit chain's hashing: the canonical form of an event and its sha256.

Kept apart from the trail (:mod:`ketascreen.records.audit`) and the row hashes
(:mod:`ketascreen.records.rowhash`), which both hash events with it: the trail appends events
in a session, a migration appends one with a bare connection
(:func:`ketascreen.records.rowhash.record_all_rows`), and both must hash alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

GENESIS: Final = "0" * 64
"""The ``prev_hash`` of the first event."""
FORMAT_VERSION: Final = 1
Detail = Mapping[str, str | int | bool | None]
"""An event's extra facts (hashes, counts, the reason of a refusal), never patient data."""


_ENCODER: Final = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
"""``json.dumps`` with these options, built once (``json.dumps`` builds one a call)."""
_STRING: Final = json.encoder.encode_basestring
"""What :data:`_ENCODER` writes for a ``str`` (the C function)."""


def canonical(data: object) -> bytes:
    """The canonical bytes of a JSON value: sorted keys, no spaces, UTF-8."""
    return _ENCODER.encode(data).encode("utf-8")


def event_hash(*, seq: int, occurred_at: str, username: str, role: str, workstation: str,
               action: str, outcome: str, record_id: str | None, detail: str,
               prev_hash: str, row_hashes: str | None = None) -> str:
    """The sha256 (hex) of one event's canonical serialisation.

    Args:
        seq: the event's number (1 for the first event).
        occurred_at: the time, ISO 8601 UTC text exactly as stored.
        username: who acted (or tried to).
        role: their role, or an empty string when unknown (a refused login).
        workstation: the host name of the computer.
        action: what was done, e.g. ``sign``.
        outcome: ``ok`` or ``refused``.
        record_id: the record concerned, if any.
        detail: the detail JSON text exactly as stored.
        prev_hash: the hash of the previous event (:data:`GENESIS` for the first).
        row_hashes: the hashes of the rows the event's transaction changed, JSON text exactly
            as stored (:mod:`ketascreen.records.rowhash`); events without it (and those
            written before revision 0003) hash as before.

    Returns:
        64 lowercase hex digits.
    """
    return stored_event_hash(seq, occurred_at, username, role, workstation, action, outcome,
                             record_id, detail, prev_hash, row_hashes)


def stored_event_hash(  # noqa: PLR0917 - a stored row's columns, in their order
        seq: int, occurred_at: str, username: str, role: str, workstation: str,
        action: str, outcome: str, record_id: str | None, detail: str,
        prev_hash: str, row_hashes: str | None, *_: object) -> str:
    """:func:`event_hash` of an event's columns given in the order of a stored row
    (``audit_events``: ``seq`` to ``prev_hash``, then ``row_hashes``; anything after them,
    such as the stored hash, is ignored): one call a row while the trail is verified."""
    if (type(seq) is int and type(occurred_at) is str and type(username) is str
            and type(role) is str and type(workstation) is str and type(action) is str
            and type(outcome) is str and (record_id is None or type(record_id) is str)
            and type(detail) is str and type(prev_hash) is str
            and (row_hashes is None or type(row_hashes) is str)):
        # the canonical text written directly: keys in sorted order, as the encoder writes it
        text = (f'{{"action":{_STRING(action)},"at":{_STRING(occurred_at)},'
                f'"detail":{_STRING(detail)},"outcome":{_STRING(outcome)},'
                f'"prev":{_STRING(prev_hash)},'
                f'"record":{"null" if record_id is None else _STRING(record_id)},'
                f'"role":{_STRING(role)},'
                f'{"" if row_hashes is None else f""""rows":{_STRING(row_hashes)},"""}'
                f'"seq":{int.__repr__(seq)},"user":{_STRING(username)},"v":{FORMAT_VERSION},'
                f'"workstation":{_STRING(workstation)}}}')
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    fields: dict[str, object] = {  # values of other types (a tampered row): as the encoder
        "v": FORMAT_VERSION, "seq": seq, "at": occurred_at, "user": username, "role": role,
        "workstation": workstation, "action": action, "outcome": outcome,
        "record": record_id, "detail": detail, "prev": prev_hash,
    }
    if row_hashes is not None:
        fields["rows"] = row_hashes
    return hashlib.sha256(canonical(fields)).hexdigest()


def timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 UTC text with microseconds, e.g. ``2026-11-25T09:15:00.123456Z``."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
