"""Users and roles: who may do what, logins, and every refusal in the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from ketascreen.errors import (
    AuthenticationFailedError,
    PermissionDeniedError,
    UserAccountError,
)
from ketascreen.records import users
from ketascreen.records.audit import AuditEvent
from ketascreen.records.models import AuditEventRow
from ketascreen.records.repository import RecordStore
from ketascreen.records.settings import install_clinic_file
from ketascreen.records.users import ROLE_PERMISSIONS, Permission, Role
from ketascreen.records.worklist import record_double_check, todays_checklists
from ketascreen.screening import Screening
from tests.records.conftest import People
from tests.records.support import PASSWORDS, screening_of

Sign = Callable[[Screening], bytes]
SHIPPED_POLICY = Path(__file__).resolve().parents[2] / "ketascreen/knowledge/data/policy.toml"


def _events(store: RecordStore) -> list[AuditEvent]:
    with store.database.read() as session:
        rows = session.execute(select(AuditEventRow).order_by(AuditEventRow.seq)).scalars()
        return [AuditEvent.from_row(row) for row in rows]


def _refusals(store: RecordStore) -> list[tuple[str, str, str | None]]:
    return [(e.username, e.action, e.record_id) for e in _events(store)
            if e.outcome == "refused"]


def test_permission_matrix() -> None:
    """The roles of the issue: physician screens/acknowledges/signs; nurse views, prints and
    double-checks; admin manages users, policy and formulary and sees no records."""
    physician, nurse, admin = (ROLE_PERMISSIONS[r] for r in Role)
    assert {Permission.SCREEN, Permission.ACKNOWLEDGE, Permission.SIGN} <= physician
    assert {Permission.VIEW_SIGNED, Permission.PRINT, Permission.DOUBLE_CHECK} <= nurse
    assert nurse.isdisjoint({Permission.SIGN, Permission.ACKNOWLEDGE, Permission.SCREEN,
                             Permission.AMEND, Permission.VIEW_RECORDS})
    assert admin == {Permission.MANAGE_USERS, Permission.EDIT_POLICY, Permission.EDIT_FORMULARY}
    assert physician.isdisjoint(admin)


def test_nurse_cannot_sign(store: RecordStore, people: People, sign: Sign) -> None:
    """A nurse may not sign a draft nor store a signed screening; each refusal is an event."""
    screening = screening_of()
    draft = store.create(people.physician, screening)
    with pytest.raises(PermissionDeniedError) as caught:
        store.sign(people.nurse, draft.record_id, sign(screening))
    assert (caught.value.user, caught.value.role, caught.value.action) == (
        "rnpatel", "nurse", "sign")
    assert store.get(people.physician, draft.record_id).status == "draft"
    with pytest.raises(PermissionDeniedError, match="may not screen"):
        store.create(people.nurse, screening_of({"measurements.weight": "80 kg"}),
                     signed_pdf=b"")
    assert _refusals(store) == [("rnpatel", "sign", draft.record_id),
                                ("rnpatel", "screen", _refusals(store)[1][2])]


def test_nurse_cannot_acknowledge(store: RecordStore, people: People) -> None:
    """A nurse may not acknowledge a finding; the refusal is an event."""
    screening = screening_of()
    draft = store.create(people.physician, screening)
    concept = next(f.concept for f in screening.result.findings if f.severity == "relative")
    with pytest.raises(PermissionDeniedError, match="may not acknowledge"):
        store.acknowledge(people.nurse, draft.record_id, concept=concept, reason="fine")
    assert _refusals(store) == [("rnpatel", "acknowledge", draft.record_id)]
    refusal = next(e for e in _events(store) if e.outcome == "refused")
    assert refusal.role == "nurse"
    assert refusal.detail == {"reason": "the nurse role may not acknowledge"}


def test_physician_cannot_edit_policy_or_formulary(store: RecordStore, people: People) -> None:
    """Only an admin installs a clinic policy or formulary; refusals are events."""
    content = SHIPPED_POLICY.read_bytes()
    with pytest.raises(PermissionDeniedError, match="may not edit-policy"):
        install_clinic_file(store, people.physician, "policy", content)
    with pytest.raises(PermissionDeniedError, match="may not edit-formulary"):
        install_clinic_file(store, people.physician, "formulary", b"")
    with pytest.raises(PermissionDeniedError, match="may not manage-users"):
        store.add_user(people.physician, username="x1", display_name="X", role="admin",
                       password="long-enough-1")
    assert [(u, a) for u, a, _ in _refusals(store)] == [
        ("drsmith", "edit-policy"), ("drsmith", "edit-formulary"), ("drsmith", "manage-users")]
    installed = install_clinic_file(store, people.admin, "policy", content)
    assert installed.version == "2026.11.0-default" and installed.installed_by == "admin"
    assert _events(store)[-1].action == "policy-install"


def test_admin_sees_no_patient_records(store: RecordStore, people: People, sign: Sign) -> None:
    """An admin may not open records or the worklist (refused and recorded)."""
    screening = screening_of()
    stored = store.create(people.physician, screening, signed_pdf=sign(screening))
    with pytest.raises(PermissionDeniedError):
        store.get(people.admin, stored.record_id)
    with pytest.raises(PermissionDeniedError):
        todays_checklists(store, people.admin)
    with pytest.raises(PermissionDeniedError):
        record_double_check(store, people.physician, stored.record_id)
    assert [(u, a) for u, a, _ in _refusals(store)] == [
        ("admin", "view-signed"), ("admin", "view-signed"), ("drsmith", "double-check")]


def test_nurse_cannot_open_a_draft(store: RecordStore, people: People) -> None:
    """Drafts are the physician's; a nurse asking for one is refused (and recorded)."""
    draft = store.create(people.physician, screening_of())
    with pytest.raises(PermissionDeniedError, match="view-records"):
        store.get(people.nurse, draft.record_id)
    assert _refusals(store) == [("rnpatel", "view-records", draft.record_id)]


def test_login_events(store: RecordStore, people: People) -> None:
    """A login is an event; a wrong password or unknown user is a refused login event."""
    before = len(_events(store))
    store.authenticate("drsmith", PASSWORDS["drsmith"])
    with pytest.raises(AuthenticationFailedError, match="unknown user or wrong password"):
        store.authenticate("drsmith", "wrong password!")
    with pytest.raises(AuthenticationFailedError):
        store.authenticate("nobody", "whatever-password")
    events = _events(store)[before:]
    assert [(e.username, e.action, e.outcome) for e in events] == [
        ("drsmith", "login", "ok"), ("drsmith", "login", "refused"),
        ("nobody", "login", "refused")]


def test_deactivated_account_cannot_log_in(store: RecordStore, people: People) -> None:
    """An admin deactivates an account; its login is refused (the account is kept)."""
    users.set_active(store, people.admin, "rnlee", active=False)
    with pytest.raises(AuthenticationFailedError):
        store.authenticate("rnlee", PASSWORDS["rnlee"])
    assert _events(store)[-1].detail == {"reason": "inactive account", "failures": 1}
    listed = {u.username: u.active for u in users.list_users(store, people.admin)}
    assert listed["rnlee"] is False
    with pytest.raises(UserAccountError, match="own account"):
        users.set_active(store, people.admin, "admin", active=False)


def test_passwords_are_argon2_hashed(store: RecordStore, people: People) -> None:
    """No password is stored, only its Argon2id hash."""
    from ketascreen.records.models import User

    with store.database.read() as session:
        hashes = session.execute(select(User.password_hash)).scalars().all()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not any(p in h for h in hashes for p in PASSWORDS.values())


def test_first_account_must_be_an_admin(store: RecordStore) -> None:
    """The first account needs no login but must be an admin; later ones need an admin."""
    with pytest.raises(UserAccountError, match="first account must be an admin"):
        store.add_user(None, username="drsmith", display_name="Dr S", role="physician",
                       password="long-enough-1")
    store.add_user(None, username="admin", display_name="A", role="admin",
                   password="long-enough-1")
    with pytest.raises(UserAccountError, match="log in as an admin"):
        store.add_user(None, username="other", display_name="O", role="admin",
                       password="long-enough-1")


@pytest.mark.parametrize(("username", "role", "password", "field"), [
    ("Bad Name", "nurse", "long-enough-1", "username"),
    ("ok", "surgeon", "long-enough-1", "role"),
    ("ok", "nurse", "short", "password"),
])
def test_account_fields_are_checked(username: str, role: str, password: str,
                                    field: str) -> None:
    """User name, role and password length are checked before anything is stored."""
    with pytest.raises(UserAccountError) as caught:
        users.check_new_account(username, "Name", role, password)
    assert caught.value.field == field


def test_duplicate_user_name(store: RecordStore, people: People) -> None:
    """A user name is taken once."""
    with pytest.raises(UserAccountError, match="already taken"):
        store.add_user(people.admin, username="drsmith", display_name="Other", role="nurse",
                       password="long-enough-1")
