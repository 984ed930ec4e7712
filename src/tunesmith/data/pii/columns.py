"""Per-column policies for tabular records: `user_id: pseudonym`, `location: generalize`, `amount: keep`.

A column with a policy is transformed as a whole before the text is built, and the text pass does
not scan it again (so a fake or pseudonymized value is not masked a second time).
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from tunesmith.data.fields import as_text, get_path, is_empty
from tunesmith.data.pii.fake import FakeValues
from tunesmith.data.pii.operators import partial_mask, pseudonym

_TYPE_BY_NAME = (
    (re.compile(r"first|given|名$"), "FIRST_NAME"),
    (re.compile(r"last|surname|family|姓$"), "LAST_NAME"),
    (re.compile(r"name|姓名|名字"), "PERSON"),
    (re.compile(r"street|address|addr|地址|住址"), "ADDRESS"),
    (re.compile(r"dob|birth|生日|出生"), "DATE_OF_BIRTH"),
    (re.compile(r"phone|mobile|tel|电话|手机"), "PHONE"),
    (re.compile(r"mail|邮箱"), "EMAIL"),
    (re.compile(r"card|cc_num|卡号"), "BANK_CARD"),
    (re.compile(r"\bip\b|ip_addr"), "IP_ADDRESS"),
    (re.compile(r"passport|护照"), "PASSPORT"),
    (re.compile(r"id_card|身份证"), "ID_CARD"),
    (re.compile(r"plate|车牌"), "LICENSE_PLATE"),
)
PERSONAL_COLUMN_TYPES = frozenset(kind for _, kind in _TYPE_BY_NAME)
_DATE = re.compile(r"^\s*((?:19|20)\d{2})[-/.年](\d{1,2})")
_US_DATE = re.compile(r"^\s*\d{1,2}[/.-]\d{1,2}[/.-](\d{4}|\d{2})(?:\s|$)")
_ZIP = re.compile(r"^\d{5}(?:-\d{4})?$")
_ZH_REGION = re.compile(r"^(.{2,8}?(?:省|自治区|特别行政区|市))")


def column_type(column: str) -> str:
    """The PII type a column holds, guessed from its name (`cc_num` -> BANK_CARD)."""
    name = column.rsplit(".", 1)[-1].lower()
    for pattern, kind in _TYPE_BY_NAME:
        if pattern.search(name):
            return kind
    return name.upper()


def generalize(value: Any) -> Any:
    """A coarser value: a date -> its year, a number -> a range of ten (or rounded coordinates),
    a zip code -> its first three digits, an address -> its region (city, or text before the
    first comma)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        low = value // 10 * 10
        return f"{low}-{low + 9}"
    if isinstance(value, float):
        return round(value, 1)
    text = str(value).strip()
    if _ZIP.match(text):
        return text[:3] + "**"
    if date := _DATE.match(text) or _US_DATE.match(text):
        return date.group(1)  # the year, as written (a two-digit year stays two digits)
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return generalize(int(number) if number.is_integer() else number)
    if region := _ZH_REGION.match(text):
        return region.group(1)
    if "," in text:
        return text.rsplit(",", 2)[-2].strip() if text.count(",") >= 2 else text.split(",")[-1].strip()
    return text.split()[-1] if " " in text else text


PROTECT_START, PROTECT_END = "\ue000", "\ue001"  # private-use characters: never in real text
_PROTECTED = re.compile(f"{PROTECT_START}(.*?){PROTECT_END}", re.DOTALL)


def unprotect(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The text without protection marks, and the spans that were protected."""
    if PROTECT_START not in text:
        return text, []
    out, spans, last = [], [], 0
    length = 0
    for m in _PROTECTED.finditer(text):
        out.append(text[last : m.start()])
        length += m.start() - last
        spans.append((length, length + len(m.group(1))))
        out.append(m.group(1))
        length += len(m.group(1))
        last = m.end()
    out.append(text[last:])
    return "".join(out), spans


class ColumnPolicies:
    """Applies the recipe's `prepare.pii.columns` to records and counts what it did."""

    def __init__(self, policies: dict[str, str], key: bytes | None, fake: FakeValues) -> None:
        self.policies = dict(policies)
        self.key = key
        self.fake = fake
        self.counts: Counter[str] = Counter()

    def __contains__(self, column: str) -> bool:
        return column in self.policies

    def protect(self, column: str, text: str) -> str:
        """Mark a policy column's text so the text pass leaves it alone (see `unprotect`)."""
        return f"{PROTECT_START}{text}{PROTECT_END}" if column in self.policies and text else text

    def _key(self) -> bytes:
        if self.key is None:
            raise ValueError("a pseudonym column needs the pseudonym key")
        return self.key

    def _transform(self, column: str, policy: str, value: Any) -> Any:
        kind = column_type(column)
        text = as_text(value, "; ")
        operations: dict[str, Callable[[], Any]] = {
            "mask": lambda: f"[{kind}]",
            "partial": lambda: partial_mask(text),
            "pseudonym": lambda: pseudonym(kind, text, self._key()),
            "fake": lambda: self.fake.value(kind, text),
            "generalize": lambda: generalize(value),
        }
        return operations[policy]()

    def apply(self, record: Any) -> Any:
        """A copy of `record` with every policy column transformed (the input is not changed)."""
        if not self.policies or not isinstance(record, dict):
            return record
        out = copy.copy(record)
        for column, policy in self.policies.items():
            if policy == "keep":
                continue
            parent_path, _, leaf = column.rpartition(".")
            parent = get_path(out, parent_path) if parent_path else out
            if not isinstance(parent, dict) or leaf not in parent or is_empty(parent[leaf]):
                continue
            if parent_path:  # copy the nested dicts on the way so the caller's record is untouched
                parent = _copy_path(out, parent_path)
            if policy == "drop":
                del parent[leaf]
            else:
                parent[leaf] = self._transform(column, policy, parent[leaf])
            self.counts[f"{column}:{policy}"] += 1
        return out


def _copy_path(record: dict[str, Any], path: str) -> dict[str, Any]:
    node = record
    for part in path.split("."):
        node[part] = copy.copy(node[part])
        node = node[part]
    return node
