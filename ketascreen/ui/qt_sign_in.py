"""The "Who is using ketascreen?" dialog: user name and password for the records store.

After too many failed sign-ins in a row the records store makes that account wait
(:func:`ketascreen.records.users.authenticate`); the dialog then says how long, counts the
seconds down and gives the OK button back when the wait is over.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ketascreen.errors import AuthenticationFailedError, LoginThrottledError, StorageError
from ketascreen.ui.records_actions import Actor

Authenticate = Callable[[str, str], Actor]
"""Logs a user in from (user name, password); raises ``AuthenticationFailedError``."""


class QtSignInDialog(QDialog):
    """Asks who is using the app and logs them in; stays open after a refused login.

    Args:
        authenticate: logs a user in (an action function bound to the store).
        database: the database, as shown to the user.
        parent: the owning widget.
        clock: the current time, aware (tests set it; default: now).

    Signals:
        QDialog's own (``accepted`` once :attr:`actor` is set, ``rejected`` on Cancel).
    """

    def __init__(self, authenticate: Authenticate, database: str,
                 parent: QWidget | None = None, *,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(parent)
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._throttled: LoginThrottledError | None = None
        self.countdown = QTimer(self)
        self.countdown.setInterval(1000)
        self.countdown.timeout.connect(self.update_wait)
        self.setWindowTitle("Who is using ketascreen?")
        self._authenticate = authenticate
        self.actor: Actor | None = None
        layout = QVBoxLayout(self)
        intro = QLabel(f"Sign in to the records database <i>{database}</i>. Cancel to work "
                       "with case files only.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.username = QLineEdit(self)
        self.username.setObjectName("sign-in-user")
        self.password = QLineEdit(self)
        self.password.setObjectName("sign-in-password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("&User name:", self.username)
        form.addRow("&Password:", self.password)
        layout.addLayout(form)
        self.error = QLabel(self)
        self.error.setObjectName("sign-in-error")
        self.error.setStyleSheet("color: #a00000;")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.try_sign_in)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        self.username.textChanged.connect(self.update_wait)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)

    def try_sign_in(self) -> bool:
        """Log in with what was typed; accept on success, else show why and stay open."""
        self.actor = None
        try:
            actor = self._authenticate(self.username.text(), self.password.text())
        except LoginThrottledError as error:
            self._throttled = error
            self.update_wait()
            self.password.clear()
            self.password.setFocus()
            return False
        except AuthenticationFailedError as error:
            self._show_error(f"Not signed in: {error.reason}.")
            return False
        except StorageError as error:
            self._show_error(f"The records database {error.database} cannot be used: "
                             f"{error.reason}.")
            return False
        self.actor = actor
        self.accept()
        return True

    def update_wait(self) -> None:
        """Say how long the account still waits; give the OK button back when it is over
        (the count-down timer calls this every second)."""
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        error = self._throttled
        if error is None or error.retry_at is None:
            return
        left = math.ceil((error.retry_at - self._clock()).total_seconds())
        if left <= 0:
            self._throttled = None
            self.countdown.stop()
            ok.setEnabled(True)
            self.error.setText(f"Too many failed sign-ins in a row for {error.user!r}: you may "
                               "try again now.")
            return
        at = error.retry_at.astimezone().strftime("%H:%M:%S")
        self.error.setText(f"Not signed in: too many failed sign-ins in a row for "
                           f"{error.user!r} ({error.failures}). Try again in {left} s (at "
                           f"{at}); until then the password is not checked.")
        self.error.show()
        self.adjustSize()  # room for the wrapped message
        # another account may sign in meanwhile; this one is refused unchecked until then
        same = self.username.text().strip().lower() == error.user.strip().lower()
        ok.setEnabled(not same)
        if not self.countdown.isActive():
            self.countdown.start()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.adjustSize()  # room for the wrapped message
        self.password.clear()
        self.password.setFocus()
