# The two commands: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-postgres check bench bench-ocr bench-packet bench-import bench-export bench-search bench-search-postgres bench-patients bench-patients-postgres bench-web bench-all clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installed again whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/carebinder demo

# One pytest-xdist worker per CPU: 5 min 40 s instead of 9 min 25 s on two cores.
# `make test PYTEST_ARGS=` runs in one process.
PYTEST_ARGS ?= -n auto --dist worksteal

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite on a throwaway PostgreSQL server (installed from Debian's packages when missing
# and run as root, started on a Unix socket in a temporary folder, stopped at the end).
test-postgres: $(VENV)/.installed-dev
	.ci/postgres.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

check: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests migrations benchmarks
	$(BIN)/ruff format --check src tests migrations benchmarks
	$(BIN)/mypy
	@# Drift check: an empty database upgraded to head must match the models.
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  CAREBINDER_DATABASE_URL="sqlite:///$$tmp/drift.db" $(BIN)/alembic upgrade head >/dev/null && \
	  CAREBINDER_DATABASE_URL="sqlite:///$$tmp/drift.db" $(BIN)/alembic check

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/startup.py

# Needs qpdf as the yardstick (apt-get install qpdf).
bench-packet: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/packet.py

# Needs Tesseract with English and Spanish data (apt-get install tesseract-ocr tesseract-ocr-spa).
bench-ocr: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/ocr.py

bench-import: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/fhir_import.py

bench-export: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/export.py

# A 10,000-record binder: query time in-process, and the whole command's wall time.
# The web face on 500 patients x 50 records: each page's median and p95, serve's start.
bench-web: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/web.py

bench-search: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/search.py

# The same on a throwaway PostgreSQL server (or: benchmarks/search.py --db URL).
bench-search-postgres: $(VENV)/.installed-dev
	.ci/postgres.sh $(BIN)/python benchmarks/search.py

# 500 patients x 50 records against one patient: time and SQL statements per command.
bench-patients: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/many_patients.py

# The same on a throwaway PostgreSQL server (.ci/postgres.sh starts it, and stops it after).
bench-patients-postgres: $(VENV)/.installed-dev
	.ci/postgres.sh $(BIN)/python benchmarks/many_patients.py

# Every benchmark in turn (benchmarks/README.md lists them with their latest figures).
bench-all: bench bench-ocr bench-packet bench-import bench-export bench-search bench-patients bench-web
	$(BIN)/python benchmarks/pdf_text.py
	$(BIN)/python benchmarks/crash_stress.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
