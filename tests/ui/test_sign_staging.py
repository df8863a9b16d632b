"""Signing into the records in the app: the signed PDF appears at its destination only once its
record is committed (no signed checklist without its record), and a store that refuses leaves
neither the PDF nor a temporary file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from ketascreen.errors import StorageError
from ketascreen.ui import records_actions
from ketascreen.ui.settings import AppSettings
from tests.ui.helpers import FakeDialogs
from tests.ui.signing_support import (
    Clinic,
    clear_case_file,
    clinic,
    finish_signing,
    open_sign_dialog,
    signed_in,
)

__all__ = ["clinic"]  # the fixture, imported for pytest

OTHER_PATIENT = {"patient.id": "MRN-0077", "patient.name": "Robin Seven"}


def test_the_signed_pdf_appears_only_after_its_record_is_committed(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the record is stored, the destination does not exist yet; afterwards it holds the
    very bytes that were stored, and no temporary file is left beside it."""
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    window.open_path(clear_case_file(tmp_path, OTHER_PATIENT))
    out = tmp_path / "out" / "signed.pdf"
    seen: list[bool] = []
    store_signed = records_actions.store_signed

    def watching(**kwargs: object) -> object:
        seen.append(out.exists())
        return store_signed(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(records_actions, "store_signed", watching)
    finish_signing(qtbot, open_sign_dialog(qtbot, window, clinic.key), out)
    assert seen == [False]
    view = window.signed_view
    assert view is not None and view.stored
    stored = clinic.store.document(clinic.people.physician, view.record_id)
    assert out.read_bytes() == stored
    assert sorted(p.name for p in out.parent.iterdir()) == ["signed.pdf"]


def test_a_record_that_cannot_be_stored_leaves_no_signed_pdf(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database fails at the moment of storing: the user is told, the form is not locked,
    and neither the signed PDF nor a temporary file is left in the folder."""
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    window.open_path(clear_case_file(tmp_path, OTHER_PATIENT))
    out = tmp_path / "out" / "signed.pdf"

    def failing(**_: object) -> object:
        raise StorageError(clinic.url, "disk I/O error")

    monkeypatch.setattr(records_actions, "store_signed", failing)
    finish_signing(qtbot, open_sign_dialog(qtbot, window, clinic.key), out)
    assert not out.exists()
    assert list(out.parent.iterdir()) == []
    assert window.signed_view is None and not window.form.read_only
    assert "NOT written" in window.statusBar().currentMessage()
    assert dialogs.errors, "the failure is shown"
