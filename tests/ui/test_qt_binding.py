"""The Qt binding itself: a PySide6 whose calls leak references to None would abort the app."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit
from pytestqt.qtbot import QtBot


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_qt_calls_do_not_drop_references_to_none_or_bools(qtbot: QtBot) -> None:
    """PySide6 6.12.0 drops a reference to None per void call: on 3.11 that aborts the app."""
    edit, label = QLineEdit(), QLabel()
    qtbot.addWidget(edit)
    qtbot.addWidget(label)
    none_before, false_before = sys.getrefcount(None), sys.getrefcount(False)
    for number in range(1000):
        edit.setText(str(number))
        label.setVisible(False)
        edit.isReadOnly()
    assert sys.getrefcount(None) > none_before - 100
    assert sys.getrefcount(False) > false_before - 100
