# Two commands: `make run` serves the app, `make test` runs the tests.
# Both set up what they need first (see scripts/setup.sh); re-running is cheap.

PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: run serve test lint clean

run:
	@bash scripts/setup.sh run
	.venv/bin/flask --app app bank check
	.venv/bin/flask --app app run --host 127.0.0.1 --port $(PORT)

# Production-style serving: gunicorn with web workers sized to the machine, each with its own
# report render worker (docs/operations.md).
serve:
	@bash scripts/setup.sh run
	.venv/bin/flask --app app bank check
	PORT=$(PORT) .venv/bin/gunicorn -c scripts/gunicorn.conf.py app:app

test:
	@bash scripts/setup.sh test
	$(MAKE) --no-print-directory lint
	ITHEALTH_REQUIRE_TOOLS=1 .venv/bin/python -m pytest $(PYTEST_ARGS)

# Static checks: ruff; the layers only import downwards and no package's modules import each
# other in a circle (import-linter, pyproject.toml); the core and storage type-check (mypy); and
# bandit with no high-severity finding.
lint:
	.venv/bin/ruff check assessment tests benchmarks scripts app.py
	.venv/bin/lint-imports --no-cache
	.venv/bin/mypy
	.venv/bin/bandit -q -c pyproject.toml -r assessment app.py -lll

# Removes the virtual environment only; instance/ (secret key, database) is kept.
clean:
	rm -rf .venv
