"""``audit verify`` reads each stored checklist's audit head with a reader that parses only what
the lookup needs (:mod:`ketascreen.records.headscan`); these tests show it returns what pyHanko
returns (:func:`ketascreen.records.documents.embedded_head`) for real checklists, with and
without a head, and for damaged ones (changed, cut or inserted bytes), where it hands over to
pyHanko whenever it is unsure."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketascreen.api import parse_case
from ketascreen.records import headscan
from ketascreen.records.documents import embedded_head as by_pyhanko
from ketascreen.records.headscan import embedded_head
from ketascreen.reports.keys import generate_self_signed
from ketascreen.reports.output import SigningRequest, produce_checklist
from ketascreen.reports.signing import attach_unsigned
from ketascreen.screening import run

EXAMPLE = Path(__file__).resolve().parents[3] / "shared" / "spec" / "examples" / \
    "case-example.json"
HEAD = (41, "ab" * 32)


@functools.cache
def _documents() -> dict[str, bytes]:
    """A signed checklist with a head, one without, and an unsigned one with attachments."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["acknowledgements"] = [{"concept": "benzodiazepine", "reason": "Held the night before."}]
    screening = run(parse_case(data))
    pair = generate_self_signed("Dr Jane Smith", b"test-passphrase", credentials="MD")
    signing = SigningRequest(pair.pkcs12, b"test-passphrase", "test.p12")
    with_head, _ = produce_checklist(screening, signing=signing, audit_head=HEAD)
    without_head, _ = produce_checklist(screening, signing=signing)
    unsigned, _ = produce_checklist(screening)
    return {
        "signed with head": with_head,
        "signed without head": without_head,
        "unsigned": unsigned,
        "unsigned, head attached": attach_unsigned(unsigned, {
            "ketascreen-audit-head.json": b'{"seq":7,"sha256":"CD"}'}),
        "unsigned, not a head": attach_unsigned(unsigned, {
            "ketascreen-audit-head.json": b'{"seq":"7","sha256":"cd"}'}),
        "empty": b"",
        "not a pdf": b"%PDF-1.7\nnothing here\n%%EOF\n",
    }


@pytest.fixture
def documents() -> dict[str, bytes]:
    """The documents (made once)."""
    return _documents()


def test_the_fast_reading_is_pyhankos_and_takes_no_fallback(documents: dict[str, bytes]
                                                            ) -> None:
    assert embedded_head(documents["signed with head"]) == HEAD
    assert embedded_head(documents["unsigned, head attached"]) == (7, "cd")
    for name, pdf in documents.items():
        assert embedded_head(pdf) == by_pyhanko(pdf), name
        if name not in ("empty", "not a pdf"):
            # ketascreen's own documents are read without pyHanko
            assert headscan._fast(pdf) == by_pyhanko(pdf), name


def test_unsure_hands_over_to_pyhanko(documents: dict[str, bytes],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []

    def spy(pdf: bytes) -> tuple[int, str] | None:
        calls.append(pdf)
        return by_pyhanko(pdf)

    monkeypatch.setattr("ketascreen.records.documents.embedded_head", spy)
    assert embedded_head(documents["not a pdf"]) is None
    assert calls == [documents["not a pdf"]]
    assert embedded_head(documents["signed with head"]) == HEAD
    assert len(calls) == 1


_EDITS = st.lists(st.tuples(
    st.integers(0, 10**6), st.sampled_from(["flip", "cut", "insert", "digit"]),
    st.integers(0, 255), st.integers(1, 40),
    st.sampled_from([b" ", b"\n", b"(", b")", b"<<", b"]", b"%", b"1 0 R", b"/Kids", b"\\"])),
    min_size=1, max_size=3)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["signed with head", "unsigned, head attached"]),
       region=st.sampled_from([0, 1, 2]), edits=_EDITS)
def test_damaged_documents_read_as_pyhanko_reads_them(
        name: str, region: int, edits: list[tuple[int, str, int, int, bytes]]) -> None:
    pdf = bytearray(_documents()[name])
    # damage anywhere, the last quarter (the objects appended last), or the tables at the end
    start = (0, len(pdf) * 3 // 4, len(pdf) - 2000)[region]
    for where, how, byte, length, text in edits:
        at = min(start, len(pdf) - 1) + where % max(1, len(pdf) - start)
        if how == "flip":
            pdf[at] = byte
        elif how == "cut":
            del pdf[at:at + length]
        elif how == "insert":
            pdf[at:at] = text
        else:
            pdf[at] = ord("0123456789"[byte % 10])
    damaged = bytes(pdf)
    assert embedded_head(damaged) == by_pyhanko(damaged)
