"""Problem-list text is read in context: negated, family or uncertain mentions are not conditions.

Vectors for every history concept (one name each, taken from conditions.toml): the affirmed name
fires; negated and family-history wording stays silent; uncertain wording does not fire the
concept but asks, through ``unanswered-history``, until the questionnaire answers it. A code
stays authoritative whatever its text says.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from ketascreen.api import parse_case
from ketascreen.concepts import HISTORY_CONCEPTS
from ketascreen.knowledge.context import read_context
from ketascreen.models.case import ICD10CM, SNOMED, Condition
from ketascreen.models.result import Result
from ketascreen.screening import rule_set_in_force as default_ruleset
from ketascreen.screening import screen
from tests.helpers.cases import REPO, clean_case, patched


def _name(concept: str) -> str:
    """One problem-list name of ``concept`` from conditions.toml that reads back as it."""
    knowledge = default_ruleset().conditions
    for entry in knowledge.entries:
        if entry.concept != concept:
            continue
        for synonym in entry.synonyms:
            matches = knowledge.read_text(synonym)
            if (not synonym.startswith("history") and len(matches) == 1
                    and matches[0].entry.concept == concept and matches[0].counts):
                return synonym
    raise AssertionError(f"no usable name for {concept}")  # pragma: no cover


NAMES = {concept: _name(concept) for concept in HISTORY_CONCEPTS}

NEGATED = ("No history of {}", "Denies {}", "{} ruled out", "Negative for {}", "Without {}")
FAMILY = ("Family history of {}", "FH {}", "Mother had {}")
UNCERTAIN = (("Possible {}", "possible"), ("?{}", "?"), ("r/o {}", "r/o"),
             ("Suspected {}", "suspected"))


def _screen(text: str, **condition: Any) -> Result:
    """The clean case (every question answered no) with one problem-list entry."""
    case = patched(clean_case(), {"history": dict.fromkeys(HISTORY_CONCEPTS, "no")})
    case["conditions"] = [{"text": text, "status": "active", **condition}]
    return screen(parse_case(case))


def _screen_with(text: str, concept: str, answer: str) -> Result:
    """Like :func:`_screen`, with ``concept`` answered ``answer`` in the questionnaire."""
    case = clean_case()
    case["history"] = dict.fromkeys(HISTORY_CONCEPTS, "no")
    case["history"][concept] = answer
    case["conditions"] = [{"text": text, "status": "active"}]
    return screen(parse_case(case))


def _concepts(result: Result) -> set[str]:
    return {f.concept for f in result.findings}


def _finding(result: Result, concept: str) -> Any:
    return next(f for f in result.findings if f.concept == concept)


@pytest.mark.parametrize("concept", HISTORY_CONCEPTS)
def test_affirmed_name_fires(concept: str) -> None:
    """The plain name fires its concept even when the questionnaire says no."""
    name = NAMES[concept].capitalize()
    result = _screen(name)
    assert concept in _concepts(result)
    assert f'"{name}"' in _finding(result, concept).basis


@pytest.mark.parametrize("template", NEGATED)
@pytest.mark.parametrize("concept", HISTORY_CONCEPTS)
def test_negated_wording_stays_silent(concept: str, template: str) -> None:
    """"No history of X", "Denies X", "X ruled out" ...: not the condition, nothing to ask."""
    result = _screen(template.format(NAMES[concept]))
    assert result.findings == []
    assert result.decision == "clear"


@pytest.mark.parametrize("template", FAMILY)
@pytest.mark.parametrize("concept", HISTORY_CONCEPTS)
def test_family_history_stays_silent(concept: str, template: str) -> None:
    """"Family history of X", "FH X", "Mother had X": another person's condition."""
    result = _screen(template.format(NAMES[concept]))
    assert result.findings == []
    assert result.decision == "clear"


@pytest.mark.parametrize(("template", "cue"), UNCERTAIN)
@pytest.mark.parametrize("concept", HISTORY_CONCEPTS)
def test_uncertain_wording_asks_until_answered(concept: str, template: str, cue: str) -> None:
    """"Possible X", "?X", "r/o X": a question listed by unanswered-history, never the concept;
    the physician's yes fires the concept, their no is the answer."""
    text = template.format(NAMES[concept])
    unanswered = _screen_with(text, concept, "unknown")
    assert concept not in _concepts(unanswered)
    assert unanswered.decision == "insufficient-data"
    detail = _finding(unanswered, "unanswered-history").basis
    assert f'{concept}: problem list says "{text}"' in detail
    assert f"uncertain: '{cue}'" in detail
    assert "answer the question" in detail

    yes = _screen_with(text, concept, "yes")
    assert concept in _concepts(yes)
    assert "unanswered-history" not in _concepts(yes)

    no = _screen_with(text, concept, "no")
    assert no.findings == []
    assert no.decision == "clear"


@pytest.mark.parametrize(("text", "concept"), [
    ("Family history of aneurysm", "aneurysmal-vascular-disease"),
    ("No history of stroke", "cerebrovascular-accident-history"),
    ("Glaucoma ruled out", "raised-intraocular-pressure"),
])
def test_the_issue_examples(text: str, concept: str) -> None:
    """The three problem-list entries of issue 10 are clear; their affirmed twins are not."""
    result = _screen(text)
    assert result.findings == []
    assert result.decision == "clear"
    twin = _screen(text.replace("Family history of ", "").replace("No history of ", "")
                   .replace(" ruled out", "").capitalize())
    assert concept in _concepts(twin)
    assert twin.decision in ("do-not-infuse", "needs-review")


def test_family_history_of_aneurysm_was_do_not_infuse() -> None:
    """The affirmed twin of the worst example is the absolute, unacknowledgeable finding."""
    assert _screen("Aneurysm").decision == "do-not-infuse"


@pytest.mark.parametrize(("text", "system", "code", "concept"), [
    ("No history of stroke", SNOMED, "230690007", "cerebrovascular-accident-history"),
    ("Family history of aneurysm", ICD10CM, "I71.4", "aneurysmal-vascular-disease"),
    ("Glaucoma ruled out", ICD10CM, "H40.11", "raised-intraocular-pressure"),
    ("Possible AAA", SNOMED, "233985008", "aneurysmal-vascular-disease"),
])
def test_a_code_is_authoritative_whatever_its_text(text: str, system: str, code: str,
                                                  concept: str) -> None:
    """A SNOMED CT or ICD-10-CM code fires its concept even if the text reads as negated."""
    match = default_ruleset().conditions.recognise(Condition(text=text, system=system, code=code))
    assert [(m.entry.concept, m.via) for m in match] == [(concept, "code")]
    assert concept in _concepts(_screen(text, system=system, code=code))


def test_an_unknown_code_falls_back_to_the_text_in_context() -> None:
    """A code the knowledge base does not list leaves the text to decide, read in context."""
    result = _screen("No history of stroke", system=SNOMED, code="22298006000")
    assert result.findings == []


def test_a_comma_ends_the_cue() -> None:
    """In "No stroke, aortic aneurysm" only the stroke is negated: the aneurysm counts."""
    result = _screen("No stroke, aortic aneurysm")
    assert _concepts(result) == {"aneurysmal-vascular-disease"}


def test_conditions_named_twice_keep_the_affirmed_reading() -> None:
    """"Possible AAA; aortic aneurysm on CT" names one entity twice: the affirmed one counts."""
    result = _screen("Possible AAA; aortic aneurysm on CT")
    assert "aneurysmal-vascular-disease" in _concepts(result)


@pytest.mark.parametrize("text", [
    "Stroke (resolved)", "Epilepsy, seizure free since 2019", "h/o stroke", "History of stroke",
    "Stroke 2019, no residual weakness", "Old stroke", "s/p aortic aneurysm repair",
])
def test_past_or_controlled_conditions_still_count(text: str) -> None:
    """Historical, resolved or controlled wording is not negation: the condition counts."""
    assert _concepts(_screen(text)) & {"cerebrovascular-accident-history", "seizure-disorder",
                                       "aneurysmal-vascular-disease"}


def test_uncertain_pregnancy_asks_while_pregnancy_status_is_unknown() -> None:
    """"Possible ectopic pregnancy" is a question while pregnancy status is unknown."""
    case = clean_case()
    case["history"] = dict.fromkeys(HISTORY_CONCEPTS, "no")
    case["conditions"] = [{"text": "Possible ectopic pregnancy", "status": "active"}]
    case["patient"]["pregnant"] = "unknown"
    result = screen(parse_case(case))
    assert "pregnancy" not in _concepts(result)
    assert 'pregnancy: problem list says "Possible ectopic pregnancy"' in _finding(
        result, "unanswered-history").basis
    case["patient"]["pregnant"] = "no"
    assert "unanswered-history" not in _concepts(screen(parse_case(case)))


@pytest.mark.parametrize(("text", "name", "expected"), [
    ("Family history of aneurysm", "aneurysm", "family: 'family'"),
    ("No history of stroke", "stroke", "negated: 'no history of'"),
    ("Glaucoma ruled out", "glaucoma", "negated: 'ruled out'"),
    ("possible AAA", "aaa", "uncertain: 'possible'"),
    ("AAA?", "aaa", "uncertain: '?'"),
    ("Bipolar disorder (father)", "bipolar disorder", "family: 'father'"),
    ("Stroke in mother", "stroke", "family: 'in mother'"),
    ("AAA unlikely", "aaa", "uncertain: 'unlikely'"),
    ("Stroke; no seizures", "stroke", "affirmed"),
])
def test_read_context_names_the_cue(text: str, name: str, expected: str) -> None:
    """The reading carries the words that decided it, for the finding's basis."""
    lower = text.lower()
    start = lower.index(name)
    (assertion,) = read_context(lower, ((start, start + len(name)),))
    assert assertion.describe() == expected


def test_spacy_is_loaded_only_when_a_text_names_a_condition() -> None:
    """Importing ketascreen and screening a case without condition names never loads spaCy."""
    script = (
        "import sys, json\n"
        "import ketascreen, ketascreen.cli\n"
        "from ketascreen.screening import screen\n"
        "from ketascreen.api import parse_case\n"
        "from tests.helpers.cases import clean_case\n"
        "case = clean_case(); case['conditions'] = [{'text': 'Appendicitis', 'status': 'active'}]\n"
        "screen(parse_case(case))\n"
        "before = 'spacy' in sys.modules\n"
        "case['conditions'] = [{'text': 'No history of stroke', 'status': 'active'}]\n"
        "screen(parse_case(case))\n"
        "print(json.dumps([before, 'spacy' in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[false, true]"


def test_preload_from_threads_builds_one_reader() -> None:
    """preload() may run in background threads (the app's start-up): one reader is built."""
    from ketascreen.knowledge import context

    threads = [threading.Thread(target=context.preload) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(context._BUILT) == 1  # the one shared reader
    assert read_context("fh stroke", ((3, 9),))[0].status == "family"


@pytest.mark.parametrize(("text", "concept", "status"), [
    ("No h/o stroke", "cerebrovascular-accident-history", "negated"),
    ("No hx of stroke", "cerebrovascular-accident-history", "negated"),
    ("AAA - ruled out", "aneurysmal-vascular-disease", "negated"),
    ("Glaucoma: none", "raised-intraocular-pressure", "negated"),
    ("Hx of AAA", "aneurysmal-vascular-disease", "affirmed"),
    ("Aortic aneurysm without rupture", "aneurysmal-vascular-disease", "affirmed"),
    ("No longer drinking - alcohol use disorder in remission",
     "substance-use-disorder-remission", "affirmed"),
    ("Epilepsy - no seizures in 5 years", "seizure-disorder", "affirmed"),
    ("History of AAA in father", "aneurysmal-vascular-disease", "family"),
    ("Brother with schizophrenia", "psychotic-disorder", "family"),
    ("Glaucoma suspect", "raised-intraocular-pressure", "uncertain"),
    ("OSA suspected", "obstructive-sleep-apnea", "uncertain"),
    ("Concern for obstructive sleep apnea", "obstructive-sleep-apnea", "uncertain"),
    ("R/O AAA", "aneurysmal-vascular-disease", "uncertain"),
])
def test_problem_list_shorthand(text: str, concept: str, status: str) -> None:
    """Problem-list shorthand and clause boundaries read as a clinician reads them."""
    matches = default_ruleset().conditions.read(Condition(text=text))
    assert [(m.entry.concept, m.assertion.status) for m in matches] == [(concept, status)]


def test_a_negated_qualifier_does_not_negate_the_condition() -> None:
    """"Bipolar disorder without psychotic features": bipolar counts, psychosis does not."""
    matches = default_ruleset().conditions.read(
        Condition(text="Bipolar disorder without psychotic features"))
    assert [(m.entry.concept, m.assertion.status) for m in matches] == [
        ("bipolar-disorder", "affirmed"), ("psychotic-disorder", "negated")]
