# Thin targets over `python -m autograder`. Every target creates .venv first if it is missing
# (or older than pyproject.toml), so a fresh clone needs nothing but Python 3.11+ and make.
#   make dist                          build and verify every assignment, write dist/*.zip
#   make test                          lint and run the whole test suite (what CI runs)
#   make grade A=01_perceptron_xor S=path/to/submissions/ [R=roster.csv]
#   make verify [A=01]   make bench [A=01]
#   make report A=01 [G=gradebook/01_perceptron_xor] [NAMES=1]   class report of a graded batch
#   make similar A=01 S=path/to/submissions/   pairs of submissions that share answer code
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
A ?=
S ?=
R ?=
G ?=
NAMES ?=
PYTEST_ARGS ?=
# Test workers: the slow tests keep about 1.3 of 2 cores busy on their own, so two workers
# (slowest tests first, see tests/conftest.py) fill the machine. TEST_JOBS=0 runs in-process.
TEST_JOBS ?= 2

.PHONY: venv dist verify test lint format grade report similar bench clean

# torch is asked of TORCH_INDEX first: on Linux, PyTorch's CPU-only wheels (PyPI's Linux wheel
# brings gigabytes of CUDA libraries). An index that does not answer within 5 s is skipped and
# torch comes from pip's default index (or a local wheel). For CUDA, start afresh with
# `rm -rf .venv && make venv TORCH_INDEX=` (PyPI's wheel) or a CUDA index of PyTorch's.
ifeq ($(shell uname -s),Linux)
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
endif
TORCH_PIN := $(shell sed -n 's/^ *"\(torch==[^"]*\)".*/\1/p' pyproject.toml)
PROBE := import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
ifneq ($(TORCH_INDEX),)
	@if $(PY) -c "$(PROBE)" "$(TORCH_INDEX)" 2>/dev/null; then \
		echo '$(PY) -m pip install --quiet --extra-index-url $(TORCH_INDEX) $(TORCH_PIN)'; \
		$(PY) -m pip install --quiet --extra-index-url "$(TORCH_INDEX)" "$(TORCH_PIN)"; \
	else echo "$(TORCH_INDEX) does not answer: torch comes from pip's default index"; fi
endif
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

# S is one path, quoted, so a folder name may hold spaces (S="my subs"); R: a roster CSV.
grade: $(STAMP)
	@test -n "$(A)" -a -n "$(S)" || { echo "usage: make grade A=01_perceptron_xor S=path/to/submissions/ [R=roster.csv]"; exit 2; }
	$(PY) -m autograder grade $(A) "$(S)" $(if $(R),--roster "$(R)")

report: $(STAMP)
	@test -n "$(A)" || { echo "usage: make report A=01_perceptron_xor [G=gradebook_dir] [NAMES=1]"; exit 2; }
	$(PY) -m autograder report $(A) $(G) $(if $(NAMES),--names)

similar: $(STAMP)
	@test -n "$(A)" -a -n "$(S)" || { echo "usage: make similar A=01_perceptron_xor S=path/to/submissions/"; exit 2; }
	$(PY) -m autograder similar $(A) "$(S)"

bench: $(STAMP)
	$(PY) -m autograder bench $(A)

clean:
	rm -rf dist build gradebook .pytest_cache .ruff_cache *.egg-info
