"""The sign-in status stays visible while a user is signed in, and Sign out ends the session."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.settings import AppSettings
from tests.records.support import PASSWORDS
from tests.ui.helpers import FakeDialogs
from tests.ui.test_worklist import Clinic, clinic, signed_in, signing_request

__all__ = ["clinic", "signing_request"]  # the records fixtures, shared with the worklist tests


def test_signed_in_status_stays_visible_and_sign_out_returns_to_files_only(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic) -> None:
    """"Signed in as NAME (role)" survives other status messages; Sign out closes the session."""
    window = signed_in(qtbot, settings, dialogs, clinic)
    session = window.session
    assert session.isVisible()
    assert session.label.text() == "Signed in as Sam Patel RN (nurse)"
    window.statusBar().showMessage("Draft autosaved", 3000)  # a passing message hides nothing
    assert session.isVisible()
    assert window.actions_by_name["sign-out"].isEnabled()
    assert window.worklist in window.screenings.sources
    qtbot.mouseClick(session.sign_out, Qt.MouseButton.LeftButton)
    assert window.store is None and window.actor is None
    assert not session.isVisible()
    assert window.worklist not in window.screenings.sources
    assert not window.actions_by_name["sign-out"].isEnabled()
    assert not window.actions_by_name["refresh-worklist"].isEnabled()
    assert window.statusBar().currentMessage().startswith("Sam Patel RN signed out")
    # The next user signs in from the Records menu.
    dialogs.credentials.append(("drsmith", PASSWORDS["drsmith"]))
    window.actions_by_name["sign-in"].trigger()
    assert session.isVisible()
    assert session.label.text() == "Signed in as Dr Jane Smith (physician)"
    window.actions_by_name["sign-out"].trigger()
    assert window.actor is None and not session.isVisible()


def test_without_records_no_sign_in_status_is_shown(qtbot: QtBot, window: MainWindow) -> None:
    """Working with files only, nobody is named as signed in and Sign out is off."""
    assert not window.session.isVisible()
    assert not window.actions_by_name["sign-out"].isEnabled()
    assert window.sign_out() is False
