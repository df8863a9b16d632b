"""Narrow, lenient pydantic models of the FHIR R4 elements the importer reads.

Only the elements the mapping uses are declared; everything else in a resource is ignored, so
unedited real data (profiles, extensions, R4B or R5 additions) never makes a resource unreadable.
A resource whose *used* elements are malformed (a ``coding`` that is not a list, a ``status``
that is an object) fails validation and becomes an ``unreadable-resource`` warning instead of
stopping the import. Dates stay text: FHIR allows partial dates (``"1987"``, ``"1987-02"``) that
:mod:`ketascreen.fhir.dates` interprets.

Why not ``fhir.resources``: see ``bench/bench_import.py --compare`` and the package docstring.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


class Element(BaseModel):
    """Base of every narrow model: camelCase aliases, unknown elements ignored, immutable."""

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        coerce_numbers_to_str=True,
    )


class Coding(Element):
    """A code from a code system."""

    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(Element):
    """Codings plus free text."""

    coding: list[Coding] = Field(default_factory=list)
    text: str | None = None

    def codes(self, system: str) -> list[Coding]:
        """The codings of ``system`` that carry a code."""
        return [c for c in self.coding if c.system == system and c.code and c.code.strip()]

    def has(self, system: str, *codes: str) -> bool:
        """Whether any coding is ``system`` with one of ``codes``."""
        return any(c.code.strip() in codes for c in self.codes(system) if c.code)


class Reference(Element):
    """A reference to another resource (relative, absolute, ``urn:uuid:`` or ``#contained``)."""

    reference: str | None = None
    display: str | None = None


class Quantity(Element):
    """A measured amount; ``system`` + ``code`` are the UCUM unit, ``unit`` only display text."""

    # Strict: a boolean (true -> 1.0) or text ("85") is not a number; nor are NaN or infinity.
    # (The reader refuses such files first, naming the element; this is the second wall.)
    value: float | None = Field(default=None, strict=True, allow_inf_nan=False)
    unit: str | None = None
    system: str | None = None
    code: str | None = None


class Period(Element):
    """A time range."""

    start: str | None = None
    end: str | None = None


class Identifier(Element):
    """A business identifier (MRN, SSN, ...)."""

    type: CodeableConcept | None = None
    system: str | None = None
    value: str | None = None


class HumanName(Element):
    """A person's name."""

    use: str | None = None
    text: str | None = None
    family: str | None = None
    given: list[str] = Field(default_factory=list)
    prefix: list[str] = Field(default_factory=list)
    suffix: list[str] = Field(default_factory=list)
    period: Period | None = None


class Extension(Element):
    """An extension; only the coded value forms the importer shows are declared."""

    url: str | None = None
    value_coding: Coding | None = None
    value_code: str | None = None


class Resource(Element):
    """Common to every resource."""

    resource_type: str
    id: str | None = None


class Patient(Resource):
    """Demographics."""

    identifier: list[Identifier] = Field(default_factory=list)
    name: list[HumanName] = Field(default_factory=list)
    gender: str | None = None
    birth_date: str | None = None
    deceased_boolean: bool | None = None
    deceased_date_time: str | None = None
    extension: list[Extension] = Field(default_factory=list)


class Condition(Resource):
    """A problem-list entry or diagnosis."""

    clinical_status: CodeableConcept | None = None
    verification_status: CodeableConcept | None = None
    code: CodeableConcept | None = None
    subject: Reference | None = None
    onset_date_time: str | None = None
    onset_period: Period | None = None
    abatement_date_time: str | None = None
    recorded_date: str | None = None


class MedicationIngredient(Element):
    """One ingredient of a Medication resource."""

    item_codeable_concept: CodeableConcept | None = None
    item_reference: Reference | None = None


class Medication(Resource):
    """A Medication resource, contained or standalone."""

    code: CodeableConcept | None = None
    ingredient: list[MedicationIngredient] = Field(default_factory=list)


class MedicationRequest(Resource):
    """An order."""

    status: str | None = None
    intent: str | None = None
    do_not_perform: bool | None = None
    medication_codeable_concept: CodeableConcept | None = None
    medication_reference: Reference | None = None
    subject: Reference | None = None
    authored_on: str | None = None
    contained: list[dict[str, object]] = Field(default_factory=list)


class MedicationStatement(Resource):
    """What the patient takes or took, as reported."""

    status: str | None = None
    medication_codeable_concept: CodeableConcept | None = None
    medication_reference: Reference | None = None
    subject: Reference | None = None
    effective_date_time: str | None = None
    effective_period: Period | None = None
    date_asserted: str | None = None
    contained: list[dict[str, object]] = Field(default_factory=list)


class ObservationComponent(Element):
    """One component of a panel (systolic, diastolic, ...)."""

    code: CodeableConcept | None = None
    value_quantity: Quantity | None = None


class Observation(Resource):
    """A measurement or finding."""

    status: str | None = None
    code: CodeableConcept | None = None
    subject: Reference | None = None
    effective_date_time: str | None = None
    effective_instant: str | None = None
    effective_period: Period | None = None
    issued: str | None = None
    value_quantity: Quantity | None = None
    value_codeable_concept: CodeableConcept | None = None
    component: list[ObservationComponent] = Field(default_factory=list)


class Hospitalization(Element):
    """Admission and discharge details of an encounter."""

    discharge_disposition: CodeableConcept | None = None


class Encounter(Resource):
    """A visit or stay."""

    status: str | None = None
    subject: Reference | None = None
    period: Period | None = None
    hospitalization: Hospitalization | None = None


MODELS: dict[str, type[Resource]] = {
    "Patient": Patient,
    "Condition": Condition,
    "Medication": Medication,
    "MedicationRequest": MedicationRequest,
    "MedicationStatement": MedicationStatement,
    "Observation": Observation,
    "Encounter": Encounter,
}
"""The resource types the importer reads; every other type is carried but not interpreted."""
