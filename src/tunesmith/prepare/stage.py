"""The prepare stage: source files -> clean records -> quarantine -> splits -> data report.

Reads only the recipe; writes `data/` in the run folder:
`train.jsonl`, `validation.jsonl`, `test.jsonl`, `labels.json`, `rejected.jsonl`,
`report.json` and `overview.png`.
"""

from __future__ import annotations

import json
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith import atomic
from tunesmith.console import progress
from tunesmith.data.clean import build_cleaner
from tunesmith.data.data_report import data_advice, length_stats, print_summary
from tunesmith.data.fields import (
    FieldMissing,
    extract_text,
    get_path,
    is_empty,
    parse_time,
    required,
    row_columns,
)
from tunesmith.data.language import detect_language, language_mix
from tunesmith.data.pii.redact import Redactor
from tunesmith.data.pool import DEDUP, FREE, Pool
from tunesmith.data.quarantine import Quarantine
from tunesmith.data.read import Unreadable, data_files, read_records
from tunesmith.data.split import (
    SPLITS,
    assign_by_group,
    assign_by_hash,
    assign_by_time,
    assign_splits,
    normalize_split_name,
)
from tunesmith.data.validation_report import write_validation_report
from tunesmith.errors import DataError
from tunesmith.hashing import sha256_of
from tunesmith.metrics.plots import plot_data_overview
from tunesmith.prepare.token_lengths import SAMPLE, count_tokens, load_tokenizer, sample_token_lengths
from tunesmith.recipe import Recipe
from tunesmith.tasks import Task, get_task

DATA_DIR = "data"


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


class Rejected(Exception):
    """A record that cannot be used: which field, and why."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _text_field_name(recipe: Recipe) -> str:
    data = recipe.data
    if data.text_template:
        return data.text_template
    return data.text_field if isinstance(data.text_field, str) else ",".join(data.text_field or [])


def _attribute(record: Any, name: str) -> str:
    value = get_path(record, name)
    return "(missing)" if is_empty(value) else str(value).strip()


def _parse_record(
    record: Any,
    recipe: Recipe,
    task: Task,
    fixed_split: str | None,
    clean: Callable[[str], str],
    redactor: Redactor,
    tokenizer: Any = None,
) -> dict[str, Any]:
    """Map one raw record to {text, [text_pair], label, split, id}; raise Rejected to quarantine it."""
    data = recipe.data
    found: list[Any] = []

    def clean_field(path: str, text: str) -> str:
        return redactor.columns.protect(path, clean(text))

    def redact_edits(text: str, name: str) -> tuple[str, list[Any]]:
        # The whole text is scanned, so a template's words give context (born 3/19/68); the
        # values of columns that have a policy are left as their policy made them.
        text, findings, edits = redactor.redact_with_edits(text, name)
        found.extend(findings)
        return text, edits

    def redact(text: str, name: str) -> str:
        return redact_edits(text, name)[0]

    def read_text(field: str | list[str] | None, template: str | None, name: str) -> str:
        joiner = " " if recipe.prepare.clean.collapse_whitespace else "\n"
        try:
            text = extract_text(record, field, template, data.list_separator, clean_field, joiner).strip()
        except FieldMissing as missing:
            raise Rejected(missing.path, f"missing field: '{missing.path}' is absent or empty") from None
        return redact(text, name).strip()

    field_name = _text_field_name(recipe)
    label_name = data.label_field or field_name
    if task.annotated:  # the label lives in the text (NER): the task reads both together
        text, label = _read_annotated(record, recipe, task, clean, redact_edits)
    else:
        text = read_text(data.text_field, data.text_template, field_name)
        label = _read_label(record, task, label_name, read_text)
    if recipe.prepare.max_chars is not None and not task.annotated:
        text = text[: recipe.prepare.max_chars]
    if len(text) < max(recipe.prepare.min_chars, 1):
        reason = "empty text" if not text else f"text shorter than {recipe.prepare.min_chars} characters"
        raise Rejected(field_name, reason)
    if tokenizer is not None:
        _check_tokens(text, tokenizer, recipe, field_name)
    parsed: dict[str, Any] = {"text": text}
    if "text_pair" in task.inputs:
        if not data.pair_field:
            raise Rejected(None, f"task {task.type} needs data.pair_field (the second text)")
        pair_name = data.pair_field if isinstance(data.pair_field, str) else ",".join(data.pair_field)
        parsed["text_pair"] = read_text(data.pair_field, None, pair_name)
    if task.keeps_columns:  # tabular: the raw columns too, for the gradient-boosting baseline
        if not data.text_template:
            raise Rejected(None, f"task {task.type} needs data.text_template (the row as a sentence)")
        parsed["columns"] = row_columns(record, data.text_template)
    if recipe.evaluation.slices:  # attributes to slice the metrics by, kept as they are
        parsed["attributes"] = {name: _attribute(record, name) for name in recipe.evaluation.slices}
    redactor.count_record(bool(found))
    if found and recipe.prepare.pii.action == "drop":
        kinds = ", ".join(sorted({f.type for f in found}))
        raise Rejected(field_name, f"personal data: {kinds} (prepare.pii.action: drop)")
    parsed["label"] = label
    try:
        task.check_example(parsed)
    except ValueError as error:
        raise Rejected(label_name, f"invalid example: {error}") from None
    split = fixed_split
    if split is None and data.split_field:
        try:
            split = normalize_split_name(get_path(record, data.split_field))
        except ValueError as error:
            raise Rejected(data.split_field, f"invalid split: {error}") from None
    record_id = get_path(record, data.id_field) if data.id_field else None
    parsed.update(split=split or "", id=record_id)
    split_options = recipe.split
    if split_options.group_field:
        group = get_path(record, split_options.group_field)
        if is_empty(group):
            raise Rejected(split_options.group_field, "missing field: the group id is absent or empty")
        parsed["group"] = str(group)
    if split_options.time_field:
        try:
            parsed["time"] = parse_time(required(record, split_options.time_field))
        except FieldMissing:
            raise Rejected(split_options.time_field, "missing field: the time is absent or empty") from None
        except ValueError as error:
            raise Rejected(split_options.time_field, f"invalid time: {error}") from None
    return parsed


def _read_label(record: Any, task: Task, path: str, read_text: Callable[..., str]) -> Any:
    """The record's label, parsed by the task; a text label (an answer) is cleaned and
    de-identified like the input; a multitask label is a dict of each head's field."""
    if task.label_paths:
        raw_label: Any = {head: _required_label(record, p) for head, p in task.label_paths.items()}
    elif task.label_is_text:
        raw_label = read_text(path, None, path)
        if not raw_label:
            raise Rejected(path, f"missing field: '{path}' is absent or empty")
    else:
        raw_label = _required_label(record, path)
    try:
        return task.parse_label(raw_label)
    except ValueError as error:
        raise Rejected(path, f"invalid label: {error}") from None


def _required_label(record: Any, path: str) -> Any:
    value = get_path(record, path)
    if is_empty(value) and not isinstance(value, list):  # [] may mean "none of these"
        raise Rejected(path, f"missing field: '{path}' is absent or empty")
    return value


def _read_annotated(
    record: Any,
    recipe: Recipe,
    task: Task,
    clean: Callable[[str], str],
    redact: Callable[[str, str], tuple[str, list[Any]]],
) -> tuple[str, Any]:
    data = recipe.data
    if not isinstance(data.text_field, str):
        raise Rejected(None, f"task {task.type} reads one data.text_field, not a list")
    raw_text = get_path(record, data.text_field)
    if is_empty(raw_text):
        raise Rejected(data.text_field, f"missing field: '{data.text_field}' is absent or empty")
    raw_label = get_path(record, data.label_field) if data.label_field else None

    field = data.text_field
    try:
        return task.read_annotated(raw_text, raw_label, clean, lambda text: redact(text, field))
    except ValueError as error:
        raise Rejected(data.label_field or data.text_field, f"invalid annotation: {error}") from None


def _check_tokens(text: str, tokenizer: Any, recipe: Recipe, field: str) -> None:
    tokens = int(count_tokens(tokenizer, [text])[0])
    low, high = recipe.prepare.min_tokens, recipe.prepare.max_tokens
    if low is not None and tokens < low:
        raise Rejected(field, f"text shorter than {low} tokens ({tokens})")
    if high is not None and tokens > high:
        raise Rejected(field, f"text longer than {high} tokens ({tokens})")


def _read_all(recipe: Recipe, task: Task, quarantine: Quarantine, redactor: Redactor, pool: Pool) -> int:
    """Stream every source file into the pool; return the number of records accepted."""
    accepted = 0
    data = recipe.data
    clean = build_cleaner(recipe.prepare.clean)
    needs_tokens = recipe.prepare.min_tokens is not None or recipe.prepare.max_tokens is not None
    tokenizer = load_tokenizer(recipe) if needs_tokens else None
    with progress(total_known=False) as bar:
        for path, fixed_split in _sources(recipe):
            job = bar.add_task(f"reading {path.name}", total=None)
            records = read_records(path, data.format, data.encoding, data.records_key, data.columns)
            for line, record in records:
                bar.advance(job)
                if isinstance(record, Unreadable):
                    quarantine.reject(str(path), line, record.reason, None, record.raw)
                    continue
                record = redactor.columns.apply(record)  # column policies first, so rejects carry them too
                try:
                    parsed = _parse_record(record, recipe, task, fixed_split, clean, redactor, tokenizer)
                except Rejected as rejected:
                    quarantine.reject(str(path), line, rejected.reason, rejected.field, record)
                    continue
                parsed["source"] = f"{path.name}:{line}"
                parsed["id"] = str(parsed["id"] if parsed["id"] is not None else f"{path.stem}:{line}")
                pool.add(parsed, task.stratify_key(parsed["label"]))
                accepted += 1
    return accepted


def prepare(recipe: Recipe, run_dir: Path) -> PreparedData:
    """Run the prepare stage for `recipe`, writing `run_dir/data/`."""
    task = get_task(recipe.task)
    out = run_dir / DATA_DIR
    sources = _sources(recipe)
    with atomic.staged_dir(out) as stage, tempfile.TemporaryDirectory() as scratch:
        redactor = Redactor.from_recipe(recipe.prepare.pii)
        scrub = redactor.scrub if recipe.prepare.pii.enabled else None
        quarantine = Quarantine(stage / "rejected.jsonl", scrub)
        pool = Pool(Path(scratch), recipe.prepare.dedup.enabled, _fields_for_split(recipe, task))
        try:
            accepted = _read_all(recipe, task, quarantine, redactor, pool)
            rejected_on_read = quarantine.count  # duplicates are quarantined later, from the accepted
        finally:
            quarantine.close()
            pool.close()
        if accepted == 0:
            raise DataError(
                f"{recipe.data.train}: no usable records ({quarantine.count} rejected; see the "
                "reasons in rejected.jsonl). Check data.text_field and data.label_field."
            )
        codes = _decide_splits(pool, recipe, task)
        duplicates = _remove_duplicates(pool, codes, recipe, quarantine)
        quarantine.close()
        counts, label_counts, labels, targets = _write_splits(pool, codes, task, stage)
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
        atomic.write_json(stage / "labels.json", labels)
        atomic.write_json(stage / "report.json", report)
        plot_data_overview({s: dict(c) for s, c in label_counts.items()}, lengths, stage / "overview.png")
        write_validation_report(report, lengths, token_lengths, stage / "report.html", targets)
    print_summary(report, out)
    return PreparedData(out, labels, counts, quarantine.count)


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
    pool: Pool, codes: np.ndarray, recipe: Recipe, quarantine: Quarantine
) -> dict[str, Any]:
    """Mark duplicates and leaked records as removed (code -1) and quarantine them."""
    options = recipe.prepare.dedup
    if pool.index is None:
        return {"enabled": False}
    texts, ids = pool.column(DEDUP), pool.column("id")
    found = pool.index.resolve(codes, texts, ids, options.near_threshold, options.allow_leakage)
    removed_by_split = dict.fromkeys(SPLITS, 0)
    for position, reason in sorted(found.remove.items()):
        record = pool.record(position)
        file, _, line = record["source"].rpartition(":")
        kept = {"id": record["id"], "text": record["text"], "label": record["label"]}
        quarantine.reject(file, int(line), reason, _text_field_name(recipe), kept)
        removed_by_split[SPLITS[int(codes[position])]] += 1
        codes[position] = -1
    return {"enabled": True, **found.report(), "removed_by_split": removed_by_split}


def _write_splits(
    pool: Pool, codes: np.ndarray, task: Task, stage: Path
) -> tuple[dict[str, int], dict[str, Counter[str]], list[str], np.ndarray | None]:
    """One sequential pass over the pool writes train/validation/test.jsonl; returns the counts
    per split, the label counts per split, the label space of train, and for a numeric task
    every kept target."""
    targets = array("d") if not task.categorical and not task.label_is_text else None
    counts = dict.fromkeys(SPLITS, 0)
    label_counts: dict[str, Counter[str]] = {split: Counter() for split in SPLITS}
    train_labels: dict[str, Any] = {}  # distinct labels only, not one per record
    with ExitStack() as stack:
        handles = []
        for split in SPLITS:
            tmp = stack.enter_context(atomic.staged_file(stage / f"{split}.jsonl"))
            handles.append(stack.enter_context(tmp.open("w", encoding="utf-8")))
        for position, record in enumerate(pool):
            code = int(codes[position])
            if code < 0:
                continue
            split = SPLITS[code]
            del record["split"]
            handles[code].write(json.dumps(record, ensure_ascii=False) + "\n")
            counts[split] += 1
            label_counts[split].update(task.count_keys(record["label"]))
            if targets is not None:
                targets.append(float(record["label"]))
            if code == 0:
                train_labels.setdefault(json.dumps(record["label"], ensure_ascii=False), record["label"])
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
