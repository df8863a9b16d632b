"""The checklist renderer: a :class:`Checklist` in, PDF bytes out (reportlab, Letter or A4).

Layout only: every word comes from the model. The page number ("Page x of y"), the record id and
the patient's name are on every page, so a loose page is never anonymous.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle, StyleSheet1
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from ketascreen.display import format_local_time
from ketascreen.models.checklist import (
    BEDSIDE_CHECK_HEADING,
    BEDSIDE_CHECK_POINTER,
    COUNTERSIGNATURE_BOX_TITLE,
    ORDER_COLUMN_TITLE,
    PAPER_FALLBACK,
    UNSIGNED_MARK,
    Checklist,
)

PageSize = Literal["letter", "a4"]
PAGE_SIZES = {"letter": LETTER, "a4": A4}

_DECISION_COLOURS = {
    "do-not-infuse": colors.HexColor("#B00020"),
    "insufficient-data": colors.HexColor("#5F6368"),
    "needs-review": colors.HexColor("#B36B00"),
    "clear": colors.HexColor("#1B7F3B"),
}
_AWAITING_SIGNATURE_COLOUR = colors.HexColor("#5F6368")  # grey: an unsigned clear is no order
MIN_FONT_SIZE = 8.0
"""No working text on the checklist is smaller than this (points)."""
_SEVERITY_COLOURS = {"ABSOLUTE": colors.HexColor("#FBE3E6"), "RELATIVE": colors.HexColor("#FFF1D6"),
                     "INFO": colors.HexColor("#EEF1F4")}


@dataclass(frozen=True)
class SignatureBox:
    """Where the renderer left room for the digital-signature stamp (PDF points)."""

    page_index: int
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class RenderedPdf:
    """The rendered document and where its signature stamps go.

    Attributes:
        data: the PDF bytes.
        signature_box: where the physician's signature stamp goes.
        pages: the number of pages.
        countersignature_box: where the nurse's countersignature stamp goes (the box of the
            bedside double-check block), or ``None`` when there is no dose to double-check.
    """

    data: bytes
    signature_box: SignatureBox
    pages: int
    countersignature_box: SignatureBox | None = None


BEDSIDE_ROW_PITCH = 11
"""Points from one row of the order column to the next, and from one line of the nurse's
countersignature stamp to the next: the values she entered print level with the order's."""
ORDER_VALUE_SIZE = 8.5
"""The order column's values, bold (smaller, down to :data:`MIN_FONT_SIZE`, when one would
not fit its row)."""
ORDER_ROW_BASELINE = 9.0
"""Points from the top of an order row to its text's baseline (labels and values alike; a
paragraph's first baseline is its font size below its top, so each cell's top padding is this
less its font size)."""
STAMP_RAISE = BEDSIDE_ROW_PITCH - ORDER_ROW_BASELINE
"""How much higher than the order column's top the countersignature box starts: the stamp's
first baseline falls one leading (:data:`BEDSIDE_ROW_PITCH`) below the box's top, level with
the first order row's."""
COUNTERSIGNATURE_BOX_HEIGHT = 18 * BEDSIDE_ROW_PITCH + 6
"""The height of the countersignature box (points): the stamp's 17 lines (the ten order rows,
the meaning, signer, time, checker and witness, and a result of up to three lines) at
:data:`MIN_FONT_SIZE` with :data:`BEDSIDE_ROW_PITCH` leading, and its margins."""


def _register_fonts() -> tuple[str, str]:
    """DejaVu Sans where the system has it (wide Unicode coverage), else reportlab's Vera."""
    if "KS-Regular" in pdfmetrics.getRegisteredFontNames():
        return "KS-Regular", "KS-Bold"
    candidates = [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                  Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")]
    if not all(p.exists() for p in candidates):
        import reportlab  # noqa: PLC0415

        fonts = Path(reportlab.__file__).parent / "fonts"
        candidates = [fonts / "Vera.ttf", fonts / "VeraBd.ttf"]
    pdfmetrics.registerFont(TTFont("KS-Regular", str(candidates[0])))
    pdfmetrics.registerFont(TTFont("KS-Bold", str(candidates[1])))
    return "KS-Regular", "KS-Bold"


def _stylesheet(regular: str, bold: str) -> StyleSheet1:
    sheet = StyleSheet1()
    base = ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=10.5, alignment=TA_LEFT)
    sheet.add(base)
    sheet.add(ParagraphStyle("small", parent=base, fontSize=8, leading=9.6))
    sheet.add(ParagraphStyle("bold", parent=base, fontName=bold))
    sheet.add(ParagraphStyle("h1", parent=base, fontName=bold, fontSize=14, leading=17))
    sheet.add(ParagraphStyle("h2", parent=base, fontName=bold, fontSize=10.5, leading=13,
                             spaceBefore=7, spaceAfter=3))
    sheet.add(ParagraphStyle("banner", parent=base, fontName=bold, fontSize=20, leading=24,
                             textColor=colors.white))
    sheet.add(ParagraphStyle("banner-note", parent=base, fontSize=9.5, leading=12,
                             textColor=colors.white))
    sheet.add(ParagraphStyle("dose", parent=base, fontName=bold, fontSize=10, leading=12.5))
    sheet.add(ParagraphStyle("pump", parent=base, fontName=bold, fontSize=16, leading=19))
    sheet.add(ParagraphStyle("order-label", parent=base, fontName=bold, fontSize=MIN_FONT_SIZE,
                             leading=ORDER_VALUE_SIZE))  # one line as tall as a value's
    sheet.add(ParagraphStyle("order-value", parent=base, fontName=bold,
                             fontSize=ORDER_VALUE_SIZE, leading=ORDER_VALUE_SIZE))
    return sheet


def _icon(decision: str, size: float = 14 * mm) -> Drawing:
    """A shape that says the decision without colour: octagon-X, question, warning, check."""
    d = Drawing(size, size)
    c, r = size / 2, size / 2 - 1
    white = colors.white
    if decision == "do-not-infuse":
        import math  # noqa: PLC0415

        points: list[float] = []
        for i in range(8):
            angle = math.pi / 8 + i * math.pi / 4
            points += [c + r * math.cos(angle), c + r * math.sin(angle)]
        d.add(Polygon(points, fillColor=None, strokeColor=white, strokeWidth=2))
        d.add(Line(c - r / 2, c - r / 2, c + r / 2, c + r / 2, strokeColor=white, strokeWidth=3))
        d.add(Line(c - r / 2, c + r / 2, c + r / 2, c - r / 2, strokeColor=white, strokeWidth=3))
    elif decision == "needs-review":
        d.add(Polygon([c, size - 1, 1, 2, size - 1, 2], fillColor=None, strokeColor=white,
                      strokeWidth=2))
        d.add(String(c, 5, "!", fontName="Helvetica-Bold", fontSize=size * 0.55,
                     fillColor=white, textAnchor="middle"))
    elif decision == "insufficient-data":
        d.add(Circle(c, c, r, fillColor=None, strokeColor=white, strokeWidth=2))
        d.add(String(c, c - size * 0.2, "?", fontName="Helvetica-Bold", fontSize=size * 0.6,
                     fillColor=white, textAnchor="middle"))
    else:
        d.add(Circle(c, c, r, fillColor=None, strokeColor=white, strokeWidth=2))
        d.add(Line(c - r / 2, c, c - r / 8, c - r / 2.2, strokeColor=white, strokeWidth=3))
        d.add(Line(c - r / 8, c - r / 2.2, c + r / 1.8, c + r / 2, strokeColor=white,
                   strokeWidth=3))
    return d


class _SignatureBlock(Flowable):  # type: ignore[misc]
    """Printed name, credentials, time and meaning, with room for the digital stamp.

    Records where it was drawn so the signer can place the signature field on top of the box.
    """

    height_pt: ClassVar[float] = 30 * mm

    def __init__(self, checklist: Checklist, styles: StyleSheet1, width: float) -> None:
        super().__init__()
        self._checklist = checklist
        self._styles = styles
        self.width = width
        self.height = self.height_pt
        self.placed: SignatureBox | None = None

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas: Canvas = self.canv
        signer = self._checklist.signer
        text_width = self.width * 0.52
        canvas.setStrokeColor(colors.black)
        canvas.setLineWidth(0.8)
        canvas.rect(0, 0, self.width, self.height)
        if signer is None:
            lines = [("Not signed.", True),
                     ("This checklist has no digital signature and is not valid for infusion.",
                      False)]
        else:
            lines = [
                (f"Signed by: {signer.name}", True),
                (f"Credentials: {signer.credentials or 'not stated on the certificate'}", False),
                (f"Date and time: {format_local_time(signer.signed_at)}", False),
                (f"Meaning of signature: {signer.meaning}", True),
            ]
        y = self.height - 6 * mm
        for text, bold in lines:
            style = self._styles["bold" if bold else "body"]
            para = Paragraph(text, style)
            _, h = para.wrap(text_width - 6 * mm, self.height)
            para.drawOn(canvas, 3 * mm, y - h + 3 * mm)
            y -= h + 1.5 * mm
        box_x = text_width
        canvas.setDash(2, 2)
        canvas.rect(box_x, 2 * mm, self.width - box_x - 2 * mm, self.height - 4 * mm)
        canvas.setDash()
        x1, y1 = canvas.absolutePosition(box_x, 2 * mm)
        x2, y2 = canvas.absolutePosition(self.width - 2 * mm, self.height - 2 * mm)
        self.placed = SignatureBox(canvas.getPageNumber() - 1, (x1, y1, x2, y2))


class _StampBox(Flowable):  # type: ignore[misc]
    """A dashed box left empty for a signature stamp; records where it was drawn."""

    def __init__(self, width: float, height: float) -> None:
        super().__init__()
        self.width = width
        self.height = height
        self.placed: SignatureBox | None = None

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas: Canvas = self.canv
        canvas.saveState()
        canvas.setStrokeColor(colors.black)
        canvas.setLineWidth(0.8)
        canvas.setDash(2, 2)
        canvas.rect(0, 0, self.width, self.height)
        canvas.restoreState()
        x1, y1 = canvas.absolutePosition(0, 0)
        x2, y2 = canvas.absolutePosition(self.width, self.height)
        self.placed = SignatureBox(canvas.getPageNumber() - 1, (x1, y1, x2, y2))


class _QrCode(Flowable):  # type: ignore[misc]
    """A QR code (segno encodes it) drawn as filled runs of modules, with a quiet zone."""

    def __init__(self, payload: str, size: float) -> None:
        super().__init__()
        import segno  # noqa: PLC0415 - only rendering needs it

        self._matrix = segno.make(payload, error="m", micro=False).matrix
        self.width = self.height = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas: Canvas = self.canv
        modules = len(self._matrix) + 8  # 4-module quiet zone on each side
        step = self.width / modules
        canvas.setFillColor(colors.black)
        for row_number, row in enumerate(self._matrix):
            y = self.height - (row_number + 5) * step
            column = 0
            while column < len(row):
                if not row[column]:
                    column += 1
                    continue
                start = column
                while column < len(row) and row[column]:
                    column += 1
                canvas.rect((start + 4) * step, y, (column - start) * step, step, stroke=0,
                            fill=1)


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """Defers page output so every page can say "Page x of y"."""

    footer: ClassVar[tuple[str, str]] = ("", "KS-Regular")
    unsigned_mark: ClassVar[str | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._saved: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._saved.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved)
        for state in self._saved:
            self.__dict__.update(state)
            left, font = self.footer
            width = self._pagesize[0]
            if self.unsigned_mark is not None:
                self._mark_unsigned(self.unsigned_mark, font)
            self.setFont(font, MIN_FONT_SIZE)
            self.setFillColor(colors.black)
            self.drawString(15 * mm, 9 * mm, left)
            self.drawRightString(width - 15 * mm, 9 * mm,
                                 f"Page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


    def _mark_unsigned(self, mark: str, font: str) -> None:
        """A band across the top of the page and a large diagonal mark behind the content."""
        width, height = self._pagesize
        self.saveState()
        self.setFillColor(colors.HexColor("#B00020"))
        self.rect(0, height - 9 * mm, width, 9 * mm, stroke=0, fill=1)
        self.setFillColor(colors.white)
        self.setFont(f"{font.removesuffix('-Regular')}-Bold", 11)
        self.drawCentredString(width / 2, height - 6.2 * mm, mark)
        self.setFillColor(colors.Color(0.69, 0, 0.13, alpha=0.12))
        self.setFont(f"{font.removesuffix('-Regular')}-Bold", 44)
        self.translate(width / 2, height / 2)
        self.rotate(45)
        self.drawCentredString(0, 0, mark)
        self.restoreState()


class ChecklistRenderer:
    """Renders a :class:`Checklist` to PDF bytes."""

    margin = 15 * mm

    def __init__(self, page_size: PageSize = "letter") -> None:
        self.page_size = PAGE_SIZES[page_size]
        regular, bold = _register_fonts()
        self.fonts = (regular, bold)
        self.styles = _stylesheet(regular, bold)

    def render(self, checklist: Checklist) -> RenderedPdf:
        """Lay out ``checklist``; returns the bytes and the signature box."""
        buffer = io.BytesIO()
        doc = BaseDocTemplate(
            buffer, pagesize=self.page_size, leftMargin=self.margin, rightMargin=self.margin,
            topMargin=self.margin, bottomMargin=self.margin + 4 * mm,
            title=f"{self._kind(checklist).capitalize()} {checklist.record_id}",
            author=checklist.signer.name if checklist.signer else "ketascreen",
            subject="Pre-infusion checklist for IV ketamine", creator="ketascreen",
        )
        frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
        doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
        signature = _SignatureBlock(checklist, self.styles, doc.width)
        self._stamp_boxes: list[_StampBox] = []  # the bedside block's, when it has one
        story = self._story(checklist, doc.width, signature)

        class Footer(_NumberedCanvas):
            footer = (f"{checklist.patient_rows[0][1]} ({checklist.patient_rows[1][1]})  |  "
                      f"{checklist.clinic}  |  {self._kind(checklist)} {checklist.record_id}",
                      self.fonts[0])
            unsigned_mark = None if checklist.signed else UNSIGNED_MARK

        doc.build(story, canvasmaker=Footer)
        if signature.placed is None:  # pragma: no cover - build always draws the block
            raise RuntimeError("signature block was not placed")
        data = buffer.getvalue()
        countersignature = None
        if self._stamp_boxes:
            countersignature = self._stamp_boxes[0].placed
            if countersignature is None:  # pragma: no cover - build always draws the block
                raise RuntimeError("countersignature box was not placed")
        return RenderedPdf(data, signature.placed, data.count(b"/Type /Page\n"),
                           countersignature)

    def _kind(self, checklist: Checklist) -> str:
        """What the document is, as the footer and the PDF title name it."""
        return "pre-infusion checklist"

    # -- story ----------------------------------------------------------------------------------

    def _p(self, text: str, style: str = "body") -> Paragraph:
        return Paragraph(_escape(text), self.styles[style])

    def _story(self, c: Checklist, width: float, signature: _SignatureBlock) -> list[Flowable]:
        # Page 1 carries the order: decision, patient, the dose box, the vital signs with the
        # limits the checks refer to, and the signature. Findings and the rest flow on.
        story: list[Flowable] = [
            self._header(c, width),
            Spacer(1, 3 * mm),
            self._banner(c, width),
            self._h("Patient"),
            self._pairs(c.patient_rows, width, columns=2),
            *self._dose(c, width),
            *self._vitals(c, width),
            Spacer(1, 2 * mm),
            KeepTogether([self._h("Physician signature"), signature]),
            *self._bedside_check(c, width),
            CondPageBreak(40 * mm),
            self._h(f"Findings ({len(c.findings)})"),
            self._findings(c, width),
            *self._import_warnings(c),
            self._h("Abuse-risk screen"),
            self._pairs(c.abuse_rows, width, columns=1),
            *self._working(c, width),
            CondPageBreak(60 * mm),
            self._h("Before the infusion"),
            self._checkboxes(c.pre_infusion, width),
            CondPageBreak(70 * mm),
            self._h("Monitoring (BP, HR, SpO2, sedation and dissociation: baseline, every "
                    "10 minutes, end of infusion, discharge)"),
            self._monitoring(c, width),
            self._h("Discharge criteria"),
            self._checkboxes(c.discharge, width),
            KeepTogether([self._h("Record"), self._record(c, width)]),
        ]
        return story

    def _h(self, text: str) -> Paragraph:
        return self._p(text, "h2")

    def _header(self, c: Checklist, width: float) -> Table:
        title = Paragraph(f"Pre-infusion checklist: IV ketamine<br/>Record "
                          f"{_escape(c.record_id)}", self.styles["bold"])
        table = Table([[self._p(c.clinic, "h1"), title]],
                      colWidths=[width * 0.6, width * 0.4])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black)]))
        return table

    def _banner(self, c: Checklist, width: float) -> Table:
        text = [Paragraph(_escape(c.decision_label), self.styles["banner"]),
                Paragraph(_escape(c.decision_explanation), self.styles["banner-note"])]
        table = Table([[_icon(c.decision), text]], colWidths=[20 * mm, width - 20 * mm])
        colour = (_DECISION_COLOURS[c.decision] if c.signed or c.decision != "clear"
                  else _AWAITING_SIGNATURE_COLOUR)
        table.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, -1), colour),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("BOX", (0, 0), (-1, -1), 2, colors.black),
            ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ]))
        return table

    def _pairs(self, rows: tuple[tuple[str, str], ...], width: float, *, columns: int) -> Table:
        cells = [(self._p(k, "bold"), self._p(v)) for k, v in rows]
        data: list[list[Paragraph]] = []
        for i in range(0, len(cells), columns):
            row: list[Paragraph] = []
            for key, value in cells[i:i + columns]:
                row += [key, value]
            while len(row) < 2 * columns:
                row += [self._p(""), self._p("")]
            data.append(row)
        key_width = 30 * mm
        value_width = width / columns - key_width
        table = Table(data, colWidths=[key_width, value_width] * columns)
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("GRID", (0, 0), (-1, -1), 0.3, colors.grey)]))
        return table

    def _findings(self, c: Checklist, width: float) -> Flowable:
        if not c.findings:
            return self._p("No findings.")
        header = [self._p(t, "bold") for t in ("Severity", "Finding", "Basis", "Action",
                                               "Source")]
        data = [header]
        style: list[tuple[Any, ...]] = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDDDDD"))]
        for row_number, f in enumerate(c.findings, start=1):
            title = f"<b>{_escape(f.title)}</b><br/>{_escape(f.rule_id)}"
            if f.acknowledged:
                title += f"<br/><b>Acknowledged:</b> {_escape(f.acknowledgement or '')}"
            data.append([self._p(f.severity, "bold"), Paragraph(title, self.styles["body"]),
                         self._p(f.basis, "small"), self._p(f.action, "small"),
                         self._p(f.source, "small")])
            style.append(("BACKGROUND", (0, row_number), (0, row_number),
                          _SEVERITY_COLOURS[f.severity]))
        table = Table(data, colWidths=[22 * mm, width * 0.23, width * 0.27,
                                       width * 0.23, width - 22 * mm - width * 0.73],
                      repeatRows=1)
        table.setStyle(TableStyle(style))
        return table

    def _import_warnings(self, c: Checklist) -> list[Flowable]:
        if not c.import_warnings:
            return []
        return [self._h(f"Imported record: data-quality warnings ({len(c.import_warnings)})"),
                *(self._p(f"- {w}", "small") for w in c.import_warnings)]

    def _dose(self, c: Checklist, width: float) -> list[Flowable]:
        heading = self._h("Order: dose and pump programming (ISMP high-alert: independent "
                          "double check)")
        if c.dose is None:
            return [heading, self._p(c.no_dose_reason or "No dose calculated.", "bold")]
        rows = [[self._p(k, "bold"), self._p(v, "dose")] for k, v in c.dose.rows[:-1]]
        label, rate = c.dose.rows[-1]
        rows.append([self._p(label, "pump"), self._p(rate, "pump")])
        table = Table(rows, colWidths=[46 * mm, width - 46 * mm])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                                   ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
                                   ("BOX", (0, -1), (-1, -1), 2, colors.black),
                                   ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#EEF1F4")),
                                   ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                                   ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        if c.order_rows:  # the initials boxes are in the bedside double-check block
            return [KeepTogether([heading, table, Spacer(1, 1 * mm),
                                  self._p(BEDSIDE_CHECK_POINTER, "small")])]
        checks = Table([[self._p("Prepared and programmed by (initials)"), "",
                         self._p("Independent double check by (initials)"), ""]],
                       colWidths=[width * 0.3, 18 * mm, width * 0.3, 18 * mm],
                       rowHeights=[12 * mm])
        checks.setStyle(TableStyle([("BOX", (1, 0), (1, 0), 1.2, colors.black),
                                    ("BOX", (3, 0), (3, 0), 1.2, colors.black),
                                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        return [KeepTogether([heading, table, Spacer(1, 1.5 * mm), checks])]

    def _bedside_check(self, c: Checklist, width: float) -> list[Flowable]:
        """The bedside independent double-check block: the order as signed on the left, with
        the initials boxes of the paper fallback under it; the box the nurse's
        countersignature stamp fills on the right (no block without a dose)."""
        if not c.order_rows:
            return []
        half = width / 2
        label_width = 34 * mm
        value_width = half - label_width - 3 * mm
        cells: list[list[Paragraph]] = []
        # Each cell's paragraph is one ORDER_VALUE_SIZE line; its top padding puts the
        # baseline ORDER_ROW_BASELINE below the row's top, so every row is BEDSIDE_ROW_PITCH.
        pads: list[tuple[Any, ...]] = [("VALIGN", (0, 0), (-1, -1), "TOP")]
        for row, (label, value) in enumerate(c.order_rows):
            value_cell = self._order_value(value, value_width)
            cells.append([self._p(label, "order-label"), value_cell])
            for column, size in ((0, MIN_FONT_SIZE), (1, value_cell.style.fontSize)):
                top = ORDER_ROW_BASELINE - size
                pads += [("TOPPADDING", (column, row), (column, row), top),
                         ("BOTTOMPADDING", (column, row), (column, row),
                          BEDSIDE_ROW_PITCH - top - ORDER_VALUE_SIZE)]
        rows = Table(cells, colWidths=[label_width, value_width])
        rows.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                                  ("BOX", (0, 0), (-1, -1), 1.2, colors.black), *pads]))
        stamp_box = _StampBox(half, COUNTERSIGNATURE_BOX_HEIGHT)
        self._stamp_boxes.append(stamp_box)
        box = 13 * mm
        note, prepared, checked = PAPER_FALLBACK
        fallback = Table([[self._p(note, "small"), ""], [self._p(prepared, "small"), ""],
                          ["", ""], [self._p(checked, "small"), ""]],
                         colWidths=[half - box - 3 * mm - 3 * mm, box],
                         rowHeights=[None, 9 * mm, 1.5 * mm, 9 * mm])
        fallback.setStyle(TableStyle([("BOX", (1, 1), (1, 1), 1.2, colors.black),
                                      ("BOX", (1, 3), (1, 3), 1.2, colors.black),
                                      ("SPAN", (0, 0), (1, 0)),
                                      ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                      ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        left = [self._p(ORDER_COLUMN_TITLE, "bold"), Spacer(1, 1 * mm), rows,
                Spacer(1, 4 * mm), fallback]
        right = [self._p(COUNTERSIGNATURE_BOX_TITLE, "bold"), Spacer(1, 1 * mm - STAMP_RAISE),
                 stamp_box]
        block = Table([[left, right]], colWidths=[half, half])
        block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
        return [KeepTogether([self._h(BEDSIDE_CHECK_HEADING), block])]

    def _order_value(self, value: str, width: float) -> Paragraph:
        """An order value on one row: bold, smaller (never below :data:`MIN_FONT_SIZE`) when it
        would not fit, so the rows keep :data:`BEDSIDE_ROW_PITCH`."""
        bold = self.fonts[1]
        room = width - 12  # the cell's left and right padding
        size = ORDER_VALUE_SIZE
        while size > MIN_FONT_SIZE and pdfmetrics.stringWidth(value, bold, size) > room:
            size -= 0.5
        style = ParagraphStyle("order-fit", parent=self.styles["order-value"], fontSize=size)
        return Paragraph(_escape(value), style)

    def _working(self, c: Checklist, width: float) -> list[Flowable]:
        if c.dose is None:
            return []
        return [self._h("Dose working (each step with its values)"),
                *(self._p(f"- {line}", "small") for line in c.dose.working)]

    def _vitals(self, c: Checklist, width: float) -> list[Flowable]:
        if not c.vitals:
            return []
        taken = f" (taken {c.vitals_taken_at})" if c.vitals_taken_at else ""
        data = [[self._p(t, "bold") for t in ("Vital sign", "Screening value",
                                              "Limits the checks refer to (clinic policy)")]]
        data += [[self._p(v.name, "bold"), self._p(v.value), self._p(v.limits or "none set")]
                 for v in c.vitals]
        table = Table(data, colWidths=[30 * mm, 50 * mm, width - 80 * mm])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDDDDD")),
                                   ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return [KeepTogether([self._h(f"Screening vital signs{taken}"), table])]

    def _checkboxes(self, items: tuple[str, ...], width: float) -> Table:
        data = [["", self._p(item)] for item in items]
        table = Table(data, colWidths=[7 * mm, width - 7 * mm])
        style: list[tuple[Any, ...]] = [("VALIGN", (0, 0), (-1, -1), "TOP")]
        for row in range(len(items)):
            style.append(("BOX", (0, row), (0, row), 0.8, colors.black))
        table.setStyle(TableStyle(style))
        return table

    def _monitoring(self, c: Checklist, width: float) -> Table:
        data: list[list[Any]] = [[self._p(h, "bold") for h in c.monitoring_columns]]
        data += [[self._p(t)] + [""] * (len(c.monitoring_columns) - 1) for t in c.monitoring_times]
        first = 32 * mm
        rest = (width - first) / (len(c.monitoring_columns) - 1)
        table = Table(data, colWidths=[first] + [rest] * (len(c.monitoring_columns) - 1),
                      rowHeights=[None] + [8 * mm] * len(c.monitoring_times), repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                                   ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDDDDD"))]))
        return table

    def _record(self, c: Checklist, width: float) -> Table:
        size = 28 * mm
        drawing = _QrCode(c.qr_payload, size)
        lines = [f"Record id: {c.record_id}", f"Result sha256: {c.result_sha256}",
                 *(f"{k}: {v}" for k, v in c.versions),
                 *([] if c.audit_head is None else
                   [f"Audit trail head at signing: event {c.audit_head[0]} sha256 "
                    f"{c.audit_head[1]}"]),
                 "The case and result JSON are attached to this PDF under the signature."]
        table = Table([[drawing, [self._p(t, "small") for t in lines]]],
                      colWidths=[size + 4 * mm, width - size - 4 * mm])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return table


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
