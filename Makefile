# The two commands of the README: `make run` and `make test`. Both set up .venv on first use.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export UV_PYTHON_DOWNLOADS := never

EXAMPLE := ../shared/spec/examples/case-example.json
HEADLESS       ?= .venv-headless
HEADLESS_PY    := $(HEADLESS)/bin/python
HEADLESS_STAMP := $(HEADLESS)/.installed-stamp

.PHONY: run demo test lint typecheck contracts pytest pytest-ui test-headless screenshots bench goldens mutations clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[dev]'
	@$(PY) -m compileall -q ketascreen >/dev/null  # start-up time: bytecode even where writing it is off
	@touch $(STAMP)

## run: the desktop app on the example case; with no display, the headless demo instead
run: $(STAMP)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY$$QT_QPA_PLATFORM" ]; then \
	  $(VENV)/bin/ketascreen gui $(EXAMPLE); \
	else \
	  echo "make run: no display (DISPLAY and WAYLAND_DISPLAY unset, QT_QPA_PLATFORM unset):"; \
	  echo "make run: running the headless demo instead (the desktop app: make run on a desktop)"; \
	  $(MAKE) --no-print-directory demo; \
	fi

## demo: screen the example case (benzodiazepine acknowledged), sign it with a demo key, verify
## it trusting the demo certificate (a trial key is trusted only when the clinic says so)
demo: $(STAMP)
	@set -e; dir="$${TMPDIR:-/tmp}/ketascreen-demo-$$(id -u)"; umask 077; mkdir -p "$$dir"; \
	$(PY) -c 'import secrets; print(secrets.token_urlsafe(18))' > "$$dir/passphrase"; \
	$(VENV)/bin/ketascreen keygen --name "Demo Physician" --credentials "MD (demo key)" \
	  --out "$$dir/demo-signer.p12" --passphrase-file "$$dir/passphrase" --force; \
	$(PY) -c 'import json, sys; c = json.load(open(sys.argv[1])); c["acknowledgements"] = [{"concept": "benzodiazepine", "reason": "Demo: evening alprazolam held the night before; discussed."}]; json.dump(c, open(sys.argv[2], "w"), indent=2)' \
	  $(EXAMPLE) "$$dir/case-example-acknowledged.json"; \
	$(VENV)/bin/ketascreen screen "$$dir/case-example-acknowledged.json" \
	  --pdf "$$dir/checklist-signed.pdf" --sign "$$dir/demo-signer.p12" \
	  --passphrase-file "$$dir/passphrase" --force; \
	$(VENV)/bin/ketascreen verify "$$dir/checklist-signed.pdf" --trust "$$dir/demo-signer.pem"; \
	echo; echo "make run: signed checklist (self-signed demo key, trusted with --trust): $$dir/checklist-signed.pdf"

## test: lint, type-check, import contract; the non-UI tests in a venv WITHOUT PySide6 (proves the
## core needs no Qt); then the desktop app's tests (offscreen Qt). Every test runs once.
test: lint typecheck contracts test-headless pytest-ui

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

contracts: $(STAMP)
	$(VENV)/bin/lint-imports

## pytest: the whole suite in .venv (core and desktop app)
pytest: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

pytest-ui: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests/ui

# The package and everything pyproject.toml lists for it and its dev extra, except Qt.
NON_QT_REQUIREMENTS = $(shell $(PY) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print(" ".join(repr(r) for r in p["dependencies"] + p["optional-dependencies"]["dev"] if not r.lower().startswith(("pyside6", "pytest-qt"))))')

$(HEADLESS_STAMP): pyproject.toml $(STAMP)
	@test -x $(HEADLESS_PY) || $(VENV)/bin/uv venv --quiet --python $(PY) $(HEADLESS)
	$(VENV)/bin/uv pip install --quiet --python $(HEADLESS_PY) --no-deps -e .
	$(VENV)/bin/uv pip install --quiet --python $(HEADLESS_PY) $(NON_QT_REQUIREMENTS)
	@touch $@

## test-headless: the core's tests in .venv-headless, where PySide6 is not installed
test-headless: $(HEADLESS_STAMP)
	@$(HEADLESS_PY) -c 'import importlib.util, sys; sys.exit("PySide6 is importable in $(HEADLESS)" if importlib.util.find_spec("PySide6") or importlib.util.find_spec("shiboken6") else 0)'
	$(HEADLESS_PY) -m pytest -q --ignore=tests/ui

## screenshots: PNGs of the main states of the desktop app into docs/
screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m ketascreen.ui.screenshots docs $(EXAMPLE)

## goldens: re-record tests/dosing/golden_outcomes.json (deterministic); read the diff before committing
goldens: $(STAMP)
	$(PY) -m tests.dosing.record_goldens

## mutations: each one-line mutation of a safety decision must fail a test (on a copy of HEAD)
mutations: $(STAMP)
	$(PY) tools/mutations.py

## bench: the benchmarks of bench/ (figures go in the issue notes)
bench: $(STAMP)
	$(PY) bench/bench_screen.py
	$(PY) bench/bench_course.py
	$(PY) bench/bench_dose.py
	$(PY) bench/bench_pdf.py
	$(PY) bench/bench_import.py
	$(PY) bench/bench_records.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/bench_gui.py

clean:
	rm -rf $(VENV) $(HEADLESS) .mypy_cache .pytest_cache .ruff_cache
