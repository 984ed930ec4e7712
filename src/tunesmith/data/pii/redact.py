"""The de-identification pass of the prepare stage: find, replace, and count for the audit."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tunesmith.data.pii.columns import ColumnPolicies, unprotect
from tunesmith.data.pii.fake import FakeValues
from tunesmith.data.pii.finding import Finding
from tunesmith.data.pii.operators import apply, apply_edits, load_key, replacement
from tunesmith.data.pii.recognizers import find_pii

Edit = tuple[int, int, str]  # (start, end) in the original text, and what replaced it


@dataclass
class Redactor:
    """Replaces personal data as the recipe's `prepare.pii` says: whole columns by their policy,
    then the findings in every other text field; keeps an audit of what it did."""

    options: Any
    key: bytes | None = None
    fake: FakeValues = field(default_factory=FakeValues)
    columns: ColumnPolicies = field(init=False)
    found: Counter[str] = field(default_factory=Counter)
    by_field: Counter[str] = field(default_factory=Counter)
    records_with_pii: int = 0
    _extra_finders: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._types = tuple(self.options.types)
        policies = self.options.columns if self.options.enabled else {}
        self.columns = ColumnPolicies(policies, self.key, self.fake)
        if self.options.enabled and self.options.english_ner == "presidio":
            from tunesmith.data.pii.presidio_backend import PresidioNames

            self._extra_finders.append(PresidioNames(self.options.english_ner_model))

    @classmethod
    def from_recipe(cls, options: Any) -> Redactor:
        uses_key = options.action == "pseudonym" or "pseudonym" in options.columns.values()
        key = load_key(options.key_env, options.key_file) if options.enabled and uses_key else None
        return cls(options, key, FakeValues(key))

    def findings(self, text: str) -> list[Finding]:
        if not self.options.enabled:
            return []
        types = self._types
        found = find_pii(text, types, self.options.threshold, self.options.thorough_names)
        for finder in self._extra_finders:
            found = finder.merge(text, found, types, self.options.threshold)
        return found

    def redact(self, text: str, field_name: str) -> tuple[str, list[Finding]]:
        """The text with personal data replaced (unchanged for 'drop': the caller drops it).

        Spans marked by `ColumnPolicies.protect` are not scanned: their column policy applied.
        """
        new_text, found, _ = self.redact_with_edits(text, field_name)
        return new_text, found

    def redact_with_edits(self, text: str, field_name: str) -> tuple[str, list[Finding], list[Edit]]:
        """Like `redact`, also returning each replacement as (start, end, new text) in the input, so
        a caller can move character offsets (entity spans) onto the de-identified text."""
        text, protected = unprotect(text)
        found = self.findings(text)
        if protected:
            found = [f for f in found if not any(f.start < end and start < f.end for start, end in protected)]
        for finding in found:
            self.found[finding.type] += 1
            self.by_field[f"{field_name}:{finding.type}"] += 1
        if not found or self.options.action == "drop":
            return text, found, []
        action = self.options.action
        edits = [(f.start, f.end, replacement(f, text, action, self.key, self.fake)) for f in found]
        return apply_edits(text, edits), found, edits

    def count_record(self, found: bool) -> None:
        self.records_with_pii += int(found)

    def take_counts(self) -> dict[str, Any]:
        """What this redactor counted since the last call, and start again from zero: a worker
        process sends its counts per batch, and `add_counts` sums them in file order."""
        counts = {
            "found": self.found,
            "by_field": self.by_field,
            "records_with_pii": self.records_with_pii,
            "columns": self.columns.counts,
        }
        self.found, self.by_field, self.records_with_pii = Counter(), Counter(), 0
        self.columns.counts = Counter()
        return counts

    def add_counts(self, counts: dict[str, Any]) -> None:
        self.found.update(counts["found"])
        self.by_field.update(counts["by_field"])
        self.records_with_pii += counts["records_with_pii"]
        self.columns.counts.update(counts["columns"])

    def scrub(self, text: str) -> str:
        """Mask personal data for a log or quarantine line (never a pseudonym: no key needed)."""
        found = self.findings(text)
        return apply(text, found, "mask") if found else text

    def audit(self) -> dict[str, Any]:
        return {
            "enabled": bool(self.options.enabled),
            "action": self.options.action,
            "records_with_pii": self.records_with_pii,
            "found_by_type": dict(self.found.most_common()),
            "found_by_field": dict(self.by_field.most_common()),
            "columns": dict(self.columns.counts.most_common()),
        }
