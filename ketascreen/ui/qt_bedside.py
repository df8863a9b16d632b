"""The nurse's page: today's infusions as a table, and the bedside copy of the selected one.

A nurse signed in to the records opens on this page instead of the physician's form. Each row
is one signed checklist (a first screening, or one infusion of a course): when it was signed,
the patient (name, date of birth, patient ID), which infusion, the decision, the dose and pump
rate as signed, who signed it, how often it was printed, the latest independent double check
and who countersigned it. A single click (or the arrow keys) shows the bedside copy of that
record beside the table: the nurse-countersigned PDF when there is one, else the physician's,
opened at its bedside double-check block (the order as signed, and what was entered).

While the independent double check is open the page is blinded (:meth:`QtBedside.blind`): the
preview and the dose and pump-rate columns are hidden, so the order's numbers are not on screen
while the checker types what she has in hand.

The page imports nothing of the records package (the rows come as plain
:class:`~ketascreen.ui.records_actions.BedsideRow` data), so the window builds it at start-up
without loading SQLAlchemy. Its PDF viewer (QtPdf: about 10 MiB) is made when the first bedside
copy is shown, not at start-up: a physician's session never needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ketascreen.ui.widgets import InlineMessage, section_title

if TYPE_CHECKING:
    from PySide6.QtPdf import QPdfDocument
    from PySide6.QtPdfWidgets import QPdfView

    from ketascreen.ui.records_actions import BedsideRow

COLUMNS = ("Signed", "Patient", "Infusion", "Decision", "Dose", "Pump rate", "Signed by",
           "Printed", "Double check", "Countersigned by")
"""The table's columns, in order (:attr:`BedsideRow.cells` follows it)."""
ORDER_COLUMNS = (COLUMNS.index("Dose"), COLUMNS.index("Pump rate"))
"""The columns that show the order's numbers (hidden while the double check is open)."""

BEDSIDE_BLOCK = "Bedside independent double check"
"""The heading of the checklist's bedside block: the preview opens on its page."""
CHOOSE_NOTE = "Click a row to see its bedside copy here."
BLINDED_NOTE = ("The bedside copy and the order's dose and pump rate are hidden while the "
                "independent double check is open: type what you have in hand.")
_RECORD_ROLE = Qt.ItemDataRole.UserRole + 1


class QtBedside(QWidget):
    """Today's infusions and the bedside copy of the selected one.

    Args:
        parent: the owning widget.

    Signals:
        record_selected(str): a row was chosen (single click or arrow keys): its record id.
        double_check_requested: the Double check button was pressed.
        countersign_requested: the Countersign button was pressed.
        print_requested: the Print button was pressed.
        refresh_requested: the Refresh button was pressed.
    """

    record_selected = Signal(str)
    double_check_requested = Signal()
    countersign_requested = Signal()
    print_requested = Signal()
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bedside")
        self._document: QPdfDocument | None = None
        self._view: QPdfView | None = None
        self._buffer: QBuffer | None = None
        self._blinded = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        heading = QHBoxLayout()
        self.title = section_title("Today's infusions", self)
        self.title.setObjectName("bedside-title")
        heading.addWidget(self.title, 1)
        self.refresh_button = QPushButton("Re&load", self)
        self.refresh_button.setToolTip("Reload today's infusions (F5)")
        self.refresh_button.setObjectName("bedside-refresh")
        self.refresh_button.clicked.connect(self.refresh_requested)
        heading.addWidget(self.refresh_button)
        outer.addLayout(heading)
        self.problem = InlineMessage(self)
        self.problem.setObjectName("bedside-problem")
        outer.addWidget(self.problem)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self._build_list())
        self.splitter.addWidget(self._build_preview())
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([900, 600])
        outer.addWidget(self.splitter, 1)

    def _build_list(self) -> QWidget:
        """The table, the note when it is empty, and the buttons under it."""
        left = QWidget(self.splitter)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(COLUMNS), left)
        self.table.setObjectName("bedside-table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Patient"), QHeaderView.ResizeMode.Stretch)
        self.table.setAccessibleName("Today's infusions")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        column.addWidget(self.table, 1)
        self.empty = QLabel("No checklist has been signed today.", left)
        self.empty.setObjectName("bedside-empty")
        self.empty.hide()
        column.addWidget(self.empty)
        buttons = QHBoxLayout()
        self.double_check_button = QPushButton("&Double check...", left)
        self.double_check_button.setObjectName("bedside-double-check")
        self.double_check_button.setToolTip("The independent double check at the bedside "
                                            "(Ctrl+D)")
        self.double_check_button.clicked.connect(self.double_check_requested)
        self.countersign_button = QPushButton("C&ountersign...", left)
        self.countersign_button.setObjectName("bedside-countersign")
        self.countersign_button.clicked.connect(self.countersign_requested)
        self.print_button = QPushButton("&Print...", left)
        self.print_button.setObjectName("bedside-print")
        self.print_button.clicked.connect(self.print_requested)
        for button in (self.double_check_button, self.countersign_button, self.print_button):
            button.setEnabled(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        return left

    def _build_preview(self) -> QWidget:
        """The bedside copy with a caption saying which copy it is, or a note instead."""
        holder = QWidget(self.splitter)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        self.caption = QLabel(holder)
        self.caption.setObjectName("bedside-caption")
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("background: #fff6d5; border: 1px solid #b59b3b; "
                                   "padding: 4px;")
        self.caption.hide()
        column.addWidget(self.caption)
        self.preview = QStackedWidget(holder)
        self.preview.setObjectName("bedside-preview")
        self.note = QLabel(CHOOSE_NOTE, self.preview)
        self.note.setObjectName("bedside-preview-note")
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setStyleSheet("font-size: 14px; padding: 24px;")
        self.preview.addWidget(self.note)
        column.addWidget(self.preview, 1)
        return holder

    @property
    def document(self) -> QPdfDocument:
        """The bedside copy's PDF document (made, with its view, on first use)."""
        if self._document is None:
            self._make_pdf_view()
        assert self._document is not None
        return self._document

    @property
    def view(self) -> QPdfView:
        """The PDF view of the preview (made, with its document, on first use)."""
        if self._view is None:
            self._make_pdf_view()
        assert self._view is not None
        return self._view

    def _make_pdf_view(self) -> None:
        from PySide6.QtPdf import QPdfDocument  # noqa: PLC0415 - QtPdf only when a copy is shown
        from PySide6.QtPdfWidgets import QPdfView  # noqa: PLC0415

        self._document = QPdfDocument(self)
        self._view = QPdfView(self.preview)
        self._view.setObjectName("bedside-pdf")
        self._view.setPageMode(QPdfView.PageMode.MultiPage)
        self._view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self._view.setDocument(self._document)
        self.preview.addWidget(self._view)

    # -- the table ----------------------------------------------------------------------------

    def show_rows(self, rows: list[BedsideRow], *, keep: str | None = None) -> None:
        """Show ``rows`` (oldest first); ``keep``: the record to select again (no signal)."""
        self.table.blockSignals(True)
        try:
            self.table.clearSelection()
            self.table.setRowCount(len(rows))
            for number, row in enumerate(rows):
                for column, text in enumerate(row.cells):
                    item = QTableWidgetItem(text)
                    item.setData(_RECORD_ROLE, row.record_id)
                    item.setToolTip(text)
                    self.table.setItem(number, column, item)
                if row.record_id == keep:
                    self.table.selectRow(number)
            self.table.resizeRowsToContents()
        finally:
            self.table.blockSignals(False)
        self.empty.setVisible(not rows)
        self.problem.clear_message()

    def show_problem(self, text: str) -> None:
        """Say why the list cannot be shown (nothing is listed)."""
        self.show_rows([])
        self.empty.hide()
        self.problem.show_message(text, "error")

    def record_ids(self) -> list[str]:
        """The record ids listed, in order."""
        return [self._text(row, 0, _RECORD_ROLE) for row in range(self.table.rowCount())]

    def _text(self, row: int, column: int,
              role: int | Qt.ItemDataRole = Qt.ItemDataRole.DisplayRole) -> str:
        item = self.table.item(row, column)
        return "" if item is None else str(item.data(role))

    def row_of(self, record_id: str) -> int | None:
        """The row of ``record_id``, or ``None``."""
        ids = self.record_ids()
        return ids.index(record_id) if record_id in ids else None

    def cell(self, record_id: str, column: str) -> str:
        """The text of ``column`` in the row of ``record_id``."""
        row = self.row_of(record_id)
        if row is None:
            raise KeyError(record_id)
        return self._text(row, COLUMNS.index(column))

    def selected(self) -> str | None:
        """The record id of the selected row, or ``None``."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self._text(rows[0].row(), 0, _RECORD_ROLE)

    def select_row(self, record_id: str) -> None:
        """Select the row of ``record_id`` (no signal: the caller opens it)."""
        row = self.row_of(record_id)
        if row is None or self.selected() == record_id:
            return
        self.table.blockSignals(True)
        try:
            self.table.selectRow(row)
        finally:
            self.table.blockSignals(False)

    def _selection_changed(self) -> None:
        record_id = self.selected()
        if record_id is not None:
            self.record_selected.emit(record_id)

    def set_actions(self, *, double_check: bool, countersign: bool, print_: bool,
                    why_not_countersign: str = "") -> None:
        """Enable the buttons for the selected record."""
        self.double_check_button.setEnabled(double_check)
        self.countersign_button.setEnabled(countersign)
        self.countersign_button.setToolTip(why_not_countersign or "Countersign the bedside "
                                           "copy with your signing certificate")
        self.print_button.setEnabled(print_)

    # -- the preview --------------------------------------------------------------------------

    def show_pdf(self, data: bytes, caption: str = "") -> None:
        """Show the bedside copy ``data`` under ``caption`` (both hidden while blinded).

        Raises:
            PdfError: QtPdf could not read the bytes (the preview shows the note instead).
        """
        from PySide6.QtPdf import QPdfDocument  # noqa: PLC0415

        from ketascreen.ui.qt_pdf_preview import PdfError  # noqa: PLC0415

        self.clear_pdf()
        buffer = QBuffer(self.document)
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(buffer)
        if self.document.error() != QPdfDocument.Error.None_ or self.document.pageCount() < 1:
            error = self.document.error().name
            self.clear_pdf()
            raise PdfError(error)
        self._buffer = buffer
        self.caption.setText(caption)
        self._show_preview()
        page = self.bedside_page()
        if page is not None:
            self.view.pageNavigator().jump(page, QPointF(0, 0), self.view.zoomFactor())

    def bedside_page(self) -> int | None:
        """The page (from 0) of the copy's bedside double-check block, or ``None``."""
        for page in range(self.document.pageCount()):
            if BEDSIDE_BLOCK in self.document.getAllText(page).text():
                return page
        return None

    def current_page(self) -> int:
        """The page the preview shows at its top (from 0)."""
        return self.view.pageNavigator().currentPage()

    def clear_pdf(self, note: str = CHOOSE_NOTE) -> None:
        """Show no PDF, only ``note``."""
        if self._document is not None:
            self._document.close()
        if self._buffer is not None:
            self._buffer.deleteLater()
            self._buffer = None
        self.caption.setText("")
        self.caption.hide()
        self.note.setText(BLINDED_NOTE if self._blinded else note)
        self.preview.setCurrentWidget(self.note)

    def has_pdf(self) -> bool:
        """Whether a bedside copy is loaded (shown unless blinded)."""
        return self._buffer is not None

    def pdf_shown(self) -> bool:
        """Whether a bedside copy is on screen now."""
        return self.has_pdf() and self.preview.currentWidget() is self._view

    def page_count(self) -> int:
        """The pages of the loaded bedside copy (0: none)."""
        return self.document.pageCount() if self.has_pdf() else 0

    def blind(self, blinded: bool) -> None:
        """Hide (``True``) or show again the preview and the order's dose and pump rate."""
        self._blinded = blinded
        for column in ORDER_COLUMNS:
            self.table.setColumnHidden(column, blinded)
        self.table.setEnabled(not blinded)
        self.refresh_button.setEnabled(not blinded)
        if blinded:  # the owner enables them again for the selected row (set_actions)
            for button in (self.double_check_button, self.countersign_button,
                           self.print_button):
                button.setEnabled(False)
        self._show_preview()

    @property
    def blinded(self) -> bool:
        """Whether the order's numbers are hidden (a double check is open)."""
        return self._blinded

    def _show_preview(self) -> None:
        if self._blinded or not self.has_pdf():
            self.note.setText(BLINDED_NOTE if self._blinded else CHOOSE_NOTE)
            self.preview.setCurrentWidget(self.note)
            self.caption.hide()
        else:
            self.preview.setCurrentWidget(self.view)
            self.caption.setVisible(bool(self.caption.text()))
