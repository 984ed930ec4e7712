"""Regression: a number per text, through the same recipe, bundle, CLI and server."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from cli_helpers import Server, tunesmith
from conftest import fast_overrides

from tunesmith.client import Client
from tunesmith.tasks import get_task
from tunesmith.tasks.regression import regression_metrics

WORDS = {"terrible": 1.0, "bad": 2.0, "okay": 3.0, "good": 4.0, "great": 5.0}


def test_labels_metrics_and_answers() -> None:
    task = get_task("regression")
    assert task.parse_label(" 1,234.5 ") == 1234.5 and task.parse_label(3) == 3.0
    for bad in ("high", float("nan"), True, [1]):
        with pytest.raises(ValueError):
            task.parse_label(bad)
    metrics = regression_metrics([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 6.0])
    assert metrics["rmse"] == pytest.approx(1.0) and metrics["mae"] == pytest.approx(0.5)
    assert metrics["r2"] == pytest.approx(1 - 4 / 5) and metrics["spearman"] == pytest.approx(1.0)
    assert task.decode([[2.5], [-1.0]], [{"text": "x"}] * 2, ["value"]) == [{"value": 2.5}, {"value": -1.0}]


def test_regression_run_serves_the_same_numbers_as_the_cli(tmp_path: Path, tiny_model: Path) -> None:
    rng = random.Random(0)
    rows = []
    for i in range(160):
        word = rng.choice(list(WORDS))
        rows.append(
            {"review": f"the service was {word} today {i}", "stars": WORDS[word] + rng.uniform(-0.2, 0.2)}
        )
    rows.append({"review": "no score here", "stars": "n/a"})  # quarantined: not a number
    (tmp_path / "reviews.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    (tmp_path / "r.yaml").write_text(
        "data: {train: reviews.jsonl, text_field: review, label_field: stars}\ntask: {type: regression}\n"
    )
    sets = [arg for item in fast_overrides(tiny_model) for arg in ("--set", item)]
    onnx = ("--set", "export.formats=[onnx]")
    tunesmith(
        "run", "r.yaml", *sets, *onnx, "--set", "training.epochs=6", "--output", "runs/stars", cwd=tmp_path
    )
    run = tmp_path / "runs" / "stars"
    assert json.loads((run / "export" / "onnx" / "parity.json").read_text())["agreement"] == 1.0
    metrics = json.loads((run / "metrics.json").read_text())["test"]
    assert set(metrics) >= {"rmse", "mae", "r2", "spearman", "count"} and math.isfinite(metrics["rmse"])
    assert (run / "predicted_vs_true_test.png").is_file()
    report = json.loads((run / "data" / "report.json").read_text())
    assert report["rows_rejected"] == 1 and 0.5 < report["target"]["min"] < report["target"]["max"] < 5.5
    assert not any("label" in w for w in report["warnings"])  # no advice about named labels
    card = (run / "model" / "README.md").read_text()
    assert "| split | rmse | mae | r2 | spearman |" in card
    low, high = metrics["confidence_intervals"]["rmse"]  # the card shows it beside the value
    assert low <= metrics["rmse"] <= high and f"{metrics['rmse']:.4f} [{low:.3f}, {high:.3f}]" in card
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["metric_for_best_model"] == "rmse"
    text = "the service was great today"
    cli = json.loads(tunesmith("predict", str(run), text, cwd=tmp_path).stdout)  # auto: the ONNX export
    eager = json.loads(tunesmith("predict", str(run), text, "--backend", "torch", cwd=tmp_path).stdout)
    with Server(run) as server, Client(server.url) as client:
        served = client.predict(text)
    assert set(cli) == {"value"} and served["value"] == pytest.approx(cli["value"], abs=1e-6)
    assert eager["value"] == pytest.approx(cli["value"], abs=1e-4)
    refused = tunesmith(
        "annotate", "suggest", str(run), "reviews.jsonl", "-o", "x.json", cwd=tmp_path, check=False
    )
    assert refused.returncode == 2 and "regression run" in refused.stderr
