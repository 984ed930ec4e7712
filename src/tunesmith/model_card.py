"""The model card (`model/README.md`, the Hugging Face convention): what the model is, what data
it saw and how that data was cleaned and de-identified, how it was trained, how well it does.

Written from the run's own files only (recipe, data report, metrics); it quotes no record, so it
cannot carry personal data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.bundle import read_json_if_present
from tunesmith.evaluate.exports import card_section
from tunesmith.evaluate.report import markdown_table, with_interval
from tunesmith.recipe import Recipe
from tunesmith.tasks import get_task

CARD = "README.md"


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def render(recipe: Recipe, report: dict[str, Any], metrics: dict[str, Any], summary: dict[str, Any]) -> str:
    """The card; `summary` is train_summary.json: the model that was trained (what `model.name:
    auto` chose) and the training values the recipe left on auto."""
    model_name = summary.get("model", recipe.model.name)
    language = {"zh": "zh", "en": "en"}.get(report.get("language", ""), "multilingual")
    counts = report["split_counts"]
    pii = report["pii"]
    duplicates = report.get("duplicates", {})
    labels = report["labels"]
    train_counts = report["label_counts"].get("train", {})
    headline = get_task(recipe.task).headline
    rows = [
        [split, *(with_interval(values, m) if m in values else "" for m in headline)]
        for split, values in metrics.items()
        if isinstance(values, dict)
    ]
    if pii.get("enabled"):
        found = ", ".join(f"{k} {v}" for k, v in pii["found_by_type"].items()) or "none found"
        columns = ", ".join(pii.get("columns", {})) or "none"
        privacy = (
            f"De-identification was on (action `{pii['action']}`) before tokenization: {found} in "
            f"{pii['records_with_pii']:,} records. Column policies: {columns}."
        )
    else:
        privacy = "De-identification was **off** (`prepare.pii.enabled: false`)."
    few = [label for label in labels if train_counts.get(label, 0) < 10]
    training = recipe.training.model_copy(update=summary.get("hyperparameters", {}))
    base = (
        Path(model_name).name if ("/" in model_name and Path(model_name).exists()) else model_name
    )  # a local folder: its name, not the machine's path
    served = summary.get("learner", "transformer")
    transformer = served == "transformer" or any(
        m["learner"] == "transformer" for m in summary.get("choice", {}).get("members", [])
    )
    if served == "transformer":
        what = (
            f"A {recipe.task.type} model fine-tuned by tunesmith from `{base}` on {counts['train']:,} "
            f"examples,\n{len(labels)} labels. Text longer than {recipe.model.max_length} tokens is cut."
        )
    else:
        what = (
            f"A {recipe.task.type} model trained by tunesmith on {counts['train']:,} examples, "
            f"{len(labels)} labels: {model_name}."
        )
    table_like = recipe.task.type == "tabular" and not transformer
    return f"""---
language: {language}
library_name: {"transformers" if transformer else "tunesmith"}
pipeline_tag: {"tabular-classification" if table_like else "text-classification"}
base_model: {base}
tags: [tunesmith, {recipe.task.type}]
---

# {recipe.name}

{what}
{_choice_lines(summary)}
## Evaluation

Each value with its 95% bootstrap interval over the split's records.

{markdown_table(["split", *headline], rows) if rows else "Not evaluated yet."}

## Data

- Records read: {report["rows_read"]:,}; used: train {counts["train"]:,}, validation {counts["validation"]:,},
  test {counts["test"]:,}; rejected: {report["rows_rejected"]:,} ({
        ", ".join(f"{k} {v}" for k, v in report["rejected_by_reason"].items()) or "none"
    }).
- Split: `{recipe.split.method}`, seed {recipe.seed}. Duplicates and leaked records removed:
  {duplicates.get("removed", 0) if duplicates.get("enabled") else "duplicate detection off"}.
- Language: {report.get("language")}. Data fingerprint: `{report["fingerprint"]}`.
- {privacy}

## Training

{_transformer_lines(recipe, training) if transformer else _learner_lines(summary)}

## Limitations

- Judge it on data like its own: {report.get("language")} text, the {len(labels)} labels above.
- {
        f"{len(few)} label(s) had fewer than 10 training examples; expect weak results on them."
        if few
        else "Every label had at least 10 training examples."
    }
- The full data report is `data/report.html` in the run folder.
"""


def _choice_lines(summary: dict[str, Any]) -> str:
    """Why this learner (or ensemble) is the bundle's model, and the leaderboard on validation."""
    choice, board = summary.get("choice"), summary.get("leaderboard")
    if not choice or not board:
        return ""
    metric = choice.get("metric") or ""
    rows = [
        [
            row["learner"],
            row.get("error", "failed")[:80]
            if row["status"] != "fitted"
            else f"{row.get('validation', {}).get(metric, float('nan')):.4f}",
            f"{row['fit_seconds']:.1f} s",
            f"{row['weight']:.2f}" if row.get("weight") else "",
        ]
        for row in board
    ]
    table = markdown_table(["learner", f"validation {metric}", "fit", "weight"], rows)
    return f"\nServed: {choice['reason']}.\n\n{table}\n"


def _learner_lines(summary: dict[str, Any]) -> str:
    """What each learner of a bundle without a transformer read and how it was fitted."""
    lines = []
    for row in summary.get("leaderboard", []):
        if row.get("weight") and row["learner"] != "ensemble":
            details = row.get("details", {})
            fitted = f"{row['fit_seconds']:.1f} s" + (
                f", bagged over {details['folds']} folds" if details.get("folds") else ""
            )
            lines.append(f"- {row['learner']}: {row['title']}; {details.get('features', '')}; {fitted}.")
    return "\n".join(lines) or "No learner details recorded."


def _transformer_lines(recipe: Recipe, training: Any) -> str:
    return (
        f"{_shown(training.epochs)} epochs (max steps {training.max_steps}), batch {training.batch_size}, "
        f"learning rate\n{_shown(training.learning_rate)}, warm-up {_shown(training.warmup_ratio)}, "
        f"weight decay {training.weight_decay:g},\nprecision `{training.precision}`, frozen word "
        f"embeddings: {recipe.model.freeze_word_embeddings},\nfrozen lower layers: "
        f"{recipe.model.freeze_layers}."
    )


def write_model_card(run_dir: Path, recipe: Recipe, report: dict[str, Any], metrics: dict[str, Any]) -> Path:
    path = run_dir / "model" / CARD
    summary = read_json_if_present(run_dir / "train_summary.json")
    atomic.write_text(path, render(recipe, report, metrics, summary) + card_section(run_dir))
    return path
