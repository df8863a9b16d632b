"""``infusion check --scores-from``: an imported record's PHQ-9/GAD-7 fill the infusion's day-of
scores before it is screened, the provenance is printed and stored in the audit trail, a typed
value that differs is refused naming both and nothing is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from ketascreen.models.parsing import load_course
from ketascreen.reports.output import SigningRequest
from tests.fhir.builders import bundle, observation, patient, write
from tests.records.rawsql import raw
from tests.records.test_courses import _day_of, started_course


def _events(database_url: str, course_id: str) -> list[tuple[str, str]]:
    with raw(database_url) as connection:
        return [(row[0], row[1]) for row in connection.execute(text(
            "SELECT action, detail FROM audit_events WHERE record_id = :id ORDER BY seq"),
            {"id": course_id})]


def test_scores_from_a_fhir_record(tmp_path: Path, database_url: str,
                                   monkeypatch: pytest.MonkeyPatch,
                                   signing_request: SigningRequest,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The day's PHQ-9 and the GAD-7 of the day before are used, a PHQ-9 16 days old is not;
    the provenance is printed and is the detail of an ``infusion-scores`` event; refused: a
    typed PHQ-9 that differs (naming both), another patient's record, a nurse."""
    from ketascreen.cli import main
    from tests.records.test_cli_records import _as

    clinic, course_id = started_course(tmp_path, database_url, monkeypatch, signing_request,
                                        capsys)
    scores = (
        observation("old", "44261-6", "2026-11-10T08:00:00-05:00", valueInteger=20),
        observation("abc", "44261-6", "2026-11-26T08:30:00-05:00", valueInteger=14),
        observation("g7", "70274-6", "2026-11-25T10:00:00-05:00", valueInteger=6))
    the_patient = patient(birthDate="1979-05-14", identifier=[
        {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                              "code": "MR"}]}, "system": "urn:clinic", "value": "MRN-0042"}])
    source = write(tmp_path / "record.json", bundle(the_patient, *scores))
    someone_else = write(tmp_path / "other.json", bundle(patient(), *scores))

    conflicting = tmp_path / "typed.json"
    day_of = _day_of(1, "2026-11-26T09:00")
    day_of["pre"].pop("phq9", None)
    day_of["pre"].pop("gad7", None)
    conflicting.write_text(json.dumps({**day_of, "pre": {**day_of["pre"], "phq9": 10}}),
                           encoding="utf-8")
    assert main(["infusion", "check", course_id, str(conflicting), "--scores-from",
                 str(source), *_as(clinic, "drsmith")]) == 2
    err = capsys.readouterr().err
    assert "pre.phq9: 10" in err and "PHQ-9 14 from Observation/abc" in err, err
    assert [action for action, _ in _events(database_url, course_id)] == ["course-start"]

    infusion_file = tmp_path / "infusion-1.json"
    infusion_file.write_text(json.dumps(day_of), encoding="utf-8")
    assert main(["infusion", "check", course_id, str(infusion_file), "--scores-from",
                 str(someone_else), *_as(clinic, "drsmith")]) == 2
    err = capsys.readouterr().err
    assert "not the course's patient" in err and "patient.id" in err, err
    assert "'MRN-0042'" in err and "1979-05-14" in err
    assert main(["infusion", "check", course_id, str(infusion_file), "--scores-from",
                 str(source), *_as(clinic, "rnpatel")]) == 4  # a nurse may not check
    assert "may not screen" in capsys.readouterr().err
    assert [action for action, _ in _events(database_url, course_id)] == ["course-start",
                                                                           "screen"]
    assert main(["infusion", "check", course_id, str(infusion_file), "--scores-from",
                 str(source), *_as(clinic, "drsmith")]) == 0
    checked = capsys.readouterr()
    assert (f"ketascreen: score PHQ-9 14 from Observation/abc (2026-11-26 08:30, file {source})"
            in checked.err), checked.err
    assert "GAD-7 6 from Observation/g7 (2026-11-25 10:00" in checked.err
    assert "Observation/old" not in checked.err
    assert checked.out.startswith("KS-")
    events = _events(database_url, course_id)
    assert [action for action, _ in events] == ["course-start", "screen", "infusion-check",
                                                "infusion-scores"]
    detail = json.loads(events[-1][1])
    assert detail["infusion"] == 1 and detail["record"] == checked.out.strip()
    assert (detail["phq9"], detail["phq9_resource"], detail["phq9_taken"]) == (
        14, "Observation/abc", "2026-11-26T08:30:00-05:00")
    assert (detail["gad7"], detail["gad7_resource"], detail["gad7_file"]) == (
        6, "Observation/g7", str(source))
    assert detail["phq9_items"] is None and detail["phq9_typed"] is False
    exported = tmp_path / "course.json"
    assert main(["course", "export", course_id, "-o", str(exported),
                 *_as(clinic, "rnpatel")]) == 0
    pre = load_course(exported).infusion(1).pre
    assert (pre.phq9, pre.gad7) == (14, 6)
