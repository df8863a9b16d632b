"""The Aho-Corasick name matcher finds exactly what the one large word regex finds.

The regex (:func:`~ketascreen.knowledge.recognition.word_pattern`) is the reference: for the
shipped drug and condition lists, over every name in several settings (alone, inside a longer
word, before a plural, between words, after punctuation), over every text and display string of
the FHIR sample patients, and over generated texts made of names, fragments and separators, the
matcher gives the same names at the same places.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketascreen.knowledge.recognition import NameMatcher, word_pattern
from ketascreen.knowledge.shipped import shipped_conditions, shipped_drugs

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "fhir-samples"
DRUG_NAMES = shipped_drugs().names()
CONDITION_NAMES = sorted(shipped_conditions()._names)
LISTS = {"drugs": DRUG_NAMES, "conditions": CONDITION_NAMES}
MATCHERS = {kind: (NameMatcher(names), word_pattern(names)) for kind, names in LISTS.items()}
SETTINGS = ["{}", "x{}", "{}s", "{}x", "take {} daily", "({})", "{}-like", "1{}", "{}2",
            "é{}é", "{} {}", "no {}, only {}", "{}/{}"]


def _agree(kind: str, text: str) -> None:
    matcher, pattern = MATCHERS[kind]
    expected = [(m.start(), m.group(0)) for m in pattern.finditer(text)]
    assert matcher.find(text) == expected, text


@pytest.mark.parametrize("kind", list(LISTS))
def test_every_name_in_every_setting(kind: str) -> None:
    names = LISTS[kind]
    assert len(names) > 300
    for index, name in enumerate(names):
        other = names[(index * 7 + 3) % len(names)]
        for setting in SETTINGS:
            _agree(kind, setting.format(name, other) if setting.count("{}") == 2
                   else setting.format(name))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("text", "display", "div") and isinstance(item, str):
                yield item
            else:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _fhir_texts() -> list[str]:
    texts: set[str] = set()
    for path in sorted(SAMPLES.rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        texts.update(text.lower() for text in _strings(document))
    return sorted(texts)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="the shared FHIR samples are not present")
def test_every_fhir_sample_text() -> None:
    texts = _fhir_texts()
    assert len(texts) > 1000
    found = 0
    for text in texts:
        for kind in LISTS:
            _agree(kind, text)
        found += bool(MATCHERS["drugs"][0].find(text))
    assert found > 50  # the texts do name drugs: the comparison is not of empty lists


pieces = st.one_of(st.sampled_from(DRUG_NAMES), st.sampled_from(CONDITION_NAMES),
                   st.sampled_from(DRUG_NAMES).map(lambda n: n[: max(1, len(n) // 2)]),
                   st.sampled_from([" ", "-", "/", ",", "(", ")", "x", "1", "é", "  ", ".",
                                    " and ", " no "]))


@settings(max_examples=500, deadline=None)
@given(st.lists(pieces, min_size=1, max_size=12).map("".join))
def test_generated_texts(text: str) -> None:
    for kind in LISTS:
        _agree(kind, text)


def test_empty_list_finds_nothing() -> None:
    assert NameMatcher([]).find("sertraline") == []
    assert NameMatcher(["Sertraline"]).find("sertraline 50 mg") == [(0, "sertraline")]
