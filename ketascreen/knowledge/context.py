"""The clinical context of a condition named in free text: affirmed, negated, family or uncertain.

A problem-list entry such as "Family history of aneurysm", "No history of stroke" or "Glaucoma
ruled out" names a condition the patient does not have. This module reads the words around each
name with the ConText algorithm (Harkema et al. 2009, the successor of NegEx), as implemented by
medspaCy: a blank spaCy English tokenizer, a rule-based sentence splitter and medspaCy's ConText
component with its default rules, adjusted for problem-list wording (see ``_adjust_rules``).

spaCy and medspaCy are imported only when a text actually names a condition (``read_context``),
never when ketascreen is imported, so start-up does not pay for them; each text is read once
(cached).

The outcome for each name is an :class:`Assertion`:

- ``affirmed``: counts as the condition (also "history of", "h/o": past conditions count);
- ``negated``: "no", "denies", "ruled out", "negative for", "without" ... does not count;
- ``family``: another person's condition ("family history of", "FH", "mother had") does not count;
- ``uncertain``: "possible", "?", "suspected", "rule out"/"r/o" (a pending question) ... does not
  count as the condition but is a question for the physician, never dropped.

Where several apply, family wins over uncertain, and uncertain over negated (a hedged negation
such as "AAA unlikely" is still a question). A comma ends the reach of every cue, so in "no
stroke, AAA" only the stroke is negated: a list the cue may or may not cover is read as affirmed,
the safe side for a contraindication screen.
"""

from __future__ import annotations

import functools
import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:  # pragma: no cover - typing only; the real import is lazy
    from spacy.language import Language

Status = Literal["affirmed", "negated", "family", "uncertain"]

_CATEGORY_STATUS: Final[dict[str, Status]] = {
    "NEGATED_EXISTENCE": "negated",
    "FAMILY": "family",
    "POSSIBLE_EXISTENCE": "uncertain",
    "HYPOTHETICAL": "uncertain",
}
"""ConText categories that change the reading; HISTORICAL does not (a past stroke counts)."""

_PRECEDENCE: Final[tuple[Status, ...]] = ("family", "uncertain", "negated")

_GROUP = "ketascreen_conditions"
_CLAUSE_BREAK = "CLAUSE_BREAK"

# medspaCy's default rules are written for clinical notes. On a problem list some of them would
# drop a condition the patient has: "Epilepsy, seizure free", "Stroke (resolved)" and "seizure
# prophylaxis" are still the condition, and "decline" is also "cognitive decline". These go.
_DROPPED_LITERALS: Final = frozenset({
    "resolved", "now resolved", "no longer present", "free", "prophylaxis", "decline",
})
# A pending work-up is a question, not an absence: "evaluate for AVM", "AAA unlikely".
_UNCERTAIN_LITERALS: Final = frozenset({
    "unlikely", "evaluate for", "test for", "checked for", "to exclude",
})
# "Ruled out" reads both ways on a problem list: "ruled out glaucoma", "glaucoma ruled out".
_BIDIRECTIONAL_LITERALS: Final = frozenset({"ruled out"})

_RELATIVES: Final = (
    "mother", "father", "mom", "dad", "brother", "sister", "sibling", "siblings", "son",
    "daughter", "aunt", "uncle", "grandmother", "grandfather", "cousin", "parent", "parents",
)


@dataclass(frozen=True, eq=False, repr=False)
class Assertion:
    """How the text around one condition name reads, and the words that made it read so."""

    status: Status
    cue: str = ""
    """The context words that decided the status (e.g. ``ruled out``); empty when affirmed."""

    def describe(self) -> str:
        """E.g. ``uncertain: 'possible'``; ``affirmed`` when nothing changed the reading."""
        return f"{self.status}: '{self.cue}'" if self.cue else self.status


AFFIRMED: Final = Assertion("affirmed")


def read_context(text: str, spans: tuple[tuple[int, int], ...]) -> tuple[Assertion, ...]:
    """How ``text`` asserts each condition name at the character ``spans`` (start, end).

    Args:
        text: the problem-list text, as matched (case does not matter).
        spans: the character offsets of each recognised name in ``text``.

    Returns:
        One :class:`Assertion` per span, in the order given. Cached per text and spans.
    """
    if not spans:
        return ()
    return _read_context(text, spans)


@functools.lru_cache(maxsize=4096)
def _read_context(text: str, spans: tuple[tuple[int, int], ...]) -> tuple[Assertion, ...]:
    nlp = _pipeline()
    doc = nlp.make_doc(text)
    targets = []
    for start, end in spans:
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None:  # pragma: no cover - "expand" always finds the covering tokens
            raise ValueError(f"no tokens at {start}-{end} of {text!r}")
        targets.append(span)
    doc.spans[_GROUP] = targets
    for _name, component in nlp.pipeline:
        doc = component(doc)
    return tuple(_assertion(doc, span) for span in doc.spans[_GROUP])


def _assertion(doc: Any, span: Any) -> Assertion:
    found: dict[Status, list[str]] = {}
    for modifier in span._.modifiers:
        status = _CATEGORY_STATUS.get(modifier.category)
        if status is not None:
            start, end = modifier.modifier_span
            found.setdefault(status, []).append(doc[start:end].text.strip("(- "))
    for status in _PRECEDENCE:
        if status in found:
            return Assertion(status, ", ".join(dict.fromkeys(found[status])))
    return AFFIRMED


def preload() -> None:
    """Load spaCy and build the context reader now rather than on the first condition name.

    Loading takes about 1.5-3 s (spaCy about half of it, medspaCy's own imports the rest);
    the desktop app can call this from a background thread once its window is shown, so the
    first problem-list entry typed is not the one that waits. Safe to call from any thread,
    and more than once.
    """
    _pipeline()


_BUILD_LOCK = threading.Lock()
_BUILT: list[Language] = []


def _pipeline() -> Language:
    """The spaCy pipeline: tokenizer, sentence splitter, ConText. Built once, on first use."""
    with _BUILD_LOCK:
        if not _BUILT:
            _BUILT.append(_build())
        return _BUILT[0]


def _build() -> Language:
    with warnings.catch_warnings():
        # Third-party import-time deprecation notices are not ours to act on.
        warnings.simplefilter("ignore", DeprecationWarning)
        import medspacy.context  # noqa: F401, PLC0415 - registers the "medspacy_context" factory
        import spacy  # noqa: PLC0415 - heavy; imported only when a text names a condition
        from medspacy.context import ConTextRule  # noqa: PLC0415

    nlp = spacy.blank("en")
    # "?" is a cue here ("?AAA"), not a sentence end; ";" separates problems.
    nlp.add_pipe("sentencizer", config={"punct_chars": [".", "!", ";", "\n"]})
    context: Any = nlp.add_pipe("medspacy_context", config={
        "rules": None, "input_span_type": "group", "span_group_name": _GROUP,
    })
    rules = ConTextRule.from_json(context.DEFAULT_RULES_FILEPATH)
    context.add(_adjust_rules(rules, ConTextRule))
    return nlp


def _adjust_rules(rules: list[Any], rule_type: Any) -> list[Any]:
    """medspaCy's default rules, adjusted for problem lists, plus problem-list shorthand."""
    literals = {rule.literal for rule in rules}
    expected = _DROPPED_LITERALS | _UNCERTAIN_LITERALS | _BIDIRECTIONAL_LITERALS
    if not expected <= literals:  # a new medspaCy renamed a rule this module adjusts
        raise RuntimeError("medspaCy ConText default rules changed; missing: "
                           + ", ".join(sorted(expected - literals)))
    kept = []
    for rule in rules:
        if rule.literal in _DROPPED_LITERALS:
            continue
        if rule.literal in _UNCERTAIN_LITERALS:
            rule.category = "POSSIBLE_EXISTENCE"
        if rule.literal in _BIDIRECTIONAL_LITERALS:
            rule.direction = "BIDIRECTIONAL"
        kept.append(rule)
    relatives = {"LOWER": {"IN": list(_RELATIVES)}}
    kept += [
        rule_type("fh", "FAMILY", direction="FORWARD",
                  pattern=[{"LOWER": {"IN": ["fh", "fhx", "fh:", "fhx:"]}}]),
        rule_type("f/h", "FAMILY", direction="FORWARD"),
        rule_type("maternal", "FAMILY", direction="FORWARD",
                  pattern=[{"LOWER": {"IN": ["maternal", "paternal"]}}]),
        rule_type("in mother", "FAMILY", direction="BACKWARD",
                  pattern=[{"LOWER": {"IN": ["in", "(", "-"]}}, relatives]),
        rule_type("?", "POSSIBLE_EXISTENCE", direction="BIDIRECTIONAL", max_scope=3),
        # "Suspected OSA", "OSA suspected", "glaucoma suspect".
        rule_type("suspected", "POSSIBLE_EXISTENCE", direction="BIDIRECTIONAL", max_scope=5,
                  pattern=[{"LOWER": {"IN": ["suspected", "suspect", "query", "probable",
                                                 "questionable", "presumptive"]}}]),
        rule_type("concern for", "POSSIBLE_EXISTENCE", direction="FORWARD",
                  pattern=[{"LOWER": "concern"}, {"LOWER": {"IN": ["for", "about"]}}]),
        rule_type("no longer", "PSEUDO", direction="PSEUDO"),  # "no longer drinking - AUD ..."
        rule_type("no hx of", "NEGATED_EXISTENCE", direction="FORWARD"),
        rule_type("no h/o", "NEGATED_EXISTENCE", direction="FORWARD"),
        rule_type("never", "NEGATED_EXISTENCE", direction="FORWARD"),
        rule_type("excluded", "NEGATED_EXISTENCE", direction="BACKWARD"),
        rule_type(",", _CLAUSE_BREAK, direction="PSEUDO"),
    ]
    for rule in kept:
        rule.terminated_by.add(_CLAUSE_BREAK)
    return kept
