"""Entities as character spans over a text: reading the three annotation formats (spans, BIO
tokens and tags, MSRA's word/tag) into one form, moving spans with every cleaning edit, and the
character tags and entities the token classifier trains on and answers with."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from tunesmith.tasks.base import Clean

OUTSIDE = "O"
NONE = "(none)"
Span = list[Any]  # [start, end, type]
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def _joiner(left: str, right: str) -> str:
    """Chinese words are written without spaces; anything else is separated by one."""
    if not left or not right:
        return ""
    return "" if _CJK.match(left[-1]) or _CJK.match(right[0]) else " "


def pieces_from_word_tags(value: str) -> list[tuple[str, str | None]]:
    pieces: list[tuple[str, str | None]] = []
    for item in value.split():
        word, slash, tag = item.rpartition("/")
        if not slash or not word:
            raise ValueError(f"'{item}' is not word/tag")
        pieces.append((word, None if tag.lower() in ("o", "") else tag))
    return pieces


def pieces_from_bio(tokens: Sequence[Any], tags: Sequence[Any]) -> list[tuple[str, str | None]]:
    """Tokens grouped into entity and outside pieces (BIO/IOB2, IOB1, or bare types as IO)."""
    if len(tokens) != len(tags):
        raise ValueError(f"{len(tokens)} tokens but {len(tags)} tags")
    pieces: list[tuple[str, str | None]] = []
    words: list[str] = []
    current: str | None = None

    def close() -> None:
        if words:
            joined = words[0]
            for word in words[1:]:
                joined += _joiner(joined, word) + word
            pieces.append((joined, current))

    for token, raw_tag in zip(tokens, tags, strict=True):
        tag = str(raw_tag).strip()
        if tag in ("", "O", "o"):
            prefix, kind = "O", None
        elif "-" in tag:
            prefix, kind = tag.split("-", 1)
        else:
            prefix, kind = "I", tag
        if kind != current or (kind is not None and prefix.upper() in ("B", "S")):
            close()
            words, current = [], kind
        words.append(str(token))
    close()
    return pieces


def pieces_from_spans(text: str, spans: Sequence[Any]) -> list[tuple[str, str | None]]:
    parsed = []
    for span in spans:
        if isinstance(span, dict):
            start, end, kind = span.get("start"), span.get("end"), span.get("label", span.get("type"))
        elif isinstance(span, list | tuple) and len(span) == 3:
            start, end, kind = span
        else:
            raise ValueError(f"a span is {{start, end, label}} or [start, end, label], got {span!r}")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise ValueError(f"span {span!r} is outside the text ({len(text)} characters)")
        parsed.append((start, end, str(kind)))
    parsed.sort()
    pieces: list[tuple[str, str | None]] = []
    last = 0
    for start, end, kind in parsed:
        if start < last:
            raise ValueError(f"spans overlap at character {start}")
        if start > last:
            pieces.append((text[last:start], None))
        pieces.append((text[start:end], kind))
        last = end
    if last < len(text):
        pieces.append((text[last:], None))
    return pieces


def join_pieces(
    pieces: Sequence[tuple[str, str | None]], clean: Clean, spaced: bool
) -> tuple[str, list[Span]]:
    """Clean each piece and join them, recording where the entity pieces land. `spaced`: the
    pieces are cut from one text and carry its spacing (spans format); otherwise they are words,
    joined with a space except between Chinese characters."""
    text = ""
    spans: list[Span] = []
    pending_space = False
    for raw, kind in pieces:
        piece = clean(raw)
        pending_space = pending_space or (spaced and raw[:1].isspace())
        if not piece:
            continue
        gap = (" " if pending_space and text else "") if spaced else _joiner(text, piece)
        text += gap
        if kind is not None:
            spans.append([len(text), len(text) + len(piece), kind])
        text += piece
        pending_space = spaced and raw[-1:].isspace()
    return text, spans


def move_spans(spans: Sequence[Span], edits: Sequence[tuple[int, int, str]]) -> list[Span]:
    """Spans over a text, moved onto the text after `edits` (sorted, non-overlapping replacements).
    A span boundary inside an edit snaps outward to the replacement's edge."""

    def where(position: int, is_end: bool) -> int:
        shift = 0
        for start, end, new in edits:
            if end <= position:
                shift += len(new) - (end - start)
            elif start < position:  # inside the replaced text
                return start + shift + (len(new) if is_end else 0)
            else:
                break
        return position + shift

    return [[where(s, False), where(e, True), kind] for s, e, kind in spans]


def span_types(label: Sequence[Span]) -> list[str]:
    return [str(kind) for _, _, kind in label]


def bio_names(types: Sequence[str]) -> list[str]:
    return [OUTSIDE] + [f"{p}-{t}" for t in sorted(set(types)) for p in ("B", "I")]


def char_tags(length: int, spans: Sequence[Span]) -> list[str]:
    """One BIO tag per character: seqeval then scores exact character spans."""
    tags = [OUTSIDE] * length
    for start, end, kind in spans:
        if start >= length:
            continue
        tags[start] = f"B-{kind}"
        for i in range(start + 1, min(end, length)):
            tags[i] = f"I-{kind}"
    return tags


def entities_from_tokens(
    text: str, offsets: Sequence[tuple[int, int]], tags: Sequence[str], scores: Sequence[float]
) -> list[dict[str, Any]]:
    """Merge per-token BIO tags into entities with character offsets and a mean score."""
    entities: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for (start, end), tag, score in zip(offsets, tags, scores, strict=True):
        if end <= start:
            continue
        prefix, _, kind = tag.partition("-")
        if tag == OUTSIDE or not kind:
            current = None
            continue
        if current is not None and prefix == "I" and current["label"] == kind:
            current["end"] = end
            current["scores"].append(score)
            continue
        current = {"label": kind, "start": start, "end": end, "scores": [score]}
        entities.append(current)
    for entity in entities:
        entity["text"] = text[entity["start"] : entity["end"]]
        entity["score"] = float(np.mean(entity.pop("scores")))
    return [{k: e[k] for k in ("text", "label", "start", "end", "score")} for e in entities]
