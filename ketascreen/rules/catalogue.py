"""Loading and validating the rule set (``rules.toml``) and its sources (``sources.toml``).

A rule that could not run correctly never loads: unknown evaluator, input, parameter, concept,
threshold, placeholder or source, a missing citation and a duplicate id all fail here, at start-up,
never in the middle of a screening.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

from ketascreen.concepts import ALL_CONCEPTS
from ketascreen.errors import KnowledgeBaseError
from ketascreen.knowledge.datafiles import DataSource, read_data_file, require_keys
from ketascreen.knowledge.policy import THRESHOLD_TYPES, Policy
from ketascreen.knowledge.sources import Source, load_sources
from ketascreen.models.result import FindingKind
from ketascreen.rules.evaluators import COMPARISONS, EVALUATORS, INPUTS, VITAL_SIGNS

RULES_SCHEMA = "ketascreen-rules/1"
RULE_ID = re.compile(r"^KS-(CI|INT|AR|DATA|DOSE)-\d{4}$")
KINDS: dict[str, FindingKind] = {
    "CI": "contraindication", "INT": "interaction", "AR": "abuse-risk", "DATA": "data",
    "DOSE": "dose",
}
_THRESHOLD_PARAMS = {"systolic", "diastolic", "threshold"}
_BOOL_PARAMS = {"counts_inactive", "needed", "diazepam_equivalent"}


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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
    """Load and validate the rule set against ``policy`` and the source list.

    Args:
        policy: the clinic policy the rules' severities and thresholds are checked against.
        source: the rules file (bytes or a path); ``None`` reads the shipped ``rules.toml``.
        sources: the reference list (bytes or a path); ``None`` reads the shipped one.

    Raises:
        KnowledgeBaseError: naming the rule and the problem.
    """
    cited, sources_sha = load_sources(sources)
    data = read_data_file("rules.toml", source, schema=RULES_SCHEMA)
    file, doc = data.name, data.content
    require_keys(file, "(top level)", doc, required={"schema", "version", "rule"})
    rules: list[Rule] = []
    seen: set[str] = set()
    for table in doc["rule"]:
        rule = _rule(file, table, policy, cited)
        if rule.id in seen:
            raise KnowledgeBaseError(file, rule.id, "duplicate rule id")
        seen.add(rule.id)
        rules.append(rule)
    return RuleCatalogue(str(doc["version"]), data.sha256, sources_sha, tuple(rules), cited)


def _rule(file: str, table: dict[str, Any], policy: Policy,
          sources: dict[str, Source]) -> Rule:
    rule_id = str(table.get("id", "?"))
    require_keys(file, rule_id, table,
                 required={"id", "concept", "kind", "logic", "params", "inputs", "title",
                           "statement", "basis", "action", "sources"},
                 optional={"severity_key"})
    match = RULE_ID.match(rule_id)
    if match is None:
        raise KnowledgeBaseError(file, rule_id, "id must look like KS-CI-0001")
    if KINDS[match.group(1)] != table["kind"]:
        raise KnowledgeBaseError(file, rule_id, f"kind {table['kind']!r} does not match the id "
                                 f"prefix ({KINDS[match.group(1)]})")
    concept = table["concept"]
    if concept not in ALL_CONCEPTS:
        raise KnowledgeBaseError(file, rule_id, f"unknown concept {concept!r}")
    severity_key = table.get("severity_key", concept)
    if severity_key.split(".", 1)[0] != concept:
        raise KnowledgeBaseError(file, rule_id, "severity_key must start with the concept")
    if severity_key not in policy.severity:
        raise KnowledgeBaseError(file, rule_id, f"the policy has no severity for {severity_key!r}")
    evaluator = EVALUATORS.get(table["logic"])
    if evaluator is None:
        raise KnowledgeBaseError(file, rule_id, f"unknown logic {table['logic']!r}")
    params = dict(table["params"])
    _check_params(file, rule_id, params, evaluator.params)
    inputs = tuple(table["inputs"])
    unknown = [i for i in inputs if i not in INPUTS]
    if unknown:
        raise KnowledgeBaseError(file, rule_id, f"unknown input(s): {', '.join(unknown)}")
    reads = evaluator.reads(concept, params)
    if set(inputs) != reads or len(inputs) != len(set(inputs)):
        raise KnowledgeBaseError(file, rule_id, "declared inputs do not match what the logic "
                                 f"reads: declared {sorted(inputs)}, reads {sorted(reads)}")
    for key in ("title", "statement", "action", "basis"):
        if not isinstance(table[key], str) or not table[key].strip():
            raise KnowledgeBaseError(file, rule_id, f"{key} is empty")
    placeholders = {name for _, name, _, _ in string.Formatter().parse(table["basis"]) if name}
    stray = placeholders - evaluator.placeholders
    if stray:
        raise KnowledgeBaseError(file, rule_id, f"basis uses unknown placeholder(s): "
                                 f"{', '.join(sorted(stray))}")
    cited = tuple(table["sources"])
    if not cited:
        raise KnowledgeBaseError(file, rule_id, "no citation: every rule cites its sources")
    missing = [k for k in cited if k not in sources]
    if missing:
        raise KnowledgeBaseError(file, rule_id, "source(s) not in clinical-facts or "
                                 f"course-facts: {', '.join(missing)}")
    return Rule(
        id=rule_id, concept=concept, kind=KINDS[match.group(1)], logic=table["logic"],
        params=params, severity_key=severity_key, inputs=inputs, title=table["title"],
        statement=table["statement"], basis=table["basis"], action=table["action"],
        sources=cited,
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
