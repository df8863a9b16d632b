"""Screening an infusion of a course: the case the rules read, the result's course key, the
acknowledgements carried over, what changed, and `ketascreen screen COURSE.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ketascreen.cli import main
from ketascreen.course.context import infusion_case
from ketascreen.models.parsing import parse_course
from ketascreen.screening import Screening, run, run_course
from tests.course.helpers import COURSE_EXAMPLE, course_with, example_course


def _screen(course: dict[str, Any], **options: Any) -> Screening:
    return run_course(parse_course(course), **options)


def _concepts(screening: Screening) -> list[str]:
    return [f.concept for f in screening.result.findings]


# --- the case of infusion N -------------------------------------------------------------------

def test_infusion_case_takes_latest_weight_medications_protocol_and_todays_vitals() -> None:
    """Infusion 3: weight re-measured (186 lb), infusion 2's list (Xanax stopped), own dose,
    today's BP; the screening's history and the start date as the screening date."""
    course = parse_course(example_course())
    case = infusion_case(course, 3)
    assert case.measurements.weight == "186 lb"
    assert case.measurements.height == "5 ft 7 in"
    assert case.measurements.blood_pressure == "126/80 mmHg"
    assert [m.status for m in case.medications] == ["active", "stopped"]
    assert case.screening_date.isoformat() == "2026-12-02"
    assert case.history == course.screening.history
    assert case.protocol is not None and case.protocol.dose == "0.5 mg/kg"


def test_infusion_case_keeps_an_earlier_weight_when_not_reweighed() -> None:
    """Infusion 2 gives no weight: infusion 1's 187 lb stands; no vitals today -> none."""
    course = parse_course(course_with({"infusions.1.pre.blood_pressure": None}))
    case = infusion_case(course, 2)
    assert case.measurements.weight == "187 lb"
    assert case.measurements.blood_pressure is None


def test_screening_vitals_are_not_todays() -> None:
    """Without today's blood pressure the screening's is not used: missing-blood-pressure."""
    screening = _screen(course_with({"infusions.2.pre.blood_pressure": None}))
    assert "missing-blood-pressure" in _concepts(screening)
    assert screening.result.decision == "insufficient-data"


# --- the result's course key ------------------------------------------------------------------

def test_course_key_is_the_figures_of_the_last_infusion() -> None:
    """The example's infusion 3: 2 days after infusion 2, 3 in 7 days, two doses before it."""
    screening = _screen(example_course())
    data = json.loads(screening.result.model_dump_json())
    course = data["course"]
    assert course["infusion"] == 3
    assert course["planned"] == 6
    assert course["days_since_previous"] == 2
    assert course["infusions_last_7_days"] == 3
    assert course["phq9"] == {"baseline": 11, "latest": 9, "change_percent": -18.2}
    assert course["status"] == "too-early"
    # Infusions 1 and 2 at 187 lb and 0.5 mg/kg: 42.41 mg each.
    assert course["cumulative_mg"] == pytest.approx(84.82)
    assert list(data) == ["format", "decision", "findings", "abuse_risk", "dose", "ruleset",
                          "course"]
    assert screening.course is not None and screening.course.infusion == 3


def test_case_result_has_no_course_key() -> None:
    """A case screening's JSON has no course key at all (not null)."""
    course = parse_course(example_course())
    result = run(course.screening).result
    assert "course" not in json.loads(result.model_dump_json())
    assert "course" not in result.model_dump(mode="json")


def test_an_earlier_infusion_can_be_screened() -> None:
    """infusion=2 screens infusion 2 with only infusion 1 before it."""
    screening = _screen(example_course(), infusion=2)
    assert screening.course is not None
    assert screening.course.figures.infusion == 2
    assert screening.case.screening_date.isoformat() == "2026-11-30"


@pytest.mark.parametrize("last_signed", [3, -1, 4])
def test_last_signed_must_be_before_the_infusion(last_signed: int) -> None:
    """The last signed checklist is the screening's (0) or an earlier infusion's."""
    with pytest.raises(IndexError):
        _screen(example_course(), last_signed=last_signed)


def test_no_such_infusion() -> None:
    """Infusion 4 of a three-infusion course does not exist."""
    with pytest.raises(IndexError):
        _screen(example_course(), infusion=4)


# --- the command line ---------------------------------------------------------------------------

def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(list(args))
    return status, capsys.readouterr().out


def test_cli_screens_the_last_infusion_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`screen COURSE.json --json` prints the result with the course key."""
    status, text = _cli(capsys, "screen", str(COURSE_EXAMPLE), "--json")
    assert status == 0
    data = json.loads(text)
    assert data["course"]["infusion"] == 3
    assert data == json.loads(run_course(parse_course(example_course())).result
                              .model_dump_json())


def test_cli_report_has_the_course_block(capsys: pytest.CaptureFixture[str]) -> None:
    """The readable report ends with the course figures and the changes."""
    status, text = _cli(capsys, "screen", str(COURSE_EXAMPLE))
    assert status == 0
    assert "COURSE: infusion 3 of 6; status too-early" in text
    assert "weight: changed (187 lb -> 186 lb)" in text


def test_cli_invalid_course_exits_2_naming_the_field(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """An invalid course prints no result: exit 2, the field path on stderr."""
    path = tmp_path / "course.json"
    path.write_text(json.dumps(course_with({"infusions.2.pre.phq9": [1, 1, 1, 1, 1, 1, 1, 1, 4]})),
                    encoding="utf-8")
    status = main(["screen", str(path), "--json"])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert "infusions[2].pre.phq9[8]" in captured.err


# --- acknowledgements carried over while the basis is unchanged -------------------------------

_ELEVATED = "142/88 mmHg"
_ACK = {"concept": "hypertension-elevated", "reason": "Known white-coat rise; home BP 125/80."}
_BENZODIAZEPINE = {"concept": "benzodiazepine", "reason": "Tapering; held the morning dose."}


def _elevated_course(**changes: Any) -> dict[str, Any]:
    """The screening acknowledges hypertension-elevated at 142/88 mmHg (and its Xanax, which
    infusion 1 still takes)."""
    return course_with({"screening.measurements.blood_pressure": _ELEVATED,
                        "screening.acknowledgements": [_ACK, _BENZODIAZEPINE], **changes})


def _finding(screening: Screening, concept: str) -> Any:
    return next(f for f in screening.result.findings if f.concept == concept)


def test_screening_acknowledgement_carries_over_with_the_same_basis() -> None:
    """Infusion 1 at the screening's 142/88 mmHg: the same basis, acknowledged, clear."""
    screening = _screen(_elevated_course(**{"infusions.0.pre.blood_pressure": _ELEVATED}),
                        infusion=1)
    assert _finding(screening, "hypertension-elevated").acknowledged
    assert screening.result.decision == "clear"
    assert screening.course is not None
    assert screening.course.carried_acknowledgements == ("hypertension-elevated",
                                                         "benzodiazepine")
    assert screening.case.acknowledgements[0].reason == _ACK["reason"]


def test_changed_basis_needs_the_infusions_own_acknowledgement() -> None:
    """Infusion 1 at 150/92 mmHg: a changed finding, not carried: needs-review."""
    screening = _screen(_elevated_course(**{"infusions.0.pre.blood_pressure": "150/92 mmHg"}),
                        infusion=1)
    assert not _finding(screening, "hypertension-elevated").acknowledged
    assert screening.result.decision == "needs-review"
    assert screening.course is not None
    assert screening.course.carried_acknowledgements == ("benzodiazepine",)
    own = {"infusions.0.pre.blood_pressure": "150/92 mmHg",
           "infusions.0.acknowledgements": [{"concept": "hypertension-elevated",
                                             "reason": "Rechecked after rest: 138/86."}]}
    acknowledged = _screen(_elevated_course(**own), infusion=1)
    assert acknowledged.result.decision == "clear"
    assert acknowledged.course is not None
    assert acknowledged.course.carried_acknowledgements == ("benzodiazepine",)


def test_acknowledgement_carries_through_unchanged_infusions() -> None:
    """142/88 at the screening, infusion 1, 2 and 3: carried all the way to infusion 3."""
    course = _elevated_course(**{f"infusions.{i}.pre.blood_pressure": _ELEVATED
                                 for i in range(3)})
    screening = _screen(course)
    assert _finding(screening, "hypertension-elevated").acknowledged
    assert screening.result.decision == "clear"


def test_a_change_in_between_breaks_the_chain() -> None:
    """142/88, then 150/92 at infusion 2 (unacknowledged), then 142/88 at infusion 3: infusion
    2 held no acknowledgement, so nothing carries to infusion 3."""
    course = _elevated_course(**{"infusions.0.pre.blood_pressure": _ELEVATED,
                                 "infusions.1.pre.blood_pressure": "150/92 mmHg",
                                 "infusions.2.pre.blood_pressure": _ELEVATED})
    assert _screen(course).result.decision == "needs-review"
    # ... unless the last signed checklist is infusion 1's, which held it at 142/88.
    assert _screen(course, last_signed=1).result.decision == "clear"


def test_screening_is_the_reference_when_last_signed_is_0() -> None:
    """last_signed=0: infusion 3 compared with the screening (142/88) directly."""
    course = _elevated_course(**{"infusions.2.pre.blood_pressure": _ELEVATED})
    screening = _screen(course, last_signed=0)
    assert screening.result.decision == "clear"
    assert screening.course is not None and screening.course.last_signed == 0


def test_day_of_acknowledgement_carries_while_the_answer_stands() -> None:
    """Urinary symptoms acknowledged at infusion 2 carry to infusion 3 while still "yes"."""
    course = course_with({
        "infusions.1.pre.urinary_symptoms": "yes",
        "infusions.1.acknowledgements": [{"concept": "urinary-symptoms",
                                          "reason": "Urinalysis clear; urology review booked."}],
        "infusions.2.pre.urinary_symptoms": "yes"})
    assert _screen(course).result.decision == "clear"
    assert _screen(course, last_signed=0).result.decision == "needs-review"


def test_suicidal_ideation_never_carries_over() -> None:
    """The same item 9 = 1 at infusions 2 and 3: the day's assessment is needed each time."""
    items = [1, 1, 1, 1, 1, 1, 1, 1, 1]
    course = course_with({
        "infusions.1.pre.phq9": items,
        "infusions.1.acknowledgements": [{"concept": "suicidal-ideation",
                                          "reason": "Passive thoughts; safety plan reviewed."}],
        "infusions.2.pre.phq9": items})
    screening = _screen(course)
    assert not _finding(screening, "suicidal-ideation").acknowledged
    assert screening.result.decision == "needs-review"


# --- what changed since the last signed checklist -------------------------------------------------

def _changes(screening: Screening) -> dict[str, tuple[str, str]]:
    assert screening.course is not None
    return {c.item: (c.state, c.detail) for c in screening.course.changes}


def test_changes_name_new_findings_and_changed_values() -> None:
    """A new opioid and a weight typed in kg: medications and weight are new findings."""
    course = course_with({
        "infusions.2.pre.weight": "186 kg",
        "infusions.2.pre.medications": [
            {"text": "Sertraline 100 MG Oral Tablet", "status": "active"},
            {"text": "Oxycodone 5 mg tablet", "status": "active"}]})
    changes = _changes(_screen(course))
    state, detail = changes["medications"]
    assert state == "new finding"
    assert "Oxycodone 5 mg tablet" in detail and "Opioid" in detail
    assert changes["weight"][0] == "new finding"
    assert changes["weight"][1].startswith("187 lb -> 186 kg")
    assert changes["escort"] == ("unchanged", "")
    assert list(changes) == ["medications", "weight", "vital signs", "fasting", "escort",
                             "pregnancy test", "PHQ-9 item 9", "urinary symptoms"]


def test_changes_against_the_screening() -> None:
    """Infusion 1 against the screening: day-of items were not recorded there."""
    changes = _changes(_screen(example_course(), infusion=1))
    assert changes["escort"] == ("changed", "not recorded at the screening -> yes")
    assert changes["weight"] == ("unchanged", "")


def test_prior_spike_is_a_new_finding_of_the_next_infusion() -> None:
    """A BP spike recorded in infusion 2's monitoring shows at infusion 3."""
    course = course_with({"infusions.1.monitoring.0.blood_pressure": "188/104 mmHg"})
    screening = _screen(course)
    assert "prior-severe-hypertension" in _concepts(screening)
    assert _changes(screening)["vital signs"][0] == "new finding"


# --- course.status through run_course ---------------------------------------------------------

@pytest.mark.parametrize(("changes", "infusion", "status"), [
    ({}, 3, "too-early"),                                        # 9 vs 11 before infusion 5
    ({"infusions.2.pre.phq9": 4}, 3, "remission"),
    ({"infusions.2.pre.phq9": 5}, 3, "response"),               # -54.5 %
    ({"infusions.2.pre.phq9": 8}, 3, "improving"),              # -27.3 %
    ({"infusions.0.pre.phq9": None}, 3, "unknown"),              # no baseline
    ({"infusions.2.pre.phq9": None, "infusions.1.pre.phq9": None,
      "infusions.0.pre.phq9": None}, 3, "unknown"),
])
def test_course_status(changes: dict[str, Any], infusion: int, status: str) -> None:
    """Each status of course-format.md from a screened course."""
    screening = _screen(course_with(changes), infusion=infusion)
    assert screening.result.course is not None
    assert screening.result.course.status == status


def test_course_status_no_improvement_from_infusion_5() -> None:
    """Two more infusions with PHQ-9 9: infusion 4 too early, infusion 5 no improvement."""
    course = example_course()
    for number, start in ((4, "2026-12-04T09:00"), (5, "2026-12-07T09:00")):
        infusion = json.loads(json.dumps(course["infusions"][2]))
        infusion.update(number=number, start=start)
        infusion["pre"].update(last_solids=start[:10] + "T01:00",
                               last_clear_fluids=start[:10] + "T07:00")
        course["infusions"].append(infusion)
    parsed = parse_course(course)
    four = run_course(parsed, infusion=4).result.course
    five = run_course(parsed).result.course
    assert four is not None and four.status == "too-early"
    assert five is not None and five.status == "no-improvement"
    assert five.infusions_last_7_days == 3 and five.days_since_previous == 3


# --- plan and dose change ---------------------------------------------------------------------

def test_planned_defaults_to_the_formulary_course() -> None:
    """Without a plan in the file the formulary's depression course (6) is planned."""
    screening = _screen(course_with({"plan": None}))
    assert screening.result.course is not None and screening.result.course.planned == 6


def test_dose_change_from_the_previous_infusion() -> None:
    """Infusion 3 escalates 0.5 -> 0.75 mg/kg: the course screening carries the change."""
    screening = _screen(course_with({"infusions.2.dose": {"dose": "0.75 mg/kg"}}))
    assert screening.course is not None and screening.course.dose_change is not None
    assert screening.course.dose_change.text.startswith("0.5 -> 0.75 mg/kg: escalation")
    assert _screen(example_course()).course.dose_change is None  # type: ignore[union-attr]


def test_cli_course_checklist_goes_through_the_same_pdf_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`screen COURSE.json --pdf OUT.pdf` writes the infusion's (unsigned) checklist; --summary
    reads a course file as its last infusion."""
    out = tmp_path / "infusion-3.pdf"
    assert main(["screen", str(COURSE_EXAMPLE), "--pdf", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert "NOT signed" in capsys.readouterr().err
    assert main(["screen", str(COURSE_EXAMPLE), "--summary"]) == 0
    assert "Alex Rivera (MRN-0042): CLEAR" in capsys.readouterr().out
