"""A checklist signed in the app into the records carries the audit trail's head at signing:
printed beside the record id and attached under the signature, so `audit verify` can catch a
rewritten trail against it (issue 11, item 5)."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from ketascreen.records.documents import embedded_head, record_id_printed, signature_problem
from ketascreen.ui.settings import AppSettings
from tests.ui.helpers import FakeDialogs, activate
from tests.ui.signing_support import (
    Clinic,
    clear_case_file,
    clinic,
    finish_signing,
    open_sign_dialog,
    signed_in,
)

__all__ = ["clinic"]  # the fixture, imported for pytest


def test_app_signing_embeds_the_head(qtbot: QtBot, settings: AppSettings,
                                     dialogs: FakeDialogs, clinic: Clinic,
                                     tmp_path: Path) -> None:
    """Dr Smith signs in the app: the file and the stored document embed the head that the
    trail had just before signing, the page prints it, and the whole trail verifies."""
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    window.open_path(clear_case_file(tmp_path, {"patient.id": "MRN-0077",
                                                "patient.name": "Sam Seven"}))
    before = clinic.store.audit_head()
    dialog = open_sign_dialog(qtbot, window, clinic.key)
    activate(qtbot, dialog.attest)
    out = tmp_path / "seven.pdf"
    finish_signing(qtbot, dialog, out)
    assert dialogs.errors == []
    view = window.signed_view
    assert view is not None and view.stored
    pdf = out.read_bytes()
    head = embedded_head(pdf)
    assert head is not None and head[0] >= before[0]
    assert signature_problem(pdf) is None
    assert record_id_printed(pdf, f"Audit trail head at signing: event {head[0]} sha256")
    stored = clinic.store.document(clinic.people.nurse, view.record_id)
    assert embedded_head(stored) == head
    report = clinic.store.verify_audit()
    assert report.ok and report.head_problems == () and report.rows_checked > 0
