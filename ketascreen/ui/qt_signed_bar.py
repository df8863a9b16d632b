"""The bar above the form that says the checklist shown is signed (and by whom), or that it is
being amended.

A signed checklist is never edited: the form is read-only while this bar says "Signed by NAME
at TIME (record ID)", and the only way to change it is the bar's **Amend** button (or File >
Amend signed checklist), which asks for a typed reason and turns the form into a new draft that
replaces the signed record once it is signed in its turn.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

_SIGNED_STYLE = ("QFrame#signed-bar { background: #e3effa; border: 2px solid #1f4e79; "
                 "border-radius: 4px; } QFrame#signed-bar QLabel { color: #0b2540; }")
_AMENDING_STYLE = ("QFrame#signed-bar { background: #fff0d9; border: 2px solid #a05a00; "
                   "border-radius: 4px; } QFrame#signed-bar QLabel { color: #3d2200; }")


class QtSignedBar(QFrame):
    """"Signed by NAME at TIME (record ID)" with an Amend button; or "Amending ...".

    Args:
        parent: the owning widget.

    Signals:
        amend_requested: the Amend button was pressed.
    """

    amend_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signed-bar")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 10, 6)
        self.text = QLabel(self)
        self.text.setObjectName("signed-text")
        self.text.setWordWrap(True)
        self.amend_button = QPushButton("Amend...", self)  # no free letter: File > A&mend
        self.amend_button.setObjectName("amend")
        self.amend_button.setToolTip("Change this signed checklist: give a reason, correct the "
                                     "form and sign the amendment, which replaces it.")
        self.amend_button.clicked.connect(self.amend_requested)
        row.addWidget(self.text, 1)
        row.addWidget(self.amend_button)
        self.line = ""
        self.hide()

    def show_signed(self, line: str, *, amends: str | None = None,
                    note: str | None = None) -> None:
        """Show ``line`` ("Signed by NAME at TIME (record ID)") and offer Amend.

        Args:
            line: the signature line.
            amends: the record this one amends, if any.
            note: one more sentence (e.g. that the form is read-only).
        """
        self.line = line
        extra = f" \u00b7 amends {amends}" if amends else ""
        self.text.setText(f"<b>{_escape(line)}</b>{_escape(extra)}<br>"
                          + _escape(note or "Read-only: a signed checklist is not edited. "
                                    "To change it, Amend it (a typed reason; the amendment "
                                    "is signed and replaces it)."))
        self.setStyleSheet(_SIGNED_STYLE)
        self.amend_button.show()
        self.setAccessibleName(line + extra)
        self.show()

    def show_amending(self, record_id: str, reason: str) -> None:
        """Say that the form is a draft amending ``record_id`` for ``reason``."""
        self.line = f"Amending {record_id}"
        self.text.setText(f"<b>Amending {_escape(record_id)}</b> (reason: {_escape(reason)}). "
                          "The form is a new draft: sign it to replace the signed checklist. "
                          "Until then the signed checklist stays in force.")
        self.setStyleSheet(_AMENDING_STYLE)
        self.amend_button.hide()
        self.setAccessibleName(self.line)
        self.show()

    def clear(self) -> None:
        """Hide the bar (the form is not a signed checklist)."""
        self.line = ""
        self.text.clear()
        self.hide()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
