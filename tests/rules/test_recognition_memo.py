"""Recognition remembered by text: the same answers as reading the text afresh, and a
keystroke in a long medication list re-reads only the entry that changed."""

from __future__ import annotations

import copy

import pytest

from ketascreen.knowledge.conditions import ConditionKnowledge
from ketascreen.knowledge.drugs import DrugKnowledge
from ketascreen.knowledge.recognition import TextMemo
from ketascreen.knowledge.shipped import shipped_conditions, shipped_drugs
from ketascreen.models.case import Case
from ketascreen.screening import rule_set_in_force, screen
from tests.helpers.cases import example_case

TEXTS = ["Xanax 0.5 mg tablet", "lorazepam 1 mg (from MedicationRequest/lorazepam-1)",
         "Suboxone film", "vitamin D 1000 units", "", "TRAMADOL 50 mg and tramadol",
         "no benzodiazepine", "Adderall XR 20 mg"]
CONDITIONS = ["Bipolar I disorder", "No history of stroke", "family history of psychosis",
              "possible schizophrenia", "hypertension (from Condition/c-1)", "back pain", ""]


def test_memo_computes_each_text_once_and_starts_again_when_full() -> None:
    calls: list[str] = []

    def compute(text: str) -> tuple[str, ...]:
        calls.append(text)
        return (text.upper(),)

    memo = TextMemo(compute, maxsize=2)
    assert memo("a") == ("A",) and memo("a") is memo("a")
    assert calls == ["a"]
    memo("b")
    assert len(memo) == 2
    memo("c")  # full: starts again, holding only "c"
    assert len(memo) == 1 and calls == ["a", "b", "c"]
    memo("a")
    assert calls == ["a", "b", "c", "a"]


@pytest.mark.parametrize("text", TEXTS)
def test_drug_recognition_remembered_equals_fresh(text: str) -> None:
    drugs = shipped_drugs()
    fresh = DrugKnowledge()
    assert drugs.recognise_text(text) == fresh._recognise_text(text)
    assert drugs.recognise_text(text) is drugs.recognise_text(text)


@pytest.mark.parametrize("text", CONDITIONS)
def test_condition_reading_remembered_equals_fresh(text: str) -> None:
    conditions = shipped_conditions()
    fresh = ConditionKnowledge()
    first = conditions.read_text(text)
    assert first == list(fresh._read_text(text))
    first.clear()  # the caller's list is its own: the memo is not changed by it
    assert conditions.read_text(text) == list(fresh._read_text(text))


def test_keystroke_in_a_long_list_reads_only_the_changed_entry(
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = example_case()
    data["medications"] = [{"text": f"{name} {dose} mg", "status": "active"}
                           for name in ("sertraline", "lorazepam", "tramadol", "metformin")
                           for dose in range(1, 51)]
    rules = rule_set_in_force()
    before = screen(Case.model_validate(data), rules=rules)
    drugs = rules.drugs
    read: list[str] = []
    original = drugs._by_text._compute

    def counting(text: str) -> object:
        read.append(text)
        return original(text)
    monkeypatch.setattr(drugs._by_text, "_compute", counting)
    typed = copy.deepcopy(data)
    typed["medications"][7]["text"] = "sertraline 8 mg dail"
    after = screen(Case.model_validate(typed), rules=rules)
    assert read == ["sertraline 8 mg dail"]
    assert after.model_dump(mode="json")["decision"] == before.model_dump(mode="json")["decision"]


@pytest.mark.parametrize("ingredients", [("alprazolam",), ("buprenorphine", "naloxone"),
                                         ("zolpidem",), ("tramadol",)])
def test_classes_of_remembered_equals_fresh(ingredients: tuple[str, ...]) -> None:
    drugs = shipped_drugs()
    fresh = DrugKnowledge()
    first = drugs.classes_of(ingredients)
    assert first == fresh.classes_of(ingredients) and first
    assert drugs.classes_of(ingredients) is first
