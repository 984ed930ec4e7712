"""The train stage: prepared splits -> fine-tuned model in `model/`, with logs and curves.

Reads `recipe.yaml` and `data/` from the run folder; writes `model/` (atomically),
`checkpoints/` while it runs (resumable: `train(run_dir, resume=True)`), `logs/` (TensorBoard
events), `training_log.json`, `train_summary.json` and `training_curves.png`. Across several
processes (`launch.py`) every rank trains and rank 0 alone writes.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.bundle import LABELS_FILE, MODEL_DIR, TASK_STATE_FILE
from tunesmith.console import console, quiet_transformers
from tunesmith.data.guards import check_splits
from tunesmith.errors import RecipeError, TrainingStopped
from tunesmith.models.memory import advice, available_bytes, estimate_for
from tunesmith.models.resolve import resolve_model
from tunesmith.prepare.stage import DATA_DIR, read_labels
from tunesmith.recipe import Recipe, load_resolved
from tunesmith.tasks import Task, get_task
from tunesmith.train.arguments import best_metric, check_strategy, training_arguments
from tunesmith.train.auto import resolve
from tunesmith.train.checkpoints import (
    CHECKPOINTS_DIR,
    STOPPED_FILE,
    SaveEverySteps,
    StopOnInterrupt,
    latest_complete,
)
from tunesmith.train.curves import plot_training_curves
from tunesmith.train.freeze import freeze
from tunesmith.train.launch import Processes, in_worker, launch
from tunesmith.train.lora import apply_lora, merged, wants_lora
from tunesmith.train.losses import (
    auto_class_weights,
    balanced_weights,
    imbalance_loss,
    positive_weighted_loss,
    positive_weights,
)
from tunesmith.train.oversample import oversampled_indices
from tunesmith.train.precision import choose_precision
from tunesmith.train.progress import ProgressFile
from tunesmith.train.result import TrainResult
from tunesmith.train.schedule import UnfreezeEncoder, build_optimizer, mark_permanently_frozen
from tunesmith.train.task_loss import trainer_class
from tunesmith.train.time_plan import (
    DEADLINE_ENV,
    MIN_STEPS,
    SPEED_SAMPLE,
    OutOfTime,
    TimePlan,
    agreed,
    checkpoint_seconds,
    deadline_from_environment,
    measure_step_seconds,
    plan,
    stop_at_deadline,
)
from tunesmith.train.tracking import is_main_process, tracking_callbacks


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


def calibrate_on_validation(
    run_dir: Path,
    recipe: Recipe,
    task: Task,
    model: Any,
    tokenizer: Any,
    labels: list[str],
    stage: Path,
    auto_weights: list[float] | None,
    search: bool = True,
) -> tuple[dict[str, Any] | None, Any]:
    """Let the task fit its decision settings on validation, predicted in file order; returns them
    and the validation outputs. `auto_weights`: class weights that `class_weights: auto` chose,
    for the task to keep or undo."""
    from tunesmith.prepare.stage import read_split
    from tunesmith.runtime.predict import Predictor

    if not task.graph_outputs:  # a generator has no decision settings: no pass generating for nothing
        return None, None
    records = read_split(run_dir, "validation")
    predictor = Predictor(run_dir, recipe, task, model.eval(), tokenizer, labels, stage)
    outputs = predictor.outputs(records, recipe.evaluation.batch_size)
    state = task.calibrate(outputs, [r["label"] for r in records], labels, auto_weights)
    searched = task.fit_search(predictor, records) if search else {}
    if searched:
        state = {**(state or {}), **searched}
        console.print(
            f"knowledge-base answers: hand-over below score {searched['answer_threshold']:.3f} "
            f"(validation: {searched['answer_coverage']:.0%} of the questions answered, "
            f"{searched['answer_unanswerable_handed_over'] or 0:.0%} of those without their answer "
            f"handed over, {searched['answer_precision']:.0%} of answers right)"
        )
    decided = (state or {}).get("class_weights")
    if decided:
        verdict = "kept" if decided["kept"] else "undone in the decisions"
        console.print(
            f"class weights {verdict}: validation macro-F1 {decided['macro_f1_with']:.4f} with them, "
            f"{decided['macro_f1_without']:.4f} without"
        )
    return state, outputs


def _imbalance_loss(
    run_dir: Path, recipe: Recipe, task: Task, labels: list[str]
) -> tuple[Any, dict[str, float] | None, bool]:
    """(the Trainer's compute_loss_func, the weight per label, whether the weights were chosen by
    `class_weights: auto`) for class weights, per-label positive weights or focal loss; (None,
    None, False) when nothing applies."""
    options = recipe.training
    weighting = options.class_weights
    applies = task.weighs_classes or (task.weighs_positives and not options.focal_gamma)
    if weighting == "auto" and not (task.weighs_classes or task.weighs_positives):
        weighting = "none"  # auto means nothing for tasks without a label softmax or sigmoid
    if weighting == "none" and not options.focal_gamma:
        return None, None, False
    if not applies:
        raise RecipeError(
            "training.class_weights and training.focal_gamma apply to single-label classification "
            f"(classification, tabular); class weights also to multilabel; not {task.type}"
        )
    report = json.loads((run_dir / DATA_DIR / "report.json").read_text(encoding="utf-8"))
    counts, total = report["label_counts"]["train"], report["split_counts"]["train"]
    chosen = weighting == "auto"
    if chosen:
        weighting = auto_class_weights(task, counts, labels)
        chosen = weighting != "none"
        if weighting == "none" and not options.focal_gamma:
            return None, None, False
    weights = None
    if weighting == "balanced" or weighting == "sqrt":
        weights = (
            positive_weights(counts, total, labels, damped=weighting == "sqrt")
            if task.weighs_positives
            else balanced_weights(counts, labels)
        )
    elif isinstance(weighting, dict):
        unknown = sorted(set(weighting) - set(labels))
        if unknown:
            raise RecipeError(f"training.class_weights names labels not in the data: {', '.join(unknown)}")
        weights = [float(weighting.get(label, 1.0)) for label in labels]
    if weights is not None and is_main_process():
        kind = "positive weights" if task.weighs_positives else "class weights"
        shown = ", ".join(f"{label} {w:.2f}" for label, w in zip(labels, weights, strict=True))
        console.print(f"{kind}{' (auto: the labels are imbalanced)' if chosen else ''}: {shown}")
    per_label = dict(zip(labels, weights, strict=True)) if weights is not None else None
    if task.weighs_positives:
        return positive_weighted_loss(weights), per_label, chosen
    return imbalance_loss(weights, options.focal_gamma), per_label, chosen


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


def _check_memory(model: Any, recipe: Recipe, precision: str) -> dict[str, float]:
    """Print the estimated peak; refuse (unless training.check_memory is off) when it does not fit."""
    t = recipe.training
    value_bytes = 2 if precision in ("bf16", "fp16") else 4
    needed = estimate_for(model, t.batch_size, recipe.model.max_length, value_bytes, t.gradient_checkpointing)
    free, where = available_bytes()
    import torch

    sharing = 1 if torch.cuda.is_available() else int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    total = needed.total * sharing  # CPU processes on one machine share its RAM
    if is_main_process():
        console.print(
            f"estimated peak memory {needed.describe()}"
            + (f" x {sharing} processes" if sharing > 1 else "")
            + f"; {where} available {free / 1e9:.1f} GB"
        )
    if t.check_memory and total > free:
        raise RecipeError(
            f"training needs ~{total / 1e9:.1f} GB but {where} has {free / 1e9:.1f} GB available. "
            f"To fit: {advice(t, hasattr(model, 'peft_config'))}. "
            "(training.check_memory: false starts anyway.)"
        )
    return {"estimated_peak_bytes": total, "available_bytes": free}


def _oversample(train_split: Any, recipe: Recipe, task: Task, labels: list[str]) -> Any:
    fraction = recipe.training.oversample
    if fraction is None:
        return train_split
    if not task.weighs_classes:
        raise RecipeError(
            f"training.oversample applies to single-label classification (classification, tabular), "
            f"not {task.type}"
        )
    indices = oversampled_indices(train_split["labels"], fraction, recipe.seed)
    if is_main_process():
        console.print(f"oversampling: {len(train_split):,} -> {len(indices):,} training examples")
    return train_split.select(indices)


def _start_point(checkpoints: Path, resume: bool) -> Path | None:
    """The checkpoint to continue from (resume), or None after clearing stale checkpoints."""
    if not resume:
        shutil.rmtree(checkpoints, ignore_errors=True)
        return None
    (checkpoints / STOPPED_FILE).unlink(missing_ok=True)
    found = latest_complete(checkpoints)
    if found is None:
        console.print(f"[yellow]no complete checkpoint in {checkpoints}:[/] training from the first step")
    else:
        console.print(f"resuming from {found.name}")
    return found


def _steps_done(start_from: Path | None) -> int:
    """The optimizer steps a resumed run already took (its checkpoint's number)."""
    if start_from is None:
        return 0
    tail = start_from.name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _plan_time(
    model: Any,
    task: Task,
    tokenizer: Any,
    splits: dict[str, Any],
    recipe: Recipe,
    args: Any,
    start_from: Path | None,
    deadline: float,
    required: bool,
    task_loss: Any,
) -> TimePlan:
    """The steps that fit before `deadline`, from a step timed here (through `task_loss`, the
    task's own training loss, where it has one); said on the console. Raises OutOfTime when too
    few fit and the transformer is not the only learner."""
    t = recipe.training
    world = args.world_size
    per_step = t.batch_size * world * t.gradient_accumulation_steps
    steps_per_epoch = max(1, math.ceil(len(splits["train"]) / per_step))
    planned = t.max_steps if t.max_steps > 0 else math.ceil(steps_per_epoch * float(t.epochs))
    planned -= _steps_done(start_from)
    seconds = agreed(
        measure_step_seconds(
            model,
            task.collator(tokenizer),
            splits["train"],
            t.batch_size,
            t.gradient_accumulation_steps,
            recipe.seed,
            t.group_by_length,
            task_loss,
        )
    )
    validation = len(splits["validation"]) if "validation" in splits else 0
    # after training: the calibration pass, the knowledge-base search's threshold (matching), a
    # speed sample; each about a forward pass per example
    validation += task.fit_search_examples + (0 if required else SPEED_SAMPLE)
    found = plan(
        planned,
        steps_per_epoch,
        per_step,
        seconds,
        validation,
        deadline - time.time(),
        checkpoint_seconds(model),
    )
    too_few = found.cut and found.steps < MIN_STEPS  # a run that plans few steps is not cut short
    if too_few and not required:
        raise OutOfTime(
            f"the time limit leaves {max(found.seconds_left, 0) / 60:.1f} min: {found.steps} steps of "
            f"{seconds:.2f} s (measured) fit, fewer than {MIN_STEPS}; raise training.time_limit to include it"
        )
    if too_few:
        found.steps = min(MIN_STEPS, planned)
        console.print(
            f"[yellow]time limit:[/] too little time is left; the transformer trains {found.steps} steps "
            f"and may end after the limit (a step takes {seconds:.2f} s here)"
        )
    elif is_main_process():
        verdict = "the transformer trains " + found.describe() if found.cut else "all planned steps fit"
        console.print(f"time limit: {verdict}")
    return found


def check_prepared(run_dir: Path, force: bool) -> None:
    """Refuse splits that cannot judge a model (guards.py), unless `force`: then warn."""
    recipe = load_resolved(run_dir)
    group = recipe.split.group_field if recipe.split.method == "group" else None
    for problem in check_splits(run_dir, get_task(recipe.task).categorical, force, group):
        console.print(f"[yellow]warning (--force):[/] {problem}")


def train(
    run_dir: Path, resume: bool = False, processes: Processes | None = None, force: bool = False
) -> TrainResult:
    """Fit the recipe's learners on the run folder's prepared data: the transformer here or (with
    `processes`) in several processes through torchrun - `resume` continues it from the last
    complete checkpoint -, and where the task offers them the fast learners beside it
    (train/learners.py), the best on validation or their ensemble becoming the model; `force`
    trains on splits that `check_prepared` would refuse."""
    from tunesmith.train.learners import learners_to_train, train_learners

    recipe = load_resolved(run_dir)
    learners = learners_to_train(run_dir, recipe, get_task(recipe.task))
    if "transformer" in learners and recipe.model.name != "auto":
        resolve_model(recipe.model.name)  # a model that is not here is the first thing to say
    check_prepared(run_dir, force)
    if learners == ["transformer"]:
        limit = recipe.training.time_limit
        return train_transformer(run_dir, resume, processes, time.time() + limit if limit else None)
    return train_learners(
        run_dir,
        learners,
        lambda deadline: train_transformer(run_dir, resume, processes, deadline, required=False),
    )


def train_transformer(
    run_dir: Path,
    resume: bool,
    processes: Processes | None,
    deadline: float | None = None,
    required: bool = True,
) -> TrainResult:
    """The transformer: fine-tuned into `model/` (resumable, in several processes if asked), within
    `deadline` (seconds since the epoch) when one is set. `required`: it is the only learner, so
    it trains at least a few steps even when the deadline leaves none (else OutOfTime)."""
    start_from = _start_point(run_dir / CHECKPOINTS_DIR, resume)
    if processes is not None and processes.world_size > 1 and not in_worker():
        check_strategy(load_resolved(run_dir))
        if deadline is not None:
            os.environ[DEADLINE_ENV] = str(deadline)  # the workers read it
        try:
            launch(run_dir, start_from, processes)
        finally:
            os.environ.pop(DEADLINE_ENV, None)
        summary = json.loads((run_dir / "train_summary.json").read_text(encoding="utf-8"))
        return TrainResult(run_dir / MODEL_DIR, summary)
    return fit(run_dir, start_from, deadline=deadline, required=required)


def fit(
    run_dir: Path,
    start_from: Path | None = None,
    extra_callbacks: Sequence[Any] = (),
    deadline: float | None = None,
    required: bool = True,
) -> TrainResult:
    """Train in this process (one rank of a launch, or alone) from `start_from` or the start;
    `extra_callbacks` join the Trainer's (the tuner's pruning callback); `deadline` (seconds since
    the epoch, or the launcher's TUNESMITH_DEADLINE): train the steps that fit (train/time_plan.py)."""
    from transformers import AutoTokenizer, EarlyStoppingCallback, set_seed

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
    if is_main_process():
        console.print(
            f"[bold]training[/] {model_name} ({trainable / 1e6:.1f}M trainable parameters"
            + (f", {frozen / 1e6:.1f}M frozen" if frozen else "")
            + ")"
            + (f" for {len(labels)} labels" if labels else "")
        )
    precision = choose_precision(recipe.training.precision)  # once: it may print a warning
    memory = _check_memory(model, recipe, precision)
    checkpoints = run_dir / CHECKPOINTS_DIR
    stop = StopOnInterrupt()
    with tempfile.TemporaryDirectory() as cache, tracking_callbacks(recipe, run_dir) as callbacks:
        splits = encode_splits(run_dir, task, tokenizer, recipe, labels, Path(cache))
        if "train" not in splits:
            raise ValueError(f"{run_dir / DATA_DIR / 'train.jsonl'} holds no records to train on")
        splits["train"] = _oversample(splits["train"], recipe, task, labels)
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        lora = hasattr(model, "peft_config")
        resolved = resolve(
            recipe.training,
            model,
            len(splits["train"]),
            world_size,
            lora,
            task.learning_rate_scale,
            task.step_budget,
            task.max_epochs,
        )
        recipe = recipe.model_copy(update={"training": resolved.training})
        if resolved.reasons and is_main_process():
            console.print(f"auto: {resolved.describe()}")
        has_validation = "validation" in splits
        args = training_arguments(recipe, checkpoints, has_validation, precision)
        deadline = deadline or deadline_from_environment()
        time_plan = None
        own_loss = getattr(task, "training_loss", lambda _: None)(model)  # None: the model's own
        if deadline is not None:
            time_plan = _plan_time(
                model, task, tokenizer, splits, recipe, args, start_from, deadline, required, own_loss
            )
            if time_plan.cut:
                args.max_steps = time_plan.steps + _steps_done(start_from)
            callbacks.append(stop_at_deadline(deadline - time_plan.reserve))
        callbacks += [stop, ProgressFile(run_dir), *extra_callbacks]
        if recipe.training.checkpoint_steps:
            callbacks.append(SaveEverySteps(recipe.training.checkpoint_steps))
        if has_validation and recipe.training.early_stopping_patience:
            callbacks.append(EarlyStoppingCallback(recipe.training.early_stopping_patience))
        optimizer = None
        if recipe.training.head_only_epochs or recipe.training.layerwise_lr_decay:
            if hasattr(model, "peft_config"):  # a LoRA-wrapped model
                raise RecipeError("training.head_only_epochs / layerwise_lr_decay do not combine with LoRA")
            optimizer = build_optimizer(model, recipe)
            if recipe.training.head_only_epochs:
                callbacks.append(UnfreezeEncoder(model, recipe.training.head_only_epochs))
        loss_function, class_weights, auto_weights = _imbalance_loss(run_dir, recipe, task, labels)
        trainer_type, task_loss = trainer_class(own_loss)
        trainer = trainer_type(
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
            **task_loss,
        )
        output = trainer.train(resume_from_checkpoint=str(start_from) if start_from else None)
    if stop.requested:
        if trainer.is_world_process_zero():
            atomic.write_json(checkpoints / STOPPED_FILE, {"step": trainer.state.global_step})
        raise TrainingStopped(
            f"stopped at step {trainer.state.global_step}; the checkpoint is in {checkpoints}. "
            f"Continue with: tunesmith train {run_dir} --resume"
        )
    out = run_dir / MODEL_DIR
    if not trainer.is_world_process_zero():
        return TrainResult(out, {})
    with atomic.staged_dir(out) as stage:
        # Not trainer.save_model: it also writes training_args.bin, a pickle. Safetensors only.
        final = merged(trainer.model)  # LoRA adapters folded in: the bundle is a plain model
        final.save_pretrained(stage, safe_serialization=True)
        tokenizer.save_pretrained(stage)
        atomic.write_json(stage / LABELS_FILE, labels)
        task.save_extras(run_dir, stage)
        weights_to_judge = list(class_weights.values()) if auto_weights and class_weights else None
        state, validation_outputs = (
            calibrate_on_validation(
                run_dir, recipe, task, final, tokenizer, labels, stage, weights_to_judge, search=required
            )
            if has_validation
            else (None, None)
        )
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
        "world_size": args.world_size,
        "distributed": recipe.training.distributed if args.world_size > 1 else None,
        "global_batch_size": args.per_device_train_batch_size
        * args.world_size
        * args.gradient_accumulation_steps,
        "resumed_from": start_from.name if start_from else None,
        "steps": trainer.state.global_step,
        "epochs": trainer.state.epoch,
        "train_runtime_s": output.metrics.get("train_runtime"),
        "train_samples_per_second": output.metrics.get("train_samples_per_second"),
        "train_loss": output.metrics.get("train_loss"),
        "best_metric": trainer.state.best_metric,
        "metric_for_best_model": args.metric_for_best_model,
        "hyperparameters": {
            key: getattr(recipe.training, key)
            for key in ("learning_rate", "epochs", "batch_size", "warmup_ratio", "early_stopping_patience")
        },
        "auto": resolved.reasons,
        "class_weights": class_weights,
        "class_weights_auto": auto_weights,
        "focal_gamma": recipe.training.focal_gamma,
        "oversample": recipe.training.oversample,
        "memory": memory,
        "time_plan": time_plan.as_json() if time_plan is not None else None,
        "stopped_at_deadline": next(
            (c.stopped_at for c in callbacks if getattr(c, "stopped_at", None) is not None), None
        ),
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
    return TrainResult(out, summary, validation_outputs)
