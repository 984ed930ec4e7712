"""Trees over rows of numbers: LightGBM in four settings and XGBoost.

The settings follow AutoGluon's tree models: `lightgbm` (31 leaves, rate 0.05), `lightgbm_xt`
(extremely randomised split points, less variance), `lightgbm_large` (128 leaves, rate 0.03, for
larger tables), `lightgbm_rf` (a random forest: 300 deep trees a class - fewer past four classes -
each on a bootstrap-sized share of the rows and 30% of the columns at each split, averaged; on
small tables it beats boosting: MuZhi, 15 cross-validated fits, accuracy 0.70 against 0.65) and
`xgboost` (depth 6, rate 0.1). Boosting stops when the held-out score has not improved for 50
rounds; a forest grows all its trees. On a small table (`folds` > 1) one model is fitted per fold,
each stopped on its own held-out fold, and their scores are averaged: bagging, and out-of-fold
scores for every training row that calibration can use.

Each booster is kept in its library's own text format (LightGBM's `model.txt`, XGBoost's JSON):
split features, thresholds, leaf values, no code and no pickle. A model answers with raw margins
as logits (binary: [-s/2, s/2], whose softmax is [1 - sigmoid(s), sigmoid(s)]); the ONNX graph is
onnxmltools' TreeEnsemble per booster with the probability transform turned off, averaged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.learners.outputs import Targets

MAX_ROUNDS = 3000
PATIENCE = 50
SMALL = 100_000  # rows under which one thread boosts fastest
SETTINGS_FILE = "boosted.json"

LIGHTGBM_SETTINGS: dict[str, dict[str, Any]] = {
    "lightgbm": {"learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20, "feature_fraction": 0.9},
    "lightgbm_xt": {
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_data_in_leaf": 20,
        "feature_fraction": 0.9,
        "extra_trees": True,
    },
    "lightgbm_large": {
        "learning_rate": 0.03,
        "num_leaves": 128,
        "min_data_in_leaf": 3,
        "feature_fraction": 0.9,
    },
    "lightgbm_rf": {
        "boosting": "rf",
        "num_leaves": 255,
        "min_data_in_leaf": 1,
        "min_sum_hessian_in_leaf": 1e-5,
        "bagging_fraction": 0.632,  # the share of distinct rows in a bootstrap sample
        "bagging_freq": 1,
        "feature_fraction_bynode": 0.3,
    },
}
FOREST_TREES = 300  # trees of a forest (per class), as AutoGluon's random forest
# ... and at most this many in all classes together, down to 50 per class: a 40-class forest of
# 300 per class, bagged over 5 folds, took 141 s and a 144 MB ONNX graph on 1,500 rows
FOREST_TOTAL = 1200
FOREST_FEWEST = 50
XGBOOST_SETTINGS: dict[str, Any] = {"eta": 0.1, "max_depth": 6, "min_child_weight": 1.0, "subsample": 1.0}


def _threads(rows: int) -> int:
    """One thread for a small table (a pool's start-up and waiting per round outweigh the work:
    200 rounds on 480 rows took 0.02 s on one thread, 0.34 s on two), else the compute budget."""
    if rows < SMALL:
        return 1
    from tunesmith.threads import compute_threads

    return compute_threads()


@dataclass
class Booster:
    """One fitted booster of either library."""

    library: str  # lightgbm | xgboost
    model: Any

    @property
    def forest_trees(self) -> int:
        """Trees per class of a LightGBM random forest, 0 for boosting. LightGBM answers a
        forest's raw score as the sum of its trees (its probabilities use their mean); `margins`
        and the ONNX graph divide by this."""
        if self.library != "lightgbm" or self.model.params.get("boosting") != "rf":
            return 0
        return int(self.model.current_iteration())

    def margins(self, features: np.ndarray) -> np.ndarray:
        x = np.asarray(features, dtype=np.float32)
        if self.library == "lightgbm":
            raw = self.model.predict(x, raw_score=True, num_threads=1)
            trees = self.forest_trees
            if trees:
                raw = raw / trees
        else:
            import xgboost as xgb

            raw = self.model.predict(xgb.DMatrix(x, nthread=1), output_margin=True)
        return np.asarray(raw, dtype=np.float64)

    def text(self) -> str:
        if self.library == "lightgbm":
            return str(self.model.model_to_string())
        return bytes(self.model.save_raw(raw_format="json")).decode("utf-8")

    @classmethod
    def from_text(cls, library: str, text: str) -> Booster:
        if library == "lightgbm":
            import lightgbm as lgb

            return cls(library, lgb.Booster(model_str=text))
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(bytearray(text.encode("utf-8")))
        return cls(library, booster)


class BoostedTrees:
    """One booster, or one per fold averaged; answers raw margins as the task's logits."""

    def __init__(self, setting: str, boosters: list[Booster], kind: str, outputs: int) -> None:
        self.setting = setting
        self.boosters = boosters
        self.kind = kind  # softmax | value
        self.outputs = outputs

    def logits(self, features: np.ndarray) -> np.ndarray:
        total = sum(b.margins(features) for b in self.boosters) / len(self.boosters)
        raw = np.asarray(total, dtype=np.float64)
        if raw.ndim == 1:
            raw = raw[:, None] if self.kind == "value" else np.column_stack([-raw / 2, raw / 2])
        return raw.astype(np.float32)

    # -- fitting -------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        setting: str,
        features: np.ndarray,
        targets: Targets,
        held_out: tuple[np.ndarray, Targets] | None,
        categorical: Sequence[int],
        seed: int,
        folds: list[tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> tuple[BoostedTrees, dict[str, Any]]:
        """Fit on `features`; stop on `held_out` (validation) - or, with `folds`, one model per
        fold stopped on its held-out part. Returns the model and what happened, with the
        out-of-fold logits (`oof`) when folds were used."""
        if targets.kind == "sigmoid":
            raise ValueError("boosted trees answer one label or a number, not several labels")
        started = time.perf_counter()
        x = np.asarray(features, dtype=np.float32)
        boosters, rounds, curves = [], [], {}
        oof = None
        if folds:
            oof = np.zeros((len(x), targets.width), dtype=np.float32)
            for fit_rows, out_rows in folds:
                booster, used, _ = _fit_one(
                    setting,
                    x[fit_rows],
                    targets.take(fit_rows),
                    (x[out_rows], targets.take(out_rows)),
                    categorical,
                    seed,
                )
                boosters.append(booster)
                rounds.append(used)
                single = cls(setting, [booster], targets.kind, targets.width)
                oof[out_rows] = single.logits(x[out_rows])
        else:
            known = held_out if held_out is not None and len(held_out[1]) else None
            booster, used, curves = _fit_one(setting, x, targets, known, categorical, seed)
            boosters.append(booster)
            rounds.append(used)
        model = cls(setting, boosters, targets.kind, targets.width)
        fitted: dict[str, Any] = {
            "rounds": rounds,
            "seconds": time.perf_counter() - started,
            "curves": curves,
        }
        if oof is not None:
            fitted["oof"] = oof
        return model, fitted

    # -- files ---------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        from tunesmith import atomic

        folder.mkdir(parents=True, exist_ok=True)
        suffix = "txt" if self.boosters[0].library == "lightgbm" else "json"
        names = []
        for i, booster in enumerate(self.boosters):
            name = f"booster_{i}.{suffix}"
            atomic.write_text(folder / name, booster.text())
            names.append(name)
        atomic.write_json(
            folder / SETTINGS_FILE,
            {
                "setting": self.setting,
                "library": self.boosters[0].library,
                "kind": self.kind,
                "outputs": self.outputs,
                "boosters": names,
            },
        )

    @classmethod
    def load(cls, folder: Path) -> BoostedTrees:
        spec = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
        boosters = [
            Booster.from_text(spec["library"], (folder / name).read_text(encoding="utf-8"))
            for name in spec["boosters"]
        ]
        return cls(spec["setting"], boosters, spec["kind"], spec["outputs"])

    def onnx_graph(self, width: int) -> Any:
        """`features` (rows of `width` numbers) -> `logits`, as `logits` computes them."""
        from onnx import TensorProto, checker, compose, helper

        parts = [_booster_graph(b, width, self.kind, self.outputs) for b in self.boosters]
        nodes, initializers, opsets = [], [], {"": 15}
        summed = []
        for i, part in enumerate(parts):
            prefixed = compose.add_prefix(part, f"b{i}_", rename_inputs=False)
            nodes.extend(prefixed.graph.node)
            initializers.extend(prefixed.graph.initializer)
            summed.append(prefixed.graph.output[0].name)
            for opset in prefixed.opset_import:
                opsets[opset.domain] = max(opsets.get(opset.domain, 0), opset.version)
        share = helper.make_tensor("share", TensorProto.FLOAT, [], [1.0 / len(parts)])
        initializers.append(share)
        nodes.append(helper.make_node("Sum", summed, ["total"]))
        nodes.append(helper.make_node("Mul", ["total", "share"], ["logits"]))
        graph = helper.make_graph(
            nodes,
            "boosted_trees",
            [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, width])],
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, self.outputs])],
            initializers,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()])
        model.ir_version = 8
        checker.check_model(model)
        return model


def _fit_one(
    setting: str,
    x: np.ndarray,
    targets: Targets,
    held_out: tuple[np.ndarray, Targets] | None,
    categorical: Sequence[int],
    seed: int,
) -> tuple[Booster, int, dict[str, list[tuple[int, float]]]]:
    """One booster; (booster, rounds kept, validation curve per metric)."""
    known = np.ones(len(targets), dtype=bool) if targets.kind == "value" else targets.y >= 0
    x, y = x[known], targets.y[known]
    stop = None
    if held_out is not None:
        hx, ht = held_out
        keep = np.ones(len(ht), dtype=bool) if ht.kind == "value" else ht.y >= 0
        if keep.any():
            stop = (np.asarray(hx, dtype=np.float32)[keep], ht.y[keep])
    if setting == "xgboost":
        return _fit_xgboost(x, y, targets, stop, seed)
    return _fit_lightgbm(setting, x, y, targets, stop, categorical, seed)


def _objective(targets: Targets) -> tuple[str, int]:
    """(kind of objective, classes): binary, multiclass or regression."""
    if targets.kind == "value":
        return "regression", 1
    return ("binary", 2) if targets.width == 2 else ("multiclass", targets.width)


def _fit_lightgbm(
    setting: str,
    x: np.ndarray,
    y: np.ndarray,
    targets: Targets,
    stop: tuple[np.ndarray, np.ndarray] | None,
    categorical: Sequence[int],
    seed: int,
) -> tuple[Booster, int, dict[str, list[tuple[int, float]]]]:
    import lightgbm as lgb

    objective, classes = _objective(targets)
    metric = {"binary": "binary_logloss", "multiclass": "multi_logloss", "regression": "l2"}[objective]
    params: dict[str, Any] = {
        **LIGHTGBM_SETTINGS[setting],
        "objective": objective,
        "metric": metric,
        "seed": seed,
        "deterministic": True,
        "num_threads": _threads(len(x)),
        "verbose": -1,
    }
    if objective == "multiclass":
        params["num_class"] = classes
    train = lgb.Dataset(x, y, categorical_feature=list(categorical), free_raw_data=False)
    sets, callbacks, history = [], [], {}  # type: ignore[var-annotated]
    forest = params.get("boosting") == "rf"
    if stop is not None and not forest:
        sets.append(lgb.Dataset(stop[0], stop[1], reference=train))
        callbacks += [lgb.early_stopping(PATIENCE, verbose=False), lgb.record_evaluation(history)]
    rounds_at_most = trees_per_class(classes) if forest else MAX_ROUNDS if stop is not None else 200
    booster = lgb.train(params, train, rounds_at_most, valid_sets=sets, callbacks=callbacks)
    rounds = booster.best_iteration or booster.current_iteration()
    kept = lgb.Booster(model_str=float32_thresholds(booster.model_to_string(num_iteration=rounds)))
    curves = {
        "log loss" if "logloss" in name else name: list(enumerate(values, start=1))
        for name, values in history.get("valid_0", {}).items()
    }
    return Booster("lightgbm", kept), int(rounds), curves


def trees_per_class(classes: int) -> int:
    """Trees per class of a forest to grow: FOREST_TREES, fewer where many classes would make it
    slow."""
    return max(FOREST_FEWEST, min(FOREST_TREES, FOREST_TOTAL // max(classes, 1)))


def float32_thresholds(model: str) -> str:
    """A LightGBM model whose split thresholds are the largest float32 at or below the ones it
    learned: on float32 features it decides exactly as before, and its ONNX graph, whose
    thresholds are float32, decides alike. (A threshold halfway between two float32 values, as
    LightGBM places them, rounds up to the upper one in float32, which then goes left in the graph
    and right in LightGBM: measured on Sparkov, logits 0.09 apart.) XGBoost keeps float32
    thresholds itself. `tree_sizes`, a byte count of each tree for parallel loading, is dropped:
    LightGBM reads the trees one after another without it."""
    lines = []
    for line in model.split("\n"):
        if line.startswith("threshold=") and line[len("threshold=") :].strip():  # a one-leaf tree: none
            learned = np.asarray(line[len("threshold=") :].split(), dtype=np.float64)
            single = learned.astype(np.float32)
            below = np.where(
                single.astype(np.float64) > learned, np.nextafter(single, np.float32(-np.inf)), single
            )
            line = "threshold=" + " ".join(repr(float(v)) for v in below)
        elif line.startswith("tree_sizes="):
            continue
        lines.append(line)
    return "\n".join(lines)


def _fit_xgboost(
    x: np.ndarray,
    y: np.ndarray,
    targets: Targets,
    stop: tuple[np.ndarray, np.ndarray] | None,
    seed: int,
) -> tuple[Booster, int, dict[str, list[tuple[int, float]]]]:
    import xgboost as xgb

    objective, classes = _objective(targets)
    params: dict[str, Any] = {
        **XGBOOST_SETTINGS,
        "objective": {
            "binary": "binary:logistic",
            "multiclass": "multi:softprob",
            "regression": "reg:squarederror",
        }[objective],
        "eval_metric": {"binary": "logloss", "multiclass": "mlogloss", "regression": "rmse"}[objective],
        "seed": seed,
        "nthread": _threads(len(x)),
        "tree_method": "hist",
    }
    if objective == "multiclass":
        params["num_class"] = classes
    train = xgb.DMatrix(x, label=y, nthread=params["nthread"])
    history: dict[str, Any] = {}
    if stop is not None:
        held = xgb.DMatrix(stop[0], label=stop[1], nthread=params["nthread"])
        booster = xgb.train(
            params,
            train,
            MAX_ROUNDS,
            evals=[(held, "valid")],
            early_stopping_rounds=PATIENCE,
            evals_result=history,
            verbose_eval=False,
        )
        rounds = booster.best_iteration + 1
        booster = booster[:rounds]
    else:
        booster = xgb.train(params, train, 200)
        rounds = 200
    curves = {
        "log loss" if "logloss" in name else name: list(enumerate(values, start=1))
        for name, values in history.get("valid", {}).items()
    }
    return Booster("xgboost", booster), int(rounds), curves


def _booster_graph(booster: Booster, width: int, kind: str, outputs: int) -> Any:
    """One booster as ONNX: `features` -> raw margins as logits (`logits` of `BoostedTrees`)."""
    from onnx import TensorProto, helper
    from onnxmltools import convert_lightgbm, convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    initial = [("features", FloatTensorType([None, width]))]
    if booster.library == "lightgbm":
        converted = convert_lightgbm(booster.model, initial_types=initial, target_opset=15, zipmap=False)
    else:
        converted = convert_xgboost(booster.model, initial_types=initial, target_opset=15)
    graph = converted.graph
    for node in graph.node:
        for attribute in node.attribute:
            if node.op_type.startswith("TreeEnsemble") and attribute.name == "post_transform":
                attribute.s = b"NONE"  # raw margins: a probability near 0 or 1 in float32 loses digits
    scores = next(o.name for o in graph.output if o.name != "label")
    trees = booster.forest_trees
    if trees:  # the sum of a forest's trees -> their mean, as `margins`
        mean = helper.make_tensor("mean", TensorProto.FLOAT, [], [1.0 / trees])
        graph.initializer.append(mean)
        graph.node.append(helper.make_node("Mul", [scores, "mean"], ["tree_mean"]))
        scores = "tree_mean"
    binary = kind == "softmax" and outputs == 2
    # binary classifiers give [-s, s] (LightGBM) or [?, s]: build [-s/2, s/2] from the second column
    half = helper.make_tensor("half", TensorProto.FLOAT, [2], [-0.5, 0.5])
    if binary:
        second = helper.make_tensor("second", TensorProto.INT64, [1], [1])
        graph.initializer.extend([half, second])
        graph.node.append(helper.make_node("Gather", [scores, "second"], ["margin"], axis=1))
        graph.node.append(helper.make_node("Mul", ["margin", "half"], ["logits"]))
    else:
        graph.node.append(helper.make_node("Identity", [scores], ["logits"]))
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, outputs]))
    return converted
