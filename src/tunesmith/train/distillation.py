"""Distillation's parts: a student made from a fine-tuned encoder by dropping layers, and the loop
that teaches it the trained model's scores. `tunesmith distill` (pipeline/distill.py) makes a run
of it; `export.student` (export/student.py) makes a serving candidate of it.

The student is the teacher's own fine-tuned model with fewer encoder layers, evenly spaced from
the first to the last (DistilBERT's start: the layers kept already work together, the head
already reads the last one). It is trained on the teacher's scores: soft targets at temperature
T for a classifier (KL divergence x T^2, Hinton et al. 2015), the teacher's probabilities for
multi-label, its numbers for regression. The epoch kept is the one whose validation answers agree
most with the teacher's. Written by hand: no library distils a fine-tuned Hugging Face classifier
offline into a layer-dropped copy of itself (transformers has no distillation trainer)."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.console import progress
from tunesmith.errors import TunesmithError
from tunesmith.runtime.parity import agreement

SUPPORTED = ("classification", "multilabel", "regression")  # one head over the encoder, logits out


@dataclass(frozen=True)
class DistillOptions:
    layers: int | None = None  # encoder layers the student keeps (None: half the teacher's)
    unlabelled: Path | None = None  # more texts for the teacher to score (a data file)
    epochs: int = 6
    learning_rate: float = 1e-4
    temperature: float = 2.0
    batch_size: int = 32


def check_distillable(teacher: Any) -> None:
    """A student is made from a transformer served alone, of a task with one head over the encoder."""
    run_dir, task = teacher.run_dir, teacher.task
    if task.type not in SUPPORTED:
        raise TunesmithError(
            f"{run_dir}: students are distilled from {', '.join(SUPPORTED)} runs, not {task.type}"
        )
    if teacher.reads_examples:  # learners other than a transformer alone: no layers to drop
        served = ", ".join(member.name for member, _, _ in getattr(teacher.engine, "members", []))
        raise TunesmithError(
            f"{run_dir}: a student is distilled from a transformer served alone; this run serves "
            f"{served}. Train it with --set training.learners=[transformer] to distill it"
        )


def student_layers(wanted: str | int | None, total: int) -> int:
    """The layers a student keeps: a number asked for, else half the teacher's (auto, unset, or
    export.student off when `tunesmith export --format student` asks for one all the same)."""
    return int(wanted) if isinstance(wanted, int) else max(1, total // 2)


def kept_layers(total: int, wanted: int) -> list[int]:
    """`wanted` layer positions out of `total`, evenly spaced from the first to the last."""
    if not 1 <= wanted < total:
        raise TunesmithError(
            f"--layers {wanted}: the student keeps between 1 and {total - 1} of {total} layers"
        )
    if wanted == 1:
        return [total - 1]
    return sorted({round(i * (total - 1) / (wanted - 1)) for i in range(wanted)})


def layer_stack(model: Any) -> Any:
    """The encoder's list of layers (BERT, MiniLM, XLM-R and E5 keep it at `encoder.layer`)."""
    stack = getattr(getattr(model.base_model, "encoder", None), "layer", None)
    if stack is None:
        raise TunesmithError(
            f"distill: a {type(model).__name__} keeps no encoder.layer list; the student is made by "
            "dropping layers of BERT-like encoders"
        )
    return stack


def student_of(teacher: Any, layers: int) -> tuple[Any, list[int]]:
    """A copy of the teacher with only `layers` of its encoder layers."""
    import torch

    student = copy.deepcopy(teacher)
    stack = layer_stack(student)
    keep = kept_layers(len(stack), layers)
    student.base_model.encoder.layer = torch.nn.ModuleList([stack[i] for i in keep])
    student.config.num_hidden_layers = len(keep)
    return student, keep


def _soft_loss(task_type: str, student: Any, teacher: Any, temperature: float) -> Any:
    import torch.nn.functional as F

    if task_type == "classification":
        t = temperature
        return F.kl_div(
            F.log_softmax(student / t, dim=-1), F.softmax(teacher / t, dim=-1), reduction="batchmean"
        ) * (t * t)
    if task_type == "multilabel":
        return F.binary_cross_entropy_with_logits(student, teacher.sigmoid())
    return F.mse_loss(student, teacher)


def answers_of(task_type: str, logits: np.ndarray) -> list[Any]:
    """What counts as the same answer while training (the proof on test uses the task's decode)."""
    if task_type == "classification":
        return logits.argmax(-1).tolist()
    if task_type == "multilabel":
        return [tuple(row) for row in (logits > 0).tolist()]
    return [round(float(v), 3) for v in logits.reshape(-1)]


@dataclass(frozen=True)
class Taught:
    best: dict[str, Any]  # the epoch kept: epoch, agreement (its state is loaded into the student)
    history: list[dict[str, float]]
    seconds: float
    teacher_validation: np.ndarray  # the teacher's outputs on the validation texts


def teach(
    student: Any, teacher: Any, texts: Sequence[str], val_texts: Sequence[str], options: DistillOptions
) -> Taught:
    """Score `texts` and `val_texts` with the teacher, train the student on those scores and load
    the epoch whose validation answers agree most with the teacher's; the student is left in eval
    mode."""
    size = teacher.recipe.evaluation.batch_size
    targets = np.asarray(teacher.outputs(texts, size, show=True), dtype=np.float32)
    scored = np.asarray(teacher.outputs(val_texts, size), dtype=np.float32)
    started = time.monotonic()
    best, history = train_student(
        student, teacher, texts, targets, val_texts, answers_of(teacher.task.type, scored), options
    )
    student.load_state_dict(best["state"])
    student.eval()
    return Taught(best, history, time.monotonic() - started, scored)


def train_student(
    student: Any,
    teacher: Any,
    texts: Sequence[str],
    targets: np.ndarray,
    val_texts: Sequence[str],
    expected: list[Any],
    options: DistillOptions,
) -> tuple[dict[str, Any], list[dict[str, float]]]:
    """The distillation loop; returns the best epoch (state, agreement) and each epoch's figures."""
    import torch

    from tunesmith.runtime.predict import Predictor

    task_type, tokenizer = teacher.task.type, teacher.tokenizer
    max_length = teacher.recipe.model.max_length
    steps_per_epoch = math.ceil(len(texts) / options.batch_size)
    total = steps_per_epoch * options.epochs
    optimizer = torch.optim.AdamW(student.parameters(), lr=options.learning_rate, weight_decay=0.01)
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / (total - warmup)))
    )
    generator = np.random.default_rng(teacher.recipe.seed)
    torch.manual_seed(teacher.recipe.seed)
    judge = Predictor(teacher.run_dir, teacher.recipe, teacher.task, student, tokenizer, teacher.labels)
    best: dict[str, Any] = {"agreement": -1.0}
    history = []
    with progress() as bar:
        job = bar.add_task("distilling", total=total)
        for epoch in range(1, options.epochs + 1):
            student.train()
            order, losses = generator.permutation(len(texts)), []
            for start in range(0, len(order), options.batch_size):
                rows = order[start : start + options.batch_size]
                batch = tokenizer(
                    [texts[i] for i in rows],
                    truncation=True,
                    max_length=max_length,
                    padding=True,
                    return_tensors="pt",
                )
                logits = student(**batch).logits
                loss = _soft_loss(task_type, logits, torch.from_numpy(targets[rows]), options.temperature)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                losses.append(float(loss.detach()))
                bar.advance(job)
            student.eval()
            found = answers_of(task_type, np.asarray(judge.outputs(val_texts, 64), dtype=np.float32))
            share = agreement(expected, found)
            history.append({"epoch": epoch, "loss": float(np.mean(losses)), "validation_agreement": share})
            if share >= best["agreement"]:  # a tie: the later, longer-trained epoch
                best = {"epoch": epoch, "agreement": share, "state": copy.deepcopy(student.state_dict())}
    return best, history
