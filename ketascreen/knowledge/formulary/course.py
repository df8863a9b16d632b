"""The formulary's course part (``[course.<indication>]``): the clinic's plan of a course of
infusions and its dose-escalation step and ceiling, per indication.

Every entry is optional: a formulary written before courses existed has no ``[course]`` at all,
and an indication without an entry has no default plan (the course file's ``plan`` is then the
only one) and no escalation step or ceiling. What is written is checked when the formulary is
loaded, naming the entry: the step and the ceiling are in the protocol's own form (mg/kg per
session, or mg/kg/h for a protocol whose limits are per hour), and the ceiling is no higher than
the protocol's hard limit (which stays the hard limit: a dose above it is refused as today) and
no lower than the protocol's default dose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ketascreen.knowledge.datafiles import Record
from ketascreen.knowledge.formulary.protocols import INDICATIONS, IndicationProtocol
from ketascreen.knowledge.formulary.sourced import Reader, Sourced
from ketascreen.models.course import Plan
from ketascreen.models.doses import DosePerWeight, DoseRatePerWeight, parse_weight_based_dose

_PLAN = re.compile(
    r"^\s*(?P<infusions>[0-9]+)\s+infusions?\s+(?:over|in)\s+(?P<weeks>[0-9]+)\s+weeks?\s*$")


@dataclass(frozen=True, eq=False, repr=False)
class CourseDefaults:
    """The formulary's course entry for one indication.

    Attributes:
        indication: the indication of case-format.md.
        plan: the course the clinic plans when the course file gives no ``plan`` (so many
            infusions over so many weeks), or ``None``.
        escalation_step: the largest rise of the dose per weight from one infusion to the next
            that the clinic's escalation plan foresees, in the protocol's form (mg/kg, or mg/kg/h
            for a protocol with limits per hour), or ``None``.
        escalation_ceiling: the highest dose per weight the escalation plan goes to, in the same
            form, never above the protocol's hard limit, or ``None``.
    """

    indication: str
    plan: Sourced[Plan] | None
    escalation_step: Sourced[DosePerWeight] | Sourced[DoseRatePerWeight] | None
    escalation_ceiling: Sourced[DosePerWeight] | Sourced[DoseRatePerWeight] | None


class _CourseTable(Record):
    """One ``[course.<indication>]`` as written."""

    plan: object = None
    escalation_step: object = None
    escalation_ceiling: object = None


def plan_text(text: str, entry: str) -> Plan:
    """A course plan written ``6 infusions over 3 weeks`` (or ``in 3 weeks``)."""
    match = _PLAN.match(text)
    if match is None:
        raise ValueError("is not a plan written \"6 infusions over 3 weeks\"")
    infusions, weeks = int(match.group("infusions")), int(match.group("weeks"))
    if infusions < 1 or weeks < 1:
        raise ValueError("a plan has at least 1 infusion over at least 1 week")
    return Plan(infusions=infusions, weeks=weeks)


def _weight_based(text: str, entry: str) -> DosePerWeight | DoseRatePerWeight:
    return parse_weight_based_dose(text, field=entry)


def read_course(reader: Reader, value: object,
                protocols: Mapping[str, IndicationProtocol]) -> dict[str, CourseDefaults]:
    """``[course]``: an optional entry per indication, checked against that indication's
    protocol (absent ``[course]``: no entries)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise reader.fail("course", "must be a table of indications")
    table: dict[str, Any] = value
    unknown = sorted(set(table) - set(INDICATIONS))
    if unknown:
        raise reader.fail(f"course.{unknown[0]}",
                          f"unknown indication (known: {', '.join(INDICATIONS)})")
    return {indication: _entry(reader, indication, table[indication], protocols[indication])
            for indication in INDICATIONS if indication in table}


def _entry(reader: Reader, indication: str, value: object,
           protocol: IndicationProtocol) -> CourseDefaults:
    entry = f"course.{indication}"
    table = reader.record(value, entry, _CourseTable)
    plan = (None if table.plan is None
            else reader.sourced(table.plan, f"{entry}.plan", plan_text))
    limits = protocol.hourly_limits or protocol.session_limits
    assert limits is not None  # the protocol loader sets exactly one of the two
    form = type(limits.hard_max.value)
    dose_limits: dict[str, Sourced[Any]] = {}
    for key in ("escalation_step", "escalation_ceiling"):
        written = getattr(table, key)
        if written is None:
            continue
        sourced = reader.sourced(written, f"{entry}.{key}", _weight_based)
        if not isinstance(sourced.value, form):
            form_text = ("per hour (mg/kg/h)" if protocol.limits_per_hour
                         else "per session (mg/kg)")
            raise reader.fail(f"{entry}.{key}",
                              f"{sourced.text} is a {_kind(sourced.value)} but the limits of "
                              f"protocols.{indication} are {form_text}: write it in that form")
        dose_limits[key] = sourced
    ceiling = dose_limits.get("escalation_ceiling")
    if ceiling is not None:
        if ceiling.value > limits.hard_max.value:
            raise reader.fail(f"{entry}.escalation_ceiling",
                              f"{ceiling.text} is above protocols.{indication}.hard_max "
                              f"{limits.hard_max.text} (the hard limit stays the protocol's)")
        default = protocol.default_dose
        if default is not None and ceiling.value < default.value:
            raise reader.fail(f"{entry}.escalation_ceiling",
                              f"{ceiling.text} is below protocols.{indication}.dose "
                              f"{default.text}: the default dose would be above the ceiling")
        if ceiling.value < limits.soft_min.value:
            raise reader.fail(f"{entry}.escalation_ceiling",
                              f"{ceiling.text} is below protocols.{indication}.soft_min "
                              f"{limits.soft_min.text}")
    return CourseDefaults(indication=indication, plan=plan,
                          escalation_step=dose_limits.get("escalation_step"),
                          escalation_ceiling=ceiling)


def _kind(value: DosePerWeight | DoseRatePerWeight) -> str:
    return ("dose rate per body weight (mg/kg/h)" if isinstance(value, DoseRatePerWeight)
            else "dose per body weight (mg/kg)")
