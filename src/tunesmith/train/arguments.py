"""The Hugging Face `TrainingArguments` a recipe asks for: precision, batch sizes, evaluation and
saving, the metric that picks the best checkpoint, and FSDP/DeepSpeed across processes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tunesmith.errors import RecipeError
from tunesmith.recipe import Recipe
from tunesmith.tasks import get_task
from tunesmith.train.precision import choose_precision

CONFIGS = Path(__file__).parent / "configs"  # FSDP and DeepSpeed configurations shipped with tunesmith


_LOWER_IS_BETTER = ("loss", "rmse", "mae", "mse")


def best_metric(recipe: Recipe) -> tuple[str, bool]:
    """(the validation metric that picks the best checkpoint, whether greater is better)."""
    task = get_task(recipe.task)
    metric = recipe.training.metric_for_best_model or task.best_metric
    if metric == task.best_metric:
        return metric, task.greater_is_better
    return metric, not metric.endswith(_LOWER_IS_BETTER)


def check_strategy(recipe: Recipe) -> None:
    """FSDP and DeepSpeed shard over accelerators (the Trainer runs them on GPUs only)."""
    import torch

    strategy = recipe.training.distributed
    if strategy != "ddp" and not torch.cuda.is_available():
        raise RecipeError(
            f"training.distributed: {strategy} shards the model over GPUs; this machine has none. "
            "Use training.distributed: ddp on CPUs."
        )


def _distributed_arguments(recipe: Recipe) -> dict[str, Any]:
    """TrainingArguments for the recipe's multi-process strategy; nothing in a single process."""
    import torch

    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return {}
    strategy = recipe.training.distributed
    arguments: dict[str, Any] = {
        "ddp_backend": "nccl" if torch.cuda.is_available() else "gloo",
        # The Trainer otherwise multiplies each process's loss by the world size, expecting the model
        # to divide by the global token count; a classification head's mean loss does not, and its
        # gradients would come out world-size times too large. Each process's mean, averaged by DDP.
        "average_tokens_across_devices": False,
    }
    check_strategy(recipe)
    if strategy == "fsdp":
        arguments.update(fsdp=True, fsdp_config=str(CONFIGS / "fsdp.json"))
    elif strategy.startswith("deepspeed"):
        import importlib.util

        if importlib.util.find_spec("deepspeed") is None:
            raise RecipeError(f"training.distributed: {strategy} needs DeepSpeed: pip install deepspeed")
        arguments["deepspeed"] = str(CONFIGS / f"{strategy}.json")
    return arguments


def training_arguments(
    recipe: Recipe, output_dir: Path, has_validation: bool, precision: str | None = None
) -> Any:
    """The Trainer's arguments for the recipe; `precision` as `choose_precision` already chose it
    (chosen here when not given)."""
    import torch
    from transformers import TrainingArguments

    t = recipe.training
    unresolved = [k for k in ("epochs", "learning_rate", "warmup_ratio") if getattr(t, k) == "auto"]
    if unresolved:
        raise ValueError(f"training {', '.join(unresolved)} still auto: resolve them first (train/auto.py)")
    precision = precision or choose_precision(t.precision)
    metric, greater_is_better = best_metric(recipe)
    evaluating = "epoch" if has_validation else "no"
    return TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.eval_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        activation_checkpointing=t.gradient_checkpointing,
        torch_compile=t.torch_compile,
        learning_rate=t.learning_rate,
        weight_decay=t.weight_decay,  # Trainer excludes biases and LayerNorm weights from decay
        lr_scheduler_type="linear",
        warmup_steps=t.warmup_ratio,  # a value below 1 is a ratio of the total steps
        train_sampling_strategy="group_by_length" if t.group_by_length else "random",
        eval_strategy=evaluating,
        # Per epoch with validation (the best one is kept); every checkpoint_steps by SaveEverySteps.
        save_strategy=evaluating,
        save_total_limit=t.keep_last,
        save_only_model=False,  # optimizer, scheduler and RNG states too: resume continues exactly
        load_best_model_at_end=has_validation,
        metric_for_best_model=metric if has_validation else None,
        greater_is_better=greater_is_better,
        logging_steps=t.logging_steps,
        logging_first_step=True,
        report_to="none",  # tracking_callbacks adds what training.tracking asks for
        seed=recipe.seed,
        data_seed=recipe.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        disable_tqdm=False,  # the progress bar shows steps/s and the time left
        **_distributed_arguments(recipe),
    )
