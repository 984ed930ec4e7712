"""Every learner by name: what it reads and what model it fits.

A task lists the learners that apply to it (`Task.learners`); `training.learners` may name a
subset. The transformer is the task's own fine-tuned model (train/stage.py); the others pair a
featurizer (features.py) with a linear model (linear.py) or boosted trees (boosted.py).
"""

from __future__ import annotations

from dataclasses import dataclass

TRANSFORMER = "transformer"


@dataclass(frozen=True)
class LearnerSpec:
    name: str
    features: str  # the featurizer kind (features.py)
    model: str  # "linear", or a boosted-trees setting (boosted.py)
    title: str  # what the leaderboard and the console call it

    @property
    def linear(self) -> bool:
        return self.model == "linear"


CATALOG: dict[str, LearnerSpec] = {
    spec.name: spec
    for spec in (
        LearnerSpec(
            "ngram_linear", "ngrams", "linear", "linear model on word and character n-grams (TF-IDF)"
        ),
        LearnerSpec(
            "pair_linear",
            "pair_ngrams",
            "linear",
            "linear model on the n-grams the two texts share and do not",
        ),
        LearnerSpec(
            "pair_lightgbm", "pair_features", "lightgbm", "LightGBM on the pair's similarity figures"
        ),
        LearnerSpec("column_linear", "scaled_columns", "linear", "linear model on the columns"),
        LearnerSpec("lightgbm", "columns", "lightgbm", "LightGBM on the columns"),
        LearnerSpec("lightgbm_xt", "columns", "lightgbm_xt", "LightGBM, extremely randomised splits"),
        LearnerSpec("lightgbm_large", "columns", "lightgbm_large", "LightGBM, 128 leaves"),
        LearnerSpec("lightgbm_rf", "columns", "lightgbm_rf", "LightGBM as a random forest"),
        LearnerSpec("xgboost", "columns", "xgboost", "XGBoost on the columns"),
    )
}


def title(name: str) -> str:
    if name == TRANSFORMER:
        return "the fine-tuned transformer"
    return CATALOG[name].title if name in CATALOG else name
