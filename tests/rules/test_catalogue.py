"""One walk over every rule, source and drug entry, and the loader's refusals of bad rule files."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from ketascreen.concepts import (
    ALL_CONCEPTS,
    HISTORY_CONCEPTS,
    MEDICATION_CLASSES,
    VITAL_SIGN_CONCEPTS,
)
from ketascreen.errors import KnowledgeBaseError
from ketascreen.knowledge.policy import load_policy
from ketascreen.knowledge.rules import RULE_ID
from ketascreen.rules.catalogue import load_rules
from ketascreen.rules.evaluators import EVALUATORS, INPUTS
from ketascreen.screening import rule_set_in_force as default_ruleset
from tests.helpers.cases import SHARED

FACTS = (SHARED / "clinical" / "clinical-facts.md").read_text(encoding="utf-8")
COURSE_FACTS = (SHARED / "clinical" / "course-facts.md").read_text(encoding="utf-8")
RULES_TOML = resources.files("ketascreen.knowledge").joinpath("data", "rules.toml").read_text(
    encoding="utf-8")

# Classes a single ingredient must never share: each pair would double-report or contradict.
INCOMPATIBLE_CLASSES = [
    ("opioid", "naltrexone"), ("benzodiazepine", "sedative-hypnotic"),
    ("cyp3a4-inhibitor", "cyp-inducer"), ("opioid", "nmda-antagonist"),
    ("psychostimulant", "sympathomimetic"), ("benzodiazepine", "opioid"),
]


def test_every_rule_is_well_formed() -> None:
    """Id format, unique ids, known concept and inputs, citations resolving to clinical-facts
    (R#) or course-facts (C#)."""
    ruleset = default_ruleset()
    rules = ruleset.catalogue.rules
    assert len({r.id for r in rules}) == len(rules)
    for rule in rules:
        assert RULE_ID.match(rule.id)
        assert rule.concept in ALL_CONCEPTS
        assert set(rule.inputs) <= INPUTS
        assert set(rule.inputs) == EVALUATORS[rule.logic].reads(rule.concept, rule.params)
        assert rule.sources
        for key in rule.sources:
            facts = COURSE_FACTS if key.startswith("C") else FACTS
            assert re.search(rf"^- {key}\b|; {key} ", facts, flags=re.MULTILINE), key
        for text in (rule.title, rule.statement, rule.action):
            assert text == text.strip()
            assert "  " not in text
            assert text[0].isupper()
        assert rule.statement.endswith(".")
        assert rule.action.endswith(".")
        assert rule.severity_key in ruleset.policy.severity


def test_every_course_source_is_a_reference_of_course_facts() -> None:
    """Each C# source is listed, with its address, in course-facts.md."""
    course = {k: s for k, s in default_ruleset().catalogue.sources.items() if k.startswith("C")}
    assert course
    for key, source in course.items():
        line = re.search(rf"^- {key}\b.*$", COURSE_FACTS, flags=re.MULTILINE)
        assert line is not None, key
        assert source.url.split("://", 1)[1] in line.group(0), key


def test_vital_sign_rules_cite_the_weak_sources_and_say_local_policy() -> None:
    """The four vital-sign rules read their limit from the policy, cite C14 (C15 R116 for SpO2)
    and say in their statement that the limit is local policy on a weak source."""
    rules = {r.concept: r for r in default_ruleset().catalogue.rules
             if r.concept in VITAL_SIGN_CONCEPTS}
    assert set(rules) == set(VITAL_SIGN_CONCEPTS)
    assert {c: r.sources for c, r in rules.items()} == {
        "hypotension": ("C14",), "bradycardia": ("C14",), "tachycardia": ("C14",),
        "hypoxaemia": ("C15", "R116")}
    for rule in rules.values():
        assert rule.kind == "contraindication"
        assert "local policy" in rule.statement and "weak source" in rule.statement
        assert rule.params["threshold"] in default_ruleset().policy.quantities


def test_every_concept_has_a_rule() -> None:
    """Each history, derived, medication, abuse and data concept is named by some rule."""
    named = {r.concept for r in default_ruleset().catalogue.rules}
    missing = {c for c in ALL_CONCEPTS if c not in named and not c.startswith(("dose-",
                                                                                 "duration-"))}
    assert missing == set()


def test_every_drug_entry_is_consistent() -> None:
    """Ingredients: known classes, no incompatible pair, names unique, benzodiazepine factors."""
    drugs = default_ruleset().drugs
    for ingredient in drugs.ingredients.values():
        assert set(ingredient.classes) <= set(MEDICATION_CLASSES)
        for a, b in INCOMPATIBLE_CLASSES:
            assert not {a, b} <= set(ingredient.classes), f"{ingredient.name}: {a} and {b}"
        if ingredient.diazepam_equivalent is not None:
            assert "benzodiazepine" in ingredient.classes
            mg = ingredient.diazepam_equivalent.to("milligram").magnitude
            assert 0.05 <= mg <= 100, ingredient.name
    for cls in MEDICATION_CLASSES:
        assert any(cls in i.classes for i in drugs.ingredients.values()), cls
    for code, ingredients in drugs.by_code.items():
        assert code.isdigit()
        assert all(i in drugs.ingredients for i in ingredients)
    assert drugs.equivalence_source


def test_every_history_concept_is_recognisable_from_the_problem_list() -> None:
    """The condition knowledge base maps some code or name to every history concept."""
    entries = default_ruleset().conditions.entries
    assert {e.concept for e in entries} >= set(HISTORY_CONCEPTS) | {"pregnancy"}


# --- the loader refuses broken rule files ------------------------------------------------------

def _with_rule_edit(tmp_path: Path, edit: dict[str, Any]) -> Path:
    doc = tomllib.loads(RULES_TOML)
    doc["rule"][1].update(edit)
    return _write(tmp_path, doc)


def _write(tmp_path: Path, doc: dict[str, Any]) -> Path:
    lines = [f'schema = "{doc["schema"]}"', f'version = "{doc["version"]}"']
    for rule in doc["rule"]:
        lines.append("[[rule]]")
        for key, value in rule.items():
            lines.append(f"{key} = {_toml(value)}")
    path = tmp_path / "rules.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return str(value)


def test_unedited_copy_loads(tmp_path: Path) -> None:
    """The round-trip used below loads the shipped rules unchanged."""
    catalogue = load_rules(load_policy(), _with_rule_edit(tmp_path, {}))
    assert len(catalogue.rules) == len(default_ruleset().catalogue.rules)


@pytest.mark.parametrize(("edit", "problem"), [
    ({"inputs": ["history.aneurysmal-vascular-disease", "conditions", "vitals.pulse"]},
     "unknown input"),
    ({"inputs": ["history.aneurysmal-vascular-disease"]}, "do not match what the logic reads"),
    ({"concept": "aneurysm"}, "unknown concept"),
    ({"sources": []}, "no citation"),
    ({"sources": ["R999"]}, "not in clinical-facts"),
    ({"id": "KS-CI-0001"}, "duplicate rule id"),
    ({"id": "CI-2"}, "id must look like"),
    ({"kind": "interaction"}, "does not match the id prefix"),
    ({"logic": "magic"}, "unknown logic"),
    ({"params": {"counts_inactive": "yes"}}, "must be true or false"),
    ({"params": {}}, "missing parameter"),
    ({"basis": "{evidence} {colour}"}, "unknown placeholder"),
    ({"statement": ""}, "statement is empty"),
    ({"severity_key": "aneurysmal-vascular-disease.severe"}, "no severity"),
    ({"colour": "red"}, "unknown key"),
])
def test_broken_rules_fail_loudly(tmp_path: Path, edit: dict[str, Any], problem: str) -> None:
    """Each kind of mistake in a rule file stops loading, naming the rule and the problem."""
    with pytest.raises(KnowledgeBaseError, match=problem) as caught:
        load_rules(load_policy(), _with_rule_edit(tmp_path, edit))
    assert caught.value.entry in ("KS-CI-0002", "KS-CI-0001", "CI-2")


def test_broken_policy_fails_loudly(tmp_path: Path) -> None:
    """A threshold of the wrong unit, or an unknown severity, stops loading."""
    shipped = resources.files("ketascreen.knowledge").joinpath("data", "policy.toml").read_text(
        encoding="utf-8")
    bad = tmp_path / "policy.toml"
    bad.write_text(shipped.replace('"180 mmHg"', '"180"'), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="hypertension_severe_systolic"):
        load_policy(bad)
    bad.write_text(shipped.replace('"porphyria" = "relative"', '"porphyria" = "severe"'),
                   encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="porphyria"):
        load_policy(bad)
    bad.write_text(shipped + '\n[extra]\nx = 1\n', encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="unknown key"):
        load_policy(bad)


@pytest.mark.parametrize(("params", "problem"), [
    ({"vital": "pulse", "compare": "below", "threshold": "bradycardia_heart_rate"},
     "vital must be one of"),
    ({"vital": "heart_rate", "compare": "under", "threshold": "bradycardia_heart_rate"},
     "compare must be one of"),
    ({"vital": "heart_rate", "compare": "below", "threshold": "hypoxaemia_spo2"},
     "is not a rate per minute"),
    ({"vital": "heart_rate", "compare": "below"}, "missing parameter"),
])
def test_broken_vital_sign_rules_fail_loudly(tmp_path: Path, params: dict[str, Any],
                                             problem: str) -> None:
    """A vital-sign rule naming an unknown vital sign or comparison, or a threshold of another
    dimension (a SpO2 % limit for a heart rate), stops loading."""
    doc = tomllib.loads(RULES_TOML)
    rule = next(r for r in doc["rule"] if r["id"] == "KS-CI-0031")
    rule["params"] = params
    with pytest.raises(KnowledgeBaseError, match=problem) as caught:
        load_rules(load_policy(), _write(tmp_path, doc))
    assert caught.value.entry == "KS-CI-0031"
