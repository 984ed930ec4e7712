"""How unsure a classifier is about each record: the order in which people should label them."""

from __future__ import annotations

from typing import Literal

import numpy as np

Strategy = Literal["entropy", "margin", "least_confidence"]
STRATEGIES: tuple[Strategy, ...] = ("entropy", "margin", "least_confidence")


def uncertainty(probabilities: np.ndarray, strategy: Strategy = "entropy") -> np.ndarray:
    """Higher is more uncertain. entropy: -sum p log p; margin: 1 - (p1 - p2); least_confidence: 1 - p1."""
    if strategy == "entropy":
        p = np.clip(probabilities, 1e-12, 1.0)
        return -(p * np.log(p)).sum(axis=1)
    top = -np.sort(-probabilities, axis=1)
    if strategy == "margin":
        second = top[:, 1] if top.shape[1] > 1 else 0.0
        return 1.0 - (top[:, 0] - second)
    if strategy == "least_confidence":
        return 1.0 - top[:, 0]
    raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}")


def most_uncertain_first(probabilities: np.ndarray, strategy: Strategy = "entropy") -> np.ndarray:
    """Record positions, most uncertain first (ties keep input order)."""
    scores = uncertainty(probabilities, strategy)
    return np.lexsort((np.arange(len(scores)), -scores))
