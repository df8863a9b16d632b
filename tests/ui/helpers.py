"""Test doubles and keystroke helpers for the desktop app tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from ketascreen.errors import AuthenticationFailedError
from ketascreen.ui.dialogs import UnsavedAnswer, open_countersign, open_double_check
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.settings import AppSettings

if TYPE_CHECKING:
    from ketascreen.ui.qt_double_check import (
        Countersign,
        PerformCheck,
        QtCountersignDialog,
        QtDoubleCheckDialog,
    )
    from ketascreen.ui.qt_sign_in import Authenticate
    from ketascreen.ui.records_actions import Actor, RecordStore


@dataclass
class FakeDialogs:
    """Answers the window's questions at once and records what it was asked and told."""

    unsaved_answer: UnsavedAnswer = "discard"
    paths: list[Path] = field(default_factory=list)
    asked_unsaved: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    infos: list[tuple[str, str]] = field(default_factory=list)
    credentials: list[tuple[str, str]] = field(default_factory=list)
    double_checks: list[QtDoubleCheckDialog] = field(default_factory=list)
    countersigns: list[QtCountersignDialog] = field(default_factory=list)
    sign_in_errors: list[str] = field(default_factory=list)
    amend_reasons: list[str | None] = field(default_factory=list)
    offers: list[tuple[str, str]] = field(default_factory=list)
    accept_offers: bool = False

    def ask_unsaved(self, label: str) -> UnsavedAnswer:
        """Record the question; give the preset answer."""
        self.asked_unsaved.append(label)
        return self.unsaved_answer

    def _next_path(self) -> Path | None:
        return self.paths.pop(0) if self.paths else None

    def open_path(self, folder: str) -> Path | None:
        """The next queued path."""
        return self._next_path()

    def save_path(self, suggested: str) -> Path | None:
        """The next queued path."""
        return self._next_path()

    def import_path(self, folder: str, *, directory: bool) -> Path | None:
        """The next queued path."""
        return self._next_path()

    def pdf_path(self, suggested: str) -> Path | None:
        """The next queued path."""
        return self._next_path()

    def sign_in(self, authenticate: Authenticate, database: str) -> Actor | None:
        """Log in with the queued (user name, password) pairs in turn, as a user retrying
        after a refusal would; ``None`` (cancel) when none is left."""
        while self.credentials:
            username, password = self.credentials.pop(0)
            try:
                return authenticate(username, password)
            except AuthenticationFailedError as error:
                self.sign_in_errors.append(error.reason)
        return None

    def double_check(self, perform: PerformCheck, checker: Actor, heading: str
                     ) -> QtDoubleCheckDialog:
        """Open the real double-check dialog (the test drives it); remember it."""
        dialog = open_double_check(perform, checker, heading, None)
        self.double_checks.append(dialog)
        return dialog

    def countersign(self, countersign: Countersign, summary: list[tuple[str, str]],
                    settings: AppSettings, *, store: RecordStore, actor: Actor,
                    record_id: str) -> QtCountersignDialog:
        """Open the real countersign dialog (the test drives it); remember it."""
        dialog = open_countersign(countersign, summary, settings, store=store, actor=actor,
                                  record_id=record_id, parent=None)
        self.countersigns.append(dialog)
        return dialog

    def amend_reason(self, record_id: str) -> str | None:
        """The next queued reason (``None``: cancelled)."""
        return self.amend_reasons.pop(0) if self.amend_reasons else None

    def offer_amend(self, title: str, text: str) -> bool:
        """Record the refusal; accept the offer to amend when :attr:`accept_offers`."""
        self.offers.append((title, text))
        return self.accept_offers

    def error(self, title: str, text: str) -> None:
        """Record the error."""
        self.errors.append((title, text))

    def info(self, title: str, text: str) -> None:
        """Record the message."""
        self.infos.append((title, text))


def ini_settings(folder: Path) -> AppSettings:
    """Settings in an INI file under ``folder`` (never the user's settings)."""
    return AppSettings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))


def type_into(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Type ``text`` into ``widget`` key by key."""
    qtbot.keyClicks(widget, text)


def press(qtbot: QtBot, widget: QWidget, key: str) -> None:
    """Press one letter key on ``widget`` (answers a question, picks a combo entry)."""
    qtbot.keyClick(widget, key)


def activate(qtbot: QtBot, widget: QWidget) -> None:
    """Press Space on a focusable button (keyboard activation)."""
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_Space)


def wait_screened(qtbot: QtBot, window: MainWindow) -> None:
    """Wait for the debounced re-screening after the last edit."""
    qtbot.waitUntil(lambda: not window.pending, timeout=3000)


def type_example_case(qtbot: QtBot, window: MainWindow) -> None:
    """Type the spec's example case into an empty form, with keystrokes only."""
    form = window.form
    patient = form.patient
    patient.screening_date.clear()
    type_into(qtbot, patient.screening_date, "2026-11-25")
    type_into(qtbot, patient.patient_id, "MRN-0042")
    type_into(qtbot, patient.name, "Alex Rivera")
    type_into(qtbot, patient.birth_date, "1979-05-14")
    press(qtbot, patient.sex, "f")
    press(qtbot, patient.pregnant, "n")
    press(qtbot, patient.breastfeeding, "n")
    press(qtbot, patient.indication, "d")
    inputs = form.measurements.inputs
    type_into(qtbot, inputs["weight"].value, "187")
    press(qtbot, inputs["weight"].unit, "l")
    type_into(qtbot, inputs["height"].value, "5 ft 7 in")
    type_into(qtbot, inputs["blood_pressure"].value, "138/86")
    press(qtbot, inputs["blood_pressure"].unit, "m")
    type_into(qtbot, inputs["heart_rate"].value, "72")
    type_into(qtbot, inputs["spo2"].value, "98")
    for question in form.history.questions.values():
        press(qtbot, question, "n")
    activate(qtbot, form.conditions.add_button)
    type_into(qtbot, form.conditions.rows[0].fields.itemAt(0).widget(),
              "Major depressive disorder, recurrent")
    rows: list[dict[str, Any]] = [
        {"text": "Xanax 0.5 mg tablet", "dose": "1 mg", "code": ""},
        {"text": "Sertraline 100 MG Oral Tablet", "dose": "", "code": "312941"},
    ]
    for number, row in enumerate(rows):
        activate(qtbot, form.medications.add_button)
        medication = form.medications.rows[number]
        type_into(qtbot, medication.text, row["text"])
        if row["dose"]:
            type_into(qtbot, medication.daily_dose, row["dose"])
        if row["code"]:
            type_into(qtbot, medication.code, row["code"])
    for number, item in enumerate(form.substance_use.dast_items, start=1):
        press(qtbot, item, "y" if number == 3 else "n")
    audit = form.substance_use.audit_items
    press(qtbot, audit[0], "m")   # Monthly or less (1 point)
    press(qtbot, audit[1], "1")   # 1 or 2 (0 points)
    press(qtbot, audit[2], "n")   # Never (0 points)
    protocol = form.protocol
    type_into(qtbot, protocol.fields["dose"], "0.5 mg/kg")
    type_into(qtbot, protocol.fields["duration"], "40 min")
    press(qtbot, protocol.weight_basis, "a")
    type_into(qtbot, protocol.fields["concentration"], "1 mg/mL")


NOTCH = 120
"""One notch of a mouse wheel, in Qt's eighths of a degree."""


def wheel(widget: QWidget, notches: int = -1) -> None:
    """Turn the wheel over the middle of ``widget`` (negative: towards the user, scroll down)."""
    local = QPointF(widget.rect().center())
    event = QWheelEvent(local, QPointF(widget.mapToGlobal(local.toPoint())), QPoint(0, 0),
                        QPoint(0, NOTCH * notches), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)
