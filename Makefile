# The two commands: `make run` (an embedded PostgreSQL under .run/, nothing to install) and
# `make test` (the machine's PostgreSQL + Redis).
SHELL := /bin/bash
PY := .venv/bin/python
LOCKS := requirements.lock requirements-dev.lock
VENV_STAMP := .venv/.installed-$(shell cat $(LOCKS) pyproject.toml | sha256sum | cut -c1-12)

# `make test` talks to real servers; override any of these from the environment.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/oauth_server
TEST_REDIS_URL ?= redis://127.0.0.1:6379
TEST_REDIS_DB ?= 0
TEST_ENV = DEBUG=false SECRET_KEY=test-secret-key-not-for-production-0123456789abcdef \
	DATABASE_URL=$(TEST_DATABASE_URL) \
	CACHE_URL=rediscache://$(subst redis://,,$(TEST_REDIS_URL))/$(shell echo $$(( $(TEST_REDIS_DB) + 1 ))) \
	CELERY_BROKER_URL=$(TEST_REDIS_URL)/$(TEST_REDIS_DB) \
	PUBLIC_URL=http://testserver

.PHONY: venv run test lint format bench fuzz clean

venv: $(VENV_STAMP)

# Runtime (requirements.lock, what the image installs) plus development and test tools.
$(VENV_STAMP): $(LOCKS) pyproject.toml
	@test -x $(PY) || { echo "Creating .venv (Python virtual environment)"; python3 -m venv .venv; }
	@echo "Installing the pinned Python packages ($(LOCKS)) into .venv (about a minute the first time)..."
	.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.lock -r requirements-dev.lock
	@rm -f .venv/.installed-* && touch $@

run: venv
	bash scripts/run.sh

test: venv
	bash scripts/ensure-services.sh
	bash scripts/ensure-test-tools.sh
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .

format: venv
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# A longer schemathesis run of the JSON API (make test runs 25 examples per operation).
FUZZ_EXAMPLES ?= 500
fuzz: venv
	bash scripts/ensure-services.sh
	$(TEST_ENV) API_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/api/test_fuzz.py -o timeout=3600 $(PYTEST_ARGS)

# Ours vs django-oauth-toolkit vs bare Django (docs/benchmarks.md). BENCH_ARGS="--quick" for a short run.
bench: venv
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	@test ! -x $(PY) || $(PY) scripts/run_postgres.py stop .run/postgres
	rm -rf .run staticfiles
