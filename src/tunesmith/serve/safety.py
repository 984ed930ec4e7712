"""The safety filter every question and every outgoing knowledge-base answer passes.

Personal data is redacted with the recognizers prepare uses (`data/pii`), whatever the run's
recipe says about its training data: an answer never carries a phone number out. Blocked terms and
topics come from a YAML list the company edits (`--safety-list`; the packaged default is
`safety_list.yaml`, Chinese and English); a text holding one gets the list's refusal instead. Each
action is appended to `safety.jsonl` in the state folder - when, request id, question or answer,
redacted or refused, and why (personal-data types, topic and term) - never the personal data itself.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tunesmith.data.pii.operators import apply
from tunesmith.data.pii.redact import Redactor
from tunesmith.errors import TunesmithError
from tunesmith.recipe import PiiSection
from tunesmith.serve.answer_log import append_line

SAFETY_LOG = "safety.jsonl"
_CJK = re.compile(r"[\u3400-\u9fff]")


def _normal(text: str) -> str:
    """Full-width letters and digits as ASCII, lower case: 'ＢＯＭＢ' is 'bomb'."""
    return unicodedata.normalize("NFKC", text).casefold()


def _pattern(term: str) -> re.Pattern[str]:
    """Chinese terms match anywhere; other terms as whole words (spaces: any run of spaces)."""
    words = [re.escape(w) for w in _normal(term).split()]
    body = r"\s+".join(words)
    return re.compile(body if _CJK.search(term) else rf"(?<!\w){body}(?!\w)")


@dataclass
class Verdict:
    text: str  # the text to send: redacted, or the refusal
    refused: bool = False
    topic: str | None = None
    term: str | None = None
    redacted: dict[str, int] = field(default_factory=dict)  # personal-data type -> how many

    def reasons(self) -> list[str]:
        if self.refused:
            return [f"blocked topic '{self.topic}'"]  # the term itself only in the safety log
        return [f"{n} x {kind} redacted" for kind, n in self.redacted.items()]


class SafetyFilter:
    def __init__(self, list_file: str | None, state_dir: Path, pii: PiiSection | None = None) -> None:
        source = Path(list_file) if list_file else None
        text = (
            source.read_text(encoding="utf-8")
            if source
            else resources.files("tunesmith.serve").joinpath("safety_list.yaml").read_text(encoding="utf-8")
        )
        where = str(source or "the packaged safety list")
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            raise TunesmithError(f"{where}: not valid YAML ({error})") from None
        if not isinstance(data, dict) or not isinstance(data.get("refusal"), str):
            raise TunesmithError(f"{where}: needs a 'refusal' text, 'topics' and 'terms' lists")
        self.refusal = data["refusal"].strip()
        topics = dict(data.get("topics") or {})
        topics["terms"] = list(data.get("terms") or [])
        self.blocked: list[tuple[str, str, re.Pattern[str]]] = []
        for topic, terms in topics.items():
            if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
                raise TunesmithError(f"{where}: topic '{topic}' must be a list of non-empty terms")
            self.blocked += [(str(topic), term, _pattern(term)) for term in terms]
        options = (pii or PiiSection()).model_copy(update={"enabled": True, "action": "mask", "columns": {}})
        self.redactor = Redactor(options)
        self.log_file = state_dir / SAFETY_LOG
        self.source = where

    def check(self, text: str) -> Verdict:
        """A blocked term: the refusal; otherwise the text with personal data masked ([PHONE])."""
        normal = _normal(text)
        for topic, term, pattern in self.blocked:
            if pattern.search(normal):
                return Verdict(self.refusal, refused=True, topic=topic, term=term)
        found = self.redactor.findings(text)
        if not found:
            return Verdict(text)
        masked = apply(text, found, "mask")
        return Verdict(masked, redacted=dict(Counter(f.type for f in found)))

    def log(self, request_id: str, version: str, stage: str, verdict: Verdict) -> None:
        """One line per filtered text (nothing for a text that passed untouched)."""
        if not (verdict.refused or verdict.redacted):
            return
        record: dict[str, Any] = {
            "time": round(time.time(), 3),
            "request_id": request_id,
            "version": version,
            "stage": stage,
            "action": "refused" if verdict.refused else "redacted",
        }
        if verdict.refused:
            record |= {"topic": verdict.topic, "term": verdict.term}
        else:
            record["redacted"] = verdict.redacted
        append_line(self.log_file, record)
