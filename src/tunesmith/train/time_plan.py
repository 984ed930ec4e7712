"""Fine-tuning within a deadline: how many optimizer steps fit, from the step time measured on this
machine, and a callback that stops at the deadline if the plan was optimistic.

Before training, a few forward and backward passes on real training batches time one optimizer
step (the optimizer's own update adds a few percent; gradient accumulation multiplies). The
evaluations after each epoch and the calibration pass after training are priced from the same
measurement (a forward pass is about a third of a step). When the planned steps do not fit, the
transformer trains fewer - `max_steps`, so the learning-rate schedule is planned over what will
run; under one epoch that is a random part of the training set, seen once - and says so.
"""

from __future__ import annotations

import inspect
import math
import os
import random
import time
from dataclasses import dataclass
from typing import Any

DEADLINE_ENV = "TUNESMITH_DEADLINE"  # seconds since the epoch: how worker processes learn it
PROBE_BATCHES = 5  # timed, after one that warms up
STEP_OVERHEAD = 1.05  # the optimizer's update and logging on top of forward and backward
FORWARD_SHARE = 1 / 3  # a forward pass's share of a training step (evaluation, calibration)
FIXED_SECONDS = 10.0  # saving the model, loading it again, the learners' choice
EVALUATION_SECONDS = 0.5  # what an evaluation costs besides its forward passes and its checkpoint
CHECKPOINT_BYTES_PER_SECOND = 300e6  # writing a checkpoint (weights, optimizer moments) to disk


def checkpoint_seconds(model: Any) -> float:
    """The time to write one checkpoint of `model`: its weights and the optimizer's two moments of
    every trainable parameter, at a disk speed measured on this kind of machine."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    trainable = sum(p.numel() * 8 for p in model.parameters() if p.requires_grad)
    return (total + trainable) / CHECKPOINT_BYTES_PER_SECOND


MIN_STEPS = 20  # fewer than this: not worth starting (beside other learners)
SPEED_SAMPLE = 128  # validation examples a learner's milliseconds per row are timed on


class OutOfTime(Exception):
    """The time limit leaves the transformer too few steps to be worth starting."""


@dataclass
class TimePlan:
    planned: int  # the steps the recipe's epochs would take
    steps: int  # the steps that fit
    step_seconds: float
    seconds_left: float
    steps_per_epoch: int
    examples_per_step: int
    reserve: float = FIXED_SECONDS  # seconds the last epoch's evaluation and the work after training take

    @property
    def cut(self) -> bool:
        return self.steps < self.planned

    def describe(self) -> str:
        share = self.steps / self.planned if self.planned else 1.0
        seen = self.steps * self.examples_per_step
        epochs = self.steps / self.steps_per_epoch if self.steps_per_epoch else 0.0
        part = (
            f"{seen:,} training examples seen once (a random part of the training set)"
            if self.steps < self.steps_per_epoch
            else f"{epochs:.1f} epochs"
        )
        return (
            f"{self.steps:,} of its {self.planned:,} planned steps ({share:.0%}: {part}); a step takes "
            f"{self.step_seconds:.2f} s here (measured), {self.seconds_left / 60:.1f} min are left"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "planned_steps": self.planned,
            "steps": self.steps,
            "step_seconds": round(self.step_seconds, 4),
            "seconds_left": round(self.seconds_left, 1),
            "cut": self.cut,
        }


def deadline_from_environment() -> float | None:
    value = os.environ.get(DEADLINE_ENV)
    return float(value) if value else None


def _probe_rows(dataset: Any, size: int, grouped: bool, seed: int) -> list[list[int]]:
    """Rows of the batches a step is timed on: one that warms up, then PROBE_BATCHES. Length-
    grouped training (the default) sorts a random mega-batch of 50 batches by length and cuts it
    into batches, as the Trainer's sampler does; the probe takes batches of such a mega-batch at
    evenly spread places, so their mean is a mean step's cost. Otherwise random batches."""
    rng = random.Random(seed)
    count = len(dataset)
    if not grouped or "length" not in dataset.column_names:
        return [rng.sample(range(count), size) for _ in range(PROBE_BATCHES + 1)]
    lengths = list(dataset["length"])
    mega = sorted(rng.sample(range(count), min(count, 50 * size)), key=lengths.__getitem__)
    places = [0.5] + [(k + 0.5) / PROBE_BATCHES for k in range(PROBE_BATCHES)]
    starts = [min(int(q * len(mega)), max(len(mega) - size, 0)) for q in places]
    return [mega[start : start + size] for start in starts]


def measure_step_seconds(
    model: Any,
    collator: Any,
    dataset: Any,
    batch_size: int,
    accumulation: int,
    seed: int,
    grouped: bool = True,
    task_loss: Any = None,
) -> float:
    """Seconds of one optimizer step: forward and backward passes on real training batches, shaped
    as training will batch them (the gradients are thrown away; the model is unchanged). A task
    that trains with its own loss (`task_loss(model, batch)`: a decoder's output layer on the
    target positions only) is timed with it: Gemma's full-vocabulary loss made a step look 1.4x
    dearer than it was."""
    accepted = set(inspect.signature(model.forward).parameters)
    size = min(batch_size, len(dataset))
    times = []
    was_training = model.training
    model.train()
    for k, rows in enumerate(_probe_rows(dataset, size, grouped, seed)):
        batch = collator([{key: v for key, v in dataset[i].items() if key != "length"} for i in rows])
        feed = {key: value for key, value in batch.items() if key in accepted}
        started = time.perf_counter()
        loss = task_loss(model, batch) if task_loss is not None else _own_loss(model(**feed))
        loss.backward()
        if k:
            times.append(time.perf_counter() - started)
        model.zero_grad(set_to_none=True)
    model.train(was_training)
    return sum(times) / len(times) * accumulation * STEP_OVERHEAD


def _own_loss(output: Any) -> Any:
    """The model's loss, or where the task's trainer computes it, a stand-in of the same passes."""
    loss = output.get("loss") if hasattr(output, "get") else None
    if loss is None:
        first = output[0] if isinstance(output, tuple | list) else next(iter(output.values()))
        loss = first.float().sum()
    return loss


def plan(
    planned: int,
    steps_per_epoch: int,
    examples_per_step: int,
    step_seconds: float,
    validation_examples: int,
    seconds_left: float,
    checkpoint: float = 0.0,
    after_examples: int = 0,
) -> TimePlan:
    """The most steps whose training, evaluations (one per epoch, each with a `checkpoint` of that
    many seconds), the calibration pass over validation after training and `after_examples` more
    forward passes (a knowledge-base search's threshold, a speed sample) fit in `seconds_left`."""
    forward = step_seconds / max(examples_per_step, 1) * FORWARD_SHARE
    evaluation = validation_examples * forward
    after = evaluation + after_examples * forward + FIXED_SECONDS

    def cost(steps: int) -> float:
        epochs = math.ceil(steps / max(steps_per_epoch, 1))
        return steps * step_seconds + epochs * (evaluation + EVALUATION_SECONDS + checkpoint) + after

    if cost(planned) <= seconds_left:
        steps = planned
    else:
        low, high = 0, planned
        while low < high:
            middle = (low + high + 1) // 2
            if cost(middle) <= seconds_left:
                low = middle
            else:
                high = middle - 1
        steps = low
    reserve = evaluation + EVALUATION_SECONDS + checkpoint + after
    return TimePlan(planned, steps, step_seconds, seconds_left, steps_per_epoch, examples_per_step, reserve)


def agreed(value: float) -> float:
    """The largest of `value` over every process of a distributed run, so all plan the same steps."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return value
    tensor = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return float(tensor.item())


def stop_at_deadline(deadline: float) -> Any:
    """A Trainer callback that ends training at `deadline` (seconds since the epoch; the caller
    leaves room before the limit for what follows): the epoch's evaluation and checkpoint still
    run, so the best model is kept. Every process stops together."""
    from transformers import TrainerCallback

    class StopAtDeadline(TrainerCallback):  # type: ignore[misc]
        stopped_at: int | None = None

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            late = agreed(1.0 if time.time() >= deadline else 0.0) > 0
            if late and not control.should_training_stop:
                control.should_training_stop = True
                self.stopped_at = state.global_step
            return control

    return StopAtDeadline()
