"""``audit verify`` reads each stored checklist's audit head with a reader that parses only what
the lookup needs (:mod:`ketascreen.records.headscan`); these tests show it returns what pyHanko
returns (:func:`ketascreen.records.documents.embedded_head`) for real checklists, with and
without a head, and for damaged ones (changed, cut or inserted bytes), where it hands over to
pyHanko whenever it is unsure."""

from __future__ import annotations

import functools
import json
import re
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


def _objects(pdf: bytes) -> dict[str, int]:
    """Where the body of each object the lookup reads starts (after ``N G obj``)."""
    reader = headscan._Reader(pdf)

    def body(ref: object) -> int:
        assert isinstance(ref, headscan._Ref)
        offset = reader._entry(ref[0])[0]
        return pdf.index(b"obj", offset) + 3

    root_ref = reader.root
    root = reader.resolve(root_ref)
    assert isinstance(root, dict)
    names = reader.resolve(root[b"/Names"])
    assert isinstance(names, dict)
    tree = reader.resolve(names[b"/EmbeddedFiles"])
    assert isinstance(tree, dict)
    pairs = reader.resolve(tree[b"/Names"])
    assert isinstance(pairs, list)
    spec = reader.resolve(pairs[1])
    assert isinstance(spec, dict) and isinstance(spec[b"/EF"], dict)
    return {"catalog": body(root_ref), "names": body(root[b"/Names"]),
            "tree": body(names[b"/EmbeddedFiles"]), "pairs": body(tree[b"/Names"]),
            "file specification": body(pairs[1]), "embedded file": body(spec[b"/EF"][b"/F"])}


@pytest.mark.parametrize("kind", ["catalog", "names", "tree", "pairs", "file specification",
                                  "embedded file"])
def test_each_written_object_reads_as_the_tokenizer_reads_it(documents: dict[str, bytes],
                                                             kind: str) -> None:
    pdf = documents["signed with head"]
    at = _objects(pdf)[kind]
    written = headscan._as_written(pdf, at)
    assert written is not None, kind  # the pattern matches pyHanko's own writing
    assert written == headscan._Reader(pdf)._value(at)


# near misses: each still a valid object, but not as the patterns read it (or read alike)
_NEAR_MISSES = [
    ("catalog", b"/Type /Catalog\n", b"/Type /Catalog\n/Type /Catalog\n"),  # a repeated key
    ("catalog", b"/Version /2.0\n", b"/Version /2#2E0\n"),  # an escaped name
    ("catalog", b"/ExtensionRevision (\\0722022)", b"/ExtensionRevision (\\n2022)"),
    ("catalog", b"/Metadata ", b"/Extensions 1\n/Metadata "),  # /Extensions twice
    ("names", b"/EmbeddedFiles ", b"/Limit -1\n/EmbeddedFiles "),  # a signed number
    ("tree", b"/Names ", b"/Names 1.5\n/Names "),  # a real, a repeated key
]


@pytest.mark.parametrize(("kind", "old", "new"), _NEAR_MISSES)
def test_a_near_miss_is_left_to_the_tokenizer(documents: dict[str, bytes], kind: str,
                                              old: bytes, new: bytes) -> None:
    pdf = documents["signed with head"]
    at = _objects(pdf)[kind]
    end = pdf.index(b"endobj", at)
    assert pdf.count(old, at, end) == 1
    changed = pdf[:at] + pdf[at:end].replace(old, new) + pdf[end:]
    assert headscan._as_written(changed, at) is None
    shifted = _with_offsets_fixed(changed, at, len(new) - len(old))
    try:  # the tokenizer reads it, or is unsure (a repeated key) and pyHanko decides
        fast = headscan._fast(shifted)
    except headscan._UnsureError:
        assert b"\n/Type /Catalog\n/Type" in shifted or b"/Extensions 1" in shifted \
            or b"/Names 1.5" in shifted
    else:
        assert fast == by_pyhanko(shifted) == HEAD
    assert embedded_head(shifted) == by_pyhanko(shifted)


def _with_offsets_fixed(pdf: bytes, at: int, shift: int) -> bytes:
    """``pdf`` with the cross-reference entries and ``startxref``/``/Prev`` after ``at`` moved by
    ``shift`` bytes (an edit that keeps the file well formed)."""
    def entry(found: re.Match[bytes]) -> bytes:
        offset = int(found.group(1))
        return b"%010d" % (offset + shift if offset > at else offset) + found.group(2)

    body = re.sub(rb"(?m)^(\d{10})( \d{5} n \n)", entry, pdf)
    return re.sub(rb"startxref\n(\d+)\n", lambda m: b"startxref\n%d\n" % (
        int(m.group(1)) + shift if int(m.group(1)) > at else int(m.group(1))), body)


def test_a_cross_reference_section_not_as_long_as_it_says_is_unsure(
        documents: dict[str, bytes]) -> None:
    pdf = documents["signed with head"]
    last = pdf.rindex(b"\nxref\n") + 1
    header = re.compile(rb"\n(\d+) (\d+)\n").search(pdf, last + 4)
    assert header is not None
    count = int(header.group(2))
    fewer = pdf[:header.start(2)] + b"%d" % (count - 1) + pdf[header.end(2):]
    with pytest.raises(headscan._UnsureError):
        headscan._fast(fewer)
    assert embedded_head(fewer) == by_pyhanko(fewer)


def _tiny_pdf(*objects: bytes) -> bytes:
    """A classic PDF of these object bodies (1, 2, ...), the first being the catalog."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def test_an_object_read_once_is_kept_by_its_bytes() -> None:
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    first = headscan._Reader(_tiny_pdf(catalog, b"<< /Type /Pages >>"))
    read = first.resolve(headscan._Ref((1, 0)))
    assert read == {b"/Type": b"/Catalog", b"/Pages": headscan._Ref((2, 0))}
    # another document, the same bytes elsewhere: the object kept is returned
    other = headscan._Reader(_tiny_pdf(catalog, b"<< /Type /Pages /Count 0 >>"))
    assert other.resolve(headscan._Ref((1, 0))) is read
    # different bytes: read again
    changed = headscan._Reader(_tiny_pdf(b"<< /Type /Catalog /Pages 2 0 R /X 1 >>", b"1"))
    assert changed.resolve(headscan._Ref((1, 0))) == {**read, b"/X": 1}


def test_an_object_with_endobj_in_a_string_or_a_stream_is_not_kept() -> None:
    tricky = b"<< /Title (a endobj b) /N 7 >>"
    reader = headscan._Reader(_tiny_pdf(tricky))
    value = reader.resolve(headscan._Ref((1, 0)))
    assert value == {b"/Title": b"a endobj b", b"/N": 7}
    assert not any(text.startswith(b"\n<< /Title") for text in headscan._KEPT)
    assert reader.resolve(headscan._Ref((1, 0))) is not value
    streamed = headscan._Reader(_tiny_pdf(b"<< /Length 3 >>\nstream\nabc\nendstream"))
    first = streamed.resolve(headscan._Ref((1, 0)))
    assert isinstance(first, headscan._Stream) and first.data == b"abc"
    assert streamed.resolve(headscan._Ref((1, 0))) is not first
