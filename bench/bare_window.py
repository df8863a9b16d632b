"""The reference for bench_gui.py: a bare PySide6 window doing what `ketascreen gui --screenshot`
does (start, show a 1400 x 900 main window, grab it to PNG, exit), and nothing else."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(QLabel("bare PySide6 window"))
window.resize(1400, 900)
window.show()
app.processEvents()
window.grab().save(sys.argv[1], "PNG", 80)  # as the screenshot writes it (app.PNG_QUALITY)
