"""What an import returns: the case, the data-quality warnings and the provenance of each item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ketascreen.errors import ImportWarning

ProvenanceKind = Literal["patient", "condition", "medication", "measurement"]


@dataclass(frozen=True)
class Provenance:
    """Where one item of the case came from, or why a resource was left out of it.

    Attributes:
        kind: what the item is.
        field: the case path it became (``"medications[2]"``, ``"measurements.weight"``,
            ``"patient.pregnant"``), or ``None`` when the resource was read but not imported.
        resource: ``"Type/id"`` of the source resource (the id exactly as in the record).
        file: the file the resource was read from.
        detail: how it was mapped (``"status stopped -> stopped"``) or why it was left out.
    """

    kind: ProvenanceKind
    field: str | None
    resource: str
    file: str
    detail: str = ""

    def describe(self) -> str:
        """E.g. ``medications[0] <- MedicationRequest/abc (status active -> active)``."""
        target = self.field or "not imported"
        extra = f" ({self.detail})" if self.detail else ""
        return f"{target} <- {self.resource}{extra}"


@dataclass(frozen=True)
class FhirImport:
    """The result of :func:`ketascreen.fhir.import_fhir`.

    Attributes:
        case: a valid ``ketascreen-case/1`` document (checked with ``parse_case``).
        warnings: data-quality warnings, in the order found.
        provenance: one entry per imported item (and per resource deliberately left out).
        patient_label: a short label for lists, e.g. ``"Geoffrey Abbott (MRN 73a7...)"``.
    """

    case: dict[str, Any]
    warnings: tuple[ImportWarning, ...]
    provenance: tuple[Provenance, ...]
    patient_label: str
