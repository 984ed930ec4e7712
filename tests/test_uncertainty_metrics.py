"""Metric uncertainty against known answers: bootstrap coverage, McNemar, calibration error."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from tunesmith.metrics.uncertainty import bootstrap_ci, expected_calibration_error, mcnemar
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
    from tunesmith.tasks.classification import ClassificationTask

    rng = np.random.default_rng(4)
    groups = np.array(["north"] * 300 + ["south"] * 300 + ["island"] * 10, dtype=object)
    truth = rng.integers(0, 2, len(groups))
    right = np.where(groups == "north", rng.random(len(groups)) < 0.95, rng.random(len(groups)) < 0.70)
    right[groups == "island"] = False  # tiny and always wrong: must not be ranked as the worst
    predicted = np.where(right, truth, 1 - truth)
    scorers = ClassificationTask(None).subset_metrics(
        [{"label": str(t)} for t in truth], [{"label": str(p)} for p in predicted], ["0", "1"]
    )
    report = slice_report(scorers, groups, 30, (truth, predicted, 2))
    assert report["gap_accuracy"] == pytest.approx(0.25, abs=0.06)
    assert report["worst_slice_accuracy"] == "south"
    assert report["per_slice"]["island"]["small"] and report["per_slice"]["island"]["count"] == 10
    assert report["ranked_slices"] == 2
    assert report["equalized_odds_difference"] == pytest.approx(0.25, abs=0.08)
    perfect = ClassificationTask(None).subset_metrics(
        [{"label": str(t)} for t in truth], [{"label": str(t)} for t in truth], ["0", "1"]
    )
    even = slice_report(perfect, groups, 30, (truth, truth, 2))  # a perfect model: no gap at all
    assert even["gap_accuracy"] == 0.0 and even["equalized_odds_difference"] == 0.0


def test_online_ab_two_proportions_sample_size_and_log_reading(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from cli_helpers import tunesmith

    from tunesmith.errors import DataError
    from tunesmith.evaluate.online_ab import Arm, read_outcomes, sample_size_per_arm, two_proportion_test

    # 200/1000 vs 250/1000: pooled p 0.225, se sqrt(0.225 x 0.775 x 2/1000) = 0.018674, z = 2.6774
    result = two_proportion_test(Arm("a", 1000, 200), Arm("b", 1000, 250))
    assert result.z == pytest.approx(2.6774, abs=1e-3) and result.p_value == pytest.approx(0.00742, abs=2e-4)
    assert 0 < result.low < 0.05 < result.high
    # the textbook case: 10% baseline, +2 points, alpha 0.05, power 0.8 -> 3,841 per arm
    assert sample_size_per_arm(0.10, 0.02) == 3841

    log = tmp_path / "outcomes.jsonl"
    rows = [{"version": "v1", "request_id": f"r{i}", "outcome": int(i % 5 == 0)} for i in range(1000)]
    rows += [{"version": "v2", "request_id": f"s{i}", "outcome": i % 4 == 0} for i in range(1000)]
    rows.append({"version": "v2", "request_id": "s1", "outcome": 1})  # a repeated request: its last outcome
    log.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    arms = read_outcomes(log)
    assert arms["v1"] == Arm("v1", 1000, 200) and arms["v2"] == Arm("v2", 1000, 251)
    out = tunesmith("ab-test", str(log), cwd=tmp_path)
    text = out.stdout + out.stderr
    needed = sample_size_per_arm(0.20, 0.02)  # v1's rate is the baseline
    assert "v2: 251 of 1,000" in text and f"planned size: {needed:,} requests per arm" in text
    assert "peeking" in text  # 1,000 per arm is short of the plan: the warning is there
    (tmp_path / "bad.jsonl").write_text('{"version": "v1", "request_id": "x", "outcome": "maybe"}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:1: field 'outcome'"):
        read_outcomes(tmp_path / "bad.jsonl")


def test_error_analysis_ranks_confident_mistakes_and_confused_pairs() -> None:
    from tunesmith.evaluate.errors import error_analysis

    records = [{"text": f"t{i}", "label": label} for i, label in enumerate("aaabbbccc")]
    predicted = [
        ("a", 0.9),
        ("b", 0.99),
        ("b", 0.6),
        ("b", 0.8),
        ("a", 0.7),
        ("b", 0.5),
        ("b", 0.95),
        ("c", 0.9),
        ("c", 0.9),
    ]
    answers = [{"label": p, "score": s} for p, s in predicted]
    found = error_analysis(records, answers)
    assert found["mistakes"] == 4
    assert [m["text"] for m in found["most_confident_mistakes"]] == ["t1", "t6", "t4", "t2"]
    top = found["most_confused_pairs"][0]
    assert (top["label"], top["predicted"], top["count"]) == ("a", "b", 2) and top["examples"] == ["t1", "t2"]


def test_perturbations_change_text_as_named_and_flip_rate_counts_changed_answers() -> None:
    import random

    from tunesmith.evaluate.robustness import PERTURBATIONS, robustness_report

    rng = random.Random(0)
    assert PERTURBATIONS["punctuation"]("你好,世界!ok.", rng) == "你好世界ok"
    assert PERTURBATIONS["width"]("ab 1!", rng) == "ａｂ\u3000１！"
    assert PERTURBATIONS["chinese_script"]("简体中文", rng) == "簡體中文"
    assert (
        PERTURBATIONS["pii_masks"]("call 138 1234 5678 or a@b.com", rng)
        == "call <PHONE_NUMBER> or <EMAIL_ADDRESS>"
    )
    assert PERTURBATIONS["truncation"]("abcdef", rng) == "abc"
    noisy = PERTURBATIONS["typos"]("the quick brown fox jumps over the lazy dog " * 20, random.Random(1))
    assert noisy != "the quick brown fox jumps over the lazy dog " * 20

    records = [
        {"text": t, "label": "long" if len(t) > 5 else "short"} for t in ("abcdefgh", "xyzuvwrs", "ab", "cd")
    ]

    def by_length(items: list[dict]) -> list[dict]:  # a "model" that answers by text length
        return [{"label": "long" if len(r["text"]) > 5 else "short"} for r in items]

    def accuracy(answers: list[dict]) -> float:
        return sum(a["label"] == r["label"] for a, r in zip(answers, records, strict=True)) / len(records)

    report = robustness_report(
        records, by_length(records), by_length, ["truncation", "case"], seed=0, score=accuracy
    )
    assert report["suites"]["clean"]["accuracy"] == 1.0
    # halving "abcdefgh" to "abcd" flips the two long texts: 2 of 4 answers change
    assert (
        report["suites"]["truncation"]["flip_rate"] == 0.5
        and report["suites"]["truncation"]["accuracy"] == 0.5
    )
    assert report["suites"]["case"]["flip_rate"] == 0.0 and report["flip_rate"] == 0.5


def test_names_and_places_are_swapped_for_others_of_their_kind() -> None:
    import random

    from tunesmith.evaluate.robustness import PERTURBATIONS

    swap = PERTURBATIONS["names_places"]
    english = swap("Dear Mr. Johnson, my parcel from Canada to Texas is late. John Smith", random.Random(0))
    assert english.startswith("Dear Mr. ") and "Johnson" not in english and "John Smith" not in english
    assert "Canada" not in english and "Texas" not in english and "my parcel from " in english
    chinese = swap("张伟先生住在北京，下周去广东省。", random.Random(0))
    assert "张伟" not in chinese and "北京" not in chinese and "广东省" not in chinese
    assert chinese.endswith("。") and "先生住在" in chinese
    assert swap("The order will be shipped soon.", random.Random(0)) == "The order will be shipped soon."
    assert swap("Dear Mr. Johnson", random.Random(3)) == swap("Dear Mr. Johnson", random.Random(3))  # seeded


def test_directional_and_invariance_expectations_count_failures_past_the_tolerance() -> None:
    from tunesmith.evaluate.expectations import check_expectations
    from tunesmith.recipe import Expectation

    def toy_model(items: list[dict]) -> list[dict]:
        """P(negative) = share of the words that are 'bad' (a 'sorry' hides it: a planted flaw)."""
        answers = []
        for r in items:
            words = r["text"].split()
            p = 0.0 if "sorry" in words else sum(w == "bad" for w in words) / len(words)
            answers.append(
                {
                    "label": "negative" if p >= 0.5 else "positive",
                    "probabilities": {"negative": p, "positive": 1 - p},
                }
            )
        return answers

    records = [{"text": t, "label": "positive"} for t in ("good day", "bad bad day", "fine", "sorry bad")]
    expectations = [
        Expectation(name="worse", add="bad bad bad", direction="up", label="negative"),
        Expectation(name="polite", add="sorry", at="start", direction="same"),
        Expectation(name="better", add="bad", direction="down", label="negative", tolerance=0.5),
    ]
    found = check_expectations(records, toy_model(records), toy_model, expectations, ["negative", "positive"])
    checks = found["checks"]
    # adding "bad bad bad" raises P(negative), except after "sorry" where it stays 0: not lower
    assert checks["worse"]["failures"] == 0
    # "sorry" first hides the negatives: "bad bad day" flips from negative to positive
    assert checks["polite"]["failures"] == 1 and checks["polite"]["examples"][0]["before"] == "negative"
    # adding one "bad" raises P(negative) by at most 0.5 on "fine" (0 -> 0.5): within the tolerance
    assert checks["better"]["failures"] == 0
    strict = Expectation(name="strict", add="bad", direction="down", label="negative", tolerance=0.1)
    found = check_expectations(records, toy_model(records), toy_model, [strict], ["negative", "positive"])
    # rises: "good day" 0 -> 1/3 and "fine" 0 -> 1/2 fail; "bad bad day" 2/3 -> 3/4 is within 0.1
    assert found["checks"]["strict"]["failures"] == 2 and found["failure_rate"] == 0.5
    assert found["checks"]["strict"]["examples"][0]["probability_after"] == 0.5  # the largest rise first
    with pytest.raises(Exception, match="label"):
        Expectation(name="x", add="y", direction="up")
    from tunesmith import recipe as recipe_io
    from tunesmith.errors import RecipeError

    twice = [{"name": "x", "add": "y", "direction": "same"}] * 2
    with pytest.raises(RecipeError, match="repeated: x"):
        recipe_io.validate({"data": {"train": "d.jsonl"}, "evaluation": {"expectations": twice}})


def test_temperature_scaling_recovers_a_known_temperature_and_removes_the_calibration_error() -> None:
    from tunesmith.metrics.uncertainty import fit_temperature
    from tunesmith.tasks.classification import softmax

    rng = np.random.default_rng(5)
    honest = rng.normal(0, 2, (20_000, 4))  # logits whose softmax is the true distribution
    truth = np.array([rng.choice(4, p=p) for p in softmax(honest)])
    overconfident = 3 * honest  # the same ranking, claimed three times as sharply
    assert fit_temperature(overconfident, truth) == pytest.approx(3.0, rel=0.05)
    assert fit_temperature(honest, truth) == pytest.approx(1.0, rel=0.05)

    def ece(logits: np.ndarray) -> float:
        probabilities = softmax(logits)
        return expected_calibration_error(probabilities.max(axis=1), probabilities.argmax(axis=1) == truth)

    scaled = overconfident / fit_temperature(overconfident, truth)
    assert ece(overconfident) > 0.1 and ece(scaled) < 0.02
    assert (scaled.argmax(axis=1) == overconfident.argmax(axis=1)).all()  # no answer changes
    assert fit_temperature(honest[:1], truth[:1]) == 1.0  # nothing to fit on
    separable = np.eye(4)[truth] * 5  # every record right: sharper is always better, no optimum
    assert fit_temperature(separable, truth) == 1.0
