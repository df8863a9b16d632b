"""The rule catalogue: the rules file validated against the evaluators, the policy and sources.

A rule that could not run correctly never loads: unknown evaluator, input, parameter, concept,
threshold, placeholder or source, a missing citation and a duplicate id all fail here, at start-up,
never in the middle of a screening. The file's form (keys, ids, kinds, concepts, texts) is checked
as it is read (:mod:`ketascreen.knowledge.rules`); what needs the evaluators is checked here.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from ketascreen.errors import KnowledgeBaseError
from ketascreen.knowledge.datafiles import DataSource
from ketascreen.knowledge.policy import THRESHOLD_TYPES, Policy
from ketascreen.knowledge.rules import RuleEntry, load_rule_file
from ketascreen.knowledge.sources import Source, load_sources
from ketascreen.models.result import FindingKind
from ketascreen.rules.dayof import ANSWERS, SIGNALS
from ketascreen.rules.evaluators import COMPARISONS, EVALUATORS, INPUTS, VITAL_SIGNS
from ketascreen.units import Dimension

_THRESHOLD_PARAMS = {"systolic", "diastolic", "threshold", "solids", "clear_fluids", "escalate"}
_BOOL_PARAMS = {"counts_inactive", "needed", "diazepam_equivalent", "first"}
_DURATION_PARAMS = {"solids", "clear_fluids"}


@dataclass(frozen=True, eq=False, repr=False)
class Rule:
    """One validated rule."""

    id: str
    concept: str
    kind: FindingKind
    logic: str
    params: dict[str, Any]
    severity_key: str
    inputs: tuple[str, ...]
    title: str
    statement: str
    basis: str
    action: str
    sources: tuple[str, ...]


@dataclass(frozen=True, eq=False, repr=False)
class RuleCatalogue:
    """The loaded rules and the sources they cite."""

    version: str
    sha256: str
    sources_sha256: str
    rules: tuple[Rule, ...]
    sources: dict[str, Source]

    def citation(self, rule: Rule) -> str:
        """The printed source line of a rule, e.g. ``R41 Swiss ketamine label``."""
        return "; ".join(f"{k} {self.sources[k].short}" for k in rule.sources)


def load_rules(policy: Policy, source: DataSource = None,
               sources: DataSource = None) -> RuleCatalogue:
    """Load the rule set and validate it against ``policy``, the evaluators and the source list.

    Args:
        policy: the clinic policy the rules' severities and thresholds are checked against.
        source: the rules file (bytes or a path); ``None`` reads the shipped ``rules.toml``.
        sources: the reference list (bytes or a path); ``None`` reads the shipped one.

    Raises:
        KnowledgeBaseError: naming the rule and the problem.
    """
    cited, sources_sha = load_sources(sources)
    read = load_rule_file(source)
    rules = tuple(_rule(read.name, entry, policy, cited) for entry in read.rules)
    return RuleCatalogue(read.version, read.sha256, sources_sha, rules, cited)


def _rule(file: str, entry: RuleEntry, policy: Policy, sources: dict[str, Source]) -> Rule:
    rule_id, concept = entry.id, entry.concept
    severity_key = entry.severity_key if entry.severity_key is not None else concept
    if severity_key.split(".", 1)[0] != concept:
        raise KnowledgeBaseError(file, rule_id, "severity_key must start with the concept")
    if severity_key not in policy.severity:
        raise KnowledgeBaseError(file, rule_id, f"the policy has no severity for {severity_key!r}")
    evaluator = EVALUATORS.get(entry.logic)
    if evaluator is None:
        raise KnowledgeBaseError(file, rule_id, f"unknown logic {entry.logic!r}")
    params = dict(entry.params)
    _check_params(file, rule_id, params, evaluator.params)
    inputs = entry.inputs
    unknown = [i for i in inputs if i not in INPUTS]
    if unknown:
        raise KnowledgeBaseError(file, rule_id, f"unknown input(s): {', '.join(unknown)}")
    reads = evaluator.reads(concept, params)
    if set(inputs) != reads or len(inputs) != len(set(inputs)):
        raise KnowledgeBaseError(file, rule_id, "declared inputs do not match what the logic "
                                 f"reads: declared {sorted(inputs)}, reads {sorted(reads)}")
    placeholders = {name for _, name, _, _ in string.Formatter().parse(entry.basis) if name}
    stray = placeholders - evaluator.placeholders
    if stray:
        raise KnowledgeBaseError(file, rule_id, f"basis uses unknown placeholder(s): "
                                 f"{', '.join(sorted(stray))}")
    missing = [k for k in entry.sources if k not in sources]
    if missing:
        raise KnowledgeBaseError(file, rule_id, "source(s) not in clinical-facts or "
                                 f"course-facts: {', '.join(missing)}")
    return Rule(
        id=rule_id, concept=concept, kind=entry.finding_kind, logic=entry.logic,
        params=params, severity_key=severity_key, inputs=inputs, title=entry.title,
        statement=entry.statement, basis=entry.basis, action=entry.action,
        sources=entry.sources,
    )


def _check_params(file: str, rule_id: str, params: dict[str, Any], allowed: frozenset[str]) -> None:
    stray = set(params) - allowed
    if stray:
        raise KnowledgeBaseError(file, rule_id, f"unknown parameter(s): {', '.join(sorted(stray))}")
    for name, value in params.items():
        if name in _BOOL_PARAMS and not isinstance(value, bool):
            raise KnowledgeBaseError(file, rule_id, f"parameter {name} must be true or false")
        if name in _THRESHOLD_PARAMS and value not in THRESHOLD_TYPES:
            raise KnowledgeBaseError(file, rule_id, f"parameter {name}: unknown threshold "
                                     f"{value!r}")
        if name == "unless_above" and (
                not isinstance(value, list) or len(value) != 2
                or any(v not in THRESHOLD_TYPES for v in value)):
            raise KnowledgeBaseError(file, rule_id, "unless_above must name two thresholds")
        if name == "tier" and value not in ("high", "moderate"):
            raise KnowledgeBaseError(file, rule_id, "tier must be high or moderate")
        if name == "vital" and value not in VITAL_SIGNS:
            raise KnowledgeBaseError(file, rule_id, f"vital must be one of "
                                     f"{', '.join(VITAL_SIGNS)}")
        if name in _DURATION_PARAMS and THRESHOLD_TYPES.get(value) is not Dimension.TIME:
            raise KnowledgeBaseError(file, rule_id, f"parameter {name}: {value!r} is not a "
                                     "duration threshold")
        if name == "field" and value not in ANSWERS:
            raise KnowledgeBaseError(file, rule_id, f"field must be one of {', '.join(ANSWERS)}")
        if name == "value" and value not in ANSWERS.get(str(params.get("field")), ()):
            raise KnowledgeBaseError(file, rule_id, f"value {value!r} is not an answer of "
                                     f"{params.get('field')!r}")
        if name == "signal" and value not in SIGNALS:
            raise KnowledgeBaseError(file, rule_id, f"signal must be one of {', '.join(SIGNALS)}")
        if name == "compare" and value not in COMPARISONS:
            raise KnowledgeBaseError(file, rule_id, f"compare must be one of "
                                     f"{', '.join(COMPARISONS)}")
    required = allowed - {"unless_above", "diazepam_equivalent"}
    missing = required - set(params)
    if missing:
        raise KnowledgeBaseError(file, rule_id, f"missing parameter(s): "
                                 f"{', '.join(sorted(missing))}")
    vital = VITAL_SIGNS.get(str(params.get("vital")))
    if vital is not None and THRESHOLD_TYPES[params["threshold"]] is not vital.dimension:
        raise KnowledgeBaseError(file, rule_id, f"threshold {params['threshold']!r} is not a "
                                 f"{vital.dimension.value}, as {params['vital']} needs")
