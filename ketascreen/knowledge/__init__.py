"""The knowledge the screening reads: data files and their loaders, and recognition.

The shipped TOML files (``knowledge/data/``: rules, policy, sources, drugs, conditions,
formulary), the loaders that validate them, and the recognition of case entries against the drug
and condition lists. Nothing here screens or doses: the rules and the dose calculation read it.
"""
