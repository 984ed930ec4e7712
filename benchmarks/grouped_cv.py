"""How good is each fast learner on records it has never seen, measured with less noise than one
test split: cross-validation over all of a prepared run's rows (train, validation and test),
records of one group (a document, a patient) kept in one fold - else stratified by label - as
`train` makes its bagging folds (`train/learners.fold_split`).

A test split of a few documents swings by several points with the documents drawn (CLAUDETTE: 40
documents, 4 in test). Here every row is tested once: per outer fold, each learner is fitted by
tunesmith's own code (`FeatureMember.fit`, bagged over inner folds as `train` bags it), its
thresholds or temperature chosen on the inner out-of-fold scores only, and the outer fold scored;
the figures are pooled over all rows, with the spread over folds.

    python benchmarks/grouped_cv.py RUN_DIR [--learners ngram_linear,lightgbm_rf] [--folds 5] \
        [--autogluon-venv /tmp/tunesmith-scenarios/autogluon-venv]

RUN_DIR is a run that `tunesmith prepare` (or `run`) wrote. With `--autogluon-venv` (the
environment benchmarks/scenarios.py makes), AutoGluon is fitted on the same outer folds
(benchmarks/autogluon_side.py, the run's time limit) and its mean over the folds printed beside
the learners'. Nothing here is a wall-clock assertion; fit seconds are printed for reference.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.learners.catalog import TRANSFORMER
from tunesmith.learners.member import FeatureMember
from tunesmith.learners.outputs import Targets, probabilities
from tunesmith.prepare.stage import read_labels, read_split
from tunesmith.recipe.io import load_resolved
from tunesmith.tasks import get_task
from tunesmith.tasks.multilabel import multilabel_metrics
from tunesmith.train.learners import examples_of, fold_split, folds_for

SPLITS = ("train", "validation", "test")


def autogluon_folds(
    run_dir: Path, records: list[dict[str, Any]], outer: list[tuple[np.ndarray, np.ndarray]], venv: Path
) -> list[dict[str, float]]:
    """AutoGluon's test figures per outer fold: each fold written as a run folder of its own."""
    from scenarios import autogluon  # benchmarks/scenarios.py, beside this file

    recipe = load_resolved(run_dir)
    figures_per_fold = []
    for k, (fit_rows, test_rows) in enumerate(outer):
        fold = run_dir.parent / f"{run_dir.name}-cv" / f"fold{k}"
        data = fold / "data"
        data.mkdir(parents=True, exist_ok=True)
        shutil.copy(run_dir / "recipe.yaml", fold / "recipe.yaml")
        shutil.copy(run_dir / "data" / "labels.json", data / "labels.json")
        for split, rows in (("train", fit_rows), ("validation", []), ("test", test_rows)):
            lines = [json.dumps(records[i], ensure_ascii=False) for i in rows]
            (data / f"{split}.jsonl").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        (data / "report.json").write_text(json.dumps({"fingerprint": f"cv-fold{k}"}), encoding="utf-8")
        found = autogluon(venv / "bin" / "python", fold, fold, float(recipe.training.time_limit or 1200))
        if "error" in found:
            raise SystemExit(f"AutoGluon failed on fold {k}: {found['error']}")
        figures_per_fold.append(found["metrics"])
    return figures_per_fold


def answers(
    task: Any, labels: list[str], oof: np.ndarray, fit_records: list[dict[str, Any]], logits: np.ndarray
) -> np.ndarray:
    """What the learner answers on the outer fold, tuned on the inner out-of-fold scores alone:
    per-label thresholds as the task calibrates them (multi-label), the most probable label (one
    label), or the value."""
    kind = task.learner_outputs
    if kind == "value":
        return logits[:, 0]
    p = probabilities(kind, logits)
    if kind != "sigmoid":
        return np.asarray(p.argmax(axis=1))
    tuned = task.calibrate(oof, [r["label"] for r in fit_records], labels)["thresholds"]
    return np.asarray(p >= np.asarray([tuned[label] for label in labels]), dtype=np.int64)


def figures(kind: str, truth: np.ndarray, answered: np.ndarray) -> dict[str, float]:
    if kind == "value":
        return {"rmse": float(np.sqrt(np.mean((answered - truth) ** 2)))}
    if kind == "sigmoid":
        return {"micro_f1": multilabel_metrics(truth, answered)["micro_f1"]}
    from sklearn.metrics import f1_score

    known = truth >= 0
    return {
        "accuracy": float((answered[known] == truth[known]).mean()),
        "macro_f1": float(f1_score(truth[known], answered[known], average="macro")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--learners", default="", help="comma-separated; default: the task's fast learners")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--autogluon-venv", type=Path, default=None)
    args = parser.parse_args()
    recipe = load_resolved(args.run_dir)
    task = get_task(recipe.task)
    kind = task.learner_outputs
    labels = read_labels(args.run_dir)
    records = [r for split in SPLITS for r in read_split(args.run_dir, split)]
    names = [n for n in args.learners.split(",") if n] or [
        n for n in task.learners(args.run_dir) if n != TRANSFORMER
    ]
    targets = Targets.of(kind, labels, [r["label"] for r in records])  # type: ignore[arg-type]
    examples = examples_of(task, records)
    outer = fold_split(records, targets, recipe.seed, args.folds)
    groups = len({r["group"] for r in records if r.get("group") is not None})
    kept_apart = f", {groups:,} groups kept apart" if groups > 1 else ""
    print(f"{args.run_dir}: {len(records):,} rows{kept_apart}, {len(outer)} outer folds")
    for name in names:
        answered = np.zeros_like(targets.y) if kind != "value" else np.zeros(len(records))
        per_fold, seconds = [], 0.0
        for fit_rows, test_rows in outer:
            fit_records = [records[i] for i in fit_rows]
            fit_targets = targets.take(fit_rows)
            # bagged as train bags it, and bagged where train would not: thresholds need out-of-fold scores
            inner = folds_for(fit_records, fit_targets, recipe.seed)
            inner = inner or fold_split(fit_records, fit_targets, recipe.seed)
            started = time.perf_counter()
            member, details = FeatureMember.fit(
                name, [examples[i] for i in fit_rows], fit_targets, [], None, recipe.seed, inner
            )
            seconds += time.perf_counter() - started
            oof = details["oof"]
            logits = member.logits([examples[i] for i in test_rows])
            answered[test_rows] = answers(task, labels, oof, fit_records, logits)
            per_fold.append(figures(kind, targets.y[test_rows], answered[test_rows]))
        pooled = figures(kind, targets.y, answered)
        headline = next(iter(pooled))
        spread = [f[headline] for f in per_fold]
        shown = ", ".join(f"{k} {v:.4f}" for k, v in pooled.items())
        print(
            f"  {name:16s} pooled {shown}; per fold {np.round(spread, 3).tolist()} "
            f"(mean {np.mean(spread):.4f}); fitted in {seconds:.0f} s"
        )
    if args.autogluon_venv is not None:
        found = autogluon_folds(args.run_dir, records, outer, args.autogluon_venv.resolve())
        shown = ", ".join(f"{k} {np.mean([f[k] for f in found]):.4f}" for k in found[0])
        spread = [round(next(iter(f.values())), 3) for f in found]
        print(f"  {'AutoGluon':16s} mean over folds {shown}; per fold {spread}")


if __name__ == "__main__":
    main()
