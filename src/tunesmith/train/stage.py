"""The train stage: prepared splits -> fine-tuned model in `model/`, with logs and curves.

Reads `recipe.yaml` and `data/` from the run folder; writes `model/` (atomically),
`logs/` (TensorBoard events), `training_log.json`, `train_summary.json` and `training_curves.png`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.console import console, quiet_transformers
from tunesmith.data.prepare import DATA_DIR, read_labels
from tunesmith.errors import RecipeError
from tunesmith.models.resolve import resolve_model
from tunesmith.recipe import Recipe, load_resolved
from tunesmith.tasks import Task, get_task
from tunesmith.train.curves import plot_training_curves
from tunesmith.train.freeze import freeze
from tunesmith.train.lora import apply_lora, merged, wants_lora
from tunesmith.train.losses import balanced_weights, imbalance_loss
from tunesmith.train.precision import choose_precision
from tunesmith.train.schedule import UnfreezeEncoder, build_optimizer, mark_permanently_frozen

MODEL_DIR = "model"
LABELS_FILE = "labels.json"
TASK_STATE_FILE = "task_state.json"  # what the task fitted on validation after training (thresholds)


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path
    summary: dict[str, Any]


def encode_splits(
    run_dir: Path, task: Task, tokenizer: Any, recipe: Recipe, labels: list[str], cache: Path
) -> dict[str, Any]:
    """Tokenize train and validation (no padding: the collator pads each batch to its longest)."""
    from datasets import load_dataset

    encoded = {}
    for split in ("train", "validation"):
        path = run_dir / DATA_DIR / f"{split}.jsonl"
        if not path.is_file() or path.stat().st_size == 0:
            continue
        raw = load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))
        encoded[split] = raw.map(
            lambda batch: with_lengths(task.encode(batch, tokenizer, recipe.model.max_length, labels)),
            batched=True,
            remove_columns=raw.column_names,
            desc=f"tokenizing {split}",
        )
    return encoded


def with_lengths(encoded: dict[str, Any]) -> dict[str, Any]:
    """Add the token count per example: length grouping reads it instead of re-measuring."""
    encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
    return encoded


_LOWER_IS_BETTER = ("loss", "rmse", "mae", "mse")


def best_metric(recipe: Recipe) -> tuple[str, bool]:
    """(the validation metric that picks the best checkpoint, whether greater is better)."""
    task = get_task(recipe.task)
    metric = recipe.training.metric_for_best_model or task.best_metric
    if metric == task.best_metric:
        return metric, task.greater_is_better
    return metric, not metric.endswith(_LOWER_IS_BETTER)


def training_arguments(recipe: Recipe, output_dir: Path, has_validation: bool) -> Any:
    import torch
    from transformers import TrainingArguments

    t = recipe.training
    precision = choose_precision(t.precision)
    metric, greater_is_better = best_metric(recipe)
    evaluating = "epoch" if has_validation else "no"
    return TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.eval_batch_size,
        learning_rate=t.learning_rate,
        weight_decay=t.weight_decay,  # Trainer excludes biases and LayerNorm weights from decay
        lr_scheduler_type="linear",
        warmup_steps=t.warmup_ratio,  # a value below 1 is a ratio of the total steps
        train_sampling_strategy="group_by_length" if t.group_by_length else "random",
        eval_strategy=evaluating,
        save_strategy=evaluating if has_validation else "no",
        save_total_limit=1,
        save_only_model=not t.keep_checkpoints,
        load_best_model_at_end=has_validation,
        metric_for_best_model=metric if has_validation else None,
        greater_is_better=greater_is_better,
        logging_steps=t.logging_steps,
        logging_first_step=True,
        report_to="none",
        seed=recipe.seed,
        data_seed=recipe.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        disable_tqdm=False,
    )


def _calibrate(
    run_dir: Path, recipe: Recipe, task: Task, model: Any, tokenizer: Any, labels: list[str], stage: Path
) -> dict[str, Any] | None:
    """Let the task fit its decision settings on validation, predicted in file order."""
    from tunesmith.data.prepare import read_split
    from tunesmith.predict import Predictor

    records = read_split(run_dir, "validation")
    predictor = Predictor(run_dir, recipe, task, model.eval(), tokenizer, labels, stage)
    outputs = predictor.outputs(records, recipe.evaluation.batch_size)
    return task.calibrate(outputs, [r["label"] for r in records], labels)


def _imbalance_loss(run_dir: Path, recipe: Recipe, task: Task, labels: list[str]) -> tuple[Any, Any]:
    """(the Trainer's compute_loss_func, the weight per label) for class weights or focal loss;
    (None, None) when the recipe asks for neither."""
    options = recipe.training
    if options.class_weights == "none" and not options.focal_gamma:
        return None, None
    if not task.weighs_classes:
        raise RecipeError(
            f"training.class_weights and training.focal_gamma apply to single-label classification "
            f"(classification, tabular), not {task.type}"
        )
    weights = None
    if options.class_weights == "balanced":
        report = json.loads((run_dir / DATA_DIR / "report.json").read_text(encoding="utf-8"))
        weights = balanced_weights(report["label_counts"]["train"], labels)
    elif isinstance(options.class_weights, dict):
        unknown = sorted(set(options.class_weights) - set(labels))
        if unknown:
            raise RecipeError(f"training.class_weights names labels not in the data: {', '.join(unknown)}")
        weights = [float(options.class_weights.get(label, 1.0)) for label in labels]
    if weights is not None:
        shown = ", ".join(f"{label} {w:.2f}" for label, w in zip(labels, weights, strict=True))
        console.print(f"class weights: {shown}")
    per_label = dict(zip(labels, weights, strict=True)) if weights is not None else None
    return imbalance_loss(weights, options.focal_gamma), per_label


def _model_name(run_dir: Path, recipe: Recipe) -> str:
    """`model.name`, or for `auto` the recommended offline model for the task and data language."""
    if recipe.model.name != "auto":
        return recipe.model.name
    from tunesmith.models.recommend import choose_auto

    report = json.loads((run_dir / DATA_DIR / "report.json").read_text(encoding="utf-8"))
    choice = choose_auto(
        recipe.task.type, report["language"], recipe.training.batch_size, recipe.model.max_length
    )
    console.print(f"model.name auto -> {choice.model.name} ({'; '.join(choice.reasons)})")
    return choice.model.name


def train(run_dir: Path) -> TrainResult:
    """Fine-tune the recipe's model on the run folder's prepared data."""
    from torch.utils.tensorboard import SummaryWriter
    from transformers import (
        AutoTokenizer,
        EarlyStoppingCallback,
        Trainer,
        set_seed,
    )
    from transformers.integrations import TensorBoardCallback

    quiet_transformers()
    recipe = load_resolved(run_dir)
    task = get_task(recipe.task)
    labels = read_labels(run_dir)
    model_name = _model_name(run_dir, recipe)
    model_path = resolve_model(model_name)
    set_seed(recipe.seed)
    trust = recipe.model.trust_remote_code
    tokenizer = AutoTokenizer.from_pretrained(model_path, trust_remote_code=trust)
    model = task.build_model(model_path, labels, trust)
    if wants_lora(recipe.model.lora, sum(p.numel() for p in model.parameters())):
        model = apply_lora(model, recipe.model.lora)  # peft freezes the encoder itself
        frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    else:
        frozen = freeze(model, recipe.model.freeze_word_embeddings, recipe.model.freeze_layers)
    mark_permanently_frozen(model)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    console.print(
        f"[bold]training[/] {model_name} ({trainable / 1e6:.1f}M trainable parameters"
        + (f", {frozen / 1e6:.1f}M frozen" if frozen else "")
        + f") for {len(labels)} labels"
    )
    checkpoints = run_dir / "checkpoints"
    with tempfile.TemporaryDirectory() as cache:
        splits = encode_splits(run_dir, task, tokenizer, recipe, labels, Path(cache))
        if "train" not in splits:
            raise ValueError(f"{run_dir / DATA_DIR / 'train.jsonl'} holds no records to train on")
        has_validation = "validation" in splits
        args = training_arguments(recipe, checkpoints, has_validation)
        callbacks: list[Any] = []
        writer = None
        if recipe.training.tracking == "tensorboard":
            writer = SummaryWriter(log_dir=str(run_dir / "logs"))
            callbacks.append(TensorBoardCallback(tb_writer=writer))
        if has_validation and recipe.training.early_stopping_patience:
            callbacks.append(EarlyStoppingCallback(recipe.training.early_stopping_patience))
        optimizer = None
        if recipe.training.head_only_epochs or recipe.training.layerwise_lr_decay:
            if hasattr(model, "peft_config"):  # a LoRA-wrapped model
                raise RecipeError("training.head_only_epochs / layerwise_lr_decay do not combine with LoRA")
            optimizer = build_optimizer(model, recipe)
            if recipe.training.head_only_epochs:
                callbacks.append(UnfreezeEncoder(model, recipe.training.head_only_epochs))
        loss_function, class_weights = _imbalance_loss(run_dir, recipe, task, labels)
        trainer = Trainer(
            model=model,
            compute_loss_func=loss_function,
            args=args,
            train_dataset=splits["train"],
            eval_dataset=splits.get("validation"),
            processing_class=tokenizer,
            data_collator=task.collator(tokenizer),
            compute_metrics=task.trainer_metrics(labels),
            callbacks=callbacks,
            optimizers=(optimizer, None),
        )
        output = trainer.train()
        if writer is not None:
            writer.close()
    out = run_dir / MODEL_DIR
    with atomic.staged_dir(out) as stage:
        # Not trainer.save_model: it also writes training_args.bin, a pickle. Safetensors only.
        final = merged(trainer.model)  # LoRA adapters folded in: the bundle is a plain model
        final.save_pretrained(stage, safe_serialization=True)
        tokenizer.save_pretrained(stage)
        atomic.write_json(stage / LABELS_FILE, labels)
        task.save_extras(run_dir, stage)
        state = _calibrate(run_dir, recipe, task, final, tokenizer, labels, stage) if has_validation else None
        if state is not None:
            atomic.write_json(stage / TASK_STATE_FILE, state)
    atomic.write_text(run_dir / "training_args.json", args.to_json_string())
    history = trainer.state.log_history
    summary = {
        "model": model_name,
        "resolved_model_path": str(model_path),
        "precision": "bf16" if args.bf16 else "fp16" if args.fp16 else "fp32",
        "trainable_parameters": trainable,
        "frozen_parameters": frozen,
        "steps": trainer.state.global_step,
        "epochs": trainer.state.epoch,
        "train_runtime_s": output.metrics.get("train_runtime"),
        "train_samples_per_second": output.metrics.get("train_samples_per_second"),
        "train_loss": output.metrics.get("train_loss"),
        "best_metric": trainer.state.best_metric,
        "metric_for_best_model": args.metric_for_best_model,
        "class_weights": class_weights,
        "focal_gamma": recipe.training.focal_gamma,
    }
    atomic.write_json(run_dir / "training_log.json", history)
    atomic.write_json(run_dir / "train_summary.json", summary)
    plot_training_curves(history, best_metric(recipe)[0], run_dir / "training_curves.png")
    if not recipe.training.keep_checkpoints:
        shutil.rmtree(checkpoints, ignore_errors=True)
    console.print(
        f"[bold]trained[/] {summary['steps']} steps in {summary['train_runtime_s']:.0f} s "
        f"({summary['train_samples_per_second']:.1f} samples/s) -> {out}"
    )
    return TrainResult(out, summary)
