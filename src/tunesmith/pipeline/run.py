"""The line: prepare -> train -> evaluate -> bundle, and nothing else.

`run` works in a staging folder beside the output and renames it into place at the end, so a
run folder either holds a complete, checksummed run or does not exist.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith import recipe as recipe_io
from tunesmith.bundle import (
    MANIFEST,
    check_output_free,
    read_json_if_present,
    start_run_folder,
    write_manifest,
)
from tunesmith.console import console
from tunesmith.errors import TrainingStopped, TunesmithError
from tunesmith.evaluate.gates import read_gates
from tunesmith.evaluate.report import write_report
from tunesmith.evaluate.stage import evaluate, judge_gates, raise_if_not_releasable
from tunesmith.export.stage import ExportFailed
from tunesmith.model_card import write_model_card
from tunesmith.prepare.stage import DATA_DIR, prepare
from tunesmith.recipe import Recipe
from tunesmith.train.launch import Processes
from tunesmith.train.stage import train


def bundle(run_dir: Path) -> dict[str, Any]:
    """Write the manifest: checksums of every file, versions, data fingerprint, seed, metrics."""
    recipe = recipe_io.load_resolved(run_dir)
    report = json.loads((run_dir / DATA_DIR / "report.json").read_text(encoding="utf-8"))
    metrics = read_json_if_present(run_dir / "metrics.json")
    gates = read_gates(run_dir) or {"releasable": True}
    headline = {
        split: {k: v for k, v in values.items() if isinstance(v, int | float)}
        for split, values in metrics.items()
    }
    if (run_dir / "model").is_dir():
        write_model_card(run_dir, recipe, report, metrics)
    return write_manifest(
        run_dir,
        {
            "name": recipe.name,
            "task": recipe.task.type,
            # what trained: model.name's choice for auto, gradient-boosted trees for a table
            "model": read_json_if_present(run_dir / "train_summary.json").get("model", recipe.model.name),
            "seed": recipe.seed,
            "recipe_sha256": hashlib.sha256((run_dir / recipe_io.RECIPE_FILE).read_bytes()).hexdigest(),
            "data_fingerprint": report["fingerprint"],
            "labels": report["labels"],
            "metrics": headline,
            "releasable": gates["releasable"],
            "gates": gates.get("gates", {}),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )


def _resumable_staging(recipe: Recipe, staging: Path) -> bool:
    """True when `staging` holds an interrupted run of this same recipe; refuse another recipe's."""
    recorded = staging / recipe_io.RECIPE_FILE
    if not recorded.is_file():
        return False
    if recorded.read_text(encoding="utf-8") != recipe_io.dump(recipe):
        raise TunesmithError(
            f"{staging} holds an interrupted run of a different recipe; resume with the same recipe "
            "and --set options, or start again without --resume"
        )
    return True


def run(
    recipe: Recipe,
    output: Path,
    overwrite: bool = False,
    resume: bool = False,
    processes: Processes | None = None,
    force: bool = False,
) -> Path:
    """The whole line into `output`; `resume` continues an interrupted run of the same recipe
    (prepared data reused, training from its last complete checkpoint); `force` trains on splits
    the guards refuse."""
    check_output_free(output, overwrite)
    staging = output.with_name(f".{output.name}.partial")
    resuming = resume and _resumable_staging(recipe, staging)
    if not resuming and staging.exists():
        shutil.rmtree(staging)
    started = time.monotonic()
    if not resuming:
        start_run_folder(recipe, staging)
    console.rule("prepare")
    if resuming and (staging / DATA_DIR / "report.json").is_file():
        console.print(f"resuming {staging}: the prepared data is reused")
    else:
        prepare(recipe, staging)
    console.rule("train")
    try:
        train(staging, resume=resuming, processes=processes, force=force)
    except TrainingStopped:
        raise TrainingStopped(
            "stopped; the checkpoint is kept. Continue with the same command plus --resume"
        ) from None
    console.rule("evaluate")
    results = evaluate(staging, defer_export_gates=bool(recipe.export.formats))
    failed = export_all(staging, recipe, results) if recipe.export.formats else []
    bundle(staging)
    atomic.replace_dir(staging, output)  # an existing run (--overwrite) is moved aside, then deleted
    winner = _winner_line(output)
    if winner:
        console.print(winner, highlight=False)
    console.print(
        f"[bold green]done[/] in {time.monotonic() - started:.0f} s: {output} (manifest {output / MANIFEST})"
    )
    if failed:
        raise ExportFailed(
            f"the run is complete, but these exports failed and were not kept: {'; '.join(failed)}"
        )
    raise_if_not_releasable(output)
    return output


def _winner_line(run_dir: Path) -> str | None:
    """'model: the weighted ensemble of ... (why); validation macro_f1 0.81, test 0.79' for a run
    that fitted several learners."""
    summary = read_json_if_present(run_dir / "train_summary.json")
    choice = summary.get("choice")
    if not choice or len(summary.get("leaderboard", [])) < 2:
        return None
    metric = choice.get("metric")
    served = "ensemble" if choice["served"] == "ensemble" else choice["served"]
    tested = read_json_if_present(run_dir / "metrics.json").get("test", {}).get("leaderboard", [])
    test = next((row.get(metric) for row in tested if row["learner"] == served), None)
    validation = next(
        (row.get("validation", {}).get(metric) for row in summary["leaderboard"] if row["learner"] == served),
        None,
    )
    figures = [f"validation {metric} {validation:.4f}" if validation is not None else ""]
    figures.append(f"test {test:.4f}" if test is not None else "")
    shown = ", ".join(f for f in figures if f)
    return f"[bold]model[/]: {choice['reason']}" + (f"; {shown}" if shown else "")


def _learners_served(run_dir: Path) -> str | None:
    """What serves a bundle of learners ("ngram_linear", "the ensemble of ..."); None: a transformer alone."""
    from tunesmith.runtime.learners import bundle_spec

    spec = bundle_spec(run_dir / "model")
    if spec is None or spec.transformer_only:
        return None
    return spec.served if spec.served != "ensemble" else "the ensemble of " + ", ".join(spec.names)


def _student(run_dir: Path, served: str | None) -> None:
    """The distilled student (`export.student`), a serving candidate; one that is not made or does
    not hold is noted, never fatal: the exports already made serve."""
    from tunesmith.errors import TunesmithError
    from tunesmith.export.not_kept import record_not_kept
    from tunesmith.export.student import STUDENT, export_student

    if served:
        reason = f"a student is distilled from a transformer served alone; this run serves {served}"
        console.print(f"student: not made ({reason})")
        record_not_kept(run_dir, STUDENT, reason, instead="the exports above")
        return
    try:
        parity = export_student(run_dir)
        console.print(f"student: {parity['verdict']}")
    except TunesmithError as error:  # ExportFailed included: the rule refused it
        console.print(f"[yellow]student not kept[/] ({error})")
        record_not_kept(run_dir, STUDENT, str(error), instead="the exports above")


def export_all(run_dir: Path, recipe: Recipe, results: dict[str, Any]) -> list[str]:
    """The recipe's exports, each proven or left out; then the gates again (they may name export
    figures) and the report. Returns what failed, one line each."""
    from tunesmith.export.choose_served import decide_served
    from tunesmith.export.not_kept import record_not_kept
    from tunesmith.export.stage import export
    from tunesmith.runtime.formats import FORMATS

    console.rule("export")
    failed, passed = [], []
    served = _learners_served(run_dir)
    for name in recipe.export.formats:
        if served and name != "onnx":  # int8 and TorchScript are a transformer's alone
            reason = f"applies to a transformer served alone; this run serves {served}"
            console.print(f"{name}: not made ({reason}); predict and serve use onnx")
            record_not_kept(run_dir, name, reason, instead="onnx")
            continue
        try:
            parity = export(run_dir, FORMATS[name], verify=False)
            console.print(f"{name}: {parity['verdict']}")
            passed.append(name)
        except ExportFailed as error:
            if name == "onnx-int8" and "onnx" in passed:  # int8 is a speed-up over a proven fp32 graph
                console.print(f"[yellow]onnx-int8 not kept[/] ({error}); predict and serve use onnx (fp32)")
                record_not_kept(run_dir, name, str(error), instead="onnx")
                continue
            console.print(f"[bold red]{error}[/]")
            failed.append(str(error))
    if recipe.export.student != "off":
        _student(run_dir, served)
    decide_served(run_dir)
    judge_gates(run_dir, recipe, results)
    write_report(run_dir)
    return failed
