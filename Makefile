# The two commands a newcomer needs: `make demo` and `make test`.
# Both create the virtual environment in .venv and install adcsim into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SAMPLE := samples/music-stereo-44k.wav

.PHONY: demo test test-fast lint typecheck format golden bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p out
	$(BIN)/adcsim quantize $(SAMPLE) --bits 8 --out-dir out --force
	$(BIN)/adcsim quantize $(SAMPLE) --scheme mulaw --bits 8 --rate 8000 --out-dir out --force
	@echo "Audio, JSON reports and plots are in out/"

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# Thousands of seeded header mutations (tests/fuzz; make test runs a few hundred).
fuzz: $(STAMP)
	ADCSIM_FUZZ=$${ADCSIM_FUZZ:-4000} $(BIN)/python -m pytest tests/fuzz -q

lint: $(STAMP)
	$(BIN)/ruff check adcsim tests

typecheck: $(STAMP)
	$(BIN)/mypy adcsim

format: $(STAMP)
	$(BIN)/ruff format adcsim tests

# Rewrites tests/golden/cases/*.json from the current code: review the diff.
golden: $(STAMP)
	$(BIN)/python tests/golden/regenerate.py

bench: $(STAMP)
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
