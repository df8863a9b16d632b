"""``audit verify`` reads each stored checklist's audit head with a reader that parses only what
the lookup needs (:mod:`ketascreen.records.headscan`); these tests show it returns what pyHanko
returns (:func:`ketascreen.records.documents.embedded_head`) for real checklists, with and
without a head, and for damaged ones (changed, cut or inserted bytes), where it hands over to
pyHanko whenever it is unsure."""

from __future__ import annotations

import contextlib
import functools
import json
import re
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketascreen.api import parse_case
from ketascreen.records import headscan
from ketascreen.records.documents import embedded_head as by_pyhanko
from ketascreen.records.headscan import embedded_head
from ketascreen.reports.attachments import read_head_attachment
from ketascreen.reports.keys import generate_self_signed
from ketascreen.reports.output import SigningRequest, produce_checklist
from ketascreen.reports.signing import attach_unsigned
from ketascreen.screening import run

EXAMPLE = Path(__file__).resolve().parents[3] / "shared" / "spec" / "examples" / \
    "case-example.json"
HEAD = (41, "ab" * 32)
HEAD_NAME = "ketascreen-audit-head.json"


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
    _read_twice(bytes(pdf))  # its lookup kept: the damaged document may or may not take it
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
        return reader._body(ref)

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


# --- the shortcuts for documents as ketascreen writes them, each taken and each left -----------


def _replaced(pdf: bytes, old: bytes, new: bytes, *, last: bool = True) -> bytes:
    """``pdf`` with the last (or first) ``old`` replaced by ``new``, the offsets after it fixed."""
    at = pdf.rindex(old) if last else pdf.index(old)
    return _with_offsets_fixed(pdf[:at] + new + pdf[at + len(old):], at, len(new) - len(old))


class _Calls:
    """Counts the calls of some functions of the head scan (the fallbacks of its shortcuts)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: dict[str, int] = {}
        for owner, name in ((headscan._Reader, "_section"), (headscan._Reader, "resolve"),
                            (headscan, "_decoded"), (headscan, "read_head_attachment"),
                            (headscan, "_files"), (headscan, "_STARTXREF"),
                            (headscan, "_SUBSECTION_HEAD")):
            self._spy(monkeypatch, owner, name)

    def _spy(self, monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> None:
        real = getattr(owner, name)
        self.counts[name] = 0
        if isinstance(real, re.Pattern):
            counts = self.counts

            class Pattern:
                def match(self, *args: object) -> object:
                    counts[name] += 1
                    return real.match(*args)

            monkeypatch.setattr(owner, name, Pattern())
            return

        def spy(*args: object) -> object:
            self.counts[name] += 1
            return real(*args)

        monkeypatch.setattr(owner, name, spy)


def _read_twice(pdf: bytes) -> tuple[int, str] | None:
    """The fast reading of ``pdf``, after a first reading that kept its lookup."""
    with contextlib.suppress(headscan._UnsureError):
        headscan._fast(pdf)
    return headscan._fast(pdf)


def test_a_checklist_as_written_takes_every_shortcut(documents: dict[str, bytes],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = documents["signed with head"]
    headscan._PLANS.clear()
    assert headscan._fast(pdf) == HEAD  # the lookup is kept
    calls = _Calls(monkeypatch)
    assert headscan._fast(pdf) == HEAD == by_pyhanko(pdf)
    # no section read by the general reader, no object resolved (the lookup kept: every
    # object the same bytes), no stream's dictionary read, no json
    assert calls.counts == {"_section": 0, "resolve": 0, "_decoded": 0,
                            "read_head_attachment": 0, "_files": 0, "_STARTXREF": 1,
                            "_SUBSECTION_HEAD": 0}  # both tables known by their shape
    # another checklist (no head: other objects) is looked up, then kept too
    other = documents["signed without head"]
    assert headscan._fast(other) is None
    assert calls.counts["_files"] == 1 and calls.counts["resolve"] > 0
    resolved = calls.counts["resolve"]
    assert headscan._fast(other) is None and headscan._fast(pdf) == HEAD
    assert calls.counts["_files"] == 1 and calls.counts["resolve"] == resolved


# each a change to the last table and trailer of the signed checklist with a head (after every
# object: no offset moves), whether the fast reading is still sure, and the fallback it takes
_LEFT = [
    ("trailer: an /ID of 15 bytes", rb"<([0-9a-f]{30})[0-9a-f]{2}> \]", rb"<\1> ]", True),
    ("trailer: an /ID of odd length", rb"<([0-9a-f]{30})[0-9a-f]{2}> \]", rb"<\1a> ]", False),
    ("trailer: an upper-case /ID", rb"<([0-9a-f]{32})> \]",
     lambda found: b"<" + found.group(1).upper() + b"> ]", True),
    ("trailer: another key", rb"/Size (\d+)\n", rb"/Size \1\n/Foo 1\n", True),
    ("trailer: encrypted", rb"/Size (\d+)\n", rb"/Size \1\n/Encrypt 1 0 R\n", False),
    ("trailer: a comment", rb"/Info (\d+ \d+ R)\n", rb"/Info \1 % x\n", True),

    ("table: an entry not digits", rb"\n3 2\n(\d{5})\d", rb"\n3 2\n\1x", False),
    ("table: one entry more than written", rb"\n3 2\n", rb"\n3 3\n", False),
    ("table: one entry fewer than written", rb"\n23 19\n", rb"\n23 18\n", False),
    # (a line end other than `` \n``: unsure before these shortcuts too)
    ("table: an entry ending \\r\\n", rb"\n3 2\n(\d{10} \d{5} n) \n", rb"\n3 2\n\1\r\n", False),
    ("table: a header with two spaces", rb"\n15 2\n", rb"\n15  2\n", False),
]


@pytest.mark.parametrize(("vector", "pattern", "replacement", "sure"), _LEFT,
                         ids=[vector for vector, *_ in _LEFT])
def test_a_section_not_as_written_is_read_by_the_general_reader(
        documents: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, vector: str,
        pattern: bytes, replacement: bytes | Callable[[re.Match[bytes]], bytes],
        sure: bool) -> None:
    pdf = documents["signed with head"]
    at = pdf.rindex(b"\nxref\n")
    tail, count = re.subn(pattern, replacement, pdf[at:], count=1)
    assert count == 1, vector
    changed = pdf[:at] + tail
    assert embedded_head(changed) == by_pyhanko(changed), vector
    calls = _Calls(monkeypatch)
    if sure:
        assert headscan._fast(changed) == HEAD, vector
    else:
        with pytest.raises(headscan._UnsureError):
            headscan._fast(changed)
    assert calls.counts["_section"] >= 1, vector  # the shortcut was left


# the section as written, an entry or reference the lookup then finds otherwise: unsure
_ENTRIES_LEFT = [
    ("trailer: /Root generation 1", rb"/Root (\d+) 0 R", rb"/Root \1 1 R"),
    ("table: the catalog's entry free", rb"\n15 2\n(\d{10} \d{5}) n", rb"\n15 2\n\1 f"),
    ("table: the catalog's entry generation 1", rb"\n15 2\n(\d{10}) 00000",
     rb"\n15 2\n\1 00001"),
]


@pytest.mark.parametrize(("vector", "pattern", "replacement"), _ENTRIES_LEFT,
                         ids=[vector for vector, *_ in _ENTRIES_LEFT])
def test_an_entry_not_in_use_or_of_another_generation_is_unsure(
        documents: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, vector: str,
        pattern: bytes, replacement: bytes) -> None:
    pdf = documents["signed with head"]
    at = pdf.rindex(b"\nxref\n")
    tail, count = re.subn(pattern, replacement, pdf[at:], count=1)
    assert count == 1, vector
    changed = pdf[:at] + tail
    calls = _Calls(monkeypatch)
    with pytest.raises(headscan._UnsureError):
        headscan._fast(changed)
    assert calls.counts["_section"] == 0, vector  # the section as written
    assert embedded_head(changed) == by_pyhanko(changed), vector


def test_a_catalog_of_generation_1_throughout_is_read(documents: dict[str, bytes]) -> None:
    pdf = documents["signed with head"]
    at = pdf.rindex(b"\nxref\n")
    tail = re.sub(rb"\n15 2\n(\d{10}) 00000", rb"\n15 2\n\1 00001", pdf[at:], count=1)
    tail = tail.replace(b"/Root 15 0 R", b"/Root 15 1 R")
    body = pdf[:at]
    catalog = body.rindex(b"\n15 0 obj\n")
    changed = body[:catalog] + b"\n15 1 obj\n" + body[catalog + 10:] + tail
    assert len(changed) == len(pdf)
    assert headscan._fast(changed) == HEAD == by_pyhanko(changed)
    assert embedded_head(changed) == HEAD


def test_a_startxref_before_the_last_is_passed_over(documents: dict[str, bytes],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = documents["signed with head"]
    at = pdf.rindex(b"startxref\n")
    changed = pdf[:at] + b"startxref\n1\n" + pdf[at:]
    calls = _Calls(monkeypatch)
    assert headscan._fast(changed) == HEAD == by_pyhanko(changed)
    assert calls.counts["_STARTXREF"] == 1 and calls.counts["_section"] == 0


def test_the_older_section_as_written_and_not(documents: dict[str, bytes],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = documents["signed with head"]
    older = pdf.rindex(b"\nxref\n", 0, pdf.rindex(b"\nxref\n"))
    entry = re.compile(rb"\d{10} 00000 n \n").search(pdf, older)
    assert entry is not None
    calls = _Calls(monkeypatch)
    assert headscan._fast(pdf) == HEAD and calls.counts["_section"] == 0
    # ReportLab's table with an entry broken: read by the general reader, unsure
    broken = pdf[:entry.start() + 3] + b"-" + pdf[entry.start() + 4:]
    with pytest.raises(headscan._UnsureError):
        headscan._fast(broken)
    assert calls.counts["_section"] == 1
    assert embedded_head(broken) == by_pyhanko(broken)
    # ReportLab's trailer with /Prev: as written still (the same values as the tokenizer's)
    at = pdf.index(b"/Size 22\n", older)
    with_prev = pdf[:at] + b"/Size 22\n/Prev 1\n" + pdf[at + len(b"/Size 22\n"):]
    reader = headscan._Reader.__new__(headscan._Reader)
    reader.pdf, reader.sections = with_prev, []
    written = reader._written_section(older + 1)
    assert written is not None and written.groups() == (b"15", b"0", b"1")
    general = headscan._Reader.__new__(headscan._Reader)
    general.pdf, general.sections = with_prev, []
    trailer = general._section(older + 1)
    assert (trailer[b"/Root"], trailer[b"/Prev"]) == (headscan._Ref((15, 0)), 1)
    assert reader.sections == general.sections == [(0, 22, older + 1 + len(b"xref\n0 22\n"))]


@pytest.mark.parametrize(("vector", "end"), [
    ("as written", b">>\nstartxref\n%d\n%%%%EOF\n"),
    ("startxref not at a line's start", b">>\xb7startxref\n%d\n%%%%EOF\n"),
    ("startxref and its offset on one line", b">>\nstartxref %d\n%%%%EOF\n"),
    ("the offset and %%EOF on one line", b">>\nstartxref\n%d %%%%EOF\n"),
    ("no line end after %%EOF", b">>\nstartxref\n%d\n%%%%EOF"),
    ("CR LF line ends", b">>\r\nstartxref\r\n%d\r\n%%%%EOF\r\n"),
    ("white space after %%EOF", b">>\nstartxref\n%d\n%%%%EOF\n \n"),
])
def test_the_end_of_the_file_as_written_and_not(documents: dict[str, bytes], vector: str,
                                                end: bytes) -> None:
    pdf = documents["signed with head"]
    found = re.compile(rb">>\nstartxref\n(\d+)\n%%EOF\n\Z").search(pdf)
    assert found is not None
    changed = pdf[:found.start()] + end % int(found.group(1))
    if vector == "as written":
        assert changed == pdf and headscan._fast(changed) == HEAD
    else:  # pyHanko reads these lines its own way (some it refuses): left to it
        with pytest.raises(headscan._UnsureError):
            headscan._fast(changed)
    assert embedded_head(changed) == by_pyhanko(changed), vector


def test_a_startxref_too_far_from_the_end_is_left_to_pyhanko(documents: dict[str, bytes]
                                                              ) -> None:
    pdf = documents["signed with head"] + b" " * 1100  # white space after %%EOF
    with pytest.raises(headscan._UnsureError):
        headscan._fast(pdf)
    assert embedded_head(pdf) == by_pyhanko(pdf)
    far = b"%PDF-1.7\nstartxref\n9\n%%EOF" + b" " * 1100  # the only startxref, too far back
    with pytest.raises(headscan._UnsureError):
        headscan._Reader(far)
    assert embedded_head(far) == by_pyhanko(far)


_HEAD_AT = b'{"seq":41,"sha256":"' + b"ab" * 32 + b'"}'


@pytest.mark.parametrize("stream", [
    "as written", "white space before endstream", "a length one short", "a broken deflate",
    "carriage return before endstream"])
def test_an_embedded_file_as_written_is_inflated_directly(
        documents: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, stream: str) -> None:
    pdf = documents["signed with head"]
    head = headscan._Reader(pdf)
    files = headscan._files(head)
    assert files is not None
    ref = dict(files)["ketascreen-audit-head.json"]
    at = head._body(ref)
    written = headscan._EMBEDDED_STREAM.match(pdf, at)
    assert written is not None
    start, stop = written.end(), written.end() + int(written.group(1))
    assert pdf.startswith(b"\nendstream", stop)
    if stream == "white space before endstream":
        pdf = _with_offsets_fixed(pdf[:stop] + b" " + pdf[stop:], stop, 1)
    elif stream == "carriage return before endstream":
        pdf = _with_offsets_fixed(pdf[:stop] + b"\r" + pdf[stop:], stop, 1)
    elif stream == "a length one short":
        length = written.group(1)
        pdf = pdf[:written.start(1)] + b"%d" % (int(length) - 1) + pdf[written.end(1):]
        assert len(b"%d" % (int(length) - 1)) == len(length)
    elif stream == "a broken deflate":
        pdf = pdf[:start + 5] + bytes([pdf[start + 5] ^ 0xFF]) + pdf[start + 6:]
    calls = _Calls(monkeypatch)
    sure = stream in ("as written", "white space before endstream",
                      "carriage return before endstream")
    if sure:
        assert headscan._fast(pdf) == HEAD
        # directly, or through the stream's dictionary where the stream ends otherwise
        assert calls.counts["_decoded"] == (stream != "as written")
    else:
        with pytest.raises(headscan._UnsureError):
            headscan._fast(pdf)
    assert embedded_head(pdf) == by_pyhanko(pdf)


@pytest.mark.parametrize(("attachment", "damage"), [
    ("ketascreen-case.json", "a broken deflate"), ("ketascreen-result.json", "a broken deflate"),
    ("ketascreen-case.json", "a length one short"), (HEAD_NAME, "a broken deflate")])
def test_only_the_head_attachment_is_inflated(documents: dict[str, bytes],
                                              monkeypatch: pytest.MonkeyPatch, attachment: str,
                                              damage: str) -> None:
    """The case and result beside the head are read as streams, not inflated: data that does
    not inflate there leaves the head readable (both readers), while a stream that is not one
    where it stands, or a head that does not inflate, reads as no head."""
    pdf = documents["signed with head"]
    reader = headscan._Reader(pdf)
    files = headscan._files(reader)
    assert files is not None and [name for name, _ in files] == [
        "ketascreen-case.json", "ketascreen-result.json", HEAD_NAME]
    written = headscan._EMBEDDED_STREAM.match(pdf, reader._body(dict(files)[attachment]))
    assert written is not None
    start = written.end()
    if damage == "a broken deflate":
        pdf = pdf[:start + 5] + bytes([pdf[start + 5] ^ 0xFF]) + pdf[start + 6:]
        with pytest.raises(zlib.error):
            zlib.decompress(pdf[start:start + int(written.group(1))])
    else:
        length = written.group(1)
        pdf = pdf[:written.start(1)] + b"%d" % (int(length) - 1) + pdf[written.end(1):]
    inflated: list[bytes] = []
    real = headscan._inflated

    def spy(data: bytes) -> bytes:
        inflated.append(data)
        return real(data)

    monkeypatch.setattr(headscan, "_inflated", spy)
    expected = HEAD if damage == "a broken deflate" and attachment != HEAD_NAME else None
    assert by_pyhanko(pdf) == expected
    if damage == "a length one short":  # not a stream where it stands: pyHanko decides
        with pytest.raises(headscan._UnsureError):
            headscan._fast(pdf)
    else:
        try:
            assert headscan._fast(pdf) == expected
        except headscan._UnsureError:
            assert expected is None  # the head's deflate broken: unsure, pyHanko reads none
        assert len(inflated) == 1  # the head's stream alone
    assert embedded_head(pdf) == expected


@pytest.mark.parametrize("data", [
    _HEAD_AT, b'{"seq":0,"sha256":""}', b'{"seq":007,"sha256":"ab"}',
    b'{"seq":-7,"sha256":"ab"}', b'{"seq":7,"sha256":"AB"}', b'{"seq": 7,"sha256":"ab"}',
    b'{"sha256":"ab","seq":7}', b'{"seq":7.0,"sha256":"ab"}', b'{"seq":7,"sha256":"a\\u0062"}',
    b'{"seq":7,"sha256":"ab","seq":8}', b'{"seq":' + b"9" * 18 + b',"sha256":"ab"}',
    b'{"seq":' + b"9" * 19 + b',"sha256":"ab"}', b'{"seq":' + b"9" * 5000 + b',"sha256":""}',
    b'{"seq":7,"sha256":"ab"} ', b'{"seq":true,"sha256":"ab"}', b"", b"\xff"])
def test_the_head_as_written_reads_as_json_reads_it(data: bytes) -> None:
    assert headscan._head(data) == read_head_attachment(data)
    shortcut = headscan._HEAD_AS_WRITTEN.fullmatch(data) is not None
    assert shortcut == (data in (_HEAD_AT, b'{"seq":0,"sha256":""}',
                                 b'{"seq":' + b"9" * 18 + b',"sha256":"ab"}'))


def test_an_object_kept_by_its_bytes_needs_endobj_after_them() -> None:
    tiny = _tiny_pdf(b"<< /A 1 >>")
    kept = headscan._Reader(tiny).resolve(headscan._Ref((1, 0)))
    assert kept == {b"/A": 1}
    # the same bytes at another offset: the object kept
    moved = _with_offsets_fixed(tiny[:9] + b"%moved\n" + tiny[9:], 8, 7)
    assert moved != tiny
    assert headscan._Reader(moved).resolve(headscan._Ref((1, 0))) is kept
    # the same bytes, then a stream rather than endobj: read again (unsure: no /Length)
    streamed = headscan._Reader(_tiny_pdf(b"<< /A 1 >>\nstream\nabc\nendstream"))
    with pytest.raises(headscan._UnsureError):
        streamed.resolve(headscan._Ref((1, 0)))
    # other bytes: read again
    assert headscan._Reader(_tiny_pdf(b"<< /A 2 >>")).resolve(headscan._Ref((1, 0))) \
        == {b"/A": 2}


@pytest.mark.parametrize("change", [
    "a description", "the name tree's /Kids", "a file specification's generation",
    "the names array", "the catalog after its bytes"])
def test_a_kept_lookup_is_left_where_an_object_reads_otherwise(
        documents: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    pdf = documents["signed with head"]
    headscan._PLANS.clear()
    assert headscan._fast(pdf) == HEAD  # kept
    if change == "a description":  # the same length: no offset moves
        changed = pdf.replace(b"machine\\055readable record)", b"machine\\055readable recorD)")
        result: object = HEAD
    elif change == "the name tree's /Kids":
        changed = _replaced(pdf, b"<<\n/Names 26 0 R\n>>", b"<<\n/Kids 26 0 R\n>>")
        result = headscan._UnsureError
    elif change == "a file specification's generation":
        changed = _replaced(pdf, b" 27 0 R ", b" 27 1 R ", last=False)  # not /AF's
        result = headscan._UnsureError
    elif change == "the names array":  # the head first: the same files, in another order
        old = re.compile(rb"\n\[ (\(ketascreen\\055case\\056json\) 27 0 R )(.*?)"
                         rb"(\(ketascreen\\055audit[^)]*\) 32 0 R )\]").search(pdf)
        assert old is not None
        changed = pdf[:old.start(1)] + old.group(3) + old.group(2) + old.group(1) + \
            pdf[old.end(3):]
        result = HEAD
    else:  # bytes between the catalog's ``>>`` and its endobj: not its bytes then endobj
        changed = _replaced(pdf, b"/Metadata 41 0 R\n>>\nendobj",
                            b"/Metadata 41 0 R\n>> \nendobj")
        result = HEAD
    assert changed != pdf
    calls = _Calls(monkeypatch)
    if result is HEAD:
        assert headscan._fast(changed) == HEAD
    else:
        with pytest.raises(headscan._UnsureError):
            headscan._fast(changed)
    assert calls.counts["_files"] == 1  # the kept lookup was left
    assert headscan._fast(pdf) == HEAD  # the original still read by the lookup kept
    assert calls.counts["_files"] == 1
    assert embedded_head(changed) == by_pyhanko(changed)


def test_a_kept_lookup_whose_object_is_not_in_use_is_unsure(
        documents: dict[str, bytes]) -> None:
    pdf = documents["signed with head"]
    _read_twice(pdf)
    head = headscan._Reader(pdf)
    for number in (24, 27):  # the names dictionary, a file specification
        first, _, entries = next(s for s in head.sections if s[0] <= number < s[0] + s[1])
        at = entries + 20 * (number - first)
        for entry in (b"f", b"1"):
            if entry == b"f":
                changed = pdf[:at + 17] + b"f" + pdf[at + 18:]
            else:
                changed = pdf[:at + 15] + b"1" + pdf[at + 16:]
            with pytest.raises(headscan._UnsureError):
                headscan._fast(changed)
            assert embedded_head(changed) == by_pyhanko(changed)


@pytest.mark.parametrize(("escape", "sure"), [
    (b"\\055r", True),  # as written
    (b"\\0559", True),  # three digits, then a digit: pyHanko reads three
    (b"\\755r", False),  # more than a byte: pyHanko fails
    (b"\\059r", False),  # not octal: pyHanko fails
    (b"\\55ra", True),  # two digits
    (b"\\5 ra", True),  # one digit
    (b"\\8 ra", False),
])
def test_an_octal_escape_reads_as_pyhanko_reads_it(documents: dict[str, bytes], escape: bytes,
                                                   sure: bool) -> None:
    pdf = documents["signed with head"]
    spec = pdf.rindex(b"/Desc (ketascreen machine\\055readable record)")
    at = pdf.index(b"\\055r", spec)
    changed = pdf[:at] + escape + pdf[at + 5:]  # the same length: no offset moves
    assert len(changed) == len(pdf)
    if sure:
        assert headscan._fast(changed) == HEAD == by_pyhanko(changed)
    else:
        with pytest.raises(headscan._UnsureError):
            headscan._fast(changed)
    assert embedded_head(changed) == by_pyhanko(changed)


@pytest.mark.parametrize("change", [
    "an entry's offset", "a header's first number", "a header's count", "an entry free"])
def test_a_table_read_before_is_known_by_its_shape_and_its_headers(
        documents: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    pdf = documents["signed with head"]
    headscan._TABLES.clear()
    assert headscan._fast(pdf) == HEAD  # both tables kept
    assert len(headscan._TABLES) == 2
    at = pdf.rindex(b"\nxref\n")
    if change == "an entry's offset":  # object 3's (not read): the same shape and headers
        pattern, replacement = rb"\n3 2\n(\d{9})\d", rb"\n3 2\n\g<1>9"
    elif change == "a header's first number":  # the same shape, another header
        pattern, replacement = rb"\n23 19\n", rb"\n24 19\n"
    elif change == "a header's count":  # the same shape (one digit for another): unsure
        pattern, replacement = rb"\n23 19\n", rb"\n23 18\n"
    else:  # the catalog's: the same shape and headers, read from the table: unsure
        pattern, replacement = rb"\n15 2\n(\d{10} \d{5}) n", rb"\n15 2\n\1 f"
    tail, count = re.subn(pattern, replacement, pdf[at:], count=1)
    assert count == 1
    changed = pdf[:at] + tail
    assert changed != pdf and len(changed) == len(pdf)
    calls = _Calls(monkeypatch)
    known = change in ("an entry's offset", "an entry free")
    try:
        fast: object = headscan._fast(changed)
    except headscan._UnsureError:
        fast = headscan._UnsureError
    # known: not read again (no header matched); otherwise read again line by line
    assert (calls.counts["_SUBSECTION_HEAD"] == 0) == known

    def sections() -> object:
        try:
            return headscan._Reader(changed).sections
        except headscan._UnsureError:
            return headscan._UnsureError

    with_known = sections()
    headscan._TABLES.clear()
    assert sections() == with_known  # the same as reading each table line by line
    if change == "an entry's offset":
        assert fast == HEAD  # object 3 is not read
    else:
        assert fast is headscan._UnsureError
    assert embedded_head(changed) == by_pyhanko(changed)


def _kept_texts(step: object) -> int:
    """How many texts the kept lookup ``step`` and the steps after it hold."""
    if not isinstance(step, headscan._Step):
        return 0
    return sum(1 + _kept_texts(after) for _, after in step.known)


def test_the_kept_lookups_hold_a_bounded_number_of_texts(documents: dict[str, bytes]) -> None:
    pdf = documents["signed with head"]
    headscan._PLANS.clear()
    for letter in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 2:  # each a document of its own kind
        changed = pdf.replace(b"readable record)", b"readable recor%c)" % letter)
        assert headscan._fast(changed) == HEAD
        assert headscan._fast(changed) == HEAD  # read by its kept lookup
        held = sum(_kept_texts(step) for step in headscan._PLANS.values())
        assert held == headscan._PLANS.texts <= headscan._PLANS_COUNT


@pytest.mark.parametrize(("vector", "old", "new"), [
    ("the trailer, then stream", b">>\nstartxref\n", b">>\nstream\nstartxref\n"),
    ("the trailer, a comment, then stream", b">>\nstartxref\n", b">> % c\nstream\nstartxref\n"),
    ("the names dictionary, then stream", b"/EmbeddedFiles 25 0 R\n>>\nendobj",
     b"/EmbeddedFiles 25 0 R\n>>\nstream endobj"),
    ("the names dictionary, a comment, then stream", b"/EmbeddedFiles 25 0 R\n>>\nendobj",
     b"/EmbeddedFiles 25 0 R\n>>%x\nstream\nendobj"),
    ("the names dictionary, a NUL, then stream", b"/EmbeddedFiles 25 0 R\n>>\nendobj",
     b"/EmbeddedFiles 25 0 R\n>>\x00stream\nendobj"),
    ("the names dictionary, then streams", b"/EmbeddedFiles 25 0 R\n>>\nendobj",
     b"/EmbeddedFiles 25 0 R\n>>\nstreams\nendobj"),
])
def test_a_dictionary_followed_by_stream_is_a_stream_to_pyhanko(
        documents: dict[str, bytes], vector: str, old: bytes, new: bytes) -> None:
    pdf = documents["signed with head"]
    _read_twice(pdf)  # its lookup kept
    assert old in pdf, vector
    changed = _replaced(pdf, old, new)
    with pytest.raises(headscan._UnsureError):  # pyHanko reads a stream without /Length
        headscan._fast(changed)
    assert embedded_head(changed) == by_pyhanko(changed) is None, vector
