"""A signature is bound to its signer; signed means signed (issue 10, items 2 and 3).

Signing certificates registered to accounts; signing with an unregistered certificate or another
account's is refused and audited; one signed checklist per patient per day unless amended; the
remembered key path; the migration from the schema before certificates.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ketascreen.errors import (
    AmendmentReasonMissingError,
    CertificateNameMismatchError,
    CertificateNotRegisteredError,
    CertificateOwnedByAnotherError,
    PermissionDeniedError,
    SameDaySigningError,
    UserAccountError,
)
from ketascreen.records.db import SCHEMA_REVISION
from ketascreen.records.repository import RecordStore
from ketascreen.records.users import Actor
from ketascreen.records.worklist import todays_checklists
from ketascreen.reports.keys import generate_self_signed, load_signer, read_certificate
from ketascreen.reports.output import SigningRequest
from ketascreen.screening import Screening
from tests.records.conftest import People
from tests.records.support import KEY_PASSPHRASE, register, screening_of, signed_pdf

Sign = Callable[[Screening], bytes]
MORNING = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


class FakeClock:
    """A settable clock for the store."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _key(tmp_path_factory: pytest.TempPathFactory, name: str) -> SigningRequest:
    pair = generate_self_signed(name, KEY_PASSPHRASE, credentials="MD")
    path = tmp_path_factory.mktemp("keys") / f"{name.replace(' ', '_')}.p12"
    path.write_bytes(pair.pkcs12)
    return SigningRequest(pair.pkcs12, KEY_PASSPHRASE, str(path))


@pytest.fixture(scope="module")
def other_key(tmp_path_factory: pytest.TempPathFactory) -> SigningRequest:
    """A second key store that also says "Dr Jane Smith" (a colleague's, or a stolen one)."""
    return _key(tmp_path_factory, "Dr Jane Smith")


@pytest.fixture(scope="module")
def jones_key(tmp_path_factory: pytest.TempPathFactory) -> SigningRequest:
    """Dr Jones's key store."""
    return _key(tmp_path_factory, "Dr Tom Jones")


@pytest.fixture
def clinic(store: RecordStore, people: People) -> People:
    """The people of a fresh store whose clock stands at 08:00 UTC on 25 Nov 2026, in UTC."""
    store.clock = FakeClock(MORNING)
    store.zone = UTC
    return people


def _jones(store: RecordStore, people: People, key: SigningRequest | None = None) -> Actor:
    store.add_user(people.admin, username="drjones", display_name="Dr Tom Jones",
                   role="physician", password="jones-password-1")
    jones = store.authenticate("drjones", "jones-password-1")
    if key is not None:
        register(store, jones, key)
    return jones


def _refusals(store: RecordStore) -> list[dict[str, object]]:
    report = store.verify_audit(records=False)
    assert report.ok
    with store.database.read() as session:
        from sqlalchemy import select

        from ketascreen.records.audit import AuditEvent
        from ketascreen.records.models import AuditEventRow

        rows = session.execute(select(AuditEventRow).where(AuditEventRow.outcome == "refused")
                               .order_by(AuditEventRow.seq)).scalars()
        return [{"action": e.action, "user": e.username, "record": e.record_id, **e.detail}
                for e in map(AuditEvent.from_row, rows)]


def test_fingerprint_is_the_same_from_pem_der_p12_and_the_signed_pdf(
        signing_request: SigningRequest, sign: Sign, tmp_path: Path) -> None:
    """The fingerprint the records compare is the same from every form of the certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from ketascreen.records.content import content_of
    from ketascreen.records.documents import check_signed_document

    p12 = read_certificate(signing_request.pkcs12, passphrase=KEY_PASSPHRASE)
    identity = load_signer(signing_request.pkcs12, KEY_PASSPHRASE)
    screening = screening_of()
    content = content_of(screening)
    facts = check_signed_document(sign(screening), record_id=content.record_id,
                                  case_json=content.case_json, result_json=content.result_json)
    pem = x509.load_der_x509_certificate(p12.der).public_bytes(Encoding.PEM)
    assert (read_certificate(pem).sha256 == read_certificate(p12.der).sha256 == p12.sha256
            == identity.certificate_sha256 == facts.certificate_sha256)
    assert p12.subject_name == facts.signer_name == "Dr Jane Smith"
    assert len(p12.sha256) == 64


def test_unregistered_certificate_is_refused_and_audited(
        store: RecordStore, clinic: People, other_key: SigningRequest) -> None:
    """A certificate registered to nobody: refused with the fields, a refused event, no record."""
    screening = screening_of()
    pdf = signed_pdf(screening, other_key)
    with pytest.raises(CertificateNotRegisteredError) as caught:
        store.create(clinic.physician, screening, signed_pdf=pdf)
    error = caught.value
    assert type(error) is CertificateNotRegisteredError and error.registrable
    fingerprint = read_certificate(other_key.pkcs12, passphrase=KEY_PASSPHRASE).sha256
    own = store.certificates(clinic.physician)
    assert error.fingerprint == fingerprint and error.account == "drsmith"
    assert error.registered == (own[0].fingerprint,) and error.owner is None
    assert error.subject_name == "Dr Jane Smith"
    assert store.list_records(clinic.physician) == []
    refusal = _refusals(store)[-1]
    assert refusal["action"] == "sign" and refusal["user"] == "drsmith"
    assert refusal["certificate_sha256"] == fingerprint
    assert refusal["reason"] == "the signing certificate is not registered to this account"
    # a draft may not be signed with it either
    draft = store.create(clinic.physician, screening)
    with pytest.raises(CertificateNotRegisteredError):
        store.sign(clinic.physician, draft.record_id, pdf)
    assert not store.get(clinic.physician, draft.record_id).is_signed
    assert len(_refusals(store)) == 2


def test_first_signing_registers_only_when_confirmed(
        store: RecordStore, clinic: People, other_key: SigningRequest) -> None:
    """With the physician's confirmation the unregistered certificate is registered with the
    signature (one transaction); the registration is an audit event."""
    screening = screening_of()
    fingerprint = load_signer(other_key.pkcs12, KEY_PASSPHRASE).certificate_sha256
    assert store.certificate_status(clinic.physician, fingerprint) == "unregistered"
    stored = store.create(clinic.physician, screening, signed_pdf=signed_pdf(screening, other_key),
                          register_certificate=True)
    assert stored.signer_certificate_sha256 == fingerprint
    assert store.certificate_status(clinic.physician, fingerprint) == "registered"
    assert [c.fingerprint for c in store.certificates(clinic.physician)][-1] == fingerprint
    actions = [e.action for e in store.events(clinic.physician, stored.record_id)]
    assert actions == ["create", "sign"]
    assert store.verify_audit().ok


def test_another_accounts_certificate_is_refused_and_audited(
        store: RecordStore, clinic: People, signing_request: SigningRequest,
        jones_key: SigningRequest) -> None:
    """Dr Smith signing with Dr Jones's registered certificate: refused even when she
    'confirms', audited; she cannot register it either; Dr Jones can sign with it."""
    jones = _jones(store, clinic, jones_key)
    screening = screening_of()
    pdf = signed_pdf(screening, jones_key)
    for confirm in (False, True):
        with pytest.raises(CertificateOwnedByAnotherError) as caught:
            store.create(clinic.physician, screening, signed_pdf=pdf,
                         register_certificate=confirm)
        assert caught.value.owner == "drjones" and not caught.value.registrable
    fingerprint = caught.value.fingerprint
    assert store.certificate_status(clinic.physician, fingerprint) == "another-account"
    with pytest.raises(CertificateOwnedByAnotherError):
        store.register_certificate(clinic.physician, fingerprint, "Dr Tom Jones", confirmed=True)
    refusals = _refusals(store)
    assert [r["action"] for r in refusals] == ["sign", "sign", "certificate-register"]
    assert refusals[0]["certificate_owner"] == "drjones"
    stored = store.create(jones, screening, signed_pdf=pdf)
    assert stored.signed_by == "drjones" and stored.signer_name == "Dr Tom Jones"
    # and Dr Jones cannot sign with Dr Smith's
    other = screening_of({"patient.id": "MRN-7", "patient.name": "Pat Seven"})
    with pytest.raises(CertificateOwnedByAnotherError) as caught:
        store.create(jones, other, signed_pdf=signed_pdf(other, signing_request))
    assert caught.value.owner == "drsmith"


def test_amend_also_needs_the_signers_certificate(
        store: RecordStore, clinic: People, sign: Sign, jones_key: SigningRequest) -> None:
    """An amendment signed with a certificate of another account is refused (audited)."""
    _jones(store, clinic, jones_key)
    first = screening_of()
    original = store.create(clinic.physician, first, signed_pdf=sign(first))
    second = screening_of({"measurements.weight": "190 lb"})
    with pytest.raises(CertificateOwnedByAnotherError):
        store.amend(clinic.physician, original.record_id, second,
                    signed_pdf=signed_pdf(second, jones_key), reason="weight re-measured")
    assert _refusals(store)[-1]["action"] == "amend"
    assert store.get(clinic.physician, original.record_id).is_current


def test_who_may_register_a_certificate(store: RecordStore, clinic: People,
                                        jones_key: SigningRequest) -> None:
    """The physician or nurse themself (with a certificate naming them) or an admin; not for
    another account, not an admin's account; confirmation is required; registering again is
    harmless."""
    facts = read_certificate(jones_key.pkcs12, passphrase=KEY_PASSPHRASE)
    _jones(store, clinic)
    with pytest.raises(ValueError, match="confirms"):
        store.register_certificate(clinic.admin, facts.sha256, facts.subject_name,
                                   confirmed=False, username="drjones")
    with pytest.raises(CertificateNameMismatchError):  # Dr Tom Jones's, not the nurse's
        store.register_certificate(clinic.nurse, facts.sha256, facts.subject_name,
                                   confirmed=True)
    with pytest.raises(PermissionDeniedError):
        store.register_certificate(clinic.physician, facts.sha256, facts.subject_name,
                                   confirmed=True, username="drjones")
    with pytest.raises(PermissionDeniedError):
        store.register_certificate(clinic.nurse, facts.sha256, facts.subject_name,
                                   confirmed=True, username="drjones")
    with pytest.raises(UserAccountError):
        store.register_certificate(clinic.admin, facts.sha256, facts.subject_name,
                                   confirmed=True, username="admin")
    info = store.register_certificate(clinic.admin, facts.sha256.upper(), facts.subject_name,
                                      confirmed=True, username="drjones")
    assert (info.username, info.registered_by, info.fingerprint) == ("drjones", "admin",
                                                                     facts.sha256)
    again = store.register_certificate(clinic.admin, facts.sha256, facts.subject_name,
                                       confirmed=True, username="drjones")
    assert again == info
    assert len(_refusals(store)) == 3  # the name and the two permission refusals


def test_same_day_second_signing_is_refused_with_the_way_to_amend(
        store: RecordStore, clinic: People, sign: Sign) -> None:
    """A second checklist for one patient on one local day: refused, naming the record, its
    signer, the time and how to amend; the amendment goes through; the next day is free."""
    first = screening_of()
    original = store.create(clinic.physician, first, signed_pdf=sign(first))
    store.clock.now = MORNING + timedelta(hours=3)  # type: ignore[attr-defined]
    second = screening_of({"measurements.weight": "190 lb"})
    with pytest.raises(SameDaySigningError) as caught:
        store.create(clinic.physician, second, signed_pdf=sign(second))
    error = caught.value
    assert error.record_id == original.record_id and error.patient_id == "MRN-0042"
    assert error.signer_name == "Dr Jane Smith" and error.signed_at == MORNING
    message = str(error)
    assert original.record_id in message and "Dr Jane Smith" in message
    assert "2026-11-25 08:00+00:00" in message
    assert f"--amends {original.record_id} --reason" in message and "Amend" in message
    assert _refusals(store)[-1]["action"] == "sign"
    # a draft of the second screening cannot be signed today either
    draft = store.create(clinic.physician, second)
    with pytest.raises(SameDaySigningError):
        store.sign(clinic.physician, draft.record_id, sign(second))
    found = store.signed_today_for_patient(clinic.nurse, "MRN-0042")
    assert found is not None and found.record_id == original.record_id
    assert store.signed_today_for_patient(clinic.nurse, "MRN-0042",
                                          MORNING.date() + timedelta(days=1)) is None
    # another patient the same day is fine
    other = screening_of({"patient.id": "MRN-7", "patient.name": "Pat Seven"})
    store.create(clinic.physician, other, signed_pdf=sign(other))
    # the next day is fine
    store.clock.now = MORNING + timedelta(days=1)  # type: ignore[attr-defined]
    store.sign(clinic.physician, draft.record_id, sign(second))


def test_same_day_is_the_clinics_local_day(store: RecordStore, clinic: People,
                                           sign: Sign) -> None:
    """23:30 and 00:30 local time are two days even when they are one UTC day."""
    from zoneinfo import ZoneInfo

    store.zone = ZoneInfo("America/New_York")
    store.clock.now = datetime(2026, 11, 26, 4, 30, tzinfo=UTC)  # type: ignore[attr-defined]
    first = screening_of()
    store.create(clinic.physician, first, signed_pdf=sign(first))  # 23:30 on the 25th, NY
    store.clock.now = datetime(2026, 11, 26, 5, 30, tzinfo=UTC)  # type: ignore[attr-defined]
    second = screening_of({"measurements.weight": "190 lb"})
    stored = store.create(clinic.physician, second, signed_pdf=sign(second))  # 00:30, 26th
    assert stored.is_signed
    third = screening_of({"measurements.weight": "191 lb"})
    with pytest.raises(SameDaySigningError) as caught:
        store.create(clinic.physician, third, signed_pdf=sign(third))
    assert caught.value.record_id == stored.record_id
    assert "2026-11-26 00:30-05:00" in str(caught.value)


def test_amendment_is_linked_and_the_worklist_shows_only_the_newest(
        store: RecordStore, clinic: People, sign: Sign) -> None:
    """Amend: a new signed record linked to the old; the worklist and the current list show the
    newest only, marked as amending the old; the reason is mandatory."""
    first = screening_of()
    original = store.create(clinic.physician, first, signed_pdf=sign(first))
    store.clock.now = MORNING + timedelta(minutes=30)  # type: ignore[attr-defined]
    second = screening_of({"measurements.weight": "190 lb"})
    with pytest.raises(AmendmentReasonMissingError) as caught:
        store.amend(clinic.physician, original.record_id, second, signed_pdf=sign(second),
                    reason="  \n ")
    assert caught.value.record_id == original.record_id
    amendment = store.amend(clinic.physician, original.record_id, second,
                            signed_pdf=sign(second), reason="weight re-measured")
    assert amendment.status == "amended" and amendment.amends == original.record_id
    assert amendment.amendment_reason == "weight re-measured"
    assert amendment.signer_certificate_sha256 == original.signer_certificate_sha256
    assert amendment.signature_line(UTC) == (
        f"Signed by Dr Jane Smith at 2026-11-25 08:30 +00:00 ({amendment.record_id})")
    assert store.get(clinic.physician, original.record_id).superseded_by == amendment.record_id
    items = todays_checklists(store, clinic.nurse, zone=UTC)
    assert [(i.record_id, i.amends) for i in items] == [(amendment.record_id,
                                                         original.record_id)]
    assert items[0].signed_by == "Dr Jane Smith" and items[0].signed_by_account == "drsmith"
    current = store.list_records(clinic.nurse, current_only=True)
    assert [(r.record_id, r.amends) for r in current] == [(amendment.record_id,
                                                           original.record_id)]
    assert len(store.list_records(clinic.nurse)) == 2
    found = store.signed_today_for_patient(clinic.physician, "MRN-0042")
    assert found is not None and found.record_id == amendment.record_id


def test_worklist_shows_the_certificates_name(store: RecordStore, clinic: People,
                                              other_key: SigningRequest,
                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    """The worklist row names the certificate (what the page prints), not the account."""
    key = _key(tmp_path_factory, "Jane Smith MD (Ketamine Clinic)")
    register(store, clinic.physician, key)
    screening = screening_of()
    pdf = signed_pdf(screening, key)
    stored = store.create(clinic.physician, screening, signed_pdf=pdf)
    assert stored.signer_name == "Jane Smith MD (Ketamine Clinic)"
    from pypdf import PdfReader  # the page prints the same name

    text = " ".join(" ".join((page.extract_text() or "").split())
                    for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Jane Smith MD (Ketamine Clinic)" in text and "Dr Jane Smith" not in text
    item = todays_checklists(store, clinic.nurse, zone=UTC)[0]
    assert item.signed_by == "Jane Smith MD (Ketamine Clinic)"
    assert item.signed_by_account == "drsmith"


def test_certificate_path_is_remembered_per_account(store: RecordStore, clinic: People,
                                                    tmp_path: Path) -> None:
    """Each account has its own last key path; a new one replaces the old."""
    jones = _jones(store, clinic)
    assert store.last_certificate_path(clinic.physician) is None
    store.remember_certificate_path(clinic.physician, tmp_path / "smith.p12")
    store.remember_certificate_path(jones, tmp_path / "jones.p12")
    store.remember_certificate_path(clinic.physician, tmp_path / "smith-2027.p12")
    assert store.last_certificate_path(clinic.physician) == str(tmp_path / "smith-2027.p12")
    assert store.last_certificate_path(jones) == str(tmp_path / "jones.p12")
    reopened = RecordStore(store.database)
    assert reopened.last_certificate_path(clinic.physician) == str(tmp_path / "smith-2027.p12")


def test_registrations_cannot_be_changed_in_the_database(store: RecordStore, clinic: People,
                                                         database_url: str) -> None:
    """The database refuses UPDATE and DELETE of a registration (triggers)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from tests.records.rawsql import raw

    for statement in ("UPDATE signing_certificates SET user_id = 1",
                      "DELETE FROM signing_certificates"):
        with (pytest.raises(DBAPIError, match="never changed or deleted"),
              raw(database_url) as connection):
            connection.execute(text(statement))
    assert len(store.certificates(clinic.physician)) == 1


def test_migration_upgrades_a_database_of_the_previous_schema(empty_database_url: str,
                                                               sign: Sign) -> None:
    """A database written at revision 0001 (an account, a signed record) is upgraded to 0002
    when opened: the record reads back with no certificate, stays unchangeable, and its
    physician can then register a certificate and sign. (On PostgreSQL as the owner of the
    tables: the migration needs it.)"""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from ketascreen.records import db
    from ketascreen.records.content import content_of
    from ketascreen.records.users import hash_password
    from tests.records.rawsql import raw

    old = db.Database(empty_database_url, migrate=False)
    try:
        with old.writer.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(db.MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
    finally:
        old.dispose()
    first = screening_of()
    content = content_of(first)
    pdf = sign(first)
    now = datetime(2026, 11, 20, 9, 0)
    with raw(empty_database_url) as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")
                                  ).scalar() == "0001"
        connection.execute(text(
            "INSERT INTO users (username, display_name, role, password_hash, active, "
            "created_at) VALUES ('drsmith', 'Dr Jane Smith', 'physician', :hash, true, :now)"),
            {"hash": hash_password("physician-password-1"), "now": now})
        connection.execute(text(
            "INSERT INTO patients (external_id, name, birth_date, created_at) "
            "VALUES (:pid, :name, :born, :now)"),
            {"pid": content.patient_id, "name": content.patient_name,
             "born": content.birth_date, "now": now})
        v = content.versions
        connection.execute(text(
            "INSERT INTO screenings (record_id, patient_id, status, decision, "
            "screening_date, case_json, result_json, content_sha256, ruleset_version, "
            "ruleset_sha256, policy_version, policy_sha256, formulary_version, "
            "formulary_sha256, created_at, created_by, updated_at, signed_at, signed_by, "
            "signer_name) VALUES (:rid, (SELECT id FROM patients), 'signed', :decision, :day, "
            ":case, :result, :sha, :rv, :rs, :pv, :ps, :fv, :fs, :now, (SELECT id FROM users), "
            ":now, :now, (SELECT id FROM users), 'Dr Jane Smith')"),
            {"rid": content.record_id, "decision": content.decision,
             "day": content.screening_date, "case": content.case_json,
             "result": content.result_json, "sha": content.content_sha256,
             "rv": v.ruleset_version, "rs": v.ruleset_sha256, "pv": v.policy_version,
             "ps": v.policy_sha256, "fv": v.formulary_version, "fs": v.formulary_sha256,
             "now": now})
        connection.execute(text(
            "INSERT INTO signed_documents (screening_id, pdf, sha256, size, created_at) "
            "VALUES ((SELECT id FROM screenings), :pdf, :sha, :size, :now)"),
            {"pdf": pdf, "sha": hashlib.sha256(pdf).hexdigest(), "size": len(pdf), "now": now})
    with RecordStore.open(empty_database_url) as store:
        assert store.database.revision() == SCHEMA_REVISION
        migrated = store.verify_audit()  # 0003 recorded the rows it found: none is named
        assert migrated.rows_checked == 4 and migrated.row_problems == ()
        physician = store.authenticate("drsmith", "physician-password-1")
        stored = store.get(physician, content.record_id)
        assert stored.is_signed and stored.signer_name == "Dr Jane Smith"
        assert stored.signer_certificate_sha256 is None
        assert store.certificates(physician) == []
        assert store.last_certificate_path(physician) is None
        with (pytest.raises(DBAPIError, match="never changed"),
              raw(empty_database_url) as connection):
            connection.execute(text("UPDATE screenings SET decision = 'clear'"))
        other = screening_of({"patient.id": "MRN-7", "patient.name": "Pat Seven"})
        signed = store.create(physician, other, signed_pdf=sign(other),
                              register_certificate=True)
        assert signed.signer_certificate_sha256 == store.certificates(physician)[0].fingerprint


def test_changed_signing_certificate_is_named_by_audit_verify(
        store: RecordStore, clinic: People, sign: Sign, database_url: str) -> None:
    """A signed record's certificate fingerprint edited in the database (protection dropped) no
    longer matches the one its sign event recorded."""
    from sqlalchemy import text

    from tests.records.rawsql import drop_protection, raw

    first = screening_of()
    stored = store.create(clinic.physician, first, signed_pdf=sign(first))
    assert store.verify_audit().ok
    with raw(database_url) as connection:
        drop_protection(connection)
        connection.execute(text("UPDATE screenings SET signer_certificate_sha256 = :f "
                                "WHERE record_id = :id"), {"f": "f" * 64, "id": stored.record_id})
    report = store.verify_audit()
    assert report.record_problems == (
        (stored.record_id, "its signing certificate changed after it was signed"),)
    assert store.get(clinic.physician, stored.record_id).signer_certificate_sha256 == "f" * 64


def test_a_physician_cannot_register_a_certificate_that_names_somebody_else(
        store: RecordStore, clinic: People, other_key: SigningRequest) -> None:
    """Dr Jones with a key store that says "Dr Jane Smith" (registered to nobody): he can
    neither register it himself nor register it by signing with it, since the page would print
    her name over his signature; each refusal is audited. An admin who has checked who holds
    the key may register it."""
    from ketascreen.errors import CertificateNameMismatchError

    jones = _jones(store, clinic)
    facts = load_signer(other_key.pkcs12, KEY_PASSPHRASE)
    with pytest.raises(CertificateNameMismatchError) as refused:
        store.register_certificate(jones, facts.certificate_sha256, facts.name, confirmed=True)
    assert not refused.value.registrable
    assert refused.value.display_name == "Dr Tom Jones"
    assert "does not name drjones's account holder ('Dr Tom Jones')" in str(refused.value)
    screening = screening_of()
    with pytest.raises(CertificateNameMismatchError):
        store.create(jones, screening, signed_pdf=signed_pdf(screening, other_key),
                     register_certificate=True)
    assert store.certificate_status(jones, facts.certificate_sha256) == "unregistered"
    assert [(r["action"], r["user"], r["reason"]) for r in _refusals(store)] == [
        ("certificate-register", "drjones", "the certificate does not name the account holder"),
        ("sign", "drjones", "the certificate does not name the account holder")]
    store.register_certificate(clinic.admin, facts.certificate_sha256, facts.name,
                               confirmed=True, username="drjones")
    assert store.certificate_status(jones, facts.certificate_sha256) == "registered"


@pytest.mark.parametrize(("certificate", "account", "names"), [
    ("Dr Jane Smith", "Dr Jane Smith", True),
    ("Jane Smith MD (Ketamine Clinic)", "Dr Jane Smith", True),
    ("JANE  SMITH, M.D.", "Dr. Jane Smith", True),
    ("Dr Jane Smith", "Dr Tom Jones", False),
    ("Dr Jane", "Dr Jane Smith", False),
    ("Dr", "Dr", False),
])
def test_whether_a_certificate_names_its_holder(certificate: str, account: str,
                                                names: bool) -> None:
    """Every word of the account's name, titles and credentials aside, must be in it."""
    from ketascreen.records.certificates import certificate_names_holder

    assert certificate_names_holder(certificate, account) is names
