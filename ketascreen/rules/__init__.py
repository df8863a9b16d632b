"""The rule set: knowledge base, clinic policy, rules as data, and the engine that runs them."""

from ketascreen.rules.engine import RuleSet, default_ruleset

__all__ = ["RuleSet", "default_ruleset"]
