"""The rules file (``rules.toml``) as written: each ``[[rule]]`` a record, checked for its form.

What is checked here needs only the file and the concept vocabulary: the keys of each rule, the
id's form and its kind, a known concept, non-empty texts, at least one citation, no id twice.
Whether a rule can run (its logic, parameters, inputs, placeholders, severity and sources) is
checked against the evaluators and the policy by :mod:`ketascreen.rules.catalogue`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from ketascreen.concepts import ALL_CONCEPTS
from ketascreen.errors import KnowledgeBaseError
from ketascreen.knowledge.datafiles import AnyText, DataSource, Record, read_data_file, read_table
from ketascreen.models.result import FindingKind

RULES_SCHEMA = "ketascreen-rules/1"
RULE_ID = re.compile(r"^KS-(CI|INT|AR|DATA|DOSE)-\d{4}$")
KINDS: dict[str, FindingKind] = {
    "CI": "contraindication", "INT": "interaction", "AR": "abuse-risk", "DATA": "data",
    "DOSE": "dose",
}
"""The kind of finding each id prefix stands for (``KS-CI-0001`` is a contraindication)."""


class RuleEntry(Record):
    """One ``[[rule]]`` as written in the rules file."""

    id: str
    concept: str
    kind: str
    logic: str
    params: dict[str, Any]
    inputs: tuple[str, ...]
    title: str
    statement: str
    basis: str
    action: str
    sources: tuple[str, ...]
    severity_key: str | None = None

    @property
    def finding_kind(self) -> FindingKind:
        """The kind of finding, as the id's prefix gives it (checked to equal ``kind``)."""
        match = RULE_ID.match(self.id)
        assert match is not None  # checked when the file is read
        return KINDS[match.group(1)]


class _RulesFile(Record):
    schema_name: str = Field(alias="schema")
    version: AnyText
    rule: list[Any]


@dataclass(frozen=True, eq=False, repr=False)
class RuleFile:
    """A rules file read and checked for its form.

    Attributes:
        name: how errors name the file (its path, or ``rules.toml`` when shipped).
        version: the file's ``version``.
        sha256: of the file's bytes.
        rules: the rules in file order.
    """

    name: str
    version: str
    sha256: str
    rules: tuple[RuleEntry, ...]


def load_rule_file(source: DataSource = None) -> RuleFile:
    """Read the shipped rules file, or a replacement (its bytes or its path), checking its form.

    Raises:
        KnowledgeBaseError: naming the rule and the problem: a missing or unknown key, an id not
            of the form ``KS-CI-0001`` or of another kind, an unknown concept, an empty text, no
            citation, an id listed twice.
    """
    data = read_data_file("rules.toml", source, schema=RULES_SCHEMA)
    file = data.name
    doc = read_table(file, "(top level)", data.content, _RulesFile)
    rules: list[RuleEntry] = []
    seen: set[str] = set()
    for table in doc.rule:
        rule_id = str(table.get("id", "?")) if isinstance(table, dict) else "?"
        entry = read_table(file, rule_id, table, RuleEntry)
        _check(file, entry)
        if entry.id in seen:
            raise KnowledgeBaseError(file, entry.id, "duplicate rule id")
        seen.add(entry.id)
        rules.append(entry)
    return RuleFile(file, doc.version, data.sha256, tuple(rules))


def _check(file: str, rule: RuleEntry) -> None:
    match = RULE_ID.match(rule.id)
    if match is None:
        raise KnowledgeBaseError(file, rule.id, "id must look like KS-CI-0001")
    if KINDS[match.group(1)] != rule.kind:
        raise KnowledgeBaseError(file, rule.id, f"kind {rule.kind!r} does not match the id "
                                 f"prefix ({KINDS[match.group(1)]})")
    if rule.concept not in ALL_CONCEPTS:
        raise KnowledgeBaseError(file, rule.id, f"unknown concept {rule.concept!r}")
    for key in ("title", "statement", "action", "basis"):
        if not getattr(rule, key).strip():
            raise KnowledgeBaseError(file, rule.id, f"{key} is empty")
    if not rule.sources:
        raise KnowledgeBaseError(file, rule.id, "no citation: every rule cites its sources")
