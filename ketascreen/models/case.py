"""The screening case, ``ketascreen-case/1`` (``spec/case-format.md``), as pydantic models.

Every model forbids unknown keys, so a misspelt key is an error rather than a silent omission.
Quantity fields stay the strings the clinician typed (that is what is saved and shown back), but
each is parsed by :mod:`ketascreen.units` when the model is validated, so an invalid case never
exists as an object; accessors return the parsed quantities.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ketascreen.concepts import ALL_CONCEPTS, HistoryConcept
from ketascreen.errors import UnitInputError
from ketascreen.units import (
    POSSIBLE_SYSTOLIC_MMHG,
    BloodPressure,
    Dimension,
    Quantity,
    magnitude_in,
    parse_blood_pressure,
    parse_quantity,
)
from ketascreen.visible import visible_text_problem

CASE_FORMAT = "ketascreen-case/1"

YesNoUnknown = Literal["yes", "no", "unknown"]
Sex = Literal["female", "male", "unknown"]
Indication = Literal["depression", "ptsd", "anxiety", "ocd", "chronic-pain", "other"]
WeightBasis = Literal["actual", "ideal", "adjusted"]
ConditionStatus = Literal[
    "active", "recurrence", "relapse", "inactive", "remission", "resolved", "entered-in-error"
]
MedicationStatus = Literal["active", "on-hold", "stopped", "completed", "entered-in-error"]

COUNTING_CONDITION_STATUSES: frozenset[str] = frozenset({"active", "recurrence", "relapse"})
HISTORY_CONDITION_STATUSES: frozenset[str] = frozenset({"inactive", "remission", "resolved"})
COUNTING_MEDICATION_STATUSES: frozenset[str] = frozenset({"active", "on-hold"})

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

# Hard limits of what is physically possible. Values outside them are typing errors and are
# refused outright; values inside them but clinically implausible (a 187 kg patient 170 cm tall)
# become data findings instead, which the clinician sees and resolves. A blood pressure below
# 40/20 mmHg (units.py, local policy) or with a systolic above 350 mmHg is refused too.
_POSSIBLE = {
    "weight": (0.2, 700.0, "kilogram", "kg"),
    "height": (20.0, 280.0, "centimeter", "cm"),
    "heart_rate": (1.0, 350.0, "1/minute", "/min"),
    "spo2": (1.0, 100.0, "percent", "%"),
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?$")


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise PydanticCustomError("iso_date", "must be a date written YYYY-MM-DD")
    if not isinstance(value, str | date) or isinstance(value, datetime):
        raise PydanticCustomError("iso_date", "must be a date written YYYY-MM-DD")
    return value


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, str) and not (_ISO_DATETIME.match(value) or _ISO_DATE.match(value)):
        raise PydanticCustomError("iso_datetime",
                                  "must be a date and time written YYYY-MM-DDTHH:MM[:SS]")
    if not isinstance(value, str | datetime):
        raise PydanticCustomError("iso_datetime",
                                  "must be a date and time written YYYY-MM-DDTHH:MM[:SS]")
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value + "T00:00:00"
    return value


def _naive(value: datetime) -> datetime:
    # Staleness is judged in whole days at the clinic; a zone offset adds nothing but confusion.
    return value.replace(tzinfo=None)


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime), AfterValidator(_naive)]


def _visible(letters: bool) -> Any:
    def check(text: str) -> str:
        # NFC only: surrounding spaces are kept as typed (a form writes back what it reads).
        normal = unicodedata.normalize("NFC", text)
        problem = visible_text_problem(normal, letters=letters)
        if problem is not None:
            raise PydanticCustomError("visible_text", problem)
        return normal
    return check


# A name or a reason: NFC, at least one letter, no control or invisible character
# (ketascreen/visible.py). An identifier: NFC, visible, no control or invisible character.
VisibleWords = Annotated[str, Field(min_length=1), AfterValidator(_visible(letters=True))]
VisibleId = Annotated[str, Field(min_length=1), AfterValidator(_visible(letters=False))]


def _unit_error(error: UnitInputError) -> PydanticCustomError:
    return PydanticCustomError(
        "quantity",
        "{reason}",
        {"reason": error.reason, "suggestion": error.suggestion, "expected": error.expected},
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, validate_default=True)


class Patient(_Strict):
    """Who is being screened."""

    id: VisibleId
    name: VisibleWords
    birth_date: IsoDate
    sex: Sex
    pregnant: YesNoUnknown = "unknown"
    breastfeeding: YesNoUnknown = "unknown"


class VitalSignReadings:
    """The vital-sign fields of a model read as values (the case's measurements and a day-of
    check share them): each ``None`` when the field is not given."""

    if TYPE_CHECKING:  # the fields are each model's own (pydantic collects no mixin field)
        blood_pressure: str | None
        heart_rate: str | None
        spo2: str | None

    def blood_pressure_value(self) -> BloodPressure | None:
        """The blood pressure, or ``None`` when not given."""
        return None if self.blood_pressure is None else parse_blood_pressure(self.blood_pressure)

    def heart_rate_quantity(self) -> Quantity | None:
        """The heart rate as a per-minute quantity, or ``None`` when not given."""
        return (None if self.heart_rate is None
                else parse_quantity(self.heart_rate, Dimension.FREQUENCY))

    def spo2_quantity(self) -> Quantity | None:
        """The oxygen saturation as a percentage, or ``None`` when not given."""
        return None if self.spo2 is None else parse_quantity(self.spo2, Dimension.FRACTION)


class Measurements(_Strict, VitalSignReadings):
    """Vital signs and body size, each a quantity string with its unit; each optional."""

    weight: str | None = None
    height: str | None = None
    blood_pressure: str | None = None
    heart_rate: str | None = None
    spo2: str | None = None
    taken_at: IsoDateTime | None = None

    @field_validator("weight", "height", "heart_rate", "spo2", mode="before")
    @classmethod
    def _parse_scalar(cls, value: Any, info: Any) -> Any:
        if value is None:
            return value
        name = info.field_name
        dimension = {"weight": Dimension.MASS, "height": Dimension.LENGTH,
                     "heart_rate": Dimension.FREQUENCY, "spo2": Dimension.FRACTION}[name]
        try:
            parsed = parse_quantity(value, dimension, field=f"measurements.{name}")
        except UnitInputError as error:
            raise _unit_error(error) from None
        low, high, unit, symbol = _POSSIBLE[name]
        magnitude = magnitude_in(parsed, unit)
        if not low <= magnitude <= high:
            raise PydanticCustomError(
                "impossible",
                "is not a possible value (must be between {low} {symbol} and {high} {symbol})",
                {"low": f"{low:g}", "high": f"{high:g}", "symbol": symbol},
            )
        return value

    @field_validator("blood_pressure", mode="before")
    @classmethod
    def _parse_bp(cls, value: Any) -> Any:
        if value is None:
            return value
        try:
            parsed = parse_blood_pressure(value, field="measurements.blood_pressure")
        except UnitInputError as error:
            raise _unit_error(error) from None
        if parsed.mmhg()[0] > POSSIBLE_SYSTOLIC_MMHG:
            raise PydanticCustomError("impossible", "is not a possible blood pressure")
        return value

    def weight_quantity(self) -> Quantity | None:
        """The weight as a mass quantity, or ``None`` when not given."""
        return None if self.weight is None else parse_quantity(self.weight, Dimension.MASS)

    def height_quantity(self) -> Quantity | None:
        """The height as a length quantity, or ``None`` when not given."""
        return None if self.height is None else parse_quantity(self.height, Dimension.LENGTH)


class _Coded(_Strict):
    text: str | None = None
    system: str | None = None
    code: str | None = None

    @model_validator(mode="after")
    def _text_or_code(self) -> _Coded:
        if not (self.text and self.text.strip()) and not self.code:
            raise PydanticCustomError("coded", "needs a text, a code, or both")
        if self.code and not self.system:
            raise PydanticCustomError("coded", "a code needs its system (the code system URI)")
        return self

    def describe(self) -> str:
        """The text if any, else the system and code."""
        if self.text and self.text.strip():
            return self.text.strip()
        return f"{self.code} ({self.system})"


class Condition(_Coded):
    """One problem-list entry: free text and/or a SNOMED CT or ICD-10-CM code."""

    status: ConditionStatus = "active"
    onset: IsoDate | None = None


class Medication(_Coded):
    """One medication-list entry: free text and/or an RxNorm code."""

    daily_dose: str | None = None
    status: MedicationStatus = "active"

    @field_validator("daily_dose", mode="before")
    @classmethod
    def _parse_dose(cls, value: Any) -> Any:
        if value is None:
            return value
        try:
            parse_quantity(value, Dimension.MASS, field="daily_dose")
        except UnitInputError as error:
            raise _unit_error(error) from None
        return value

    def daily_dose_quantity(self) -> Quantity | None:
        """The total daily dose as a mass, or ``None`` when not given."""
        return None if self.daily_dose is None else parse_quantity(self.daily_dose, Dimension.MASS)


Dast10Answers = Annotated[list[Literal["yes", "no"]], Field(min_length=10, max_length=10)]
AuditCItems = Annotated[list[Annotated[StrictInt, Field(ge=0, le=4)]],
                        Field(min_length=3, max_length=3)]


class SubstanceUse(_Strict):
    """Screening instruments: DAST-10 (answers or total) and AUDIT-C (item scores or total)."""

    dast10: Dast10Answers | Annotated[StrictInt, Field(ge=0, le=10)] | None = None
    audit_c: AuditCItems | Annotated[StrictInt, Field(ge=0, le=12)] | None = None


class Protocol(_Strict):
    """The infusion as ordered; absent fields take the clinic formulary's default."""

    dose: str | None = None
    duration: str | None = None
    weight_basis: WeightBasis | None = None
    concentration: str | None = None
    vial: str | None = None
    diluent_volume: str | None = None

    @field_validator("dose", mode="before")
    @classmethod
    def _parse_dose(cls, value: Any) -> Any:
        if value is None:
            return value
        try:
            parse_quantity(value, Dimension.DOSE_PER_WEIGHT, field="protocol.dose")
        except UnitInputError as first:
            try:
                parse_quantity(value, Dimension.DOSE_RATE_PER_WEIGHT, field="protocol.dose")
            except UnitInputError:
                raise _unit_error(first) from None
        return value

    @field_validator("duration", "concentration", "vial", "diluent_volume", mode="before")
    @classmethod
    def _parse_other(cls, value: Any, info: Any) -> Any:
        if value is None:
            return value
        dimension = {"duration": Dimension.TIME, "concentration": Dimension.CONCENTRATION,
                     "vial": Dimension.CONCENTRATION,
                     "diluent_volume": Dimension.VOLUME}[info.field_name]
        try:
            parse_quantity(value, dimension, field=f"protocol.{info.field_name}")
        except UnitInputError as error:
            raise _unit_error(error) from None
        return value

    @model_validator(mode="after")
    def _one_preparation(self) -> Protocol:
        if self.concentration is not None and (self.vial or self.diluent_volume):
            raise PydanticCustomError(
                "preparation",
                "give either a final concentration or a vial strength with a diluent volume, "
                "not both")
        if self.diluent_volume is not None and self.vial is None:
            raise PydanticCustomError("preparation", "a diluent volume needs the vial strength")
        return self


class Acknowledgement(_Strict):
    """The physician's reason for proceeding despite a relative finding."""

    concept: str
    reason: VisibleWords

    @field_validator("concept")
    @classmethod
    def _known_concept(cls, value: str) -> str:
        if value not in ALL_CONCEPTS:
            raise PydanticCustomError("concept", "is not a concept id of concepts.md")
        return value


class Case(_Strict):
    """One patient screening, exactly as ``ketascreen-case/1``."""

    format: Literal["ketascreen-case/1"]
    screening_date: IsoDate
    patient: Patient
    indication: Indication
    measurements: Measurements = Field(default_factory=Measurements)
    history: dict[HistoryConcept, YesNoUnknown] = Field(default_factory=dict)
    conditions: list[Condition] = Field(default_factory=list)
    medications: list[Medication] = Field(default_factory=list)
    substance_use: SubstanceUse = Field(default_factory=SubstanceUse)
    protocol: Protocol | None = None
    acknowledgements: list[Acknowledgement] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates_make_sense(self) -> Case:
        born = self.patient.birth_date.isoformat()
        if self.patient.birth_date > self.screening_date:
            raise PydanticCustomError("dates", "is after the screening date",
                                      {"field": "patient.birth_date", "value": born})
        if self.age_years() > 130:
            raise PydanticCustomError("dates", "gives an impossible age (over 130 years)",
                                      {"field": "patient.birth_date", "value": born})
        taken = self.measurements.taken_at
        if taken is not None and taken.date() > self.screening_date:
            raise PydanticCustomError("dates", "is after the screening date",
                                      {"field": "measurements.taken_at",
                                       "value": taken.isoformat()})
        return self

    def answer(self, concept: str) -> YesNoUnknown:
        """The questionnaire answer for ``concept``; an absent answer is ``unknown``."""
        for key, value in self.history.items():
            if key == concept:
                return value
        return "unknown"

    def age_years(self) -> int:
        """Age in whole years on the screening date (a 29 February birthday counts on 1 March
        in non-leap years)."""
        born, today = self.patient.birth_date, self.screening_date
        had_birthday = (today.month, today.day) >= (born.month, born.day)
        return today.year - born.year - (0 if had_birthday else 1)
