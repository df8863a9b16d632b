"""An imported record's PHQ-9/GAD-7 as an infusion's day-of scores: the window (local policy,
7 days) across a month end and a leap day, the latest kept, a typed value that differs refused
naming both, an equal one kept with its provenance."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ketascreen.course.scores import (
    SCORE_WINDOW_DAYS,
    ScoreConflictError,
    scores_for_infusion,
)
from ketascreen.fhir import ImportedScore
from ketascreen.models.course import Infusion
from tests.fhir.builders import observation, run

ITEMS_14 = (2, 2, 2, 2, 2, 1, 1, 1, 1)


def _score(taken: str, total: int, rid: str = "phq", scale: str = "phq9",
           items: tuple[int, ...] | None = None) -> ImportedScore:
    return ImportedScore(scale, total, items, datetime.fromisoformat(taken),  # type: ignore[arg-type]
                         taken + ":00-05:00", f"Observation/{rid}", "bundle.json",
                         "QuestionnaireResponse/qr" if items else None)


def _infusion(start: str, **pre: Any) -> Infusion:
    return Infusion.model_validate({"number": 2, "start": start, "pre": pre})


@pytest.mark.parametrize(("start", "taken", "used"), [
    pytest.param("2026-12-01T09:00", "2026-12-01T08:30", True, id="same-day"),
    pytest.param("2026-12-01T09:00", "2026-11-24T08:00", True, id="7-days-before-across-month"),
    pytest.param("2026-12-01T09:00", "2026-11-23T23:59", False, id="8-days-before-unused"),
    pytest.param("2026-12-01T09:00", "2026-12-02T07:00", False, id="after-start-date-unused"),
    pytest.param("2028-03-01T09:00", "2028-02-23T00:00", True, id="leap-year-7-days"),
    pytest.param("2028-03-01T09:00", "2028-02-22T23:59", False, id="leap-year-8-days"),
    pytest.param("2028-03-07T09:00", "2028-02-29T10:00", True, id="leap-day-7-days"),
    pytest.param("2028-03-08T09:00", "2028-02-29T10:00", False, id="leap-day-8-days"),
])
def test_the_window(start: str, taken: str, used: bool) -> None:
    pre, provenance = scores_for_infusion(_infusion(start), [_score(taken, 14)])
    assert SCORE_WINDOW_DAYS == 7
    assert (pre.phq9 == 14) is used
    assert len(provenance) == int(used)
    if not used:
        assert pre.phq9 is None


def test_the_latest_in_the_window_with_items_and_both_scales() -> None:
    scores = [_score("2026-11-20T09:00", 25, "old"),  # outside the window
              _score("2026-11-28T09:00", 9, "earlier"),
              _score("2026-12-01T08:30", 14, "abc", items=ITEMS_14),
              _score("2026-11-30T10:00", 6, "g", scale="gad7")]
    pre, provenance = scores_for_infusion(_infusion("2026-12-01T09:00"), scores)
    assert pre.phq9 == list(ITEMS_14) and pre.phq9_item9() == 1 and pre.gad7 == 6
    assert [p.describe() for p in provenance] == [
        "PHQ-9 14 from Observation/abc (2026-12-01 08:30, file bundle.json, items from "
        "QuestionnaireResponse/qr)",
        "GAD-7 6 from Observation/g (2026-11-30 10:00, file bundle.json)"]
    assert pre.escort == "unknown"  # the rest of pre unchanged
    assert scores_for_infusion(_infusion("2026-12-01T09:00"), scores, window=0)[0].gad7 is None


def test_a_typed_value_that_differs_is_refused_naming_both() -> None:
    with pytest.raises(ScoreConflictError) as caught:
        scores_for_infusion(_infusion("2026-12-01T09:00", phq9=10, gad7=6),
                            [_score("2026-12-01T08:30", 14, "abc"),
                             _score("2026-12-01T08:30", 7, "g", scale="gad7")])
    problems = caught.value.problems
    assert [p.field for p in problems] == ["pre.phq9", "pre.gad7"]
    assert problems[0].value == 10 and "PHQ-9 14 from Observation/abc" in problems[0].message
    assert "10" in str(caught.value) and "14" in str(caught.value)


def test_typed_items_that_differ_with_the_same_total_are_refused() -> None:
    typed = [1, 3, 2, 2, 2, 1, 1, 1, 1]
    with pytest.raises(ScoreConflictError, match=r"pre\.phq9"):
        scores_for_infusion(_infusion("2026-12-01T09:00", phq9=typed),
                            [_score("2026-12-01T08:30", 14, items=ITEMS_14)])


def test_an_equal_typed_value_is_kept_with_its_provenance() -> None:
    pre, provenance = scores_for_infusion(_infusion("2026-12-01T09:00", phq9=14),
                                          [_score("2026-12-01T08:30", 14, "abc")])
    assert pre.phq9 == 14 and provenance[0].typed
    assert provenance[0].describe().endswith(", as typed)")
    # a typed total gets the imported items that add up to it (item 9 is read, C51)
    pre, _ = scores_for_infusion(_infusion("2026-12-01T09:00", phq9=14),
                                 [_score("2026-12-01T08:30", 14, items=ITEMS_14)])
    assert pre.phq9 == list(ITEMS_14)


def test_two_scores_at_the_same_moment_that_differ_are_refused() -> None:
    with pytest.raises(ScoreConflictError, match="same time"):
        scores_for_infusion(_infusion("2026-12-01T09:00"),
                            [_score("2026-12-01T08:30", 14, "a"),
                             _score("2026-12-01T08:30", 15, "b")])


def test_a_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        scores_for_infusion(_infusion("2026-12-01T09:00"), [], window=-1)


def test_from_an_imported_bundle(tmp_path: Path) -> None:
    """Observations of a Bundle: the day's PHQ-9 is used, an older one outside the window not."""
    imported = run(tmp_path,
                   observation("old", "44261-6", "2026-11-10T08:00:00-05:00", valueInteger=20),
                   observation("today", "44261-6", "2026-11-25T08:30:00-05:00",
                               valueInteger=14))
    pre, provenance = scores_for_infusion(_infusion("2026-11-25T09:00"), imported.scores)
    assert pre.phq9 == 14
    assert provenance[0].describe() == (f"PHQ-9 14 from Observation/today (2026-11-25 08:30, "
                                        f"file {tmp_path / 'bundle.json'})")
    only_old = scores_for_infusion(_infusion("2026-11-25T09:00"), imported.scores[:1])[0]
    assert imported.scores[0].resource == "Observation/old" and only_old.phq9 is None


def test_from_a_course_bundle_exported_elsewhere(tmp_path: Path) -> None:
    """Another course's Bundle (course_bundle): infusion 3's PHQ-9 (9, 2026-12-02) and infusion
    2's GAD-7 items (2026-11-30) fill an infusion on 2026-12-02; on 2026-12-08 the GAD-7 is 8
    days old and left out."""
    from zoneinfo import ZoneInfo

    from ketascreen.fhir import course_bundle, import_fhir
    from ketascreen.models.parsing import parse_course
    from tests.course.helpers import example_course
    from tests.fhir.builders import write

    bundle = course_bundle(parse_course(example_course()), zone=ZoneInfo("America/New_York"))
    source = write(tmp_path / "other-course.json", bundle)
    imported = import_fhir(source, as_of=datetime(2026, 12, 2).date())
    pre, provenance = scores_for_infusion(_infusion("2026-12-02T13:00"), imported.scores)
    assert pre.phq9 == 9 and pre.gad7 == [1] * 7  # GAD-7 of 2026-11-30, in the window
    assert provenance[0].describe().startswith("PHQ-9 9 from Observation/")
    late = scores_for_infusion(_infusion("2026-12-08T09:00"), imported.scores)[0]
    assert late.phq9 == 9 and late.gad7 is None  # 2026-11-30 is 8 days before


COURSE_PATIENT = {"id": "MRN-0042", "name": "Alex Rivera", "birth_date": "1979-05-14",
                  "sex": "female"}


@pytest.mark.parametrize(("imported", "fields"), [
    pytest.param(dict(COURSE_PATIENT, name="A. Rivera"), [], id="same-id-and-birth-date"),
    pytest.param(dict(COURSE_PATIENT, id="MRN-0043"), ["patient.id"], id="other-id"),
    pytest.param(dict(COURSE_PATIENT, birth_date="1979-05-15"), ["patient.birth_date"],
                 id="other-birth-date"),
])
def test_scores_only_from_the_courses_patient(imported: dict[str, str],
                                              fields: list[str]) -> None:
    from ketascreen.course.scores import ScorePatientError, check_same_patient

    if not fields:
        check_same_patient(COURSE_PATIENT, imported, source="record.json")
        return
    with pytest.raises(ScorePatientError) as caught:
        check_same_patient(COURSE_PATIENT, imported, source="record.json")
    assert [p.field for p in caught.value.problems] == fields
    assert str(caught.value).startswith("record.json: not the course's patient")
