"""What an import returns: the case, the data-quality warnings and the provenance of each item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
class ImportedScore:
    """A PHQ-9 or GAD-7 found in the record, for the course to use as an infusion's score.

    Attributes:
        scale: ``"phq9"`` or ``"gad7"``.
        total: the total (0-27 or 0-21).
        items: the item scores in questionnaire order when a QuestionnaireResponse gives all of
            them (and they add up to the total), else ``None``.
        taken: when, as the clock time recorded (without zone): the Observation's
            ``effective[x]`` or the response's ``authored``.
        taken_text: that date-time exactly as in the record.
        resource: ``"Type/id"`` of the resource the score was read from.
        file: the file the resource was read from.
        response: ``"QuestionnaireResponse/id"`` the items were read from, or ``None``.
    """

    scale: Literal["phq9", "gad7"]
    total: int
    items: tuple[int, ...] | None
    taken: datetime
    taken_text: str
    resource: str
    file: str
    response: str | None = None

    @property
    def value(self) -> list[int] | int:
        """The score as a course file writes ``pre.phq9`` / ``pre.gad7``: items or total."""
        return list(self.items) if self.items is not None else self.total

    def describe(self) -> str:
        """E.g. ``PHQ-9 9 (items) <- Observation/abc, taken 2026-11-27T09:00:00-05:00``."""
        name = {"phq9": "PHQ-9", "gad7": "GAD-7"}[self.scale]
        form = " (items)" if self.items is not None else ""
        return f"{name} {self.total}{form} <- {self.resource}, taken {self.taken_text}"


VitalKind = Literal["blood_pressure", "heart_rate", "spo2"]


@dataclass(frozen=True)
class ImportedVital:
    """One usable blood pressure, heart rate or SpO2 reading of the record, with its date.

    Attributes:
        kind: which vital sign (the name of the course's field).
        value: the quantity as the case writes it (``"132/84 mmHg"``, ``"70 /min"``, ``"98 %"``).
        taken: the clock time recorded (without zone).
        taken_text: that date-time exactly as in the record.
        resource: ``"Observation/id"``.
        file: the file the resource was read from.
    """

    kind: VitalKind
    value: str
    taken: datetime
    taken_text: str
    resource: str
    file: str


@dataclass(frozen=True)
class FhirImport:
    """The result of :func:`ketascreen.fhir.import_fhir`.

    Attributes:
        case: a valid ``ketascreen-case/1`` document (checked with ``parse_case``).
        warnings: data-quality warnings, in the order found.
        provenance: one entry per imported item (and per resource deliberately left out).
        patient_label: a short label for lists, e.g. ``"Geoffrey Abbott (MRN 73a7...)"``.
        scores: every usable PHQ-9 and GAD-7 of the record, oldest first, each with its source
            and date (not part of the case: a course takes them as an infusion's scores).
        vitals: every usable blood pressure, heart rate and SpO2 reading, oldest first, each with
            its source and date (the case keeps only the latest blood pressure).
    """

    case: dict[str, Any]
    warnings: tuple[ImportWarning, ...]
    provenance: tuple[Provenance, ...]
    patient_label: str
    scores: tuple[ImportedScore, ...] = ()
    vitals: tuple[ImportedVital, ...] = ()
