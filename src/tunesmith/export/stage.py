"""The export stage: write one format into `export/<format>/`, prove it on the run's test split,
and keep it only when the proof holds (a failed check leaves nothing behind and exits non-zero).

fp32 exports (ONNX, TorchScript) must give every test answer exactly as PyTorch does, with every
output within `export.tolerance`; int8 must hold by the quality rule on validation (export/
quality.py: `export.agreement` of the answers, the headline metric not worse beyond
`export.metric_margin`; the quantizer's search target) and reports its test agreement, which
gates may demand more of. After each export, which proven export serves is decided again
(runtime/serving_choice.py)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith import atomic
from tunesmith.console import console
from tunesmith.errors import TunesmithError
from tunesmith.export.int8 import quantize_to_agreement
from tunesmith.export.learners import member_parity, write_learner_graphs
from tunesmith.export.not_kept import forget_not_kept
from tunesmith.export.optimize import fuse
from tunesmith.export.quality import QualityRule, Verdict, judge
from tunesmith.export.smooth import smooth
from tunesmith.export.trace import sample_inputs, write_onnx, write_torchscript
from tunesmith.learners.ensemble import Ensemble
from tunesmith.prepare.stage import read_split
from tunesmith.runtime.engines import OnnxEngine, load_engine
from tunesmith.runtime.formats import EXPORT_DIR, EXTRAS_FILE, PARITY_FILE, ExportFormat, export_dir
from tunesmith.runtime.learners import bundle_spec, load_learners
from tunesmith.runtime.parity import (
    agreement,
    differing_examples,
    headline_metrics,
    largest_differences,
    machine_id,
    speed,
    token_batches,
)
from tunesmith.runtime.predict import Predictor


class ExportFailed(TunesmithError):
    """The export did not answer as the trained model does; nothing was kept."""


def model_examples(task: Any, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: r[k] for k in task.inputs if r.get(k) is not None} for r in records]


def export(run_dir: Path, fmt: ExportFormat, verify: bool = True) -> dict[str, Any]:
    """Export the run's model as `fmt` into export/<name>/ and return its parity record."""
    reference = Predictor.from_run(run_dir, verify=verify, backend="torch")
    task = reference.task
    ensemble = reference.engine if isinstance(reference.engine, Ensemble) else None
    if ensemble is not None and fmt.name != "onnx":
        served = " + ".join(member.name for member, _, _ in ensemble.members)
        raise ExportFailed(
            f"{run_dir}: this run is served by {served}, which exports as --format onnx (one fp32 graph "
            "per learner); int8 and TorchScript apply to a transformer served alone"
        )
    if not task.graph_outputs:
        raise TunesmithError(
            f"{run_dir}: a {task.type} model generates text token by token, so it is not exported to "
            f"{fmt.name}; it answers with PyTorch (a causal LM's weights stay in safetensors under model/)"
        )
    test_records = read_split(run_dir, "test")
    test = model_examples(task, test_records)
    if not test:
        raise TunesmithError(f"{run_dir}: the test split is empty; an export is proven on it")
    validation_records = read_split(run_dir, "validation") or test_records
    (run_dir / EXPORT_DIR).mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{fmt.name}-", dir=run_dir / EXPORT_DIR) as scratch:
        work = Path(scratch)
        out = work / fmt.name
        out.mkdir()
        if ensemble is not None:
            details = _write_learners(reference, ensemble, fmt, test, validation_records, work, out)
            spec = bundle_spec(reference.model_dir)
            assert spec is not None
            engine = load_learners(
                reference.model_dir,
                spec,
                task,
                reference.recipe,
                reference.labels,
                reference.tokenizer,
                (fmt.name, out),
            )
            candidate = reference.on_engine(engine)
            details["member_max_abs_diff"] = member_parity(ensemble, engine, test)
        else:
            details = write_graph(reference, fmt, test, validation_records, work, out / fmt.file)
            candidate = reference.on_engine(load_engine(fmt.name, out / fmt.file, task.graph_outputs))
        extras = task.export_extras(candidate)
        if extras:
            from safetensors.numpy import save_file

            save_file(extras, str(out / EXTRAS_FILE))
            candidate = reference.on_engine(candidate.engine, extras)  # type: ignore[arg-type]
        parity = {**prove(reference, candidate, fmt, test_records), **details}
        if "int8" in details:  # the verdict serving reads (export/choose_served.py)
            parity["quality"] = details["int8"]["quality"]
        if ensemble is not None:  # one graph per learner
            files = [m["file"] for m in details["members"].values()]
            parity["file"] = ", ".join(
                str((export_dir(run_dir, fmt.name) / f).relative_to(run_dir)) for f in files
            )
        atomic.write_json(out / PARITY_FILE, parity)
        if not parity["passed"]:
            raise ExportFailed(
                f"{fmt.name} export failed its parity check, nothing kept: {parity['verdict']}"
            )
        atomic.replace_dir(out, export_dir(run_dir, fmt.name))
    forget_not_kept(run_dir, fmt.name)
    return parity


def write_graph(
    reference: Predictor,
    fmt: ExportFormat,
    test: list[dict[str, Any]],
    validation: list[dict[str, Any]],
    work: Path,
    target: Path,
) -> dict[str, Any]:
    """The export file at `target`; what was done on the way (fusions, the int8 search).
    `validation`: the split's records, references included (the int8 search judges the metric)."""
    task, recipe = reference.task, reference.recipe
    graph = task.inference_graph(reference.model)
    ordered = sorted(test, key=lambda e: sum(len(v) for v in e.values()))
    ends = [ordered[0], ordered[-1]]
    pairs = [e["text_pair"] for e in ends] if all("text_pair" in e for e in ends) else None
    sample = sample_inputs(reference.tokenizer, [e["text"] for e in ends], pairs, recipe.model.max_length)
    with console.status(f"writing the {fmt.name} graph..."):
        if fmt.name == "torchscript":
            write_torchscript(graph, sample, target)
            return {}
        plain = work / "plain.onnx"
        write_onnx(graph, sample, task.graph_outputs, plain)
    details: dict[str, Any] = {}
    fp32 = plain
    if recipe.export.optimize:
        fp32, details["fusions"] = _fused_if_exact(reference, plain, work, test)
    if fmt.fp32:
        shutil.copyfile(fp32, target)
        return details
    int8 = _int8(reference, fp32, target, work, validation)
    return {**details, "int8": int8}


def _write_learners(
    reference: Predictor,
    ensemble: Ensemble,
    fmt: ExportFormat,
    test: list[dict[str, Any]],
    validation: list[dict[str, Any]],
    work: Path,
    out: Path,
) -> dict[str, Any]:
    """One graph per learner of the bundle; the transformer's traced (and fused) as it is alone."""

    def transformer(model: Any, path: Path) -> dict[str, Any]:
        alone = Predictor(
            reference.run_dir, reference.recipe, reference.task, model, reference.tokenizer, reference.labels
        )
        return write_graph(alone, fmt, test, validation, work, path)

    with console.status(f"writing the {fmt.name} graph of each learner..."):
        return {"members": write_learner_graphs(ensemble, out, transformer, fmt.file)}


def _fused_if_exact(
    reference: Predictor, plain: Path, work: Path, test: list[dict[str, Any]]
) -> tuple[Path, Any]:
    """onnxruntime's fused graph when its outputs stay within tolerance of the plain graph's."""
    fused_path = work / "fused.onnx"
    with console.status("fusing attention, LayerNorm and GELU..."):
        fused = fuse(plain, fused_path, reference.model.config)
    if isinstance(fused, str):
        return plain, {"applied": False, "reason": fused}
    task, recipe = reference.task, reference.recipe
    batches = token_batches(reference.tokenizer, test[:256], recipe.model.max_length, 32)
    plain_engine = OnnxEngine(plain, task.graph_outputs)
    fused_engine = OnnxEngine(fused_path, task.graph_outputs)
    differences = largest_differences(plain_engine, fused_engine, batches)
    largest = max(differences.values(), default=0.0)
    if largest > recipe.export.tolerance:
        reason = f"fused outputs moved by {largest:.2e} (> {recipe.export.tolerance:g}); kept the plain graph"
        console.print(f"[yellow]note:[/] {reason}")
        return plain, {"applied": False, "reason": reason, "operators": fused}
    return fused_path, {"applied": True, "operators": fused, "max_abs_diff": largest}


def _int8(
    reference: Predictor, fp32: Path, target: Path, work: Path, records: list[dict[str, Any]]
) -> dict[str, Any]:
    """Quantize `fp32` until it holds by the recipe's quality rule, judged on the validation
    `records` against the fp32 export's answers (not PyTorch's: the search measures what
    quantization alone changes; the fp32 export gives PyTorch's answers, or it is not kept)."""
    task, recipe = reference.task, reference.recipe
    size = recipe.evaluation.batch_size
    validation = model_examples(task, records)
    fp32_runtime = reference.on_engine(OnnxEngine(fp32, task.graph_outputs))
    expected = fp32_runtime.predict(validation, size)
    calibration = token_batches(reference.tokenizer, validation[:128], recipe.model.max_length, 32)
    asked = QualityRule.of(recipe.export, int8=True)
    # A split of n records measures agreement in steps of 1/n: with 199, one differing answer is
    # 0.5%, and 99.5% would demand none. One answer of slack then, never more than the target's.
    share = min(asked.agreement, 1 - 1 / len(validation)) if len(validation) > 1 else asked.agreement
    rule = QualityRule(share, asked.margin)

    def judge_of(path: Path) -> Verdict:
        found = reference.on_engine(OnnxEngine(path, task.graph_outputs)).predict(validation, size)
        return judge(task, records, expected, found, reference.labels, rule)

    int8 = work / "int8"
    int8.mkdir()
    sources = {"plain": fp32}
    smoothed = int8 / "smoothed.onnx"
    feeds = [{k: np.asarray(v) for k, v in batch.items()} for batch in calibration]
    if smooth(fp32, smoothed, feeds):
        moved = largest_differences(
            OnnxEngine(fp32, task.graph_outputs), OnnxEngine(smoothed, task.graph_outputs), calibration
        )
        if max(moved.values(), default=0.0) <= recipe.export.tolerance:  # the same function in fp32
            sources = {"smoothed": smoothed, "plain": fp32}
    result = quantize_to_agreement(sources, target, int8, recipe.export.int8.per_channel, judge_of)
    if result.quality is None:
        raise ExportFailed(
            f"no int8 graph held by the quality rule on {len(validation):,} validation answers "
            f"({asked.describe()}; best agreement {result.agreement:.4f}); nothing kept"
        )
    return {
        **result.summary(),
        "min_agreement": asked.agreement,
        "metric_margin": asked.margin,
        "judged_agreement_target": share,
        "per_channel": recipe.export.int8.per_channel,
    }


def prove(
    reference: Predictor, candidate: Predictor, fmt: ExportFormat, records: list[dict[str, Any]]
) -> dict:
    """The parity record of `candidate` against `reference` on `records` (the test split)."""
    task, recipe = reference.task, reference.recipe
    examples = model_examples(task, records)
    size = recipe.evaluation.batch_size
    eager = reference.backend  # the trained model as it is: PyTorch, or LightGBM for trees
    with console.status(f"proving the {fmt.name} export on {len(examples):,} test records..."):
        batches = reference.engine_batches(examples, 32)
        differences = largest_differences(reference.infer, candidate.infer, batches)
        expected, found = reference.predict(examples, size), candidate.predict(examples, size)
        share = agreement(expected, found)
        singles = reference.engine_batches(examples[:50], 1)
        speeds = {
            "machine": machine_id(),
            eager: speed(reference.infer, singles, batches[:8]),
            fmt.name: speed(candidate.infer, singles, batches[:8]),
        }
    largest = max(differences.values(), default=0.0)
    tolerance = recipe.export.tolerance
    if fmt.fp32:
        passed = largest <= tolerance and share == 1.0
        verdict = (
            f"every one of {len(examples):,} test answers identical, outputs within {largest:.1e}"
            if passed
            else f"{share:.2%} of test answers identical, largest output difference {largest:.2e} "
            f"(needs 100% and <= {tolerance:g})"
        )
    else:
        passed = True  # the int8 search already held it to the quality rule on validation
        verdict = f"{share:.2%} of {len(examples):,} test answers identical to PyTorch's"
    file = export_dir(reference.run_dir, fmt.name) / fmt.file
    return {
        "format": fmt.name,
        "runtime": fmt.runtime,
        "file": str(file.relative_to(reference.run_dir)),
        "records": len(examples),
        "max_abs_diff": largest,
        "max_abs_diff_by_output": differences,
        "agreement": share,
        "tolerance": tolerance if fmt.fp32 else None,
        "passed": passed,
        "verdict": verdict,
        "reference": eager,
        "metrics": {
            eager: headline_metrics(task, records, expected, reference.labels, reference.run_dir),
            fmt.name: headline_metrics(task, records, found, reference.labels, reference.run_dir),
        },
        "speed": speeds,
        "differing": differing_examples(records, expected, found, task.inputs),
    }
