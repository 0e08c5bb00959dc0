# Two commands: `make run` serves the app, `make test` runs the tests.
# Both set up what they need first (see scripts/setup.sh); re-running is cheap.

PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: run test clean

run:
	@bash scripts/setup.sh run
	.venv/bin/flask --app app bank check
	.venv/bin/flask --app app run --host 127.0.0.1 --port $(PORT)

test:
	@bash scripts/setup.sh test
	.venv/bin/python -m pytest $(PYTEST_ARGS)

# Removes the virtual environment only; instance/ (secret key, database) is kept.
clean:
	rm -rf .venv
