"""A learner other than the transformer: a featurizer and the model over its features, behind one
interface - fit on the training examples, answer (logits in the task's form), save, load, export.

Its folder holds the featurizer (`features.json`, `ngrams.json`), the model in its library's own
format (`linear.safetensors`, or boosters as LightGBM text / XGBoost JSON) and `member.json`.
Exported, the model becomes one ONNX graph (`<learner>.onnx`); the featurizer stays in Python -
no converter carries string processing - and needs neither PyTorch nor scikit-learn.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith import atomic
from tunesmith.learners.boosted import BoostedTrees
from tunesmith.learners.catalog import CATALOG, LearnerSpec
from tunesmith.learners.features import Featurizer, fit_featurizer, load_featurizer
from tunesmith.learners.linear import LinearModel, onnx_feed
from tunesmith.learners.outputs import Targets

MEMBER_FILE = "member.json"
# L2 strength (scikit-learn's C) by what the linear model reads: TF-IDF rows have unit length
# (C 10 measured best on banking77 and CLAUDETTE among 1, 3, 10, 30), standardised columns do not
STRENGTH = {"ngrams": 10.0, "pair_ngrams": 3.0, "scaled_columns": 1.0}
CHUNK = 2048  # examples featurized at once


class FeatureMember:
    reads_examples = True

    def __init__(self, spec: LearnerSpec, featurizer: Featurizer, model: Any, session: Any = None) -> None:
        self.spec = spec
        self.name = spec.name
        self.featurizer = featurizer
        self.model = model  # LinearModel | BoostedTrees (None when an ONNX session answers)
        self.session = session  # onnxruntime session of the exported model

    @property
    def reads(self) -> tuple[str, ...]:
        return self.featurizer.reads

    # -- answering -----------------------------------------------------------------------------
    def logits(self, examples: Sequence[dict[str, Any]]) -> np.ndarray:
        parts = []
        for start in range(0, len(examples), CHUNK):
            features = self.featurizer.transform(examples[start : start + CHUNK])
            if self.session is not None:
                parts.append(self.session.run(["logits"], onnx_feed(features))[0])
            else:
                parts.append(self.model.logits(features))
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, 0), dtype=np.float32)

    def check(self, example: dict[str, Any]) -> None:
        self.featurizer.check(example)

    # -- fitting -------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        name: str,
        train: Sequence[dict[str, Any]],
        targets: Targets,
        validation: Sequence[dict[str, Any]],
        validation_targets: Targets,
        seed: int,
        folds: list[tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> tuple[FeatureMember, dict[str, Any]]:
        """The learner fitted on `train` (trees stopped on validation, or per fold with `folds`);
        and what happened: seconds, features, out-of-fold logits (`oof`) with folds."""
        spec = CATALOG[name]
        started = time.perf_counter()
        featurizer = fit_featurizer(spec.features, train)
        x = featurizer.transform(train)
        details: dict[str, Any] = {"features": featurizer.describe(), "width": featurizer.width}
        if spec.linear:
            strength = STRENGTH[spec.features]
            balanced = targets.kind == "sigmoid"  # rare labels: each label's positives weigh as much
            model = _fit_linear(x, targets, strength, balanced, folds, details)
            details["strength"] = strength
        else:
            held = (featurizer.transform(validation), validation_targets) if len(validation) else None
            model, fitted = BoostedTrees.fit(
                spec.model, np.asarray(x), targets, held, featurizer.categorical, seed, folds
            )
            details.update({k: v for k, v in fitted.items() if k != "seconds"})
        details["seconds"] = time.perf_counter() - started
        return cls(spec, featurizer, model), details

    # -- files and export ----------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.featurizer.save(folder)
        self.model.save(folder)
        atomic.write_json(folder / MEMBER_FILE, {"learner": self.name, "model": self.spec.model})

    @classmethod
    def load(cls, folder: Path) -> FeatureMember:
        spec = CATALOG[json.loads((folder / MEMBER_FILE).read_text(encoding="utf-8"))["learner"]]
        model = LinearModel.load(folder) if spec.linear else BoostedTrees.load(folder)
        return cls(spec, load_featurizer(folder), model)

    def write_onnx(self, path: Path) -> None:
        graph = (
            self.model.onnx_graph(self.featurizer.sparse)
            if self.spec.linear
            else self.model.onnx_graph(self.featurizer.width)
        )
        atomic.write_bytes(path, graph.SerializeToString())

    @classmethod
    def from_onnx(cls, folder: Path, graph: Path) -> FeatureMember:
        """The member answering through its exported graph (featurizer from `folder`)."""
        spec = CATALOG[json.loads((folder / MEMBER_FILE).read_text(encoding="utf-8"))["learner"]]
        return cls(spec, load_featurizer(folder), None, onnx_session(graph))


def onnx_session(graph: Path) -> Any:
    """An onnxruntime session for a learner's graph: one thread (a few microseconds of work per
    row, which a thread pool's hand-offs would outweigh)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])


def _fit_linear(
    x: Any,
    targets: Targets,
    strength: float,
    balanced: bool,
    folds: list[tuple[np.ndarray, np.ndarray]] | None,
    details: dict[str, Any],
) -> LinearModel:
    """One model on all rows; with folds, one per fold averaged (for a linear model the average of
    the weights answers as the average of the logits), and the out-of-fold logits kept."""
    if not folds:
        return LinearModel.fit(x, targets, strength, balanced)
    models, oof = [], np.zeros((len(targets), targets.width), dtype=np.float32)
    for fit_rows, out_rows in folds:
        model = LinearModel.fit(_take(x, fit_rows), targets.take(fit_rows), strength, balanced)
        oof[out_rows] = model.logits(_take(x, out_rows))
        models.append(model)
    details["oof"] = oof
    details["folds"] = len(folds)
    return LinearModel(
        np.mean([m.weights for m in models], axis=0), np.mean([m.bias for m in models], axis=0)
    )


def _take(x: Any, rows: np.ndarray) -> Any:
    if isinstance(x, np.ndarray):
        return x[rows]
    from tunesmith.data.sparse_rows import SparseRows

    scipy_rows = x.to_scipy()[rows]
    return SparseRows(
        scipy_rows.indptr.astype(np.int64),
        scipy_rows.indices.astype(np.int64),
        scipy_rows.data.astype(np.float32),
        x.width,
    )
