"""Every task's per-record metrics (what intervals, slices and compare resample) agree with the
metrics its evaluate reports, and compare and slices work for task types beyond classification."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tunesmith.evaluate.compare import compare_metrics
from tunesmith.evaluate.slices import slice_report
from tunesmith.metrics.uncertainty import subset_intervals
from tunesmith.tasks import get_task

rng = random.Random(0)


def _classification() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    labels = ["a", "b", "c"]
    records = [{"text": f"t{i}", "label": rng.choice(labels)} for i in range(120)]
    answers = [
        {"label": r["label"] if rng.random() < 0.7 else rng.choice(labels), "score": 0.8} for r in records
    ]
    return records, answers, labels


def _regression() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    records = [{"text": f"t{i}", "label": rng.uniform(0, 10)} for i in range(120)]
    return records, [{"value": r["label"] + rng.gauss(0, 1)} for r in records], ["value"]


def _multilabel() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    labels = ["x", "y", "z"]
    records = [{"text": f"t{i}", "label": [n for n in labels if rng.random() < 0.4]} for i in range(120)]
    answers = [{"labels": [n for n in labels if (n in r["label"]) != (rng.random() < 0.2)]} for r in records]
    return records, answers, labels


def _token_classification() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    records, answers = [], []
    for i in range(80):
        spans = [[0, 4, "PER"], [10, 15, "LOC"]][: rng.randint(0, 2)]
        records.append({"text": "Anna went to Paris today " * 2, "label": spans, "id": str(i)})
        found = [{"start": s, "end": e if rng.random() < 0.8 else e - 1, "label": k} for s, e, k in spans]
        if rng.random() < 0.3:
            found.append({"start": 20, "end": 25, "label": "LOC"})
        answers.append({"entities": found})
    return records, answers, ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def _extractive_qa() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    records = [{"text": "who?", "text_pair": "the red fox", "label": "red fox"} for _ in range(60)]
    answers = [{"answer": rng.choice(["red fox", "the red fox", "fox", "blue"])} for _ in records]
    return records, answers, []


def _matching() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    records = [
        {"text": f"q{i % 7}", "text_pair": f"a{i}", "label": str(rng.randint(0, 1))} for i in range(120)
    ]
    answers = []
    for r in records:
        score = rng.random() * 0.5 + 0.5 * int(r["label"])
        answers.append({"match": score >= 0.5, "score": score})
    return records, answers, ["0", "1"]


def _seq2seq() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    words = ["the", "a", "cat", "dog", "sat", "ran", "on", "under", "mat", "hill"]
    records = [{"text": f"s{i}", "label": " ".join(rng.choice(words) for _ in range(6))} for i in range(60)]
    answers = [
        {"text": " ".join(w if rng.random() < 0.7 else "zz" for w in r["label"].split())} for r in records
    ]
    return records, answers, []


CASES = {
    "classification": _classification,
    "regression": _regression,
    "multilabel": _multilabel,
    "token_classification": _token_classification,
    "extractive_qa": _extractive_qa,
    "matching": _matching,
    "seq2seq": _seq2seq,
}


@pytest.mark.parametrize("task_type", sorted(CASES))
def test_subset_metrics_on_every_record_equal_the_reported_metrics(task_type: str, tmp_path: Path) -> None:
    task = get_task(task_type)
    records, answers, labels = CASES[task_type]()
    reported = task.evaluate(records, answers, labels, tmp_path, "test")
    scorers = task.subset_metrics(records, answers, labels)
    assert set(scorers) & set(task.headline), "at least one headline metric gets an interval"
    everything = np.arange(len(records))
    for name, scorer in scorers.items():
        assert scorer(everything) == pytest.approx(reported[name], rel=1e-6, abs=1e-9), name
    for name, (low, high) in subset_intervals(scorers, len(records)).items():
        assert low <= reported[name] <= high, name


def test_compare_says_lower_error_is_better_for_regression() -> None:
    task = get_task("regression")
    records = [{"text": f"t{i}", "label": float(i % 10)} for i in range(300)]
    close = [{"value": r["label"] + rng.gauss(0, 0.5)} for r in records]
    far = [{"value": r["label"] + rng.gauss(0, 2.0)} for r in records]
    differences = compare_metrics(
        task.subset_metrics(records, far, ["value"]), task.subset_metrics(records, close, ["value"]), 300
    )
    rmse = next(d for d in differences if d.metric == "rmse")
    assert rmse.delta < 0 and rmse.high < 0
    assert rmse.verdict().startswith("B is better on rmse, -1.")  # in the label's units, not points


def test_generation_compare_uses_sacrebleu_paired_bootstrap() -> None:
    from tunesmith.tasks.generation import generation_subset_metrics, sacrebleu_paired_p

    records, answers, _ = _seq2seq()
    references = [r["label"] for r in records]
    worse = [" ".join(w if rng.random() < 0.4 else "zz" for w in r.split()) for r in references]
    better = [a["text"] for a in answers]
    p = sacrebleu_paired_p(references, worse, better)
    assert p["bleu"] < 0.01 and p["chrf"] < 0.01
    assert sacrebleu_paired_p(references, better, better) == {"bleu": 1.0, "chrf": 1.0}
    differences = compare_metrics(
        generation_subset_metrics(worse, references), generation_subset_metrics(better, references), 60
    )
    bleu = next(d for d in differences if d.metric == "bleu")
    assert bleu.low > 0 and bleu.verdict().startswith("B is better on bleu, +")  # BLEU is already in points


def test_regression_slices_rank_the_slice_with_the_larger_error_as_worst() -> None:
    task = get_task("regression")
    groups = ["web"] * 100 + ["phone"] * 100
    records = [{"text": "t", "label": 5.0} for _ in groups]
    answers = [{"value": 5.0 + rng.gauss(0, 0.5 if g == "web" else 2.0)} for g in groups]
    report = slice_report(task.subset_metrics(records, answers, ["value"]), groups, 30)
    assert report["worst_slice_rmse"] == "phone" and report["gap_rmse"] > 1.0
    assert "demographic_parity_difference" not in report  # label fairness needs one label per record


def test_robustness_of_a_regression_reports_its_error_and_no_flip_rate() -> None:
    from tunesmith.evaluate.robustness import robustness_report

    task = get_task("regression")
    records = [{"text": "x" * n, "label": float(n)} for n in range(2, 42)]

    def by_length(items: list[dict[str, Any]]) -> list[dict[str, Any]]:  # a "model": the text's length
        return [{"value": float(len(r["text"]))} for r in items]

    def rmse(answers: list[dict[str, Any]]) -> float:
        return task.subset_metrics(records, answers, ["value"])["rmse"](np.arange(len(records)))

    found = robustness_report(records, by_length(records), by_length, ["truncation", "case"], 0, rmse, "rmse")
    assert found["suites"]["clean"]["rmse"] == 0.0 and found["suites"]["case"]["rmse"] == 0.0
    assert found["suites"]["truncation"]["rmse"] > 5  # half of each text is gone
    assert "flip_rate" not in found and "flip_rate" not in found["suites"]["truncation"]
