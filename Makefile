# gosmed: `make run` starts the whole system, `make test` runs every test.
SHELL := bash
export PATH := $(HOME)/.local/bin:$(PATH)

.PHONY: install run test chaos lint format asyncapi bench

install:  ## uv, WeasyPrint's system libraries and fonts, RabbitMQ if none is reachable, the venv
	@deploy/local/bootstrap.sh

run: install  ## all services as separate processes plus the edge on http://127.0.0.1:8000
	uv run python -m gosmed.runtime.devstack

test: install  ## the whole suite against the real RabbitMQ, one test file per worker, each worker its own vhost (`gosmed-test-gw0`, ...)
	@deploy/local/test-vhost.sh
	uv run pytest --numprocesses=auto --dist=loadfile

chaos: install  ## the fault suite: processes killed under load, the broker restarted under a clinic (tests/chaos)
	@deploy/local/test-vhost.sh
	uv run pytest -m chaos tests/chaos

lint: install
	uv run ruff check .
	uv run ruff format --check .
	uv run mypy libs services tests

format:
	uv run ruff check --fix .
	uv run ruff format .

asyncapi: install  ## the AsyncAPI documents: docs/asyncapi.json (clinics), docs/asyncapi-internal.json
	uv run python -m gosmed.runtime.asyncapi docs/asyncapi.json

bench: install  ## benchmarks that print their figures
	@deploy/local/test-vhost.sh
	uv run python -m tests.bench
