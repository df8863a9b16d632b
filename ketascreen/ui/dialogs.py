"""The questions the main window asks (file choosers, "save your changes?", errors).

They are gathered in one class so that tests replace it with a fake that answers at once
(qutebrowser's stubs), while the real app shows the usual Qt dialogs. The bedside double check
and the countersignature are the app's own dialogs, opened by :func:`open_double_check` and
:func:`open_countersign`, so that a test's fake opens the same real dialogs and drives them
with the keyboard and the mouse.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

if TYPE_CHECKING:
    from ketascreen.ui.qt_double_check import (
        Countersign,
        PerformCheck,
        QtCountersignDialog,
        QtDoubleCheckDialog,
    )
    from ketascreen.ui.qt_sign_in import Authenticate
    from ketascreen.ui.records_actions import Actor, RecordStore
    from ketascreen.ui.settings import AppSettings

UnsavedAnswer = Literal["save", "discard", "cancel"]


def open_double_check(perform: PerformCheck, checker: Actor, heading: str,
                      parent: QWidget | None) -> QtDoubleCheckDialog:
    """Build and open the real double-check dialog (tests drive it with keys and clicks)."""
    from ketascreen.ui.qt_double_check import QtDoubleCheckDialog  # noqa: PLC0415

    dialog = QtDoubleCheckDialog(perform, checker, heading, parent)
    dialog.open()
    return dialog


def open_countersign(countersign: Countersign, summary: list[tuple[str, str]],
                     settings: AppSettings, *, store: RecordStore, actor: Actor,
                     record_id: str, parent: QWidget | None) -> QtCountersignDialog:
    """Build and open the real countersign dialog (tests drive it with keys and clicks)."""
    from ketascreen.ui.qt_double_check import QtCountersignDialog  # noqa: PLC0415

    dialog = QtCountersignDialog(countersign, summary, settings, store=store, actor=actor,
                                 record_id=record_id, parent=parent)
    dialog.open()
    return dialog


class Dialogs:
    """The real dialogs.

    Args:
        parent: the window the dialogs belong to.
    """

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def ask_unsaved(self, label: str) -> UnsavedAnswer:
        """Ask whether to save the changes to the screening of ``label``."""
        answer = QMessageBox.question(
            self.parent, "Unsaved changes",
            f"The screening of {label} has changes that are not saved to a case file.\n\n"
            "Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return "save"
        if answer == QMessageBox.StandardButton.Discard:
            return "discard"
        return "cancel"

    def open_path(self, folder: str) -> Path | None:
        """Choose a case file to open."""
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open case file", folder,
                                              "ketascreen case (*.json);;All files (*)")
        return Path(path) if path else None

    def save_path(self, suggested: str) -> Path | None:
        """Choose where to save the case file (the dialog confirms replacing a file)."""
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save case file", suggested,
                                              "ketascreen case (*.json)")
        if not path:
            return None
        return Path(path) if path.endswith(".json") else Path(path + ".json")

    def import_path(self, folder: str, *, directory: bool) -> Path | None:
        """Choose a FHIR Bundle or resource file, or a folder of resource files."""
        if directory:
            path = QFileDialog.getExistingDirectory(self.parent, "Import FHIR folder", folder)
        else:
            path, _ = QFileDialog.getOpenFileName(self.parent, "Import FHIR record", folder,
                                                  "FHIR JSON (*.json);;All files (*)")
        return Path(path) if path else None

    def pdf_path(self, suggested: str) -> Path | None:
        """Choose where to save a PDF (the dialog confirms replacing a file)."""
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save checklist PDF", suggested,
                                              "PDF (*.pdf)")
        if not path:
            return None
        return Path(path) if path.endswith(".pdf") else Path(path + ".pdf")

    def sign_in(self, authenticate: Authenticate, database: str) -> Actor | None:
        """Ask who is using the app; ``None`` when they cancel (files only)."""
        from ketascreen.ui.qt_sign_in import QtSignInDialog  # noqa: PLC0415 - SQLAlchemy

        dialog = QtSignInDialog(authenticate, database, self.parent)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        actor = dialog.actor if accepted else None
        dialog.deleteLater()
        return actor

    def double_check(self, perform: PerformCheck, checker: Actor, heading: str
                     ) -> QtDoubleCheckDialog:
        """Open the blinded independent double check (window-modal; returns at once)."""
        return open_double_check(perform, checker, heading, self.parent)

    def countersign(self, countersign: Countersign, summary: list[tuple[str, str]],
                    settings: AppSettings, *, store: RecordStore, actor: Actor,
                    record_id: str) -> QtCountersignDialog:
        """Open the countersignature of ``record_id`` (window-modal; returns at once)."""
        return open_countersign(countersign, summary, settings, store=store, actor=actor,
                                record_id=record_id, parent=self.parent)

    def amend_reason(self, record_id: str) -> str | None:
        """Ask why the signed checklist ``record_id`` is amended; a typed, non-blank reason, or
        ``None`` when cancelled."""
        prompt = (f"Amend the signed checklist {record_id}.\n\nThe form becomes a new draft; "
                  "once you sign it, it replaces the signed checklist (which is kept, linked "
                  "to it). Why is it amended?")
        while True:
            text, ok = QInputDialog.getText(self.parent, "Amend signed checklist", prompt,
                                            QLineEdit.EchoMode.Normal)
            if not ok:
                return None
            if text.strip():
                return text.strip()
            prompt = "An amendment needs a typed reason. Why is the checklist amended?"

    def offer_amend(self, title: str, text: str) -> bool:
        """Explain a refusal and offer to amend instead; True when the user chooses Amend."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                          QMessageBox.StandardButton.Cancel, self.parent)
        amend = box.addButton("Am&end it...", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        chosen = box.clickedButton() is amend
        box.deleteLater()
        return chosen

    def error(self, title: str, text: str) -> None:
        """Report an error."""
        QMessageBox.warning(self.parent, title, text)

    def info(self, title: str, text: str) -> None:
        """Report an outcome."""
        QMessageBox.information(self.parent, title, text)
