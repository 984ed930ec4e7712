"""The choice of the model among the fitted learners: the best one, or their weighted ensemble.

Each learner's logits get one temperature; its score on validation is its leaderboard figure.
The choice is made on held-out scores: validation, and - where learners were bagged over folds
(small data) - their out-of-fold scores of every training row too, which a few dozen validation
rows alone would make a coin toss. When some learners are bagged and others are not (the
transformer), the bagged ones are combined first on all their held-out rows, and that
combination - or the best of them on those rows - then competes with, or joins, the others on
validation. An ensemble is kept only where it beats the best single learner on the rows it was
chosen on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tunesmith.learners.catalog import TRANSFORMER
from tunesmith.learners.combine import Blend, greedy_ensemble, member_temperature
from tunesmith.learners.outputs import Kind, Targets, probabilities
from tunesmith.learners.scoring import Score, score

GROUP = "bagged learners"  # the combination of stage one, as one candidate of stage two
# A learner whose validation figure is below this share of the best one's joins no ensemble: the
# few rows an ensemble is chosen on cannot tell what it adds from noise. Measured on CLAUDETTE's
# nine categories: a transformer at micro-F1 0.23 beside n-grams at 0.76 won 7% of an ensemble
# by +0.002 on 893 validation rows, and cost 0.08 on unseen documents.
FLOOR = 0.8


@dataclass
class Candidate:
    """What the choice needs of one fitted learner."""

    name: str
    validation: np.ndarray  # logits
    oof: np.ndarray | None = None  # out-of-fold logits of the training rows
    temperature: float = 1.0
    score: Score | None = None  # on validation: the leaderboard's figure


def _held(c: Candidate, train: Targets, validation: Targets) -> tuple[np.ndarray, Targets]:
    """Every held-out row of a candidate: out of fold (if bagged), then validation."""
    if c.oof is None:
        return c.validation, validation
    both = Targets(validation.kind, validation.labels, np.concatenate([train.y, validation.y]))
    return np.concatenate([c.oof, c.validation]), both


def _best(found: dict[str, Score]) -> str:
    winner = None
    for name in found:  # the task's order: fast learners first, so a tie goes to the cheaper one
        if winner is None or found[name].beats(found[winner]):
            winner = name
    assert winner is not None
    return winner


def _shares(weights: dict[str, float]) -> str:
    return " + ".join(f"{n} ({w:.2f})" for n, w in sorted(weights.items(), key=lambda kv: -kv[1]))


def choose(
    candidates: list[Candidate],
    train: Targets,
    validation: Targets,
    kind: Kind,
    positive: int | None,
    ensemble: bool,
) -> dict[str, Any]:
    """The winner: {served, members [{learner, weight, temperature}], metric, reason, ...}. Sets
    each candidate's temperature and validation score."""
    by_name = {c.name: c for c in candidates}
    held_scores = {}  # on all of a learner's held-out rows: out of fold too, where bagged
    for c in candidates:
        logits, targets = _held(c, train, validation)
        c.temperature = member_temperature(kind, logits, targets)
        c.score = score(kind, probabilities(kind, c.validation, c.temperature), validation, positive)
        held_scores[c.name] = (
            c.score
            if c.oof is None  # its held-out rows are validation's
            else score(kind, probabilities(kind, logits, c.temperature), targets, positive)
        )
    bagged = [c for c in candidates if c.oof is not None]
    wide = len(bagged) == len(candidates)
    held_rows = f"{len(train) + len(validation):,} held-out rows"
    rows_note = (
        f"{held_rows} (out-of-fold training scores and validation)"
        if wide
        else f"{len(validation):,} validation rows"
        + (f" (the bagged learners ranked on {held_rows})" if len(bagged) > 1 else "")
    )
    # the best single learner and who joins an ensemble, each on the rows the choice is made on
    singles = held_scores if wide else {c.name: c.score for c in candidates if c.score is not None}
    best, near = _ranking(candidates, bagged, wide, singles, held_scores)
    metric = singles[best].metric
    choice: dict[str, Any] = {
        "served": best,
        "members": [{"learner": best, "weight": 1.0, "temperature": 1.0}],
        "metric": metric,
        "chosen_on": rows_note,
        "validation": {c.name: c.score.value for c in candidates if c.score is not None},
        "best_single": {"learner": best, "value": singles[best].value},
    }
    choice["left_out_of_ensembles"] = sorted(c.name for c in candidates if c not in near)
    kept_bagged = [c for c in bagged if c in near]
    found = _ensemble(near, kept_bagged, wide, train, validation, kind, positive) if ensemble else None
    others = ", ".join(f"{n} {singles[n].value:.4f}" for n in _ranked(singles) if n != best)
    if found is not None and len(found.weights) > 1 and found.score.beats(singles[best]):
        members = [
            {"learner": n, "weight": w, "temperature": by_name[n].temperature}
            for n, w in sorted(found.weights.items(), key=lambda kv: -kv[1])
        ]
        choice.update(
            served="ensemble",
            members=members,
            ensemble={"weights": found.weights, "value": found.score.value},
            reason=f"the weighted ensemble of {_shares(found.weights)}: {metric} {found.score.value:.4f} on "
            f"{rows_note}, against the best single learner, {best}, {singles[best].value:.4f}",
        )
        return choice
    if found is not None:
        choice["ensemble"] = {"weights": found.weights, "value": found.score.value}
    far = choice["left_out_of_ensembles"]
    why = (
        "the ensemble is off (training.ensemble: false)"
        if not ensemble
        else f"no ensemble beats it (the best: {found.score.value:.4f})"
        if found is not None and len(found.weights) > 1
        else "no ensemble beats it"
    ) + (f"; {', '.join(far)} too far behind to join one" if far and ensemble else "")
    choice["reason"] = f"{best}: {metric} {singles[best].value:.4f} on {rows_note}" + (
        f", against {others}; {why}" if others else ""
    )
    return choice


def _ranking(
    candidates: list[Candidate],
    bagged: list[Candidate],
    wide: bool,
    singles: dict[str, Score],
    held_scores: dict[str, Score],
) -> tuple[str, list[Candidate]]:
    """(the best single learner, the learners near enough to it to join an ensemble). Where bagged
    and unbagged learners meet, the bagged ones are ranked on all their held-out rows and only
    their lead competes on validation: one lucky on a few dozen validation rows does not get to
    stand for them, nor join an ensemble the out-of-fold rows would keep it out of."""
    if wide or len(bagged) < 2:
        best = _best(singles)
        return best, [c for c in candidates if _near_the_best(singles[c.name], singles[best])]
    names = {c.name for c in bagged}
    lead = _best({c.name: held_scores[c.name] for c in bagged})  # in the task's order: ties
    best = _best({n: s for n, s in singles.items() if n == lead or n not in names})
    lead_joins = _near_the_best(singles[lead], singles[best])
    near = [
        c
        for c in candidates
        if (
            lead_joins and _near_the_best(held_scores[c.name], held_scores[lead])
            if c.name in names
            else _near_the_best(singles[c.name], singles[best])
        )
    ]
    return best, near


def _near_the_best(found: Score, best: Score) -> bool:
    """The learner's figure is within FLOOR of the best one's (RMSE: at most 1/FLOOR of it)."""
    if not np.isfinite(found.value) or not np.isfinite(best.value):
        return False
    if best.greater_is_better:
        return found.value >= FLOOR * best.value
    return found.value <= best.value / FLOOR


def _ranked(singles: dict[str, Score]) -> list[str]:
    return sorted(
        singles, key=lambda n: -singles[n].value if singles[n].greater_is_better else singles[n].value
    )


def _ensemble(
    candidates: list[Candidate],
    bagged: list[Candidate],
    wide: bool,
    train: Targets,
    validation: Targets,
    kind: Kind,
    positive: int | None,
) -> Blend | None:
    """Caruana's ensemble: on all held-out rows when every learner has them; else the bagged ones
    combined on theirs first, then with the others on validation."""
    if len(candidates) < 2:
        return None
    if wide:
        calibrated = {}
        for c in candidates:
            logits, targets = _held(c, train, validation)
            calibrated[c.name] = probabilities(kind, logits, c.temperature)
        return greedy_ensemble(calibrated, targets, kind, positive)
    on_validation = {c.name: probabilities(kind, c.validation, c.temperature) for c in candidates}
    if len(bagged) < 2:
        return greedy_ensemble(on_validation, validation, kind, positive)
    held = {}
    for c in bagged:
        logits, targets = _held(c, train, validation)
        held[c.name] = probabilities(kind, logits, c.temperature)
    group = greedy_ensemble(held, targets, kind, positive)
    on_validation[GROUP] = sum(w * on_validation[n] for n, w in group.weights.items())  # type: ignore[assignment]
    # the bagged learners enter stage two as their combination only: re-weighing each of them on a
    # few dozen validation rows is the coin toss stage one avoids (MuZhi: 48 rows gave xgboost 0.45
    # of the ensemble)
    for c in bagged:
        del on_validation[c.name]
    found = greedy_ensemble(on_validation, validation, kind, positive)
    weights: dict[str, float] = {}
    for name, weight in found.weights.items():  # the group's share goes to its members
        if name == GROUP:
            for member, inner in group.weights.items():
                weights[member] = weights.get(member, 0.0) + weight * inner
        else:
            weights[name] = weights.get(name, 0.0) + weight
    return Blend(weights, found.score)


def fallback(fitted: list[str]) -> dict[str, Any]:
    """No validation split: nothing to compare on; the transformer if it trained, else the first."""
    name = TRANSFORMER if TRANSFORMER in fitted else fitted[0]
    return {
        "served": name,
        "members": [{"learner": name, "weight": 1.0, "temperature": 1.0}],
        "reason": f"{name} (no validation split to compare the learners on)",
        "metric": None,
    }
