"""A signature is bound to its signer: with a records database the Sign dialog signs only
with a certificate registered to the signed-in physician, registers an unregistered one only
after an explicit confirmation, refuses (and records) another account's, and remembers the
certificate path per account."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketascreen.records.audit import AuditEvent
from ketascreen.records.models import AuditEventRow
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.settings import AppSettings
from tests.ui.helpers import FakeDialogs, activate
from tests.ui.signing_support import (
    Clinic,
    clear_case_file,
    clinic,
    finish_signing,
    make_key,
    open_sign_dialog,
    signed_in,
)

__all__ = ["clinic"]  # the fixture, imported for pytest

JONES_PASSWORD = "physician-password-2"
OTHER_PATIENT = {"patient.id": "MRN-0099", "patient.name": "Sam Other"}


def add_dr_jones(clinic: Clinic) -> None:
    """A second physician, with no certificate registered."""
    clinic.store.add_user(clinic.people.admin, username="drjones", display_name="Dr Lee Jones",
                          role="physician", password=JONES_PASSWORD)


def refusals(clinic: Clinic) -> list[tuple[str, str, dict[str, object]]]:
    """(user, action, detail) of every refused event in the audit trail."""
    with clinic.store.database.read() as session:
        rows = session.execute(select(AuditEventRow).where(
            AuditEventRow.outcome == "refused")).scalars().all()
        events = [AuditEvent.from_row(row) for row in rows]
    return [(event.username, event.action, dict(event.detail)) for event in events]


def test_another_accounts_certificate_is_refused_and_audited(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    """Dr Jones opens Dr Smith's key store: the dialog says whose it is, Sign stays disabled
    even after the attestation, and the refusal is in the audit trail."""
    add_dr_jones(clinic)
    window = signed_in(qtbot, settings, dialogs, clinic, "drjones", JONES_PASSWORD)
    window.open_path(clear_case_file(tmp_path, OTHER_PATIENT))
    assert window.current_outcome().decision == "clear"
    dialog = open_sign_dialog(qtbot, window, clinic.key)
    note = dialog.certificate_note.text()
    assert "registered to another account (drsmith)" in note and "refused" in note
    assert not dialog.register.isVisible()
    activate(qtbot, dialog.attest)
    assert not dialog.sign_button.isEnabled()
    refused = [(user, action, detail.get("certificate_owner"))
               for user, action, detail in refusals(clinic)]
    assert ("drjones", "sign", "drsmith") in refused
    assert window.signed_view is None and dialog.signed is None


def test_unregistered_certificate_is_registered_only_after_confirmation(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    """Dr Jones's own new key store: the dialog asks "Register certificate 'Dr Lee Jones'
    (SHA-256 ...) to account drjones"; Sign waits for the tick; signing registers it (audited)
    and stores the record under the certificate's name."""
    add_dr_jones(clinic)
    key = make_key(tmp_path, "Dr Lee Jones", "drjones.p12")
    window = signed_in(qtbot, settings, dialogs, clinic, "drjones", JONES_PASSWORD)
    window.open_path(clear_case_file(tmp_path, OTHER_PATIENT))
    dialog = open_sign_dialog(qtbot, window, key)
    assert dialog.register.isVisible()
    assert dialog.register.text().startswith(
        "Register certificate 'Dr Lee Jones' (SHA-256 ")
    assert "to account drjones" in dialog.register.text()
    assert dialog.identity is not None
    fingerprint = dialog.identity.certificate_sha256
    short = fingerprint[:4].upper()
    assert f"(SHA-256 {short[:2]}:{short[2:]}:" in dialog.register.text()
    activate(qtbot, dialog.attest)
    assert not dialog.sign_button.isEnabled()  # not without the confirmation
    activate(qtbot, dialog.register)
    finish_signing(qtbot, dialog, tmp_path / "jones.pdf")
    assert dialogs.errors == []
    jones = clinic.store.authenticate("drjones", JONES_PASSWORD)
    assert [c.fingerprint for c in clinic.store.certificates(jones)] == [fingerprint]
    view = window.signed_view
    assert view is not None and view.stored
    stored = clinic.store.get(jones, view.record_id)
    assert stored.signer_name == "Dr Lee Jones"
    assert view.line.startswith("Signed by Dr Lee Jones at ")
    with clinic.store.database.read() as session:
        actions = session.execute(select(AuditEventRow.username, AuditEventRow.action)).all()
    assert ("drjones", "certificate-register") in [tuple(a) for a in actions]


def test_a_certificate_naming_somebody_else_is_not_offered_for_registration(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    """Dr Jones opens a new key store that says "Dr Ann Other": the page would print her name
    over his signature, so the dialog offers no registration, Sign stays disabled, and the
    refusal is in the audit trail."""
    add_dr_jones(clinic)
    key = make_key(tmp_path, "Dr Ann Other", "other.p12")
    window = signed_in(qtbot, settings, dialogs, clinic, "drjones", JONES_PASSWORD)
    window.open_path(clear_case_file(tmp_path, OTHER_PATIENT))
    dialog = open_sign_dialog(qtbot, window, key)
    note = dialog.certificate_note.text()
    assert "does not name you (Dr Lee Jones)" in note and "administrator" in note
    assert not dialog.register.isVisible()
    activate(qtbot, dialog.attest)
    assert not dialog.sign_button.isEnabled()
    assert ("drjones", "sign", "the certificate does not name the account holder") in [
        (user, action, detail.get("reason")) for user, action, detail in refusals(clinic)]


def test_the_certificate_path_is_remembered_per_account(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    """Dr Smith's key store path is suggested to Dr Smith next time, never to Dr Jones."""
    add_dr_jones(clinic)
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    window.open_path(clear_case_file(tmp_path, OTHER_PATIENT))
    dialog = open_sign_dialog(qtbot, window, clinic.key)
    assert "registered to your account (drsmith)" in dialog.certificate_note.text()
    assert not dialog.register.isVisible()
    dialog.reject()
    assert clinic.store.last_certificate_path(clinic.people.physician) == str(clinic.key)
    window.sign_dialog = None
    window.actions_by_name["sign"].trigger()
    assert window.sign_dialog is not None
    assert window.sign_dialog.certificate.text() == str(clinic.key)
    window.sign_dialog.reject()
    window.close_records()
    jones = jones_window(qtbot, settings, dialogs, clinic)
    jones.open_path(clear_case_file(tmp_path, OTHER_PATIENT, name="jones.json"))
    jones.actions_by_name["sign"].trigger()
    assert jones.sign_dialog is not None and jones.sign_dialog.certificate.text() == ""


def jones_window(qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs,
                 clinic: Clinic) -> MainWindow:
    """A second window signed in as Dr Jones."""
    return signed_in(qtbot, settings, dialogs, clinic, "drjones", JONES_PASSWORD)
