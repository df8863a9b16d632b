"""pint at the edges, plain magnitudes inside: how the dose arithmetic is kept fast.

pint's own advice for speed (its "Optimizing performance" page) is to convert quantities at a
function's boundary and do the arithmetic on magnitudes. The dosing steps do so: every quantity
that enters (the case's weight and height, the parsed order, the formulary's vial, bag and
resolutions) is converted by pint once, into one fixed unit (kg, m, h, mL, mg, mg/mL, mL/h), and
the arithmetic in between is plain float arithmetic in those units -- the very multiplications
and divisions, in the same order, that pint performs on the magnitudes when the units cancel
directly (``mg/kg x kg = mg``), so every number is the same float as before, bit for bit. The
quantities handed out (the pump programme, the dosing weight) are built at the end with
:func:`~ketascreen.models.doses.quantity_of`, in exactly the unit pint's own operators gave
them. The typed dose guards
(:class:`~ketascreen.models.doses.DosePerWeight`, ``DoseRatePerWeight``) stay at the order's
boundary: only a dose per body mass ever gives milligrams.
"""

from __future__ import annotations

from decimal import Decimal

from ketascreen.display import format_number
from ketascreen.models.doses import as_decimal


def shown(magnitude: float | Decimal, symbol: str, decimals: int) -> str:
    """A magnitude written per ISMP with its unit's symbol (``42.4 mg``): the same text as
    :func:`ketascreen.models.doses.show` of the quantity in that unit."""
    value = magnitude if isinstance(magnitude, Decimal) else as_decimal(float(magnitude))
    return f"{format_number(value, decimals)} {symbol}"
