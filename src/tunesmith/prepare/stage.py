"""The prepare stage: source files -> clean records -> quarantine -> splits -> data report.

Reads only the recipe; writes `data/` in the run folder:
`train.jsonl`, `validation.jsonl`, `test.jsonl`, `labels.json`, `rejected.jsonl`,
`report.json` and `overview.png`.
"""

from __future__ import annotations

import json
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith import atomic
from tunesmith.console import console, progress
from tunesmith.data.data_report import data_advice, length_stats, print_summary
from tunesmith.data.language import detect_language, language_mix
from tunesmith.data.pii.redact import Redactor
from tunesmith.data.pool import DEDUP, FREE, SPLIT_CODES, Pool
from tunesmith.data.quarantine import Quarantine
from tunesmith.data.read import data_files, jsonl_chunks, read_records, resolve_format
from tunesmith.data.split import (
    SPLITS,
    assign_by_group,
    assign_by_hash,
    assign_by_time,
    assign_splits,
)
from tunesmith.data.validation_report import write_validation_report
from tunesmith.errors import DataError
from tunesmith.hashing import sha256_of
from tunesmith.metrics.plots import plot_data_overview
from tunesmith.prepare.engines import ProcessorArgs, open_engine, worker_count
from tunesmith.prepare.records import RecordBatch, text_field_name
from tunesmith.prepare.token_lengths import SAMPLE, sample_token_lengths
from tunesmith.recipe import Recipe
from tunesmith.tasks import Task, get_task
from tunesmith.threads import usable_cores

DATA_DIR = "data"
BATCH = 2000  # records a worker gets at a time
LABEL_CACHE = 100_000  # distinct labels kept parsed while the splits are written


@dataclass(frozen=True)
class PreparedData:
    folder: Path
    labels: list[str]
    counts: dict[str, int]
    rejected: int


def _sources(recipe: Recipe) -> list[tuple[Path, str | None]]:
    """(file, the split its records belong to, or None to decide by ratio or split column)."""
    data = recipe.data
    sources: list[tuple[Path, str | None]] = [(Path(data.train), None)]
    if data.validation:
        sources.append((Path(data.validation), "validation"))
    if data.test:
        sources.append((Path(data.test), "test"))
    if len(sources) > 1:
        sources[0] = (sources[0][0], None if not (data.validation and data.test) else "train")
    return [(file, split) for path, split in sources for file in data_files(path)]


def _batches(
    recipe: Recipe, sources: list[tuple[Path, str | None]], on_file: Callable[[Path], None]
) -> Iterator[RecordBatch]:
    """Every source file's records in file order, BATCH at a time. A JSONL file's lines go out
    unparsed (the workers parse them: this process only splits lines, so it keeps every worker
    busy); other formats are parsed here."""
    data = recipe.data
    for path, fixed_split in sources:
        on_file(path)
        fmt, encoding = resolve_format(path, data.format, data.encoding)
        where = (str(path), path.name, path.stem, fixed_split)
        if fmt == "jsonl":
            for first, lines in jsonl_chunks(path, encoding, BATCH):
                yield RecordBatch(*where, [], lines, first, encoding)
            continue
        records = read_records(path, fmt, encoding, data.records_key, data.columns)
        while items := list(islice(records, BATCH)):
            yield RecordBatch(*where, items)


def _read_all(
    recipe: Recipe,
    sources: list[tuple[Path, str | None]],
    quarantine: Quarantine,
    redactor: Redactor,
    pool: Pool,
    workers: int,
) -> int:
    """Run the record path over every source file on the recipe's engine and merge the results
    in file order; return the number of records accepted."""
    args = ProcessorArgs(
        recipe,
        (redactor.key, redactor.fake.key),
        list(pool.kept_fields),
        pool.index is not None,
    )
    if workers > 1 or recipe.prepare.engine != "local":
        console.print(
            f"reading on {workers} {recipe.prepare.engine} workers "
            f"(prepare.workers: {recipe.prepare.workers})"
        )
    accepted = 0
    with open_engine(recipe, args, workers) as run, progress(total_known=False) as bar:
        job = bar.add_task("reading", total=None)

        def on_file(path: Path) -> None:
            bar.update(job, description=f"reading {path.name}")

        for result in run(_batches(recipe, sources, on_file)):
            if result.rejected:
                quarantine.write_entries(result.rejected, result.reasons)
            pool.extend(result.accepted)
            redactor.add_counts(result.pii_counts)
            accepted += len(result.accepted)
            bar.advance(job, result.records)
    return accepted


def prepare(recipe: Recipe, run_dir: Path) -> PreparedData:
    """Run the prepare stage for `recipe`, writing `run_dir/data/`."""
    task = get_task(recipe.task)
    out = run_dir / DATA_DIR
    sources = _sources(recipe)
    workers = worker_count(recipe, sum(path.stat().st_size for path, _ in sources if path.is_file()))
    clock = StepClock()
    with atomic.staged_dir(out) as stage, tempfile.TemporaryDirectory() as scratch:
        redactor = Redactor.from_recipe(recipe.prepare.pii)
        scrub = redactor.scrub if recipe.prepare.pii.enabled else None
        quarantine = Quarantine(stage / "rejected.jsonl", scrub)
        pool = Pool(Path(scratch), recipe.prepare.dedup.enabled, _fields_for_split(recipe, task))
        try:
            accepted = _read_all(recipe, sources, quarantine, redactor, pool, workers)
            rejected_on_read = quarantine.count  # duplicates are quarantined later, from the accepted
        finally:
            quarantine.close()
            pool.close()
        clock.lap("read and record path")
        if accepted == 0:
            raise DataError(
                f"{recipe.data.train}: no usable records ({quarantine.count} rejected; see the "
                "reasons in rejected.jsonl). Check data.text_field and data.label_field."
            )
        codes = _decide_splits(pool, recipe, task)
        clock.lap("split")
        # the near-duplicate check on the cores this machine has (a Ray cluster's workers are not)
        local = workers if recipe.prepare.engine == "local" else min(workers, usable_cores())
        duplicates = _remove_duplicates(pool, codes, recipe, quarantine, local)
        quarantine.close()
        clock.lap("duplicates")
        counts, label_counts, labels, targets = _write_splits(pool, codes, task, stage)
        clock.lap("write splits")
        kept = np.flatnonzero(codes >= 0)
        lengths = pool.array("lengths")[kept]
        rng = np.random.default_rng(recipe.seed)
        chosen = np.sort(rng.choice(kept, min(SAMPLE, len(kept)), replace=False))
        sample = [pool.record(i)["text"] for i in chosen]
        language = detect_language(sample)
        token_lengths, token_summary = sample_token_lengths(recipe, sample)
        report = {
            "sources": [str(p) for p, _ in sources],
            "fingerprint": sha256_of(*(p for p, _ in sources)),
            "rows_read": accepted + rejected_on_read,
            "rows_accepted": accepted,
            "rows_rejected": quarantine.count,
            "rejected_by_reason": dict(quarantine.reasons),
            "split_counts": counts,
            "labels": labels,
            "label_counts": {s: dict(c.most_common()) for s, c in label_counts.items()},
            "text_chars": length_stats(lengths),
            "target": length_stats(targets) if targets is not None else None,
            "text_tokens": token_summary,
            "language": language,
            "language_mix": language_mix(sample),
            "pii": redactor.audit(),
            "duplicates": duplicates,
            "warnings": data_advice(
                counts, label_counts, labels, token_summary, duplicates, accepted, task.categorical
            ),
        }
        if quarantine.count == 0:
            (stage / "rejected.jsonl").write_text("", encoding="utf-8")
        clock.lap("language and token sample")
        plot_data_overview({s: dict(c) for s, c in label_counts.items()}, lengths, stage / "overview.png")
        write_validation_report(report, lengths, token_lengths, stage / "report.html", targets)
        clock.lap("reports")
        report["step_seconds"] = clock.laps  # the one part of report.json that differs run to run
        atomic.write_json(stage / "labels.json", labels)
        atomic.write_json(stage / "report.json", report)
    print_summary(report, out)
    console.print(f"prepare took {clock.total():.1f} s: {clock.shown()}", highlight=False)
    return PreparedData(out, labels, counts, quarantine.count)


class StepClock:
    """Seconds of each step of prepare, in order: where a user's minutes go."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.laps[step] = round(now - self._last, 3)
        self._last = now

    def total(self) -> float:
        return sum(self.laps.values())

    def shown(self) -> str:
        return ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.laps.items())


def _fields_for_split(recipe: Recipe, task: Task) -> list[str]:
    """Per-record values the split method needs besides the stratum (kept in memory): a group
    split of labelled data also keeps each label, to spread every label over the splits."""
    method = recipe.split.method
    if method == "group":
        return ["group", "label"] if task.categorical else ["group"]
    if method == "time":
        return ["time"]
    if method == "hash":
        return ["group" if recipe.split.group_field else "id"]
    return []


def _decide_splits(pool: Pool, recipe: Recipe, task: Task) -> np.ndarray:
    """Split codes (0 train, 1 validation, 2 test): a record with a fixed split keeps it; the
    others are divided by the recipe's method."""
    fixed = pool.array("fixed")
    free_mask = fixed == FREE
    codes = np.where(free_mask, 0, fixed).astype(np.int8)
    free = np.flatnonzero(free_mask)
    if not len(free):
        return codes
    given = fixed[~free_mask]
    options = recipe.split
    want = (not (given == 1).any(), not (given == 2).any())
    ratios = (options.validation, options.test)
    if options.method == "group":
        groups = pool.kept_fields["group"]
        labels = pool.kept_fields.get("label")
        names = [task.count_keys(labels[i]) for i in free] if labels is not None else None
        chosen = assign_by_group([groups[i] for i in free], *ratios, recipe.seed, want, names)
    elif options.method == "time":
        times = pool.kept_fields["time"]
        chosen = assign_by_time([times[i] for i in free], *ratios, want)
    elif options.method == "hash":
        keys = pool.kept_fields["group" if options.group_field else "id"]
        chosen = assign_by_hash([keys[i] for i in free], *ratios, recipe.seed, want)
    else:
        strata = pool.array("strata")[free]
        chosen = assign_splits(strata, *ratios, recipe.seed, options.method == "stratified", want)
    rank = {name: code for code, name in enumerate(SPLITS)}
    codes[free] = np.fromiter((rank[s] for s in chosen), dtype=np.int8, count=len(free))
    return codes


def _remove_duplicates(
    pool: Pool, codes: np.ndarray, recipe: Recipe, quarantine: Quarantine, workers: int = 1
) -> dict[str, Any]:
    """Mark duplicates and leaked records as removed (code -1) and quarantine them. Records of a
    test set the user named (data.test, or a split column's test rows) are never removed: each
    that repeats a training record or another test record is listed in `test_overlaps` instead,
    so the test figure covers the whole named set and a second figure leaves those out."""
    options = recipe.prepare.dedup
    if pool.index is None:
        return {"enabled": False}
    texts, ids = pool.column(DEDUP), pool.column("id")
    found = pool.index.resolve(codes, texts, ids, options.near_threshold, options.allow_leakage, workers)
    named_test = pool.array("fixed") == SPLIT_CODES["test"]
    overlaps = {p: reason for p, reason in found.remove.items() if named_test[p]}
    removed_by_split = dict.fromkeys(SPLITS, 0)
    for position, reason in sorted(found.remove.items()):
        if position in overlaps:
            continue
        record = pool.record(position)
        file, _, line = record["source"].rpartition(":")
        kept = {"id": record["id"], "text": record["text"], "label": record["label"]}
        quarantine.reject(file, int(line), reason, text_field_name(recipe), kept, deidentified=True)
        removed_by_split[SPLITS[int(codes[position])]] += 1
        codes[position] = -1
    report = {**found.report(), "removed": len(found.remove) - len(overlaps)}
    if overlaps:  # positions in test.jsonl: the test records are written in pool order
        order = {int(p): i for i, p in enumerate(np.flatnonzero(codes == SPLIT_CODES["test"]))}
        report["test_overlaps"] = {
            "kept": len(overlaps),
            "positions": [order[p] for p in sorted(overlaps)],
            "reasons": [overlaps[p] for p in sorted(overlaps)],
        }
    return {"enabled": True, **report, "removed_by_split": removed_by_split}


def _write_splits(
    pool: Pool, codes: np.ndarray, task: Task, stage: Path
) -> tuple[dict[str, int], dict[str, Counter[str]], list[str], np.ndarray | None]:
    """One sequential pass over the pool writes train/validation/test.jsonl (the pool's lines
    as they are: no record is parsed again); returns the counts per split, the label counts per
    split, the label space of train, and for a numeric task every kept target."""
    targets = array("d") if not task.categorical and not task.label_is_text else None
    counts = dict.fromkeys(SPLITS, 0)
    label_counts: dict[str, Counter[str]] = {split: Counter() for split in SPLITS}
    train_labels: dict[bytes, Any] = {}  # distinct labels only, not one per record
    parsed: dict[bytes, tuple[Any, list[str]]] = {}  # label JSON -> (label, its count keys)
    with ExitStack() as stack:
        handles = []
        for split in SPLITS:
            tmp = stack.enter_context(atomic.staged_file(stage / f"{split}.jsonl"))
            handles.append(stack.enter_context(tmp.open("wb")))
        for code, (line, label_line) in zip(codes.tolist(), pool.lines(), strict=True):
            if code < 0:
                continue
            handles[code].write(line)
            known = parsed.get(label_line)
            if known is None:
                label = json.loads(label_line)
                known = (label, task.count_keys(label))
                if len(parsed) < LABEL_CACHE:  # labels that repeat (classes) are parsed once
                    parsed[label_line] = known
            label, keys = known
            split = SPLITS[code]
            counts[split] += 1
            for key in keys:
                label_counts[split][key] += 1
            if targets is not None:
                targets.append(float(label))
            if code == 0:
                train_labels.setdefault(label_line, label)
    values = np.frombuffer(targets, dtype=np.float64) if targets is not None else None
    return counts, label_counts, task.label_space(list(train_labels.values())), values


def read_split(run_dir: Path, split: str) -> list[dict[str, Any]]:
    path = run_dir / DATA_DIR / f"{split}.jsonl"
    if not path.is_file():
        raise DataError(f"{path}: missing; run `tunesmith prepare` for this run folder first")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_labels(run_dir: Path) -> list[str]:
    path = run_dir / DATA_DIR / "labels.json"
    if not path.is_file():
        raise DataError(f"{path}: missing; run `tunesmith prepare` for this run folder first")
    return list(json.loads(path.read_text(encoding="utf-8")))
