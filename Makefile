# Every target sets up what it needs: a fresh clone runs `make demo` or `make test` directly.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DDB_STAMP := .dynamodb-local/.installed-stamp

.PHONY: all venv dynamodb-local test check lint typecheck generate demo bench bench-quick lambda-build lambda-test lambda-bench clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(STAMP)

$(DDB_STAMP): scripts/setup-dynamodb-local.sh
	bash scripts/setup-dynamodb-local.sh
	touch $@

dynamodb-local: $(DDB_STAMP)

## The whole test suite (DynamoDB Local is started by the tests themselves).
test: venv dynamodb-local
	$(PY) -m pytest -q -p no:cacheprovider

## Regenerate generated_example/ from schemas/.
generate: venv
	$(VENV)/bin/dynagen compile

## Is generated_example/ fresh, typed and lint-clean?
check: venv
	$(VENV)/bin/dynagen check
	$(VENV)/bin/mypy --strict
	$(VENV)/bin/ruff check .

lint: venv
	$(VENV)/bin/ruff check .

typecheck: venv
	$(VENV)/bin/mypy --strict

## End to end on the embedded default: compile schemas/, start DynamoDB Local, run the example handler.
demo: venv dynamodb-local
	$(PY) -m examples.demo

## The example Lambda function: deployment zip + SAM template in examples/payments_lambda/build/.
lambda-build: venv
	$(PY) -m examples.payments_lambda.build

## The example's tests (handler actions, errors, deadline, warm/cold, stream consumer, zip) on DynamoDB Local.
lambda-test: venv dynamodb-local
	$(PY) -m pytest -q -p no:cacheprovider tests/test_lambda_example.py

## Warm and cold invocation timings of the example handler (lean and botocore transports) on DynamoDB Local.
lambda-bench: venv dynamodb-local lambda-build
	$(PY) -m examples.payments_lambda.invoke_local bench

bench: venv dynamodb-local
	$(PY) -m benchmarks

bench-quick: venv dynamodb-local
	$(PY) -m benchmarks --quick

clean:
	rm -rf $(VENV) .dynamodb-local .mypy_cache .ruff_cache .pytest_cache dist build
