"""The bedside in the records: the blinded double check (match, mismatch and recheck, override),
its refusals, the nurse's countersignature, and what the worklist shows afterwards. SQLite and
PostgreSQL.

The order: 66 kg at 0.5 mg/kg, 0.66 mL of the 50 mg/mL vial into 100 mL over 40 min: 151 mL/h,
VTBI 100.6 mL (a rate typed 15.1 is the issue's example).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from ketascreen.doublecheck import BedsideEntries, parse_entries
from ketascreen.errors import (
    AuthenticationFailedError,
    CertificateNameMismatchError,
    CertificateNotRegisteredError,
    CertificateOwnedByAnotherError,
    CountersignRefusedError,
    DoubleCheckRefusedError,
    PermissionDeniedError,
)
from ketascreen.records import bedside
from ketascreen.records.bedside import Override, countersign, perform_double_check
from ketascreen.records.models import AuditEventRow, SignedDocument
from ketascreen.records.repository import RecordStore
from ketascreen.records.worklist import open_checklist, todays_checklists
from ketascreen.reports.keys import generate_self_signed, load_signer
from ketascreen.reports.signing import CountersignStamp, countersign_pdf
from ketascreen.reports.verification import verify_pdf
from ketascreen.screening import Screening
from tests.records.conftest import People
from tests.records.support import KEY_PASSPHRASE, PASSWORDS, screening_of

Sign = Callable[[Screening], bytes]

BAG = {"protocol": {"dose": "0.5 mg/kg", "duration": "40 min", "weight_basis": "actual"},
       "measurements.weight": "66 kg"}
RIGHT = {"vial_concentration": "50", "volume_drawn": "0.66", "diluent_volume": "100",
         "pump_rate": "151", "vtbi": "100.6"}
IDS = [("name", "Alex Rivera"), ("birth-date", "1979-05-14")]
THIRD_NURSE = ("rnkim", "Jo Kim RN", "nurse-password-3")


def _entries(**changes: str) -> BedsideEntries:
    return parse_entries(IDS, {**RIGHT, **changes})


@dataclass(frozen=True)
class Bedside:
    """A signed bag order and the people at the bedside."""

    store: RecordStore
    people: People
    record_id: str
    physician_pdf: bytes


@pytest.fixture
def ward(store: RecordStore, people: People, sign: Sign) -> Bedside:
    """The order signed by Dr Smith; a third nurse (for overrides) added."""
    screening = screening_of(BAG, base="clean")
    pdf = sign(screening)
    stored = store.create(people.physician, screening, signed_pdf=pdf)
    store.add_user(people.admin, username=THIRD_NURSE[0], display_name=THIRD_NURSE[1],
                   role="nurse", password=THIRD_NURSE[2])
    return Bedside(store, people, stored.record_id, pdf)


def _check(ward: Bedside, entries: BedsideEntries | None = None, *, checker: str = "rnpatel",
           witness: str = "rnlee", witness_password: str | None = None,
           override: Override | None = None) -> bedside.DoubleCheckRecord:
    actor = ward.people.nurse if checker == "rnpatel" else ward.people.nurse2
    return perform_double_check(
        ward.store, actor, ward.record_id, password=PASSWORDS[checker], witness=witness,
        witness_password=witness_password or PASSWORDS.get(witness, "x"),
        entries=entries or _entries(), override=override)


def _events(store: RecordStore, action: str) -> list[tuple[str, str, dict[str, Any]]]:
    with store.database.read() as session:
        rows = session.execute(select(AuditEventRow.username, AuditEventRow.outcome,
                                      AuditEventRow.detail)
                               .where(AuditEventRow.action == action)
                               .order_by(AuditEventRow.seq)).all()
    return [(user, outcome, json.loads(detail)) for user, outcome, detail in rows]


# -- the double check ------------------------------------------------------------------------

def test_a_matching_check_is_recorded_with_both_people(ward: Bedside) -> None:
    record = _check(ward)
    assert record.result == "match" and record.outcome.passed
    assert (record.checker, record.witness, record.override_by) == ("rnpatel", "rnlee", None)
    (event,) = _events(ward.store, "double-check")
    user, outcome, detail = event
    assert (user, outcome) == ("rnpatel", "ok")
    assert detail["result"] == "match" and detail["witness"] == "rnlee"
    assert detail["entered.pump-rate"] == "151 mL/h" and detail["matches.pump-rate"] is True
    assert detail["matches.identifier-name"] is True
    assert "Rivera" not in json.dumps(detail) and "1979" not in json.dumps(detail)
    assert ward.store.verify_audit().ok


def test_a_mismatch_names_the_item_and_a_recheck_passes(ward: Bedside) -> None:
    wrong = _check(ward, _entries(pump_rate="15.1"))
    assert wrong.result == "mismatch"
    assert [item.item for item in wrong.outcome.mismatches] == ["Pump rate"]
    assert todays_checklists(ward.store, ward.people.nurse)[0].double_check == "mismatch"
    right = _check(ward)
    assert right.result == "match" and right.event > wrong.event
    assert [d["result"] for _, _, d in _events(ward.store, "double-check")] == [
        "mismatch", "match"]
    assert todays_checklists(ward.store, ward.people.nurse)[0].double_check == "match"


def test_an_override_needs_a_reason_and_a_second_nurse(ward: Bedside) -> None:
    entries = _entries(vtbi="100")
    good = Override("Pump VTBI field accepts whole mL only", THIRD_NURSE[0], THIRD_NURSE[2])
    refused_overrides = {
        "empty reason": Override("   ", THIRD_NURSE[0], THIRD_NURSE[2]),
        "approver is the checker": Override("reason given", "rnpatel", PASSWORDS["rnpatel"]),
        "approver is the witness": Override("reason given", "rnlee", PASSWORDS["rnlee"]),
        "approver is the signer": Override("reason given", "drsmith", PASSWORDS["drsmith"]),
    }
    for why, override in refused_overrides.items():
        with pytest.raises(DoubleCheckRefusedError) as caught:
            _check(ward, entries, override=override)
        assert caught.value.field == "override", why
    with pytest.raises(AuthenticationFailedError):
        _check(ward, entries, override=Override("reason given", THIRD_NURSE[0], "wrong"))
    ward.store.add_user(ward.people.admin, username="drjones", display_name="Dr Tom Jones",
                        role="physician", password="physician-password-2")
    with pytest.raises(DoubleCheckRefusedError, match="second nurse"):
        _check(ward, entries, override=Override("reason given", "drjones",
                                                "physician-password-2"))
    with pytest.raises(DoubleCheckRefusedError, match="nothing to override"):
        _check(ward, override=good)
    assert _events(ward.store, "double-check") == [] or all(
        outcome == "refused" for _, outcome, _ in _events(ward.store, "double-check"))
    record = _check(ward, entries, override=good)
    assert (record.result, record.override_by) == ("override", "rnkim")
    detail = _events(ward.store, "double-check")[-1][2]
    assert detail["reason"] == good.reason and detail["override_by"] == "rnkim"
    assert detail["mismatches"] == "vtbi"
    assert todays_checklists(ward.store, ward.people.nurse)[0].double_check == "override"


def test_the_witness_must_authenticate(ward: Bedside) -> None:
    with pytest.raises(AuthenticationFailedError):
        _check(ward, witness_password="not her password")
    refused = [d for _, outcome, d in _events(ward.store, "double-check") if outcome == "refused"]
    assert refused[-1]["reason"] == "witness: did not authenticate"
    logins = _events(ward.store, "login")
    assert logins[-1][0] == "rnlee" and logins[-1][1] == "refused"
    assert not [o for _, o, _ in _events(ward.store, "double-check") if o == "ok"]


def test_the_checker_re_enters_her_password(ward: Bedside) -> None:
    with pytest.raises(AuthenticationFailedError):
        perform_double_check(ward.store, ward.people.nurse, ward.record_id, password="wrong",
                             witness="rnlee", witness_password=PASSWORDS["rnlee"],
                             entries=_entries())


@pytest.mark.parametrize(("witness", "field"), [
    ("rnpatel", "witness"),        # the checker herself
    ("drsmith", "witness"),        # the signer
])
def test_the_witness_is_another_clinician_than_the_checker_and_the_signer(
        ward: Bedside, witness: str, field: str) -> None:
    with pytest.raises(DoubleCheckRefusedError) as caught:
        _check(ward, witness=witness)
    assert caught.value.field == field
    assert _events(ward.store, "double-check")[-1][1] == "refused"


def test_an_admin_is_no_witness(ward: Bedside) -> None:
    with pytest.raises(DoubleCheckRefusedError, match="not an active nurse or physician"):
        _check(ward, witness="admin")


def test_the_signer_is_not_the_checker(store: RecordStore, people: People, sign: Sign) -> None:
    """A physician may not double-check (no permission); a signer never checks their own."""
    screening = screening_of(BAG, base="clean")
    stored = store.create(people.physician, screening, signed_pdf=sign(screening))
    with pytest.raises(PermissionDeniedError):
        perform_double_check(store, people.physician, stored.record_id,
                             password=PASSWORDS["drsmith"], witness="rnlee",
                             witness_password=PASSWORDS["rnlee"], entries=_entries())


def test_a_checker_who_signed_the_order_is_refused(ward: Bedside,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a role allowed to double-check never checks an order it signed itself."""
    from ketascreen.records import roles

    monkeypatch.setitem(roles.ROLE_PERMISSIONS, roles.Role.PHYSICIAN, frozenset(
        {*roles.ROLE_PERMISSIONS[roles.Role.PHYSICIAN], roles.Permission.DOUBLE_CHECK}))
    with pytest.raises(DoubleCheckRefusedError) as caught:
        perform_double_check(ward.store, ward.people.physician, ward.record_id,
                             password=PASSWORDS["drsmith"], witness="rnlee",
                             witness_password=PASSWORDS["rnlee"], entries=_entries())
    assert caught.value.field == "checker" and "signed the order" in caught.value.reason
    assert _events(ward.store, "double-check")[-1][:2] == ("drsmith", "refused")


# -- the countersignature --------------------------------------------------------------------

@pytest.fixture(scope="module")
def patel_key() -> tuple[bytes, str]:
    """Sam Patel RN's trial key store and the sha256 of its certificate."""
    pair = generate_self_signed("Sam Patel RN", KEY_PASSPHRASE)
    identity = load_signer(pair.pkcs12, KEY_PASSPHRASE)
    return pair.pkcs12, identity.certificate_sha256


def _countersigned(pdf: bytes, pkcs12: bytes, record: bedside.DoubleCheckRecord | None = None
                   ) -> bytes:
    entered = tuple((item.item, item.entered) for item in record.outcome.items) if record else ()
    return countersign_pdf(pdf, load_signer(pkcs12, KEY_PASSPHRASE), CountersignStamp(
        checker="Sam Patel RN", witness="Kim Lee RN", result="MATCHES THE ORDER",
        entered=entered))


def test_countersigning_after_a_match(ward: Bedside, patel_key: tuple[bytes, str]) -> None:
    pkcs12, fingerprint = patel_key
    record = _check(ward)
    pdf = _countersigned(ward.physician_pdf, pkcs12, record)
    event = countersign(ward.store, ward.people.nurse, ward.record_id, pdf, register=True)
    detail = _events(ward.store, "countersign")[-1][2]
    assert detail["document_sha256"] == hashlib.sha256(pdf).hexdigest()
    assert detail["double_check_event"] == record.event and detail["certificate_sha256"] == (
        fingerprint)
    assert event > record.event
    # the physician's document is unchanged; the bedside copy is the countersigned one
    assert ward.store.document(ward.people.nurse, ward.record_id) == ward.physician_pdf
    with ward.store.database.read() as session:
        assert session.execute(select(SignedDocument.pdf)).scalar_one() == ward.physician_pdf
    opened = open_checklist(ward.store, ward.people.nurse, ward.record_id)
    assert opened.countersigned and opened.pdf == pdf
    item = opened.item
    assert item.countersigned_by == "Sam Patel RN" and item.countersigned_at is not None
    assert (item.dose, item.pump_rate, item.infusion, item.double_check) == (
        "33 mg", "151 mL/h", None, "match")
    report = ward.store.verify_audit()
    assert report.ok, report
    verification = verify_pdf(pdf, registered=lambda fp: {
        fingerprint: "rnpatel"}.get(fp) or ("drsmith" if fp else None))
    assert [c.field for c in verification.signatures] == ["KetascreenSignature",
                                                          "KetascreenCountersignature"]
    assert all(c.intact and c.valid for c in verification.signatures)


def test_countersigning_is_refused_before_a_passing_check(
        ward: Bedside, patel_key: tuple[bytes, str]) -> None:
    pkcs12, _ = patel_key
    pdf = _countersigned(ward.physician_pdf, pkcs12)
    with pytest.raises(CountersignRefusedError, match="double check"):
        countersign(ward.store, ward.people.nurse, ward.record_id, pdf, register=True)
    _check(ward, _entries(pump_rate="15.1"))
    with pytest.raises(CountersignRefusedError, match="mismatch"):
        countersign(ward.store, ward.people.nurse, ward.record_id, pdf, register=True)
    # a check by another nurse does not count for her
    _check(ward, checker="rnlee", witness="rnkim", witness_password=THIRD_NURSE[2])
    with pytest.raises(CountersignRefusedError):
        countersign(ward.store, ward.people.nurse, ward.record_id, pdf, register=True)
    refused = [o for _, o, _ in _events(ward.store, "countersign")]
    assert refused == ["refused"] * 3
    assert open_checklist(ward.store, ward.people.nurse, ward.record_id).countersigned is False


def test_countersigning_twice_is_refused(ward: Bedside, patel_key: tuple[bytes, str]) -> None:
    pkcs12, _ = patel_key
    _check(ward)
    pdf = _countersigned(ward.physician_pdf, pkcs12)
    countersign(ward.store, ward.people.nurse, ward.record_id, pdf, register=True)
    with pytest.raises(CountersignRefusedError, match="countersigned already"):
        countersign(ward.store, ward.people.nurse, ward.record_id, pdf)


def test_a_document_that_is_not_the_stored_one_countersigned_is_refused(
        ward: Bedside, patel_key: tuple[bytes, str], sign: Sign) -> None:
    pkcs12, _ = patel_key
    _check(ward)
    other = sign(screening_of({**BAG, "measurements.weight": "67 kg"}, base="clean"))
    with pytest.raises(CountersignRefusedError, match="does not start with"):
        countersign(ward.store, ward.people.nurse, ward.record_id,
                    _countersigned(other, pkcs12), register=True)
    with pytest.raises(CountersignRefusedError, match="does not start with"):
        countersign(ward.store, ward.people.nurse, ward.record_id, ward.physician_pdf)
    tampered = _countersigned(ward.physician_pdf, pkcs12)
    tampered = tampered[:-400] + tampered[-400:].replace(b"0", b"1", 1)
    with pytest.raises(CountersignRefusedError):
        countersign(ward.store, ward.people.nurse, ward.record_id, tampered, register=True)


def test_the_certificate_must_be_hers(ward: Bedside, patel_key: tuple[bytes, str]) -> None:
    pkcs12, _ = patel_key
    _check(ward)
    pdf = _countersigned(ward.physician_pdf, pkcs12)
    with pytest.raises(CertificateNotRegisteredError):  # nobody's, not confirmed
        countersign(ward.store, ward.people.nurse, ward.record_id, pdf)
    lee = generate_self_signed("Kim Lee RN", KEY_PASSPHRASE)
    ward.store.register_certificate_file(ward.people.nurse2, lee.pkcs12,
                                         passphrase=KEY_PASSPHRASE)
    with pytest.raises(CertificateOwnedByAnotherError):  # another nurse's
        countersign(ward.store, ward.people.nurse, ward.record_id,
                    _countersigned(ward.physician_pdf, lee.pkcs12), register=True)
    stranger = generate_self_signed("Pat Stranger RN", KEY_PASSPHRASE)
    with pytest.raises(CertificateNameMismatchError):  # does not name her
        countersign(ward.store, ward.people.nurse, ward.record_id,
                    _countersigned(ward.physician_pdf, stranger.pkcs12), register=True)
    assert countersign(ward.store, ward.people.nurse, ward.record_id, pdf, register=True)


def test_a_physician_may_not_countersign(ward: Bedside, patel_key: tuple[bytes, str]) -> None:
    with pytest.raises(PermissionDeniedError):
        countersign(ward.store, ward.people.physician, ward.record_id,
                    _countersigned(ward.physician_pdf, patel_key[0]))


def test_a_nurse_registers_her_own_certificate(ward: Bedside,
                                               patel_key: tuple[bytes, str]) -> None:
    info = ward.store.register_certificate_file(ward.people.nurse, patel_key[0],
                                                passphrase=KEY_PASSPHRASE)
    assert (info.username, info.fingerprint) == ("rnpatel", patel_key[1])


def test_the_worklist_before_any_bedside_step(ward: Bedside) -> None:
    (item,) = todays_checklists(ward.store, ward.people.nurse)
    assert (item.dose, item.pump_rate, item.double_check, item.countersigned_by) == (
        "33 mg", "151 mL/h", "not done", None)
    assert open_checklist(ward.store, ward.people.nurse, ward.record_id).pdf == ward.physician_pdf


def test_the_signed_order_of_a_record(ward: Bedside) -> None:
    order = bedside.signed_order_of(ward.store, ward.people.nurse, ward.record_id)
    assert dict(order.rows())["Pump rate"] == "151 mL/h"


# -- an infusion of a course; the records' integrity -------------------------------------------

def test_an_infusion_is_double_checked_and_listed_with_its_number(
        store: RecordStore, people: People, sign: Sign) -> None:
    """The double check is per infusion: the infusion's own signed order is re-derived from
    its stored case (the weight and protocol in force), and the worklist row says which."""
    from datetime import UTC, date

    from tests.records.test_courses import Clock, _day_of

    clock = Clock()
    store.clock, store.zone = clock, UTC
    first = screening_of()
    screened = store.create(people.physician, first, signed_pdf=sign(first))
    course_id = store.start_course(people.physician, screened.record_id, plan=(6, 3)).course_id
    clock.next_day()
    infusion = _day_of(1, "2026-11-26T09:00")
    screening = store.screen_infusion(people.physician, course_id, infusion)
    draft = store.check_infusion(people.physician, course_id, infusion)
    signed = store.sign(people.physician, draft.record_id, sign(screening))
    order = dict(store.signed_order(people.nurse, signed.record_id).rows())
    assert screening.result.dose is not None
    assert order["Pump rate"] == screening.result.dose.display.rate
    number = {"Vial concentration": "vial_concentration", "Volume drawn up": "volume_drawn",
              "Diluent volume": "diluent_volume", "Pump rate": "pump_rate", "VTBI": "vtbi"}
    entries = parse_entries([("name", order["Patient name"]), ("patient-id", order["Patient ID"])],
                            {field: order[label] for label, field in number.items()})
    record = store.perform_double_check(people.nurse, signed.record_id,
                                        password=PASSWORDS["rnpatel"], witness="rnlee",
                                        witness_password=PASSWORDS["rnlee"], entries=entries)
    assert record.result == "match", record.outcome.mismatches
    (item,) = todays_checklists(store, people.nurse, day=date(2026, 11, 26), zone=UTC)
    assert (item.record_id, item.infusion, item.double_check) == (signed.record_id, (1, 6),
                                                                   "match")
    assert item.pump_rate == screening.result.dose.display.rate


def test_a_countersigned_document_is_unchangeable_and_checked_by_audit_verify(
        ward: Bedside, patel_key: tuple[bytes, str], database_url: str) -> None:
    from sqlalchemy import text

    from tests.records.rawsql import drop_protection, raw

    _check(ward)
    pdf = _countersigned(ward.physician_pdf, patel_key[0])
    countersign(ward.store, ward.people.nurse, ward.record_id, pdf, register=True)
    with pytest.raises(Exception, match="never changed"), raw(database_url) as connection:
        connection.execute(text("UPDATE countersigned_documents SET size = 1"))
    forged = pdf + b"\n% appended\n"
    with raw(database_url) as connection:
        drop_protection(connection)
        if ward.store.database.name.startswith("postgresql"):
            connection.execute(text("ALTER TABLE countersigned_documents DISABLE TRIGGER USER"))
        connection.execute(text("UPDATE countersigned_documents SET pdf = :p, sha256 = :s"),
                           {"p": forged, "s": hashlib.sha256(forged).hexdigest()})
    report = ward.store.verify_audit()
    assert not report.ok
    assert (ward.record_id, "its countersigned document changed after it was countersigned"
            ) in report.record_problems
    assert any(p.startswith("countersigned_documents/") for p in report.row_problems)


def test_the_countersignature_stamp_reads_her_latest_check(ward: Bedside) -> None:
    with pytest.raises(CountersignRefusedError):
        bedside.countersign_stamp(ward.store, ward.people.nurse, ward.record_id)
    assert _events(ward.store, "countersign")[-1][1] == "refused"
    _check(ward)
    stamp = bedside.countersign_stamp(ward.store, ward.people.nurse, ward.record_id)
    assert (stamp.checker, stamp.witness, stamp.result) == ("Sam Patel RN", "Kim Lee RN",
                                                            "MATCHES THE ORDER")
    assert stamp.differs == ()
    assert stamp.entered == (
        ("Patient name", "checked"), ("Date of birth", "checked"),
        ("Vial concentration", "50 mg/mL"), ("Volume drawn up", "0.66 mL"),
        ("Diluent volume", "100 mL"), ("Pump rate", "151 mL/h"), ("VTBI", "100.6 mL"),
        ("Dose", "33 mg"), ("Dose per kg", "0.4997 mg/kg"))
    _check(ward, _entries(vtbi="100"), override=Override(
        "Pump VTBI field accepts whole mL only", THIRD_NURSE[0], THIRD_NURSE[2]))
    stamp = bedside.countersign_stamp(ward.store, ward.people.nurse, ward.record_id)
    assert stamp.result == "OVERRIDDEN: Pump VTBI field accepts whole mL only"
    assert ("VTBI", "100 mL") in stamp.entered and stamp.differs == ("VTBI",)
