"""The thresholds applied to what a nurse records after an infusion: findings with the reading.

A monitoring reading beyond one of the clinic's notify values, or outside the patient's own
+/-20 % blood-pressure band, is a :class:`MonitoringFinding` stored with the reading; so is a
discharge below the Aldrete score to leave or without an escort. Nothing here decides whether to
stop or slow an infusion: the sources give no such rule for ketamine in depression, so every
notify value is the clinic's (course-facts.md C12-C15: "all stop/slow/notify thresholds must be
clinic-configurable and labelled as local policy").

- The notify values are the clinic policy's vital-sign thresholds (``policy.toml``
  ``[thresholds]``), the ones the infusion checklist prints beside its monitoring grid:
  ``hypertension_severe_systolic`` / ``_diastolic`` (above; R41, C12), else
  ``hypertension_elevated_systolic`` / ``_diastolic`` (above; R42), ``hypotension_systolic``
  (below; C14), ``bradycardia_heart_rate`` (below; C14), ``tachycardia_heart_rate`` (above;
  C14), ``hypoxaemia_spo2`` (at or below; C15, R116).
- The band: systolic or diastolic more than 20 % above or below the patient's baseline, the
  infusion's own pre-infusion blood pressure (the band the checklist prints); the PADSS and
  Aldrete "within 20 % of baseline" (C32, C34), applied here as local policy.
- The discharge: Aldrete below 9 (R116) or an escort that is not ``yes`` (C32).

Pure functions over the course model; no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Final, Literal

from ketascreen.display import format_threshold
from ketascreen.units import BloodPressure, Quantity

if TYPE_CHECKING:
    from ketascreen.knowledge.policy import Policy
    from ketascreen.models.course import Discharge, MonitoringReading

BAND_PERCENT: Final = 20
"""The patient's own band: +/- this percentage of the baseline blood pressure (C32, C34)."""
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


@dataclass(frozen=True)
class NotifyValues:
    """The clinic's notify values (its policy's vital-sign thresholds), as quantities."""

    severe_systolic: Quantity
    severe_diastolic: Quantity
    elevated_systolic: Quantity
    elevated_diastolic: Quantity
    hypotension_systolic: Quantity
    bradycardia: Quantity
    tachycardia: Quantity
    hypoxaemia_spo2: Quantity

    @classmethod
    def from_policy(cls, policy: Policy) -> NotifyValues:
        """The values of ``policy`` (the clinic policy in force for the records database)."""
        return cls(severe_systolic=policy.quantity("hypertension_severe_systolic"),
                   severe_diastolic=policy.quantity("hypertension_severe_diastolic"),
                   elevated_systolic=policy.quantity("hypertension_elevated_systolic"),
                   elevated_diastolic=policy.quantity("hypertension_elevated_diastolic"),
                   hypotension_systolic=policy.quantity("hypotension_systolic"),
                   bradycardia=policy.quantity("bradycardia_heart_rate"),
                   tachycardia=policy.quantity("tachycardia_heart_rate"),
                   hypoxaemia_spo2=policy.quantity("hypoxaemia_spo2"))


_LOCAL = "local policy"


def _shown(quantity: Quantity) -> str:
    return format_threshold(quantity)


def reading_findings(reading: MonitoringReading, index: int, notify: NotifyValues,
                     baseline: BloodPressure | None) -> list[MonitoringFinding]:
    """The findings of one monitoring reading.

    Args:
        reading: the reading (validated by the course model).
        index: its position in the infusion's ``monitoring`` list (names the field).
        notify: the clinic's notify values.
        baseline: the patient's baseline blood pressure for the band, or ``None`` (no band).
    """
    found: list[MonitoringFinding] = []
    at = f"monitoring[{index}]"

    def add(kind: FindingKind, name: str, value: str, limit: str, *sources: str) -> None:
        found.append(MonitoringFinding(kind, f"{at}.{name}", reading.minute, value, limit,
                                       tuple(sources)))

    pressure = reading.blood_pressure_value()
    if pressure is not None:
        shown = reading.blood_pressure or ""
        for name, value, severe, elevated in (
                ("systolic", pressure.systolic, notify.severe_systolic,
                 notify.elevated_systolic),
                ("diastolic", pressure.diastolic, notify.severe_diastolic,
                 notify.elevated_diastolic)):
            if value > severe:
                add("notify", "blood_pressure", shown, f"{name} above {_shown(severe)}",
                    _LOCAL, "R41", "C12")
            elif value > elevated:
                add("notify", "blood_pressure", shown, f"{name} above {_shown(elevated)}",
                    _LOCAL, "R42")
        if pressure.systolic < notify.hypotension_systolic:
            add("notify", "blood_pressure", shown,
                f"systolic below {_shown(notify.hypotension_systolic)}", _LOCAL, "C14")
        if baseline is not None:
            for name, now, base in (("systolic", pressure.mmhg()[0], baseline.mmhg()[0]),
                                    ("diastolic", pressure.mmhg()[1], baseline.mmhg()[1])):
                limit = _band_limit(name, Fraction(Decimal(str(now))),
                                    Fraction(Decimal(str(base))))
                if limit is not None:
                    add("band", "blood_pressure", shown, limit, _LOCAL, "C32", "C34")
    rate = reading.heart_rate_quantity()
    if rate is not None:
        if rate < notify.bradycardia:
            add("notify", "heart_rate", reading.heart_rate or "",
                f"heart rate below {_shown(notify.bradycardia)}", _LOCAL, "C14")
        if rate > notify.tachycardia:
            add("notify", "heart_rate", reading.heart_rate or "",
                f"heart rate above {_shown(notify.tachycardia)}", _LOCAL, "C14")
    saturation = reading.spo2_quantity()
    if saturation is not None and saturation <= notify.hypoxaemia_spo2:
        add("notify", "spo2", reading.spo2 or "",
            f"SpO2 at or below {_shown(notify.hypoxaemia_spo2)}", _LOCAL, "C15", "R116")
    return found


def _band_limit(name: str, now: Fraction, base: Fraction) -> str | None:
    """The band crossed by ``now`` (mmHg) around ``base`` (mmHg), exactly, or ``None``."""
    step = base * BAND_PERCENT / 100
    low, high = base - step, base + step
    if low <= now <= high:
        return None
    word = "above" if now > high else "below"
    bound = high if now > high else low
    return (f"{name} more than {BAND_PERCENT} % {word} the patient's baseline "
            f"{_mmhg(base)} mmHg ({word} {_mmhg(bound)} mmHg)")


def _mmhg(value: Fraction) -> str:
    text = f"{float(value):.1f}"
    return text.removesuffix(".0")


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
