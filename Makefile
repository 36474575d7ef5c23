# make dev: run the whole service locally (flags in ARGS, e.g. make dev ARGS=--allow-private-targets).
# make test: lint, type-check and every test (unit, functional, e2e, infra, small load runs).
# make loadtest SCENARIO=e2e|scale|cost|html|api|coldstart: the load and cost harness, full size.
# make synth / deploy / destroy: the CDK app in infra/ (node is the one extra requirement).
# Needs only python3: uv is installed with pip into .tools/ when it is not on PATH (the Lambda
# bundle, built by synth, deploy and bundle, also needs a python3.13 to compile its bytecode).

SHELL := /bin/bash
TOOLS_UV := $(CURDIR)/.tools/bin/uv
UV := $(or $(shell command -v uv 2>/dev/null),$(TOOLS_UV))
# Four workers on two cores: two spend minutes asleep in the wall-clock e2e tests (tests/scheduling.py).
PYTEST_ARGS ?= -n 4 --dist loadgroup
ARGS ?=
CDK_ARGS ?=
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# Bytecode is cached (.pyc beside the sources; uv installs none): a test run starts about a hundred
# Python processes (workers, local stacks, their emulators and Lambda instances), each of which
# would otherwise compile every module it imports again. Empty is unset, for Python.
export PYTHONDONTWRITEBYTECODE :=
CDK := cd infra && npx -y aws-cdk@2

.PHONY: dev test lint typecheck pytest sync sync-all format clean synth deploy destroy bundle fuzz loadtest chromium chromium-pack screenshots

# pip's --target first: a venv of its own would first install pip itself (4 s of CPU).
$(TOOLS_UV):
	@echo "uv not found: installing it with pip into .tools/"
	(python3 -m pip install --quiet --target .tools/pkgs uv && mkdir -p .tools/bin && \
	  ln -sf $(CURDIR)/.tools/pkgs/bin/uv $(TOOLS_UV)) || \
	  (python3 -m venv .tools && .tools/bin/python -m pip install --quiet uv)

# The service and its tools (dev, local groups); --inexact keeps the CDK group if it is there.
sync: $(UV)
	$(UV) sync --locked --inexact --quiet

# Everything, the CDK group too (tests, synth, deploy).
sync-all: $(UV)
	$(UV) sync --locked --all-groups --quiet

dev: sync
	.venv/bin/timer-service dev $(ARGS)

# The type check runs beside the tests: they leave a core idle while their two wall-clock e2e tests
# wait for minute ticks, and a cold mypy takes one core for 20-odd seconds.
test: lint
	@$(MAKE) --no-print-directory -j2 typecheck pytest

lint: sync-all
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: sync-all
	.venv/bin/mypy

pytest: sync-all chromium chromium-pack
	.venv/bin/pytest $(PYTEST_ARGS)

# The console's browser tests drive Debian's Chromium (Playwright cannot download one here).
CHROMIUM ?= /usr/bin/chromium
chromium:
	@[ -x "$(CHROMIUM)" ] || command -v chromium >/dev/null || { \
	  echo "Chromium not found: installing it with apt-get (browser tests)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The browser function's Chromium (@sparticuz/chromium, its sha512 pinned) for
# tests/browser/test_chromium_pack.py: npm pack, once, into ~/.cache/timer-service (2 s, 70 MB).
chromium-pack: sync-all
	.venv/bin/python -c 'from timer_service_cdk.browser_bundle import chromium_tarball; print(chromium_tarball())'

# The console's screenshots in docs/, taken by its browser tests.
screenshots: sync-all chromium
	CONSOLE_SCREENSHOTS=$(CURDIR)/docs .venv/bin/pytest -q -p no:xdist tests/browser

# schemathesis against a fresh local stack, rate limit off then at its default: all operations
# and phases, FUZZ_SECONDS each, zero server errors.
FUZZ_SECONDS ?= 300
fuzz: sync-all
	.venv/bin/python -m loadtest.fuzz --seconds $(FUZZ_SECONDS)

# The load and cost harness: make loadtest SCENARIO=cost ARGS="--json cost.json" (loadtest/README.md).
SCENARIO ?= e2e
loadtest: sync-all
	.venv/bin/python -m loadtest $(SCENARIO) $(ARGS)

format: sync-all
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

# CloudFormation into cdk.out/, checked by cdk-nag (in the app) and cfn-lint.
synth: sync-all
	$(CDK) synth --quiet $(CDK_ARGS)
	.venv/bin/cfn-lint --config-file infra/.cfnlintrc.yaml cdk.out/*.template.json
	@echo "cdk.out/: template passes cdk-nag (AwsSolutions) and cfn-lint"

deploy: sync-all
	$(CDK) deploy $(CDK_ARGS)

destroy: sync-all
	$(CDK) destroy $(CDK_ARGS)

# The Lambda bundle alone, into build/lambda (what synth and deploy upload); compiling its
# bytecode needs a python3.13 (the Lambda runtime's), found by the builder (infra/README.md).
bundle: sync-all
	.venv/bin/python -m timer_service_cdk.bundle build/lambda

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache cdk.out build
