"""`tunesmith runs`, `runs compare` and `reproduce` through the real CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cli_helpers import tunesmith
from conftest import fast_overrides
from helpers import faq_records, write_jsonl


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr  # tables and messages go to stderr, answers to stdout


def test_runs_are_listed_compared_and_reproduced(tmp_path: Path, tiny_model: Path) -> None:
    write_jsonl(tmp_path / "faq.jsonl", faq_records(160))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("data: {train: faq.jsonl, text_field: question, label_field: intent}\n")
    overrides = [arg for o in fast_overrides(tiny_model) for arg in ("--set", o)]
    one = ["--set", "training.epochs=1", "--set", "evaluation.baseline_gate=false"]  # to compare, not to ship
    tunesmith("run", str(recipe), "-o", "runs/one", *overrides, *one, cwd=tmp_path)
    tunesmith("run", str(recipe), "-o", "runs/four", *overrides, cwd=tmp_path)
    tunesmith("prepare", str(recipe), "-o", "runs/only-prepared", *overrides, cwd=tmp_path)

    listing = _output(tunesmith("runs", "--root", "runs", cwd=tmp_path))
    assert "runs/one" in listing and "runs/four" in listing and "finished" in listing
    assert "prepared" in listing and "accuracy" in listing

    compared = _output(tunesmith("runs", "compare", "runs/one", "runs/four", cwd=tmp_path))
    assert "training.epochs" in compared and "1.0" in compared and "4.0" in compared
    assert "macro_f1" in compared and "B - A" in compared
    one = json.loads((tmp_path / "runs/one/metrics.json").read_text())["test"]["accuracy"]
    four = json.loads((tmp_path / "runs/four/metrics.json").read_text())["test"]["accuracy"]
    assert f"{four - one:+.4f}" in compared

    # Offline A/B on A's test split, then on a file of raw records.
    ab = _output(tunesmith("compare", "runs/one", "runs/four", cwd=tmp_path))
    assert "McNemar:" in ab and f"{four - one:+.4f}" in ab
    assert ("B is better on accuracy" in ab) or ("no significant difference on accuracy" in ab)
    write_jsonl(
        tmp_path / "holdout.jsonl",
        [{"text": r["question"], "label": r["intent"]} for r in faq_records(30, seed=9)],
    )
    held = _output(tunesmith("compare", "runs/one", "runs/four", "--data", "holdout.jsonl", cwd=tmp_path))
    assert "B - A on 30 records" in held

    manifest = json.loads((tmp_path / "runs/four/manifest.json").read_text())
    assert len(manifest["recipe_sha256"]) == 64 and manifest["seed"] == 42
    assert manifest["data_fingerprint"] and manifest["libraries"]["torch"]
    done = tunesmith("reproduce", "runs/four", cwd=tmp_path)
    assert "reproduced" in _output(done)
    report = json.loads((tmp_path / "runs/four-reproduced/reproduction.json").read_text())
    assert report["matches"] and report["same_data"] and report["same_recipe"]

    # A run whose recorded metrics do not come out again is reported, with exit code 1.
    metrics_path = tmp_path / "runs/one/metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics["test"]["accuracy"] += 0.1
    metrics_path.write_text(json.dumps(metrics))
    failed = tunesmith("reproduce", "runs/one", "-o", "runs/one-again", cwd=tmp_path, check=False)
    assert failed.returncode == 1 and "not reproduced" in _output(failed) and "accuracy" in _output(failed)
