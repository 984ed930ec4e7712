"""Does preparation stream? Generate JSONL files of growing size, prepare each in a fresh process,
and print MB/s and peak RSS. Peak memory should stay flat as the file grows (goal: under 1.5 GB
for 1 GB). The baseline, run in this process on the same file, is plain `json.loads` per line.

    python benchmarks/prepare_scale.py --sizes 100,300,1000 --workdir /tmp/scale
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

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


class MemorySampler(threading.Thread):
    """Samples /proc/self/status: peak anonymous memory (heap, arrays) apart from file-backed pages
    (the memory-mapped Arrow cache), which count in RSS but are page cache the kernel can drop."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_anon_kb = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            status = Path("/proc/self/status").read_text()
            anon = int(status.split("RssAnon:")[1].split()[0])
            self.peak_anon_kb = max(self.peak_anon_kb, anon)
            time.sleep(0.1)


def child(data: Path, out: Path) -> None:
    """Prepare `data` into `out` and print seconds and peak memory (MB) as JSON."""
    from tunesmith import recipe as recipe_io
    from tunesmith.prepare.stage import prepare

    sampler = MemorySampler()
    sampler.start()
    recipe_path = out.parent / f"{out.name}.yaml"
    recipe_path.write_text(f"data: {{train: {data}, id_field: id}}\n", encoding="utf-8")
    recipe = recipe_io.load(recipe_path)
    started = time.perf_counter()
    prepare(recipe, out)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sampler.running = False
    sampler.join()
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak, "peak_anon_mb": sampler.peak_anon_kb / 1024}))


def baseline(data: Path) -> float:
    started = time.perf_counter()
    with data.open(encoding="utf-8") as handle:
        for line in handle:
            json.loads(line)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sizes", default="100,300,1000", help="file sizes in MB, comma-separated")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tunesmith-scale"))
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        data = args.workdir / f"records_{size}mb.jsonl"
        count = generate(data, size)
        megabytes = data.stat().st_size / 1e6
        parse_s = baseline(data)
        out = args.workdir / f"run_{size}mb"
        subprocess.run(["rm", "-rf", str(out)], check=True)
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(data), str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        report = json.loads((out / "data" / "report.json").read_text(encoding="utf-8"))
        rows.append((megabytes, count, result, parse_s, report))
        print(
            f"{megabytes:8.0f} MB {count:>10,} records: prepare {megabytes / result['seconds']:6.2f} MB/s "
            f"(json.loads alone {megabytes / parse_s:6.1f} MB/s, ratio {parse_s / result['seconds']:.3f}), "
            f"peak RSS {result['peak_rss_mb']:5.0f} MB (anonymous {result['peak_anon_mb']:5.0f} MB), "
            f"duplicates removed {report['duplicates']['removed']:,}, "
            f"PII found {sum(report['pii']['found_by_type'].values()):,}",
            flush=True,
        )
        data.unlink()
        subprocess.run(["rm", "-rf", str(out)], check=True)


if __name__ == "__main__":
    main()
