# Two commands on a fresh machine:  make run  (set up, run every notebook, write outputs/)
#                                   make test (set up, run the fast tests: under a minute)
# make test-all runs every test, the notebook runs and slow ones (markers "notebooks", "slow") too;
# CI (.ci/run) runs make test-all and make lint.
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
.PHONY: help setup run test test-all lint lab hooks lock clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))" >/dev/null
	@mkdir -p $(MPLCONFIGDIR) $(IPYTHONDIR)
	@$(MAKE) --no-print-directory hooks
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the project with pinned versions (only when needed)

run: setup ## Run the notebooks in order, skipping up-to-date ones; outputs/ (ARGS=--force: all)
	$(BIN)/python -m helpers run $(ARGS)

test: setup ## Run the fast tests: not the notebook runs, nothing slow (ARGS: pytest options)
	$(BIN)/python -m pytest -m "not notebooks and not slow" $(ARGS)

test-all: setup ## Run every test, notebook runs and slow ones included (what CI runs)
	$(BIN)/python -m pytest $(ARGS)

lint: setup ## Check style: ruff check and ruff format --check (src, tests, benchmarks)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

lab: setup ## Open the notebooks in JupyterLab (adds --allow-root when run as root, with a note)
	@if [ "$$(id -u)" = 0 ]; then \
	  echo "note: running as root (a container?): starting JupyterLab with --allow-root"; \
	  $(BIN)/jupyter lab --allow-root notebooks/; \
	else \
	  $(BIN)/jupyter lab notebooks/; \
	fi

# .gitattributes sends notebooks through the filter "nbstripout": outputs and execution counts are
# removed when a notebook is committed (the file on disk keeps them). git keeps filter commands in the
# clone's own config, so setup writes them there; without git (a downloaded archive) nothing to do.
hooks: ## Strip notebook outputs on commit (git filter nbstripout; done by setup)
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git config filter.nbstripout.clean '"$(CURDIR)/$(BIN)/python" -m nbstripout --keep-id' && \
	  git config filter.nbstripout.smudge cat && \
	  git config diff.ipynb.textconv '"$(CURDIR)/$(BIN)/python" -m nbstripout -t --keep-id' && \
	  echo "git filter nbstripout set up: notebooks are committed without outputs"; \
	fi

lock: ## Re-pin requirements.lock from the current .venv (after changing dependencies)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v -E '^(pip|setuptools|wheel)==' > requirements.lock

# Everything make run writes (pipeline.yaml's writes: processed_dir, tables_dir, figures_dir,
# report_dir; the executed notebooks and the manifest) and the caches. Never data/raw or other inputs.
clean: ## Remove what make run writes (data/processed, outputs/, .cache; keeps .venv and data/raw)
	rm -rf data/processed outputs/report outputs/extra outputs/manifest.json .cache
	find outputs/notebooks outputs/tables outputs/figures -type f ! -name .gitkeep -delete
