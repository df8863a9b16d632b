"""The audit head a signed checklist embeds: its exact bytes, and what is not a head."""

from __future__ import annotations

import pytest

from ketascreen.reports.attachments import (
    HEAD_ATTACHMENT,
    head_attachment,
    read_head_attachment,
)

DIGEST = "AB" * 32


def test_head_attachment_bytes_are_canonical_json() -> None:
    assert HEAD_ATTACHMENT == "ketascreen-audit-head.json"
    assert head_attachment(42, DIGEST) == ('{"seq":42,"sha256":"' + DIGEST + '"}').encode()


def test_a_head_reads_back_with_its_hash_in_lowercase() -> None:
    assert read_head_attachment(head_attachment(42, DIGEST)) == (42, DIGEST.lower())
    assert read_head_attachment(head_attachment(0, "0" * 64)) == (0, "0" * 64)


@pytest.mark.parametrize("data", [
    b"not json",
    b"[42, \"ab\"]",
    b'{"seq": 42}',
    b'{"sha256": "ab"}',
    b'{"seq": true, "sha256": "ab"}',
    b'{"seq": "42", "sha256": "ab"}',
    b'{"seq": 42, "sha256": 7}',
    b"\xff\xfe",
], ids=["text", "list", "no-hash", "no-seq", "bool-seq", "text-seq", "number-hash", "bytes"])
def test_what_is_not_a_head_reads_as_none(data: bytes) -> None:
    assert read_head_attachment(data) is None
