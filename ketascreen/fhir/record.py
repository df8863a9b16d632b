"""One patient's record: the resources of a source, typed, checked to be about one patient.

Builds the narrow models of :mod:`ketascreen.fhir.model` for the resource types the importer
reads, finds the one Patient, drops resources that name another patient, and resolves references
(``#contained``, ``urn:uuid:`` full URLs, ``Type/id`` and absolute URLs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import ValidationError

from ketascreen.errors import FhirImportError, ImportWarning
from ketascreen.fhir import model as fm
from ketascreen.fhir.reader import LoadedSource, SourcedResource

R = TypeVar("R", bound=fm.Resource)


@dataclass(frozen=True)
class Item(Generic[R]):
    """A typed resource and where it came from."""

    resource: R
    source: SourcedResource

    @property
    def label(self) -> str:
        """``Type/id`` (or a description when the resource has no id)."""
        return self.source.label


@dataclass
class Record:
    """The typed resources of one patient.

    Attributes:
        patient: the Patient.
        conditions, requests, statements, observations, encounters: the resources of that type
            that belong to the patient, in document order.
        warnings: what was skipped while building the record, and why.
    """

    source: str
    patient: Item[fm.Patient]
    conditions: list[Item[fm.Condition]] = field(default_factory=list)
    requests: list[Item[fm.MedicationRequest]] = field(default_factory=list)
    statements: list[Item[fm.MedicationStatement]] = field(default_factory=list)
    observations: list[Item[fm.Observation]] = field(default_factory=list)
    encounters: list[Item[fm.Encounter]] = field(default_factory=list)
    others: list[SourcedResource] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)
    _by_url: dict[str, SourcedResource] = field(default_factory=dict)

    def belongs(self, subject: fm.Reference | None) -> bool:
        """Whether a ``subject``/``patient`` reference names this record's patient.

        A missing reference, or one without a ``reference`` string, is taken as this patient
        (a single-patient export often omits it).
        """
        if subject is None or not subject.reference:
            return True
        reference = _strip_history(subject.reference.strip())
        source = self.patient.source
        if source.full_url and reference == source.full_url:
            return True
        patient_id = source.resource_id
        if patient_id is None:
            return not (reference.startswith(("Patient/", "urn:")) or "/Patient/" in reference)
        return (reference == f"Patient/{patient_id}" or reference.endswith(f"/Patient/{patient_id}")
                or reference == f"urn:uuid:{patient_id}")

    def resolve(self, reference: fm.Reference | None,
                container: SourcedResource) -> SourcedResource | None:
        """The resource a reference points to: contained, by fullUrl, or by ``Type/id``."""
        if reference is None or not reference.reference:
            return None
        target = _strip_history(reference.reference.strip())
        if target.startswith("#"):
            contained = container.data.get("contained")
            if isinstance(contained, list):
                for resource in contained:
                    if (isinstance(resource, dict) and resource.get("id") == target[1:]
                            and isinstance(resource.get("resourceType"), str)):
                        return SourcedResource(resource, container.file, None)
            return None
        found = self._by_url.get(target)
        if found is None and "/" in target:
            parts = target.rsplit("/", 2)
            found = self._by_url.get("/".join(parts[-2:]))
        return found


def _strip_history(reference: str) -> str:
    head, marker, _ = reference.partition("/_history/")
    return head if marker else reference


def _typed(resource: SourcedResource, kind: type[R]) -> R:
    return kind.model_validate(resource.data)


def build_record(loaded: LoadedSource) -> Record:
    """Type the resources of ``loaded`` and keep those of its one patient.

    Raises:
        FhirImportError: no readable Patient, or more than one patient.
    """
    source = str(loaded.source)
    warnings = list(loaded.warnings)
    patients: list[Item[fm.Patient]] = []
    typed: list[tuple[SourcedResource, fm.Resource]] = []
    others: list[SourcedResource] = []
    by_url: dict[str, SourcedResource] = {}
    for resource in loaded.resources:
        if resource.full_url:
            by_url.setdefault(resource.full_url, resource)
        if resource.resource_id:
            by_url.setdefault(f"{resource.resource_type}/{resource.resource_id}", resource)
        kind = fm.MODELS.get(resource.resource_type)
        if kind is None:
            others.append(resource)
            continue
        try:
            value = _typed(resource, kind)
        except ValidationError as error:
            where = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors()[:3])
            warnings.append(ImportWarning(
                "unreadable-resource", f"{resource.label} was not imported: malformed "
                f"element(s) {where}. Check it in the source record.", resource.label))
            continue
        if isinstance(value, fm.Patient):
            patients.append(Item(value, resource))
        else:
            typed.append((resource, value))
    patient = _one_patient(patients, source, tuple(warnings))
    record = Record(source=source, patient=patient, others=others, warnings=warnings,
                    _by_url=by_url)
    for resource, value in typed:
        _add(record, resource, value)
    return record


def _one_patient(patients: list[Item[fm.Patient]], source: str,
                 warnings: tuple[ImportWarning, ...]) -> Item[fm.Patient]:
    if not patients:
        raise FhirImportError(source, "the record holds no (readable) Patient resource",
                              warnings=warnings)
    distinct: list[Item[fm.Patient]] = []
    for item in patients:
        if not any(_same_patient(item, other) for other in distinct):
            distinct.append(item)
    if len(distinct) > 1:
        labels = ", ".join(item.label for item in distinct[:4])
        raise FhirImportError(source, f"the record holds {len(distinct)} different patients "
                              f"({labels}); import one patient at a time",
                              resource=distinct[1].label, warnings=warnings)
    return distinct[0]


def _same_patient(a: Item[fm.Patient], b: Item[fm.Patient]) -> bool:
    # The same Patient may appear twice (a file and a Bundle copy); identical content is one.
    return a.source.data == b.source.data


def _add(record: Record, resource: SourcedResource, value: fm.Resource) -> None:
    subject = getattr(value, "subject", None)
    if not record.belongs(subject):
        shown = subject.reference if isinstance(subject, fm.Reference) else "?"
        record.warnings.append(ImportWarning(
            "other-patient", f"{resource.label} is about {shown}, not this patient, and was not "
            "imported.", resource.label))
        return
    if isinstance(value, fm.Condition):
        record.conditions.append(Item(value, resource))
    elif isinstance(value, fm.MedicationRequest):
        record.requests.append(Item(value, resource))
    elif isinstance(value, fm.MedicationStatement):
        record.statements.append(Item(value, resource))
    elif isinstance(value, fm.Observation):
        record.observations.append(Item(value, resource))
    elif isinstance(value, fm.Encounter):
        record.encounters.append(Item(value, resource))
    else:  # Medication: only reached through references
        record.others.append(resource)
