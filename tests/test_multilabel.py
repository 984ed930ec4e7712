"""Multi-label classification: lists of labels (an empty list is "none of these"), thresholds
tuned on validation and stored with the model, the same answers from the CLI and the server."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import Server, tunesmith
from conftest import fast_overrides

from tunesmith.client import Client
from tunesmith.tasks import get_task
from tunesmith.tasks.multilabel import multilabel_metrics

TAGS = {"refund": "billing", "invoice": "billing", "late": "delivery", "parcel": "delivery", "rude": "staff"}


def test_labels_thresholds_and_metrics() -> None:
    task = get_task("multilabel")
    assert task.parse_label(["b", "a", "a", None, ""]) == ["a", "b"]
    assert task.parse_label("a; b") == ["a", "b"] and task.parse_label([]) == []
    assert task.label_space([["b"], [], ["a", "b"]]) == ["a", "b"]
    assert task.count_keys([]) == ["(none)"]
    # label "a" is positive when its logit is above 1.0: the tuned threshold must sit near sigmoid(1)
    logits = np.array([[2.0, -3.0], [1.5, -3.0], [0.5, -3.0], [0.0, -3.0], [-1.0, -3.0]])
    state = task.calibrate(logits, [["a"], ["a"], [], [], []], ["a", "b"])
    assert 0.62 < state["thresholds"]["a"] <= 0.8 and state["thresholds"]["b"] == 0.5  # b: no positives
    answers = task.decode(logits, [{"text": "x"}] * 5, ["a", "b"], state)
    assert [a["labels"] for a in answers] == [["a"], ["a"], [], [], []]
    truth, predicted = np.array([[1, 0], [1, 1], [0, 0]]), np.array([[1, 0], [1, 0], [0, 0]])
    metrics = multilabel_metrics(truth, predicted)
    assert metrics["micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 1)) and metrics[
        "subset_accuracy"
    ] == pytest.approx(2 / 3)


def test_multilabel_run_from_init_to_server(tmp_path: Path, tiny_model: Path) -> None:
    rng = random.Random(1)
    rows = []
    for i in range(200):
        words = rng.sample(list(TAGS), rng.randrange(0, 3))
        text = " ".join([*words, "ticket", str(i)]) if words else f"hello there ticket {i}"
        rows.append({"text": text, "tags": sorted({TAGS[w] for w in words})})
    (tmp_path / "tickets.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    tunesmith("init", "tickets.jsonl", cwd=tmp_path)
    recipe_text = (tmp_path / "recipe.yaml").read_text(encoding="utf-8")
    assert "type: multilabel" in recipe_text and "label_field: tags" in recipe_text
    sets = [arg for item in fast_overrides(tiny_model) for arg in ("--set", item)]
    tunesmith(
        "run", "recipe.yaml", *sets, "--set", "training.epochs=8", "--output", "runs/tags", cwd=tmp_path
    )
    run = tmp_path / "runs" / "tags"
    thresholds = json.loads((run / "model" / "task_state.json").read_text())["thresholds"]
    assert set(thresholds) == {"billing", "delivery", "staff"} and all(0 < t < 1 for t in thresholds.values())
    metrics = json.loads((run / "metrics.json").read_text())["test"]
    assert {"micro_f1", "macro_f1", "subset_accuracy", "per_label"} <= set(metrics)
    assert (run / "f1_per_label_test.png").is_file()
    report = json.loads((run / "data" / "report.json").read_text())
    assert (
        report["labels"] == ["billing", "delivery", "staff"] and report["label_counts"]["train"]["(none)"] > 0
    )
    text = "refund for the late parcel"
    cli = json.loads(tunesmith("predict", str(run), text, cwd=tmp_path).stdout)
    with Server(run) as server, Client(server.url) as client:
        served = client.predict(text)
    assert served["labels"] == cli["labels"]
    assert served["probabilities"] == pytest.approx(cli["probabilities"], abs=1e-6)
