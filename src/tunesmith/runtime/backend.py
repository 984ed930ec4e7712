"""Which backend answers for a run: `torch`, a named export, or `auto` - the export chosen when
the run was exported (export/serving.json: the fastest proven export that holds by the quality
rule, timed at the server's batch sizes; timed again here on another machine), or for a run
exported before that record existed, the fastest export that passed its parity check. The one
place the choice is made."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.bundle import read_manifest
from tunesmith.console import console
from tunesmith.errors import BundleError, TunesmithError
from tunesmith.runtime.engines import Engine, load_engine
from tunesmith.runtime.formats import EXTRAS_FILE, FORMATS, PARITY_FILE, check_backend, export_dir
from tunesmith.runtime.parity import machine_id, parity_records, reference_of
from tunesmith.runtime.serving_choice import candidates_of, pick, read_choice, time_engines


def proven_exports(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Export name -> its parity record, for every export in the run that passed."""
    return {name: parity for name, parity in parity_records(run_dir).items() if parity.get("passed")}


def export_engine(run_dir: Path, name: str, task: Any) -> Engine:
    """The engine of the run's export `name` (its graph file, the task's outputs)."""
    return load_engine(name, export_dir(run_dir, name) / FORMATS[name].file, task.graph_outputs)


def _timed_now(run_dir: Path, name: str, task: Any, probe: Any) -> float:
    """Milliseconds per call of the export on a probe text, timed now."""
    engine = export_engine(run_dir, name, task)
    engine(probe)
    times = []
    for _ in range(10):
        started = time.perf_counter()
        engine(probe)
        times.append(time.perf_counter() - started)
    return float(np.median(times)) * 1000


def relative_speeds(run_dir: Path, proven: dict[str, dict[str, Any]], task: Any, tokenizer: Any) -> dict:
    """Export -> (time per text relative to eager PyTorch, how it was known). Each parity check
    timed its export beside PyTorch on this machine, so the ratio holds even when the machine was
    busier during one export than another; an export timed elsewhere sends all to be timed now."""
    here = machine_id()
    recorded = {name: (parity.get("speed", {}), reference_of(parity)) for name, parity in proven.items()}
    same_machine = all(r.get("machine") == here for r, _ in recorded.values())
    if (same_machine or tokenizer is None) and all(
        name in r and eager in r for name, (r, eager) in recorded.items()
    ):
        # a model without a tokenizer (trees) cannot be timed on a probe text: its export's figures stand
        return {
            name: (r[name]["latency_ms_p50"] / r[eager]["latency_ms_p50"], f"vs {eager}, timed at export")
            for name, (r, eager) in recorded.items()
        }
    probe = dict(tokenizer(["a short probe text for timing"], padding=True, return_tensors="np"))
    timed = {name: _timed_now(run_dir, name, task, probe) for name in proven}
    fastest = min(timed.values())
    return {name: (ms / fastest, "vs the fastest, timed now") for name, ms in timed.items()}


def choose_backend(run_dir: Path, task: Any, wanted: str, tokenizer: Any) -> str:
    """The backend to load: `wanted`, or for `auto` the export chosen to serve (PyTorch when none
    is proven, or the task generates text). A named export that is missing or failed: an error
    that says how to make it."""
    check_backend(wanted)
    if wanted == "torch":
        return "torch"
    if not task.graph_outputs:
        if wanted == "auto":
            return "torch"
        raise TunesmithError(
            f"--backend {wanted}: a {task.type} model generates text token by token and answers with "
            "PyTorch only; use --backend torch"
        )
    proven = proven_exports(run_dir)
    if wanted != "auto":
        if wanted in proven:
            return wanted
        made = (export_dir(run_dir, wanted) / PARITY_FILE).is_file()
        flags = "--format onnx --quantize int8" if wanted == "onnx-int8" else f"--format {wanted}"
        if made:
            raise BundleError(f"{run_dir}: the {wanted} export failed its parity check; export it again")
        raise BundleError(f"{run_dir}: no {wanted} export; make it with `tunesmith export {run_dir} {flags}`")
    if not proven:
        console.print(
            f"backend: torch (no proven export; `tunesmith export {run_dir} --format onnx` makes one)"
        )
        return "torch"
    recorded = read_choice(run_dir)
    if recorded is not None and recorded["chosen"] in proven:
        return _recorded_choice(run_dir, recorded, proven, task, tokenizer)
    speeds = relative_speeds(run_dir, proven, task, tokenizer)
    best = min(speeds, key=lambda name: speeds[name][0])
    shown = ", ".join(
        f"{name} {ratio:.2g}" for name, (ratio, _) in sorted(speeds.items(), key=lambda kv: kv[1])
    )
    console.print(f"backend: {best} (fastest proven export; time per text {speeds[best][1]}: {shown})")
    return best


def _recorded_choice(
    run_dir: Path, recorded: dict[str, Any], proven: dict[str, dict[str, Any]], task: Any, tokenizer: Any
) -> str:
    """export/serving.json's choice; measured on another machine, its candidates that hold are
    timed again here (on a probe text: the run's data need not travel with the model)."""
    candidates = [c for c in candidates_of(recorded) if c.name in proven]
    holding = [c for c in candidates if c.holds]
    if recorded["machine"] == machine_id() or tokenizer is None or len(holding) < 2:
        console.print(f"backend: {recorded['chosen']} ({recorded['reason']})", highlight=False)
        return str(recorded["chosen"])
    sizes = [int(size) for size in recorded["batch_sizes"]]
    batches = {
        size: [dict(tokenizer(["a short probe text for timing"] * size, padding=True, return_tensors="np"))]
        * max(1, 32 // size)
        for size in sizes
    }
    texts = {size: size * len(batches[size]) for size in sizes}
    engines = {c.name: export_engine(run_dir, c.name, task) for c in holding}
    timed = time_engines(engines, {name: batches for name in engines}, texts)
    chosen, why = pick([replace(c, ms_per_text=timed[c.name]) for c in holding])
    console.print(f"backend: {chosen} (timed now, on another machine than the export's: {why})")
    return chosen


def check_export_files(run_dir: Path, name: str) -> None:
    """After `verify_bundle` (which refuses a changed file): every file of the export must be in
    the run's manifest."""
    manifest = read_manifest(run_dir)["files"]
    for path in sorted(p for p in export_dir(run_dir, name).rglob("*") if p.is_file()):
        rel = str(path.relative_to(run_dir))
        if rel not in manifest:
            raise BundleError(
                f"{rel} is not in {run_dir}'s manifest (written after bundling?); export it again "
                f"with `tunesmith export`"
            )


def open_export(run_dir: Path, name: str, task: Any, verify: bool) -> tuple[Engine, dict[str, np.ndarray]]:
    """The engine and stored extras of a proven export; with `verify`, every file of the export
    must be in the run's manifest."""
    folder = export_dir(run_dir, name)
    if verify:
        check_export_files(run_dir, name)
    engine = export_engine(run_dir, name, task)
    extras: dict[str, np.ndarray] = {}
    if (folder / EXTRAS_FILE).is_file():
        from safetensors.numpy import load_file

        extras = load_file(str(folder / EXTRAS_FILE))
    return engine, extras
