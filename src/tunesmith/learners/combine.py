"""Calibrated scores per learner, and the greedy weighted ensemble over them.

Each learner's logits are first scaled by one temperature fitted on validation (Guo et al. 2017),
so a sure learner does not outvote a better-calibrated one. The ensemble is Caruana et al.'s
(2004) forward selection with replacement, as AutoGluon's WeightedEnsemble: start from the best
learner, then repeatedly add the learner (again, if it helps most) whose addition to the average
gives the best validation score; a learner's weight is the share of the rounds that picked it.
Written here because no maintained library offers it outside AutoGluon's internals; it is twenty
lines over the scores this package already computes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from tunesmith.learners.outputs import Kind, Targets
from tunesmith.learners.scoring import Score, score

ROUNDS = 25


def member_temperature(kind: Kind, logits: np.ndarray, targets: Targets) -> float:
    """The temperature that makes a learner's validation probabilities honest (1.0 for numbers,
    or when there is nothing to fit on)."""
    if kind == "value" or not len(targets):
        return 1.0
    if kind == "softmax":
        from tunesmith.metrics.uncertainty import fit_temperature

        return fit_temperature(np.asarray(logits, dtype=np.float64), targets.y.tolist())
    from scipy.optimize import minimize_scalar

    z, y = np.asarray(logits, dtype=np.float64), targets.y

    def loss(log_t: float) -> float:
        t = z / np.exp(log_t)
        return float(np.mean(np.logaddexp(0, t) - y * t))  # binary cross-entropy of sigmoid(t)

    low, high = np.log(0.05), np.log(20.0)
    found = minimize_scalar(loss, bounds=(low, high), method="bounded")
    return 1.0 if min(found.x - low, high - found.x) < 1e-2 else float(np.exp(found.x))


@dataclass
class Blend:
    weights: dict[str, float]  # learner -> share of the average
    score: Score


def greedy_ensemble(
    scores: dict[str, np.ndarray], targets: Targets, kind: Kind, positive: int | None, rounds: int = ROUNDS
) -> Blend:
    """Caruana's selection over calibrated validation `scores` (probabilities, values) per learner;
    the weights of the round that scored best (later rounds only move weight around)."""
    names = sorted(scores)
    singles = {name: score(kind, scores[name], targets, positive) for name in names}
    first = _best(singles)
    counts: Counter[str] = Counter({first: 1})
    total = np.asarray(scores[first], dtype=np.float64).copy()
    kept = Blend({first: 1.0}, singles[first])
    for step in range(2, rounds + 1):
        trial = {name: score(kind, (total + scores[name]) / step, targets, positive) for name in names}
        name = _best(trial)
        counts[name] += 1
        total += scores[name]
        if trial[name].beats(kept.score):
            kept = Blend({n: c / step for n, c in counts.items()}, trial[name])
    return kept


def _best(found: dict[str, Score]) -> str:
    winner = None
    for name in sorted(found):
        if winner is None or found[name].beats(found[winner]):
            winner = name
    assert winner is not None
    return winner
