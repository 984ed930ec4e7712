"""The de-identification pass of the prepare stage: find, replace, and count for the audit."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tunesmith.data.pii.operators import apply, load_key
from tunesmith.data.pii.recognizers import Finding, find_pii


@dataclass
class Redactor:
    """Replaces personal data in texts as the recipe's `prepare.pii` says; keeps an audit."""

    options: Any
    key: bytes | None = None
    found: Counter[str] = field(default_factory=Counter)
    by_field: Counter[str] = field(default_factory=Counter)
    records_with_pii: int = 0

    @classmethod
    def from_recipe(cls, options: Any) -> Redactor:
        key = load_key(options.key_env, options.key_file) if options.action == "pseudonym" else None
        return cls(options, key)

    def findings(self, text: str) -> list[Finding]:
        if not self.options.enabled:
            return []
        return find_pii(text, tuple(self.options.types), self.options.threshold)

    def redact(self, text: str, field_name: str) -> tuple[str, list[Finding]]:
        """The text with personal data replaced (unchanged for 'drop': the caller drops it)."""
        found = self.findings(text)
        if not found:
            return text, found
        self.records_with_pii += 1
        for finding in found:
            self.found[finding.type] += 1
            self.by_field[f"{field_name}:{finding.type}"] += 1
        if self.options.action == "drop":
            return text, found
        return apply(text, found, self.options.action, self.key), found

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
        }
