"""``make screenshots``: PNGs of the main states of the app for the README.

Run as ``python -m ketascreen.ui.screenshots OUT_DIR [EXAMPLE_CASE]`` with
``QT_QPA_PLATFORM=offscreen``. Settings and drafts go to a temporary folder; the signing key of
the sign-dialog picture is a throw-away self-signed demo key.
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from ketascreen.ui.app import SCREENSHOT_SIZE, StderrDialogs, application, grab_window
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.settings import AppSettings

DEFAULT_CASE = Path(__file__).resolve().parents[2].parent / "shared/spec/examples/case-example.json"


def _window(folder: Path) -> MainWindow:
    settings = AppSettings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(settings, drafts=None)
    window.dialogs = StderrDialogs(window)
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    return window


def _load(window: MainWindow, folder: Path, document: dict[str, Any]) -> None:
    path = folder / "MRN-0042-2026-11-25.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    if not window.open_path(path, ask=False):
        raise SystemExit(f"screenshots: cannot open {path}")


def _expand(window: MainWindow, concept: str) -> None:
    row = window.findings.row(concept)
    if row is not None:
        row.set_expanded(True)


def main(argv: list[str]) -> int:
    """Write screenshot-*.png into the folder given."""
    out = Path(argv[0]) if argv else Path("docs")
    example_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_CASE
    example: dict[str, Any] = json.loads(example_path.read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    app = application()
    app.setStyle("Fusion")
    written = []
    with tempfile.TemporaryDirectory(prefix="ketascreen-shots-") as temporary:
        folder = Path(temporary)
        window = _window(folder)

        grab_window(window, out / "screenshot-empty.png")
        written.append("screenshot-empty.png")

        _load(window, folder, example)
        _expand(window, "benzodiazepine")
        grab_window(window, out / "screenshot-needs-review.png")
        written.append("screenshot-needs-review.png")

        in_pounds = copy.deepcopy(example)
        in_pounds["measurements"]["weight"] = "176 lb"
        in_pounds["conditions"] = [{"text": "No history of stroke"}, {"text": "Possible AAA"}]
        _load(window, folder, in_pounds)
        weight = window.form.measurements.inputs["weight"]
        weight.unit.setCurrentIndex(weight.unit.findData("kg"))  # as if chosen in the list
        window.rescreen_now()  # the debounced re-screen, done
        grab_window(window, out / "screenshot-unit-changed.png")
        written.append("screenshot-unit-changed.png")

        unitless = copy.deepcopy(example)
        unitless["measurements"]["weight"] = "70"
        _load(window, folder, unitless)
        grab_window(window, out / "screenshot-invalid-weight.png")
        written.append("screenshot-invalid-weight.png")

        refused = copy.deepcopy(example)
        refused["history"]["psychotic-disorder"] = "yes"
        refused["measurements"]["blood_pressure"] = "186/104 mmHg"
        _load(window, folder, refused)
        for concept in ("psychotic-disorder", "hypertension-severe"):
            _expand(window, concept)
        grab_window(window, out / "screenshot-do-not-infuse.png")
        written.append("screenshot-do-not-infuse.png")

        clear = copy.deepcopy(example)
        clear["acknowledgements"] = [{"concept": "benzodiazepine", "reason": "Evening "
                                      "alprazolam held the night before; discussed."}]
        _load(window, folder, clear)
        _sign_dialog(window, folder, out / "screenshot-sign-dialog.png")
        written.append("screenshot-sign-dialog.png")
        if window.signed_view is not None:  # signed: the read-only form under its signature
            window.statusBar().clearMessage()  # it names the temporary folder
            grab_window(window, out / "screenshot-signed.png")
            written.append("screenshot-signed.png")
        window.close()
    for name in written:
        print(f"wrote {out / name}")
    return 0


def _sign_dialog(window: MainWindow, folder: Path, path: Path) -> None:
    from ketascreen.reports.keys import generate_self_signed  # noqa: PLC0415

    pair = generate_self_signed("Dr Demo Physician", b"demo-passphrase", credentials="MD")
    key = folder / "demo-signer.p12"
    key.write_bytes(pair.pkcs12)
    window.settings.set_certificate(key)
    window.sign()
    dialog = window.sign_dialog
    assert dialog is not None
    dialog.passphrase.setText("demo-passphrase")
    dialog.open_certificate()
    dialog.output.setText(str(Path.home() / "checklists" / "MRN-0042-2026-11-25-checklist.pdf"))
    dialog.attest.setChecked(True)
    dialog.show()
    grab_window(window, path, over=dialog)
    dialog.output.setText(str(folder / "MRN-0042-2026-11-25-checklist.pdf"))
    dialog.sign()  # accepted: the window shows the signed checklist, read-only
    if dialog.isVisible():
        dialog.reject()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
