"""What `tunesmith init` chooses for every data file under ../shared/datasets (and for folders that
hold one file per label): the task, the fields, the model - or why it refuses. Prints a Markdown
table; takes a few seconds.

    python benchmarks/init_on_shared.py --shared ../shared/datasets
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tunesmith.errors import TunesmithError
from tunesmith.init.plan import Plan
from tunesmith.init.stage import analyse

SUFFIXES = {".csv", ".tsv", ".json", ".jsonl", ".txt", ".parquet"}
NOT_DATA = ("LICENSE", "README")


def fields(plan: Plan) -> str:
    parts = []
    if plan.text_template:
        parts.append(f"template `{plan.text_template}`")
    elif plan.text_field:
        text = plan.text_field if isinstance(plan.text_field, str) else " + ".join(plan.text_field)
        parts.append(f"text `{text}`")
    if plan.pair_field:
        parts.append(f"pair `{plan.pair_field}`")
    if plan.label_field:
        kind = "target" if plan.task.value in ("seq2seq", "causal_lm") else "label"
        parts.append(f"{kind} `{plan.label_field}`")
    if plan.ner_format:
        parts.append(f"{plan.ner_format}, types {', '.join(plan.labels)}")
    if plan.columns:
        parts.append(f"no header: columns {', '.join(plan.columns)}")
    if plan.leaks:
        parts.append(f"leaks left out: {', '.join(plan.leaks)}")
    if plan.group_field:
        parts.append(f"split by `{plan.group_field}`")
    if plan.pii_columns:
        parts.append(f"policies for {', '.join(plan.pii_columns)}")
    return "; ".join(parts)


def targets(shared: Path) -> list[Path]:
    files = sorted(p for p in shared.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    files = [p for p in files if not p.name.upper().startswith(NOT_DATA)]
    folders = sorted(
        {p.parent for p in files if p.suffix == ".txt" and len(list(p.parent.glob("*.txt"))) > 1}
    )
    return files + folders


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=Path("../shared/datasets"))
    args = parser.parse_args()
    shared = args.shared.resolve()
    print("| data (shared/datasets) | task | fields | model | init time |\n|---|---|---|---|---|")
    for path in targets(shared):
        name = str(path.relative_to(shared)) + ("/" if path.is_dir() else "")
        started = time.perf_counter()
        try:
            plan = analyse(path, show=False)
        except TunesmithError as error:
            reason = str(error).replace(str(path), "").lstrip(": ")
            print(f"| `{name}` | refused | {reason} | | {time.perf_counter() - started:.1f} s |")
            continue
        model = f"{plan.model.value} (max_length {plan.max_length})"
        if plan.tabular_model == "trees":  # the transformer is named in the recipe but does not train
            model = "gradient-boosted trees (LightGBM)"
        elif plan.tabular_model == "best":
            model = f"LightGBM and {model}, the better on validation served"
        if plan.prompt:
            model += f", prompt `{plan.prompt!r}`"
        took = time.perf_counter() - started
        print(f"| `{name}` | {plan.task.value} | {fields(plan)} | {model} | {took:.1f} s |")


if __name__ == "__main__":
    main()
