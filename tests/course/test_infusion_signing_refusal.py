"""The signing refusal of an infusion's screening names what its signature means: the day-of
re-check's approval of infusion N (of M), never the first screening's approval."""

from __future__ import annotations

from typing import Any

import pytest

from ketascreen.models.checklist import SIGNATURE_MEANING, infusion_signature_meaning
from ketascreen.models.parsing import parse_course
from ketascreen.screening import SigningRefusedError, run, run_course
from tests.course.helpers import course_with
from tests.records.support import screening_of

HYPERTENSIVE = {"infusions.2.pre.blood_pressure": "200/120 mmHg"}
"""Infusion 3 at 200/120 mmHg today: DO NOT INFUSE."""
NO_BP = {"infusions.2.pre.blood_pressure": None}
"""Infusion 3 without today's blood pressure: insufficient data."""
ITEM9 = {"infusions.2.pre.phq9": [1, 1, 1, 1, 1, 1, 1, 1, 2]}
"""Infusion 3 with PHQ-9 item 9 = 2: needs review."""


@pytest.mark.parametrize(("changes", "decision"), [
    (HYPERTENSIVE, "do-not-infuse"), (NO_BP, "insufficient-data"), (ITEM9, "needs-review")])
def test_an_infusions_refusal_names_the_infusions_meaning(changes: dict[str, Any],
                                                          decision: str) -> None:
    screening = run_course(parse_course(course_with(changes)))
    refusal = screening.signing_refusal
    assert screening.result.decision == decision and refusal is not None
    meaning = "Day-of re-check: approved for infusion 3 of 6"
    assert refusal.meaning == meaning == infusion_signature_meaning(3, 6)
    with pytest.raises(SigningRefusedError) as raised:
        screening.refuse_signing()
    assert raised.value.meaning == meaning
    assert f'a signature means "{meaning}"' in str(raised.value)
    assert "first infusion" not in str(raised.value)
    assert "first infusion" not in refusal.message + refusal.status + refusal.reason


def test_do_not_infuse_at_an_infusion_says_which_infusion() -> None:
    refusal = run_course(parse_course(course_with(HYPERTENSIVE))).signing_refusal
    assert refusal is not None and refusal.code == "do-not-infuse"
    assert '"Day-of re-check: approved for infusion 3 of 6"' in refusal.message
    assert "approval for infusion 3)" in refusal.status


def test_an_earlier_infusion_names_its_own_number() -> None:
    """Infusion 2 of the file screened as the one in question (not the file's last)."""
    changes = {"infusions.1.pre.blood_pressure": "200/120 mmHg"}
    refusal = run_course(parse_course(course_with(changes)), infusion=2).signing_refusal
    assert refusal is not None
    assert refusal.meaning == "Day-of re-check: approved for infusion 2 of 6"
    assert "approval for infusion 2)" in refusal.status


def test_a_first_screening_keeps_its_meaning() -> None:
    """The twin: a case's refusal still means approval for the first infusion."""
    screening = run(screening_of({"measurements.blood_pressure": "200/120 mmHg"}).case)
    refusal = screening.signing_refusal
    assert screening.result.decision == "do-not-infuse" and refusal is not None
    assert refusal.meaning == SIGNATURE_MEANING == "Screened and approved for first infusion"
    assert f'"{SIGNATURE_MEANING}"' in refusal.message
    assert "approval for infusion)" in refusal.status
    assert f'a signature means "{SIGNATURE_MEANING}"' in str(refusal.error("KS-X"))
    assert run_course(parse_course(course_with({}))).signing_refusal is None  # clear: none
