# sekat: `make reproduce` runs the whole analysis, `make test` tests everything.
# Both build the environment (.venv) from requirements.lock when it is missing or stale.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.sekat-installed
SAMPLE := data/raw/sample_events.csv.gz
# A real city beside the synthetic sample: Boston 311, 2015 (public domain, ODC-PDDL).
BOSTON := data/raw/boston311_2015
BOSTON_OUT := data/processed/boston311
# Real requests need a real pseudonymisation key: one is generated on the first run and kept
# under build/ (never committed), so reruns give the same pseudonyms.
BOSTON_KEY := build/boston311.key

# One BLAS thread per process: the estimators fit many small models, and threaded BLAS on a
# small machine (or beside pytest-xdist workers) makes them many times slower, not faster.
OPENBLAS_NUM_THREADS ?= 1
OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS OMP_NUM_THREADS

.PHONY: all reproduce prepare notebooks boston311 test lint format lab lock sample bench checked-outputs clean

all: reproduce

# The environment: recreated from the lock whenever the lock or pyproject.toml changes.
$(STAMP): requirements.lock pyproject.toml
	@echo "==> creating $(VENV) from requirements.lock"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

venv: $(STAMP)

## reproduce: prepare the shipped data, execute every notebook, export every figure, for the
## synthetic sample (figures/) and for Boston 311 2015 (figures/boston311/)
reproduce: prepare notebooks boston311

PREPARED := data/processed/manifest.json

# The shipped sample is synthetic, so it is pseudonymised with the labelled demo key.
prepare: $(STAMP)
	@echo "==> preparing $(SAMPLE) into data/processed/"
	$(BIN)/sekat prepare $(SAMPLE) --out data/processed --demo-key

$(PREPARED): $(STAMP) $(SAMPLE)
	$(BIN)/sekat prepare $(SAMPLE) --out data/processed --demo-key

notebooks: $(STAMP)
	@echo "==> executing notebooks"
	$(BIN)/python -m toolkit.reproduce --notebooks notebooks --out build/notebooks

## boston311: the real Boston 311 2015 extract, prepared and analysed into figures/boston311/
## (one row per request: hops unobserved, so the analysis and the brief are about time only)
boston311: $(STAMP)
	@echo "==> preparing $(BOSTON) into $(BOSTON_OUT)/"
	@mkdir -p build
	@test -s $(BOSTON_KEY) || (umask 077 && $(BIN)/python -c \
	  "import secrets; print(secrets.token_hex(32))" > $(BOSTON_KEY))
	$(BIN)/sekat prepare $(BOSTON)/*.csv.gz --preset boston311 --key-file $(BOSTON_KEY) \
	  --out $(BOSTON_OUT)
	@echo "==> executing notebooks on Boston 311"
	$(BIN)/python -m toolkit.reproduce --notebooks notebooks --out build/notebooks/boston311 \
	  -p data_dir ../$(BOSTON_OUT) -p output_dir ../figures/boston311 \
	  -p rollout_file "" -p truth_file "" -p holidays US \
	  -p raw_file ../$(BOSTON)/Needle_Pickup.csv.gz -p mapping_file "" -p preset boston311

## test: lint, unit and property tests, doctests, and every notebook under nbval
test: $(STAMP) $(PREPARED)
	$(BIN)/ruff check toolkit tests benchmarks tools
	$(BIN)/python -m pytest -n 2 --dist loadfile tests toolkit notebooks --nbval-lax

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests benchmarks tools
	$(BIN)/ruff format --check toolkit tests benchmarks tools

format: $(STAMP)
	$(BIN)/ruff format toolkit tests benchmarks tools
	$(BIN)/ruff check --fix toolkit tests benchmarks tools

## lab: JupyterLab with the project's environment as the kernel
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

## lock: re-resolve requirements.in into requirements.lock and environment.yml
lock:
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet -r requirements.in
	build/lock-venv/bin/python -m pip freeze --all --exclude-editable \
	  | grep -v -E '^(pip|sekat)==' > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock
	$(PYTHON) tools/sync_environment.py
	rm -rf build/lock-venv

## sample: regenerate the shipped synthetic log (same seed, same bytes)
sample: $(STAMP)
	$(BIN)/sekat simulate --cases 20000 --seed 20261129 --out $(SAMPLE)

## checked-outputs: rerun the notebooks and store the outputs nbval checks (after a change
## that moves a number on purpose; the commit says why)
checked-outputs: $(STAMP) $(PREPARED)
	$(BIN)/python tools/refresh_checked_outputs.py notebooks/[0-9][0-9]_*.ipynb

## bench: speed benchmarks (PM4Py runs in its own environment, .venv-bench)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_paths.py
	$(BIN)/python benchmarks/bench_estimators.py

clean:
	rm -rf $(VENV) .venv-bench build data/processed/*.parquet data/processed/*.json $(BOSTON_OUT)
