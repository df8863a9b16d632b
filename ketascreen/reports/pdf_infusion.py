"""The checklist of an infusion of a course: the first checklist's renderer with the course parts.

Page 1 carries the order as on the first checklist (decision, patient, the dose box, today's vital
signs, the signature), headed "Infusion N of M", with what changed since the last signed checklist
and the dose change line. A separate bedside page carries the monitoring grid with pre-printed
times, the patient's own blood-pressure band and the clinic's notify values, the MOAA/S and
CADSS-6 keys, the rescue-drug table and the discharge score; then the course panel with the PHQ-9
trend drawn (:func:`ketascreen.reports.chart.phq9_chart`) and the course figures. Layout only:
every word comes from the model (:class:`~ketascreen.models.checklist.InfusionSection`).
"""

from __future__ import annotations

from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from ketascreen.course.figures import CourseThresholds
from ketascreen.models.checklist import (
    CADSS6_KEY,
    INFUSION_CHECKLIST_TITLE,
    INFUSION_MONITORING_COLUMNS,
    MOAAS_KEY,
    RESCUE_COLUMNS,
    RESCUE_ROWS,
    Checklist,
    InfusionSection,
)
from ketascreen.reports.chart import phq9_chart
from ketascreen.reports.pdf import ChecklistRenderer, PageSize, _escape, _SignatureBlock

__all__ = ["InfusionChecklistRenderer", "renderer_for"]

_STATE_SHADES = {"unchanged": colors.white, "changed": colors.HexColor("#FFF1D6"),
                 "new finding": colors.HexColor("#FBE3E6")}
_GRID = ("GRID", (0, 0), (-1, -1), 0.3, colors.grey)
_HEAD = ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDDDDD"))
_TOP = ("VALIGN", (0, 0), (-1, -1), "TOP")
_TIGHT = [("TOPPADDING", (0, 0), (-1, -1), 0.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5)]


def renderer_for(checklist: Checklist, page_size: PageSize = "letter") -> ChecklistRenderer:
    """The renderer of ``checklist``: an infusion's checklist has its own layout."""
    if checklist.infusion is not None:
        return InfusionChecklistRenderer(page_size)
    return ChecklistRenderer(page_size)


def _section(c: Checklist) -> InfusionSection:
    if c.infusion is None:  # pragma: no cover - renderer_for routes only infusions here
        raise ValueError("not an infusion's checklist")
    return c.infusion


class InfusionChecklistRenderer(ChecklistRenderer):
    """Renders the checklist of an infusion of a course to PDF bytes."""

    def _kind(self, checklist: Checklist) -> str:
        return f"{_section(checklist).heading.lower()} checklist"

    def _story(self, c: Checklist, width: float, signature: _SignatureBlock) -> list[Flowable]:
        s = _section(c)
        return [
            self._header(c, width),
            Spacer(1, 2 * mm),
            self._banner(c, width),
            self._h("Patient"),
            self._pairs((*c.patient_rows, ("Infusion start", s.start)), width, columns=3),
            *self._changes(s, width),
            *self._dose(c, width),
            self._p("; ".join(filter(None, (f"Dose change: {s.dose_change}" if s.dose_change
                                             else None, f"Protocol: {s.protocol_source}"))),
                    "bold"),
            KeepTogether([self._h("Physician signature"), signature]),
            *self._bedside_check(c, width),
            CondPageBreak(40 * mm),
            self._h(f"Day-of re-check ({s.heading.lower()})"),
            self._pairs(s.day_of, width, columns=2),
            *self._today(c, width),
            self._h(f"Findings ({len(c.findings)})"),
            self._findings(c, width),
            *self._import_warnings(c),
            self._h("Abuse-risk screen"),
            self._pairs(c.abuse_rows, width, columns=1),
            *self._working(c, width),
            CondPageBreak(60 * mm),
            self._h("Before the infusion"),
            self._checkboxes(c.pre_infusion, width),
            *self._course(s, width),
            KeepTogether([self._h("Record"), self._record(c, width)]),
            PageBreak(),
            *self._bedside(c, s, width),
        ]

    def _header(self, c: Checklist, width: float) -> Table:
        s = _section(c)
        title = Paragraph(f"{_escape(INFUSION_CHECKLIST_TITLE)}<br/>"
                          f"<font size=13>{_escape(s.heading.upper())}</font><br/>"
                          f"Record {_escape(c.record_id)}", self.styles["bold"])
        table = Table([[self._p(c.clinic, "h1"), title]], colWidths=[width * 0.55, width * 0.45])
        table.setStyle(TableStyle([_TOP, ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black)]))
        return table

    def _table(self, header: tuple[str, ...], rows: list[list[Any]], widths: list[float],
               extra: list[tuple[Any, ...]] | None = None, **kwargs: Any) -> Table:
        data: list[list[Any]] = [[self._p(h, "bold") for h in header], *rows]
        table = Table(data, colWidths=widths, repeatRows=1, **kwargs)
        table.setStyle(TableStyle([_GRID, _HEAD, _TOP, *(extra or [])]))
        return table

    def _changes(self, s: InfusionSection, width: float) -> list[Flowable]:
        rows: list[list[Any]] = []
        shades: list[tuple[Any, ...]] = []
        for number, change in enumerate(s.changes, start=1):
            state = change.state.upper() if change.state != "unchanged" else change.state
            rows.append([self._p(change.item, "small"), self._p(state, "bold"),
                         self._p(change.detail or "-", "small")])
            shades.append(("BACKGROUND", (1, number), (1, number), _STATE_SHADES[change.state]))
        table = self._table(("Item", "State", "Detail"), rows,
                            [31 * mm, 26 * mm, width - 57 * mm], [*shades, *_TIGHT])
        heading = self._h(f"Changed since {s.reference}")
        note = ([self._p(f"Since the last infusion (as written): {s.since_last}", "small")]
                if s.since_last else [])
        return [KeepTogether([heading, table, *note])]

    def _today(self, c: Checklist, width: float) -> list[Flowable]:
        rows = [[self._p(v.name, "bold"), self._p(v.value), self._p(v.limits or "none set")]
                for v in c.vitals]
        if not rows:
            return []
        vitals = self._table(("Vital sign", "Today", "Limits the checks refer to (clinic policy)"),
                             rows, [30 * mm, 50 * mm, width - 80 * mm], _TIGHT)
        return [Spacer(1, 1.5 * mm), vitals]

    def _bedside(self, c: Checklist, s: InfusionSection, width: float) -> list[Flowable]:
        band = Table([[self._p("Patient's own BP band", "bold"), self._p(s.bp_band, "bold")]],
                     colWidths=[34 * mm, width - 34 * mm])
        band.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.5, colors.black), _TOP,
                                  ("BACKGROUND", (0, 0), (0, 0), colors.HexColor("#EEF1F4"))]))
        notify = self._table(tuple(f"Notify: {n.lower() if n != 'SpO2' else n}"
                                   for n, _ in s.notify),
                             [[self._p(v, "small") for _, v in s.notify]],
                             [width * 0.52] + [width * 0.48 / max(len(s.notify) - 1, 1)]
                             * (len(s.notify) - 1), _TIGHT)
        columns = INFUSION_MONITORING_COLUMNS
        first = 50 * mm
        rest = (width - first) / (len(columns) - 1)
        grid = self._table(columns, [[self._p(label), self._p(clock, "bold")]
                                     + [""] * (len(columns) - 2)
                                     for label, clock in s.monitoring_times],
                           [first] + [rest] * (len(columns) - 1),
                           [("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                            ("VALIGN", (0, 0), (-1, -1), "MIDDLE")],
                           rowHeights=[None] + [5.6 * mm] * len(s.monitoring_times))
        return [
            self._h(f"Monitoring: {s.heading.lower()}, start {s.start}"),
            self._p(s.monitoring_cadence, "small"),
            Spacer(1, 1.5 * mm), band, Spacer(1, 1.5 * mm),
            notify, self._p(s.notify_note, "small"), Spacer(1, 1.5 * mm),
            grid, Spacer(1, 1.5 * mm),
            self._keys(width),
            KeepTogether([self._h("Rescue drugs"), self._p(s.rescue_note, "small"),
                          self._table(RESCUE_COLUMNS, [[""] * len(RESCUE_COLUMNS)] * RESCUE_ROWS,
                                      [18 * mm, 34 * mm, 30 * mm, 30 * mm,
                                       width - 130 * mm, 18 * mm],
                                      rowHeights=[None] + [6 * mm] * RESCUE_ROWS)]),
            KeepTogether([self._h("Discharge"), self._p(s.discharge_note, "bold"),
                          self._ticks(c.discharge, width)]),
        ]

    def _ticks(self, items: tuple[str, ...], width: float) -> Table:
        table = Table([["", self._p(item, "small")] for item in items],
                      colWidths=[6 * mm, width - 6 * mm])
        table.setStyle(TableStyle([_TOP, *_TIGHT,
                                   *(("BOX", (0, row), (0, row), 0.8, colors.black)
                                     for row in range(len(items)))]))
        return table

    def _keys(self, width: float) -> Table:
        half = width / 2 - 2 * mm
        moaas = self._table(("MOAA/S", "Sedation (C17)"),
                            [[self._p(k, "bold"), self._p(v, "small")] for k, v in MOAAS_KEY],
                            [18 * mm, half - 18 * mm], _TIGHT)
        cadss = self._table(("CADSS-6", "Dissociation (C21)"),
                            [[self._p(k, "bold"), self._p(v, "small")] for k, v in CADSS6_KEY],
                            [18 * mm, half - 18 * mm], _TIGHT)
        keys = Table([[moaas, cadss]], colWidths=[width / 2, width / 2])
        keys.setStyle(TableStyle([_TOP, ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        return keys

    def _course(self, s: InfusionSection, width: float) -> list[Flowable]:
        trend = s.phq9
        thresholds = CourseThresholds(remission_below=trend.remission_below,
                                      response_percent=trend.response_percent,
                                      improvement_percent=trend.improvement_percent)
        chart = phq9_chart(trend.series, thresholds, width=width, height=60 * mm,
                           planned=trend.planned)
        return [KeepTogether([
            self._h("Course: PHQ-9 by infusion (baseline = infusion 1; open circle)"),
            chart,
            self._p("Lines: solid = baseline; dashed = 20 % below (improving, C44); dash-dot = "
                    "50 % below (response, C43, C48); dotted = remission, PHQ-9 below "
                    f"{trend.remission_below} (C43, C48).", "small"),
            Spacer(1, 2 * mm),
            self._table(("Course figure", "Value"),
                        [[self._p(k, "bold"), self._p(v)] for k, v in s.course_rows],
                        [70 * mm, width - 70 * mm], _TIGHT),
        ])]
