"""AutoGluon on a tunesmith run's own splits: what a user gets from its three lines on the same data.

Runs inside AutoGluon's own virtual environment (benchmarks/scenarios.py makes it; AutoGluon is
never a dependency of tunesmith) and needs nothing of tunesmith:

    python autogluon_side.py RUN_DIR OUT.json [--time-limit SECONDS]

Reads RUN_DIR/data/{train,validation,test}.jsonl (as prepared: cleaned and de-identified, the
same records tunesmith learned from), fits `TabularPredictor(label=...).fit(train + validation,
presets="medium_quality", time_limit=...)` - AutoGluon holds out its own validation - and scores
the test split with the scenario's headline metric. Columns, as a user would hand them over:
a text task's `text` (and `text_pair`) - Chinese text written as space-separated character pairs,
as the issue that asked for this comparison found AutoGluon needs (its n-grams split on spaces,
so Chinese as it comes gives it nothing: F1 0.006 on ATEC); a table's fields, a list becoming
one 0/1 column per item and an item -> true/false map one +1/-1/0 column per key (as that issue
did for MuZhi); a multi-label task one predictor per label, each given an equal share of the
time limit, thresholds left at AutoGluon's own.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _read(run: Path, split: str) -> list[dict[str, Any]]:
    path = run / "data" / f"{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _flatten(columns: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, value in columns.items():
        if isinstance(value, list):
            row.update({f"{name}[{item}]": 1 for item in value})
        elif isinstance(value, dict):
            for key, item in value.items():
                row[f"{name}.{key}"] = (1 if item else -1) if isinstance(item, bool) else item
        else:
            row[name] = value
    return row


def _spaced(text: str) -> str:
    """'花呗怎么还' -> '花呗 呗怎 怎么 么还' when the text is mostly Chinese; other text as it is."""
    cjk = sum("\u3400" <= ch <= "\u9fff" for ch in text)
    if cjk < 0.5 * max(len(text), 1):
        return text
    return " ".join(text[i : i + 2] for i in range(max(len(text) - 1, 1)))


def frame(records: list[dict[str, Any]], task: str) -> pd.DataFrame:
    if task == "tabular":
        rows = [_flatten(r["columns"]) for r in records]
        table = pd.DataFrame(rows)
        items = [c for c in table.columns if "[" in c or "." in c]
        table[items] = table[items].fillna(0)  # an item not listed, a key not asked: 0
        for name in table.columns:  # numbers as a CSV reader gives them (prepared rows keep text)
            numbers = pd.to_numeric(table[name], errors="coerce")
            if numbers.notna().mean() >= 0.95 * table[name].notna().mean():
                table[name] = numbers
    else:
        table = pd.DataFrame(
            {k: [_spaced(r.get(k) or "") for r in records] for k in ("text", "text_pair") if k in records[0]}
        )
    return table


def headline(
    task: str, truth: list[Any], predicted: list[Any], scores: np.ndarray | None, labels: list[str]
) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, average_precision_score, f1_score

    if task == "matching":
        y = np.asarray([int(t) for t in truth])
        return {
            "f1": float(f1_score(y, np.asarray([int(p) for p in predicted]))),
            "pr_auc": float(average_precision_score(y, scores)),
        }
    if task == "tabular" and len(labels) == 2:
        positive = labels[1]
        y = np.asarray([int(str(t) == positive) for t in truth])
        return {
            "pr_auc": float(average_precision_score(y, scores)),
            "accuracy": float(accuracy_score([str(t) for t in truth], [str(p) for p in predicted])),
        }
    truth_s, predicted_s = [str(t) for t in truth], [str(p) for p in predicted]
    return {
        "accuracy": float(accuracy_score(truth_s, predicted_s)),
        "macro_f1": float(f1_score(truth_s, predicted_s, average="macro")),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--time-limit", type=float, default=1200)
    args = parser.parse_args()
    import yaml  # AutoGluon's environment has PyYAML
    from autogluon.tabular import TabularPredictor

    task = yaml.safe_load((args.run / "recipe.yaml").read_text(encoding="utf-8"))["task"]["type"]
    train = _read(args.run, "train") + _read(args.run, "validation")
    test = _read(args.run, "test")
    labels = json.loads((args.run / "data" / "labels.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    work = args.out.parent / "autogluon-models"
    if task == "multilabel":
        predicted = np.zeros((len(test), len(labels)), dtype=int)
        x_train, x_test = frame(train, task), frame(test, task)
        for j, label in enumerate(labels):
            data = x_train.assign(target=[int(label in r["label"]) for r in train])
            predictor = TabularPredictor(label="target", path=str(work / f"label{j}"), verbosity=0).fit(
                data, presets="medium_quality", time_limit=args.time_limit / len(labels)
            )
            predicted[:, j] = predictor.predict(x_test).to_numpy().astype(int)
        truth = np.asarray([[int(label in r["label"]) for label in labels] for r in test])
        from sklearn.metrics import f1_score

        found = {"micro_f1": float(f1_score(truth, predicted, average="micro"))}
        best = "one predictor per label"
    else:
        x_train, x_test = frame(train, task), frame(test, task)
        if task == "tabular":  # an item or key no training record has: not a column
            x_test = x_test.reindex(columns=x_train.columns, fill_value=0)
        data = x_train.assign(target=[str(r["label"]) for r in train])
        predictor = TabularPredictor(label="target", path=str(work / "single"), verbosity=1).fit(
            data, presets="medium_quality", time_limit=args.time_limit
        )
        predicted = predictor.predict(x_test).tolist()
        scores = None
        if len(labels) == 2 or task == "matching":
            positive = "1" if task == "matching" else labels[1]
            probabilities = predictor.predict_proba(x_test)
            scores = (
                probabilities[positive].to_numpy()
                if positive in probabilities
                else probabilities.iloc[:, -1].to_numpy()
            )
        found = headline(task, [r["label"] for r in test], predicted, scores, labels)
        best = str(predictor.model_best)
    fingerprint = json.loads((args.run / "data" / "report.json").read_text(encoding="utf-8"))["fingerprint"]
    result = {
        "metrics": found,
        "seconds": time.perf_counter() - started,
        "best_model": best,
        "test_records": len(test),
        "data_fingerprint": fingerprint,  # the same source files give the same splits: reusable
        "time_limit": args.time_limit,
    }
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
