# The two commands of the README: `make run` and `make test`. Both set up .venv on first use.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint typecheck contracts pytest bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[dev]'
	@touch $(STAMP)

## run: screen the example case and print the report (the desktop app arrives with issue 5)
run: $(STAMP)
	$(VENV)/bin/ketascreen screen ../shared/spec/examples/case-example.json

## test: lint, type-check, import contract, then the whole pytest suite (offscreen Qt)
test: lint typecheck contracts pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

contracts: $(STAMP)
	$(VENV)/bin/lint-imports

pytest: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

## bench: the benchmarks of bench/ (figures go in the issue notes)
bench: $(STAMP)
	$(PY) bench/bench_screen.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
