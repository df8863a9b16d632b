"""The audit head a signed checklist embeds, read without parsing the whole PDF.

``audit verify`` reads the head of every stored checklist (:mod:`ketascreen.records.integrity`).
pyHanko, which wrote it, reads it back in about 2-4 ms a document (it reads every cross-reference
and resolves each object in full), pypdf in about 1 ms and pikepdf (qpdf) in about 0.2 ms: with
100,000 records that alone is minutes. :func:`embedded_head` reads only what the lookup needs, the
way pyHanko's reader does for a file pyHanko wrote: the classic cross-reference tables from the last
``startxref`` back through ``/Prev`` (newest first), the catalog's ``/Names`` -> ``/EmbeddedFiles``
-> ``/Names`` array, each file specification's ``/EF /F`` stream, and the head attachment's stream
inflated (the case and result beside it are not). It returns what
:func:`ketascreen.records.documents.embedded_head` returns for the same bytes; anything it does not
read exactly as pyHanko would (a cross-reference stream, an encrypted file, an object not where the
table says, a name tree with ``/Kids``, a filter other than ``/FlateDecode``, a length given by
reference, text that is not ASCII, bytes that do not inflate) is handed to that function instead, so
the result is pyHanko's in every case (``tests/records/test_headscan.py`` compares the two over real
and damaged documents).

What pyHanko and ReportLab write is read by shortcuts, each matching those bytes exactly and
leaving anything else to the general reading: a cross-reference section and its trailer (the
entries checked by one translation, the trailer by one expression), an embedded file's stream,
the head attachment's JSON; and the lookup from the catalog to the embedded files is kept by the
bytes of each object it resolved, so a checklist whose objects have those bytes (every ketascreen
checklist of one kind) finds its files without reading them again (:class:`_Step`).
"""

from __future__ import annotations

import functools
import re
import zlib
from typing import Final

from ketascreen.reports.attachments import HEAD_ATTACHMENT, read_head_attachment

__all__ = ["embedded_head"]


class _UnsureError(Exception):
    """The fast reading cannot promise pyHanko's result: ask pyHanko."""


class _Ref(tuple[int, int]):
    """An indirect reference ``num gen R``: ``(object number, generation)``."""

    __slots__ = ()


class _Stream:
    __slots__ = ("data", "head")

    def __init__(self, head: dict[bytes, object], data: bytes) -> None:
        self.head = head
        self.data = data


_TOKEN = re.compile(rb"[\t\n\f\r ]*(?:%[^\r\n]*[\t\n\f\r ]*)*")
_WS_ = rb"[\t\n\f\r ]"
_END_ = rb"(?=[\t\n\f\r ()<>\[\]{}/%]|\Z)"
_TOKEN_AT = re.compile(
    rb"[\t\n\f\r ]*(?:%[^\r\n]*[\t\n\f\r ]*)*(?:"
    rb"(/[!\"#$&'*+,\-.0-9:;=?@A-Z\\^_`a-z|~]*)" + _END_ +  # 1 name: regular bytes
    rb"|(\d+)" + _WS_ + rb"+(\d+)" + _WS_ + rb"+R" + _END_ +  # 2, 3 reference
    rb"|(<<)|(>>)|(\[)|(\])"  # 4-7
    rb"|([+-]?\d+)" + _END_ +  # 8 integer
    rb"|([+-]?(?:\d+\.\d*|\.\d+))" + _END_ +  # 9 real
    rb"|(\()"  # 10 literal string
    rb"|<([0-9A-Fa-f\t\n\f\r ]*)>"  # 11 hex string
    rb"|(true|false|null)" + _END_ +  # 12
    rb")")
(_T_NAME, _T_REF_NUM, _T_REF, _T_DICT, _T_END_DICT, _T_ARRAY, _T_END_ARRAY, _T_INT, _T_REAL,
 _T_STRING, _T_HEX, _T_WORD) = range(1, 13)
_SUBSECTION_AS_WRITTEN = re.compile(rb"(\d+) (\d+)\n(?:\d{10} \d{5} [nf] \n)*")
_HEX_ = rb"[0-9a-f]{32}"  # 16 bytes, as both write them
_TRAILER_WRITTEN = re.compile(  # as pyHanko (an incremental update) or ReportLab write it
    rb"trailer\n<<\n(?:/ID \[ <" + _HEX_ + rb"> <" + _HEX_ + rb"> \]\n"
    rb"|/ID \n\[<" + _HEX_ + rb"><" + _HEX_ + rb">\]\n"
    rb"% ReportLab generated PDF document -- digest \(opensource\)\n\n)"
    rb"/Info \d+ \d+ R\n/Root (\d+) (\d+) R\n/Size \d+\n(?:/Prev (\d+)\n)?>>\nstartxref")
_ENTRY_SHAPE: Final = bytes.maketrans(b"123456789f", b"000000000n")
_ENTRY_LINE: Final = b"0000000000 00000 n \n"  # what each entry line as written reads as
_SUBSECTION_HEAD = re.compile(rb"(\d+) (\d+)\n")
_STARTXREF = re.compile(rb"\nstartxref\n(\d+)\n%%EOF\n\Z")
"""The end of a file as pyHanko and ReportLab write it (pyHanko reads the lines before the end
its own way: ``startxref`` must begin a line, ``%%EOF`` too; anything else is left to it)."""
_SUBSECTION = re.compile(rb"(\d+) (\d+)[ \t]*\r?\n")
_ENTRIES = re.compile(rb"(?:\d{10} \d{5} [nf](?: \r| \n|\r\n))*")
_PLAIN = re.compile(rb"[^\\()\r]*")
_OBJ_HEAD = re.compile(rb"(\d+)[\t\n\f\r ]+(\d+)[\t\n\f\r ]+obj")
_STREAM_START = re.compile(rb"[\t\n\f\r ]*stream(?:\r\n|\n)")
_HEADER = re.compile(rb"%PDF-\d\.\d[\r\n]")
_OCTAL = re.compile(rb"[0-9]{1,3}")  # pyHanko reads up to three digits, then as octal
_END_STREAM = re.compile(rb"[\t\n\f\r ]*endstream")
_ESCAPES: Final = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b",
                   ord("f"): b"\f", ord("("): b"(", ord(")"): b")", ord("\\"): b"\\"}


_TABLES: dict[bytes, tuple[tuple[tuple[int, bytes], ...], tuple[tuple[int, int, int], ...]]] = {}
"""Cross-reference sections as written read before, by their table's shape (from ``xref`` to
``trailer``, each digit read as 0 and ``f`` as ``n``): where each subsection's header line
stands and its bytes, and the subsections (their entries' offsets from ``xref``). A table of the
same shape and header lines differs from it in the entries' digits and flags alone."""
_TABLES_COUNT: Final = 256

_KEPT: dict[bytes, object] = {}
"""Objects without a stream read before, by their bytes from after ``obj`` up to ``endobj``
(never changed once read)."""
_KEPT_SIZE: Final = 2048
_KEPT_COUNT: Final = 4096


class _Reader:
    """Just enough of a PDF reader for the attachment lookup; raises :class:`_UnsureError`."""

    def __init__(self, pdf: bytes) -> None:
        self.pdf = pdf
        self.sections: list[tuple[int, int, int]] = []  # (first, count, entries), newest first
        self.root: object = None  # the newest trailer's /Root
        # each object resolved and its text while every one was kept by its bytes (_Step)
        self.trace: list[tuple[_Ref, bytes]] | None = None
        # (not found: -1, read as 0, where the header stands and the match fails)
        tail = _STARTXREF.match(pdf, pdf.rfind(b"\nstartxref\n", max(0, len(pdf) - 1024)))
        if tail is None or _HEADER.match(pdf) is None:
            raise _UnsureError
        offset: object = int(tail.group(1))
        seen: set[int] = set()
        newest = True
        while offset is not None:
            if not isinstance(offset, int) or offset in seen:
                raise _UnsureError
            seen.add(offset)
            written = self._written_section(offset)
            if written is not None:  # the table and trailer as pyHanko or ReportLab write them
                root_num, root_gen, prev = written.groups()
                root: object = _Ref((int(root_num), int(root_gen)))
                offset = int(prev) if prev is not None else None
            else:
                trailer = self._section(offset)
                size = trailer.get(b"/Size")
                if b"/XRefStm" in trailer or b"/Encrypt" in trailer \
                        or not isinstance(size, int) or isinstance(size, bool):
                    raise _UnsureError
                root = trailer.get(b"/Root")
                offset = trailer.get(b"/Prev")
            if newest:
                self.root, newest = root, False

    def _written_section(self, offset: int) -> re.Match[bytes] | None:
        """The section at ``offset`` as pyHanko and ReportLab write it: its subsections added to
        :attr:`sections` and its trailer (:data:`_TRAILER_WRITTEN`) returned; ``None`` (nothing
        added) where it is written otherwise."""
        pdf = self.pdf
        if not pdf.startswith(b"xref\n", offset):
            return None
        sections = self.sections
        end = pdf.find(b"trailer\n", offset)
        shape = pdf[offset:end].translate(_ENTRY_SHAPE) if end >= 0 else b""
        known = _TABLES.get(shape)
        if known is not None:  # a table of this shape read before: the same headers?
            headers, subsections = known
            for at, text in headers:
                if not pdf.startswith(text, offset + at):
                    break
            else:  # then it reads the same (every other byte the same, or a digit for a digit)
                trailer = _TRAILER_WRITTEN.match(pdf, end)
                if trailer is not None:
                    sections += [(first, count, offset + at) for first, count, at in subsections]
                    return trailer
        added = len(sections)
        at = offset + 5
        size = len(pdf)
        while (header := _SUBSECTION_HEAD.match(pdf, at)) is not None:
            first, count_text = header.groups()
            count = int(count_text)
            entries = header.end()
            at = entries + 20 * count
            # each entry line ``nnnnnnnnnn ggggg n \n`` (or ``f``), as many as it says
            if at > size or pdf[entries:at].translate(_ENTRY_SHAPE) != _ENTRY_LINE * count:
                break
            sections.append((int(first), count, entries))
        else:
            trailer = _TRAILER_WRITTEN.match(pdf, at)
            if trailer is not None and len(sections) > added:
                if at == end:  # (the first ``trailer`` after the table, as it must be)
                    if len(_TABLES) >= _TABLES_COUNT:
                        _TABLES.clear()
                    _TABLES[shape] = (
                        tuple((header - offset, pdf[header:entries])
                              for _, _, entries in sections[added:]
                              for header in (pdf.rindex(b"\n", offset, entries - 1) + 1,)),
                        tuple((first, count, entries - offset)
                              for first, count, entries in sections[added:]))
                return trailer
        del sections[added:]
        return None

    def _section(self, offset: int) -> dict[bytes, object]:
        pdf = self.pdf
        if not pdf.startswith(b"xref", offset):
            raise _UnsureError  # a cross-reference stream, or not where startxref says
        if pdf.startswith(b"xref\n", offset):  # as pyHanko and ReportLab write it
            at = offset + 5
            while (sub := _SUBSECTION_AS_WRITTEN.match(pdf, at)) is not None:
                first, count = int(sub.group(1)), int(sub.group(2))
                if sub.end() - sub.end(2) - 1 != 20 * count:
                    raise _UnsureError  # not as many entries as it says
                self.sections.append((first, count, sub.end(2) + 1))
                at = sub.end()
            at = _TOKEN.match(pdf, at).end()  # type: ignore[union-attr]
        else:
            at = _TOKEN.match(pdf, offset + 4).end()  # type: ignore[union-attr]
        while not pdf.startswith(b"trailer", at):
            header = _SUBSECTION.match(pdf, at)
            if header is None:
                raise _UnsureError
            first, count = int(header.group(1)), int(header.group(2))
            at = header.end()
            if _ENTRIES.fullmatch(pdf, at, at + 20 * count) is None:
                raise _UnsureError  # every entry is 20 bytes (ISO 32000 7.5.4)
            self.sections.append((first, count, at))
            at = _TOKEN.match(pdf, at + 20 * count).end()  # type: ignore[union-attr]
        value, after = _trailer_as_written(pdf, at) or self._value(at + len(b"trailer"))
        if not isinstance(value, dict) or _stream_follows(pdf, after):
            raise _UnsureError  # (a trailer followed by ``stream`` is a stream to pyHanko)
        return value

    def _body(self, ref: _Ref, start_text: bytes | None = None) -> int:
        """Where the object ``ref`` names starts, after its ``num gen obj`` (``start_text``,
        where the caller has it)."""
        number = ref[0]
        for first, count, entries in self.sections:  # the newest section's entry
            if first <= number < first + count:
                at = entries + 20 * (number - first)  # an entry the table's reading checked
                break
        else:
            raise _UnsureError
        pdf = self.pdf
        gen = ref[1]
        if (gen or not pdf.startswith(b" 00000 n", at + 10)) and (  # not in use, generation 0
                pdf[at + 17] != 0x6E or int(pdf[at + 11:at + 16]) != gen):  # not ``n``, other gen
            raise _UnsureError
        offset = int(pdf[at:at + 10])
        if start_text is None:
            start_text = b"%d %d obj" % ref
        if pdf.startswith(start_text, offset):
            return offset + len(start_text)
        head = _OBJ_HEAD.match(pdf, offset)  # other white space, leading zeros
        if head is None or int(head.group(1)) != ref[0] or int(head.group(2)) != ref[1]:
            raise _UnsureError
        return head.end()

    def embedded(self, ref: _Ref, *, decode: bool = True) -> bytes:
        """The decoded data of the embedded file ``ref`` names (as pyHanko reads it); without
        ``decode``, only checked to be a stream (``b""``)."""
        at = self._body(ref)
        pdf = self.pdf
        written = _EMBEDDED_STREAM.match(pdf, at)
        if written is not None:  # as pyHanko writes it: the same as resolve() and _decoded()
            start = written.end()
            stop = start + int(written.group(1))
            if pdf.startswith(b"\nendstream", stop):
                return _inflated(pdf[start:stop]) if decode else b""
        stream = self.resolve(ref)
        if not isinstance(stream, _Stream):
            raise _UnsureError
        return _decoded(stream) if decode else b""

    def resolve(self, value: object) -> object:
        """The object a reference names (a direct value is itself)."""
        if not isinstance(value, _Ref):
            return value
        at = self._body(value)
        pdf = self.pdf
        # an object without a stream reads the same wherever its bytes up to ``endobj`` recur
        # (every checklist has the same catalog, names and file specifications): kept by them
        end = pdf.find(b"endobj", at, at + _KEPT_SIZE)
        text = pdf[at:end] if end >= 0 else b""
        if text:
            kept = _KEPT.get(text)
            if kept is not None:
                if self.trace is not None:
                    self.trace.append((value, text))
                return kept
        obj, after = _as_written(pdf, at) or self._value(at)
        if isinstance(obj, dict) and not pdf.startswith(b"\nendobj", after) \
                and _stream_follows(pdf, after):
            start = _STREAM_START.match(self.pdf, after)
            if start is None:
                raise _UnsureError  # a stream to pyHanko, not as written
            length = obj.get(b"/Length")
            if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                raise _UnsureError
            stop = start.end() + length
            if stop > len(self.pdf) or _END_STREAM.match(self.pdf, stop) is None:
                raise _UnsureError
            self.trace = None  # not a lookup to keep
            return _Stream(obj, self.pdf[start.end():stop])
        if text and after <= end and b"stream" not in text:
            # read from these bytes alone: what follows them is ``endobj``, not a stream
            if len(_KEPT) >= _KEPT_COUNT:
                _KEPT.clear()
            _KEPT[text] = obj
            if self.trace is not None:
                self.trace.append((value, text))
        else:
            self.trace = None  # not read from its bytes alone: not a lookup to keep
        return obj

    def _value(self, at: int) -> tuple[object, int]:
        """The direct object at ``at`` and the offset after it (iterative: one token per
        step, containers on a stack)."""
        pdf = self.pdf
        stack: list[list[object] | dict[bytes, object]] = []
        keys: list[bytes | None] = []
        while True:
            token = _TOKEN_AT.match(pdf, at)
            if token is None:
                raise _UnsureError
            at = token.end()
            kind = token.lastindex
            value: object
            if kind == _T_DICT:
                stack.append({})
                keys.append(None)
                continue
            if kind == _T_ARRAY:
                stack.append([])
                keys.append(None)
                continue
            if kind == _T_END_DICT:
                if not stack or not isinstance(stack[-1], dict) or keys[-1] is not None:
                    raise _UnsureError
                value = stack.pop()
                keys.pop()
            elif kind == _T_END_ARRAY:
                if not stack or not isinstance(stack[-1], list):
                    raise _UnsureError
                value = stack.pop()
                keys.pop()
            elif kind == _T_STRING:
                value, at = self._literal(at)
            else:
                value = _scalar(token)
            if not stack:
                return value, at
            top = stack[-1]
            if isinstance(top, list):
                top.append(value)
            elif keys[-1] is None:
                if not isinstance(value, bytes) or isinstance(value, _Text) \
                        or not value.startswith(b"/"):
                    raise _UnsureError  # a key must be a name
                keys[-1] = value
            else:
                key = keys[-1]
                assert key is not None
                if key in top:
                    raise _UnsureError
                top[key] = value
                keys[-1] = None

    def _literal(self, at: int) -> tuple[_Text, int]:
        pdf = self.pdf
        out = bytearray()
        depth = 1
        while True:
            plain = _PLAIN.match(pdf, at)
            assert plain is not None
            out += plain.group()
            at = plain.end()
            if at >= len(pdf):
                raise _UnsureError
            char = pdf[at]
            if char == 0x5C:  # backslash
                escaped = pdf[at + 1] if at + 1 < len(pdf) else -1
                if escaped in _ESCAPES:
                    out += _ESCAPES[escaped]
                    at += 2
                elif 0x30 <= escaped <= 0x39:
                    digits = _OCTAL.match(pdf, at + 1)
                    assert digits is not None
                    if b"8" in digits.group() or b"9" in digits.group() \
                            or int(digits.group(), 8) > 0xFF:
                        raise _UnsureError  # pyHanko fails on these
                    out.append(int(digits.group(), 8))
                    at = digits.end()
                else:
                    raise _UnsureError  # a line continuation or an unknown escape
            elif char == 0x28:
                depth += 1
                out.append(char)
                at += 1
            elif char == 0x29:
                depth -= 1
                if depth == 0:
                    return _Text(bytes(out)), at + 1
                out.append(char)
                at += 1
            else:
                raise _UnsureError  # a carriage return: end-of-line normalisation


# pyHanko's and ReportLab's own serialisation of the objects the lookup reads most: matched
# whole, each gives what the tokenizer (_Reader._value) gives for the same bytes, in one regular
# expression instead of a Python step per token; anything else is read by the tokenizer.
# a literal string's content: octal escapes only, each three digits of a byte (up to \377)
_LIT = rb"([^\\()\r]*(?:\\[0-3][0-7]{2}[^\\()\r]*)*)"
_REF_ = rb"(\d+) (\d+) R"
_FILESPEC = re.compile(
    rb"\n<<\n/Type /Filespec\n/F \(" + _LIT + rb"\)\n/UF \(" + _LIT + rb"\)\n/EF <<\n/F "
    + _REF_ + rb"\n/UF " + _REF_ + rb"\n>>\n/Desc \(" + _LIT + rb"\)\n/AFRelationship /Data\n>>"
    rb"(?=\nendobj)")
_EMBEDDED_FILE = re.compile(
    rb"\n<<\n/Type /EmbeddedFile\n/Subtype /application#2Fjson\n/Filter /FlateDecode\n"
    rb"/Params <<\n/Size (\d+)\n/CheckSum <([0-9a-f]{32})>\n>>\n/Length (\d+)\n>>"
    rb"(?=\nstream\n)")
_LIT_ = rb"[^\\()\r]*(?:\\[0-3][0-7]{2}[^\\()\r]*)*"  # the same, not captured
_EMBEDDED_STREAM = re.compile(  # the same object with ``stream``: its /Length
    rb"\n<<\n/Type /EmbeddedFile\n/Subtype /application#2Fjson\n/Filter /FlateDecode\n"
    rb"/Params <<\n/Size \d+\n/CheckSum <[0-9a-f]{32}>\n>>\n/Length (\d+)\n>>\nstream\n")
_NAME_PAIRS = re.compile(rb"\n\[ ((?:\(" + _LIT_ + rb"\) \d+ \d+ R )*)\](?=\nendobj)")
_NAME_PAIR = re.compile(rb"\(" + _LIT + rb"\) " + _REF_ + rb" ")
_ENTRY_ = rb"/[A-Za-z0-9_.]+ (?:\d+ \d+ R|/[A-Za-z0-9_.]+|\d+)\n"
_ENTRY = re.compile(rb"(/[A-Za-z0-9_.]+) (?:(\d+) (\d+) R|(/[A-Za-z0-9_.]+)|(\d+))\n")
_FLAT_DICT = re.compile(rb"\n<<\n((?:" + _ENTRY_ + rb")*)>>(?=\nendobj)")
_CATALOG = re.compile(
    rb"\n<<\n((?:" + _ENTRY_ + rb")*)/Extensions <<\n/ISO_ \[ <<\n/Type /DeveloperExtensions\n"
    rb"/BaseVersion /(\d\.\d)\n/ExtensionLevel (\d+)\n/URL \(" + _LIT + rb"\)\n"
    rb"/ExtensionRevision \(" + _LIT + rb"\)\n>> \]\n>>\n((?:" + _ENTRY_ + rb")*)>>(?=\nendobj)")
_TRAILERS = (
    re.compile(rb"trailer\n<<\n/ID \[ <([0-9a-f]*)> <([0-9a-f]*)> \]\n/Info " + _REF_
               + rb"\n/Root " + _REF_ + rb"\n/Size (\d+)\n(?:/Prev (\d+)\n)?>>\n(?=startxref)"),
    re.compile(rb"trailer\n<<\n/ID \n\[<([0-9a-f]*)><([0-9a-f]*)>\]\n"
               rb"% ReportLab generated PDF document -- digest \(opensource\)\n\n/Info "
               + _REF_ + rb"\n/Root " + _REF_ + rb"\n/Size (\d+)\n()>>\n(?=startxref)"),
)


@functools.lru_cache(maxsize=256)
def _octal(content: bytes) -> _Text:
    """A literal string's content with its octal escapes decoded (the same few names and
    descriptions recur in every document: kept)."""
    if b"\\" not in content:
        return _Text(content)
    return _Text(re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]),
                        content))


def _entries(text: bytes, into: dict[bytes, object]) -> bool:
    """Add the entries of a flat dictionary's body (:data:`_ENTRY` lines) to ``into``;
    ``False`` on a repeated key (the tokenizer decides)."""
    for key, number, gen, name, integer in _ENTRY.findall(text):
        if key in into:
            return False
        into[key] = _Ref((int(number), int(gen))) if number else name or int(integer)
    return True


def _as_written(pdf: bytes, at: int) -> tuple[object, int] | None:
    """An embedded file, its file specification, the names array, a catalog or a dictionary
    of names, numbers and references, as pyHanko writes them."""
    if pdf.startswith(b"\n[ (", at):
        found = _NAME_PAIRS.match(pdf, at)
        if found is None:
            return None
        items: list[object] = []
        for text, number, gen in _NAME_PAIR.findall(found.group(1)):
            items += [_octal(text), _Ref((int(number), int(gen)))]
        return items, found.end()
    if not pdf.startswith(b"\n<<\n/", at):
        return None
    if pdf.startswith(b"\n<<\n/Type /EmbeddedFile\n", at):
        found = _EMBEDDED_FILE.match(pdf, at)
        if found is None:
            return None
        return {b"/Type": b"/EmbeddedFile", b"/Subtype": b"/application/json",
                b"/Filter": b"/FlateDecode",
                b"/Params": {b"/Size": int(found.group(1)),
                             b"/CheckSum": _Text(bytes.fromhex(found.group(2).decode()))},
                b"/Length": int(found.group(3))}, found.end()
    if pdf.startswith(b"\n<<\n/Type /Filespec\n", at):
        found = _FILESPEC.match(pdf, at)
        if found is None:
            return None
        return {b"/Type": b"/Filespec", b"/F": _octal(found.group(1)),
                b"/UF": _octal(found.group(2)),
                b"/EF": {b"/F": _Ref((int(found.group(3)), int(found.group(4)))),
                         b"/UF": _Ref((int(found.group(5)), int(found.group(6))))},
                b"/Desc": _octal(found.group(7)), b"/AFRelationship": b"/Data"}, found.end()
    found = _FLAT_DICT.match(pdf, at)
    if found is not None:
        flat: dict[bytes, object] = {}
        return (flat, found.end()) if _entries(found.group(1), flat) else None
    found = _CATALOG.match(pdf, at)
    if found is None:
        return None
    before, version, level, url, revision, after = found.groups()
    catalog: dict[bytes, object] = {}
    if not _entries(before, catalog) or b"/Extensions" in catalog:
        return None
    catalog[b"/Extensions"] = {b"/ISO_": [{
        b"/Type": b"/DeveloperExtensions", b"/BaseVersion": b"/" + version,
        b"/ExtensionLevel": int(level), b"/URL": _octal(url),
        b"/ExtensionRevision": _octal(revision)}]}
    return (catalog, found.end()) if _entries(after, catalog) else None


def _trailer_as_written(pdf: bytes, at: int) -> tuple[dict[bytes, object], int] | None:
    """A trailer as pyHanko (an incremental update) or ReportLab writes it."""
    for pattern in _TRAILERS:
        found = pattern.match(pdf, at)
        if found is not None:
            first, second, info_num, info_gen, root_num, root_gen, size, prev = found.groups()
            if len(first) % 2 or len(second) % 2:
                return None
            trailer: dict[bytes, object] = {
                b"/ID": [_Text(bytes.fromhex(first.decode())),
                         _Text(bytes.fromhex(second.decode()))],
                b"/Info": _Ref((int(info_num), int(info_gen))),
                b"/Root": _Ref((int(root_num), int(root_gen))), b"/Size": int(size)}
            if prev:
                trailer[b"/Prev"] = int(prev)
            return trailer, found.end()
    return None


_PYHANKO_SPACE = re.compile(rb"[\x00\t\n\f\r ]*(?:%[^\r\n]*[\x00\t\n\f\r ]*)*")


def _stream_follows(pdf: bytes, after: int) -> bool:
    """Whether pyHanko reads the dictionary ending at ``after`` as a stream's: the keyword
    ``stream`` after its white space and comments."""
    return pdf.startswith(b"stream", _PYHANKO_SPACE.match(pdf, after).end())  # type: ignore[union-attr]


def _scalar(token: re.Match[bytes]) -> object:
    """A name, reference, number, hex string or keyword token's value."""
    kind = token.lastindex
    if kind == _T_NAME:
        return _name(token.group(kind))
    if kind == _T_REF:
        return _Ref((int(token.group(_T_REF_NUM)), int(token.group(_T_REF))))
    if kind == _T_INT:
        return int(token.group(kind))
    if kind == _T_REAL:
        return float(token.group(kind))
    if kind == _T_HEX:
        digits = re.sub(rb"[\t\n\f\r ]", b"", token.group(kind))
        if len(digits) % 2:
            raise _UnsureError
        return _Text(bytes.fromhex(digits.decode("ascii")))
    if kind == _T_WORD:
        word = token.group(kind)
        return None if word == b"null" else word == b"true"
    raise _UnsureError  # pragma: no cover - every alternative is a group


def _name(raw: bytes) -> bytes:
    """A name with its ``#xx`` escapes decoded."""
    if b"#" not in raw:
        return raw
    if re.search(rb"#(?![0-9A-Fa-f]{2})", raw):
        raise _UnsureError
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


class _Text(bytes):
    """A PDF string's bytes."""


_Files = tuple[tuple[str, "_Ref"], ...]
"""Each embedded file's name and the reference to its stream, in the name tree's order."""


def _fast(pdf: bytes) -> tuple[int, str] | None:
    reader = _Reader(pdf)
    files = _planned(reader)
    if files is None:
        reader.trace = []
        files = _files(reader)
        if files is None:
            return None
        if reader.trace is not None:
            _remember(reader.trace, files)
    head: _Ref | None = None
    for name, stream_ref in files:
        if name == HEAD_ATTACHMENT:
            head = stream_ref
        reader.embedded(stream_ref, decode=False)  # each one read as a stream, as pyHanko does
    return None if head is None else _head(reader.embedded(head))


def _head(data: bytes) -> tuple[int, str] | None:
    """What :func:`ketascreen.reports.attachments.read_head_attachment` reads from ``data``."""
    written = _HEAD_AS_WRITTEN.fullmatch(data)
    if written is not None:  # as head_attachment() writes it: what json reads from it
        return int(written.group(1)), written.group(2).decode("ascii")
    return read_head_attachment(data)


def _files(reader: _Reader) -> _Files | None:
    """The embedded files the catalog's name tree lists, as pyHanko finds them; ``None`` where
    it finds no tree (no attachments)."""
    root = reader.resolve(reader.root)
    if not isinstance(root, dict):
        raise _UnsureError
    names = reader.resolve(root.get(b"/Names"))
    if b"/Names" not in root:
        return None  # pyHanko: KeyError, no attachments
    if not isinstance(names, dict):
        raise _UnsureError
    if b"/EmbeddedFiles" not in names:
        return None
    tree = reader.resolve(names[b"/EmbeddedFiles"])
    if not isinstance(tree, dict) or b"/Kids" in tree:
        raise _UnsureError
    if b"/Names" not in tree:
        return None
    pairs = reader.resolve(tree[b"/Names"])
    if not isinstance(pairs, list) or len(pairs) % 2:
        raise _UnsureError
    found: list[tuple[str, _Ref]] = []
    for index in range(0, len(pairs), 2):
        key, spec_ref = pairs[index], pairs[index + 1]
        if not isinstance(key, _Text):
            raise _UnsureError
        name = _NAMES.get(key) or _name_of(key)
        spec = reader.resolve(spec_ref)
        if not isinstance(spec_ref, _Ref) or not isinstance(spec, dict):
            raise _UnsureError
        files = spec.get(b"/EF")
        if isinstance(files, _Ref):
            files = reader.resolve(files)
        if not isinstance(files, dict):
            raise _UnsureError
        stream_ref = files.get(b"/F")
        if not isinstance(stream_ref, _Ref):
            raise _UnsureError
        found.append((name, stream_ref))
    return tuple(found)


class _Step:
    """A step of a lookup :func:`_files` made before: the object it resolved (``ref``,
    written ``start``) and, for each text that object had (its bytes from after ``obj`` up to
    ``endobj``, then ``endobj``), the next step, or the files found after it."""

    __slots__ = ("known", "ref", "start")

    def __init__(self, ref: _Ref) -> None:
        self.ref = ref
        self.start = b"%d %d obj" % ref
        self.known: list[tuple[bytes, _Step | _Files]] = []


class _Lookups(dict[_Ref, _Step]):
    """Lookups kept by the trailer's /Root, and how many texts their steps hold."""

    texts: int = 0

    def clear(self) -> None:
        """Forget every lookup."""
        super().clear()
        self.texts = 0


_PLANS = _Lookups()
"""The lookups :func:`_files` made: where a document's objects have the same bytes step after
step, its files are the same (every value :func:`_files` reads comes from those bytes alone, and
the next object it resolves from the values before)."""
_PLANS_COUNT: Final = 64
"""At most this many texts kept in all the lookups' steps (then they start again): a step's
texts are compared one by one."""


def _planned(reader: _Reader) -> _Files | None:
    """The files a lookup made before found, where this document's objects have its bytes."""
    root = reader.root
    step: _Step | _Files | None = _PLANS.get(root) if isinstance(root, _Ref) else None
    pdf = reader.pdf
    while isinstance(step, _Step):
        # unsure here: unsure in _files too (the same object)
        at = reader._body(step.ref, step.start)
        for text_endobj, after in step.known:
            if pdf.startswith(text_endobj, at):
                step = after
                break
        else:
            return None
    return step


def _remember(trace: list[tuple[_Ref, bytes]], files: _Files) -> None:
    """Keep the lookup ``trace`` (each object resolved and its text) that found ``files``."""
    if not trace:
        return
    if _PLANS.texts + len(trace) > _PLANS_COUNT:
        _PLANS.clear()
    step = _PLANS.setdefault(trace[0][0], _Step(trace[0][0]))
    for index, (_, text) in enumerate(trace):
        after: _Step | _Files = _Step(trace[index + 1][0]) if index + 1 < len(trace) else files
        for known_text, known in step.known:
            if known_text == text + b"endobj":
                after = known
                break
        else:
            step.known.append((text + b"endobj", after))
            _PLANS.texts += 1
        if not isinstance(after, _Step):
            return
        step = after


_HEAD_AS_WRITTEN = re.compile(rb'\{"seq":(0|[1-9][0-9]{0,17}),"sha256":"([0-9a-f]*)"\}')
"""The head attachment as :func:`ketascreen.reports.attachments.head_attachment` writes it
(canonical JSON, a lowercase digest)."""

_NAMES: dict[bytes, str] = {}
"""Attachment names read before, by their string's bytes."""


def _name_of(key: _Text) -> str:
    """An attachment's name as pyHanko gives it, where it is plain ASCII text."""
    if key.startswith((b"\xfe\xff", b"\xef\xbb\xbf")):
        raise _UnsureError
    try:
        name = key.decode("ascii")
    except UnicodeDecodeError:
        raise _UnsureError from None
    if not name.isprintable():
        raise _UnsureError
    if len(_NAMES) >= _KEPT_COUNT:
        _NAMES.clear()
    _NAMES[bytes(key)] = name
    return name


def _decoded(stream: _Stream) -> bytes:
    head = stream.head
    if b"/DecodeParms" in head or b"/DP" in head or b"/F" in head:
        raise _UnsureError
    kind = head.get(b"/Filter")
    if kind is None:
        return stream.data
    if kind not in (b"/FlateDecode", [b"/FlateDecode"]):
        raise _UnsureError
    return _inflated(stream.data)


def _inflated(data: bytes) -> bytes:
    """``data`` inflated: one whole zlib stream, nothing after it."""
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(data)
    except zlib.error:
        raise _UnsureError from None
    if not inflater.eof or inflater.unused_data:
        raise _UnsureError
    return data


def embedded_head(pdf: bytes) -> tuple[int, str] | None:
    """The audit head a signed checklist embeds, or ``None``: the result of
    :func:`ketascreen.records.documents.embedded_head` for the same bytes, read in tens of
    microseconds where the document is as ketascreen writes it (pyHanko reads it otherwise)."""
    try:
        return _fast(pdf)
    except (_UnsureError, ValueError, IndexError, TypeError, RecursionError):
        from ketascreen.records.documents import embedded_head as by_pyhanko  # noqa: PLC0415

        return by_pyhanko(pdf)
