"""Load a run's model once and answer examples: the one inference path for evaluate, CLI and server.

An example is a dict of the task's inputs (`text`, and `text_pair` for two-text tasks); a plain
string is the example `{"text": string}`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.bundle import LABELS_FILE, MODEL_DIR, TASK_STATE_FILE, verify_bundle
from tunesmith.console import quiet_transformers
from tunesmith.data.fields import row_columns
from tunesmith.errors import BundleError, TunesmithError
from tunesmith.learners.ensemble import LearnersSpec
from tunesmith.recipe import Recipe, load_resolved
from tunesmith.runtime.engines import Engine, TorchEngine
from tunesmith.runtime.parity import token_batches
from tunesmith.tasks import Task, get_task
from tunesmith.tasks.base import ModelEngine

Example = dict[str, Any]


class InvalidExample(TunesmithError):
    """An input that lacks a field the task needs."""


def as_examples(items: Sequence[str | Example], task: Task) -> list[Example]:
    """Normalise inputs to example dicts holding exactly the task's input fields that are given.

    `text` is required; `text_pair` is required by a task that always reads two texts (QA), and
    optional for matching (without it, the answer is the top-k of the knowledge base). A task that
    reads a table's columns (tabular) also takes `record`: a raw row, its columns by name, which
    `Predictor.model_input` turns into the row's text and columns as prepare did."""
    examples = []
    takes_rows = "columns" in task.inputs
    for position, item in enumerate(items):
        example = {"text": item} if isinstance(item, str) else dict(item)
        if takes_rows and "record" in example:
            if not isinstance(example["record"], dict) or not example["record"]:
                raise InvalidExample(f"input {position}: 'record' must be an object of the row's columns")
            examples.append({"record": example["record"]})
            continue
        if not isinstance(example.get("text"), str) or not example["text"].strip():
            wanted = "'text' (or 'record', the row's columns)" if takes_rows else "'text'"
            raise InvalidExample(f"input {position}: {wanted} is missing or empty")
        kept = {k: example[k] for k in task.inputs if k in example and example[k] is not None}
        if getattr(task, "pair_required", False) and not isinstance(kept.get("text_pair"), str):
            raise InvalidExample(
                f"input {position}: 'text_pair' is missing (a {task.type} model reads two texts)"
            )
        for key, value in kept.items():
            if not isinstance(value, dict if key == "columns" else str):
                raise InvalidExample(
                    f"input {position}: '{key}' must be {'an object' if key == 'columns' else 'a string'}"
                )
        examples.append(kept)
    return examples


def example_text(example: Example) -> str:
    """The example's text, or a raw row as JSON: what logs and length-aware batching read."""
    if "text" in example:
        return str(example["text"]) + str(example.get("text_pair") or "")
    return json.dumps(example.get("record") or example.get("columns"), ensure_ascii=False, default=str)


def _need_torch(run_dir: Path, wanted: str) -> None:
    """A slim install (no PyTorch) answers only with a proven export: say how to get one."""
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        return
    if wanted == "torch":
        raise BundleError(
            "--backend torch needs PyTorch, which this slim install lacks: leave --backend out to "
            "answer with the run's proven ONNX export, or pip install 'tunesmith[train]'"
        )
    raise BundleError(
        f"{run_dir}: no proven ONNX export to answer with, and PyTorch is not installed (a slim "
        f"install): export it with `tunesmith export {run_dir} --format onnx` where "
        "tunesmith[train] is installed, or pip install 'tunesmith[train]' here"
    )


def _hf_tokenizer(model_dir: Path, trust_remote_code: bool) -> Any:
    from transformers import AutoTokenizer

    quiet_transformers()
    return AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)


class Predictor:
    """A loaded model plus its tokenizer, labels and task (implements `tasks.base.Runtime`)."""

    def __init__(
        self,
        run_dir: Path,
        recipe: Recipe,
        task: Task,
        model: Any,
        tokenizer: Any,
        labels: list[str],
        model_dir: Path | None = None,
        engine: Engine | None = None,
        extras: dict[str, np.ndarray] | None = None,
    ) -> None:
        """`model`: the PyTorch model (None when an export answers); `engine`: what runs the task's
        inference graph (default: `model` in eager PyTorch)."""
        self.run_dir = run_dir
        self.recipe = recipe
        self.task = task
        self.model = model
        self.tokenizer = tokenizer
        self.labels = labels
        self.model_dir = model_dir or run_dir / MODEL_DIR
        if engine is None and isinstance(model, ModelEngine):  # trees answer as an engine would
            engine = model
        elif engine is None and model is not None and task.graph_outputs:
            engine = TorchEngine(task.inference_graph(model), task.graph_outputs)
        self.engine = engine
        self.backend = engine.name if engine is not None else "torch"
        self.reads_examples = bool(getattr(engine, "reads_examples", False))
        self.extras = extras or {}
        self.cache: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._model_input: Any = None
        state_file = self.model_dir / TASK_STATE_FILE
        self.state = json.loads(state_file.read_text(encoding="utf-8")) if state_file.is_file() else None

    @classmethod
    def from_run(cls, run_dir: Path, verify: bool = True, backend: str = "torch") -> Predictor:
        """Load the run's model on `backend` (torch, an export such as onnx-int8, or auto: the
        fastest proven export); with `verify`, refuse a bundle whose checksums do not match."""
        from tunesmith.runtime.backend import choose_backend, open_export
        from tunesmith.runtime.formats import FORMATS
        from tunesmith.runtime.learners import bundle_spec
        from tunesmith.runtime.tokenizer import plain_tokenizer

        if verify:
            verify_bundle(run_dir)
        model_dir = run_dir / MODEL_DIR
        if not (model_dir / LABELS_FILE).is_file():
            raise BundleError(f"{model_dir}: no trained model; run `tunesmith train {run_dir}`")
        recipe = load_resolved(run_dir)
        trust = recipe.model.trust_remote_code
        task = get_task(recipe.task)
        labels = json.loads((model_dir / LABELS_FILE).read_text(encoding="utf-8"))
        # a transformer's bundle holds its tokenizer; other learners read n-grams or columns, not
        # tokens. An export answers with the `tokenizers` library alone where the task only needs
        # plain token ids, so the process imports neither transformers nor PyTorch.
        has_tokenizer = (model_dir / "tokenizer_config.json").is_file()
        # (a tokenizer with remote code is transformers' to load)
        plain = plain_tokenizer(model_dir) if has_tokenizer and task.plain_tokens and not trust else None
        hf_tokenizer = None if plain is not None or not has_tokenizer else _hf_tokenizer(model_dir, trust)
        chosen = choose_backend(run_dir, task, backend, plain or hf_tokenizer)
        spec = bundle_spec(model_dir) if task.learner_outputs else None
        if spec is not None and not spec.transformer_only:
            return cls._learners(
                run_dir, recipe, task, labels, spec, chosen, backend, verify, plain, hf_tokenizer
            )
        if chosen == "torch":
            _need_torch(run_dir, backend)
            tokenizer = (hf_tokenizer or _hf_tokenizer(model_dir, trust)) if has_tokenizer else None
            return cls(run_dir, recipe, task, task.load_model(model_dir, trust), tokenizer, labels)
        engine, extras = open_export(run_dir, chosen, task, verify)
        if plain is None or FORMATS[chosen].runtime != "onnxruntime":  # TorchScript: PyTorch's tokens
            plain = hf_tokenizer or (_hf_tokenizer(model_dir, trust) if has_tokenizer else None)
        return cls(run_dir, recipe, task, None, plain, labels, engine=engine, extras=extras)

    @classmethod
    def _learners(
        cls,
        run_dir: Path,
        recipe: Recipe,
        task: Task,
        labels: list[str],
        spec: LearnersSpec,
        chosen: str,
        wanted: str,
        verify: bool,
        plain: Any,
        hf_tokenizer: Any,
    ) -> Predictor:
        """A bundle of learners (one of them, or an ensemble): each member on `chosen`."""
        from tunesmith.runtime.backend import check_export_files
        from tunesmith.runtime.formats import export_dir
        from tunesmith.runtime.learners import load_learners

        model_dir = run_dir / MODEL_DIR
        tokenizer = None
        if spec.with_transformer:
            if chosen == "torch":
                _need_torch(run_dir, wanted)
                tokenizer = hf_tokenizer or _hf_tokenizer(model_dir, recipe.model.trust_remote_code)
            else:
                tokenizer = plain or hf_tokenizer
        if chosen != "torch" and verify:
            check_export_files(run_dir, chosen)
        export = None if chosen == "torch" else (chosen, export_dir(run_dir, chosen))
        engine = load_learners(model_dir, spec, task, recipe, labels, tokenizer, export)
        return cls(
            run_dir, recipe, task, engine if chosen == "torch" else None, tokenizer, labels, engine=engine
        )

    def on_engine(self, engine: Engine, extras: dict[str, np.ndarray] | None = None) -> Predictor:
        """The same run answering through another engine (an export being proven)."""
        return Predictor(
            self.run_dir,
            self.recipe,
            self.task,
            None,
            self.tokenizer,
            self.labels,
            self.model_dir,
            engine,
            extras,
        )

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield

    def infer(self, tensors: Mapping[str, Any]) -> dict[str, np.ndarray]:
        if self.engine is None:
            raise TunesmithError(f"a {self.task.type} model generates text; it has no one-pass graph")
        with self.locked():
            return self.engine(tensors)

    def engine_batches(self, examples: Sequence[Example], batch_size: int) -> list[dict[str, Any]]:
        """The inputs of the engine for prepared examples, `batch_size` at a time: token batches,
        or what the task's own engine reads (the trees' features)."""
        if self.reads_examples:
            return [
                {"examples": list(examples[i : i + batch_size])} for i in range(0, len(examples), batch_size)
            ]
        return token_batches(self.tokenizer, examples, self.recipe.model.max_length, batch_size)

    def outputs(self, items: Sequence[str | Example], batch_size: int = 64, show: bool = False) -> Any:
        """The task's raw outputs (logits for a classifier) for prepared examples, in input order."""
        return self.task.outputs(self, as_examples(items, self.task), batch_size, show)

    def predict(
        self, items: Sequence[str | Example], batch_size: int = 64, show: bool = False
    ) -> list[dict[str, Any]]:
        """Answers for examples as prepared (cleaned, de-identified), e.g. a run's own test split."""
        if not items:
            return []
        examples = as_examples(items, self.task)
        outputs = self.task.outputs(self, examples, batch_size, show)
        return self.task.decode(outputs, examples, self.labels, self.state)

    def _inputs(self) -> Any:
        if self._model_input is None:
            from tunesmith.data.model_input import ModelInput

            self._model_input = ModelInput(self.recipe)
        return self._model_input

    def model_input(self, items: Sequence[str | Example]) -> list[Example]:
        """Raw examples from a user, every input field cleaned and de-identified as the training
        data was; a raw row (`record`) becomes its text and columns as prepare made them."""
        convert = self._inputs()
        seen = []
        for position, example in enumerate(as_examples(items, self.task)):
            if "record" in example:
                self._check_row(position, example["record"])
                seen.append(convert.row(example["record"]))
            else:
                seen.append({key: convert([value])[0] for key, value in example.items()})
        return seen

    @property
    def reads_rows(self) -> bool:
        """The model reads a record's fields (trees, column learners), not only its text."""
        if "columns" not in self.task.inputs:
            return False
        reads = getattr(self.engine, "reads", None)
        return "columns" in reads if reads is not None else self.tokenizer is None

    def _check_row(self, position: int, record: dict[str, Any]) -> None:
        missing = self._inputs().missing_column(record)
        if missing is not None:
            raise InvalidExample(
                f"input {position}: the row lacks column '{missing}' (the model reads "
                f"{', '.join(self._inputs().row_columns())})"
            )
        check = getattr(self.engine, "check", None)
        if check is not None:
            try:
                check({"columns": row_columns(record, self.recipe.data.text_template or "")})
            except ValueError as error:
                raise InvalidExample(f"input {position}: {error}") from None

    def check(self, items: Sequence[str | Example]) -> None:
        """Raise InvalidExample for an input the model cannot answer, before it joins a batch: a
        missing field, a row without a column the model reads, text sent to trees, a text over
        the length limit when the recipe refuses those (`serve.long_inputs`)."""
        examples = as_examples(items, self.task)
        if self.reads_rows and any("record" not in e for e in examples):
            raise InvalidExample(
                "this model reads a record's fields (columns, lists, objects): send 'record' (or "
                "'records') with the fields by name, not text"
            )
        for position, example in enumerate(examples):
            if "record" in example:
                self._check_row(position, example["record"])
        if self.recipe.serve.long_inputs == "refuse" and self.tokenizer is not None:
            limit = self.recipe.model.max_length
            for position, example in enumerate(examples):
                if "text" not in example:
                    continue
                tokens = len(self.tokenizer(example["text"], add_special_tokens=False)["input_ids"])
                if tokens > limit:
                    raise InvalidExample(
                        f"input {position}: the text is {tokens} tokens; this model reads at most {limit} "
                        "(model.max_length) and its recipe refuses longer ones (serve.long_inputs: "
                        "refuse): send a shorter text"
                    )

    def predict_raw(
        self, items: Sequence[str | Example], batch_size: int = 64, show: bool = False
    ) -> list[dict[str, Any]]:
        """Answers for raw examples from a user (see `model_input`); InvalidExample for one the
        model cannot answer."""
        self.check(items)
        return self.predict(self.model_input(items), batch_size, show)
