"""What fine-tuning bought: the pretrained model as it was before training, answering test
records beside the fine-tuned one, and the gain with its paired bootstrap interval.

Only a model that can answer without training takes part: a generator (an encoder-decoder
translation model, a chat model, a decoder prompted with the source). A decoder that was never
taught the prompt's layout is shown three training pairs first (few-shot), as a user trying the
model without fine-tuning would; a head that starts random (classification) has nothing to show.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.console import console
from tunesmith.evaluate.trivial import gain_over
from tunesmith.metrics.plots import pyplot
from tunesmith.metrics.uncertainty import SubsetMetric
from tunesmith.runtime.predict import Predictor
from tunesmith.tasks import get_task

SHOTS = 3


def _shots(train: Sequence[dict[str, Any]], prompt: str, seed: int) -> str:
    """Three training pairs of median-or-shorter length, written as the prompt lays them out."""
    short = sorted(train, key=lambda r: len(r["text"]))[: max(len(train) // 2, SHOTS)]
    rng = np.random.default_rng(seed)
    chosen = [short[i] for i in sorted(rng.choice(len(short), min(SHOTS, len(short)), replace=False))]
    return "".join(f"{prompt.replace('{text}', r['text'])} {r['label']}\n\n" for r in chosen)


def untrained_predictor(
    run_dir: Path, fine_tuned: Predictor, train: Sequence[dict[str, Any]]
) -> tuple[Predictor, str] | None:
    """The pretrained model the run started from and its name, loaded as the task answers with
    it (a prompted decoder with few-shot pairs before its prompt); None when it cannot answer
    untrained."""
    from transformers import AutoTokenizer

    from tunesmith.models.resolve import resolve_model
    from tunesmith.tasks.seq2seq import DECODER

    recipe = fine_tuned.recipe
    if not hasattr(fine_tuned.task, "generation_batch"):
        return None
    summary_file = run_dir / "train_summary.json"
    summary = json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.is_file() else {}
    name = str(summary.get("model", recipe.model.name))
    path = resolve_model(name)
    task: Any = get_task(recipe.task)
    trust = recipe.model.trust_remote_code
    try:
        model = task.load_model(path, trust)
    except ValueError:  # an encoder: warm-started as bert2bert, it writes nothing before training
        return None
    if getattr(task, "kind", None) == DECODER and train:
        shots = _shots(train, task.prompt, recipe.seed)
        recipe = recipe.model_copy(
            update={"task": recipe.task.model_copy(update={"prompt": shots + task.prompt})}
        )
        task = get_task(recipe.task)
        task.kind = DECODER
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust)
    shown = Path(name).name if Path(name).exists() else name  # a local folder: its name, not the path
    return Predictor(run_dir, recipe, task, model, tokenizer, [], model_dir=path), shown


def untrained_baseline(
    run_dir: Path,
    fine_tuned: Predictor,
    records: Sequence[dict[str, Any]],
    answers: Sequence[dict[str, Any]],
    train: Sequence[dict[str, Any]],
) -> dict[str, Any] | None:
    """The untrained model's metrics on up to `evaluation.untrained` test records (a seeded sample)
    and the fine-tuned model's gain over it there; None when it cannot answer untrained."""
    recipe = fine_tuned.recipe
    count = min(recipe.evaluation.untrained, len(records))
    if count == 0:
        return None
    loaded = untrained_predictor(run_dir, fine_tuned, train)
    if loaded is None:
        return None
    untrained, model_name = loaded
    rng = np.random.default_rng(recipe.seed)
    positions = sorted(rng.choice(len(records), count, replace=False).tolist())
    sample = [records[i] for i in positions]
    console.print(f"the untrained model on {count:,} test records (what fine-tuning bought):")
    theirs = untrained.predict(sample, recipe.evaluation.batch_size, show=True)
    ours = [answers[i] for i in positions]
    task, labels = fine_tuned.task, fine_tuned.labels
    scorers: dict[str, SubsetMetric] = task.subset_metrics(sample, ours, labels)
    everything = np.arange(count)
    few_shot = untrained.recipe.task.prompt != recipe.task.prompt
    name = f"{model_name} before fine-tuning" + (f", shown {SHOTS} training pairs" if few_shot else "")
    found = gain_over(task, sample, theirs, labels, scorers, name)
    found["fine_tuned"] = {key: scorer(everything) for key, scorer in scorers.items()}
    found["records"] = count
    found["examples"] = [
        {"input": r["text"], "reference": r["label"], "untrained": t["text"], "fine_tuned": o["text"]}
        for r, t, o in list(zip(sample, theirs, ours, strict=True))[:5]
    ]
    return found


def describe_untrained(found: dict[str, Any]) -> str:
    """One line for the console and the report."""
    metric = found["metric"]
    return (
        f"{found['answer']}: {metric} {found['metrics'][metric]:.4f}, fine-tuned "
        f"{found['fine_tuned'][metric]:.4f} on the same {found['records']:,} records; fine-tuning gained "
        f"{found['gain']:+.4f} (95% CI {found['gain_low']:+.4f} to {found['gain_high']:+.4f})"
    )


def plot_untrained(found: dict[str, Any], path: Path) -> None:
    """The untrained and the fine-tuned model's metrics on the same records, side by side."""
    plt = pyplot()
    from tunesmith.metrics.plots import save_figure

    names = list(found["metrics"])
    # ROUGE-L is a share; BLEU and chrF are points out of 100: one scale for the picture
    scale = [100.0 if name == "rouge_l" else 1.0 for name in names]
    before = [found["metrics"][n] * k for n, k in zip(names, scale, strict=True)]
    after = [found["fine_tuned"][n] * k for n, k in zip(names, scale, strict=True)]
    positions = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.bar(positions - 0.2, before, 0.4, label="before fine-tuning", color="#b0b0b0")
    ax.bar(positions + 0.2, after, 0.4, label="fine-tuned", color="#3b75af")
    ax.set_xticks(positions, [f"{n} x100" if k != 1.0 else n for n, k in zip(names, scale, strict=True)])
    ax.set_title(f"what fine-tuning bought (test, n={found['records']:,})")
    ax.legend(fontsize=8)
    save_figure(fig, path)
