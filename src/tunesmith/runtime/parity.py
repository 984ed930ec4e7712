"""The proof that an export answers as the trained model does, on the run's own test split: the
largest absolute difference of every output, the share of identical answers, each headline metric
beside PyTorch's, and the speed of both on this machine."""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.runtime.formats import EXPORT_DIR, FORMATS, PARITY_FILE, export_dir

# Answer fields that are confidences, not decisions: an int8 model may move them a little.
SCORE_FIELDS = frozenset({"score", "scores", "probabilities", "confidence", "uncertainty"})
NOT_KEPT_FILE = "not_kept.json"  # in export/: formats the run asked for that missed their proof
VALUE_TOLERANCE = 1e-3  # a number that is the answer (a regression value): relative tolerance


def machine_id() -> str:
    """Speeds are only compared on the machine that measured them."""
    return f"{platform.node()}|{platform.machine()}|{os.cpu_count()}"


def same_answer(a: Any, b: Any) -> bool:
    """Two answers make the same decision: equal labels, spans, matches and rankings; confidences
    may differ; a number that is itself the answer agrees to 1e-3 (relative)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        keys = set(a) - SCORE_FIELDS
        return keys == set(b) - SCORE_FIELDS and all(same_answer(a[k], b[k]) for k in keys)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_answer(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=VALUE_TOLERANCE, abs_tol=VALUE_TOLERANCE)
    return bool(a == b)


def agreement(reference: Sequence[Any], found: Sequence[Any]) -> float:
    if not reference:
        return 1.0
    return sum(same_answer(a, b) for a, b in zip(reference, found, strict=True)) / len(reference)


def token_batches(
    tokenizer: Any, examples: Sequence[dict[str, Any]], max_length: int, batch_size: int
) -> list[dict[str, Any]]:
    """The examples as padded token batches (each text and its pair, cut at `max_length`)."""
    batches = []
    for start in range(0, len(examples), batch_size):
        chunk = examples[start : start + batch_size]
        pairs = [e["text_pair"] for e in chunk] if all("text_pair" in e for e in chunk) else None
        batches.append(
            dict(
                tokenizer(
                    [e["text"] for e in chunk],
                    pairs,
                    truncation=True,
                    max_length=max_length,
                    padding=True,
                    return_tensors="np",
                )
            )
        )
    return batches


def largest_differences(
    reference: Callable[[Any], dict[str, np.ndarray]],
    candidate: Callable[[Any], dict[str, np.ndarray]],
    batches: Sequence[Mapping[str, Any]],
) -> dict[str, float]:
    """The largest absolute difference of each output over every batch (padding positions too)."""
    found: dict[str, float] = {}
    for batch in batches:
        expected, got = reference(batch), candidate(batch)
        for name, values in expected.items():
            found[name] = max(found.get(name, 0.0), float(np.max(np.abs(values - got[name]), initial=0.0)))
    return found


def speed(engine: Callable[[Any], Any], singles: Sequence[Any], batches: Sequence[Any]) -> dict[str, float]:
    """Latency of one text at a time (p50, p99 in ms) and texts per second in batches of 32."""
    for warm in singles[:3]:
        engine(warm)
    times = []
    for single in singles:
        started = time.perf_counter()
        engine(single)
        times.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    texts = 0
    for batch in batches:
        engine(batch)
        texts += len(next(iter(batch.values())))  # token ids, or the trees' feature rows
    seconds = time.perf_counter() - started
    return {
        "latency_ms_p50": float(np.percentile(times, 50)),
        "latency_ms_p99": float(np.percentile(times, 99)),
        "texts_per_s_batch32": texts / seconds if seconds else 0.0,
    }


def headline_metrics(
    task: Any, records: Sequence[dict[str, Any]], answers: Sequence[Any], labels: list[str], run_dir: Path
) -> dict[str, Any]:
    """The task's headline metrics of `answers`. Plots go to a scratch folder, so the run's own
    stay those of its evaluation; the scratch folder sees the run's data (the tabular baseline
    trains on its train split)."""
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "data").symlink_to((run_dir / "data").resolve(), target_is_directory=True)
        metrics = task.evaluate(records, answers, labels, Path(scratch), "test")
    return {name: metrics[name] for name in task.headline if isinstance(metrics.get(name), int | float)}


def differing_examples(
    records: Sequence[dict[str, Any]], reference: Sequence[Any], found: Sequence[Any], inputs: Sequence[str]
) -> list[dict[str, Any]]:
    """Up to five records whose answers differ, with both answers (what a reviewer looks at)."""
    shown = []
    for record, a, b in zip(records, reference, found, strict=True):
        if not same_answer(a, b):
            shown.append({**{k: record[k] for k in inputs if k in record}, "torch": a, "export": b})
            if len(shown) == 5:
                break
    return shown


def parity_records(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Export name -> its parity record, for every export the run holds (passed or not)."""
    found = {}
    for name in FORMATS:
        path = export_dir(run_dir, name) / PARITY_FILE
        if path.is_file():
            found[name] = json.loads(path.read_text(encoding="utf-8"))
    return found


def reference_of(parity: dict[str, Any]) -> str:
    """What an export was proven against: the trained model as it answers itself (PyTorch; `native`
    for a bundle of learners: each in its own library)."""
    return str(parity.get("reference", "torch"))


def eager_name(backend: str) -> str:
    """How a reference backend is named to a reader."""
    return {"torch": "PyTorch", "native": "the trained learners", "lightgbm": "LightGBM"}.get(
        backend, backend
    )


def not_kept(run_dir: Path) -> dict[str, dict[str, str]]:
    """Formats the run asked for that missed their proof: name -> {reason, instead}."""
    path = run_dir / EXPORT_DIR / NOT_KEPT_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
