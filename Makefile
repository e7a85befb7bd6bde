# quxian: `make demo` runs the nightly DAG through Airflow over the offline sites; `make test` runs the suite.
# Everything is installed into .venv from the committed lock file (requirements.lock) with uv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock setup.cfg pyproject.toml | cksum | cut -d' ' -f1)
UV_VERSION := 0.13.9

.PHONY: install demo test test-slow bench bench-scale bench-dedupe-scale chaos cluster-demo lint format clean help

help:
	@echo "make demo    - install, start the offline sites, run the nightly DAG through Airflow for every day they cover"
	@echo "make test    - install and run the test suite"
	@echo "make bench   - run every benchmark and print its figures (includes the 16–18 min scale nights)"
	@echo "make bench-scale - crawl/clean/publish growth and nights of 38/100/400 outlets on 1 and 2 Celery workers"
	@echo "make chaos   - inject faults, SIGKILL publishes, fuzz the command; print the figures"
	@echo "make cluster-demo - PostgreSQL, Redis, Airflow with 2 Celery workers on 127.0.0.1, one night over the offline sites"
	@echo "make lint    - ruff"
	@echo "make clean   - remove data/ and the Airflow home (.airflow/)"

$(STAMP): requirements.lock setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "quxian needs Python 3.11+, got " + sys.version' 
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

demo: install
	$(BIN)/python -m quxian.demo

# The default suite, then the production profile's end-to-end run (slow-marked, about 2-3 min:
# PostgreSQL, Redis, Airflow with two Celery workers running the nightly DAG).
test: install
	./scripts/install-system-deps.sh browser cluster
	$(BIN)/python -m pytest -q
	$(BIN)/python -m pytest -q -m slow tests/test_cluster.py

test-slow: install
	$(BIN)/python -m pytest -q -m slow

# Every benchmark, bench_scale included: its crawl/clean/publish figures and cluster nights (38,
# 100, 400 generated outlets × 1, 2 Celery workers; QUXIAN_BENCH_SIZES / QUXIAN_BENCH_WORKERS)
# took 16–18 min on 2 idle cores. QUXIAN_BENCH_CLUSTER=0 make bench skips the nights.
bench: install
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The scale-out figures alone (docs/deployment.md, "Measured cost").
bench-scale: install
	$(BIN)/python benchmarks/bench_scale.py

# Dedup at 10k/100k/1M articles (about 10 minutes; docs/dedup.md).
bench-dedupe-scale: install
	$(BIN)/python benchmarks/bench_dedupe.py --scale

chaos: install
	$(BIN)/python scripts/chaos.py

cluster-demo: install
	nice -n 10 scripts/cluster-demo.sh

lint: install
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .

clean:
	rm -rf data .airflow
