"""Step 2: the formulary's limits on the order (soft and hard limits, duration range, maximum
administration rate).

The limits need no weight, so a hard limit is reported even when the weight is missing. Each
limit that fires is a :class:`~ketascreen.dosing.outcome.DoseFinding`; a hard limit also means
no dose.
"""

from __future__ import annotations

from collections.abc import Callable

from ketascreen.display import format_number
from ketascreen.knowledge.formulary import D, DoseLimits, Formulary
from ketascreen.models.doses import (
    HOUR,
    MG_PER_KG_PER_MIN,
    DosePerWeight,
    DoseRatePerWeight,
    as_decimal,
    in_unit,
)

from .order import Order
from .outcome import DoseFinding, DoseRefusal, WorkingStep


def _limit_findings(limits: DoseLimits[D], value: D, shown: Callable[[], str],
                    where: str) -> list[DoseFinding]:
    """The limit finding ``value`` fires, if any; ``shown`` writes the value for its basis."""
    hard, soft, low = limits.hard_max, limits.soft_max, limits.soft_min
    if value > hard.value:
        return [DoseFinding("dose-above-hard-limit",
                            f"{shown()} is above the hard limit of {hard.value.display()} "
                            f"{where}", hard.sources, True)]
    if value > soft.value:
        return [DoseFinding("dose-above-soft-limit",
                            f"{shown()} is above the soft limit of {soft.value.display()} "
                            f"{where}", soft.sources, False)]
    if value < low.value:
        return [DoseFinding("dose-below-range",
                            f"{shown()} is below the range {low.value.display()} to "
                            f"{soft.value.display()} {where}",
                            tuple(dict.fromkeys(low.sources + soft.sources)), False)]
    return []


def check_limits(order: Order, formulary: Formulary, findings: list[DoseFinding],
                 working: list[WorkingStep]) -> None:
    """Add the limit findings of ``order`` to ``findings``, and their lines to the working.

    Raises:
        DoseRefusal: ``dose-above-hard-limit`` when a hard limit fired (the first one's basis
            is the message); the findings are recorded first.
    """
    protocol = order.protocol
    where = f"(formulary {protocol.indication})"
    duration = order.duration_shown
    if protocol.session_limits is not None:
        def shown() -> str:
            return (order.session_dose.display() if isinstance(order.dose, DosePerWeight)
                    else f"{order.dose.display()} over {duration} = "
                    f"{order.session_dose.display()}")
        new = _limit_findings(protocol.session_limits, order.session_dose, shown, where)
    else:
        assert protocol.hourly_limits is not None  # the formulary sets exactly one of the two

        def shown() -> str:
            return (order.hourly_rate.display() if isinstance(order.dose, DoseRatePerWeight)
                    else f"{order.dose.display()} over {duration} = "
                    f"{order.hourly_rate.display()}")
        new = _limit_findings(protocol.hourly_limits, order.hourly_rate, shown, where)
    shortest, longest = protocol.duration_range_hours
    hours = in_unit(order.duration, HOUR)
    if not in_unit(shortest, HOUR) <= hours <= in_unit(longest, HOUR):
        new.append(DoseFinding(
            "duration-outside-range",
            f"duration {duration} is outside {protocol.duration_range_text} {where}",
            tuple(dict.fromkeys(protocol.duration_min.sources + protocol.duration_max.sources)),
            False))
    maximum = formulary.max_dose_rate
    if order.hourly_rate > maximum.value:
        per_minute = in_unit(order.hourly_rate.per_kg_per_h, MG_PER_KG_PER_MIN)
        new.append(DoseFinding(
            "dose-above-hard-limit",
            f"{order.dose.display()} over {duration} = {format_number(as_decimal(per_minute), 4)} "
            f"mg/kg/min is faster than the maximum administration rate of "
            f"{formulary.max_dose_rate_text} (formulary limits)",
            maximum.sources, True))
    working.append(lambda: f"Limits {where}: {protocol.limits_text}; duration "
                   f"{protocol.duration_range_text}; at most {formulary.max_dose_rate_text}")
    for finding in new:
        working.append(f"Finding {finding.concept}: {finding.basis}")
    if not new:
        working.append("Dose and duration are within the formulary's limits")
    findings.extend(new)
    blocking = [f for f in findings if f.blocks_dose]
    if blocking:
        raise DoseRefusal("dose-above-hard-limit", blocking[0].basis)
