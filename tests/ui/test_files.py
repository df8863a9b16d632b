"""Case files, unsaved changes, FHIR import, drafts and remembered settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray
from pytestqt.qtbot import QtBot

from ketascreen.api import load_case
from ketascreen.ui.drafts import DraftStore
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.settings import AppSettings
from tests.helpers.cases import FHIR_SAMPLES
from tests.ui.helpers import FakeDialogs, press, type_into, wait_screened


def test_save_as_writes_a_valid_case_file_and_save_replaces_it_atomically(
        qtbot: QtBot, window: MainWindow, case_file: Path, tmp_path: Path,
        dialogs: FakeDialogs) -> None:
    """Save As writes ketascreen-case/1; Save writes over the same file; no temp files left."""
    window.open_path(case_file)
    type_into(qtbot, window.form.patient.name, " Jr")
    assert window.is_modified() and window.isWindowModified()
    target = tmp_path / "out" / "saved.json"
    dialogs.paths.append(target)
    assert window.save_as()
    assert load_case(target).patient.name == "Alex Rivera Jr"
    assert not window.is_modified() and window.path == target
    type_into(qtbot, window.form.patient.name, "!")
    assert window.save()
    assert load_case(target).patient.name == "Alex Rivera Jr!"
    assert sorted(p.name for p in target.parent.iterdir()) == ["saved.json"]
    assert window.settings.recent("cases")[0] == target
    assert window.settings.folder("save") == str(target.parent)


def test_an_invalid_case_is_not_saved_and_the_reason_is_given(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, dialogs: FakeDialogs) -> None:
    """A form that is not a valid case is refused by Save; the draft keeps the work."""
    type_into(qtbot, window.form.patient.patient_id, "MRN-1")
    dialogs.paths.append(tmp_path / "x.json")
    assert not window.save()
    assert not (tmp_path / "x.json").exists()
    title, text = dialogs.errors[-1]
    assert title == "Save" and "patient.name" in text and "autosaved draft" in text


def test_new_asks_about_unsaved_changes_and_cancel_keeps_the_form(
        qtbot: QtBot, window: MainWindow, case_file: Path, dialogs: FakeDialogs) -> None:
    """New on a changed form asks; Cancel keeps everything, Discard starts afresh."""
    window.open_path(case_file)
    type_into(qtbot, window.form.patient.name, "x")
    dialogs.unsaved_answer = "cancel"
    assert not window.new_screening()
    assert dialogs.asked_unsaved == ["Alex Riverax (MRN-0042)"]
    assert window.form.patient.name.text() == "Alex Riverax"
    dialogs.unsaved_answer = "discard"
    assert window.new_screening()
    assert window.form.patient.name.text() == "" and window.path is None


def test_a_file_the_form_cannot_hold_is_refused_and_the_form_is_kept(
        window: MainWindow, tmp_path: Path, example: dict[str, Any],
        dialogs: FakeDialogs) -> None:
    """A misspelt key would be dropped by the form on the next save: the file is refused."""
    example["patient"]["nickname"] = "Al"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(example), encoding="utf-8")
    assert not window.open_path(path)
    assert "patient.nickname" in dialogs.errors[-1][1]
    assert window.form.patient.patient_id.text() == "" and window.path is None


def test_an_invalid_but_representable_file_opens_with_its_problems_marked(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, example: dict[str, Any]) -> None:
    """A weight without a unit opens, with the error under the weight and no dose."""
    example["measurements"]["weight"] = "70"
    path = tmp_path / "unitless.json"
    path.write_text(json.dumps(example), encoding="utf-8")
    assert window.open_path(path)
    weight = window.form.measurements.inputs["weight"]
    assert weight.message.tone == "error" and "has no unit" in weight.message.text()
    assert window.dose.pump_rate() is None


def test_a_file_that_is_not_json_is_refused_with_the_reason(
        window: MainWindow, tmp_path: Path, dialogs: FakeDialogs) -> None:
    """Broken JSON is reported, naming the problem."""
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    assert not window.open_path(path)
    assert "not valid JSON" in dialogs.errors[-1][1]


def test_a_fhir_record_imports_as_an_unsaved_screening_with_its_warnings(
        window: MainWindow) -> None:
    """A Synthea Bundle fills the patient, measurements and lists; warnings are listed."""
    bundle = next((FHIR_SAMPLES / "synthea-r4").glob("Alberto_Atencio_*.json"))
    assert window.import_path(bundle)
    form = window.form
    assert form.patient.name.text().startswith("Alberto")
    assert form.measurements.inputs["weight"].text()
    assert any("benzodiazepine" in " ".join(row.chip_texts())
               for row in form.medications.rows)
    assert window.findings.import_warnings.isVisible()
    assert window.is_modified() and window.path is None
    assert all(q.value() is None for q in form.history.questions.values())


def test_autosave_writes_a_draft_and_saving_the_case_removes_it(
        qtbot: QtBot, window: MainWindow, drafts: DraftStore, case_file: Path) -> None:
    """A changed form is autosaved as a draft (invalid values included); Save removes it."""
    window.open_path(case_file)
    weight = window.form.measurements.inputs["weight"]
    weight.value.clear()
    type_into(qtbot, weight.value, "70")
    with qtbot.waitSignal(window.draft_saved, timeout=3000):
        pass
    files = list(drafts.directory.glob("*.json"))
    assert len(files) == 1
    draft = json.loads(files[0].read_text(encoding="utf-8"))
    assert draft["state"]["measurements"]["weight"] == "70 lb"
    assert draft["source"] == str(case_file)
    assert drafts.orphans() == []  # this window holds it: not offered to others
    weight.value.clear()
    type_into(qtbot, weight.value, "71")
    assert window.save()
    assert list(drafts.directory.glob("*.json")) == []


def test_a_partly_answered_dast10_is_kept_in_the_draft_but_not_screened(
        qtbot: QtBot, window: MainWindow, case_file: Path) -> None:
    """Half a DAST-10 is not a screen (the core reports it missing) but is not lost."""
    window.open_path(case_file)
    screens = window.form.substance_use
    for item in screens.dast_items:
        item.set_value(None)
    press(qtbot, screens.dast_items[0], "y")
    wait_screened(qtbot, window)
    assert "dast10" not in window.form.document()["substance_use"]
    assert window.form.state()["substance_use"]["dast10"][0] == "yes"
    outcome = window.outcome
    assert outcome is not None and outcome.decision == "insufficient-data"
    assert any(f.concept == "missing-substance-use-screen"
               for f in outcome.screening.result.findings)


def test_closing_discards_the_draft_and_remembers_geometry_and_folders(
        qtbot: QtBot, settings: AppSettings, drafts: DraftStore, case_file: Path) -> None:
    """A deliberate close leaves no draft; the next window restores its size and folders."""
    first = MainWindow(settings, drafts=drafts, dialogs=FakeDialogs())  # type: ignore[arg-type]
    qtbot.addWidget(first)
    first.show()
    first.resize(701, 503)  # within the offscreen screen (800 x 600)
    first.open_path(case_file)
    type_into(qtbot, first.form.patient.name, "x")
    first.autosave_now()
    assert list(drafts.directory.glob("*.json"))
    assert first.close()
    assert list(drafts.directory.glob("*.json")) == []
    assert isinstance(settings.geometry(), QByteArray)
    second = MainWindow(settings, drafts=drafts, dialogs=FakeDialogs())  # type: ignore[arg-type]
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (701, 503)
    assert settings.folder("open") == str(case_file.parent)
    assert not second.draft_bar.isVisible()
    assert [e.key for e in second.screenings.entries() if e.kind == "case"] == [str(case_file)]
