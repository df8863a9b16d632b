"""No two mnemonics (&-accelerators) clash among what is reachable at the same time: the widgets
and menu-bar titles of one window together, and the items of each menu together. The test walks
every widget and menu of the main window and of each dialog the app opens."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QAbstractButton,
    QGroupBox,
    QLabel,
    QMenu,
    QMenuBar,
    QPushButton,
    QTabBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from ketascreen.errors import AuthenticationFailedError
from ketascreen.records.bedside import DoubleCheckRecord
from ketascreen.records.roles import Role
from ketascreen.reports.keys import SignerIdentity
from ketascreen.ui import actions
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.qt_double_check import CheckAttempt, QtCountersignDialog, QtDoubleCheckDialog
from ketascreen.ui.qt_pdf_preview import QtPdfPreview
from ketascreen.ui.qt_sign_dialog import QtSignDialog
from ketascreen.ui.qt_sign_in import QtSignInDialog
from ketascreen.ui.records_actions import Actor
from ketascreen.ui.settings import AppSettings

_MNEMONIC = re.compile(r"&(.)")


def mnemonic(text: str) -> str | None:
    """The accelerator letter of ``text`` ("Add &medication" -> "M"; "&&" is a literal "&")."""
    found = _MNEMONIC.search(text.replace("&&", ""))
    return found.group(1).upper() if found else None


def _texts(widget: QWidget) -> list[str]:
    if isinstance(widget, QAbstractButton):
        return [widget.text()]
    if isinstance(widget, QLabel) and widget.buddy() is not None:
        return [widget.text()]
    if isinstance(widget, QGroupBox):
        return [widget.title()]
    if isinstance(widget, QTabBar):
        return [widget.tabText(i) for i in range(widget.count())]
    if isinstance(widget, QMenuBar):
        return [a.text() for a in widget.actions()]
    return []


def groups(window: QWidget, *, other_page: QWidget | None = None) -> dict[str, list[str]]:
    """The texts whose mnemonics are live at the same time, by group: the window's widgets (with
    its menu-bar titles, hidden bars included), then each of its menus and submenus. Widgets of
    ``other_page`` (the main window's page of the other role, never shown at the same time) are
    left out."""
    own = [w for w in window.findChildren(QWidget) if w.window() is window
           and (other_page is None or (w is not other_page and not other_page.isAncestorOf(w)))]
    found = {f"{window.windowTitle() or type(window).__name__}: widgets and menu bar":
             [text for widget in own for text in _texts(widget)]}
    for menu in window.findChildren(QMenu):
        found[f"menu {menu.title()}"] = [a.text() for a in menu.actions()
                                         if not a.isSeparator()]
    return found


def clashes(window: QWidget, *, other_page: QWidget | None = None) -> list[str]:
    """Each group's letters used more than once, with the texts that use them."""
    problems = []
    for name, texts in groups(window, other_page=other_page).items():
        letters = Counter(m for t in texts if (m := mnemonic(t)))
        for letter, count in letters.items():
            if count > 1:
                users = [t for t in texts if mnemonic(t) == letter]
                problems.append(f"{name}: {letter} used by {users}")
    return problems


def test_the_mnemonic_reader_finds_letters_and_clashes(qtbot: QtBot) -> None:
    """A test of the test: "&&" is no mnemonic, and a clash among siblings is found."""
    assert mnemonic("Save &as...") == "A"
    assert mnemonic("Fish && chips") is None
    holder = QWidget()
    qtbot.addWidget(holder)
    QPushButton("&Open", holder)
    QPushButton("Save &it", holder)
    assert clashes(holder) == []
    QPushButton("&Other", holder)
    assert len(clashes(holder)) == 1


def test_main_window_widgets_menu_titles_and_each_menu_have_no_clash(
        window: MainWindow, case_file: Path) -> None:
    """Everything of the main window, with a case open (list rows made), draft bar and all."""
    assert window.open_path(case_file, ask=False)
    window.form.conditions.add_row()
    window.form.medications.add_row()
    found = groups(window, other_page=window.bedside_page)
    assert sum(len(texts) for texts in found.values()) > 40
    assert any(name.startswith("menu ") for name in found)
    assert window.pages.currentWidget() is window.physician_page
    assert clashes(window, other_page=window.bedside_page) == []


def test_the_nurse_page_and_the_menus_have_no_clash(window: MainWindow) -> None:
    """The bedside page with the menu-bar titles, and every menu (hidden entries included)."""
    found = groups(window, other_page=window.physician_page)
    texts = next(iter(found.values()))
    assert {"&Double check...", "C&ountersign..."} <= set(texts)
    assert "Add prob&lem" not in texts
    assert clashes(window, other_page=window.physician_page) == []


def _never(username: str, password: str) -> Actor:
    raise AuthenticationFailedError(username, "test")


def _no_check(attempt: CheckAttempt) -> DoubleCheckRecord:
    raise AuthenticationFailedError(attempt.witness, "test")


def _no_countersign(identity: SignerIdentity, register: bool) -> bytes:
    raise AuthenticationFailedError(identity.name, "test")


def test_each_dialog_has_no_clash(qtbot: QtBot, window: MainWindow, settings: AppSettings,
                                  example: dict[str, Any], tmp_path: Path) -> None:
    """The sign-in dialog, the Sign dialog, the checklist preview, the About box, the double
    check (its override shown) and the countersignature."""
    example["acknowledgements"] = [{"concept": "benzodiazepine", "reason": "Held last night."}]
    outcome = actions.screen_document(document=example)
    assert outcome.valid
    sign_in = QtSignInDialog(_never, "sqlite:///test", window)
    sign = QtSignDialog(outcome, settings, tmp_path / "signed.pdf", parent=window)
    preview = QtPdfPreview(actions.checklist_pdf(outcome=outcome), "preview", signed=False,
                           parent=window)
    about = window.show_about()
    nurse = Actor(user_id=3, username="rnpatel", display_name="Sam Patel RN", role=Role.NURSE)
    check = QtDoubleCheckDialog(_no_check, nurse, "KS-000000000000", window)
    check.show_override()
    countersign = QtCountersignDialog(_no_countersign, [("Checker", "Sam Patel RN")], settings,
                                      store=None, actor=nurse, record_id="KS-000000000000",
                                      parent=window)
    dialogs: list[QWidget] = [sign_in, sign, preview, about, check, countersign]
    problems = []
    for dialog in dialogs:
        assert groups(dialog)
        problems += clashes(dialog)
    assert problems == []
    for dialog in dialogs:
        dialog.close()
