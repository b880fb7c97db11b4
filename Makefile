# membership-service: `make run` to install, migrate, seed and serve; `make test` for the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := service

.PHONY: run install install-test migrate demo serve test test-fast openapi bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/flask db upgrade

DEMO_SIGNUPS ?= 20000

demo: migrate
	$(BIN)/flask demo --signups $(DEMO_SIGNUPS)

# `make run PORT=5001`: every link the service hands out (calls to action, allowed origins) uses that port,
# unless PUBLIC_BASE_URL / SITE_ALLOWED_ORIGINS are set in the environment.
RUN_BASE_URL := http://$(HOST):$(PORT)
run demo: export PUBLIC_BASE_URL ?= $(RUN_BASE_URL)
run demo: export SITE_ALLOWED_ORIGINS ?= $(RUN_BASE_URL),http://localhost:$(PORT)

run: demo
	@echo ""
	@echo "membership-service on $(RUN_BASE_URL)"
	@echo "  start here    : $(RUN_BASE_URL)/"
	@echo "  progress JSON : $(RUN_BASE_URL)/v1/campaigns/members-25k/progress?locale=en"
	@echo "  in Ukrainian  : $(RUN_BASE_URL)/v1/campaigns/members-25k/progress?locale=uk"
	@echo "  API docs      : $(RUN_BASE_URL)/docs ($(RUN_BASE_URL)/openapi.json)"
	@echo "  widget demo   : $(RUN_BASE_URL)/demo"
	@echo "  staff         : $(RUN_BASE_URL)/staff/"
	@echo ""
	@echo "First staff account (paste in another terminal, in $(CURDIR)):"
	@echo "  $(BIN)/flask --app service staff create --email you@example.org --role admin"
	@echo ""
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# Production server: SERVICE_ENV=production unless the environment says otherwise, so a missing or
# development secret (or a plain-http URL) stops it with one message naming each; then migrations
# (once per deploy) and gunicorn with gunicorn.conf.py. `make run` is the development server.
serve: export SERVICE_ENV ?= production
serve: install
	@echo "membership-service: production server (gunicorn, SERVICE_ENV=$$SERVICE_ENV); 'make run' is the development server"
	$(BIN)/flask db upgrade
	$(BIN)/gunicorn -c gunicorn.conf.py 'service:create_app()'

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install  # not a test: CI does not run it (`make bench BENCH_ARGS=--quick` for a short run)
	$(BIN)/python -m bench $(BENCH_ARGS)
	$(BIN)/python -m bench.report  # bench/RESULTS.md from bench/results.json

lint: install-test
	$(BIN)/ruff check service tests bench

openapi: install
	$(BIN)/flask openapi write --format=yaml openapi.yaml

clean:
	rm -rf $(VENV) instance .pytest_cache tests/artifacts
