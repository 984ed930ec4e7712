"""Gradient-boosted trees (LightGBM) on a table's raw columns: the model tables of numbers and
categories usually want.

Saved as LightGBM's own text model (`trees/model.txt`: split features, thresholds and leaf values,
no code and no pickle) beside the column table (`trees/features.json`). Boosting stops when the
validation score has not improved for 50 rounds; the model keeps the best round.

A loaded `Trees` answers like an export engine: features in, `logits` out (raw boosting scores,
whose softmax is each label's probability), so the task's calibration, thresholds and decoding
treat them as they treat a transformer's logits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.tasks.base import ModelEngine
from tunesmith.tasks.tabular_features import ColumnTable

TREES_DIR = "trees"
MODEL_FILE = "model.txt"
FEATURES_FILE = "features.json"
MAX_ROUNDS = 2000
PATIENCE = 50
LEARNING_RATE = 0.05


SMALL = 100_000  # rows under which one thread boosts fastest


def _threads(rows: int | None = None) -> int:
    """LightGBM's threads: one for a small table (a thread pool's start-up and waiting per round
    outweighs the work: 200 rounds on 480 rows took 0.02 s on one thread, 0.34 s on two), else
    the cores PyTorch would use."""
    if rows is not None and rows < SMALL:
        return 1
    from tunesmith.threads import compute_threads

    return compute_threads()


class PeakMemory:
    """The process's largest resident memory above its level at the start, sampled every 20 ms
    while the block runs (LightGBM allocates in C++, where tracemalloc does not look)."""

    def __enter__(self) -> PeakMemory:
        import psutil

        self._process = psutil.Process()
        self.start = self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def added_bytes(self) -> int:
        return int(self.peak - self.start)


class Trees(ModelEngine):
    """A fitted LightGBM booster with its column table and label names."""

    name = "lightgbm"

    def __init__(self, booster: Any, table: ColumnTable, labels: list[str]) -> None:
        self.booster = booster
        self.table = table
        self.labels = labels

    # -- answering, as an engine ---------------------------------------------------------------
    def margins(self, features: np.ndarray) -> np.ndarray:
        """(rows, labels) raw scores whose softmax is each label's probability; features are the
        float32 values the ONNX export reads. Binary boosting scores one margin s for the second
        label: [-s/2, s/2] has softmax [1 - sigmoid(s), sigmoid(s)]."""
        # one thread: answering a batch of rows is microseconds of work per tree
        raw = np.asarray(
            self.booster.predict(np.asarray(features, dtype=np.float32), raw_score=True, num_threads=1),
            dtype=np.float64,
        )
        return np.column_stack([-raw / 2, raw / 2]) if raw.ndim == 1 else raw

    def __call__(self, tensors: Mapping[str, Any]) -> dict[str, np.ndarray]:
        return {"logits": self.margins(tensors["features"]).astype(np.float32)}

    # -- fitting -------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        train_rows: Sequence[dict[str, Any]],
        train_labels: Sequence[str],
        validation_rows: Sequence[dict[str, Any]],
        validation_labels: Sequence[str],
        labels: list[str],
        seed: int,
    ) -> tuple[Trees, dict[str, Any]]:
        """Trees fitted on the training rows, boosting stopped on validation; and what happened
        (rounds, seconds, added memory, the columns read and left out)."""
        import lightgbm as lgb

        table = ColumnTable.fit(train_rows)
        index = {label: i for i, label in enumerate(labels)}
        binary = len(labels) == 2
        params: dict[str, Any] = {
            "objective": "binary" if binary else "multiclass",
            # boosting stops on the log loss (smooth, where PR-AUC on a few validation positives
            # jumps); PR-AUC is recorded beside it for the curves
            "metric": ["binary_logloss", "average_precision"] if binary else ["multi_logloss"],
            "learning_rate": LEARNING_RATE,
            "num_leaves": 31,
            "min_data_in_leaf": 20,
            "feature_fraction": 0.9,
            "seed": seed,
            "deterministic": True,
            "num_threads": _threads(len(train_rows)),
            "verbose": -1,
        }
        if not binary:
            params["num_class"] = len(labels)
        started = time.perf_counter()
        with PeakMemory() as memory:
            train = lgb.Dataset(
                table.features(train_rows),
                np.asarray([index[str(y)] for y in train_labels]),
                feature_name=[f"f{i}" for i in range(len(table.feature_names))],
                categorical_feature=table.categorical,
                free_raw_data=False,
            )
            sets, callbacks, history = [], [], {}  # type: ignore[var-annotated]
            known = [i for i, y in enumerate(validation_labels) if str(y) in index]
            if known:
                rows = [validation_rows[i] for i in known]
                truth = np.asarray([index[str(validation_labels[i])] for i in known])
                sets.append(lgb.Dataset(table.features(rows), truth, reference=train))
                callbacks += [
                    lgb.early_stopping(PATIENCE, first_metric_only=True, verbose=False),
                    lgb.record_evaluation(history),
                ]
            booster = lgb.train(params, train, MAX_ROUNDS, valid_sets=sets, callbacks=callbacks)
        rounds = booster.best_iteration or booster.current_iteration()
        booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=rounds))
        fitted = {
            "rounds": int(rounds),
            "early_stopped": bool(known) and rounds < MAX_ROUNDS,
            "train_seconds": time.perf_counter() - started,
            "added_memory_bytes": memory.added_bytes,
            "features": table.feature_names,
            "columns": table.describe(),
            "left_out": table.left_out,
        }
        names = {"average_precision": "PR-AUC", "binary_logloss": "log loss", "multi_logloss": "log loss"}
        fitted["curves"] = {
            names.get(metric, metric): list(enumerate(values, start=1))
            for metric, values in history.get("valid_0", {}).items()
        }
        return cls(booster, table, labels), fitted

    # -- files ---------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        from tunesmith import atomic

        folder.mkdir(parents=True, exist_ok=True)
        atomic.write_text(folder / MODEL_FILE, self.booster.model_to_string())
        self.table.save(folder / FEATURES_FILE)

    @classmethod
    def load(cls, folder: Path, labels: list[str]) -> Trees:
        import lightgbm as lgb

        booster = lgb.Booster(model_str=(folder / MODEL_FILE).read_text(encoding="utf-8"))
        return cls(booster, ColumnTable.load(folder / FEATURES_FILE), labels)

    # -- export --------------------------------------------------------------------------------
    def write_onnx(self, path: Path) -> None:
        """The trees as an ONNX TreeEnsemble (onnxmltools' LightGBM converter): `features` in, the
        raw scores out as `logits`, as `margins` gives them (the converter's sigmoid or softmax is
        turned off: a probability near 0 or 1 in float32 loses the digits a log needs)."""
        import onnx
        from onnx import TensorProto, helper
        from onnxmltools import convert_lightgbm
        from onnxmltools.convert.common.data_types import FloatTensorType

        converted = convert_lightgbm(
            self.booster,
            initial_types=[("features", FloatTensorType([None, len(self.table.feature_names)]))],
            target_opset=15,
            zipmap=False,
        )
        graph = converted.graph
        for node in graph.node:
            for attribute in node.attribute:
                if node.op_type.startswith("TreeEnsemble") and attribute.name == "post_transform":
                    attribute.s = b"NONE"  # binary: [-s, s]; several labels: one raw score each
        scores = next(o.name for o in graph.output if o.name != "label")
        half = helper.make_tensor("half", TensorProto.FLOAT, [], [0.5 if len(self.labels) == 2 else 1.0])
        graph.initializer.append(half)
        graph.node.append(helper.make_node("Mul", [scores, "half"], ["logits"]))
        del graph.output[:]
        graph.output.append(
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, len(self.labels)])
        )
        onnx.checker.check_model(converted)
        path.write_bytes(converted.SerializeToString())
