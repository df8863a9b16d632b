"""Shared set-up of the signed-checklist tests: a clinic records database, keys, CLEAR case
files, and signing through the real Sign dialog with keystrokes and clicks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from pytestqt.qtbot import QtBot

from ketascreen.records import users
from ketascreen.records.repository import RecordStore
from ketascreen.reports.keys import generate_self_signed
from ketascreen.reports.output import SigningRequest
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.qt_sign_dialog import QtSignDialog
from ketascreen.ui.settings import AppSettings
from tests.helpers.cases import example_case, patched
from tests.records.conftest import People, add_people
from tests.records.support import ACKNOWLEDGED, KEY_PASSPHRASE, PASSWORDS, screening_of, signed_pdf
from tests.ui.helpers import FakeDialogs, activate, type_into

PASSPHRASE = KEY_PASSPHRASE.decode("utf-8")


@dataclass(frozen=True)
class Clinic:
    """A temporary records database with its accounts and one checklist signed today (Alex
    Rivera, MRN-0042, signed by Dr Jane Smith with her registered key)."""

    url: str
    store: RecordStore
    people: People
    record_id: str
    key: Path


def make_key(folder: Path, name: str, file: str, *, credentials: str = "MD") -> Path:
    """A self-signed PKCS#12 key store for ``name`` (passphrase :data:`PASSPHRASE`)."""
    pair = generate_self_signed(name, KEY_PASSPHRASE, credentials=credentials)
    path = folder / file
    path.write_bytes(pair.pkcs12)
    return path


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clinic]:
    """The clinic of :class:`Clinic`, named by KETASCREEN_DATABASE_URL."""
    monkeypatch.setattr(users, "_HASHER", PasswordHasher.from_parameters(CHEAPEST))
    url = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    monkeypatch.setenv("KETASCREEN_DATABASE_URL", url)
    key = make_key(tmp_path, "Dr Jane Smith", "drsmith.p12")
    request = SigningRequest(key.read_bytes(), KEY_PASSPHRASE, str(key))
    store = RecordStore.open(url)
    people = add_people(store, request)
    screening = screening_of()
    stored = store.create(people.physician, screening, signed_pdf=signed_pdf(screening, request))
    try:
        yield Clinic(url, store, people, stored.record_id, key)
    finally:
        store.close()


def signed_in(qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
              username: str, password: str | None = None) -> MainWindow:
    """A shown main window signed in to the clinic's database as ``username``."""
    dialogs.credentials.append((username, password or PASSWORDS[username]))
    window = MainWindow(settings, drafts=None, dialogs=dialogs,  # type: ignore[arg-type]
                        records=clinic.url)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.actor is not None and window.actor.username == username
    return window


def clear_case_file(folder: Path, changes: dict[str, Any] | None = None,
                    name: str = "case.json") -> Path:
    """The spec's example with its benzodiazepine acknowledged (CLEAR), plus ``changes``."""
    path = folder / name
    data = patched(patched(example_case(), ACKNOWLEDGED), changes or {})
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def open_sign_dialog(qtbot: QtBot, window: MainWindow, key: Path) -> QtSignDialog:
    """File > Sign, then type the key store and its passphrase and open it (Enter)."""
    window.sign_dialog = None
    window.actions_by_name["sign"].trigger()
    dialog = window.sign_dialog
    assert dialog is not None, "no Sign dialog opened"
    qtbot.addWidget(dialog)
    dialog.certificate.clear()
    type_into(qtbot, dialog.certificate, str(key))
    type_into(qtbot, dialog.passphrase, PASSPHRASE)
    qtbot.keyClick(dialog.passphrase, "\r")
    return dialog


def finish_signing(qtbot: QtBot, dialog: QtSignDialog, out: Path) -> None:
    """Type the output file, attest and press Sign; waits for the signed checklist."""
    dialog.output.clear()
    type_into(qtbot, dialog.output, str(out))
    if not dialog.attest.isChecked():
        activate(qtbot, dialog.attest)
    assert dialog.sign_button.isEnabled(), dialog.certificate_note.text()
    with qtbot.waitSignal(dialog.accepted, timeout=30000):
        activate(qtbot, dialog.sign_button)
