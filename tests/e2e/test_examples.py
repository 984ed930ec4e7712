"""Every scenario example in examples/ runs end to end on its sample data, with a tiny model in
place of the recipe's pretrained one (the recipes themselves are what a user runs)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import tunesmith
from helpers import build_tiny_model

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCENARIOS = sorted(p.parent.name for p in EXAMPLES.glob("*/recipe.yaml") if p.parent.name != "sentiment_zh")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


def _texts(folder: Path) -> list[str]:
    """Every string in the example's data: the tiny model's vocabulary."""
    texts = []
    for path in (folder / "data").iterdir():
        if path.suffix == ".jsonl":
            texts += [
                s
                for line in path.read_text(encoding="utf-8").splitlines()
                for s in _strings(json.loads(line))
            ]
        elif path.suffix == ".json":
            texts += _strings(json.loads(path.read_text(encoding="utf-8")))
        else:
            delimiter = "\t" if path.suffix == ".tsv" else ","
            with path.open(encoding="utf-8") as handle:
                texts += [cell for row in csv.reader(handle, delimiter=delimiter) for cell in row]
    return texts


def test_every_scenario_has_an_example() -> None:
    assert SCENARIOS == [
        "customer_service_faq",
        "fraud_csv",
        "legal_clauses",
        "medical_json",
        "translation_tsv",
    ]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_example_runs_and_answers(scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNESMITH_PII_KEY", "example-test-key")  # the fraud example pseudonymises columns
    folder = tmp_path / scenario
    shutil.copytree(EXAMPLES / scenario, folder)
    model = build_tiny_model(tmp_path / "tiny", _texts(folder))
    overrides = {
        "model.name": str(model),
        "model.freeze_word_embeddings": "false",
        "training.epochs": "1",
        "training.batch_size": "16",
        "training.learning_rate": "0.005",
        # one epoch of a tiny random model checks the plumbing, not skill: no trivial-baseline gate
        "evaluation.baseline_gate": "false",
    }
    sets = [arg for key, value in overrides.items() for arg in ("--set", f"{key}={value}")]
    tunesmith("run", "recipe.yaml", *sets, "--output", "run", cwd=folder)
    metrics = json.loads((folder / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["test"]["count"] > 0
    first = json.loads((folder / "run" / "data" / "test.jsonl").read_text(encoding="utf-8").splitlines()[0])
    if "columns" in first:  # a tabular run answers a row: its columns as a JSON object
        args = [json.dumps(first["columns"], ensure_ascii=False)]
    else:
        args = [first["text"]] + (["--pair", first["text_pair"]] if "text_pair" in first else [])
    answer = json.loads(tunesmith("predict", "run", *args, cwd=folder).stdout)
    assert answer, answer
    if scenario == "customer_service_faq":  # a question alone searches the knowledge base
        search = json.loads(tunesmith("predict", "run", "密码忘了怎么办", cwd=folder).stdout)
        assert len(search["answers"]) == 3
