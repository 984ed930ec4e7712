"""Does data work scale? prepare on 1, 2 and all cores and on Ray (local mode), side by side on the
same generated JSONL files; then `tunesmith insights` on a large SQLite table.

Each configuration runs in a fresh process; peak memory is the proportional set size (PSS) of that
process and every process it starts (workers, Ray's daemons) summed, sampled every 0.2 s, so shared
pages count once. Every configuration's output is compared byte for byte with one worker's. The
baseline, run in this process on the same file, is plain `json.loads` per line.

    python benchmarks/prepare_scale.py --sizes 50,200 --workdir /tmp/scale \
        --insights-run runs/faq --insights-rows 100000,1000000

Support tickets as a CRM exports them (banking77 messages with order numbers, phones and e-mails
pasted after them: many near duplicates), by record count:

    python benchmarks/prepare_scale.py --templated ../shared/datasets/customer_service/banking77/train.csv \
        --sizes 200000,2000000 --only "1 worker,2 workers"
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

OUTPUTS = ("train.jsonl", "validation.jsonl", "test.jsonl", "rejected.jsonl", "report.json")

INTENTS = [
    ("refund", "退款什么时候到账", "when will my refund arrive"),
    ("delivery", "快递怎么还没到", "my parcel has not arrived"),
    ("password", "忘记密码怎么办", "I forgot my password"),
    ("card_lost", "银行卡丢了怎么挂失", "I lost my card, please block it"),
    ("invoice", "怎么开发票", "how do I get an invoice"),
    ("address", "怎么修改收货地址", "how can I change my delivery address"),
    ("cancel", "订单可以取消吗", "can I cancel my order"),
    ("upgrade", "会员怎么升级", "how do I upgrade my membership"),
]
FILLERS_ZH = ["您好", "请问", "麻烦帮我看一下", "已经等了三天了", "谢谢", "急", "昨天下的单", "在线等"]
FILLERS_EN = ["hello", "hi there", "please help", "it has been three days", "thanks", "urgent", "asap"]


def _record(rng: random.Random, i: int) -> dict[str, str]:
    intent, zh, en = rng.choice(INTENTS)
    if rng.random() < 0.6:
        parts = [*rng.sample(FILLERS_ZH, 3), zh, f"订单号{rng.randrange(10**11, 10**12)}"]
        if rng.random() < 0.1:
            parts.append(f"我的手机是1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}")
        if rng.random() < 0.05:
            parts.append("客户王小明")
    else:
        parts = [*rng.sample(FILLERS_EN, 3), en, f"order {rng.randrange(10**7, 10**8)}"]
        if rng.random() < 0.1:
            parts.append(f"mail me at user{rng.randrange(10**6)}@example.com")
    rng.shuffle(parts)
    text = (
        "，".join(parts)
        + " "
        + " ".join(rng.choice(FILLERS_EN + FILLERS_ZH) for _ in range(rng.randrange(5, 40)))
    )
    return {"id": f"r{i}", "text": text, "label": intent}


def generate(path: Path, megabytes: int, seed: int = 0) -> int:
    """Write about `megabytes` MB of records (2% exact repeats); return the record count."""
    rng = random.Random(seed)
    target, written, count, recent = megabytes * 1_000_000, 0, 0, []
    with path.open("w", encoding="utf-8") as handle:
        while written < target:
            record = _record(rng, count)
            if recent and rng.random() < 0.02:
                record = {**rng.choice(recent), "id": f"r{count}"}
            recent = ([*recent, record])[-1000:]
            line = json.dumps(record, ensure_ascii=False) + "\n"
            handle.write(line)
            written += len(line.encode())
            count += 1
    return count


def generate_templated(path: Path, records: int, texts: list[tuple[str, str]], seed: int = 0) -> int:
    """Write `records` support tickets as a CRM exports them: a customer's message (a banking77
    text and its intent) with what agents paste after it - an order number, a phone number, an
    e-mail, a greeting - so many records repeat a message with other numbers (near duplicates) or
    exactly (a ticket exported twice). Returns the record count."""
    rng = random.Random(seed)
    greetings = ["", "", "Hi,", "Hello,", "Good morning,", "Dear support,"]
    signoffs = ["", "", "Thanks", "Thank you!", "Regards", "Please help asap"]
    recent: list[dict[str, str]] = []
    with path.open("w", encoding="utf-8") as handle:
        for i in range(records):
            if recent and rng.random() < 0.08:  # the same ticket exported again
                record = {**rng.choice(recent), "id": f"t{i}"}
            else:
                message, intent = rng.choice(texts)
                parts = [rng.choice(greetings), message]
                if rng.random() < 0.6:
                    parts.append(f"Order no. {rng.randrange(10**9, 10**10)}.")
                if rng.random() < 0.3:
                    parts.append(f"Call me on +44 7{rng.randrange(10**8, 10**9)}.")
                if rng.random() < 0.2:
                    parts.append(f"My e-mail is customer{rng.randrange(10**6)}@example.com.")
                parts.append(rng.choice(signoffs))
                record = {"id": f"t{i}", "text": " ".join(p for p in parts if p), "label": intent}
            recent = [*recent[-999:], record]
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return records


def banking77_texts(path: Path) -> list[tuple[str, str]]:
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["text"], row["category"]) for row in csv.DictReader(handle)]


class TreeMemory(threading.Thread):
    """Peak PSS of a process and all its descendants, summed."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            total = 0
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for process in processes:
                try:
                    total += process.memory_full_info().pss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            self.peak = max(self.peak, total)
            time.sleep(0.2)


def measured(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run `command`; return (seconds, peak PSS of its process tree in MB, its stderr)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = TreeMemory(process.pid)
    sampler.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{out}\n{err}")
    return seconds, sampler.peak / 1e6, err


def digest(data: Path) -> str:
    """Every output's bytes; report.json without its step timings (those differ run to run)."""
    sha = hashlib.sha256()
    for name in OUTPUTS:
        content = (data / name).read_bytes()
        if name == "report.json":
            report = json.loads(content)
            report.pop("step_seconds", None)
            content = json.dumps(report, sort_keys=True).encode()
        sha.update(content)
    return sha.hexdigest()


def baseline(data: Path) -> float:
    started = time.perf_counter()
    with data.open(encoding="utf-8") as handle:
        for line in handle:
            json.loads(line)
    return time.perf_counter() - started


def prepare_configs() -> list[tuple[str, list[str]]]:
    cores = len(os.sched_getaffinity(0))
    configs = [("1 worker", ["prepare.workers=1"]), ("2 workers", ["prepare.workers=2"])]
    if cores != 2:
        configs.append((f"all {cores} workers", ["prepare.workers=auto"]))
    configs.append(("ray local, 2", ["prepare.engine=ray", "prepare.workers=2"]))
    return configs


def bench_prepare(
    workdir: Path, size: int, only: str | None = None, templated: list[tuple[str, str]] | None = None
) -> None:
    """`size`: MB of generated records, or with `templated` (banking77's texts), a record count."""
    data = workdir / (f"tickets_{size}.jsonl" if templated else f"records_{size}mb.jsonl")
    count = generate_templated(data, size, templated) if templated else generate(data, size)
    megabytes = data.stat().st_size / 1e6
    parse_s = baseline(data)
    (workdir / "recipe.yaml").write_text(f"data: {{train: {data.name}, id_field: id}}\n", encoding="utf-8")
    print(
        f"{megabytes:.0f} MB, {count:,} records (json.loads alone: {megabytes / parse_s:.1f} MB/s)",
        flush=True,
    )
    first = None
    for name, overrides in prepare_configs():
        if only and name not in only.split(","):
            continue
        out = workdir / "runs" / name.replace(" ", "_").replace(",", "")
        subprocess.run(["rm", "-rf", str(out)], check=True)
        sets = [arg for o in overrides for arg in ("--set", o)]
        command = [
            sys.executable,
            "-m",
            "tunesmith.cli",
            "prepare",
            "recipe.yaml",
            "--output",
            str(out),
            *sets,
        ]
        seconds, peak, _ = measured(command, workdir)
        same = digest(out / "data")
        first = first or (name, seconds, same)
        report = json.loads((out / "data" / "report.json").read_text(encoding="utf-8"))
        found = sum(report["duplicates"].get("counts", {}).values())
        steps = ", ".join(f"{step} {s:.1f}" for step, s in report.get("step_seconds", {}).items())
        print(
            f"  {name:14s} {seconds:6.1f} s {megabytes / seconds:6.2f} MB/s "
            f"{seconds / count * 1e6:5.0f} us/record ({first[1] / seconds:4.2f}x {first[0]})  "
            f"peak PSS {peak:6.0f} MB  output {'identical' if same == first[2] else 'DIFFERENT'} "
            f"to {first[0]}'s; duplicates found {found / count:.0%}, "
            f"removed {report['duplicates'].get('removed', 0) / count:.0%}; "
            f"steps (s): {steps}",
            flush=True,
        )
        subprocess.run(["rm", "-rf", str(out)], check=True)
    data.unlink()


def crm_table(path: Path, rows: int) -> None:
    rng = random.Random(1)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "create table tickets (id integer primary key, question text, date text, channel text)"
        )
        batch = []
        for i in range(1, rows + 1):
            _, zh, en = rng.choice(INTENTS)
            text = zh if rng.random() < 0.6 else en
            day = f"2026-{rng.randrange(7, 12):02d}-{rng.randrange(1, 29):02d}"
            batch.append((i, f"{rng.choice(FILLERS_ZH)} {text}", day, rng.choice(["app", "web", "phone"])))
            if len(batch) == 50_000:
                connection.executemany("insert into tickets values (?, ?, ?, ?)", batch)
                batch = []
        connection.executemany("insert into tickets values (?, ?, ?, ?)", batch)


def bench_insights(workdir: Path, run: Path, rows: int) -> None:
    database = workdir / f"crm_{rows}.db"
    crm_table(database, rows)
    out = workdir / f"insights_{rows}"
    subprocess.run(["rm", "-rf", str(out)], check=True)
    command = [sys.executable, "-m", "tunesmith.cli", "insights", str(run.resolve()), str(database)]
    command += ["--table", "tickets", "--text-column", "question", "--batch-size", "256", "-o", str(out)]
    seconds, peak, err = measured(command, workdir)
    said = " ".join(err.split())
    print(f"  insights {rows:>9,} rows: {rows / seconds:8.0f} rows/s  peak PSS {peak:6.0f} MB", flush=True)
    if f"scored {rows:,} new" not in said:
        raise SystemExit(f"insights did not score every row: {said[-400:]}")
    database.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sizes", default="50,200", help="file sizes in MB (with --templated: records)")
    parser.add_argument(
        "--templated",
        type=Path,
        help="banking77's train.csv: generate support tickets from its texts, --sizes records each",
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tunesmith-scale"))
    parser.add_argument("--insights-run", type=Path, help="a classifier run folder for the insights part")
    parser.add_argument("--insights-rows", default="100000,1000000")
    parser.add_argument("--only", help="configurations to run, e.g. '2 workers' (default: all)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    templated = banking77_texts(args.templated) if args.templated else None
    for size in (int(s) for s in args.sizes.split(",") if s):
        bench_prepare(args.workdir, size, args.only, templated)
    if args.insights_run:
        for rows in (int(r) for r in args.insights_rows.split(",")):
            bench_insights(args.workdir, args.insights_run, rows)


if __name__ == "__main__":
    main()
