"""The rules: the catalogue validated against its evaluators, the facts they read, the engine.

The rule set in force and the screening of a case are :mod:`ketascreen.screening`'s.
"""

from ketascreen.rules.engine import RuleSet

__all__ = ["RuleSet"]
