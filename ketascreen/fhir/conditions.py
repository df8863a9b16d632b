"""Condition -> ``case.conditions``.

Status: ``clinicalStatus`` maps one to one (active, recurrence, relapse, inactive, remission,
resolved); a missing or unknown ``clinicalStatus`` is taken as ``active`` (the stricter reading)
with a warning. ``verificationStatus`` ``entered-in-error`` becomes status ``entered-in-error``
(kept visible, ignored by the rules); ``refuted`` is left out of the case (listed in the
provenance as not imported). Codes: SNOMED CT and ICD-10-CM codings are kept; when a Condition
carries several, the one the knowledge base recognises is used, and codings that map to
*different* concepts each become an entry, so no concept is lost to the one-code case format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ketascreen.errors import ImportWarning
from ketascreen.fhir import model as fm
from ketascreen.fhir.dates import parse_moment
from ketascreen.fhir.provenance import with_source
from ketascreen.fhir.record import Item, Record
from ketascreen.fhir.result import Provenance
from ketascreen.knowledge.conditions import ConditionEntry, ConditionKnowledge
from ketascreen.models.case import ICD10CM, SNOMED
from ketascreen.models.case import Condition as CaseCondition

CLINICAL_STATUSES = frozenset({"active", "recurrence", "relapse", "inactive", "remission",
                               "resolved"})


@dataclass
class MappedConditions:
    """The ``conditions`` list of the case, with provenance and warnings."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    sources: list[Item[fm.Condition]] = field(default_factory=list)
    """The Condition each entry came from (parallel to ``entries``)."""
    provenance: list[Provenance] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)


def code_entry(knowledge: ConditionKnowledge, system: str, code: str) -> ConditionEntry | None:
    """The knowledge-base entity a SNOMED CT or ICD-10-CM code maps to, if any."""
    matches = knowledge.recognise(CaseCondition(system=system, code=code))
    return next((m.entry for m in matches if m.via == "code"), None)


def text_entries(knowledge: ConditionKnowledge, text: str) -> list[ConditionEntry]:
    """The knowledge-base entities named in ``text`` (word-bounded, as the rules match)."""
    if not text.strip():
        return []
    return [m.entry for m in knowledge.recognise(CaseCondition(text=text))]


def map_conditions(record: Record, knowledge: ConditionKnowledge, as_of: date) -> MappedConditions:
    """Map every Condition of ``record``, in document order."""
    out = MappedConditions()
    for item in record.conditions:
        _map_one(item, knowledge, as_of, out)
    return out


def _status(item: Item[fm.Condition], out: MappedConditions) -> str | None:
    """The case status, or ``None`` when the Condition is refuted (left out)."""
    condition = item.resource
    verification = condition.verification_status
    if verification is not None:
        verified = {c.code for c in verification.coding if c.code}
        if "entered-in-error" in verified:
            return "entered-in-error"
        if "refuted" in verified:
            return None
    clinical = condition.clinical_status
    codes = [c.code for c in clinical.coding if c.code] if clinical else []
    known = [c for c in codes if c in CLINICAL_STATUSES]
    if known:
        return known[0]
    what = f"is {codes[0]!r}, not a known value" if codes else "is missing"
    out.warnings.append(ImportWarning(
        "missing-clinical-status", f"clinicalStatus {what}; the condition is taken as active "
        "(the stricter reading). Check whether it is current.", item.label))
    return "active"


def _codings(concept: fm.CodeableConcept | None) -> list[fm.Coding]:
    if concept is None:
        return []
    return concept.codes(SNOMED) + concept.codes(ICD10CM)


def _choose(codings: list[fm.Coding],
            knowledge: ConditionKnowledge) -> list[tuple[fm.Coding | None, ConditionEntry | None]]:
    chosen: list[tuple[fm.Coding | None, ConditionEntry | None]] = []
    concepts: set[str] = set()
    for coding in codings:
        entry = code_entry(knowledge, str(coding.system), str(coding.code).strip())
        if entry is not None and entry.concept not in concepts:
            concepts.add(entry.concept)
            chosen.append((coding, entry))
    if chosen:
        return chosen
    return [(codings[0] if codings else None, None)]


def _text(concept: fm.CodeableConcept | None, coding: fm.Coding | None) -> str:
    if concept is None:
        return ""
    if concept.text and concept.text.strip():
        return " ".join(concept.text.split())
    if coding is not None and coding.display and coding.display.strip():
        return " ".join(coding.display.split())
    for other in concept.coding:
        if other.display and other.display.strip():
            return " ".join(other.display.split())
    return ""


def _code_label(coding: fm.Coding | None) -> str:
    if coding is None:
        return ""
    return f"{'SNOMED CT' if coding.system == SNOMED else 'ICD-10-CM'} {coding.code}"


def _onset(condition: fm.Condition) -> str | None:
    text = condition.onset_date_time
    if text is None and condition.onset_period is not None:
        text = condition.onset_period.start
    moment = parse_moment(text)
    return moment.day.isoformat() if moment else None


def _map_one(item: Item[fm.Condition], knowledge: ConditionKnowledge, as_of: date,
             out: MappedConditions) -> None:
    file = str(item.source.file)
    status = _status(item, out)
    if status is None:
        out.provenance.append(Provenance("condition", None, item.label, file,
                                         "not imported: verificationStatus refuted"))
        return
    concept = item.resource.code
    codings = _codings(concept)
    onset = _onset(item.resource)
    if onset is not None and date.fromisoformat(onset) > as_of:
        out.warnings.append(ImportWarning(
            "future-dated", f"The condition's onset {onset} is after the as-of date "
            f"{as_of.isoformat()}.", item.label))
    for coding, entry in _choose(codings, knowledge):
        text = _text(concept, coding)
        if not text and coding is None:
            out.warnings.append(ImportWarning(
                "empty-condition", "The Condition has no SNOMED CT or ICD-10-CM code and no "
                "text; it was not imported. Check it in the source record.", item.label))
            out.provenance.append(Provenance("condition", None, item.label, file,
                                             "not imported: no usable code or text"))
            return
        shown = text or _code_label(coding)
        entry_dict: dict[str, Any] = {
            "text": with_source(shown, item.source.resource_type, item.source.resource_id,
                                item.source.full_url or item.source.file.name),
            "status": status,
        }
        if coding is not None:
            entry_dict["system"] = coding.system
            entry_dict["code"] = str(coding.code).strip()
        if onset is not None:
            entry_dict["onset"] = onset
        index = len(out.entries)
        out.entries.append(entry_dict)
        out.sources.append(item)
        how = _code_label(coding) if coding else "text only"
        recognised = f", recognised as {entry.name}" if entry else ""
        out.provenance.append(Provenance("condition", f"conditions[{index}]", item.label, file,
                                         f"{how}{recognised}; status {status}"))
