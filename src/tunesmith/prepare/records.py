"""The record path of the prepare stage: one raw record -> a parsed example, or a rejection.

`RecordProcessor` runs it over a batch of records - column policies, field extraction, cleaning,
de-identification, validation, duplicate hashes - and hands back what the stage merges in file
order: the accepted records as pool lines, the quarantine entries, and what it counted. It is the
unit of work of every engine (this process, worker processes, Ray tasks), so the output does not
depend on which one ran it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tunesmith.data.clean import build_cleaner
from tunesmith.data.dedup import hash_texts
from tunesmith.data.fields import (
    FieldMissing,
    extract_text,
    get_path,
    is_empty,
    parse_time,
    required,
    row_columns,
)
from tunesmith.data.pii.fake import FakeValues
from tunesmith.data.pii.redact import Redactor
from tunesmith.data.pool import PooledRecords
from tunesmith.data.quarantine import quarantine_entry
from tunesmith.data.read import Unreadable, jsonl_records
from tunesmith.data.split import normalize_split_name
from tunesmith.prepare.token_lengths import count_tokens, load_tokenizer
from tunesmith.recipe import Recipe
from tunesmith.tasks import Task, get_task


@dataclass
class RecordBatch:
    """Consecutive records of one source file, with their line numbers."""

    file: str  # the path as the user gave it (quarantine entries name it)
    name: str  # the file's name, for `source` (train.jsonl:12)
    stem: str  # the file's name without suffix, for ids made from lines (train:12)
    fixed_split: str | None
    items: list[tuple[int, Any]]  # (line, record or Unreadable); for a JSONL file, empty, and:
    jsonl_lines: list[str] = field(default_factory=list)  # its raw lines, parsed by the processor
    first_line: int = 1  # the number of the first of `jsonl_lines`
    jsonl_encoding: str = "utf-8"

    def records(self) -> Iterator[tuple[int, Any]]:
        """(line, record or Unreadable) of every record, parsing raw JSONL lines here."""
        yield from self.items
        yield from jsonl_records(self.first_line, self.jsonl_lines, self.jsonl_encoding)


@dataclass
class BatchResult:
    """A processed batch, in the order of its records."""

    records: int  # how many records the batch held (progress)
    accepted: PooledRecords
    rejected: str = ""  # quarantine entries, one JSON line each
    reasons: list[str] = field(default_factory=list)
    pii_counts: dict[str, Any] = field(default_factory=dict)


class RecordProcessor:
    """Everything one process needs to parse records: built once per worker from the recipe (and
    the run's fake-value key, so every worker gives one original value the same fake)."""

    def __init__(
        self, recipe: Recipe, keys: tuple[bytes | None, bytes], kept_fields: list[str], dedup: bool
    ) -> None:
        """`keys`: the pseudonym key (None when no policy needs one) and the fake-value key, both
        read once by the stage (a Ray worker on another machine has neither the file nor the
        environment variable)."""
        self.recipe = recipe
        self.task = get_task(recipe.task)
        self.clean = build_cleaner(recipe.prepare.clean)
        self.redactor = Redactor(recipe.prepare.pii, keys[0], FakeValues(keys[1]))
        self.scrub = self.redactor.scrub if recipe.prepare.pii.enabled else None
        needs_tokens = recipe.prepare.min_tokens is not None or recipe.prepare.max_tokens is not None
        self.tokenizer = load_tokenizer(recipe) if needs_tokens else None
        self.kept_fields = kept_fields
        self.dedup = dedup

    def process(self, batch: RecordBatch) -> BatchResult:
        accepted = PooledRecords(kept={name: [] for name in self.kept_fields})
        out = BatchResult(len(batch.items) + len(batch.jsonl_lines), accepted)
        rejected: list[str] = []
        dedup_texts: list[str] = []
        for line, record in batch.records():
            if isinstance(record, Unreadable):
                rejected.append(
                    quarantine_entry(batch.file, line, record.reason, None, record.raw, self.scrub)
                )
                out.reasons.append(record.reason)
                continue
            record = self.redactor.columns.apply(record)  # column policies first: rejects carry them too
            try:
                parsed = parse_record(
                    record,
                    self.recipe,
                    self.task,
                    batch.fixed_split,
                    self.clean,
                    self.redactor,
                    self.tokenizer,
                )
            except Rejected as error:
                rejected.append(
                    quarantine_entry(batch.file, line, error.reason, error.field, record, self.scrub)
                )
                out.reasons.append(error.reason)
                continue
            parsed["source"] = f"{batch.name}:{line}"
            parsed["id"] = str(parsed["id"] if parsed["id"] is not None else f"{batch.stem}:{line}")
            dedup_texts.append(accepted.append(parsed, self.task.stratify_key(parsed["label"])))
        accepted.hashes = hash_texts(dedup_texts) if self.dedup else None
        out.rejected = "".join(rejected)
        out.pii_counts = self.redactor.take_counts()
        return out


class Rejected(Exception):
    """A record that cannot be used: which field, and why."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def text_field_name(recipe: Recipe) -> str:
    data = recipe.data
    if data.text_template:
        return data.text_template
    return data.text_field if isinstance(data.text_field, str) else ",".join(data.text_field or [])


def _attribute(record: Any, name: str) -> str:
    value = get_path(record, name)
    return "(missing)" if is_empty(value) else str(value).strip()


def parse_record(
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

    field_name = text_field_name(recipe)
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
