"""`tunesmith export`: ONNX (fp32, int8) and TorchScript, each with its parity proof."""

from __future__ import annotations

from typing import Annotated

import typer

from tunesmith.console import console
from tunesmith.options import (
    RunDir,
)

app = typer.Typer()


@app.command()
def export(
    run_dir: RunDir,
    format_: Annotated[
        str, typer.Option("--format", help="onnx, torchscript, or student (a distilled, smaller graph).")
    ] = "onnx",
    quantize: Annotated[
        str | None, typer.Option("--quantize", help="int8 (with --format onnx): weights in 8 bits.")
    ] = None,
) -> None:
    """Export RUN_DIR's model and prove it on the run's test split: export/<format>/ holds the
    file and parity.json; the manifest is updated. A failed proof keeps nothing (exit 2).

    Examples:

        tunesmith export runs/faq --format onnx

        tunesmith export runs/faq --format onnx --quantize int8

        tunesmith export runs/faq --format torchscript

        tunesmith export runs/faq --format student
    """
    from tunesmith import recipe as recipe_io
    from tunesmith.bundle import read_json_if_present
    from tunesmith.evaluate.report import write_report
    from tunesmith.evaluate.stage import METRICS_FILE, judge_gates, raise_if_not_releasable
    from tunesmith.export.choose_served import decide_served
    from tunesmith.export.not_kept import forget_not_kept
    from tunesmith.export.stage import export as export_stage
    from tunesmith.export.student import STUDENT, export_student
    from tunesmith.pipeline.run import bundle
    from tunesmith.runtime.formats import format_named
    from tunesmith.runtime.parity import eager_name

    fmt = format_named(format_, quantize)
    if fmt.name == STUDENT:  # a distilled graph, not the trained one exported
        parity = export_student(run_dir)
        forget_not_kept(run_dir, STUDENT)
    else:
        parity = export_stage(run_dir, fmt)
    speed, eager = parity["speed"], parity["reference"]
    console.print(f"{fmt.name}: {parity['verdict']}")
    console.print(
        f"one input: {speed[fmt.name]['latency_ms_p50']:.2f} ms ({speed[eager]['latency_ms_p50']:.2f} ms "
        f"{eager_name(eager)}); {parity['file']}"
    )
    decide_served(run_dir)
    judge_gates(run_dir, recipe_io.load_resolved(run_dir), read_json_if_present(run_dir / METRICS_FILE))
    write_report(run_dir)
    bundle(run_dir)
    raise_if_not_releasable(run_dir)
    console.print(f"next: tunesmith serve {run_dir} (--backend auto answers with the export chosen above)")
