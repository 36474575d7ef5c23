# make dev: run the whole service locally (flags in ARGS, e.g. make dev ARGS=--allow-private-targets).
# make test: lint, type-check and every test.
# Needs only python3: uv is installed with pip into .tools/ when it is not on PATH.

SHELL := /bin/bash
TOOLS_UV := $(CURDIR)/.tools/bin/uv
UV := $(or $(shell command -v uv 2>/dev/null),$(TOOLS_UV))
PYTEST_ARGS ?= -n 2
ARGS ?=

.PHONY: dev test lint typecheck pytest sync format clean

$(TOOLS_UV):
	@echo "uv not found: installing it with pip into .tools/"
	python3 -m venv .tools && .tools/bin/python -m pip install --quiet uv || \
	  (python3 -m pip install --quiet --target .tools/pkgs uv && mkdir -p .tools/bin && \
	   ln -sf $(CURDIR)/.tools/pkgs/bin/uv $(TOOLS_UV))

sync: $(UV)
	$(UV) sync --locked --quiet

dev: sync
	.venv/bin/timer-service dev $(ARGS)

test: lint typecheck pytest

lint: sync
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: sync
	.venv/bin/mypy

pytest: sync
	.venv/bin/pytest $(PYTEST_ARGS)

format: sync
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
