"""The PHQ-9 trend of a course, drawn as one reportlab Drawing (vector in the PDF, SVG in the app).

:func:`phq9_chart` draws the PHQ-9 total at each infusion (the baseline is infusion 1's) with the
lines the course status is judged against (``course-format.md``): 20 % below the baseline
(improvement, C44), 50 % below it (response, C43 C48) and the remission line (PHQ-9 < 5, C43
C48). It reads in grey print: every line has its own dash pattern and a printed label, each point
its printed value; no meaning is carried by colour alone. The app renders the same Drawing to SVG
with ``reportlab.graphics.renderSVG``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from ketascreen.course.figures import PHQ9_MAX, CourseThresholds
from ketascreen.display import format_number

FONT = "Helvetica"
"""A standard PDF font, so the SVG the app shows uses the same metrics."""
_FONT_SIZE = 7.0
_BLACK = colors.black
_GREY = colors.HexColor("#555555")
DASHES: dict[str, tuple[float, ...] | None] = {
    "baseline": (1, 0),
    "improvement": (6, 3),
    "response": (9, 3, 2, 3),
    "remission": (1.5, 2),
}
"""The dash pattern of each reference line (on, off ... in points): told apart without colour."""
LABEL_SLACK = 1.2
"""How much wider than Helvetica's metrics a label may be drawn: the app's SVG renderer
substitutes the system's sans-serif for Helvetica (DejaVu Sans is about 15 % wider), so the
right margin is sized for labels this much wider than their PDF width."""
_LEADER = 16.0
"""From the plot's right edge to a reference line's label (the leader line between)."""
_LINE_GAP = 8.0
"""The least vertical distance between two reference-line labels."""


def label_width(text: str) -> float:
    """The width of a chart label in points, as the PDF draws it (Helvetica metrics)."""
    return float(stringWidth(text, FONT, _FONT_SIZE))


def _spread(wanted: list[float], low: float, high: float) -> list[float]:
    """Label baselines near ``wanted`` (any order), at least :data:`_LINE_GAP` apart, within
    ``low`` .. ``high`` (when they fit): pushed down from the top, then up from the bottom."""
    order = sorted(range(len(wanted)), key=lambda i: -wanted[i])
    placed = [min(wanted[i], high) for i in order]
    for k in range(1, len(placed)):
        placed[k] = min(placed[k], placed[k - 1] - _LINE_GAP)
    if placed and placed[-1] < low:
        placed[-1] = low
        for k in range(len(placed) - 2, -1, -1):
            placed[k] = max(placed[k], placed[k + 1] + _LINE_GAP)
    result = [0.0] * len(wanted)
    for k, i in enumerate(order):
        result[i] = placed[k]
    return result


def _total(value: int | None) -> int | None:
    return None if value is None or not 0 <= value <= PHQ9_MAX else value


def reference_lines(baseline: int | None,
                    thresholds: CourseThresholds) -> tuple[tuple[str, Fraction, str], ...]:
    """The horizontal lines of the chart: (name, PHQ-9 value, printed label).

    The 20 % and 50 % lines need a baseline above 0; the remission line is always drawn.

    Args:
        baseline: the course's PHQ-9 baseline (infusion 1's total), or ``None``.
        thresholds: the course thresholds (percentages and the remission cut-off).

    Returns:
        The baseline, improvement, response and remission lines that apply, top to bottom.
    """
    lines: list[tuple[str, Fraction, str]] = []
    if baseline is not None and baseline > 0:
        lines.append(("baseline", Fraction(baseline), f"baseline {baseline}"))
        for name, percent, word in (("improvement", thresholds.improvement_percent, "improving"),
                                    ("response", thresholds.response_percent, "response")):
            value = Fraction(baseline) * (1 - Fraction(percent) / 100)
            lines.append((name, value,
                          f"{format_number(percent)} % below: {word} "
                          f"({format_number(Decimal(value.numerator) / value.denominator, 1)})"))
    lines.append(("remission", Fraction(thresholds.remission_below),
                  f"remission: below {thresholds.remission_below}"))
    return tuple(lines)


def phq9_chart(series: Sequence[tuple[int, int | None]], thresholds: CourseThresholds, *,
               width: float, height: float, planned: int | None = None) -> Drawing:
    """The PHQ-9 trend of a course as one Drawing.

    Args:
        series: (infusion number, PHQ-9 total or ``None``) for each infusion, oldest first
            (:attr:`ketascreen.course.outcome.CourseScreening.phq9_series`); the baseline is
            infusion 1's total. A ``None`` total leaves a gap in the line, labelled ``n/a``.
        thresholds: the course status thresholds (:class:`~ketascreen.course.CourseThresholds`).
        width: the drawing's width in points.
        height: the drawing's height in points.
        planned: the infusions planned; the x axis reaches at least that far.

    Returns:
        The drawing. Its named parts (``drawing.contents`` via ``getattr``) are ``trend`` (the
        polylines of consecutive totals, ``trend_0``, ``trend_1`` ...), ``point_N`` for each
        infusion with a total, and ``line_baseline``, ``line_improvement``, ``line_response``
        and ``line_remission`` for the reference lines drawn.
    """
    drawing = Drawing(width, height)
    baseline = _total(series[0][1]) if series and series[0][0] == 1 else None
    lines = reference_lines(baseline, thresholds)
    widest = max(label_width(label) for _, _, label in lines)
    # the right margin holds the widest label, drawn up to LABEL_SLACK wider in the app
    left, right, bottom, top = 26.0, _LEADER + widest * LABEL_SLACK + 2.0, 20.0, 12.0
    plot_w, plot_h = max(width - left - right, 20.0), max(height - bottom - top, 20.0)
    numbers = [number for number, _ in series]
    last = max([*numbers, planned or 0, 1])

    def x_at(number: int) -> float:
        return left + (plot_w * (number - 0.5) / last)

    def y_at(value: Fraction | int) -> float:
        return bottom + plot_h * float(Fraction(value) / PHQ9_MAX)

    drawing.add(Rect(left, bottom, plot_w, plot_h, fillColor=None, strokeColor=_BLACK,
                     strokeWidth=0.6), name="frame")
    for tick in (0, 5, 10, 15, 20, 25):
        y = y_at(tick)
        drawing.add(Line(left - 3, y, left, y, strokeColor=_BLACK, strokeWidth=0.5))
        drawing.add(String(left - 5, y - 2.5, str(tick), fontName=FONT, fontSize=_FONT_SIZE,
                           textAnchor="end", fillColor=_BLACK))
    for number in range(1, last + 1):
        x = x_at(number)
        drawing.add(Line(x, bottom - 3, x, bottom, strokeColor=_BLACK, strokeWidth=0.5))
        drawing.add(String(x, bottom - 11, str(number), fontName=FONT, fontSize=_FONT_SIZE,
                           textAnchor="middle", fillColor=_BLACK))
    drawing.add(String(left + plot_w / 2, 1.5, "Infusion", fontName=FONT, fontSize=_FONT_SIZE,
                       textAnchor="middle", fillColor=_BLACK))
    drawing.add(String(left, bottom + plot_h + 3, "PHQ-9 total", fontName=FONT,
                       fontSize=_FONT_SIZE, fillColor=_BLACK))

    # keep the labels of close lines apart and inside the drawing (descenders need ~2 pt)
    label_y = _spread([y_at(value) - 2.5 for _, value, _ in lines], 2.0, height - _FONT_SIZE)
    for (name, value, label), text_y in zip(lines, label_y, strict=True):
        y = y_at(value)
        drawing.add(Line(left, y, left + plot_w, y, strokeColor=_GREY, strokeWidth=0.9,
                         strokeDashArray=DASHES[name]), name=f"line_{name}")
        drawing.add(Line(left + plot_w + 2, y, left + plot_w + _LEADER - 2, text_y + 2.5,
                         strokeColor=_GREY, strokeWidth=0.9, strokeDashArray=DASHES[name]))
        drawing.add(String(left + plot_w + _LEADER, text_y, label, fontName=FONT,
                           fontSize=_FONT_SIZE, fillColor=_BLACK), name=f"label_{name}")

    runs: list[list[float]] = [[]]
    for number, raw in series:
        total = _total(raw)
        if total is None:
            drawing.add(String(x_at(number), bottom + 3, "n/a", fontName=FONT,
                               fontSize=_FONT_SIZE, textAnchor="middle", fillColor=_BLACK))
            if runs[-1]:
                runs.append([])
            continue
        runs[-1] += [x_at(number), y_at(total)]
    for index, points in enumerate(run for run in runs if run):
        drawing.add(PolyLine(points, strokeColor=_BLACK, strokeWidth=1.6), name=f"trend_{index}")
    for number, raw in series:
        total = _total(raw)
        if total is None:
            continue
        x, y = x_at(number), y_at(total)
        drawing.add(Circle(x, y, 2.6, fillColor=colors.white if number == 1 else _BLACK,
                           strokeColor=_BLACK, strokeWidth=1), name=f"point_{number}")
        drawing.add(String(x, y + 5, str(total), fontName=FONT, fontSize=_FONT_SIZE,
                           textAnchor="middle", fillColor=_BLACK))
    return drawing
