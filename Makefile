# The two quickstart commands: `make train` (main job on embedded defaults) and `make test` (whole suite).
.PHONY: setup train test lint

setup:
	bash scripts/setup.sh

train: setup
	python -m openenv_harness env=coding rubric=default

test:
	bash scripts/test.sh

lint:
	ruff check . && ruff format --check . && mypy
