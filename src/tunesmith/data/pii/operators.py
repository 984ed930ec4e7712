"""What happens to a finding: mask by type, partial mask, keyed pseudonym, fake value, or drop the record."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from pathlib import Path

from tunesmith.data.pii.fake import FakeValues
from tunesmith.data.pii.finding import Finding
from tunesmith.errors import RecipeError

ACTIONS = ("mask", "partial", "pseudonym", "fake", "drop")


def partial_mask(value: str) -> str:
    """Keep the shape and a few edge characters: 13812345678 -> 138****5678, a@b.com -> a***@b.com."""
    if "@" in value and "://" not in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    chars = [c for c in value if c.isalnum()]
    keep_head, keep_tail = (3, 4) if len(chars) >= 11 else (1, 1) if len(chars) >= 4 else (0, 0)
    hidden = len(chars) - keep_tail
    out, seen = [], 0
    for c in value:
        if c.isalnum():
            out.append(c if seen < keep_head or seen >= hidden else "*")
            seen += 1
        else:
            out.append(c)
    return "".join(out)


def load_key(key_env: str, key_file: str | None) -> bytes:
    """The HMAC key for pseudonyms: from a file, else from the environment variable."""
    if key_file:
        path = Path(key_file).expanduser()
        if not path.is_file():
            raise RecipeError(f"prepare.pii.key_file: {path} does not exist")
        return path.read_bytes().strip()
    value = os.environ.get(key_env)
    if not value:
        raise RecipeError(
            f"prepare.pii.action is 'pseudonym' but no key is set: export {key_env}=<a long random "
            "secret> or set prepare.pii.key_file (the same key gives the same tokens across runs)"
        )
    return value.encode()


def pseudonym(kind: str, value: str, key: bytes) -> str:
    """A stable token: the same value gives the same token across a dataset, so joins survive."""
    normalized = "".join(value.split()).lower()
    digest = hmac.new(key, f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()
    return f"<{kind}_{digest[:10]}>"


def replacement(
    finding: Finding, text: str, action: str, key: bytes | None = None, fake: FakeValues | None = None
) -> str:
    """What one finding becomes under `action` (`text` is the whole text, context for a fake)."""
    if action == "partial":
        return partial_mask(finding.value)
    if action == "pseudonym":
        if key is None:
            raise ValueError("pseudonym needs a key")
        return pseudonym(finding.type, finding.value, key)
    if action == "fake":
        if fake is None:
            raise ValueError("fake needs a FakeValues")
        return fake.value(finding.type, finding.value, text)
    return f"[{finding.type}]"


def apply_edits(text: str, edits: Sequence[tuple[int, int, str]]) -> str:
    """`text` with each (start, end, new text) edit made (non-overlapping, sorted)."""
    out, last = [], 0
    for start, end, new in edits:
        out.append(text[last:start])
        out.append(new)
        last = end
    out.append(text[last:])
    return "".join(out)


def apply(
    text: str,
    findings: Sequence[Finding],
    action: str,
    key: bytes | None = None,
    fake: FakeValues | None = None,
) -> str:
    """Replace every finding (non-overlapping, sorted) in `text`."""
    return apply_edits(text, [(f.start, f.end, replacement(f, text, action, key, fake)) for f in findings])
