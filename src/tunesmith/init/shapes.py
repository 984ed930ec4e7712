"""Data shapes that decide a task by themselves: annotated entities (NER in word/tag, BIO or span
form) and extractive question answering (an answer found inside a context)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tunesmith.data.columns import Column

_WORD_TAG = re.compile(r"^\S+/[A-Za-z]{1,6}$")
_BIO = re.compile(r"^(O|[BIESLU]-.+)$")
_PERSON_TYPES = frozenset({"nr", "per", "person", "name", "pers"})
_PLACE_TYPES = frozenset({"ns", "loc", "location", "gpe", "place", "addr", "address"})


@dataclass(frozen=True)
class Entities:
    format: str  # word_tag | bio | spans
    text: str  # the field holding the text (word/tag string, tokens, or the plain text)
    label: str | None  # the tags or spans field (None for word_tag)
    types: list[str]
    reason: str

    def pii_types_to_keep_off(self) -> list[str]:
        """De-identification would mask what the model must learn: names (PERSON) when people
        are an entity type, addresses when places are."""
        lowered = {t.lower() for t in self.types}
        off = []
        if lowered & _PERSON_TYPES:
            off.append("PERSON")
        if lowered & _PLACE_TYPES:
            off.append("ADDRESS")
        return off


def _word_tag(column: Column) -> Entities | None:
    values = column.strings()
    if column.kind != "text" or not values:
        return None
    tagged = 0
    types: set[str] = set()
    for value in values:
        pieces = value.split()
        matching = [p for p in pieces if _WORD_TAG.match(p)]
        if pieces and len(matching) >= 0.8 * len(pieces):
            tagged += 1
            types.update(p.rsplit("/", 1)[1] for p in matching)
    outside = {t for t in types if t.lower() == "o"}
    if tagged < 0.8 * len(values) or not outside or len(types) > 40:
        return None
    kinds = sorted(types - outside)
    reason = (
        f"'{column.path}' holds word/tag pairs ({tagged / len(values):.0%} of lines; tags {', '.join(kinds)})"
    )
    return Entities("word_tag", column.path, None, kinds, reason)


def _bio(columns: list[Column]) -> Entities | None:
    lists = [c for c in columns if c.kind == "list"]
    for tags in lists:
        items = tags.items()
        if not items or not all(_BIO.match(t) for t in items) or "O" not in items:
            continue
        for tokens in lists:
            if tokens is tags:
                continue
            same = sum(
                isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                for a, b in zip(tokens.values, tags.values, strict=True)
            )
            if same >= 0.95 * tags.present:
                kinds = sorted({t.split("-", 1)[1] for t in items if "-" in t})
                reason = f"'{tokens.path}' and '{tags.path}' are token and BIO-tag lists of equal length"
                return Entities("bio", tokens.path, tags.path, kinds, reason)
    return None


def _spans(columns: list[Column]) -> Entities | None:
    texts = [c for c in columns if c.kind == "text"]
    for spans in (c for c in columns if c.kind == "spans"):
        for text in texts:
            fit = total = 0
            kinds: set[str] = set()
            for value, found in zip(text.values, spans.values, strict=True):
                if not isinstance(found, list) or not isinstance(value, str):
                    continue
                for span in found:
                    total += 1
                    start, end = span.get("start"), span.get("end")
                    kind = span.get("label", span.get("type"))
                    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(value):
                        fit += 1
                        kinds.add(str(kind))
            if total and fit >= 0.9 * total:
                reason = f"'{spans.path}' holds {{start, end, label}} spans inside '{text.path}'"
                return Entities("spans", text.path, spans.path, sorted(kinds), reason)
    return None


def find_entities(columns: list[Column]) -> Entities | None:
    for column in columns:
        if found := _word_tag(column):
            return found
    return _bio(columns) or _spans(columns)


@dataclass(frozen=True)
class Questions:
    question: str
    context: str
    answer: str  # the answer's field path (`answers.text.0` for a SQuAD-style list)
    reason: str


def _answer_texts(column: Column) -> list[str | None]:
    if column.kind == "list":
        return [str(v[0]) if isinstance(v, list) and v else None for v in column.values]
    return [str(v) if v is not None and not isinstance(v, dict) else None for v in column.values]


def find_questions(columns: list[Column]) -> Questions | None:
    """A question, a longer context and an answer that is found inside the context."""
    texts = [c for c in columns if c.kind == "text"]
    # answers vary from record to record; a column of a few repeated values is a label
    answers = [c for c in columns if c.kind in ("text", "category", "list") and c.distinct_share >= 0.3]
    for context in sorted(texts, key=lambda c: -c.mean_tokens):
        for answer in answers:
            if answer is context:
                continue
            pairs = [
                (a, c)
                for a, c in zip(_answer_texts(answer), context.values, strict=True)
                if a and isinstance(c, str)
            ]
            inside = sum(a in c for a, c in pairs)
            if len(pairs) < 10 or inside < 0.8 * len(pairs):
                continue
            questions = [
                q for q in texts if q not in (context, answer) and q.mean_tokens < context.mean_tokens
            ]
            if not questions:
                continue
            question = questions[0]
            path = f"{answer.path}.0" if answer.kind == "list" else answer.path
            reason = (
                f"'{path}' is found inside '{context.path}' in {inside / len(pairs):.0%} of records, "
                f"and '{question.path}' asks about it"
            )
            return Questions(question.path, context.path, path, reason)
    return None
