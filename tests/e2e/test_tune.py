"""`tunesmith tune`: an Optuna search over the recipe's space whose best trial becomes a run."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import yaml
from cli_helpers import tunesmith
from conftest import fast_overrides
from helpers import faq_records, write_jsonl


def test_search_keeps_a_sqlite_study_and_turns_the_best_trial_into_a_run(
    tmp_path: Path, tiny_model: Path
) -> None:
    write_jsonl(tmp_path / "faq.jsonl", faq_records(160))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "name: faq\n"
        "data: {train: faq.jsonl, text_field: question, label_field: intent}\n"
        "tune:\n"
        "  space:\n"
        "    training.learning_rate: {low: 1.0e-4, high: 3.0e-2, log: true}\n"
        "    training.epochs: [1, 3]\n",
        encoding="utf-8",
    )
    overrides = [arg for o in fast_overrides(tiny_model) for arg in ("--set", o)]
    tunesmith("tune", str(recipe), "--trials", "3", "-o", "runs/faq", *overrides, cwd=tmp_path)

    study_dir = tmp_path / "runs" / "faq-tune"
    study = optuna.load_study(study_name="faq", storage=f"sqlite:///{study_dir / 'optuna.db'}")
    assert len(study.trials) == 3
    summary = json.loads((study_dir / "tune_summary.json").read_text())
    assert summary["best_value"] == study.best_value and summary["metric"] == "validation macro_f1"
    assert (study_dir / "tune_history.png").stat().st_size > 0
    # The best trial is a normal, bundled run whose recipe holds the chosen values.
    run = tmp_path / "runs" / "faq"
    chosen = yaml.safe_load((run / "recipe.yaml").read_text())["training"]
    assert chosen["learning_rate"] == study.best_params["training.learning_rate"]
    assert chosen["epochs"] == study.best_params["training.epochs"]
    assert (run / "manifest.json").is_file() and (run / "metrics.json").is_file()
    best_summary = json.loads((run / "train_summary.json").read_text())
    assert best_summary["best_metric"] == study.best_value
    # Only the best trial keeps a model; the others keep their logs.
    kept = [p.parent.name for p in study_dir.glob("trial-*/model")]
    assert kept == [f"trial-{study.best_trial.number}"]
    tunesmith("predict", "runs/faq", "忘记密码", cwd=tmp_path)

    # A key that would change the prepared data cannot be searched.
    recipe.write_text(recipe.read_text().replace("training.epochs", "split.test_size"), encoding="utf-8")
    refused = tunesmith(
        "tune", str(recipe), "--trials", "1", "-o", "runs/x", *overrides, cwd=tmp_path, check=False
    )
    assert refused.returncode == 2 and "prepared once" in refused.stdout + refused.stderr
