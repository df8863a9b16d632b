"""The shipped drug and condition lists, loaded once per process and shared.

The rule set (when it screens with the shipped lists) and the FHIR import read the same copies,
so a process that imports and screens loads each list once.
"""

from __future__ import annotations

import functools

from ketascreen.knowledge.conditions import ConditionKnowledge
from ketascreen.knowledge.drugs import DrugKnowledge


@functools.cache
def shipped_drugs() -> DrugKnowledge:
    """The shipped drug list (``knowledge/data/drugs.toml``), loaded once.

    Raises:
        KnowledgeBaseError: the shipped file is invalid.
    """
    return DrugKnowledge()


@functools.cache
def shipped_conditions() -> ConditionKnowledge:
    """The shipped condition list (``knowledge/data/conditions.toml``), loaded once.

    Raises:
        KnowledgeBaseError: the shipped file is invalid.
    """
    return ConditionKnowledge()
