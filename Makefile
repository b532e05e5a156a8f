# Two entry points for a fresh machine:
#   make run    set up .venv and run the main job (scripts/main_job.py)
#   make test   set up .venv and run the test suite
# torch==2.13.0 is installed first on purpose: it is the CPU build on local disk;
# letting a dependency resolve torch freely pulls a multi-GB CUDA build.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup run test bench report clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(PY) scripts/main_job.py $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -q $(ARGS)

bench: $(STAMP)
	$(PY) scripts/bench.py $(ARGS)

report: $(STAMP)
	$(PY) scripts/report.py $(ARGS)

clean:
	rm -rf $(VENV) lightning_logs runs reports
