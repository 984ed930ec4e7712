"""A linear model over features: logits = features x weights + bias.

Fitted by scikit-learn - logistic regression (multinomial for one label of several, one binary
model per label for multi-label, L2-regularised) or ridge regression for numbers - and kept as
two arrays in `linear.safetensors`, which numpy answers with alone. Its ONNX graph gathers the
weight rows of a text's n-grams (sparse features) or multiplies a row of numbers (dense ones).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.data.sparse_rows import SparseRows
from tunesmith.learners.outputs import Targets

WEIGHTS_FILE = "linear.safetensors"
CHUNK = 512  # rows answered at once: a gather of chunk x n-grams x labels stays small
NEVER = -30.0  # the logit of a label absent from the training split


Features = SparseRows | np.ndarray


class LinearModel:
    def __init__(self, weights: np.ndarray, bias: np.ndarray) -> None:
        self.weights = np.asarray(weights, dtype=np.float32)  # (features, outputs)
        self.bias = np.asarray(bias, dtype=np.float32)  # (outputs,)
        # a row of zeros past the last feature: what padded sparse positions gather
        self._padded = np.vstack([self.weights, np.zeros((1, self.weights.shape[1]), dtype=np.float32)])

    # -- answering ---------------------------------------------------------------------------
    def logits(self, features: Features) -> np.ndarray:
        if isinstance(features, np.ndarray):
            return features.astype(np.float32) @ self.weights + self.bias  # type: ignore[no-any-return]
        out = np.zeros((len(features), self.weights.shape[1]), dtype=np.float32)
        for start in range(0, len(features), CHUNK):
            part = _rows(features, start, start + CHUNK)
            indices, values = part.padded()
            out[start : start + len(part)] = (self._padded[indices] * values[..., None]).sum(axis=1)
        return out + self.bias  # type: ignore[no-any-return]

    # -- fitting -------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls, features: Features, targets: Targets, strength: float, balanced: bool = False
    ) -> LinearModel:
        """`strength`: scikit-learn's C (the inverse of the L2 penalty); `balanced`: weigh the
        labels (each label's positives, for multi-label) by their inverse frequency."""
        x = features.to_scipy() if isinstance(features, SparseRows) else np.asarray(features, np.float64)
        width = x.shape[1]
        y = targets.y
        if targets.kind == "value":
            from sklearn.linear_model import Ridge

            model = Ridge(alpha=1.0 / strength).fit(x, y)
            return cls(np.asarray(model.coef_).reshape(width, 1), np.asarray([model.intercept_]))
        from sklearn.linear_model import LogisticRegression

        weight = "balanced" if balanced else None
        outputs = targets.width
        weights = np.zeros((width, outputs), dtype=np.float64)
        bias = np.full(outputs, NEVER, dtype=np.float64)
        if targets.kind == "sigmoid":
            for j in range(outputs):
                column = y[:, j]
                if column.min() == column.max():  # always or never: a constant answer
                    bias[j] = 10.0 if column[0] else -10.0
                    continue
                model = LogisticRegression(C=strength, class_weight=weight, max_iter=2000).fit(x, column)
                weights[:, j], bias[j] = model.coef_[0], model.intercept_[0]
            return cls(weights, bias)
        known = y >= 0
        present = np.unique(y[known])
        if len(present) == 1:
            bias[present[0]] = 0.0
            return cls(weights, bias)
        model = LogisticRegression(C=strength, class_weight=weight, max_iter=2000).fit(x[known], y[known])
        coef, intercept = np.asarray(model.coef_), np.asarray(model.intercept_)
        if len(present) == 2:  # one score s for the second class: [-s/2, s/2] has the same softmax
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.asarray([-intercept[0] / 2, intercept[0] / 2])
        weights[:, present] = coef.T
        bias[present] = intercept
        return cls(weights, bias)

    # -- files and export ----------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        from tunesmith import atomic

        with atomic.staged_file(folder / WEIGHTS_FILE) as staged:
            save_file({"weights": self.weights, "bias": self.bias}, str(staged))

    @classmethod
    def load(cls, folder: Path) -> LinearModel:
        from safetensors.numpy import load_file

        arrays = load_file(str(folder / WEIGHTS_FILE))
        return cls(arrays["weights"], arrays["bias"])

    def onnx_graph(self, sparse: bool) -> Any:
        """`logits` from (`indices`, `values`) - a text's n-gram columns and weights, padded with
        the column past the last - or from `features` (rows of numbers)."""
        from onnx import TensorProto, checker, helper, numpy_helper

        outputs = self.weights.shape[1]
        bias = numpy_helper.from_array(self.bias, "bias")
        if sparse:
            inputs = [
                helper.make_tensor_value_info("indices", TensorProto.INT64, [None, None]),
                helper.make_tensor_value_info("values", TensorProto.FLOAT, [None, None]),
            ]
            table = numpy_helper.from_array(self._padded, "weights")
            axis = numpy_helper.from_array(np.asarray([2], dtype=np.int64), "last_axis")
            rows = numpy_helper.from_array(np.asarray([1], dtype=np.int64), "position_axis")
            nodes = [
                helper.make_node("Gather", ["weights", "indices"], ["gathered"], axis=0),
                helper.make_node("Unsqueeze", ["values", "last_axis"], ["scale"]),
                helper.make_node("Mul", ["gathered", "scale"], ["scaled"]),
                helper.make_node("ReduceSum", ["scaled", "position_axis"], ["summed"], keepdims=0),
                helper.make_node("Add", ["summed", "bias"], ["logits"]),
            ]
            initializers = [table, bias, axis, rows]
        else:
            inputs = [
                helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, self.weights.shape[0]])
            ]
            nodes = [
                helper.make_node("MatMul", ["features", "weights"], ["product"]),
                helper.make_node("Add", ["product", "bias"], ["logits"]),
            ]
            initializers = [numpy_helper.from_array(self.weights, "weights"), bias]
        graph = helper.make_graph(
            nodes,
            "linear",
            inputs,
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, outputs])],
            initializers,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
        model.ir_version = 8
        checker.check_model(model)
        return model


def onnx_feed(features: Features) -> dict[str, np.ndarray]:
    """What the linear ONNX graph reads for these features."""
    if isinstance(features, np.ndarray):
        return {"features": features.astype(np.float32)}
    indices, values = features.padded()
    return {"indices": indices, "values": values}


def _rows(features: SparseRows, start: int, stop: int) -> SparseRows:
    stop = min(stop, len(features))
    begin, end = features.indptr[start], features.indptr[stop]
    return SparseRows(
        features.indptr[start : stop + 1] - begin,
        features.indices[begin:end],
        features.values[begin:end],
        features.width,
    )
