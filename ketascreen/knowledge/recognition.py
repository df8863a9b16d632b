"""Recognition of case entries against the drug and condition lists: what both share.

Recognition is by code first (RxNorm for medications; SNOMED CT or ICD-10-CM for conditions),
else by a word-bounded, case-insensitive match of an ingredient, brand or condition name in the
entry's text (:func:`word_pattern`), after the importer's ``(from Type/id)`` suffix is removed
(:func:`strip_provenance`). The names are found by :class:`NameMatcher`, one Aho-Corasick
automaton (pyahocorasick) that finds exactly what :func:`word_pattern`'s one large regex finds
(a differential test holds them to it over every name and every FHIR sample text): it is built in
under 1 ms where the regex took some 20 ms to compile at every start, and matches a text some 20
times faster. The lists themselves recognise:
:class:`~ketascreen.knowledge.drugs.DrugKnowledge` and
:class:`~ketascreen.knowledge.conditions.ConditionKnowledge`.

Recognising a text is a pure function of the text and of the list's content, so each list
remembers its answers by text (:class:`TextMemo`): one memo per loaded list, i.e. per
knowledge-base file and its sha256, so a keystroke in one entry of a long medication list
re-reads only the entry that changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Generic, Literal, TypeVar

import ahocorasick

Via = Literal["code", "text"]
"""What a recognition rests on: a code, or names found in the text."""

_PROVENANCE = re.compile(r"\s*\(from [A-Z][A-Za-z]+[/ ][A-Za-z0-9.~-]{1,64}\)\s*$")


_T = TypeVar("_T")


class TextMemo(Generic[_T]):
    """The answers of a recogniser by text, for one loaded knowledge-base list.

    ``compute`` must be a pure function of the text (given the list it belongs to) and must
    return an immutable value (a tuple, a frozen dataclass, ``None``): the same object is handed
    out for the same text. At most ``maxsize`` texts are kept; when full the memo starts again.
    """

    def __init__(self, compute: Callable[[str], _T], maxsize: int = 4096) -> None:
        self._compute = compute
        self._maxsize = maxsize
        self._answers: dict[str, _T] = {}

    def __call__(self, text: str) -> _T:
        """The answer for ``text``, computed on its first request."""
        try:
            return self._answers[text]
        except KeyError:
            pass
        answer = self._compute(text)
        if len(self._answers) >= self._maxsize:
            self._answers.clear()
        self._answers[text] = answer
        return answer

    def __len__(self) -> int:
        return len(self._answers)


def strip_provenance(text: str) -> str:
    """``text`` without a trailing ``(from Type/id)`` suffix written by the FHIR importer.

    The suffix names the source record for the clinician; it is not clinical text, and an id
    such as ``diazepam-1`` must never be read as a drug name.
    """
    return _PROVENANCE.sub("", text)


def word_pattern(names: list[str]) -> re.Pattern[str]:
    """One pattern matching any of ``names`` as whole words, lower-case, longest first."""
    alternatives = sorted({re.escape(n.lower()) for n in names}, key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])")


_WORD_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


class NameMatcher:
    """Finds the names of a list in a lower-case text as whole words.

    What it finds is what ``word_pattern(names).finditer(text)`` finds: scanning left to right,
    at each place the longest name not preceded or followed by a letter a-z or a digit, and the
    scan goes on after it (no overlaps). One Aho-Corasick automaton (pyahocorasick) finds every
    occurrence of every name in one pass; the word boundaries and the leftmost-longest choice are
    applied to those occurrences.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for name in {n.lower() for n in names}:
            self._automaton.add_word(name, len(name))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[tuple[int, str]]:
        """The names in ``text`` (already lower-case), each with where it starts, in order."""
        if self._empty:
            return []
        last = len(text) - 1
        found: list[tuple[int, int]] = []
        for end, length in self._automaton.iter(text):
            start = end - length + 1
            if ((start == 0 or text[start - 1] not in _WORD_CHARACTERS)
                    and (end == last or text[end + 1] not in _WORD_CHARACTERS)):
                found.append((start, -length))
        if not found:
            return []
        found.sort()
        names: list[tuple[int, str]] = []
        free = 0
        for start, negative_length in found:
            if start >= free:
                free = start - negative_length
                names.append((start, text[start:free]))
        return names
