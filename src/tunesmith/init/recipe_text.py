"""A plan as a commented recipe: every choice with its reason and runner-up, next to its key."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tunesmith.init.plan import Choice, Plan
from tunesmith.models.catalog import catalog_entry
from tunesmith.recipe import PII_TYPES


def _q(value: object) -> str:
    """A YAML scalar or flow collection on one line."""
    return (
        yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10_000)
        .strip()
        .removesuffix("\n...")
    )


def _why(choice: Choice | None) -> str:
    if choice is None:
        return ""
    runner = f" (runner-up: {choice.runner_up})" if choice.runner_up else ""
    return f"   # {choice.reason}{runner}"


def _labels_comment(plan: Plan) -> str:
    if not plan.labels:
        return _why(plan.label)
    shown = ", ".join(plan.labels[:8]) + (" ..." if len(plan.labels) > 8 else "")
    runner = f" (runner-up: {plan.label.runner_up})" if plan.label and plan.label.runner_up else ""
    return f"   # {len(plan.labels)} labels: {shown}{runner}"


def findings(plan: Plan) -> list[str]:
    """What init found, as lines for the console and the recipe's header."""
    seen = f"{plan.rows:,} records" + ("" if plan.complete else " (at least)")
    lines = [f"{seen}: task {plan.task.value} - {plan.task.reason}"]
    if plan.task.runner_up:
        lines.append(f"  runner-up: {plan.task.runner_up}")
    width = max((len(path) for path in plan.roles), default=0)
    runner_ups = {
        choice.value: choice.runner_up for choice in (plan.label, plan.text) if choice and choice.runner_up
    }
    for path, role in plan.roles.items():
        runner = f" (runner-up: {runner_ups[path]})" if path in runner_ups else ""
        lines.append(f"  {path or '(unnamed)':<{width}}  {role}{runner}")
    lines.append(f"  language {plan.language} -> model {plan.model.value} ({plan.model.reason})")
    lines.append(f"  split: {plan.split_method} ({plan.split_reason})")
    lines.extend(f"  note: {warning}" for warning in plan.warnings)
    return lines


def _data_section(plan: Plan, data: str) -> list[str]:
    lines = ["data:", f"  train: {_q(data)}"]
    lines.append(
        "  # validation: valid.jsonl   # separate files; without them, validation and test are split off"
    )
    lines.append("  # test: test.jsonl")
    if plan.data_format:
        lines.append(f"  format: {plan.data_format}   # one text per line")
    if plan.columns:
        lines.append(f"  columns: {_q(plan.columns)}   # no header row: the first row is a record")
    if plan.text_template:
        lines.append(f"  text_template: {_q(plan.text_template)}   # {plan.task.reason}")
        lines.append(f"  list_separator: {_q(plan.list_separator)}")
    else:
        lines.append(f"  text_field: {_q(plan.text_field)}{_why(plan.text)}")
    if plan.pair_field:
        lines.append(f"  pair_field: {_q(plan.pair_field)}")
    lines.append(f"  label_field: {_q(plan.label_field)}{_labels_comment(plan)}")
    return lines


def _pii_section(plan: Plan) -> list[str]:
    lines = [
        "prepare:",
        "  pii:",
        "    # De-identification is on: phones, ID-card, bank-card and passport numbers, emails, IPs,",
        "    # plates, birth dates, person names and addresses are replaced before anything is tokenized",
        "    # or written. Keep it on unless the data holds no personal data.",
        "    enabled: true",
        "    action: mask   # or partial (138****5678), pseudonym (HMAC: TUNESMITH_PII_KEY), fake, drop",
    ]
    if plan.pii_types_off:
        kept = [t for t in PII_TYPES if t not in plan.pii_types_off]
        off = " and ".join(plan.pii_types_off)
        lines.append(f"    types: {_q(kept)}   # {off} off: they are what the model learns to find")
    if plan.pii_columns:
        lines.append(
            "    # Personal columns get a policy before anything else reads them (also in rejected.jsonl):"
        )
        lines.append(
            "    # keep | mask | partial | pseudonym | fake | generalize (a birth date -> its year) | drop"
        )
        lines.append(f"    columns: {_q(plan.pii_columns)}")
    return lines


def _split_section(plan: Plan) -> list[str]:
    lines = [
        "split:",
        "  validation: 0.1",
        "  test: 0.1",
        f"  method: {plan.split_method}   # {plan.split_reason}",
    ]
    if plan.group_field:
        lines.append(f"  group_field: {_q(plan.group_field)}")
    if plan.time_field:
        lines.append(
            f"  # time_field: {_q(plan.time_field)}   # method: time trains on the past, tests on the future"
        )
    return lines


def _task_section(plan: Plan) -> list[str]:
    lines = ["task:", f"  type: {plan.task.value}{_why(plan.task)}"]
    if plan.ner_format:
        lines.append(f"  ner_format: {plan.ner_format}")
    if plan.max_target_length:
        lines.append(f"  max_target_length: {plan.max_target_length}   # 95% of the targets fit (estimated)")
        lines.append(f"  max_new_tokens: {plan.max_target_length}")
    if plan.tabular_model:
        lines.append(
            f"  tabular_model: {plan.tabular_model}   # trees (column learners) | transformer | best (all) "
            "| auto (the transformer too where fields hold words); the best on validation, or their "
            "ensemble, is served"
        )
        lines.append(
            "  # cost: {miss: 100, false_alarm: 1}   # what a missed positive and a false alarm cost: the "
            "threshold is set to spend least"
        )
    if plan.prompt:
        # JSON's double-quoted string is YAML too, and keeps the prompt's line break on one line
        shown = json.dumps(plan.prompt, ensure_ascii=False)
        lines.append(
            f"  prompt: {shown}   # the decoder reads this ({{text}}: the input), then writes the target"
        )
    return lines


def recipe_text(plan: Plan, data: Path, out: Path) -> str:
    try:
        rel = data.resolve().relative_to(out.parent.resolve())
    except ValueError:
        rel = data.resolve()
    header = [
        f"# tunesmith recipe, written by `tunesmith init {data.name}`.",
        f"# Run it:   tunesmith run {out.name}",
        "# Every key and its default: see src/tunesmith/recipe/. Override any with --set a.b=c.",
        "#",
        *(f"# {line}" for line in findings(plan)),
    ]
    body = [
        f"name: {_q(data.stem or 'run')}",
        "seed: 42",
        *_data_section(plan, str(rel)),
        *_pii_section(plan),
        *_split_section(plan),
        "model:",
        f"  name: {plan.model.value}   # language {plan.language}: {plan.model.reason}"
        + (
            "; it reads the rows only if tabular_model is transformer or best"
            if plan.tabular_model == "trees"
            else ""
        ),
        f"  max_length: {plan.max_length}   # tokens; 95% of the inputs fit (estimated from the sample)",
        *_task_section(plan),
        "training:",
        "  # learning_rate, epochs, warmup_ratio and early_stopping_patience are auto: chosen from the",
        "  # model and the data size when training starts (train_summary.json records them). A number",
        "  # here fixes one. Class weights (class_weights: auto) are used where the labels are imbalanced.",
        "  batch_size: 32",
        *([f"  time_limit: {plan.time_limit}   # {plan.time_reason}"] if plan.time_limit else []),
        *_export_section(plan),
    ]
    return "\n".join(header + body) + "\n"


def _export_section(plan: Plan) -> list[str]:
    """An encoder model ends its run exported to ONNX and proven on the test split, so serving
    answers from it, and in int8 too where int8 was measured to keep its answers on this model (a
    miss still leaves the fp32 export serving); a generative one answers with PyTorch."""
    if plan.task.value in ("seq2seq", "causal_lm"):
        return []
    if plan.tabular_model:  # trees (or a transformer, when it wins on validation) as one ONNX graph
        return [
            "export:",
            "  # the served model as an ONNX graph, proven on the test split",
            "  formats: [onnx]",
        ]
    measured = getattr(catalog_entry(plan.model.value), "int8_measured", "")
    if measured:
        section = [
            "export:",
            "  # ONNX, proven on the test split (every answer as PyTorch's), and int8 where it keeps the",
            "  # quality on validation: >= 98% of the answers (agreement) and the headline metric's 95%",
            f"  # interval above -0.5 points (metric_margin) ({measured}). Of those that hold,",
            "  # the fastest at the server's batch sizes serves (export/serving.json says why);",
            "  # agreement: 0.995 keeps int8 to near-identical answers.",
            "  formats: [onnx, onnx-int8]",
        ]
    else:
        section = [
            "export:",
            "  # ONNX, proven on the test split (every answer as PyTorch's); predict and serve then use",
            "  # it (~1.5-3x faster on a CPU). int8 (onnx-int8) is not asked for: on this model, int8",
            "  # that keeps its answers was measured no faster than fp32 ONNX (benchmarks/int8_study.py).",
            "  formats: [onnx]",
        ]
    if plan.student:
        section += [
            "  # a distilled student (half the layers, taught by the trained model) is a candidate too:",
            "  # it serves only where it keeps the quality as int8 must and is faster (it fits the budget)",
            "  student: auto",
        ]
    return section
