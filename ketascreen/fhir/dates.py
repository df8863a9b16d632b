"""FHIR ``date`` and ``dateTime`` values: partial dates, time zones, and what the case needs.

FHIR allows ``"1987"``, ``"1987-02"``, ``"1987-02-20"`` and full date-times with a zone. Timestamps
are compared as UTC instants; a value without a zone is taken as UTC (the difference is hours,
while every judgement the importer makes is in days). A partial date-time means the *start* of
its period, so a measurement recorded only as "2019-04" counts as old as it can be (staler, the
stricter reading).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

_DATE = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?$")
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?$")


@dataclass(frozen=True)
class Moment:
    """A point in time read from a FHIR value.

    Attributes:
        instant: the moment as an aware UTC datetime (for ordering).
        local: the clock time as recorded, without zone (what the case stores).
        text: the value exactly as in the record.
    """

    instant: datetime
    local: datetime
    text: str

    @property
    def day(self) -> date:
        """The calendar day as recorded."""
        return self.local.date()


def parse_date(text: object, *, latest: bool = False) -> tuple[date, bool] | None:
    """Read a FHIR ``date`` (possibly partial).

    Args:
        text: the value from the record.
        latest: for a partial date, return the last day of the period instead of the first.

    Returns:
        The date and whether it was complete, or ``None`` when it is not a valid FHIR date.
    """
    if not isinstance(text, str):
        return None
    match = _DATE.match(text.strip())
    if match is None:
        return None
    year = int(match["y"])
    month = int(match["m"]) if match["m"] else (12 if latest else 1)
    try:
        if match["d"]:
            return date(year, month, int(match["d"])), True
        day = calendar.monthrange(year, month)[1] if latest else 1
        return date(year, month, day), False
    except ValueError:
        return None


def parse_moment(text: object) -> Moment | None:
    """Read a FHIR ``dateTime`` or ``instant``; partial values mean the start of their period.

    Returns:
        The moment, or ``None`` when the value is missing or not a valid FHIR date-time.
    """
    if not isinstance(text, str):
        return None
    value = text.strip()
    if _DATETIME.match(value):
        try:
            parsed = datetime.fromisoformat(value)
            instant = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except (ValueError, OverflowError):
            return None
        return Moment(instant, parsed.replace(tzinfo=None), text)
    found = parse_date(value)
    if found is None:
        return None
    day = found[0]
    local = datetime(day.year, day.month, day.day)
    return Moment(local.replace(tzinfo=UTC), local, text)


def case_datetime(moment: Moment) -> str:
    """The ``measurements.taken_at`` text of the case: local clock time to the second."""
    return moment.local.replace(microsecond=0).isoformat()


def age_on(birth: date, day: date) -> int:
    """Age in whole years on ``day``, as the case model counts it (29 February -> 1 March)."""
    had_birthday = (day.month, day.day) >= (birth.month, birth.day)
    return day.year - birth.year - (0 if had_birthday else 1)


_CLINICAL_DATES: dict[str, tuple[str, ...]] = {
    "Encounter": ("period.start", "period.end"),
    "Observation": ("effectiveDateTime", "effectiveInstant", "effectivePeriod.end", "issued"),
    "Condition": ("onsetDateTime", "recordedDate", "abatementDateTime"),
    "MedicationRequest": ("authoredOn",),
    "MedicationStatement": ("effectiveDateTime", "effectivePeriod.start", "dateAsserted"),
    "Procedure": ("performedDateTime", "performedPeriod.end"),
    "Immunization": ("occurrenceDateTime",),
    "DiagnosticReport": ("effectiveDateTime", "issued"),
}
"""The dates that say when care happened (billing, plans and measure periods are left out)."""


def latest_clinical_date(resources: Iterable[Mapping[str, Any]]) -> date | None:
    """The day of the latest clinical record among ``resources`` (raw FHIR JSON objects).

    Useful as the as-of date of a historical test record ("screened right after the last
    visit"). Encounters, observations, conditions, orders, procedures, immunisations and
    reports count; claims, care plans, coverage and measure reports do not.
    """
    latest: date | None = None
    for resource in resources:
        for path in _CLINICAL_DATES.get(str(resource.get("resourceType")), ()):
            value: Any = resource
            for part in path.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            moment = parse_moment(value)
            if moment is not None and (latest is None or moment.day > latest):
                latest = moment.day
    return latest
