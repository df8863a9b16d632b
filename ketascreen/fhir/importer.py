"""``import_fhir``: a FHIR R4 source -> a validated ``ketascreen-case/1`` document."""

from __future__ import annotations

import functools
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ketascreen.errors import CaseValidationError, FhirImportError, ImportWarning
from ketascreen.fhir.conditions import map_conditions
from ketascreen.fhir.medications import map_medications
from ketascreen.fhir.patient import map_patient, refuse_if_deceased
from ketascreen.fhir.quality import (
    display_mismatches,
    future_records,
    implausible_pregnancy,
    indication_warning,
    stale_measurements,
)
from ketascreen.fhir.reader import load_source
from ketascreen.fhir.record import build_record
from ketascreen.fhir.result import FhirImport, Provenance
from ketascreen.fhir.scores import map_scores
from ketascreen.fhir.vitals import map_vitals
from ketascreen.knowledge.conditions import ConditionKnowledge
from ketascreen.knowledge.drugs import DrugKnowledge
from ketascreen.knowledge.policy import Policy, load_policy
from ketascreen.knowledge.shipped import shipped_conditions, shipped_drugs
from ketascreen.models.case import CASE_FORMAT
from ketascreen.models.parsing import parse_case


@dataclass(frozen=True)
class _Knowledge:
    drugs: DrugKnowledge
    conditions: ConditionKnowledge
    policy: Policy


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the block runs, then as it was.

    An import allocates hundreds of thousands of JSON containers and holds them all: each
    collection the allocations trigger walks every one of them again, so that with the
    collector on a bundle's import time grows faster than its size (``bench/bench_import.py
    --sizes``). The parsed JSON holds no reference cycles; what the block leaves unreachable is
    freed by reference counting, the rest at the next collection after it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@functools.cache
def _knowledge() -> _Knowledge:
    # The shipped lists are the rule set's own copies (one load per process); the policy is
    # the shipped one, as it was for the first import of a process.
    return _Knowledge(shipped_drugs(), shipped_conditions(), load_policy())


def import_fhir(source: Path, *, as_of: date | None = None) -> FhirImport:
    """Import one patient's FHIR R4 record as a screening case for the physician to review.

    The case leaves the questionnaire (``history``), the substance-use screen and the protocol
    empty: the physician answers them (the rules also read the imported problem list). The
    indication is set to ``other`` with a warning.

    Args:
        source: a Bundle file (transaction, batch, collection, searchset or document), a
            single-resource file, or a folder of resource files about one patient.
        as_of: the screening date; ages, staleness and "future" are judged against it.
            Defaults to today.

    Returns:
        The case (valid ``ketascreen-case/1``, checked with ``parse_case``), the data-quality
        warnings, the provenance of every imported item, a label for lists, and every
        PHQ-9/GAD-7 score and vital-sign reading with its date and source (for a course).

    Raises:
        DeceasedPatientError: the record says the patient has died (its ``warnings`` include
            ``deceased`` and any ``orders-after-death``).
        FhirImportError: the source is unreadable, not JSON, not FHIR, has no Patient or more
            than one, or the Patient has no usable birth date.
        KnowledgeBaseError: the shipped knowledge base or policy is invalid (configuration).
    """
    with gc_paused():
        return _import(source, as_of)


def _import(source: Path, as_of: date | None) -> FhirImport:
    day = as_of if as_of is not None else date.today()
    record = build_record(load_source(source))
    warnings: list[ImportWarning] = list(record.warnings)
    refuse_if_deceased(record, warnings)
    knowledge = _knowledge()
    patient = map_patient(record, day)
    conditions = map_conditions(record, knowledge.conditions, day)
    medications = map_medications(record, knowledge.drugs, day)
    vitals = map_vitals(record, day)
    scores = map_scores(record, day)
    fields: dict[str, Any] = {**patient.fields, "pregnant": vitals.pregnant}
    warnings += [*patient.warnings, *conditions.warnings, *medications.warnings,
                 *vitals.warnings, *scores.warnings]
    warnings += display_mismatches(record, knowledge.conditions)
    warnings += implausible_pregnancy(knowledge.conditions, knowledge.policy, as_of=day,
                                      patient=fields, pregnant=vitals.pregnant,
                                      conditions=conditions)
    warnings += stale_measurements(vitals, knowledge.policy, day)
    warnings += future_records(record, day)
    warnings.append(indication_warning())
    case: dict[str, Any] = {
        "format": CASE_FORMAT,
        "screening_date": day.isoformat(),
        "patient": fields,
        "indication": "other",
        "measurements": vitals.measurements,
        "history": {},
        "conditions": conditions.entries,
        "medications": medications.entries,
    }
    try:
        parse_case(case, source=str(source))
    except CaseValidationError as error:  # a mapping bug: refuse rather than hand on bad data
        raise FhirImportError(str(source), f"the imported case is invalid: {error}",
                              warnings=tuple(warnings)) from None
    provenance: tuple[Provenance, ...] = (*patient.provenance, *conditions.provenance,
                                          *medications.provenance, *vitals.provenance)
    return FhirImport(case=case, warnings=tuple(warnings), provenance=provenance,
                      patient_label=patient.label, scores=tuple(scores.scores),
                      vitals=tuple(scores.vitals))
