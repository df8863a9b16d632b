"""Recognition of case entries against the drug and condition lists: what both share.

Recognition is by code first (RxNorm for medications; SNOMED CT or ICD-10-CM for conditions),
else by a word-bounded, case-insensitive match of an ingredient, brand or condition name in the
entry's text (:func:`word_pattern`), after the importer's ``(from Type/id)`` suffix is removed
(:func:`strip_provenance`). The lists themselves recognise:
:class:`~ketascreen.knowledge.drugs.DrugKnowledge` and
:class:`~ketascreen.knowledge.conditions.ConditionKnowledge`.
"""

from __future__ import annotations

import re
from typing import Literal

Via = Literal["code", "text"]
"""What a recognition rests on: a code, or names found in the text."""

_PROVENANCE = re.compile(r"\s*\(from [A-Z][A-Za-z]+[/ ][A-Za-z0-9.~-]{1,64}\)\s*$")


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
