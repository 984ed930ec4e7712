"""Rows of sparse features (CSR: row starts, column indexes, values) without SciPy, so a slim
install answers with them; `to_scipy` hands them to scikit-learn when a learner is fitted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class SparseRows:
    indptr: np.ndarray  # int64, rows + 1: where each row's entries start
    indices: np.ndarray  # int64: the column of each entry
    values: np.ndarray  # float32
    width: int  # the number of columns

    @classmethod
    def from_rows(cls, rows: list[tuple[list[int], list[float]]], width: int) -> SparseRows:
        lengths = np.fromiter((len(ix) for ix, _ in rows), dtype=np.int64, count=len(rows))
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.fromiter((i for ix, _ in rows for i in ix), dtype=np.int64, count=int(indptr[-1]))
        values = np.fromiter((v for _, vs in rows for v in vs), dtype=np.float32, count=int(indptr[-1]))
        return cls(indptr, indices, values, width)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def padded(self) -> tuple[np.ndarray, np.ndarray]:
        """(indices, values) as (rows, longest row) arrays; padding points at column `width`, which
        the linear model's weight matrix holds as a row of zeros (what its ONNX graph gathers)."""
        lengths = np.diff(self.indptr)
        longest = int(lengths.max(initial=0)) or 1
        indices = np.full((len(self), longest), self.width, dtype=np.int64)
        values = np.zeros((len(self), longest), dtype=np.float32)
        position = np.arange(len(self.indices)) - np.repeat(self.indptr[:-1], lengths)
        rows = np.repeat(np.arange(len(self)), lengths)
        indices[rows, position] = self.indices
        values[rows, position] = self.values
        return indices, values

    def to_scipy(self) -> Any:
        from scipy.sparse import csr_matrix

        return csr_matrix((self.values, self.indices, self.indptr), shape=(len(self), self.width))
