"""Metric uncertainty against known answers: bootstrap coverage, McNemar, calibration error."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from tunesmith.evaluate.uncertainty import bootstrap_ci, expected_calibration_error, mcnemar
from tunesmith.tasks.classification import macro_f1


def test_bootstrap_interval_covers_the_true_accuracy_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(0)
    covered = 0
    for trial in range(100):
        correct = rng.random(400) < 0.7  # a model that is right 70% of the time
        low, high = bootstrap_ci(lambda c: float(np.mean(c)), correct, n_resamples=500, seed=trial)
        covered += low <= 0.7 <= high
        assert high - low < 0.12  # about 2 x 1.96 x sqrt(0.21 / 400) = 0.09
    assert 88 <= covered <= 100


def test_mcnemar_on_a_constructed_table() -> None:
    # 10 records only A gets right, 2 only B gets right, 50 both, 8 neither.
    a = [True] * 10 + [False] * 2 + [True] * 50 + [False] * 8
    b = [False] * 10 + [True] * 2 + [True] * 50 + [False] * 8
    result = mcnemar(a, b)
    assert (result.only_a_right, result.only_b_right) == (10, 2)
    # exact two-sided: 2 x P(X <= 2), X ~ Binomial(12, 1/2) = 2 x (1 + 12 + 66) / 4096
    assert result.p_value == pytest.approx(158 / 4096)
    assert mcnemar(a, a).p_value == 1.0


def test_calibration_error_is_near_zero_for_a_calibrated_model_and_large_for_an_overconfident_one() -> None:
    rng = np.random.default_rng(1)
    confidence = rng.uniform(0.3, 1.0, 50_000)
    calibrated = rng.random(50_000) < confidence  # right exactly as often as it claims
    assert expected_calibration_error(confidence, calibrated) < 0.01
    overconfident = rng.random(50_000) < confidence - 0.25
    assert expected_calibration_error(confidence, overconfident) == pytest.approx(0.25, abs=0.02)


def test_fast_macro_f1_equals_scikit_learn() -> None:
    rng = np.random.default_rng(2)
    truth, predicted = rng.integers(-1, 5, 500), rng.integers(0, 5, 500)  # -1: a label unseen in training
    expected = f1_score(truth, predicted, labels=list(range(5)), average="macro", zero_division=0)
    assert macro_f1(truth, predicted, 5) == pytest.approx(expected)


def test_offline_ab_finds_a_planted_improvement_and_not_a_difference_that_is_not_there() -> None:
    from tunesmith.evaluate.compare import compare_labels

    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, 600)
    a = np.where(rng.random(600) < 0.70, truth, (truth + 1) % 3)  # 70% right
    b = np.where(rng.random(600) < 0.85, truth, (truth + 1) % 3)  # 85% right
    better = compare_labels(truth, a, b, 3)
    accuracy = next(d for d in better.differences if d.metric == "accuracy")
    assert accuracy.low > 0 and accuracy.p_value < 0.001 and accuracy.p_value == better.mcnemar.p_value
    assert accuracy.verdict().startswith("B is better on accuracy, +")
    assert compare_labels(truth, b, a, 3).differences[1].verdict().startswith("A is better on macro_f1")
    same = compare_labels(truth, a, a, 3)
    assert all(d.verdict().startswith("no significant difference") for d in same.differences)


def test_a_planted_slice_gap_is_found_and_a_small_slice_is_marked_not_ranked() -> None:
    from tunesmith.evaluate.slices import slice_report

    rng = np.random.default_rng(4)
    groups = np.array(["north"] * 300 + ["south"] * 300 + ["island"] * 10, dtype=object)
    truth = rng.integers(0, 2, len(groups))
    right = np.where(groups == "north", rng.random(len(groups)) < 0.95, rng.random(len(groups)) < 0.70)
    right[groups == "island"] = False  # tiny and always wrong: must not be ranked as the worst
    predicted = np.where(right, truth, 1 - truth)
    report = slice_report(truth, predicted, groups, 2, min_size=30)
    assert report["gap_accuracy"] == pytest.approx(0.25, abs=0.06)
    assert report["worst_slice_accuracy"] == "south"
    assert report["per_slice"]["island"]["small"] and report["per_slice"]["island"]["count"] == 10
    assert report["ranked_slices"] == 2
    assert report["equalized_odds_difference"] == pytest.approx(0.25, abs=0.08)
    even = slice_report(truth, truth, groups, 2, min_size=30)  # a perfect model: no gap at all
    assert even["gap_accuracy"] == 0.0 and even["equalized_odds_difference"] == 0.0
