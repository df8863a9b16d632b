"""Recognition of case entries against the drug and condition lists: what both share.

Recognition is by code first (RxNorm for medications; SNOMED CT or ICD-10-CM for conditions),
else by a word-bounded, case-insensitive match of an ingredient, brand or condition name in the
entry's text (:func:`word_pattern`), after the importer's ``(from Type/id)`` suffix is removed
(:func:`strip_provenance`). The lists themselves recognise:
:class:`~ketascreen.knowledge.drugs.DrugKnowledge` and
:class:`~ketascreen.knowledge.conditions.ConditionKnowledge`.

Recognising a text is a pure function of the text and of the list's content, so each list
remembers its answers by text (:class:`TextMemo`): one memo per loaded list, i.e. per
knowledge-base file and its sha256, so a keystroke in one entry of a long medication list
re-reads only the entry that changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Generic, Literal, TypeVar

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
