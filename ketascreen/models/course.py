"""A course of infusions, ``ketascreen-course/1`` (``spec/course-format.md``), as pydantic models.

The first screening, as signed (a whole :class:`~ketascreen.models.case.Case`), and every infusion
since, oldest first, each with its day-of re-check, its protocol, the monitoring record, rescue
drugs and discharge. As in the case, every model forbids unknown keys, quantities stay the strings
typed (validated by the case's own measurement rules and :mod:`ketascreen.units`), and the rules
of interpretation that make a file invalid are enforced when the model is validated:

- infusions are numbered 1, 2, 3 ... in file order, without gaps;
- no infusion starts before the screening date, and each starts after the one before it;
- times are local date-times without an offset (the clinic's wall clock);
- a fasting time is not after the start of the infusion it is checked for;
- monitoring readings are in order of their minute (one reading per minute).

Parse with :func:`ketascreen.models.parsing.parse_course` (or ``parse_course_json`` /
``load_course``), which names every offending field by its full path
(``infusions[2].pre.phq9[8]``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ketascreen.errors import UnitInputError
from ketascreen.models.case import (
    Acknowledgement,
    Case,
    Measurements,
    Medication,
    Protocol,
    VisibleWords,
    VitalSignReadings,
    YesNoUnknown,
)
from ketascreen.models.scales import Gad7Value, Phq9Value, gad7_total, phq9_item9, phq9_total
from ketascreen.units import (
    Dimension,
    Quantity,
    parse_quantity,
)

COURSE_FORMAT = "ketascreen-course/1"
RECORD_ID_PATTERN = r"^KS-[0-9A-F]{12}$"
"""A signed record's id as the checklist prints it: ``KS-`` and 12 upper-case hex digits."""

PregnancyTest = Literal["negative", "positive", "not-done", "not-applicable"]

MOAAS_MAX = 5
"""MOAA/S: 5 = responds readily to name ... 0 = no response (C17)."""
CADSS6_MAX = 24
"""CADSS-6 (C21) total: 0-24 (course-format.md)."""
ALDRETE_MAX = 10
"""Modified Aldrete score (C15): 0-10 (course-format.md)."""

_LOCAL_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_WITH_OFFSET = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$")


def _local_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise PydanticCustomError(
                "local_time", "has a time-zone offset: write the clinic's local time without one")
        return value
    if isinstance(value, str) and _WITH_OFFSET.match(value):
        raise PydanticCustomError(
            "local_time",
            "has a time-zone offset: write the clinic's local time without one "
            "(YYYY-MM-DDTHH:MM)")
    if not (isinstance(value, str) and _LOCAL_DATETIME.match(value)):
        raise PydanticCustomError(
            "local_time", "must be a local date and time written YYYY-MM-DDTHH:MM[:SS]")
    return value


LocalDateTime = Annotated[datetime, BeforeValidator(_local_datetime)]
"""A local date and time, ``YYYY-MM-DDTHH:MM[:SS]``; a ``Z`` or an offset is refused."""


def _as_measurement(name: str) -> Any:
    """A check that runs the case's own validator of ``measurements.<name>`` on a value."""
    def check(value: Any) -> Any:
        try:
            Measurements.model_validate({name: value})
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            ctx = first.get("ctx") or {}
            raise PydanticCustomError(first["type"], "{reason}",
                                      {"reason": first["msg"],
                                       "suggestion": ctx.get("suggestion")}) from None
        return value
    return check


Weight = Annotated[str, BeforeValidator(_as_measurement("weight"))]
BloodPressureText = Annotated[str, BeforeValidator(_as_measurement("blood_pressure"))]
HeartRate = Annotated[str, BeforeValidator(_as_measurement("heart_rate"))]
Spo2 = Annotated[str, BeforeValidator(_as_measurement("spo2"))]


def _drug_mass(value: Any) -> Any:
    try:
        parse_quantity(value, Dimension.MASS)
    except UnitInputError as error:
        raise PydanticCustomError("quantity", "{reason}",
                                  {"reason": error.reason, "suggestion": error.suggestion,
                                   "expected": error.expected}) from None
    return value


DrugMass = Annotated[str, BeforeValidator(_drug_mass)]
Minute = Annotated[StrictInt, Field(ge=0)]
"""Whole minutes from the infusion's start (0 = the start)."""


def _shown(when: datetime) -> str:
    return when.isoformat(timespec="minutes" if not when.second else "seconds")


def _problem(field: str, message: str, value: object) -> PydanticCustomError:
    """An error of a whole object that names its own field (relative to that object)."""
    return PydanticCustomError("course", message, {"field": field, "value": value})


class _Strict(BaseModel):
    # Built on first use (pydantic's defer_build): a screening that is not of a course never
    # validates one, and building these models at import cost every process ~3 ms.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, validate_default=True,
                              defer_build=True)


class Plan(_Strict):
    """The course the clinic plans: so many infusions over so many weeks."""

    infusions: Annotated[StrictInt, Field(ge=1)]
    weeks: Annotated[StrictInt, Field(ge=1)]


class VitalSigns(_Strict, VitalSignReadings):
    """Blood pressure, heart rate and SpO2, each a quantity string with its unit; each optional
    (an absent value fires nothing, concepts.md)."""

    blood_pressure: BloodPressureText | None = None
    heart_rate: HeartRate | None = None
    spo2: Spo2 | None = None


class DayOfCheck(VitalSigns):
    """The day-of re-check before an infusion (``pre``).

    Absent answers are kept absent or ``unknown``/``not-done`` so the rules can report them as
    data findings (``missing-fasting-times``, ``missing-escort``, ``missing-pregnancy-test``,
    ``missing-vital-signs``, ``missing-phq9``) instead of guessing.
    """

    last_solids: LocalDateTime | None = None
    last_clear_fluids: LocalDateTime | None = None
    escort: YesNoUnknown = "unknown"
    pregnancy_test: PregnancyTest = "not-done"
    weight: Weight | None = None
    medications: list[Medication] | None = None
    phq9: Phq9Value | None = None
    gad7: Gad7Value | None = None
    urinary_symptoms: YesNoUnknown = "unknown"
    since_last: VisibleWords | None = None

    def weight_quantity(self) -> Quantity | None:
        """Today's weight as a mass, or ``None`` when the patient was not re-weighed."""
        return None if self.weight is None else parse_quantity(self.weight, Dimension.MASS)

    def medications_changed(self) -> bool:
        """Whether a whole new medication list is given (``null`` = unchanged)."""
        return self.medications is not None

    def phq9_total(self) -> int | None:
        """The PHQ-9 total 0-27, or ``None`` when not given."""
        return phq9_total(self.phq9)

    def phq9_item9(self) -> int | None:
        """PHQ-9 item 9 (C51), or ``None`` when absent or given only as a total."""
        return phq9_item9(self.phq9)

    def gad7_total(self) -> int | None:
        """The GAD-7 total 0-21, or ``None`` when not given."""
        return gad7_total(self.gad7)


class MonitoringReading(VitalSigns):
    """One row of the monitoring record, at a minute from the infusion's start."""

    minute: Minute
    moaas: Annotated[StrictInt, Field(ge=0, le=MOAAS_MAX)] | None = None
    cadss6: Annotated[StrictInt, Field(ge=0, le=CADSS6_MAX)] | None = None

    @model_validator(mode="after")
    def _has_a_reading(self) -> MonitoringReading:
        if (self.blood_pressure is None and self.heart_rate is None and self.spo2 is None
                and self.moaas is None and self.cadss6 is None):
            raise _problem("minute", "has no reading (give a vital sign, MOAA/S or CADSS-6)",
                           self.minute)
        return self


class Rescue(_Strict):
    """One rescue drug given during or after the infusion."""

    drug: VisibleWords
    dose: DrugMass
    minute: Minute

    def dose_quantity(self) -> Quantity:
        """The dose as a mass."""
        return parse_quantity(self.dose, Dimension.MASS)


class Discharge(_Strict):
    """The discharge: when (minutes from the start), the Aldrete score and the escort."""

    minute: Minute
    aldrete: Annotated[StrictInt, Field(ge=0, le=ALDRETE_MAX)]
    escort: YesNoUnknown


class Infusion(_Strict):
    """One infusion of the course: the day-of re-check, the protocol, what was recorded."""

    number: Annotated[StrictInt, Field(ge=1)]
    start: LocalDateTime
    pre: DayOfCheck = Field(default_factory=DayOfCheck)
    dose: Protocol | None = None
    acknowledgements: list[Acknowledgement] = Field(default_factory=list)
    monitoring: list[MonitoringReading] = Field(default_factory=list)
    rescue: list[Rescue] = Field(default_factory=list)
    discharge: Discharge | None = None

    @model_validator(mode="after")
    def _times_make_sense(self) -> Infusion:
        for name in ("last_solids", "last_clear_fluids"):
            when: datetime | None = getattr(self.pre, name)
            if when is not None and when > self.start:
                raise _problem(f"pre.{name}", "is after the infusion's start",
                               _shown(when))
        for index in range(1, len(self.monitoring)):
            minute = self.monitoring[index].minute
            if minute <= self.monitoring[index - 1].minute:
                raise _problem(
                    f"monitoring[{index}].minute",
                    "is out of order: monitoring readings go in order of their minute, "
                    "one reading per minute", minute)
        return self


class Course(_Strict):
    """A patient's course of infusions, exactly as ``ketascreen-course/1``."""

    format: Literal["ketascreen-course/1"]
    screening: Case
    screening_record: Annotated[str, Field(pattern=RECORD_ID_PATTERN)] | None = None
    plan: Plan | None = None
    infusions: Annotated[list[Infusion], Field(min_length=1)]

    @field_validator("screening_record", mode="before")
    @classmethod
    def _record_id(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.match(RECORD_ID_PATTERN, value):
            raise PydanticCustomError("record_id",
                                      "must be a record id: KS- and 12 hex digits (0-9, A-F)")
        return value

    @model_validator(mode="after")
    def _infusions_in_order(self) -> Course:
        screened = self.screening.screening_date
        for index, infusion in enumerate(self.infusions):
            expected = index + 1
            if infusion.number != expected:
                later = {other.number for other in self.infusions[index + 1:]}
                if 1 <= infusion.number < expected:
                    message = (f"repeats infusion {infusion.number}: infusions are numbered "
                               f"1, 2, 3 ... in order, so this one must be {expected}")
                elif expected in later:
                    message = (f"is out of order: infusions go oldest first, numbered 1, 2, 3 "
                               f"..., so this one must be {expected}")
                else:
                    message = (f"leaves a gap: infusions are numbered 1, 2, 3 ... without gaps, "
                               f"so this one must be {expected}")
                raise _problem(f"infusions[{index}].number", message, infusion.number)
            start = _shown(infusion.start)
            if infusion.start.date() < screened:
                raise _problem(f"infusions[{index}].start",
                               f"is before the screening date ({screened.isoformat()})", start)
            if index and infusion.start <= self.infusions[index - 1].start:
                raise _problem(f"infusions[{index}].start",
                               f"is not after infusion {index}'s start (infusions go oldest "
                               "first)", start)
        return self

    def infusion(self, number: int) -> Infusion:
        """Infusion ``number`` (1-based, as numbered in the file).

        Raises:
            IndexError: there is no such infusion.
        """
        if not 1 <= number <= len(self.infusions):
            raise IndexError(f"the course has infusions 1 to {len(self.infusions)}, "
                             f"not {number}")
        return self.infusions[number - 1]

    @property
    def last(self) -> Infusion:
        """The last infusion in the file: the one ``ketascreen screen COURSE.json`` screens."""
        return self.infusions[-1]

    def phq9_baseline(self) -> int | None:
        """The course's PHQ-9 baseline: infusion 1's ``pre.phq9`` total, or ``None``."""
        return self.infusions[0].pre.phq9_total()
