"""The sign-in dialog under login throttling: it says how long the account waits, counts down,
keeps OK disabled for that account meanwhile and gives it back when the wait is over.

A real records store (SQLite) with an injected clock shared by the store and the dialog: the
test advances the clock and fires the count-down timer's signal itself; nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from ketascreen.errors import LoginThrottledError
from ketascreen.records import users
from ketascreen.records.repository import RecordStore
from ketascreen.ui import records_actions
from ketascreen.ui.qt_sign_in import QtSignInDialog
from tests.ui.helpers import type_into

PASSWORD = "nurse-password-1"
START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
          ) -> Iterator[RecordStore]:
    monkeypatch.setattr(users, "_HASHER", PasswordHasher.from_parameters(CHEAPEST))
    opened = RecordStore.open(f"sqlite:///{tmp_path / 'records.sqlite3'}", clock=clock)
    try:
        opened.add_user(None, username="admin", display_name="Clinic Admin", role="admin",
                        password="admin-password-1")
        admin = opened.authenticate("admin", "admin-password-1")
        opened.add_user(admin, username="rnpatel", display_name="Sam Patel RN", role="nurse",
                        password=PASSWORD)
        yield opened
    finally:
        opened.close()


def _sign_in(qtbot: QtBot, dialog: QtSignInDialog, password: str) -> None:
    type_into(qtbot, dialog.password, password)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)


def test_the_dialog_shows_the_wait_and_gives_ok_back_after_it(
        qtbot: QtBot, store: RecordStore, clock: Clock) -> None:
    dialog = QtSignInDialog(
        lambda u, p: records_actions.sign_in(store=store, username=u, password=p),
        "records.sqlite3", clock=clock)
    qtbot.addWidget(dialog)
    dialog.show()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    type_into(qtbot, dialog.username, "rnpatel")
    for _ in range(users.THROTTLE_AFTER):
        _sign_in(qtbot, dialog, "not-the-password")
        assert "unknown user or wrong password" in dialog.error.text()
    assert ok.isEnabled()  # the wait starts with the next attempt's refusal
    clock.now = START + timedelta(seconds=0.2)
    _sign_in(qtbot, dialog, PASSWORD)  # the right password, during the wait
    assert dialog.actor is None and dialog.isVisible()
    text = dialog.error.text()
    assert dialog.error.isVisibleTo(dialog)
    assert text.startswith("Not signed in: too many failed sign-ins in a row for 'rnpatel' "
                           "(3). Try again in 1 s (at ")
    assert "the password is not checked" in text
    # the dialog grew to show the whole wrapped message
    assert dialog.error.height() >= dialog.error.heightForWidth(dialog.error.width())
    assert not ok.isEnabled()
    assert dialog.countdown.isActive()
    assert dialog.password.text() == ""

    # another account may sign in meanwhile
    dialog.username.clear()
    type_into(qtbot, dialog.username, "admin")
    assert ok.isEnabled()
    dialog.username.clear()
    type_into(qtbot, dialog.username, "rnpatel")
    assert not ok.isEnabled()

    clock.now = START + timedelta(seconds=1)
    dialog.countdown.timeout.emit()  # the timer's second is up
    assert ok.isEnabled()
    assert not dialog.countdown.isActive()
    assert dialog.error.text() == ("Too many failed sign-ins in a row for 'rnpatel': you may "
                                   "try again now.")
    _sign_in(qtbot, dialog, PASSWORD)
    assert dialog.actor is not None and dialog.actor.username == "rnpatel"
    assert not dialog.isVisible()


def test_the_count_down_names_the_seconds_left(qtbot: QtBot, store: RecordStore,
                                               clock: Clock) -> None:
    """Five failures, each after the wait of the one before: a 4 s wait; the text counts 4,
    3 ... as the clock moves."""
    for at in (0, 0, 0, 1, 3):
        clock.now = START + timedelta(seconds=at)
        with pytest.raises(users.AuthenticationFailedError) as refused:
            store.authenticate("rnpatel", "not-the-password")
        assert not isinstance(refused.value, LoginThrottledError)
    dialog = QtSignInDialog(
        lambda u, p: records_actions.sign_in(store=store, username=u, password=p),
        "records.sqlite3", clock=clock)
    qtbot.addWidget(dialog)
    dialog.show()
    type_into(qtbot, dialog.username, "rnpatel")
    _sign_in(qtbot, dialog, PASSWORD)
    seen = []
    for elapsed in (0, 1, 2, 3):
        clock.now = START + timedelta(seconds=3 + elapsed)
        dialog.countdown.timeout.emit()
        seen.append(dialog.error.text().split("Try again in ")[1].split(" s")[0])
    assert seen == ["4", "3", "2", "1"]
