# Two commands on a fresh machine:  make run  (set up, run every notebook, write outputs/)
#                                   make test (set up, run the whole test suite)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KERNEL := minning-text

# Keep caches inside the project (not in $HOME or the shared /tmp).
export MPLCONFIGDIR := $(CURDIR)/.cache/matplotlib
export IPYTHONDIR := $(CURDIR)/.cache/ipython
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.DEFAULT_GOAL := help
.PHONY: help setup run test lab lock clean

help: ## Show the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))" >/dev/null
	@mkdir -p $(MPLCONFIGDIR) $(IPYTHONDIR)
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the project with pinned versions (only when needed)

run: setup ## Run every notebook in order (papermill) and write outputs/
	$(BIN)/python -m helpers run

test: setup ## Run the whole test suite
	$(BIN)/python -m pytest

lab: setup ## Open the notebooks in JupyterLab
	$(BIN)/jupyter lab notebooks/

lock: ## Re-pin requirements.lock from the current .venv (after changing dependencies)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v -E '^(pip|setuptools|wheel)==' > requirements.lock

clean: ## Remove generated data and outputs (keeps .venv)
	rm -rf data/processed outputs/notebooks/*.ipynb outputs/tables/*.csv outputs/figures/*.png .cache
