# Thin targets over `python -m autograder`. Every target creates .venv first if it is missing
# (or older than pyproject.toml), so a fresh clone needs nothing but Python 3.11+ and make.
#   make dist                          build and verify every assignment, write dist/*.zip
#   make test                          lint and run the whole test suite (what CI runs)
#   make grade A=01_perceptron_xor S=path/to/submissions/
#   make verify [A=01]   make bench [A=01]
#   make report A=01 [G=gradebook/01_perceptron_xor] [NAMES=1]   class report of a graded batch
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
A ?=
S ?=
G ?=
NAMES ?=
PYTEST_ARGS ?=
# Test workers: the slow tests keep about 1.3 of 2 cores busy on their own, so two workers
# (slowest tests first, see tests/conftest.py) fill the machine. TEST_JOBS=0 runs in-process.
TEST_JOBS ?= 2

.PHONY: venv dist verify test lint format grade report bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

dist: $(STAMP)
	$(PY) -m autograder build $(A)

verify: $(STAMP)
	$(PY) -m autograder verify $(A)

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadscope $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

grade: $(STAMP)
	@test -n "$(A)" -a -n "$(S)" || { echo "usage: make grade A=01_perceptron_xor S=path/to/submissions/"; exit 2; }
	$(PY) -m autograder grade $(A) $(S)

report: $(STAMP)
	@test -n "$(A)" || { echo "usage: make report A=01_perceptron_xor [G=gradebook_dir] [NAMES=1]"; exit 2; }
	$(PY) -m autograder report $(A) $(G) $(if $(NAMES),--names)

bench: $(STAMP)
	$(PY) -m autograder bench $(A)

clean:
	rm -rf dist build gradebook .pytest_cache .ruff_cache *.egg-info
