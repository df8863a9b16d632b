"""The nurse's countersignature: a second PAdES signature filling the field the physician's
signature created, verified in order with its meaning; tampering before or after it caught."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from ketascreen.cli import main
from ketascreen.display import ismp_violations
from ketascreen.models.checklist import (
    COUNTERSIGNATURE_BOX_TITLE,
    ORDER_ROW_LABELS,
    PAPER_FALLBACK,
    SIGNATURE_MEANING,
)
from ketascreen.models.parsing import parse_case
from ketascreen.reports.keys import SignerIdentity, SigningError, generate_self_signed, load_signer
from ketascreen.reports.output import SigningRequest, produce_checklist
from ketascreen.reports.pdf import (
    BEDSIDE_ROW_PITCH,
    COUNTERSIGNATURE_BOX_HEIGHT,
    MIN_FONT_SIZE,
    ChecklistRenderer,
)
from ketascreen.reports.signing import (
    COUNTERSIGNATURE_FIELD,
    COUNTERSIGNATURE_MEANING,
    DIFFERS,
    MATCHES_THE_ORDER,
    NOT_CHECKED,
    SIGNATURE_FIELD,
    CountersignStamp,
    countersign_pdf,
    sign_pdf,
    stamp_lines,
)
from ketascreen.reports.verification import verify_pdf
from ketascreen.screening import Screening, checklist, run
from tests.helpers.cases import example_case, patched
from tests.reports.helpers import do_not_infuse_changes

PASSPHRASE = b"correct horse battery staple"
ACKNOWLEDGED = {"acknowledgements": [
    {"concept": "benzodiazepine", "reason": "Evening alprazolam held the night before."}]}
needs_pdfsig = pytest.mark.skipif(shutil.which("pdfsig") is None,
                                  reason="poppler-utils (pdfsig) is not installed")


@dataclass(frozen=True)
class Key:
    """A trial key: the opened signer, its key store and its certificate on disk."""

    identity: SignerIdentity
    p12: bytes
    certificate: Path


def _key(directory: Path, name: str, credentials: str) -> Key:
    pair = generate_self_signed(name, PASSPHRASE, credentials=credentials)
    certificate = directory / f"{name.replace(' ', '-')}.pem"
    certificate.write_bytes(pair.certificate_pem)
    return Key(load_signer(pair.pkcs12, PASSPHRASE), pair.pkcs12, certificate)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Key, Key]:
    """A physician's and a nurse's self-signed trial keys."""
    directory = tmp_path_factory.mktemp("keys")
    return _key(directory, "Dr Jane Smith", "MD"), _key(directory, "Ann Lee", "RN")


@pytest.fixture(autouse=True)
def _no_records(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the real data folder or a configured database or trust bundle."""
    monkeypatch.setenv("KETASCREEN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KETASCREEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("KETASCREEN_TRUST", raising=False)


def _screening() -> Screening:
    return run(parse_case(patched(example_case(), ACKNOWLEDGED)))


@pytest.fixture(scope="module")
def physician_signed(keys: tuple[Key, Key]) -> bytes:
    """The example's first-screening checklist signed by the physician."""
    data, _ = produce_checklist(_screening(), clinic="Riverside Ketamine Clinic",
                                signing=keys[0].identity)
    return data


def _stamp(result: str = MATCHES_THE_ORDER) -> CountersignStamp:
    """What the nurse entered: two identifiers and the values in hand, as the order's rows."""
    order = dict(checklist(_screening()).order_rows)
    entered = tuple((label, order[label]) for label in ORDER_ROW_LABELS
                    if label != "Patient ID")
    return CountersignStamp(checker="Ann Lee", witness="Bob Ray", result=result,
                            entered=entered)


@pytest.fixture(scope="module")
def countersigned(physician_signed: bytes, keys: tuple[Key, Key]) -> bytes:
    """The physician-signed checklist countersigned by the nurse."""
    return countersign_pdf(physician_signed, keys[1].identity, _stamp())


def _trust(*keys: Key) -> bytes:
    return b"".join(key.certificate.read_bytes() for key in keys)


def _fields(pdf: bytes) -> list[tuple[str, bool]]:
    """Each signature field by name, and whether it holds a signature."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return [(name, value is not None) for name, value, _ in fields.enumerate_sig_fields(reader)]


def _widget(pdf: bytes, name: str) -> Any:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return next(ref.get_object() for field, _, ref in fields.enumerate_sig_fields(reader)
                if field == name)


def _stamp_strings(pdf: bytes) -> tuple[list[str], bytes]:
    """The text lines drawn by the countersignature's stamp, and its appearance stream."""
    appearance = _widget(pdf, COUNTERSIGNATURE_FIELD)["/AP"]["/N"]
    data = b"".join(_streams(appearance))

    def text(literal: bytes) -> str:
        unescaped = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), literal)
        unescaped = re.sub(rb"\\(.)", rb"\1", unescaped)
        return unescaped.decode("latin-1")

    return [text(m) for m in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", data)], data


def _streams(stream: Any) -> list[bytes]:
    """A form XObject's content and the content of the forms it draws (the stamp nests)."""
    found = [stream.data]
    for xobject in stream.get("/Resources", {}).get("/XObject", {}).values():
        found += _streams(xobject.get_object())
    return found


def _tampered(pdf: bytes) -> bytes:
    """``pdf`` with an incremental update that paints over the pump rate and writes another."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    overlay = writer.add_object(generic.StreamObject(
        stream_data=b"1 1 1 rg 178 396 200 24 re f 0 0 0 rg "
                    b"BT /F1 16 Tf 180 402 Td (151 mL/h) Tj ET"))
    writer.add_stream_to_page(0, overlay)  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


# --- the field, created with the physician's signature ---------------------------------------

def test_the_physician_signature_creates_the_empty_countersignature_field(
        physician_signed: bytes, keys: tuple[Key, Key]) -> None:
    """Signed by the physician: her field signed, the nurse's field present and empty, placed
    on the box of the bedside block (right half of the page after the signature block); the
    file verifies with one signature."""
    assert _fields(physician_signed) == [(SIGNATURE_FIELD, True),
                                         (COUNTERSIGNATURE_FIELD, False)]
    rendered = ChecklistRenderer().render(checklist(_screening(), signer=keys[0].identity))
    box = rendered.countersignature_box
    assert box is not None and box.page_index == 1
    x1, y1, x2, y2 = box.box
    assert x1 > 612 / 2 - 20 and x2 <= 612 - 15 and y2 - y1 >= 9 * 10 + 8  # 9+ lines at 10 pt
    widget = _widget(physician_signed, COUNTERSIGNATURE_FIELD)
    assert [round(float(v)) for v in widget["/Rect"]] == [round(v) for v in box.box]
    report = verify_pdf(physician_signed, trust_pem=_trust(keys[0]))
    assert report.status == "VALID", report
    assert [s.field for s in report.signatures] == [SIGNATURE_FIELD]


def test_the_bedside_block_prints_the_order_as_signed(physician_signed: bytes) -> None:
    """Page 2 opens with the block: the order's rows with the double check's labels and the
    checklist's values (ISMP display), the box's title, and the paper fallback's initials
    boxes, which the dose box no longer repeats."""
    pages = [" ".join((p.extract_text() or "").split())
             for p in PdfReader(io.BytesIO(physician_signed)).pages]
    rows = checklist(_screening()).order_rows
    assert [label for label, _ in rows] == list(ORDER_ROW_LABELS)
    assert dict(rows)["Pump rate"] == "63.6 mL/h" and dict(rows)["Diluent volume"] == "0 mL"
    order = " ".join(f"{label} {value}" for label, value in rows)
    assert pages[1].startswith(f"Bedside independent double check The order as signed {order}")
    assert COUNTERSIGNATURE_BOX_TITLE in pages[1]
    assert all(" ".join(words.split()) in pages[1] for words in PAPER_FALLBACK)
    assert "(initials)" not in pages[0]
    assert not ismp_violations(order)


def test_no_dose_no_block_and_no_field(keys: tuple[Key, Key]) -> None:
    """Without a dose there is nothing to double-check: no block, no box, and signing the
    rendering creates no countersignature field."""
    screening = run(parse_case(patched(example_case(), do_not_infuse_changes())))
    rendered = ChecklistRenderer().render(checklist(screening))
    assert rendered.countersignature_box is None
    text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(rendered.data)).pages)
    assert "Bedside independent double check" not in text
    signed = sign_pdf(rendered.data, rendered.signature_box, keys[0].identity, {},
                      reason=SIGNATURE_MEANING,
                      countersignature_box=rendered.countersignature_box)
    assert _fields(signed) == [(SIGNATURE_FIELD, True)]
    with pytest.raises(SigningError, match="no countersignature field"):
        countersign_pdf(signed, keys[1].identity, _stamp())


# --- the countersigned document --------------------------------------------------------------

def test_countersigned_checklist_has_two_valid_signatures_in_order(
        physician_signed: bytes, countersigned: bytes, keys: tuple[Key, Key]) -> None:
    """An incremental update (the physician's bytes are its prefix) with two signatures, in
    order, each with its meaning; only the countersignature changed after the first."""
    assert countersigned.startswith(physician_signed) and len(countersigned) > len(
        physician_signed)
    report = verify_pdf(countersigned, trust_pem=_trust(*keys))
    assert report.status == "VALID", report.problems
    physician, nurse = report.signatures
    assert (physician.field, physician.signer) == (SIGNATURE_FIELD, "Dr Jane Smith")
    assert (nurse.field, nurse.signer) == (COUNTERSIGNATURE_FIELD, "Ann Lee")
    assert physician.meaning is not None and physician.meaning.startswith(SIGNATURE_MEANING)
    assert nurse.meaning == COUNTERSIGNATURE_MEANING
    assert [(s.intact, s.valid, s.trusted) for s in report.signatures] == [(True,) * 3] * 2
    assert [s.modification for s in report.signatures] == ["FORM_FILLING", "NONE"]
    assert [s.coverage for s in report.signatures] == ["ENTIRE_REVISION", "ENTIRE_FILE"]
    assert report.signer == "Ann Lee" and report.modified_after_signing is False
    only_physician = verify_pdf(countersigned, trust_pem=_trust(keys[0]))
    assert only_physician.status == "UNTRUSTED"
    assert only_physician.trust.startswith("unknown signer")
    assert keys[1].identity.certificate_sha256 in only_physician.trust


def test_cli_verify_lists_both_signatures(countersigned: bytes, keys: tuple[Key, Key],
                                          tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`ketascreen verify --json` (both certificates trusted with --trust) is VALID and lists
    the two signatures in order with field, signer, meaning, time, intact, valid, trusted and
    modification; the human report prints each meaning."""
    pdf = tmp_path / "countersigned.pdf"
    pdf.write_bytes(countersigned)
    trust = ["--trust", str(keys[0].certificate), "--trust", str(keys[1].certificate)]
    capsys.readouterr()
    assert main(["verify", str(pdf), "--json", *trust]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "VALID" and report["ok"] and report["verdict"] == "VALID"
    signatures = report["signatures"]
    assert [(s["field"], s["signer"], s["intact"], s["valid"], s["trusted"])
            for s in signatures] == [(SIGNATURE_FIELD, "Dr Jane Smith", True, True, True),
                                     (COUNTERSIGNATURE_FIELD, "Ann Lee", True, True, True)]
    assert signatures[1]["meaning"] == COUNTERSIGNATURE_MEANING
    assert signatures[0]["meaning"].startswith(SIGNATURE_MEANING)
    assert [s["modification"] for s in signatures] == ["FORM_FILLING", "NONE"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", s["signing_time"])
               for s in signatures)
    assert main(["verify", str(pdf), *trust]) == 0
    out = capsys.readouterr().out
    assert f"Signature 2 ({COUNTERSIGNATURE_FIELD}):" in out
    assert f"  Meaning:             {COUNTERSIGNATURE_MEANING}" in out
    assert "  Changed after it:    a signature field filled (the countersignature)" in out
    assert out.rstrip().endswith("RESULT: VALID")


def test_pyhanko_keeps_the_physician_signature_valid(countersigned: bytes,
                                                     keys: tuple[Key, Key]) -> None:
    """pyHanko's own validation: after the countersignature the physician's signature is
    intact and valid, its bottom line true, with modification level FORM_FILLING."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(countersigned))
    physician, nurse = reader.embedded_signatures
    roots = [load_cert_from_pemder(str(key.certificate))  # type: ignore[no-untyped-call]
             for key in keys]
    status = validate_pdf_signature(physician, ValidationContext(
        trust_roots=roots[:1], allow_fetching=False))
    assert status.intact and status.valid and status.bottom_line
    assert status.modification_level == ModificationLevel.FORM_FILLING
    assert status.docmdp_ok is not False
    status = validate_pdf_signature(nurse, ValidationContext(
        trust_roots=roots[1:], allow_fetching=False))
    assert status.intact and status.valid and status.bottom_line
    assert status.modification_level == ModificationLevel.NONE


@needs_pdfsig
def test_pdfsig_reports_both_signatures_valid(countersigned: bytes, tmp_path: Path) -> None:
    """Poppler's pdfsig: both signatures valid, the countersignature covering the whole file.
    (pdfsig exits 0 whatever it finds, and does no DocMDP analysis: its text is read.)"""
    pdf = tmp_path / "countersigned.pdf"
    pdf.write_bytes(countersigned)
    done = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True, check=False)
    blocks = re.split(r"^Signature #\d+:$", done.stdout, flags=re.MULTILINE)[1:]
    assert len(blocks) == 2, done.stdout
    assert f"Signature Field Name: {SIGNATURE_FIELD}" in blocks[0]
    assert f"Signature Field Name: {COUNTERSIGNATURE_FIELD}" in blocks[1]
    assert all("Signature Validation: Signature is Valid." in block for block in blocks)
    assert "Not total document signed" in blocks[0]
    assert "Total document signed" in blocks[1] and "Not total" not in blocks[1]


def test_the_stamp_says_who_when_the_result_and_what_was_entered(
        countersigned: bytes) -> None:
    """The stamp, at a fixed 8 pt: first one line per order row, with the order column's
    labels in its order ("not checked" for the identifier she did not enter); then the
    meaning, the nurse, the local time with its offset, the checker and the witness, and the
    result."""
    lines, stream = _stamp_strings(countersigned)
    assert b" 8 Tf" in stream and not re.search(rb" [0-7] Tf", stream)
    assert int(MIN_FONT_SIZE) == 8
    entered = dict(_stamp().entered)
    assert lines[:10] == [f"{label}: {entered.get(label, NOT_CHECKED)}"
                          for label in ORDER_ROW_LABELS]
    assert lines[2] == "Patient ID: not checked" and lines[6] == "Pump rate: 63.6 mL/h"
    assert lines[10:12] == ["", COUNTERSIGNATURE_MEANING.upper()]
    assert lines[12] == "Countersigned by: Ann Lee"
    assert re.fullmatch(r"Time: \d{4}-\d\d-\d\d \d\d:\d\d [+-]\d\d:\d\d", lines[13]), lines
    assert lines[14:] == ["Checker: Ann Lee; witness: Bob Ray", f"Result: {MATCHES_THE_ORDER}"]


def test_each_entered_value_prints_level_with_the_order_row(countersigned: bytes) -> None:
    """The order column's rows are BEDSIDE_ROW_PITCH apart, the stamp's lines are too (its
    leading), and the stamp's first baseline (one leading below the box's top) is level with
    the first row's: each entered value sits beside the order's value of the same row."""
    found: list[tuple[float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: Any) -> None:
        if text.strip():
            found.append((tm[4] * cm[1] + tm[5] * cm[3] + cm[5], text.strip()))

    PdfReader(io.BytesIO(countersigned)).pages[1].extract_text(visitor_text=visit)
    order = dict(checklist(_screening()).order_rows)
    baselines = [next(y for y, text in found if text == order[label])
                 for label in ORDER_ROW_LABELS]
    assert [round(a - b, 2) for a, b in itertools.pairwise(baselines)] == [
        BEDSIDE_ROW_PITCH] * 9
    top = float(_widget(countersigned, COUNTERSIGNATURE_FIELD)["/Rect"][3])
    assert abs(top - BEDSIDE_ROW_PITCH - baselines[0]) <= 0.5
    _, stream = _stamp_strings(countersigned)
    assert f" {BEDSIDE_ROW_PITCH} TL".encode() in stream


def test_stamp_lines_fit_the_box() -> None:
    """Every line fits the box's width at 8 pt Courier (4.8 pt a character) and the lines its
    height at the row pitch; an override's long reason is cut short, with a pointer to the
    records, rather than spilling out; the values that differed are marked; a name outside
    Latin-1 is shown as near as it can be."""
    width, height = 260.0, float(COUNTERSIGNATURE_BOX_HEIGHT)
    columns, rows = int((width - 10) / 4.8), int((height - 5) / BEDSIDE_ROW_PITCH)
    long_reason = "OVERRIDDEN: " + "the pump's display rounds to whole mL/h here " * 6
    lines = stamp_lines(_stamp(long_reason), "Ann Lee", "2026-12-05 09:14 -05:00", width,
                        height)
    assert len(lines) == rows and all(len(line) <= columns for line in lines)
    assert lines[-1] == "(cut short: whole in the records)"
    assert lines[9] == "Dose per kg: 0.5 mg/kg"
    short = stamp_lines(_stamp("OVERRIDDEN: label reprinted, same lot"), "Ann Lee",
                        "2026-12-05 09:14 -05:00", width, height)
    assert short[-1] == "Result: OVERRIDDEN: label reprinted, same lot"
    assert not any("cut short" in line for line in short)
    overridden = dataclasses.replace(_stamp("OVERRIDDEN: x"), differs=("Pump rate", "VTBI"))
    marked = stamp_lines(overridden, "Ann Lee", "now", width, height)
    assert [line for line in marked if line.endswith(DIFFERS)] == [
        f"Pump rate: 63.6 mL/h{DIFFERS}", f"VTBI: 42.4 mL{DIFFERS}"]
    names = stamp_lines(CountersignStamp("Zoë Kőrösi", "李 Wei", "MATCHES THE ORDER", ()),
                        "Zoë Kőrösi", "now", width, height)
    assert "Checker: Zoë Korösi; witness: ? Wei" in names
    assert names[:10] == [f"{label}: {NOT_CHECKED}" for label in ORDER_ROW_LABELS]
    narrow = stamp_lines(CountersignStamp("Annabel Leighton-Featherstonehaugh",
                                          "Robert Raymond-Fitzgerald", "MATCHES THE ORDER",
                                          ()), "Ann", "now", width, height)
    assert "Checker: Annabel Leighton-Featherstonehaugh" in narrow
    assert "Witness: Robert Raymond-Fitzgerald" in narrow


# --- refusals and tampering ------------------------------------------------------------------

def test_countersigning_twice_or_a_document_without_the_field_is_refused(
        countersigned: bytes, keys: tuple[Key, Key]) -> None:
    """A countersigned document cannot be countersigned again; an unsigned checklist has no
    field to fill (only the physician's signature creates it); a non-PDF is refused."""
    with pytest.raises(SigningError, match="already countersigned"):
        countersign_pdf(countersigned, keys[1].identity, _stamp())
    unsigned, _ = produce_checklist(_screening())
    with pytest.raises(SigningError, match="no countersignature field"):
        countersign_pdf(unsigned, keys[1].identity, _stamp())
    with pytest.raises(SigningError, match="not a readable PDF"):
        countersign_pdf(b"not a pdf", keys[1].identity, _stamp())


def test_a_change_between_the_two_signatures_is_caught(physician_signed: bytes,
                                                       keys: tuple[Key, Key]) -> None:
    """Someone paints another pump rate over page 1 in an incremental update, then the nurse
    countersigns: both signatures are intact and valid, but the physician's reports a change
    other than the countersignature, so the file is INVALID, naming signature 1."""
    tampered = countersign_pdf(_tampered(physician_signed), keys[1].identity, _stamp())
    report = verify_pdf(tampered, trust_pem=_trust(*keys))
    assert report.status == "INVALID"
    assert report.problems[0] == "signature 1: the document was modified after signing"
    assert [(s.intact, s.valid) for s in report.signatures] == [(True, True)] * 2
    assert report.signatures[0].modification not in ("NONE", "FORM_FILLING")
    assert report.signatures[1].problems == ()
    assert report.modified_after_signing is True


def test_a_change_after_the_countersignature_is_caught(countersigned: bytes,
                                                       keys: tuple[Key, Key]) -> None:
    """An update appended after the countersignature: INVALID, naming signature 2."""
    report = verify_pdf(_tampered(countersigned), trust_pem=_trust(*keys))
    assert report.status == "INVALID"
    assert "signature 2: the document was modified after signing" in report.problems
    assert report.signatures[1].coverage != "ENTIRE_FILE"


def test_a_third_signature_or_one_outside_the_field_is_refused(
        physician_signed: bytes, countersigned: bytes, keys: tuple[Key, Key]) -> None:
    """A checklist carries two signatures at most, the second in the countersignature field:
    a third (even by a trusted key, filling only its own new field) and a second in a field
    of its own are refused as INVALID with the reason named."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    def sign_new_field(pdf: bytes, field: str) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        out = io.BytesIO()
        signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name=field),
                         signer=keys[1].identity._signer, output=out)
        return out.getvalue()

    third = verify_pdf(sign_new_field(countersigned, "Third"), trust_pem=_trust(*keys))
    assert third.status == "INVALID" and len(third.signatures) == 3
    assert third.problems[0].startswith("the document has 3 signatures; a checklist carries "
                                        "at most 2")
    assert all(s.intact and s.valid and s.trusted for s in third.signatures)
    elsewhere = verify_pdf(sign_new_field(physician_signed, "NurseOwn"),
                           trust_pem=_trust(*keys))
    assert elsewhere.status == "INVALID"
    assert elsewhere.problems == ("signature 2 is not the countersignature: it is in field "
                                  f"NurseOwn, not {COUNTERSIGNATURE_FIELD}",)


def test_a_countersignature_field_added_later_is_refused(keys: tuple[Key, Key]) -> None:
    """A physician-signed checklist without the pre-created field (as before this version)
    gets a field of that name added later, over the order's pump rate, and signed: the
    signature is intact, valid and trusted, but a field the physician did not sign could be
    placed anywhere, so the file is INVALID, saying so."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    rendered = ChecklistRenderer().render(checklist(_screening(), signer=keys[0].identity))
    old_style = sign_pdf(rendered.data, rendered.signature_box, keys[0].identity, {},
                         reason=SIGNATURE_MEANING)
    with pytest.raises(SigningError, match="no countersignature field"):
        countersign_pdf(old_style, keys[1].identity, _stamp())
    writer = IncrementalPdfFileWriter(io.BytesIO(old_style), strict=False)
    fields.append_signature_field(writer, fields.SigFieldSpec(
        sig_field_name=COUNTERSIGNATURE_FIELD, on_page=0, box=(178, 396, 378, 420)))
    out = io.BytesIO()
    signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name=COUNTERSIGNATURE_FIELD),
                     signer=keys[1].identity._signer, output=out)
    report = verify_pdf(out.getvalue(), trust_pem=_trust(*keys))
    assert all(s.intact and s.valid and s.trusted for s in report.signatures)
    assert report.status == "INVALID"
    assert report.problems == ("signature 2: the countersignature field was not created with "
                               "the physician's signature (it was added later, so it could "
                               "be placed anywhere on the page)",)


# --- the infusion checklist ------------------------------------------------------------------

def test_the_infusion_checklist_gets_the_block_and_the_field(keys: tuple[Key, Key]) -> None:
    """An infusion's checklist (course) carries the same block after its signature block and
    the same empty field; countersigned, both signatures verify with their meanings."""
    from tests.reports.infusion_fixture import course_data, infusion_screening

    request = SigningRequest(keys[0].p12, PASSPHRASE, "physician.p12")
    data, content = produce_checklist(infusion_screening(course_data(clear=True)),
                                      signing=request)
    assert [label for label, _ in content.order_rows] == list(ORDER_ROW_LABELS)
    assert _fields(data) == [(SIGNATURE_FIELD, True), (COUNTERSIGNATURE_FIELD, False)]
    pages = [" ".join((p.extract_text() or "").split())
             for p in PdfReader(io.BytesIO(data)).pages]
    assert pages[1].startswith("Bedside independent double check The order as signed "
                               "Patient name Alex Rivera Date of birth 1979-05-14")
    assert f"Pump rate {dict(content.order_rows)['Pump rate']}" in pages[1]
    stamp = CountersignStamp("Ann Lee", "Bob Ray", MATCHES_THE_ORDER, tuple(
        (label, value) for label, value in content.order_rows if label != "Date of birth"))
    report = verify_pdf(countersign_pdf(data, keys[1].identity, stamp),
                        trust_pem=_trust(*keys))
    assert report.status == "VALID", report.problems
    assert [s.meaning for s in report.signatures] == [
        f"Day-of re-check: approved for infusion 3 of 6 (record {content.record_id})",
        COUNTERSIGNATURE_MEANING]
