"""Load a run's model once and answer texts: the one inference path for evaluate, CLI and server."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tunesmith.bundle import verify_bundle
from tunesmith.console import progress, quiet_transformers
from tunesmith.errors import BundleError
from tunesmith.recipe import Recipe, load_resolved
from tunesmith.tasks import Task, get_task
from tunesmith.train.stage import LABELS_FILE, MODEL_DIR, TASK_STATE_FILE


class Predictor:
    """A loaded model plus its tokenizer, labels and task."""

    def __init__(
        self, run_dir: Path, recipe: Recipe, task: Task, model: Any, tokenizer: Any, labels: list[str]
    ) -> None:
        self.run_dir = run_dir
        self.recipe = recipe
        self.task = task
        self.model = model
        self.tokenizer = tokenizer
        self.labels = labels
        self._lock = threading.Lock()
        self._model_input: Any = None
        state_file = run_dir / MODEL_DIR / TASK_STATE_FILE
        self.state = json.loads(state_file.read_text(encoding="utf-8")) if state_file.is_file() else None

    @classmethod
    def from_run(cls, run_dir: Path, verify: bool = True) -> Predictor:
        """Load `run_dir/model`; with `verify`, refuse a bundle whose checksums do not match."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        quiet_transformers()
        if verify:
            verify_bundle(run_dir)
        model_dir = run_dir / MODEL_DIR
        if not (model_dir / "config.json").is_file():
            raise BundleError(f"{model_dir}: no trained model; run `tunesmith train {run_dir}`")
        recipe = load_resolved(run_dir)
        trust = recipe.model.trust_remote_code
        labels = json.loads((model_dir / LABELS_FILE).read_text(encoding="utf-8"))
        tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust)
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, trust_remote_code=trust).eval()
        return cls(run_dir, recipe, get_task(recipe.task.type), model, tokenizer, labels)

    @torch.inference_mode()
    def logits(self, texts: Sequence[str], batch_size: int = 64, show: bool = False) -> np.ndarray:
        """Logits in input order; texts are batched by length so padding stays small."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[np.ndarray | None] = [None] * len(texts)
        max_length = self.recipe.model.max_length
        with progress(show=show) as bar:
            job = bar.add_task("predicting", total=len(texts))
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                batch = self.tokenizer(
                    [texts[i] for i in chunk],
                    truncation=True,
                    max_length=max_length,
                    padding=True,
                    return_tensors="pt",
                )
                with self._lock:
                    result = self.model(**batch).logits.float().numpy()
                for row, i in zip(result, chunk, strict=True):
                    out[i] = row
                bar.advance(job, len(chunk))
        return np.stack(out) if out else np.zeros((0, len(self.labels)))

    def predict(self, texts: Sequence[str], batch_size: int = 64, show: bool = False) -> list[dict[str, Any]]:
        """Answers for texts as prepared (cleaned, de-identified), e.g. a run's own test split."""
        if not texts:
            return []
        return self.task.decode(self.logits(texts, batch_size, show), self.labels, self.state)

    def model_input(self, texts: Sequence[str]) -> list[str]:
        """Raw texts from a user, cleaned and de-identified as the training data was."""
        if self._model_input is None:
            from tunesmith.data.model_input import ModelInput

            self._model_input = ModelInput(self.recipe)
        return self._model_input(texts)

    def predict_raw(
        self, texts: Sequence[str], batch_size: int = 64, show: bool = False
    ) -> list[dict[str, Any]]:
        """Answers for raw texts from a user (see `model_input`)."""
        return self.predict(self.model_input(texts), batch_size, show)
