"""Cleaning and de-identification on real data: the Sparkov card transactions (fake names, streets,
birth dates and card numbers in columns) and the customer-service sets in ../shared/datasets.

For Sparkov it runs the text recognizers alone on a text built from the columns, then the column
policies, and counts how many original names, streets, birth dates and card numbers are left in
the prepared data. For the customer-service sets it reports what the text pass found, with a few
examples (partly masked) to judge by eye.

    python benchmarks/pii_on_shared.py --shared ../shared/datasets
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time
from pathlib import Path

from tunesmith import recipe as recipe_io
from tunesmith.data.pii.operators import partial_mask
from tunesmith.data.pii.recognizers import find_pii
from tunesmith.prepare.stage import prepare

TEMPLATE = (
    "{first} {last}, {street}, {city} {state} {zip}, born {dob}, card {cc_num}, paid {amt} at {merchant}"
)
POLICIES = (
    "{cc_num: pseudonym, first: fake, last: fake, street: mask, dob: generalize, zip: generalize, "
    "lat: generalize, long: generalize, trans_num: pseudonym}"
)
CUSTOMER_SERVICE = {
    "banking77": ("customer_service/banking77/train.csv", "text", "category"),
    "bitext": (
        "customer_service/bitext/Bitext_Sample_Customer_Service_Training_Dataset.csv",
        "utterance",
        "intent",
    ),
    "smp2019_nlu_zh": ("customer_service/smp2019_nlu_zh/train.json", "text", "intent"),
}


def _prepare(workdir: Path, name: str, recipe_text: str) -> tuple[dict, Path, float]:
    recipe_path = workdir / f"{name}.yaml"
    recipe_path.write_text(recipe_text, encoding="utf-8")
    started = time.perf_counter()
    prepare(recipe_io.load(recipe_path), workdir / name)
    seconds = time.perf_counter() - started
    report = json.loads((workdir / name / "data" / "report.json").read_text(encoding="utf-8"))
    return report, workdir / name / "data", seconds


COLUMNS = ("first", "last", "street", "dob", "cc_num")


def _own_values_left(rows: list[dict[str, str]], folder: Path) -> dict[str, int]:
    """How many prepared records still hold their own row's original value, per column."""
    left = dict.fromkeys(COLUMNS, 0)
    for split in ("train", "validation", "test"):
        for line in (folder / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            row = rows[int(record["source"].rsplit(":", 1)[1]) - 2]  # line 1 is the header
            for column in COLUMNS:
                left[column] += bool(row[column]) and row[column] in record["text"]
    return left


def sparkov(shared: Path, workdir: Path) -> None:
    for path in sorted((shared / "fraud" / "sparkov").glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        data = f"data: {{train: {path}, text_template: '{TEMPLATE}', label_field: is_fraud}}\n"
        plain, plain_folder, seconds = _prepare(
            workdir, f"{path.stem}_text_only", data + "prepare: {dedup: {enabled: false}}\n"
        )
        print(f"\n{path.name}: {len(rows):,} rows")
        print(f"  text recognizers only ({seconds:.1f} s): found {plain['pii']['found_by_type']}")
        print(f"    records still holding their own value: {_own_values_left(rows, plain_folder)}")
        with_policies = data + f"prepare:\n  dedup: {{enabled: false}}\n  pii:\n    columns: {POLICIES}\n"
        policed, folder, seconds = _prepare(workdir, f"{path.stem}_columns", with_policies)
        print(f"  with column policies ({seconds:.1f} s): columns {policed['pii']['columns']}")
        print(f"    text pass on the rest found {policed['pii']['found_by_type']}")
        print(f"    records still holding their own value: {_own_values_left(rows, folder)}")
        example = json.loads((folder / "train.jsonl").read_text(encoding="utf-8").splitlines()[0])["text"]
        print(f"    example text: {example}")


def customer_service(shared: Path, workdir: Path) -> None:
    for name, (relative, text_field, label_field) in CUSTOMER_SERVICE.items():
        path = shared / relative
        data = f"data: {{train: {path}, text_field: {text_field}, label_field: {label_field}}}\n"
        report, _folder, seconds = _prepare(workdir, name, data)
        megabytes = path.stat().st_size / 1e6
        print(f"\n{name}: {report['rows_read']:,} rows, {megabytes / seconds:.2f} MB/s through prepare")
        pii = report["pii"]
        print(f"  PII found: {pii['found_by_type'] or 'none'} in {pii['records_with_pii']:,} records")
        print(f"  rejected: {report['rejected_by_reason'] or 'none'}")
        shown = 0
        with path.open(encoding="utf-8-sig") as handle:
            for line in handle:
                for finding in find_pii(line):
                    if shown < 5:
                        print(f"    {finding.type}: {partial_mask(finding.value)!r} in {line.strip()[:90]!r}")
                        shown += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path("../shared/datasets"))
    args = parser.parse_args()
    os.environ.setdefault("TUNESMITH_PII_KEY", "benchmark-only-key")
    with tempfile.TemporaryDirectory() as folder:
        sparkov(args.shared, Path(folder))
        customer_service(args.shared, Path(folder))


if __name__ == "__main__":
    main()
