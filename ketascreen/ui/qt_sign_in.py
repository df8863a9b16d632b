"""The "Who is using ketascreen?" dialog: user name and password for the records store."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ketascreen.errors import AuthenticationFailedError, StorageError
from ketascreen.ui.records_actions import Actor

Authenticate = Callable[[str, str], Actor]
"""Logs a user in from (user name, password); raises ``AuthenticationFailedError``."""


class QtSignInDialog(QDialog):
    """Asks who is using the app and logs them in; stays open after a refused login.

    Args:
        authenticate: logs a user in (an action function bound to the store).
        database: the database, as shown to the user.
        parent: the owning widget.

    Signals:
        QDialog's own (``accepted`` once :attr:`actor` is set, ``rejected`` on Cancel).
    """

    def __init__(self, authenticate: Authenticate, database: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        layout.addWidget(buttons)

    def try_sign_in(self) -> bool:
        """Log in with what was typed; accept on success, else show why and stay open."""
        self.actor = None
        try:
            actor = self._authenticate(self.username.text(), self.password.text())
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

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.password.clear()
        self.password.setFocus()
