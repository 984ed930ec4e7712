"""The run's exports as the evaluate stage reads them: the figures gates may name
(`export.onnx-int8.agreement`), the report's "Exports" section with its speed plot, and the model
card's lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunesmith.html_page import escape, markdown_table, table
from tunesmith.runtime.parity import eager_name, not_kept, parity_records, reference_of
from tunesmith.runtime.serving_choice import read_choice


def gate_figures(run_dir: Path) -> dict[str, dict[str, float]]:
    """Per export: agreement, max_abs_diff, passed (1/0), batch-1 latency and each headline
    metric of the export - the numbers a gate `export.<name>.<figure>` reads."""
    figures = {}
    for name, parity in parity_records(run_dir).items():
        values: dict[str, float] = {
            "agreement": parity["agreement"],
            "max_abs_diff": parity["max_abs_diff"],
            "passed": float(bool(parity["passed"])),
            **parity["metrics"].get(name, {}),
        }
        speed = parity.get("speed", {}).get(name)
        if speed:
            values["latency_ms_p50"] = speed["latency_ms_p50"]
        figures[name] = values
    return figures


def report_section(run_dir: Path) -> tuple[str, str, str] | None:
    """(title, html, markdown) of the report's export section; None when nothing was exported."""
    from tunesmith.metrics.plots import bar_chart, data_uri

    records = parity_records(run_dir)
    missed = [
        f"{name}: not kept, {note['instead']} answers instead - {note['reason']}"
        for name, note in not_kept(run_dir).items()
    ]
    if not records:
        return None
    rows, latency, lines = [], {}, []
    for name, parity in records.items():
        speed = parity.get("speed", {})
        eager = reference_of(parity)
        eager_ms = speed.get(eager, {}).get("latency_ms_p50")
        own = speed.get(name, {})
        metrics = parity["metrics"]
        lead = next(iter(metrics.get(eager, {})), None)
        path = run_dir / parity["file"]
        size = f"{path.stat().st_size / 2**20:.1f} MB" if path.is_file() else "-"
        rows.append(
            [
                name,
                "pass" if parity["passed"] else "FAIL",
                f"{parity['agreement']:.2%}",
                f"{parity['max_abs_diff']:.1e}",
                f"{metrics[eager][lead]:.4f} / {metrics[name][lead]:.4f}" if lead else "-",
                f"{own.get('latency_ms_p50', 0):.1f} ms" if own else "-",
                f"{own.get('texts_per_s_batch32', 0):,.0f}" if own else "-",
                size,
            ]
        )
        if own:
            latency[name] = own["latency_ms_p50"]
        if eager_ms is not None:
            latency[eager] = eager_ms
        lines.append(f"{name}: {parity['verdict']}")
    lines += missed
    first = next(iter(records.values()))
    lead_name = next(iter(first["metrics"].get(reference_of(first), {})), "metric")
    header = [
        "export",
        "parity",
        "answers identical",
        "max |diff|",
        f"{lead_name} {reference_of(first)} / export",
    ]
    header += ["one text (p50)", "texts/s (batch 32)", "size"]
    plot = bar_chart(latency, "milliseconds per text, batch 1 (p50, lower is faster)", "ms")
    html = (
        "".join(f"<p>{escape(line)}</p>" for line in lines)
        + table(header, rows)
        + f'<img alt="latency per backend" src="{data_uri(plot)}">'
    )
    served = read_choice(run_dir)
    if served is not None:
        line, served_header, served_rows = serving_table(served)
        lines.append(line)
        html += f"<h3>Which export serves</h3><p>{escape(line)}</p>" + table(served_header, served_rows)
    return ("Exports (proven on the test split)", html, "\n\n".join(lines))


def serving_table(served: dict[str, Any]) -> tuple[str, list[str], list[list[str]]]:
    """export/serving.json as a line (what serves, and why) and a table: each candidate's verdict
    by the quality rule, its metric difference with the 95% interval, and ms per text."""
    sizes = [str(size) for size in served["batch_sizes"]]
    header = ["export", "verdict", "answers agree", "metric difference (95% CI)"]
    header += [f"ms a text, batch {size}" for size in sizes]
    rows = []
    for name, candidate in served["candidates"].items():
        quality = candidate.get("quality") or {}
        low, high = quality.get("difference_low"), quality.get("difference_high")
        difference = (
            f"{quality['metric']} {quality['difference_points']:+.2f} ({low:+.2f} to {high:+.2f}) points"
            if quality.get("metric") and low is not None
            else "-"
        )
        agree = quality.get("agreement")
        verdict = "serves" if name == served["chosen"] else ("holds" if candidate["holds"] else "not kept")
        times = candidate["ms_per_text"]
        rows.append(
            [name, verdict, f"{agree:.2%}" if agree is not None else "-", difference]
            + [f"{times[size]:.2f}" if size in times else "-" for size in sizes]
        )
    return f"{served['chosen']} serves: {served['reason']}", header, rows


def card_section(run_dir: Path) -> str:
    """The model card's lines on exports: each proven one with its agreement and speed."""
    lines = []
    for name, parity in parity_records(run_dir).items():
        if not parity["passed"]:
            continue
        speed = parity.get("speed", {})
        own, eager = speed.get(name, {}), speed.get(reference_of(parity), {})
        shown = eager_name(reference_of(parity))
        timing = (
            f"; one input {own['latency_ms_p50']:.2f} ms against {eager['latency_ms_p50']:.2f} ms in {shown}"
            if own and eager
            else ""
        )
        lines.append(f"- `{parity['file']}` ({parity['runtime']}): {parity['verdict']}{timing}.")
    lines += [
        f"- {name}: not kept ({note['reason']}); {note['instead']} answers instead."
        for name, note in not_kept(run_dir).items()
    ]
    served = read_choice(run_dir)
    if served is not None:
        line, header, rows = serving_table(served)
        lines += ["", f"Serving (`export/serving.json`): {line}", "", markdown_table(header, rows)]
    if not lines:
        return ""
    return (
        "\n## Exports\n\nProven on the test split (`export/<format>/parity.json`):\n\n"
        + "\n".join(lines)
        + "\n"
    )
