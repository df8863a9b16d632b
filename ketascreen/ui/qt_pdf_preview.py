"""Preview and printing of the checklist PDF (QtPdf).

Previews and prints are drawn by QtPdf. QtPdf does not draw a signature's visible stamp (the
boxed "Digitally signed by" widget), so the preview says so; nothing is lost, because the page
itself prints the signer's name, credentials, date and time and the meaning of the signature
next to the box. This was chosen over rendering with poppler (``pdftoppm``) or pypdfium2, which
do draw the stamp, because QtPdf ships with the app's Qt (no extra program or wheel to install
and keep in step on clinic machines) and renders in-process, offscreen and in tests. A printed
page is never the signed record anyway: the signature lives in the PDF file, which
``ketascreen verify`` checks.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMarginsF,
    QRect,
    QSize,
    QSizeF,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

STAMP_NOTE = ("This preview is drawn by QtPdf, which does not draw the signature stamp box. "
              "The page text beside the box prints the signer's name, credentials, date and "
              "time and the meaning of the signature; the signature itself is in the PDF file "
              "(check it with ketascreen verify).")
RENDER_DPI = 300
"""Pages are rendered for printing at this resolution at most (sharp text, fast)."""
UNSIGNED_NOTE = ("Unsigned checklist: it prints \"Not signed\" and is not valid for infusion "
                 "until a physician signs it (File > Sign).")


class PdfError(Exception):
    """The PDF could not be loaded by QtPdf.

    Attributes:
        status: QtPdf's error name.
    """

    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(f"the PDF could not be loaded ({status})")


def load_pdf(data: bytes, parent: QWidget | None = None) -> QPdfDocument:
    """Load PDF bytes into a QPdfDocument (the buffer is kept alive as its child).

    Raises:
        PdfError: QtPdf could not read the bytes.
    """
    document = QPdfDocument(parent) if parent is not None else QPdfDocument()
    buffer = QBuffer(document)
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document.load(buffer)
    if document.error() != QPdfDocument.Error.None_ or document.pageCount() < 1:
        raise PdfError(document.error().name)
    return document


def print_pdf(data: bytes, printer: QPrinter) -> int:
    """Print every page of a PDF on ``printer`` (a real printer, or PDF output).

    Each page is rendered at the printer's resolution onto a white page of the PDF's own size,
    without extra margins (the checklist has its own).

    Returns:
        The number of pages printed.

    Raises:
        PdfError: the bytes are not a PDF QtPdf can read, or the printer cannot be opened.
    """
    document = load_pdf(data)
    try:
        first = document.pagePointSize(0)
        printer.setPageSize(QPageSize(QSizeF(first.width(), first.height()),
                                      QPageSize.Unit.Point, "checklist"))
        printer.setPageOrientation(QPageLayout.Orientation.Portrait)
        printer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Point)
        printer.setFullPage(True)
        painter = QPainter()
        if not painter.begin(printer):
            raise PdfError("printer-unavailable")
        try:
            dpi = printer.resolution()
            render_dpi = min(dpi, RENDER_DPI)
            for page in range(document.pageCount()):
                if page:
                    printer.newPage()
                size = document.pagePointSize(page)
                pixels = QSize(round(size.width() * render_dpi / 72),
                               round(size.height() * render_dpi / 72))
                image = document.render(page, pixels)
                # QtPdf renders onto transparency: composite onto white paper.
                paper = QImage(pixels, QImage.Format.Format_RGB32)
                paper.fill(QColor("white"))
                composer = QPainter(paper)
                composer.drawImage(0, 0, image)
                composer.end()
                target = printer.pageLayout().fullRectPixels(dpi)
                painter.drawImage(QRect(0, 0, target.width(), target.height()), paper)
        finally:
            painter.end()
        return document.pageCount()
    finally:
        document.close()
        document.deleteLater()


def print_pdf_to_file(data: bytes, path: Path) -> int:
    """Print a PDF through Qt's printing path into a PDF file (the print-to-PDF path).

    Returns:
        The number of pages printed.
    """
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return print_pdf(data, printer)


def print_with_dialog(data: bytes, parent: QWidget | None) -> int:
    """Ask for a printer with QPrintDialog and print.

    Returns:
        The number of copies printed: 0 when the dialog was cancelled or printing failed.
    """
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Print checklist")
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return 0
    try:
        print_pdf(data, printer)
    except PdfError as error:
        QMessageBox.warning(parent, "Print", f"Could not print: {error.status}.")
        return 0
    return max(1, printer.copyCount())


class QtPdfPreview(QDialog):
    """An in-app preview of a checklist PDF, with Print.

    Args:
        data: the PDF bytes.
        title: the window title (the patient and the file).
        signed: whether the PDF is a signed checklist (picks the note shown).
        parent: the owning widget.

    Signals:
        printed(int): the PDF was printed through the print dialog, with this many copies.
        QDialog's own (``finished``, ``rejected``).
    """

    printed = Signal(int)

    def __init__(self, data: bytes, title: str, *, signed: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(820, 900)
        self.data = data
        layout = QVBoxLayout(self)
        self.note = QLabel(STAMP_NOTE if signed else UNSIGNED_NOTE, self)
        self.note.setObjectName("preview-note")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("background: #fff6d5; border: 1px solid #b59b3b; padding: 4px;")
        layout.addWidget(self.note)
        self.document = load_pdf(data, self)
        self.view = QPdfView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        layout.addWidget(self.view, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.print_button = QPushButton("&Print...", self)
        buttons.addButton(self.print_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.print_button.clicked.connect(self.print_with_dialog)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def print_with_dialog(self) -> int:
        """Print through the print dialog; returns the copies printed (0: cancelled)."""
        copies = print_with_dialog(self.data, self)
        if copies:
            self.printed.emit(copies)
        return copies

    def page_count(self) -> int:
        """The number of pages of the previewed PDF."""
        return self.document.pageCount()
