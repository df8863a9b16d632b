"""The reference for bench_gui.py: a bare PySide6 window doing what `ketascreen gui --screenshot`
does (start, show a 1400 x 900 main window, grab it to PNG, exit), and nothing else.

``bare_window.py PNG`` is the bare window. ``bare_window.py PNG units`` and ``... units case``
are the floors of the screenshot: the same bare window after importing only the unit registry
(``ketascreen.units``: pint, without numpy, and the program's units), and then also the case
model (``ketascreen.models.case``: pydantic and the case format). ``ketascreen gui CASE
--screenshot`` cannot take less than these: it cannot read a case or show a dose without both,
and it also loads the rule set and the knowledge base, builds the form, screens the case and
grabs a window full of widgets.
"""

from __future__ import annotations

import importlib
import sys

FLOORS = {"units": "ketascreen.units", "case": "ketascreen.models.case"}
for floor in sys.argv[2:]:
    importlib.import_module(FLOORS[floor])

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow  # noqa: E402

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(QLabel("bare PySide6 window"))
window.resize(1400, 900)
window.show()
app.processEvents()
window.grab().save(sys.argv[1], "PNG", 80)  # as the screenshot writes it (app.PNG_QUALITY)
