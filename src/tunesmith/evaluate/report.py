"""The run report: one self-contained `report.html` (plots inline, works offline) and a
`report.md` for pasting into a review, from what the run folder already holds: the data report,
training curves, metrics with intervals, per-class scores, calibration, slices, robustness,
errors and gates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.bundle import TASK_STATE_FILE, read_json_if_present
from tunesmith.evaluate.exports import report_section as export_section
from tunesmith.evaluate.gates import read_gates
from tunesmith.evaluate.slices import metric_names
from tunesmith.evaluate.trivial import describe
from tunesmith.evaluate.untrained import describe_untrained
from tunesmith.html_page import escape, markdown_table, page, png, table

HTML_FILE = "report.html"
MARKDOWN_FILE = "report.md"
_PLOTS = (
    ("training_curves.png", "Training curves"),
    ("confusion_matrix_test.png", "Confusion matrix (test)"),
    ("reliability_test.png", "Calibration (test)"),
    ("roc_pr_test.png", "ROC and precision-recall (test)"),
    ("slices_test.png", "Slices (test)"),
    ("robustness_test.png", "Robustness (test)"),
)


def with_interval(metrics: dict[str, Any], name: str) -> str:
    """'0.8567 [0.817, 0.893]': the value and its 95% bootstrap interval where there is one; '-'
    when the metric is not reported."""
    if name not in metrics:
        return "-"
    low, high = metrics.get("confidence_intervals", {}).get(name, (None, None))
    interval = f" [{low:.3f}, {high:.3f}]" if low is not None and low == low else ""
    return f"{metrics[name]:.4f}{interval}"


_METRICS = {  # display names; a metric not named here shows its key
    "accuracy": "accuracy",
    "macro_f1": "macro-F1",
    "micro_f1": "micro-F1",
    "weighted_f1": "weighted-F1",
    "pr_auc": "PR-AUC",
    "roc_auc": "ROC-AUC",
    "recall_at_95_precision": "recall@95%P",
    "ece": "ECE",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
    "f1": "F1",
    "exact_match": "exact match",
    "bleu": "BLEU",
    "chrf": "chrF",
    "rouge_l": "ROUGE-L",
    "mrr@10": "MRR@10",
}
_EXTRAS = ("pr_auc", "roc_auc", "recall_at_95_precision", "ece")  # shown beside the headline when reported


def _metric_table(metrics: dict[str, Any], headline: tuple[str, ...]) -> tuple[list[str], list[list[Any]]]:
    """(header, rows): the task's headline metrics and the extras any split reports, with intervals."""
    wanted = list(headline) + [m for m in _EXTRAS if m not in headline]
    shown = [m for m in wanted if any(m in values for values in metrics.values())]
    rows = [
        [split, values.get("count", ""), *(with_interval(values, m) if m in values else "" for m in shown)]
        for split, values in metrics.items()
    ]
    return ["split", "n", *(_METRICS.get(m, m) for m in shown)], rows


def _sections(run_dir: Path, headline: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(title, html, markdown) per section, in reading order."""
    metrics = read_json_if_present(run_dir / "metrics.json")
    data = read_json_if_present(run_dir / "data" / "report.json")
    summary = read_json_if_present(run_dir / "train_summary.json")
    gates = read_gates(run_dir)
    test = metrics.get("test", {})
    sections = []
    if gates:
        failed = [(n, g) for n, g in gates["gates"].items() if not g["passed"]]
        verdict = (
            "releasable: every gate passed" if not failed else f"NOT releasable: {len(failed)} gate(s) failed"
        )
        rows = [
            [
                n,
                g["condition"],
                "not reported" if g["value"] is None else f"{g['value']:.4f}",
                "pass" if g["passed"] else "FAIL",
            ]
            for n, g in gates["gates"].items()
        ]
        css = "ok" if not failed else "warn"
        sections.append(
            (
                "Release gates",
                f'<p class="{css}"><b>{escape(verdict)}</b></p>'
                + table(["gate", "required", "value", ""], rows),
                f"**{verdict}**",
            )
        )
    if data:
        counts = data.get("split_counts", {})
        shown = ", ".join(f"{k} {v:,}" for k, v in counts.items())
        text = (
            f"{data.get('rows_read', 0):,} records read, {data.get('rows_rejected', 0):,} quarantined; "
            f"splits: {shown}; {len(data.get('labels', []))} labels; language {data.get('language', '?')}"
        )
        sections.append(
            ("Data", f"<p>{escape(text)}. The full data report: <code>data/report.html</code>.</p>", text)
        )
    if summary:
        text = (
            f"{summary.get('model')} - {summary.get('steps')} steps, {summary.get('epochs')} epochs, "
            f"{summary.get('precision')}, {summary.get('world_size', 1)} process(es), "
            f"{(summary.get('train_runtime_s') or 0):.0f} s"
        )
        sections.append(
            ("Training", f"<p>{escape(text)}</p>" + png(run_dir / "training_curves.png", "curves"), text)
        )
    if summary.get("leaderboard"):
        sections.append(_leaderboard_section(summary, test, run_dir))
    if metrics:
        header, rows = _metric_table(metrics, headline)
        sections.append(
            ("Metrics (95% bootstrap intervals)", table(header, rows), markdown_table(header, rows))
        )
    trivial = [
        (split, values["trivial_baseline"])
        for split, values in metrics.items()
        if "trivial_baseline" in values
    ]
    if trivial:
        lines = [f"{split}: {describe(found)}" for split, found in trivial]
        html = "".join(
            f'<p class="{"ok" if found["gain_low"] > 0 else "warn"}">{escape(line)}</p>'
            for line, (_, found) in zip(lines, trivial, strict=True)
        )
        sections.append(("Against a trivial baseline", html, "\n\n".join(lines)))
    if test.get("untrained"):
        sections.append(_untrained_section(test["untrained"], run_dir))
    if test.get("per_class"):
        rows = [
            [label, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", v["support"]]
            for label, v in test["per_class"].items()
        ]
        sections.append(
            (
                "Per class (test)",
                table(["label", "precision", "recall", "F1", "support"], rows)
                + png(run_dir / "confusion_matrix_test.png", "confusion matrix"),
                "",
            )
        )
    plots = "".join(png(run_dir / name, title) for name, title in _PLOTS[2:4])
    if plots:
        state = read_json_if_present(run_dir / "model" / TASK_STATE_FILE)
        text = f"ECE {test['ece']:.3f}" if "ece" in test else ""
        if "temperature" in state:
            temperature = state["temperature"]
            text += (
                f"; probabilities are softmax(logits / {temperature:.3f}), a temperature fitted on validation"
            )
        html = (f"<p>{escape(text)}</p>" if text else "") + f'<div class="grid">{plots}</div>'
        sections.append(("Calibration and curves (test)", html, text))
    for name, report in test.get("slices", {}).items():
        sections.append(_slice_section(name, report, run_dir))
    if test.get("robustness"):
        suites = test["robustness"]["suites"]
        metric = test["robustness"].get("metric", "accuracy")
        rows = [
            [n, f"{v[metric]:.3f}", "" if "flip_rate" not in v else f"{v['flip_rate']:.1%}"]
            for n, v in suites.items()
        ]
        flips = test["robustness"].get("flip_rate")
        text = f"worst flip rate {flips:.1%}" if flips is not None else f"{metric} under each perturbation"
        sections.append(
            (
                "Robustness (test)",
                f"<p>{escape(text)}</p>"
                + table(["perturbation", _METRICS.get(metric, metric), "flips"], rows)
                + png(run_dir / "robustness_test.png", "robustness"),
                text,
            )
        )
    if test.get("expectations"):
        sections.append(_expectation_section(test["expectations"]))
    exported = export_section(run_dir)
    if exported:
        sections.append(exported)
    errors = test.get("errors")
    if errors:
        rows = [
            [m["text"], m["label"], m["predicted"], f"{m['score']:.3f}"]
            for m in errors["most_confident_mistakes"]
        ]
        pairs = [
            [p["label"], p["predicted"], p["count"], " | ".join(p["examples"])]
            for p in errors["most_confused_pairs"]
        ]
        sections.append(
            (
                "Errors (test)",
                f"<p>{errors['mistakes']:,} mistakes. The surest of them:</p>"
                + table(["text", "label", "answered", "confidence"], rows)
                + "<p>Most confused pairs:</p>"
                + table(["label", "answered", "count", "examples"], pairs),
                f"{errors['mistakes']:,} mistakes",
            )
        )
    return sections


def _leaderboard_section(
    summary: dict[str, Any], test: dict[str, Any], run_dir: Path
) -> tuple[str, str, str]:
    """Every learner that was fitted, on validation and test, and which one (or which ensemble)
    the bundle serves, with a picture of both figures."""
    from tunesmith.metrics.plots import data_uri, paired_bars

    choice, board = summary["choice"], summary["leaderboard"]
    metric = choice.get("metric") or ""
    tested = {row["learner"]: row for row in test.get("leaderboard", [])}
    served = "ensemble" if choice["served"] == "ensemble" else choice["served"]
    rows, names, validation, on_test = [], [], [], []
    for entry in board:
        name = entry["learner"]
        value = entry.get("validation", {}).get(metric)
        figure = tested.get(name, {}).get(metric)
        rows.append(
            [
                name + (" (served)" if name == served else ""),
                entry.get("title", ""),
                entry.get("error", "")[:120] if entry["status"] != "fitted" else _shown(value),
                _shown(figure),
                f"{entry['fit_seconds']:.1f} s",
                "-" if entry.get("ms_per_row") is None else f"{entry['ms_per_row']:.2f}",
                f"{entry['weight']:.2f}" if entry.get("weight") else "",
            ]
        )
        if entry["status"] == "fitted":
            names.append(name)
            validation.append(value)
            on_test.append(figure)
    header = [
        "learner",
        "what it is",
        f"validation {metric}",
        f"test {metric}",
        "fit",
        "ms per row",
        "weight",
    ]
    text = f"served: {choice['reason']}"
    figure = paired_bars(
        names, {"validation": validation, "test": on_test}, f"{metric} of each learner", served
    )
    html = (
        f"<p>{escape(text)}</p>"
        + table(header, rows)
        + "<p>Each learner answers as it would be served alone (its own thresholds and calibration); "
        "ms per row: its time to answer, measured on validation.</p>"
        + f'<img alt="validation and test figure of each learner" src="{data_uri(figure)}">'
        + png(run_dir / "leaderboard_pr_test.png", "precision-recall of each learner")
    )
    return ("Learners", html, text + "\n\n" + markdown_table(header, rows))


def _shown(value: Any) -> str:
    return "-" if value is None or value != value else f"{value:.4f}"


def _untrained_section(found: dict[str, Any], run_dir: Path) -> tuple[str, str, str]:
    line = describe_untrained(found)
    rows = [[e["input"], e["reference"], e["untrained"], e["fine_tuned"]] for e in found["examples"]]
    html = (
        f"<p>{escape(line)}</p>"
        + png(run_dir / "untrained_test.png", "before and after fine-tuning")
        + table(["input", "reference", "before fine-tuning", "fine-tuned"], rows)
    )
    return ("What fine-tuning bought (test)", html, line)


def _expectation_section(found: dict[str, Any]) -> tuple[str, str, str]:
    rows, shown = [], []
    for name, check in found["checks"].items():
        rule = (
            "answer unchanged"
            if check["direction"] == "same"
            else f"P({check['label']}) {check['direction']}"
        )
        rows.append(
            [
                name,
                check["add"],
                rule,
                f"{check['failures']:,} of {check['tested']:,}",
                f"{check['failure_rate']:.1%}",
            ]
        )
        for example in check["examples"]:
            moved = (
                f"{example['probability_before']:.3f} -> {example['probability_after']:.3f}"
                if "probability_before" in example
                else ""
            )
            shown.append([name, example["text"], f"{example['before']} -> {example['after']}", moved])
    text = f"worst failure rate {found['failure_rate']:.1%}"
    html = f"<p>{escape(text)}</p>" + table(
        ["expectation", "added text", "must hold", "failures", "rate"], rows
    )
    if shown:
        html += "<p>The worst failures:</p>" + table(["expectation", "text", "answer", "probability"], shown)
    return ("Expectations (test, CheckList style)", html, text)


def _slice_section(name: str, report: dict[str, Any], run_dir: Path) -> tuple[str, str, str]:
    shown = metric_names(report)
    rows = [
        [value, v["count"], *(f"{v[m]:.3f}" for m in shown), "small" if v["small"] else ""]
        for value, v in report["per_slice"].items()
    ]
    text = f"by {name}: {shown[0]} gap {report[f'gap_{shown[0]}']:.3f}"
    if "demographic_parity_difference" in report:
        text += f", demographic parity difference {report['demographic_parity_difference']:.3f}"
    return (
        f"Slices by {name} (test)",
        f"<p>{escape(text)}</p>"
        + table([name, "n", *(_METRICS.get(m, m) for m in shown), ""], rows)
        + png(run_dir / "slices_test.png", "slices"),
        text,
    )


def write_report(run_dir: Path) -> Path:
    """Write `report.html` and `report.md` into the run folder; returns the HTML path."""
    from tunesmith.recipe import load_resolved
    from tunesmith.tasks import get_task

    recipe = load_resolved(run_dir)
    title = f"tunesmith run report: {recipe.name} ({recipe.task.type})"
    sections = _sections(run_dir, get_task(recipe.task).headline)
    body = f"<h1>{escape(title)}</h1>" + "".join(f"<h2>{escape(t)}</h2>{h}" for t, h, _ in sections)
    atomic.write_text(run_dir / HTML_FILE, page(title, body))
    markdown = f"# {title}\n\n" + "\n\n".join(f"## {t}\n\n{m}" for t, _, m in sections if m) + "\n"
    atomic.write_text(run_dir / MARKDOWN_FILE, markdown)
    return run_dir / HTML_FILE
