# Two commands set everything up on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test test-moved-dates bench lock

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(INSTALLED)

# The service on http://127.0.0.1:8000 with the embedded SQLite database migrated and seeded, and a first
# matching run so advisers have proposals to review. Plain HTTP on loopback, so cookies are not Secure-only.
run: install
	$(BIN)/springboard db upgrade
	$(BIN)/springboard demo
	$(BIN)/springboard match run
	SECURE_COOKIES=false SCHEDULER_IN_SERVE=true $(BIN)/springboard serve --host 127.0.0.1 --port 8000

# The whole suite, on SQLite and PostgreSQL, with browser tests in Debian's Chromium.
test: install
	bash .ci/system-deps
	$(BIN)/python -m pytest -n auto

# The whole suite again with the system date a year ahead and a year back, in every Python process the
# tests start (tests/moved_date/sitecustomize.py; SQLite only: PostgreSQL's server keeps its own clock).
# Every test fixes the service's clock, so a result that changes here read the real date somewhere.
test-moved-dates: install
	for days in 365 -365; do \
	  echo "moved-date run: $$days days"; \
	  MOVE_SYSTEM_DATE_DAYS=$$days PYTHONPATH=tests/moved_date TEST_BACKENDS=sqlite \
	    $(BIN)/python -m pytest -n auto -q -p no:cacheprovider -p no:time_machine || exit 1; \
	done

# Benchmarks are run on demand, never in the suite; results go to bench/RESULTS.md by hand.
bench: install
	bash .ci/system-deps
	command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python -m bench.api_lists
	$(BIN)/python -m bench.match_runs
	$(BIN)/python -m bench.pages
	$(BIN)/python -m bench.dashboard
	$(BIN)/python -m bench.reports

# Re-pin every dependency after changing pyproject.toml.
lock: install
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o constraints.txt
