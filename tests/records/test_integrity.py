"""Records integrity against an attacker with the database file (issue 11, items 3 to 5).

Each test makes one attack and asserts the message a clinic would see: a PDF stored as signed
on a text match, a document changed after signing, SQL edits of patients, accounts, roles,
decisions, signer fields, drafts, settings and certificates, a truncated tail, and a consistent
rewrite of the whole chain (caught against the head a signed checklist embeds, or a signed
checkpoint kept off the machine). Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from ketascreen.cli import main
from ketascreen.errors import RecordError
from ketascreen.records.audit import AuditReport
from ketascreen.records.documents import embedded_head, record_id_printed, signature_problem
from ketascreen.records.repository import RecordStore
from ketascreen.records.views import StoredScreening
from ketascreen.records.worklist import record_print, todays_checklists
from ketascreen.reports.attachments import HEAD_ATTACHMENT
from ketascreen.reports.output import SigningRequest, produce_checklist
from ketascreen.reports.signing import embedded_attachments
from ketascreen.screening import Screening
from tests.records.conftest import People
from tests.records.rawsql import drop_protection, raw, rewrite_trail
from tests.records.support import KEY_PASSPHRASE, PASSWORDS, screening_of

Sign = Callable[[Screening], bytes]


def _checklist(screening: Screening, signing: SigningRequest | None,
               head: tuple[int, str] | None = None) -> bytes:
    data, _ = produce_checklist(screening, signing=signing, audit_head=head)
    return data


@pytest.fixture
def signed(store: RecordStore, people: People, signing_request: SigningRequest
           ) -> StoredScreening:
    """A signed record whose checklist embeds the audit head at signing, then a draft, a
    remembered key path and a print: rows in every tracked table."""
    first = screening_of()
    pdf = _checklist(first, signing_request, store.audit_head())
    record = store.create(people.physician, first, signed_pdf=pdf)
    store.create(people.physician, screening_of({"patient.id": "MRN-2",
                                                 "patient.name": "Pat Two"}))
    store.remember_certificate_path(people.physician, signing_request.path)
    record_print(store, people.nurse, record.record_id)
    return record


def _problems(report: AuditReport) -> str:
    return "\n".join([*report.row_problems, *report.head_problems,
                      *(f"{r}: {p}" for r, p in report.record_problems),
                      report.reason or "", report.anchor_problem or ""])


# -- item 3: a stored document is verified cryptographically ------------------------------------

def test_fake_byterange_text_is_not_a_signature(store: RecordStore, people: People) -> None:
    """An unsigned checklist with '/ByteRange' and '/Sig' text in it is refused, not stored."""
    screening = screening_of()
    fake = _checklist(screening, None) + b"\n% /ByteRange [0 10 20 30] /Type /Sig\n"
    assert b"/ByteRange" in fake and b"/Sig" in fake
    with pytest.raises(RecordError, match="the document is not signed"):
        store.create(people.physician, screening, signed_pdf=fake)
    assert store.list_records(people.physician) == []
    assert store.verify_audit().ok


def test_document_changed_after_signing_is_refused(store: RecordStore, people: People,
                                                  sign: Sign) -> None:
    """An incremental update after the signature (here: a new page title) is refused."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    screening = screening_of()
    writer = IncrementalPdfFileWriter(io.BytesIO(sign(screening)), strict=False)
    writer.set_info(generic.DictionaryObject({generic.NameObject("/Title"):
                                              generic.TextStringObject("edited")}))
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(RecordError, match="changed after it was signed"):
        store.create(people.physician, screening, signed_pdf=out.getvalue())


def test_corrupted_signature_container_is_refused(store: RecordStore, people: People,
                                                 sign: Sign,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """Garbage in /Contents is a clean refusal naming the signature, never a traceback."""
    screening = screening_of()
    pdf = bytearray(sign(screening))
    start = pdf.index(b"/Contents <") + len(b"/Contents <")
    pdf[start + 40:start + 240] = b"0f" * 100
    caplog.set_level(logging.DEBUG)
    problem = signature_problem(bytes(pdf))
    assert [r for r in caplog.records if r.name.startswith("pyhanko")] == []
    assert problem is not None and "signature" in problem
    with pytest.raises(RecordError, match="signature"):
        store.create(people.physician, screening, signed_pdf=bytes(pdf))


def test_page_must_print_the_record_id(sign: Sign) -> None:
    """The record id is read from the page text: the signed page prints its own id only."""
    screening = screening_of()
    pdf = sign(screening)
    from ketascreen.records.content import content_of

    assert record_id_printed(pdf, content_of(screening).record_id)
    assert not record_id_printed(pdf, "KS-000000000000")


# -- item 4: every row inside the chain -----------------------------------------------------------

def test_ordinary_use_verifies_every_row(store: RecordStore, signed: StoredScreening) -> None:
    """Accounts, patients, screenings, documents, certificates, settings: all checked."""
    report = store.verify_audit()
    assert report.ok, _problems(report)
    assert report.rows_checked >= 11  # 4 users, 2 patients, 2 screenings, 1 doc, 1 cert, 1 set


EDITS = {
    "patient name": ("UPDATE patients SET name = 'Someone Else' WHERE external_id = 'MRN-2'",
                     r"patients/\d+ \(MRN-2\): edited after its event #\d+ \(changed: name\)"),
    "account role": ("UPDATE users SET role = 'physician' WHERE username = 'rnpatel'",
                     r"users/\d+ \(rnpatel\): edited after its event #\d+ \(changed: role\)"),
    "account name": ("UPDATE users SET display_name = 'Dr Evil' WHERE username = 'drsmith'",
                     r"users/\d+ \(drsmith\): edited .*\(changed: display_name\)"),
    "password": ("UPDATE users SET password_hash = (SELECT password_hash FROM users "
                 "WHERE username = 'rnpatel') WHERE username = 'admin'",
                 r"users/\d+ \(admin\): edited .*\(changed: password_hash\)"),
    "decision": ("UPDATE screenings SET decision = 'needs-review' WHERE status = 'signed'",
                 r"screenings/\d+ \(KS-[0-9A-F]{12}\): edited .*\(changed: decision\)"),
    "signer name": ("UPDATE screenings SET signer_name = 'Dr Other' WHERE status = 'signed'",
                    r"screenings/\d+ \(KS-[0-9A-F]{12}\): edited .*\(changed: signer_name\)"),
    "moved patient": ("UPDATE screenings SET patient_id = (SELECT id FROM patients WHERE "
                      "external_id = 'MRN-2') WHERE status = 'signed'",
                      r"screenings/\d+ \(KS-[0-9A-F]{12}\): edited .*\(changed: patient_id\)"),
    "draft": ("UPDATE screenings SET decision = 'do-not-infuse', case_json = replace(case_json, "
              "'Pat Two', 'Pat Too') WHERE status = 'draft'",
              r"screenings/\d+ \(KS-[0-9A-F]{12}\): edited .*\(changed: case_json, decision\)"),
    "deleted draft": ("DELETE FROM screenings WHERE status = 'draft'",
                      r"screenings/\d+: deleted outside ketascreen \(recorded by event #\d+\)"),
    "inserted account": ("INSERT INTO users (username, display_name, role, password_hash, "
                         "active, created_at) SELECT 'intruder', 'X', 'admin', password_hash, "
                         "active, created_at FROM users WHERE username = 'admin'",
                         r"users/\d+ \(intruder\): inserted outside ketascreen \(no audit "
                         r"event records this row\)"),
    "setting": ("UPDATE user_settings SET value = '/tmp/evil.p12'",
                r"user_settings/\d+/certificate-path: edited .*\(changed: value\)"),
    "certificate owner": ("UPDATE signing_certificates SET user_id = (SELECT id FROM users "
                          "WHERE username = 'rnpatel')",
                          r"signing_certificates/\d+ \([0-9a-f]{64}\): edited .*"
                          r"\(changed: user_id\)"),
    "document": ("UPDATE signed_documents SET size = size + 1",
                 r"signed_documents/\d+: edited .*\(changed: size\)"),
}


@pytest.mark.parametrize("attack", sorted(EDITS))
def test_sql_edit_is_named_by_audit_verify(store: RecordStore, signed: StoredScreening,
                                           database_url: str, attack: str) -> None:
    """Each edit, insert or delete outside ketascreen is named with the row and its columns."""
    statement, message = EDITS[attack]
    with raw(database_url) as connection:
        drop_protection(connection)
        assert connection.execute(text(statement)).rowcount == 1
    report = store.verify_audit()
    assert report.broken_at is None  # the chain itself is intact ...
    assert not report.ok  # ... but the row is not what the chain recorded
    assert any(re.fullmatch(message, problem) for problem in report.row_problems), \
        report.row_problems


def test_bulk_inserted_rows_are_inside_the_chain_only_when_tracked(
        store: RecordStore, people: People) -> None:
    """Rows written with a Core ``insert()`` are recorded by ``track_rows``; untracked ones
    are named as inserted outside ketascreen."""
    from datetime import UTC, date, datetime

    from sqlalchemy import insert

    from ketascreen.records.models import Patient

    now = datetime.now(UTC)
    with store.transaction() as tx:
        tx.session.execute(insert(Patient), [
            {"id": 100 + n, "external_id": f"MRN-B{n}", "name": f"Bulk {n}",
             "birth_date": date(1970, 1, 1), "created_at": now} for n in range(3)])
        tx.trail.track_rows(Patient, [100, 101])
    report = store.verify_audit()
    assert report.row_problems == ("patients/102 (MRN-B2): inserted outside ketascreen (no "
                                   "audit event records this row)",)


def test_cli_names_an_edited_patient(store: RecordStore, signed: StoredScreening,
                                     database_url: str, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """What the clinic sees: the row, its patient id, the event and the column; exit 1."""
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", database_url)
    assert main(["audit", "verify"]) == 0
    assert "matches the hash its last audit event recorded" in capsys.readouterr().out
    with raw(database_url) as connection:
        connection.execute(text("UPDATE patients SET name = 'Someone Else' "
                                "WHERE external_id = 'MRN-2'"))
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^Row patients/\d+ \(MRN-2\): edited after its event #\d+ "
                     r"\(changed: name\)$", out, re.MULTILINE), out
    assert "RESULT: NOT VERIFIED" in out


def test_worklist_shows_the_signed_case_not_the_patients_table(
        store: RecordStore, people: People, signed: StoredScreening, database_url: str) -> None:
    """A renamed patients row does not put a signed CLEAR checklist under another name."""
    name = signed.patient.name
    with raw(database_url) as connection:
        connection.execute(text("UPDATE patients SET name = 'Someone Else', external_id = "
                                "'MRN-9999' WHERE external_id = :pid"),
                           {"pid": signed.patient.patient_id})
    [item] = todays_checklists(store, people.nurse)
    assert (item.patient.name, item.patient.patient_id) == (name, signed.patient.patient_id)
    listed = {r.record_id: r.patient.name for r in store.list_records(people.nurse)}
    assert listed[signed.record_id] == name
    assert store.get(people.nurse, signed.record_id).patient.name == name


# -- item 5: the chain head ---------------------------------------------------------------------

def test_signed_checklist_embeds_and_prints_the_head(store: RecordStore, people: People,
                                                    signing_request: SigningRequest) -> None:
    """The head at signing is attached under the signature and printed near the record id."""
    screening = screening_of()
    seq, digest = store.audit_head()
    pdf = _checklist(screening, signing_request, (seq, digest))
    assert json.loads(embedded_attachments(pdf)[HEAD_ATTACHMENT]) == {"seq": seq,
                                                                      "sha256": digest}
    assert embedded_head(pdf) == (seq, digest) and signature_problem(pdf) is None
    assert record_id_printed(pdf, f"Audit trail head at signing: event {seq} sha256{digest}")
    stored = store.create(people.physician, screening, signed_pdf=pdf)
    assert embedded_head(store.document(people.nurse, stored.record_id)) == (seq, digest)


def test_checklist_signed_for_another_trail_is_refused(store: RecordStore, people: People,
                                                      signing_request: SigningRequest) -> None:
    """A checklist whose embedded head is not in this trail is not stored."""
    screening = screening_of()
    seq, _ = store.audit_head()
    pdf = _checklist(screening, signing_request, (seq, "ab" * 32))
    with pytest.raises(RecordError, match=f"names audit event {seq} with hash abab"):
        store.create(people.physician, screening, signed_pdf=pdf)


def test_consistent_rewrite_is_caught_by_the_signed_checklist(
        store: RecordStore, signed: StoredScreening, database_url: str) -> None:
    """Every event and the head rewritten (the admin's creation now says someone else made
    it): the chain verifies, but the head the signed checklist embeds is no longer there."""
    def change(event: dict[str, object]) -> None:
        if event["seq"] == 1:
            event["workstation"] = "elsewhere"

    rewrite_trail(database_url, change)
    report = store.verify_audit()
    assert report.broken_at is None and report.row_problems == ()
    assert not report.ok
    [problem] = report.head_problems
    assert re.fullmatch(rf"the signed checklist {signed.record_id} names event \d+ with hash "
                        r"[0-9a-f]{64}, but the trail now has [0-9a-f]{64} there: the trail "
                        r"was rewritten", problem), problem


def test_tail_truncation_is_caught(store: RecordStore, people: People, signed: StoredScreening,
                                   database_url: str, signing_request: SigningRequest) -> None:
    """The last events cut and the head set to match: the rows they recorded are named."""
    with store.database.read() as session:
        before = session.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
    amended = screening_of({"measurements.weight": "190 lb"})
    store.amend(people.physician, signed.record_id, amended, reason="weight re-measured",
                signed_pdf=_checklist(amended, signing_request, store.audit_head()))
    rewrite_trail(database_url, lambda event: None, keep=before)
    report = store.verify_audit()
    assert report.broken_at is None and not report.ok
    text_found = _problems(report)
    assert re.search(r"screenings/\d+ \(KS-[0-9A-F]{12}\): inserted outside ketascreen",
                     text_found), text_found
    assert "signed_documents/" in text_found


def test_checkpoint_catches_a_rewrite(store: RecordStore, people: People,
                                      signed: StoredScreening, database_url: str,
                                      signing_request: SigningRequest, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`audit checkpoint` signs the head into a file; `audit verify --checkpoint` (or
    --expect-head FILE) catches a later consistent rewrite, and a forged file is refused."""
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", database_url)
    password = tmp_path / "pw"
    password.write_text(PASSWORDS["drsmith"])
    passphrase = tmp_path / "pass"
    passphrase.write_bytes(KEY_PASSPHRASE)
    checkpoint = tmp_path / "checkpoint.json"
    assert main(["audit", "checkpoint", "-o", str(checkpoint), "--sign", signing_request.path,
                 "--passphrase-file", str(passphrase), "--user", "drsmith",
                 "--password-file", str(password)]) == 0
    assert "signed checkpoint of event" in capsys.readouterr().err
    assert main(["audit", "verify", "--checkpoint", str(checkpoint)]) == 0
    assert "signed by Dr Jane Smith" in capsys.readouterr().out
    forged = json.loads(checkpoint.read_text())
    forged["payload"]["seq"] = 1
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    assert main(["audit", "verify", "--checkpoint", str(tmp_path / "forged.json")]) == 2
    assert "signature does not verify" in capsys.readouterr().err

    def change(event: dict[str, object]) -> None:
        if event["action"] == "print":
            event["username"] = "rnlee"

    rewrite_trail(database_url, change)
    assert main(["audit", "verify", "--chain-only"]) == 0  # the chain alone looks fine
    capsys.readouterr()
    assert main(["audit", "verify", "--expect-head", str(checkpoint)]) == 1
    out = capsys.readouterr().out
    assert re.search(rf"NOT IN THE TRAIL: the checkpoint {re.escape(str(checkpoint))} \(signed "
                     r"by Dr Jane Smith.*\) names event \d+ with hash [0-9a-f]{64}, but the "
                     "trail now has", out), out


def test_cli_signing_embeds_and_prints_the_head(store: RecordStore, people: People,
                                                signing_request: SigningRequest,
                                                tmp_path: Path, database_url: str,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`screen --save --pdf --sign` prints the head at signing and embeds it."""
    from tests.records.support import ACKNOWLEDGED
    from tests.reports.helpers import write_case

    monkeypatch.setenv("KETASCREEN_DATABASE_URL", database_url)
    (tmp_path / "pw").write_text(PASSWORDS["drsmith"])
    (tmp_path / "pass").write_bytes(KEY_PASSPHRASE)
    case = write_case(tmp_path, ACKNOWLEDGED)
    out = tmp_path / "out.pdf"
    assert main(["screen", str(case), "--save", "--pdf", str(out), "--sign",
                 signing_request.path, "--passphrase-file", str(tmp_path / "pass"),
                 "--user", "drsmith", "--password-file", str(tmp_path / "pw")]) == 0
    err = capsys.readouterr().err
    head = embedded_head(out.read_bytes())
    assert head is not None
    assert f"audit trail head at signing: event {head[0]} sha256 {head[1]}" in err
    assert store.verify_audit().ok
