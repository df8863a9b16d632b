"""MedicationRequest and MedicationStatement -> ``case.medications``.

The drug comes from ``medicationCodeableConcept`` or from the Medication resource that
``medicationReference`` points to (contained, or elsewhere in the record). The RxNorm coding the
knowledge base recognises is kept (else the first RxNorm coding); the text is the concept's text
or the coding's display, so a product code the knowledge base lacks is still recognised by the
ingredient names in its display.

Status (case statuses: active and on-hold count; stopped, completed, entered-in-error do not):

======================  ==================  ===============================================
FHIR status             case status         why
======================  ==================  ===============================================
active                  active
on-hold                 on-hold
stopped                 stopped
completed               completed
entered-in-error        entered-in-error    kept visible; the rules ignore it
cancelled (request)     stopped             never started; does not count
not-taken (statement)   stopped             the patient does not take it
draft (request)         active + warning    may start before the infusion: counts (stricter)
intended (statement)    active              the patient is about to take it: counts
unknown / missing       active + warning    not known to be stopped: counts (stricter)
======================  ==================  ===============================================

An order with ``doNotPerform: true`` is an order *not* to give the drug and is left out (listed
in the provenance). Doses are not imported: the samples carry no usable daily dose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from ketascreen.errors import ImportWarning
from ketascreen.fhir import model as fm
from ketascreen.fhir.dates import parse_moment
from ketascreen.fhir.provenance import with_source
from ketascreen.fhir.reader import SourcedResource
from ketascreen.fhir.record import Item, Record
from ketascreen.fhir.result import Provenance
from ketascreen.knowledge.drugs import DrugKnowledge
from ketascreen.models.case import RXNORM

STATUS_MAP: dict[str, str] = {
    "active": "active",
    "on-hold": "on-hold",
    "stopped": "stopped",
    "completed": "completed",
    "entered-in-error": "entered-in-error",
    "cancelled": "stopped",
    "not-taken": "stopped",
    "intended": "active",
}
_ASSUMED_ACTIVE = frozenset({"draft", "unknown"})

Order = fm.MedicationRequest | fm.MedicationStatement


@dataclass
class MappedMedications:
    """The ``medications`` list of the case, with provenance and warnings."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    provenance: list[Provenance] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)


def map_medications(record: Record, drugs: DrugKnowledge, as_of: date) -> MappedMedications:
    """Map every MedicationRequest, then every MedicationStatement, of ``record``."""
    out = MappedMedications()
    items: list[Item[fm.MedicationRequest] | Item[fm.MedicationStatement]] = [
        *record.requests, *record.statements]
    for item in items:
        _map_one(item, record, drugs, as_of, out)
    return out


def _status(item: Item[fm.MedicationRequest] | Item[fm.MedicationStatement],
            out: MappedMedications) -> str:
    given = item.resource.status
    if given in STATUS_MAP:
        return STATUS_MAP[given]
    if given in _ASSUMED_ACTIVE:
        why = ("a draft order may start before the infusion" if given == "draft"
               else "its status is unknown")
    else:
        why = "its status is missing" if given is None else f"its status {given!r} is not a " \
              "FHIR medication status"
    out.warnings.append(ImportWarning(
        "medication-status-assumed", f"The medication is counted as active because {why}. "
        "Check whether the patient takes it.", item.label))
    return "active"


def _concept(item: Item[fm.MedicationRequest] | Item[fm.MedicationStatement], record: Record,
             out: MappedMedications) -> tuple[fm.CodeableConcept | None, str]:
    """The drug's concept and a note on where it came from."""
    order = item.resource
    if order.medication_codeable_concept is not None:
        return order.medication_codeable_concept, "medicationCodeableConcept"
    reference = order.medication_reference
    target = record.resolve(reference, item.source)
    if target is not None and target.resource_type == "Medication":
        medication = _medication(target)
        if medication is not None:
            where = "contained Medication" if reference and reference.reference and \
                reference.reference.startswith("#") else target.label
            return _medication_concept(medication), where
    shown = reference.reference if reference and reference.reference else "(none)"
    display = reference.display if reference and reference.display else None
    out.warnings.append(ImportWarning(
        "unresolved-medication", f"The medication reference {shown} could not be resolved"
        + (f"; only its display {display!r} is known" if display else "")
        + ". Check which drug this is.", item.label))
    if display:
        return fm.CodeableConcept(text=display), f"reference display ({shown})"
    return None, f"unresolved reference {shown}"


def _medication(resource: SourcedResource) -> fm.Medication | None:
    try:
        return fm.Medication.model_validate(resource.data)
    except ValidationError:
        return None


def _medication_concept(medication: fm.Medication) -> fm.CodeableConcept | None:
    if medication.code is not None and (medication.code.coding or medication.code.text):
        return medication.code
    names: list[str] = []
    for ingredient in medication.ingredient:
        item = ingredient.item_codeable_concept
        if item is None:
            continue
        name = item.text or next((c.display for c in item.coding if c.display), None)
        if name:
            names.append(name)
    return fm.CodeableConcept(text=" / ".join(names)) if names else None


def _choose(concept: fm.CodeableConcept, drugs: DrugKnowledge) -> fm.Coding | None:
    codings = concept.codes(RXNORM)
    for coding in codings:
        if str(coding.code).strip() in drugs.by_code:
            return coding
    return codings[0] if codings else None


def _text(concept: fm.CodeableConcept, coding: fm.Coding | None) -> str:
    parts: list[str] = []
    candidates = [concept.text, coding.display if coding else None,
                  *(c.display for c in concept.coding)]
    for candidate in candidates:
        if candidate and candidate.strip():
            text = " ".join(candidate.split())
            if not any(text.lower() in p.lower() for p in parts):
                parts.append(text)
        if len(parts) == 2:
            break
    if len(parts) == 2:
        return f"{parts[0]} [{parts[1]}]"
    return parts[0] if parts else ""


def _map_one(item: Item[fm.MedicationRequest] | Item[fm.MedicationStatement], record: Record,
             drugs: DrugKnowledge, as_of: date, out: MappedMedications) -> None:
    file = str(item.source.file)
    order = item.resource
    if isinstance(order, fm.MedicationRequest) and order.do_not_perform:
        out.provenance.append(Provenance("medication", None, item.label, file,
                                         "not imported: doNotPerform (an order not to give it)"))
        return
    status = _status(item, out)
    concept, origin = _concept(item, record, out)
    coding = _choose(concept, drugs) if concept is not None else None
    text = _text(concept, coding) if concept is not None else ""
    if not text and coding is None:
        text = "Unidentified medication"
        out.warnings.append(ImportWarning(
            "unidentified-medication", "The medication has no RxNorm code and no name; it is "
            "imported as 'Unidentified medication'. Check which drug this is.", item.label))
    _future(item, as_of, out)
    entry: dict[str, Any] = {
        "text": with_source(text or f"RxNorm {coding.code if coding else ''}",
                            item.source.resource_type, item.source.resource_id,
                            item.source.full_url or item.source.file.name),
        "status": status,
    }
    if coding is not None:
        entry["system"] = RXNORM
        entry["code"] = str(coding.code).strip()
    index = len(out.entries)
    out.entries.append(entry)
    code_note = f"RxNorm {entry['code']}" if coding is not None else "no RxNorm code"
    known = "" if coding is None or entry["code"] in drugs.by_code else \
        " (code not in the knowledge base: recognised by name)"
    out.provenance.append(Provenance(
        "medication", f"medications[{index}]", item.label, file,
        f"{origin}; {code_note}{known}; status {order.status or '(absent)'} -> {status}"))


def _future(item: Item[fm.MedicationRequest] | Item[fm.MedicationStatement], as_of: date,
            out: MappedMedications) -> None:
    order = item.resource
    if isinstance(order, fm.MedicationRequest):
        when = order.authored_on
    else:
        period = order.effective_period
        when = order.effective_date_time or (period.start if period else None) \
            or order.date_asserted
    moment = parse_moment(when)
    if moment is not None and moment.day > as_of:
        out.warnings.append(ImportWarning(
            "future-dated", f"The medication record is dated {moment.day.isoformat()}, after "
            f"the as-of date {as_of.isoformat()}; it is imported (stricter).", item.label))
