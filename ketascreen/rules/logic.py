"""What every kind of rule logic shares: its parameters, what it returns, what it may consult
and how it declares what it reads (:mod:`ketascreen.rules.evaluators` holds the screening's
logic, :mod:`ketascreen.rules.dayof` the day-of logic of an infusion of a course)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ketascreen.knowledge.drugs import DrugKnowledge
from ketascreen.knowledge.policy import Policy
from ketascreen.rules.facts import Facts

Params = Mapping[str, Any]
"""A rule's ``params`` as written in the rules file."""
Fired = dict[str, str] | None
"""The placeholder values of a rule's basis when it fires; ``None`` when it stays silent."""


@dataclass(frozen=True, eq=False, repr=False)
class Context:
    """What an evaluator may consult besides the facts."""

    policy: Policy
    drugs: DrugKnowledge


@dataclass(frozen=True, eq=False, repr=False)
class Evaluator:
    """One kind of rule logic.

    Attributes:
        reads: the inputs it reads for a concept and parameters (a rule must declare exactly
            these).
        params: the parameters it takes.
        placeholders: the placeholders it fills in a rule's basis.
        evaluate: the logic: the placeholder values when the rule fires, else ``None``.
    """

    reads: Callable[[str, Params], frozenset[str]]
    params: frozenset[str]
    placeholders: frozenset[str]
    evaluate: Callable[[Facts, str, Params, Context], Fired]


def fixed(*inputs: str) -> Callable[[str, Params], frozenset[str]]:
    """A ``reads`` that is the same whatever the concept and parameters."""
    return lambda concept, params: frozenset(inputs)
