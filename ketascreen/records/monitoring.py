"""The thresholds applied to what a nurse records after an infusion: findings with the reading.

A monitoring reading beyond one of the clinic's notify values, or outside the patient's own
+/-20 % blood-pressure band, is a :class:`MonitoringFinding` stored with the reading; so is a
discharge below the Aldrete score to leave or without an escort. The notify values, the band and
the check of a reading are decided once, in :mod:`ketascreen.course.monitoring` (the values the
infusion checklist prints and the app highlights): a *severe* blood pressure (not the elevated
140/90 mmHg screening limit, C8), hypotension, brady- and tachycardia (C14) and hypoxaemia (C15,
R116), all local policy; the band is the day's pre-infusion blood pressure +/-20 % in whole mmHg
rounded inwards (C32, C34). Nothing here decides whether to stop or slow an infusion.

- The discharge: Aldrete below 9 (R116) or an escort that is not ``yes`` (C32).

Pure functions over the course model; no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from ketascreen.course.monitoring import (
    BAND_PERCENT,
    NotifyValues,
    blood_pressure_band,
    check_reading,
)
from ketascreen.units import BloodPressure

if TYPE_CHECKING:
    from ketascreen.models.course import Discharge, MonitoringReading

__all__ = ["ALDRETE_TO_LEAVE", "BAND_PERCENT", "FindingKind", "MonitoringFinding",
           "NotifyValues", "discharge_findings", "reading_findings"]

ALDRETE_TO_LEAVE: Final = 9
"""Modified Aldrete score at or above which the patient may leave (R116)."""

FindingKind = Literal["notify", "band", "discharge"]


@dataclass(frozen=True)
class MonitoringFinding:
    """A recorded value beyond a threshold, stored with the reading.

    Attributes:
        kind: ``notify`` (a clinic notify value), ``band`` (the patient's +/-20 % band) or
            ``discharge`` (the criteria to leave not met).
        field: where the value is, e.g. ``monitoring[2].blood_pressure`` or
            ``discharge.aldrete``.
        minute: minutes from the infusion's start.
        value: the value as typed, e.g. ``192/104 mmHg``.
        limit: the threshold crossed, for a clinician, e.g. ``systolic above 180 mmHg``.
        sources: R#/C# keys, and ``local policy`` where the number is the clinic's.
    """

    kind: FindingKind
    field: str
    minute: int
    value: str
    limit: str
    sources: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        """The finding as stored (``infusion_records.findings_json``) and shown by
        ``course show --json``."""
        return {"kind": self.kind, "field": self.field, "minute": self.minute,
                "value": self.value, "limit": self.limit, "sources": list(self.sources)}

    def describe(self) -> str:
        """One line for a clinician: ``minute 40: blood_pressure 192/104 mmHg: systolic above
        180 mmHg (notify; local policy, R41 C12)``."""
        return (f"minute {self.minute}: {self.field.rsplit('.', 1)[-1]} {self.value}: "
                f"{self.limit} ({self.kind}; {', '.join(self.sources)})")


def reading_findings(reading: MonitoringReading, index: int, notify: NotifyValues,
                     baseline: BloodPressure | None) -> list[MonitoringFinding]:
    """The findings of one monitoring reading: the flags of
    :func:`ketascreen.course.monitoring.check_reading`, each named by its field path.

    Args:
        reading: the reading (validated by the course model).
        index: its position in the infusion's ``monitoring`` list (names the field).
        notify: the clinic's notify values
            (:meth:`~ketascreen.course.monitoring.NotifyValues.from_policy`).
        baseline: the day's pre-infusion blood pressure for the band, or ``None`` (no band).
    """
    flags = check_reading({"blood_pressure": reading.blood_pressure,
                           "heart_rate": reading.heart_rate, "spo2": reading.spo2},
                          blood_pressure_band(baseline), notify)
    return [MonitoringFinding(flag.kind, f"monitoring[{index}].{flag.field}", reading.minute,
                              flag.value, flag.limit, flag.sources) for flag in flags]


def discharge_findings(discharge: Discharge) -> list[MonitoringFinding]:
    """The findings of a discharge: Aldrete below :data:`ALDRETE_TO_LEAVE` (R116) or an escort
    that is not ``yes`` (C32)."""
    found: list[MonitoringFinding] = []
    if discharge.aldrete < ALDRETE_TO_LEAVE:
        found.append(MonitoringFinding(
            "discharge", "discharge.aldrete", discharge.minute, str(discharge.aldrete),
            f"Aldrete below {ALDRETE_TO_LEAVE}: not fit to leave", ("R116", "R117")))
    if discharge.escort != "yes":
        found.append(MonitoringFinding(
            "discharge", "discharge.escort", discharge.minute, discharge.escort,
            "no competent adult escort confirmed", ("C32",)))
    return found
