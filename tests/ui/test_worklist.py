"""The nurse worklist in the desktop app: who is using it, today's signed checklists, preview,
print, bedside double check, and refusals shown from the errors' fields."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketascreen.records import users
from ketascreen.records.models import AuditEventRow
from ketascreen.records.repository import RecordStore
from ketascreen.reports.keys import generate_self_signed
from ketascreen.reports.output import SigningRequest
from ketascreen.ui import records_actions
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.qt_sign_in import QtSignInDialog
from ketascreen.ui.records_actions import Actor
from ketascreen.ui.screenings import ScreeningEntry
from ketascreen.ui.settings import AppSettings
from tests.records.conftest import People, add_people
from tests.records.support import KEY_PASSPHRASE, PASSWORDS, screening_of, signed_pdf
from tests.ui.helpers import FakeDialogs, type_into


@dataclass(frozen=True)
class Clinic:
    """A temporary records database with its accounts and one checklist signed today."""

    url: str
    store: RecordStore
    people: People
    record_id: str


@pytest.fixture(scope="module")
def signing_request(tmp_path_factory: pytest.TempPathFactory) -> SigningRequest:
    """A self-signed key for Dr Jane Smith."""
    pair = generate_self_signed("Dr Jane Smith", KEY_PASSPHRASE, credentials="MD")
    path = tmp_path_factory.mktemp("worklist-key") / "drsmith.p12"
    path.write_bytes(pair.pkcs12)
    return SigningRequest(pair.pkcs12, KEY_PASSPHRASE, str(path))


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           signing_request: SigningRequest) -> Iterator[Clinic]:
    """A SQLite store under tmp_path (named by KETASCREEN_DATABASE_URL) with a physician, two
    nurses and a CLEAR checklist signed today."""
    monkeypatch.setattr(users, "_HASHER", PasswordHasher.from_parameters(CHEAPEST))
    url = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", url)
    store = RecordStore.open(url)
    people = add_people(store, signing_request)
    screening = screening_of()
    stored = store.create(people.physician, screening,
                          signed_pdf=signed_pdf(screening, signing_request))
    try:
        yield Clinic(url, store, people, stored.record_id)
    finally:
        store.close()


def signed_in(qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
              username: str = "rnpatel") -> MainWindow:
    """A shown main window signed in to the clinic's database as ``username``."""
    dialogs.credentials.append((username, PASSWORDS[username]))
    window = MainWindow(settings, drafts=None, dialogs=dialogs,  # type: ignore[arg-type]
                        records=clinic.url)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def records_listed(window: MainWindow) -> list[ScreeningEntry]:
    """The worklist entries in the left panel."""
    return [e for e in window.screenings.entries() if e.kind == "record"]


def actions_of(clinic: Clinic, record_id: str) -> list[tuple[str, str, str]]:
    """(action, outcome, user) of the record's audit events, via the records API."""
    return [(e.action, e.outcome, e.username)
            for e in clinic.store.events(clinic.people.physician, record_id)]


def test_nurse_signs_in_and_sees_todays_checklist(qtbot: QtBot, settings: AppSettings,
                                                   dialogs: FakeDialogs, clinic: Clinic) -> None:
    """Signed in as a nurse, today's signed checklist is listed under its own heading."""
    window = signed_in(qtbot, settings, dialogs, clinic)
    assert window.actor is not None and window.actor.username == "rnpatel"
    assert "Sam Patel RN" in window.statusBar().currentMessage()
    entries = records_listed(window)
    assert [e.key for e in entries] == [clinic.record_id]
    assert entries[0].label == "Alex Rivera (MRN-0042)"
    assert "CLEAR" in entries[0].detail and "NOT double-checked" in entries[0].detail
    headers = [window.screenings.list.item(i).text()
               for i in range(window.screenings.list.count())]
    assert "Today's signed checklists" in headers


def test_open_preview_and_print_to_pdf_records_a_print(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    """Opening the entry previews its signed PDF; printing it appends a print event."""
    window = signed_in(qtbot, settings, dialogs, clinic)
    window.open_entry(records_listed(window)[0])
    preview = window.preview
    assert preview is not None and preview.page_count() >= 1
    assert window.record is not None and preview.data == window.record.pdf
    assert window.actions_by_name["print-record"].isEnabled()
    out = tmp_path / "printed.pdf"
    assert window.print_record_to_pdf(out) >= 1
    assert out.read_bytes().startswith(b"%PDF")
    assert ("print", "ok", "rnpatel") in actions_of(clinic, clinic.record_id)
    assert "printed 1x" in records_listed(window)[0].detail
    assert dialogs.errors == []


def test_bedside_double_check_opens_the_blinded_dialog(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic) -> None:
    """Records > Independent bedside double check (Ctrl+D) opens the blinded double check of
    the record clicked on the nurse's page; nothing is recorded until she checks."""
    window = signed_in(qtbot, settings, dialogs, clinic)
    assert not window.actions_by_name["double-check"].isEnabled()  # nothing open yet
    assert window.bedside.select(clinic.record_id)
    action = window.actions_by_name["double-check"]
    assert action.isEnabled()
    action.trigger()
    assert len(dialogs.double_checks) == 1
    dialog = dialogs.double_checks[0]
    assert window.bedside_page.blinded and not window.bedside_page.pdf_shown()
    assert dialog.checker.username == "rnpatel"
    assert "double-check" not in [a for a, _, _ in actions_of(clinic, clinic.record_id)]
    dialog.reject()
    assert not window.bedside_page.blinded and window.bedside_page.pdf_shown()


def test_witness_refusal_is_shown_from_the_error(qtbot: QtBot, settings: AppSettings,
                                                 dialogs: FakeDialogs, clinic: Clinic) -> None:
    """The nurse cannot witness her own double check: refused beside the witness, from the
    error's fields; no double check is recorded as done."""
    window = signed_in(qtbot, settings, dialogs, clinic)
    assert window.bedside.select(clinic.record_id)
    dialog = window.double_check()
    assert dialog is not None
    type_into(qtbot, dialog.password, PASSWORDS["rnpatel"])
    type_into(qtbot, dialog.witness, "rnpatel")
    type_into(qtbot, dialog.witness_password, PASSWORDS["rnpatel"])
    type_into(qtbot, dialog.identifiers[0].text, "Alex Rivera")
    type_into(qtbot, dialog.identifiers[1].text, "1979-05-14")
    for key, text in (("vial_concentration", "1"), ("volume_drawn", "42.41"),
                      ("diluent_volume", "0"), ("pump_rate", "63.6"), ("vtbi", "42.4")):
        type_into(qtbot, dialog.fields[key].edit, text)
    assert not dialog.check()
    assert dialog.record is None
    assert dialog.witness_message.isVisible()
    assert dialog.witness_message.text().startswith("\u2716 Refused: ")
    assert ("double-check", "ok", "rnpatel") not in actions_of(clinic, clinic.record_id)
    dialog.reject()


def test_physician_may_not_record_the_double_check(qtbot: QtBot, settings: AppSettings,
                                                   dialogs: FakeDialogs, clinic: Clinic) -> None:
    """The double check action stays disabled for a role without the permission."""
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    window.open_entry(records_listed(window)[0])
    action = window.actions_by_name["double-check"]
    assert not action.isEnabled() and "physician" in action.toolTip()


def test_nurse_attempt_to_sign_is_refused(qtbot: QtBot, settings: AppSettings,
                                          dialogs: FakeDialogs, clinic: Clinic) -> None:
    """File > Sign is not offered to a nurse (hidden, disabled: triggering it does nothing);
    asked for anyway, signing is refused with the role and action named, recorded, no dialog."""
    window = signed_in(qtbot, settings, dialogs, clinic)
    action = window.actions_by_name["sign"]
    assert not action.isVisible() and not action.isEnabled()
    action.trigger()
    assert window.sign_dialog is None and dialogs.errors == []
    window.sign()
    assert window.sign_dialog is None
    assert len(dialogs.errors) == 1
    title, text = dialogs.errors[0]
    assert title == "Sign" and "rnpatel (nurse) is not allowed to sign" in text
    with clinic.store.database.read() as session:
        refused = session.execute(select(AuditEventRow.username, AuditEventRow.action).where(
            AuditEventRow.outcome == "refused")).all()
    assert ("rnpatel", "sign") in [tuple(row) for row in refused]


def signed_in_actor(dialog: QtSignInDialog) -> Actor | None:
    """Who the dialog signed in (read afresh after each click)."""
    return dialog.actor


def test_wrong_password_shows_an_error_and_no_actor(qtbot: QtBot, clinic: Clinic) -> None:
    """The sign-in dialog hides the password, stays open after a refusal and says why."""
    dialog = QtSignInDialog(
        lambda u, p: records_actions.sign_in(store=clinic.store, username=u, password=p),
        "records.sqlite3")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.password.echoMode() == QLineEdit.EchoMode.Password
    type_into(qtbot, dialog.username, "rnpatel")
    type_into(qtbot, dialog.password, "not-the-password")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert signed_in_actor(dialog) is None and dialog.isVisible()
    assert dialog.error.isVisibleTo(dialog)
    assert "unknown user or wrong password" in dialog.error.text()
    assert dialog.password.text() == ""
    type_into(qtbot, dialog.password, PASSWORDS["rnpatel"])
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    actor = signed_in_actor(dialog)
    assert actor is not None and actor.username == "rnpatel"
    assert not dialog.isVisible()


def test_refused_or_cancelled_sign_in_keeps_file_mode(qtbot: QtBot, settings: AppSettings,
                                                      dialogs: FakeDialogs,
                                                      clinic: Clinic) -> None:
    """A wrong password then cancel: no actor, no worklist, the status bar says files only."""
    dialogs.credentials.append(("rnpatel", "wrong-password"))
    window = MainWindow(settings, drafts=None, dialogs=dialogs,  # type: ignore[arg-type]
                        records=clinic.url)
    qtbot.addWidget(window)
    assert dialogs.sign_in_errors == ["unknown user or wrong password"]
    assert window.actor is None and window.store is None
    assert window.worklist not in window.screenings.sources
    assert "case files only" in window.statusBar().currentMessage()


def test_unopenable_database_keeps_file_mode(qtbot: QtBot, settings: AppSettings,
                                             dialogs: FakeDialogs) -> None:
    """A database that cannot be opened: the app starts with files only and says why."""
    window = MainWindow(settings, drafts=None, dialogs=dialogs,  # type: ignore[arg-type]
                        records="mysql://nobody@nowhere/ketascreen")
    qtbot.addWidget(window)
    assert window.actor is None
    message = window.statusBar().currentMessage()
    assert "cannot be opened" in message and "case files only" in message


def test_default_database_only_when_configured_or_present(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ketascreen_home: Path) -> None:
    """`ketascreen gui` opens a store only if one is named or already exists."""
    monkeypatch.delenv("KETASCREEN_DATABASE_URL", raising=False)
    assert records_actions.default_database() is None
    ketascreen_home.mkdir(parents=True, exist_ok=True)
    (ketascreen_home / "ketascreen.sqlite3").touch()
    assert records_actions.default_database() == (
        f"sqlite:///{ketascreen_home / 'ketascreen.sqlite3'}")
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", "postgresql://db/ketascreen")
    assert records_actions.default_database() == "postgresql://db/ketascreen"


def test_checklist_signed_in_the_app_is_stored_for_the_worklist(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        signing_request: SigningRequest, tmp_path: Path) -> None:
    """A physician signed in: the checklist signed for the open case is stored, and listed."""
    import json

    from tests.helpers.cases import example_case, patched

    window = signed_in(qtbot, settings, dialogs, clinic, username="drsmith")
    data = patched(example_case(), {"patient.id": "MRN-0099", "patient.name": "Sam Other",
                                    "acknowledgements": [{"concept": "benzodiazepine",
                                                          "reason": "Evening dose held."}]})
    case_file = tmp_path / "other.json"
    case_file.write_text(json.dumps(data), encoding="utf-8")
    window.open_path(case_file)
    screening = window.current_outcome().screening
    assert screening is not None
    assert screening.result.decision == "clear"
    pdf = tmp_path / "other-signed.pdf"
    pdf.write_bytes(signed_pdf(screening, signing_request))
    stored = window._store_signed(pdf)
    assert stored is not None and stored.record_id.startswith("KS-")
    stored_id = stored.record_id
    assert clinic.store.get(clinic.people.physician, stored_id).is_signed
    assert stored_id in [e.key for e in records_listed(window)]
    assert dialogs.errors == []
