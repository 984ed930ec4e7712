"""From profiled columns to a plan: the task, the fields it reads, the split, the model, and why.

The order of questions: do the records carry entity annotations (NER)? an answer inside a
context (extractive QA)? a label (which column, and which columns give it away)? Without a label,
two texts are a translation, a summary or an instruction with its response. With one, the inputs
decide: two texts and a 0/1 label are a matching pair, free text is classified, and rows of
numbers and categories are a table (a sentence template for the transformer, gradient boosting
beside it). Every choice keeps one reason and the runner-up, for the recipe's comments.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunesmith.data.columns import Column, profile
from tunesmith.data.dedup import find_duplicates
from tunesmith.data.fields import render_template, template_fields
from tunesmith.data.language import detect_language
from tunesmith.data.read import LINES_FILE
from tunesmith.data.split import assign_splits
from tunesmith.errors import DataError
from tunesmith.init.roles import (
    LabelCandidate,
    gives_label_away,
    group_column,
    name_parts,
    personal_policy,
    rank_labels,
    template_inputs,
)
from tunesmith.init.sample import Sample, read_sample
from tunesmith.init.shapes import Entities, Questions, find_entities, find_questions
from tunesmith.models.resolve import default_model_for
from tunesmith.recipe import CAUSAL_LM_DEFAULT, SEQ2SEQ_DEFAULT, TASK_TYPES

MIN_RECORDS = 50
LIST_SEPARATOR = ", "
_LENGTHS = (32, 64, 128, 256, 512)
_INSTRUCTION = frozenset(["instruction", "prompt", "input", "question", "query", "request", "ask"])
_RESPONSE = frozenset(["response", "output", "answer", "completion", "reply", "target"])
_WORD = re.compile(r"[A-Za-z]+|\d+|[\u3400-\u9fff\uf900-\ufaff]|[^\sA-Za-z\d]")


@dataclass(frozen=True)
class Choice:
    value: str
    reason: str
    runner_up: str | None = None


@dataclass
class Plan:
    """What `init` decided for a data file; `recipe_text` writes it as a commented recipe."""

    source: Path
    rows: int
    complete: bool
    task: Choice
    text_field: str | list[str] | None = None
    text_template: str | None = None
    pair_field: str | None = None
    label_field: str | None = None
    text: Choice | None = None
    label: Choice | None = None
    labels: list[str] = field(default_factory=list)  # label values seen (or entity types)
    ner_format: str | None = None
    language: str = "en"
    model: Choice = Choice("", "")
    max_length: int = 128
    max_target_length: int | None = None
    prompt: str | None = None  # seq2seq on a decoder: what it reads before writing the target
    tabular_model: str | None = None  # tabular: trees alone, or trees and the transformer (best)
    split_method: str = "stratified"
    group_field: str | None = None
    split_reason: str = "each label in proportion"
    columns: list[str] | None = None  # a headerless file's column names
    data_format: str | None = None  # set when the reader's guess is not enough (lines)
    list_separator: str | None = None
    pii_columns: dict[str, str] = field(default_factory=dict)
    pii_types_off: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)  # every column: its role and why
    leaks: list[str] = field(default_factory=list)
    time_field: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Wishes:
    """What the user fixed on the command line (`init --task --text --label --pair`)."""

    task: str | None = None
    text: str | None = None
    label: str | None = None  # "none": no label
    pair: str | None = None


def estimate_tokens(text: str) -> int:
    """A word-piece count without loading a tokenizer: long words and numbers split, each Chinese
    character and punctuation mark counts one, plus the two special tokens."""
    count = 2
    for piece in _WORD.findall(text):
        count += 1 + (len(piece) - 1) // 6 if piece.isalpha() and piece.isascii() else 1
        if piece.isdigit():
            count += (len(piece) - 1) // 3
    return count


def length_for(texts: list[str]) -> int:
    """The smallest of 32/64/128/256/512 tokens that holds 95% of the texts."""
    if not texts:
        return 128
    counts = sorted(estimate_tokens(t) for t in texts)
    p95 = counts[min(len(counts) - 1, math.ceil(0.95 * len(counts)) - 1)]
    return next((n for n in _LENGTHS if n >= p95), _LENGTHS[-1])


def _rename_headerless(sample: Sample, columns: list[Column]) -> list[str]:
    """Names for a file without a header: `id`, `label`, the texts by language (`en`, `zh`) when
    they differ, else `text` or `text_1`, `text_2`; what is left keeps `column_N`."""
    names = {c.path: c.path for c in columns}
    texts = [c for c in columns if c.kind == "text"]
    languages = [c.language for c in texts]
    if len(set(languages)) == len(texts) > 1:
        names.update({c.path: str(c.language) for c in texts})
    elif len(texts) == 1:
        names[texts[0].path] = "text"
    else:
        names.update({c.path: f"text_{i + 1}" for i, c in enumerate(texts)})
    ids = [c for c in columns if c.kind == "id"]
    if len(ids) == 1:
        names[ids[0].path] = "id"
    candidates = rank_labels(columns)
    if candidates:
        names[candidates[0].path] = "label"
    for column in columns:
        column.path = names[column.path]
    for record in sample.records:
        for old, new in list(names.items()):
            if old != new and old in record:
                record[new] = record.pop(old)
    return [names[f"column_{i + 1}"] for i in range(len(names))]


def _find(columns: list[Column], path: str, flag: str) -> Column:
    for column in columns:
        if column.path == path:
            return column
    known = ", ".join(c.path for c in columns)
    raise DataError(f"{flag} {path!r}: no such field in the data (fields: {known})")


def _text_columns(columns: list[Column], exclude: set[str]) -> list[Column]:
    """Free-text columns, the richest first."""
    texts = [c for c in columns if c.kind == "text" and c.path not in exclude]
    return sorted(texts, key=lambda c: (-c.mean_tokens * c.distinct_share, c.order))


def _describe_candidate(candidate: LabelCandidate) -> str:
    return f"'{candidate.path}' ({candidate.reason})"


def _task_of(candidate: LabelCandidate) -> str:
    return {"multi": "multilabel", "number": "regression"}.get(candidate.kind, "classification")


class _Planner:
    def __init__(self, sample: Sample, columns: list[Column], wishes: Wishes) -> None:
        self.sample = sample
        self.columns = columns
        self.wishes = wishes
        self.plan = Plan(sample.path, sample.rows, sample.complete, Choice("", ""))

    # -- helpers -------------------------------------------------------------------------------
    def role(self, path: str, text: str) -> None:
        self.plan.roles.setdefault(path, text)

    def column(self, path: str, flag: str) -> Column:
        return _find(self.columns, path, flag)

    # -- the decision --------------------------------------------------------------------------
    def decide(self) -> Plan:
        wished = self.wishes.task
        if wished in (None, "token_classification") and (entities := self._entities()):
            self._ner(entities)
        elif wished in (None, "extractive_qa") and (qa := self._questions()):
            self._qa(qa)
        else:
            candidates = self._label_candidates()
            if candidates and wished not in ("seq2seq", "causal_lm"):
                self._labelled(candidates)
            else:
                self._unlabelled(candidates)
        self._finish()
        return self.plan

    def _entities(self) -> Entities | None:
        found = find_entities(self.columns)
        if found is None and self.wishes.task == "token_classification":
            raise DataError(
                f"{self.sample.path}: --task token_classification, but no field holds word/tag text, "
                "token and BIO-tag lists, or {start, end, label} spans"
            )
        return found

    def _questions(self) -> Questions | None:
        wishes = self.wishes
        if wishes.task == "extractive_qa" and wishes.text and wishes.pair and wishes.label:
            for path, flag in ((wishes.text, "--text"), (wishes.pair, "--pair"), (wishes.label, "--label")):
                self.column(path, flag)
            return Questions(wishes.text, wishes.pair, wishes.label, "--task extractive_qa")
        if wishes.label is not None or wishes.text is not None:
            return None
        found = find_questions(self.columns)
        if found is None and self.wishes.task == "extractive_qa":
            raise DataError(
                f"{self.sample.path}: --task extractive_qa, but no field holds an answer found inside "
                "another field (the context)"
            )
        return found

    def _label_candidates(self) -> list[LabelCandidate]:
        wish = self.wishes.label
        if wish == "none":
            return []
        ranked = [c for c in rank_labels(self.columns) if c.path not in (self.wishes.text, self.wishes.pair)]
        if wish is None:
            return ranked
        column = self.column(wish, "--label")
        chosen = [c for c in ranked if c.path == wish]
        if not chosen:
            # a text named as the label is the text to produce: a translation's target language
            if self.wishes.task in ("seq2seq", "causal_lm") or column.kind == "text":
                return []
            raise DataError(
                f"--label {wish!r}: {column.kind} values ({column.reason}) cannot be a label; a label "
                "repeats: 2 to 500 categories, lists of names, or a number to predict"
            )
        return chosen + [c for c in ranked if c.path != wish]

    # -- annotated text ------------------------------------------------------------------------
    def _ner(self, found: Entities) -> None:
        plan = self.plan
        plan.task = Choice("token_classification", found.reason)
        plan.ner_format = found.format
        plan.text_field, plan.label_field = found.text, found.label
        plan.labels = found.types
        plan.text = Choice(found.text, "the annotated text")
        plan.pii_types_off = found.pii_types_to_keep_off()
        self.role(found.text, "text with its entities")
        if found.label:
            self.role(found.label, "the entities")

    def _qa(self, found: Questions) -> None:
        plan = self.plan
        plan.task = Choice("extractive_qa", found.reason)
        plan.text_field, plan.pair_field, plan.label_field = found.question, found.context, found.answer
        plan.text = Choice(found.question, "the question")
        for path, role in ((found.question, "the question"), (found.context, "the context")):
            self.role(path, role)
        self.role(found.answer.removesuffix(".0"), "the answer (a span of the context)")

    # -- no label ------------------------------------------------------------------------------
    def _unlabelled(self, candidates: list[LabelCandidate]) -> None:
        plan = self.plan
        texts = _text_columns(self.columns, set())
        if self.wishes.text:
            texts = [
                self.column(self.wishes.text, "--text"),
                *[t for t in texts if t.path != self.wishes.text],
            ]
        target = (
            self.column(self.wishes.label, "--label") if self.wishes.label not in (None, "none") else None
        )
        if target is not None:
            texts = [t for t in texts if t is not target]
        if len(texts) + (target is not None) < 2:
            raise DataError(self._no_label_message(texts))
        source = texts[0]
        if target is None:
            target = texts[1]
            if self.wishes.text is None:  # neither named: the data says which way
                source, target = self._direction(texts[0], texts[1])
        plan.text_field, plan.label_field = source.path, target.path
        languages = (source.language, target.language)
        names = name_parts(source.name) | name_parts(target.name)
        ratio = source.mean_tokens / max(target.mean_tokens, 1)
        if self.wishes.task:
            task, why = self.wishes.task, "--task"
        elif languages[0] != languages[1]:
            task, why = (
                "seq2seq",
                f"'{source.path}' ({languages[0]}) is translated into '{target.path}' ({languages[1]})",
            )
        elif ratio >= 2.5:
            task, why = "seq2seq", f"'{target.path}' is {ratio:.1f}x shorter than '{source.path}': a summary"
        else:
            task = "causal_lm"
            why = f"'{source.path}' is answered by '{target.path}' (same language, no label)"
        other = "causal_lm (an instruction and its response)" if task == "seq2seq" else "seq2seq"
        plan.task = Choice(task, why, other)
        plan.prompt = seq2seq_prompt(*languages) if task == "seq2seq" else None
        plan.text = Choice(source.path, "the input text", texts[2].path if len(texts) > 2 else None)
        plan.label = Choice(target.path, "the text to produce")
        plan.split_reason = "at random (the target is text)"
        self.role(source.path, "the input text")
        self.role(target.path, "the text to produce")
        if candidates:
            self.role(candidates[0].path, f"not used: could be a label ({candidates[0].reason})")
        if task == "causal_lm" and not names & (_INSTRUCTION | _RESPONSE):
            plan.warnings.append(
                "two same-language texts without a label: read as instruction -> response. If the "
                "second text answers the first from a fixed set (an FAQ), build pairs with "
                "`tunesmith negatives` and use task.type: matching."
            )

    def _direction(self, first: Column, second: Column) -> tuple[Column, Column]:
        """Instruction before response; the longer text is summarised into the shorter one;
        otherwise the file's order (source first)."""
        if name_parts(second.name) & _INSTRUCTION and name_parts(first.name) & _RESPONSE:
            return second, first
        longer = first.language == second.language and second.mean_tokens >= 2.5 * first.mean_tokens
        if longer and not name_parts(first.name) & _INSTRUCTION:
            return second, first
        return (first, second) if first.order < second.order else (second, first)

    def _no_label_message(self, texts: list[Column]) -> str:
        path = self.sample.path
        if self.sample.formats and set(self.sample.formats) == {"lines"}:
            return (
                f"{path}: one text per line and no label. To classify texts, put one file per label "
                f"in a folder (neg.txt, pos.txt) and run `tunesmith init FOLDER`: the file name is "
                f"the label."
            )
        found = ", ".join(f"{c.path} ({c.kind})" for c in self.columns)
        return (
            f"{path}: no field looks like a label (2 to 500 repeated values, lists of names, or a "
            f"number named like a target), and not two texts to map one onto the other. Fields: "
            f"{found}. Name the label with --label FIELD."
        )

    # -- labelled ------------------------------------------------------------------------------
    def _labelled(self, candidates: list[LabelCandidate]) -> None:
        plan = self.plan
        best = candidates[0]
        label = best.column
        leaks = [c for c in self.columns if gives_label_away(c, label)]
        group = group_column(self.columns, {label.path} | {c.path for c in leaks})
        unusable = {c.path for c in leaks} | ({group.path} if group else set())
        runner = next((c for c in candidates[1:] if c.path not in unusable), None)
        reason = best.reason + ("; named like a label" if best.score >= 4 else "")
        plan.label_field = label.path
        plan.label = Choice(label.path, reason, _describe_candidate(runner) if runner else None)
        self.role(label.path, f"the label: {reason}")
        if best.kind != "number":
            counts = label.items() if best.kind == "multi" else label.counts
            plan.labels = sorted(counts)
        for leak in leaks:
            plan.leaks.append(leak.path)
            self.role(
                leak.path,
                f"gives the label away (each of its values goes with one {label.path}): never an input",
            )
        excluded = {label.path} | {c.path for c in leaks}
        excluded |= {c.path for c in self.columns if c.kind in ("id", "empty", "constant")}
        task = self.wishes.task or _task_of(best)
        if task == "regression" and not label.numeric:
            raise DataError(f"--task regression: '{label.path}' holds {label.kind} values, not numbers")
        texts = _text_columns(self.columns, excluded)
        if self.wishes.text and "{" not in self.wishes.text:
            wished = self.column(self.wishes.text, "--text")
            texts = [wished, *[t for t in texts if t is not wished]]
        pair = self.column(self.wishes.pair, "--pair") if self.wishes.pair else None
        binary = best.kind == "single" and len(label.counts) == 2
        if (
            task == "matching"
            or pair is not None
            or (self.wishes.task is None and binary and len(texts) >= 2)
        ):
            self._matching(texts, pair)
        elif task == "tabular" or not texts or (self.wishes.text and "{" in self.wishes.text):
            self._template_task(task, best, excluded, self.wishes.text or "")
        else:
            self._text_task(task, texts, runner)

    def _matching(self, texts: list[Column], pair: Column | None) -> None:
        plan = self.plan
        firsts = [t for t in texts if t is not pair]
        if not firsts or (pair is None and len(firsts) < 2):
            raise DataError(f"{plan.source}: matching needs two text fields (the pair); found {len(texts)}")
        first = firsts[0]
        second = pair or firsts[1]
        if second.order < first.order and self.wishes.text is None and pair is None:
            first, second = second, first
        plan.text_field, plan.pair_field = first.path, second.path
        plan.task = Choice(
            "matching",
            f"two texts ('{first.path}', '{second.path}') and a 0/1 label: does the second match the first",
            f"classification of '{first.path}' alone",
        )
        plan.text = Choice(first.path, "the first text", None)
        self.role(first.path, "the first text of each pair")
        self.role(second.path, "the second text of each pair")

    def _text_task(self, task: str, texts: list[Column], runner: LabelCandidate | None) -> None:
        """One text field, or several joined (a subject and a body) when the record has them."""
        plan = self.plan
        text = texts[0]
        if self.wishes.text or len(texts) == 1:
            plan.text_field = text.path
            runner_text = f"'{texts[1].path}' ({texts[1].reason})" if len(texts) > 1 else None
            plan.text = Choice(text.path, text.reason, runner_text)
        else:
            plan.text_field = [t.path for t in sorted(texts, key=lambda t: t.order)]
            plan.text = Choice(
                " + ".join(plan.text_field), f"{len(texts)} free-text fields, joined", f"'{text.path}' alone"
            )
        for column in texts if isinstance(plan.text_field, list) else [text]:
            self.role(column.path, f"the text: {column.reason}")
        why = {
            "classification": f"one label per text, {len(plan.labels)} labels",
            "multilabel": "the label holds lists: any number of labels per text, [] allowed",
            "regression": "the label is a number with many values",
        }.get(task, "--task")
        plan.task = Choice(task, why, _task_of(runner) + f" on '{runner.path}'" if runner else None)

    def _template_task(self, task: str, best: LabelCandidate, excluded: set[str], template: str = "") -> None:
        """No free text: the model reads each row as a sentence made from its useful columns."""
        plan = self.plan
        group = group_column(self.columns, excluded)
        chosen, left_out = template_inputs(self.columns, excluded | ({group.path} if group else set()))
        for path, why in left_out.items():
            self.role(path, f"not an input: {why}")
        if not template:
            if not chosen:
                raise DataError(f"{plan.source}: besides '{best.path}' no field can be an input")
            template = "; ".join(f"{c.name}: {{{c.path}{'?' if c.sometimes_empty else ''}}}" for c in chosen)
            for column in chosen:
                self.role(column.path, f"in the template: {column.reason}")
        tabular_kinds = sum(c.kind in ("number", "category", "datetime") for c in chosen)
        if self.wishes.task is None and best.kind == "single" and tabular_kinds >= 0.5 * max(len(chosen), 1):
            task = "tabular"
            prose = [c.path for c in chosen if c.kind == "text"]
            plan.tabular_model = "best" if prose else "trees"
            why = (
                f"rows of {tabular_kinds} numeric/categorical columns and a label with {len(plan.labels)} "
                "values: gradient-boosted trees on the raw columns"
                + (
                    f"; a transformer reads each row as a sentence too (for the free text in "
                    f"{', '.join(prose)}), and the better on validation is served"
                    if prose
                    else ""
                )
            )
            runner = "classification of each row written as a sentence (a transformer), without the trees"
        else:
            why = "no free text: each record becomes a sentence of its fields"
            runner = None
        plan.task = Choice(task, why, runner)
        plan.text_template = template
        plan.list_separator = LIST_SEPARATOR
        plan.text = Choice(template, "a sentence per record from its useful fields")

    # -- everything else -----------------------------------------------------------------------
    def _finish(self) -> None:
        plan = self.plan
        used = {plan.label_field, plan.pair_field, *(plan.leaks)}
        used |= {plan.text_field} if isinstance(plan.text_field, str) else set(plan.text_field or [])
        group = group_column(self.columns, {p for p in used if p})
        if group is not None and plan.task.value not in ("seq2seq", "causal_lm"):
            plan.split_method, plan.group_field = "group", group.path
            size = group.present / max(group.distinct, 1)
            plan.split_reason = (
                f"'{group.path}' comes in runs ({group.distinct} values, ~{size:.0f} records each): whole "
                f"groups per split, so test holds unseen {group.name}s"
            )
            self.role(group.path, "the group: each value's records stay in one split")
        times = [c for c in self.columns if c.kind == "datetime" and c.path not in used and not c.personal]
        if times and plan.task.value == "tabular":
            plan.time_field = times[-1].path if times[-1].numeric else times[0].path
        for column in self.columns:
            if column.personal:
                policy = personal_policy(column)
                plan.pii_columns[column.path] = policy
                self.role(column.path, f"personal ({column.personal}): {policy}")
        for column in self.columns:
            default = {
                "id": f"an id, not used: {column.reason}",
                "constant": f"not used: {column.reason}",
                "empty": "not used: empty",
            }.get(column.kind, f"not used ({column.kind}: {column.reason})")
            self.role(column.path, default)
        values = [v for v in self._model_inputs(values_only=True) if v is not None]
        plan.language = detect_language(values) if values else "en"  # not the template's own words
        inputs = self._model_inputs()
        self._model([text for text in inputs if text is not None])
        self._foresee_leakage(inputs)

    def _foresee_leakage(self, inputs: list[str | None]) -> None:
        """Split the sample as prepare will and count the held-out records that (nearly) copy a
        training one: prepare removes them as leakage, and a run whose splits collapse stops."""
        plan = self.plan
        if plan.split_method != "stratified" or len(inputs) < 50:
            return
        rendered = [
            (r, text) for r, text in zip(self.sample.records, inputs, strict=False) if text is not None
        ]
        strata = [str(_get(r, plan.label_field) if plan.label_field else "") for r, _ in rendered]
        splits = assign_splits(strata, 0.1, 0.1, seed=42)
        found = find_duplicates([t for _, t in rendered], splits, [str(i) for i in range(len(rendered))])
        held_out = sum(s != "train" for s in splits)
        leaked = sum(splits[i] != "train" for i in found.remove)
        if held_out and leaked > 0.3 * held_out:
            plan.warnings.append(
                f"{leaked} of {held_out} held-out records in the sample copy (or nearly copy) a training "
                "record: prepare removes them as leakage, and the run stops if too few remain - the "
                "records may be variants of each other"
            )

    def _model_inputs(self, values_only: bool = False) -> list[str | None]:
        """The texts the model will read, rendered from the first 500 sampled records as prepare
        will (None for a record prepare would reject for a missing field)."""
        plan = self.plan
        separator = plan.list_separator or "; "
        out: list[str | None] = []
        for record in self.sample.records[:500]:
            parts: list[str] = []
            try:
                if plan.text_template:
                    template = plan.text_template
                    if values_only:
                        template = " ".join(f"{{{f}?}}" for f in template_fields(template))
                    parts.append(render_template(template, record, separator))
                else:
                    fields = (
                        [plan.text_field] if isinstance(plan.text_field, str) else list(plan.text_field or [])
                    )
                    generated = plan.task.value in ("seq2seq", "causal_lm")
                    for extra in (plan.pair_field, plan.label_field if generated else None):
                        if extra:
                            fields.append(extra)
                    for name in fields:
                        value = _get(record, name)
                        if value is not None:
                            parts.append(_plain(str(value), plan.ner_format))
            except KeyError:
                out.append(None)
                continue
            out.append(" ".join(parts))
        return out

    def _model(self, inputs: list[str]) -> None:
        plan = self.plan
        task = plan.task.value
        if task == "seq2seq":
            plan.model = Choice(
                SEQ2SEQ_DEFAULT,
                "the packaged multilingual decoder (140 languages): reads the source as a prompt and "
                "writes the target; no encoder-decoder translation model installs offline",
            )
        elif task == "causal_lm":
            plan.model = Choice(CAUSAL_LM_DEFAULT, "the packaged chat model for instruction tuning")
            if plan.language != "en":
                plan.warnings.append(
                    f"the packaged chat model (SmolLM2) writes English; for {plan.language} text point "
                    "model.name at a local chat model that reads it (e.g. a Qwen2.5 folder)."
                )
        else:
            name = default_model_for(plan.language)
            why = (
                "small and fast, reads English"
                if plan.language == "en"
                else "reads Chinese (the English model reads every hanzi as [UNK])"
            )
            plan.model = Choice(name, why)
        if task in ("seq2seq", "causal_lm"):
            sources = [_text(r, plan.text_field) for r in self.sample.records]
            targets = [_text(r, plan.label_field) for r in self.sample.records]
            plan.max_length = length_for([s for s in sources if s])
            if plan.prompt:  # the decoder reads the source inside its prompt
                plan.max_length += estimate_tokens(plan.prompt.replace("{text}", "")) + 1
            plan.max_target_length = length_for([t for t in targets if t])
        elif task == "extractive_qa":
            plan.max_length = max(length_for(inputs), 256)
        else:
            plan.max_length = length_for(inputs)


LANGUAGE_NAMES = {"en": "English", "zh": "Chinese"}


def seq2seq_prompt(source: str, target: str) -> str:
    """The line a decoder reads before writing the target: the languages' names for a translation
    ('English: {text}\nChinese:'), else a text and its summary."""
    if source != target and source in LANGUAGE_NAMES and target in LANGUAGE_NAMES:
        return f"{LANGUAGE_NAMES[source]}: {{text}}\n{LANGUAGE_NAMES[target]}:"
    return "Text: {text}\nSummary:"


def _get(record: dict[str, Any], path: str) -> Any:
    from tunesmith.data.fields import get_path, is_empty

    value = get_path(record, path)
    return None if is_empty(value) else value


def _text(record: dict[str, Any], path: str | list[str] | None) -> str | None:
    value = _get(record, path) if isinstance(path, str) else None
    return None if value is None else str(value)


def _plain(text: str, ner_format: str | None) -> str:
    """word/tag text as the model reads it: the words only."""
    if ner_format != "word_tag":
        return text
    return "".join(piece.rsplit("/", 1)[0] for piece in text.split())


def analyse(path: Path, wishes: Wishes | None = None, show: bool = True) -> Plan:
    """Read a sample of `path` (a progress line while reading when `show`), profile its columns
    and plan the recipe."""
    wishes = wishes or Wishes()
    if wishes.task is not None and wishes.task not in TASK_TYPES:
        raise DataError(f"--task {wishes.task!r}: use one of {', '.join(TASK_TYPES)}")
    if wishes.task == "multitask":
        raise DataError("--task multitask: name the heads in the recipe (task.heads); init plans one task")
    sample = read_sample(path, show=show)
    if sample.rows < MIN_RECORDS:
        raise DataError(
            f"{path}: only {sample.rows} records. A model needs at least {MIN_RECORDS} labelled records "
            "to learn from and to be tested on; this looks like a lookup table or a knowledge base."
        )
    columns = profile(sample.records)
    names = _rename_headerless(sample, columns) if sample.headerless else None
    plan = _Planner(sample, columns, wishes).decide()
    plan.columns = names
    if set(sample.formats) == {"lines"}:
        plan.data_format = "lines"
        if plan.label_field == LINES_FILE:
            plan.label = Choice(LINES_FILE, "one file per label: the file's name is the label")
    if sample.headerless:
        plan.warnings.append(f"the file has no header row: its columns are named {', '.join(names or [])}")
    if not sample.complete:
        plan.warnings.append(f"init read the first {sample.rows:,} records; the run reads them all")
    if sample.rows < 500:
        plan.warnings.append(f"{sample.rows} records is little to learn from; expect wide intervals")
    return plan
