# Two commands on a fresh machine: `make report` and `make test`.
# Each builds its own virtual environment in .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: report test lint typecheck unit bench clean embedded browser screenshots
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime install, refreshed when pyproject.toml changes: the base install, without the `web`
# extra (fastapi, uvicorn, offline API docs), which only `havenflow serve` needs.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Development install (tests, linters, and the `web` extra for the dashboard's tests),
# refreshed when pyproject.toml changes.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

# The main job on the bundled data, offline: report.html in the repository root (ignored by git),
# with the verdicts' summary box printed here.
report: $(VENV)/.installed
	COLUMNS=$${COLUMNS:-140} $(BIN)/havenflow report --out report.html

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# The dashboard's browser test drives Debian's Chromium through Playwright (no browser
# download: Playwright's own `install` needs hosts CI cannot reach).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

unit: $(VENV)/.installed-dev browser
	$(BIN)/python -m pytest -q

test: lint typecheck unit

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/data_layer.py
	$(BIN)/python benchmarks/leadlag.py
	$(BIN)/python benchmarks/cycle.py

# README screenshots of the report and the dashboard (docs/*.png).
screenshots: $(VENV)/.installed-dev browser
	$(BIN)/python scripts/screenshots.py

# Rebuild the bundled dataset from ../shared/data/raw (maintainers only).
embedded: $(VENV)/.installed
	$(BIN)/python scripts/build_embedded.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache report.html
