"""`tunesmith evaluate`, `compare` and `ab-test`: score a run, two runs side by side, an online test."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunesmith.console import console
from tunesmith.errors import TunesmithError
from tunesmith.options import (
    RunDir,
)
from tunesmith.runtime.cli import BackendOption, read_inputs

app = typer.Typer()


@app.command()
def evaluate(
    run_dir: RunDir,
    backend: Annotated[
        str,
        typer.Option(
            "--backend", help="torch (the trained model) or an export: onnx, onnx-int8, torchscript, auto."
        ),
    ] = "torch",
) -> None:
    """Score RUN_DIR's model on validation and test, then write the manifest.

    Examples:

        tunesmith evaluate runs/faq

        tunesmith evaluate runs/faq --backend onnx-int8     # the model that will be shipped
    """
    from tunesmith.evaluate.stage import evaluate as evaluate_stage
    from tunesmith.evaluate.stage import raise_if_not_releasable
    from tunesmith.pipeline.run import bundle

    evaluate_stage(run_dir, backend)
    bundle(run_dir)
    raise_if_not_releasable(run_dir)
    console.print(f"next: tunesmith serve {run_dir}")


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="Run A (the current model).")],
    run_b: Annotated[Path, typer.Argument(help="Run B (the candidate).")],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="JSONL of {text, label} records (default: A's own test split)."),
    ] = None,
    backend: BackendOption = "auto",
) -> None:
    """Offline A/B: both models on the same records; each headline metric's difference with a
    paired bootstrap 95% interval and p-value (McNemar's exact test for classification accuracy,
    sacrebleu's paired bootstrap for BLEU and chrF), and a plain verdict.

    Examples:

        tunesmith compare runs/faq-1ep runs/faq-3ep

        tunesmith compare runs/current runs/candidate --data holdout.jsonl
    """
    from rich.table import Table

    from tunesmith.evaluate.compare import compare_runs, format_p

    records = None
    if data is not None:
        records = read_inputs(data, ("text", "label"))
    result = compare_runs(run_a, run_b, records, backend)
    table = Table(title=f"B - A on {result.count} records")
    for column in ("metric", "A", "B", "B - A", "95% CI", "p"):
        table.add_column(column, justify="right")
    table.add_column("test")
    for d in result.differences:
        table.add_row(
            d.metric,
            f"{d.a:.4f}",
            f"{d.b:.4f}",
            f"{d.delta:+.4f}",
            f"[{d.low:+.4f}, {d.high:+.4f}]",
            format_p(d.p_value),
            result.tests.get(d.metric, "paired bootstrap"),
        )
    console.print(table)
    m = result.mcnemar
    if m is not None:
        console.print(
            f"McNemar: {m.only_a_right} records only A gets right, {m.only_b_right} only B; "
            f"exact p = {m.p_value:.3g}"
        )
    for d in result.differences:
        console.print(d.verdict())


@app.command("ab-test")
def ab_test(
    log: Annotated[Path, typer.Argument(help="JSONL outcome log: version, request_id, outcome (1/0).")],
    a: Annotated[str | None, typer.Option("--a", help="The control version (default: the first).")] = None,
    b: Annotated[str | None, typer.Option("--b", help="The candidate version (default: the second).")] = None,
    mde: Annotated[
        float, typer.Option(help="Smallest absolute change in success rate worth detecting.")
    ] = 0.02,
    alpha: Annotated[float, typer.Option(help="False-positive rate of the test.")] = 0.05,
    power: Annotated[float, typer.Option(help="Chance to detect a change of --mde.")] = 0.8,
) -> None:
    """Online A/B: the success rates of two served versions, a two-proportion test with a 95%
    interval, and the sample size the test needs; warns when it is read before that size.

    Example:

        tunesmith ab-test outcomes.jsonl --mde 0.02
    """
    from tunesmith.evaluate.online_ab import read_outcomes, sample_size_per_arm, two_proportion_test

    if not log.is_file():
        raise TunesmithError(f"{log}: no such file")
    arms = read_outcomes(log)
    names = list(arms)
    a, b = a or (names[0] if names else None), b or (names[1] if len(names) > 1 else None)
    if a not in arms or b not in arms or a == b:
        raise TunesmithError(f"{log}: needs outcomes of two versions (found: {', '.join(names) or 'none'})")
    result = two_proportion_test(arms[a], arms[b])
    for arm in (result.a, result.b):
        console.print(f"{arm.version}: {arm.successes:,} of {arm.requests:,} ({arm.rate:.2%})")
    console.print(
        f"B - A = {100 * result.delta:+.2f} points "
        f"(95% CI {100 * result.low:+.2f} to {100 * result.high:+.2f}), "
        f"z = {result.z:.2f}, p = {result.p_value:.3g}"
    )
    try:
        needed = sample_size_per_arm(arms[a].rate, mde, alpha, power)
    except ValueError as error:
        raise TunesmithError(f"--mde {mde}: {error}") from None
    console.print(
        f"planned size: {needed:,} requests per arm to detect {mde:+.2%} (alpha {alpha}, power {power})"
    )
    smallest = min(arms[a].requests, arms[b].requests)
    if smallest < needed:
        console.print(
            f"[yellow]warning: only {smallest:,} requests in the smaller arm, "
            f"{needed - smallest:,} short of the plan.[/] Reading the test before then and stopping "
            "on a low p inflates false positives (peeking): keep it running."
        )
    elif result.p_value < alpha:
        console.print(f"[bold]{b if result.delta > 0 else a} is better[/] at the planned size")
    else:
        console.print("no significant difference at the planned size")
