"""Who is signed in: a status-bar widget that stays visible while a user is signed in to the
records database, with a Sign out button.

It imports nothing of the records package, so the window can build it at start-up without
loading SQLAlchemy.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget


class QtSessionStatus(QWidget):
    """"Signed in as NAME (role)" and a Sign out button; hidden while nobody is signed in.

    Args:
        parent: the owning widget (the window's status bar).

    Signals:
        sign_out_requested: the Sign out button was pressed.
    """

    sign_out_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("session-status")
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        self.label = QLabel(self)
        self.label.setObjectName("session-user")
        self.label.setStyleSheet("font-weight: 600;")
        self.sign_out = QToolButton(self)
        self.sign_out.setObjectName("sign-out")
        self.sign_out.setText("Sign out")
        self.sign_out.setToolTip("Sign out of the records database (Records > Sign out)")
        self.sign_out.clicked.connect(self.sign_out_requested)
        row.addWidget(self.label)
        row.addWidget(self.sign_out)
        self.show_user(None, None)

    def show_user(self, name: str | None, role: str | None) -> None:
        """Show who is signed in, or hide the widget when ``name`` is ``None``."""
        text = "" if name is None else f"Signed in as {name} ({role})"
        self.label.setText(text)
        self.label.setAccessibleName(text)
        self.setVisible(name is not None)
