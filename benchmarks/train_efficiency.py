"""Training efficiency on this machine: model FLOP utilization (MFU) and 1 vs 2 processes.

1. Peak: the fp32 matrix-multiply rate torch reaches here (square matrices, all threads).
2. Achieved: the default model (`model.name` default) fine-tuned by tunesmith's own training
   arguments on fixed-length synthetic batches (no padding, so every token is real work), timed
   per optimizer step after a warm-up. Model FLOPs per step = 6 x non-embedding parameters x
   tokens + the attention score/value matmuls (12 x layers x hidden x length per token); the
   embedding lookup does no multiply, so counting its parameters would inflate the figure.
   MFU = achieved / peak. Arms: the recipe defaults (word embeddings frozen), every weight
   trained, and the defaults with torch.compile.
3. Scaling: samples/s with 1 process (all cores) against 2 DDP processes (gloo, one core share
   each, the same global batch) launched through torchrun.

    python benchmarks/train_efficiency.py [--batch 32 --length 128 --steps 12]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def matmul_peak(size: int = 1024, seconds: float = 3.0) -> float:
    """fp32 FLOP/s of a size x size matmul, the best of repeated timed bursts."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        torch.mm(a, b)
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        for _ in range(5):
            torch.mm(a, b)
        best = max(best, 5 * 2 * size**3 / (time.perf_counter() - started))
    return best


def model_flops_per_step(model: Any, batch: int, length: int) -> float:
    config = model.config
    embeddings = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    dense = sum(p.numel() for p in model.parameters()) - embeddings
    attention = 12 * config.num_hidden_layers * config.hidden_size * length  # fwd+bwd, per token
    return (6 * dense + attention) * batch * length


def _timed_training(
    batch: int, length: int, steps: int, compile_model: bool, world: int, freeze_embeddings: bool = True
) -> dict[str, float]:
    """Train `steps` optimizer steps through tunesmith's TrainingArguments; time the last ones."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, Trainer, TrainerCallback

    from tunesmith import recipe as recipe_io
    from tunesmith.console import quiet_transformers
    from tunesmith.models.resolve import resolve_model
    from tunesmith.train.arguments import training_arguments
    from tunesmith.train.freeze import freeze

    quiet_transformers()

    recipe = recipe_io.validate(
        {
            "data": {"train": "synthetic"},
            "training": {
                "batch_size": batch // world,
                "max_steps": steps,
                "torch_compile": compile_model,
                "tracking": "none",
                "group_by_length": False,
                "checkpoint_steps": None,
                "logging_steps": 1000,
            },
        }
    )
    path = resolve_model(recipe.model.name)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=4)
    freeze(model, freeze_embeddings, 0)  # the recipe default freezes the word embeddings
    vocab = model.config.vocab_size
    rows = batch * steps
    generator = torch.Generator().manual_seed(0)
    data = Dataset.from_dict(
        {
            "input_ids": torch.randint(1000, vocab, (rows, length), generator=generator).tolist(),
            "attention_mask": [[1] * length] * rows,
            "labels": torch.randint(0, 4, (rows,), generator=generator).tolist(),
        }
    )
    stamps: list[float] = []

    class StepClock(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            stamps.append(time.perf_counter())
            return control

    with tempfile.TemporaryDirectory() as out:
        args = training_arguments(recipe, Path(out), has_validation=False)
        args.disable_tqdm = True
        trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[StepClock()])
        trainer.train()
    warm = 3 if not compile_model else 5  # the first steps include allocation (and compilation)
    timed = stamps[warm:]
    seconds = (timed[-1] - timed[0]) / (len(timed) - 1)
    return {
        "seconds_per_step": seconds,
        "samples_per_second": batch / seconds,
        "flops_per_step": model_flops_per_step(model, batch, length),
    }


def _two_processes(batch: int, length: int, steps: int) -> dict[str, float]:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node=2",
        __file__,
        "--worker",
        f"--batch={batch}",
        f"--length={length}",
        f"--steps={steps}",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 2) // 2))}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"the 2-process run failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=32, help="Global batch (split across processes).")
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = _timed_training(args.batch, args.length, args.steps, False, world=2)
        if os.environ.get("RANK", "0") == "0":
            print("RESULT " + json.dumps(result), flush=True)
        return

    import torch

    peak = matmul_peak()
    print(f"threads {torch.get_num_threads()}; fp32 matmul peak {peak / 1e9:.1f} GFLOP/s")
    arms = {}
    for name, compiled, frozen in (
        ("tunesmith defaults (word embeddings frozen)", False, True),
        ("every weight trained", False, False),
        ("defaults + torch.compile", True, True),
    ):
        try:
            arms[name] = _timed_training(args.batch, args.length, args.steps, compiled, 1, frozen)
        except Exception as error:  # compile needs a C compiler; report instead of failing
            print(f"{name}: failed ({type(error).__name__}: {str(error)[:200]})")
    arms["defaults, 2 processes (DDP, gloo)"] = _two_processes(args.batch, args.length, args.steps)
    base = next(iter(arms.values()))["samples_per_second"]
    print(f"\nbatch {args.batch} x {args.length} tokens, default model, fp32")
    print("| arm | samples/s | vs defaults | model GFLOP/s | MFU |\n|---|---|---|---|---|")
    for name, arm in arms.items():
        achieved = arm["flops_per_step"] / arm["seconds_per_step"]
        print(
            f"| {name} | {arm['samples_per_second']:.1f} | {arm['samples_per_second'] / base:.2f}x "
            f"| {achieved / 1e9:.1f} | {achieved / peak:.0%} |"
        )


if __name__ == "__main__":
    main()
