"""Pattern recognizers for personal data in Chinese and English text, with validation.

Written by hand because Presidio ships no recognizers for China (ID cards, +86 phones, plates)
and runs a spaCy pipeline per text; these are compiled regexes plus checksums and context words,
so look-alike numbers (order ids, amounts, timestamps) are not flagged.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable, Iterator
from functools import cache

from tunesmith.data.pii import names
from tunesmith.data.pii.finding import Finding

CONTEXT_WINDOW = 16


def _context(text: str, start: int, end: int) -> str:
    return text[max(0, start - CONTEXT_WINDOW) : end + CONTEXT_WINDOW].lower()


def _has(words: tuple[str, ...], context: str) -> bool:
    return any(word in context for word in words)


_NEGATIVE_CONTEXT = (
    "订单",
    "单号",
    "流水",
    "交易号",
    "编号",
    "order",
    "invoice",
    "tracking",
    "sku",
    "ref",
    "金额",
    "amount",
    "时间戳",
    "timestamp",
    "快递单",
    "transaction",
    "txn",
)

# --- where numbers are: the number recognizers scan only these windows, not the whole text ----
# Each number pattern's digits and separators lie in one run of them. A run shorter than the
# pattern cannot hold it; in a run of digits only, the pattern's boundaries (no digit or letter
# before or after) make it span the whole run, so the run's length must be one it has (none, for a
# pattern that always holds a separator). A window keeps, as bits, the patterns its runs can hold.
_PATTERN_RUNS = {  # pattern: (its shortest run, the lengths a digits-only run holding it can have)
    "ID_CARD": (17, (17, 18)),  # 17 digits and a check digit (or an X, just after the run)
    "MOBILE": (11, (11, 13, 15)),  # 1[3-9] and 9 digits, after 86 or 0086
    "LANDLINE": (10, ()),
    "US_PHONE": (10, ()),
    "US_BARE": (10, (10,)),
    "BANK_CARD": (12, tuple(range(12, 20))),
    "IPV4": (7, ()),
}
_BIT = {name: 1 << i for i, name in enumerate(_PATTERN_RUNS)}
_LONGEST = 32  # runs are compared up to this length; longer ones hold what a 32-long one holds
_DIGITS_ONLY_BITS = [
    sum(_BIT[n] for n, (_, lengths) in _PATTERN_RUNS.items() if size in lengths)
    for size in range(_LONGEST + 1)
]
_SEPARATED_BITS = [
    sum(_BIT[n] for n, (shortest, _) in _PATTERN_RUNS.items() if size >= shortest)
    for size in range(_LONGEST + 1)
]
Windows = list[tuple[int, int, int]]  # (start, end, the bits of the patterns its runs can hold)
_NUMBER_RUN = re.compile(r"\d[\d\s().+\-/]{5,}\d")
_WINDOW_MARGIN = 4  # room for a leading "+", "(" or "00", a trailing extension (x204), the checks around


def number_windows(text: str) -> Windows:
    """Spans around runs of 7+ digit-like characters (phones, cards, IDs, IPv4), merged."""
    windows: Windows = []
    for m in _NUMBER_RUN.finditer(text):
        start, end = max(0, m.start() - _WINDOW_MARGIN), min(len(text), m.end() + _WINDOW_MARGIN * 2)
        run = m.group()
        bits = (_DIGITS_ONLY_BITS if run.isdigit() else _SEPARATED_BITS)[min(len(run), _LONGEST)]
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end, windows[-1][2] | bits)
        else:
            windows.append((start, end, bits))
    return windows


def _scan(pattern: re.Pattern[str], text: str, windows: Windows, bit: int) -> Iterator[re.Match[str]]:
    """Matches inside the windows whose runs can hold the pattern (`bit`): a 12-digit order
    number is not scanned for an ID card, a mobile or a number with separators."""
    for start, end, bits in windows:
        if bits & bit:
            yield from pattern.finditer(text, start, end)


# --- mainland ID card: 18 characters, region, valid birth date, ISO 7064 checksum -------------
_ID = re.compile(r"(?<![0-9A-Za-z])[1-8]\d{5}(?:18|19|20)\d{2}[01]\d[0-3]\d\d{3}[0-9Xx](?![0-9A-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def valid_id_card(value: str) -> bool:
    body, check = value[:17], value[17].upper()
    if _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11] != check:
        return False
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= born <= dt.date.today()


def find_id_cards(text: str, lower: str, windows: Windows) -> Iterator[Finding]:
    for m in _scan(_ID, text, windows, _BIT["ID_CARD"]):
        if valid_id_card(m.group()):
            yield Finding("ID_CARD", m.start(), m.end(), m.group(), 1.0)


# --- phones -------------------------------------------------------------------------------
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z+.])(?:(?:\+|00)?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?![0-9A-Za-z]|\.\d)"
)
_LANDLINE = re.compile(
    r"(?<![0-9A-Za-z+])(?:(?:\+|00)?86[-\s]?)?(?:\(0?\d{2,3}\)\s?|0\d{2,3}[-\s])[2-9]\d{6,7}(?![0-9A-Za-z-])"
)
_US_PHONE = re.compile(
    r"(?<![0-9A-Za-z+])(?:(?:\+?1|001)[-\s.]?)?(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[-\s.])\d{3}[-\s.]\d{4}"
    r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?(?![0-9A-Za-z])"
)
# Ten bare digits: a North American number only next to a phone word (else order ids would match).
_US_BARE = re.compile(r"(?<![0-9A-Za-z+.])[2-9]\d{2}[2-9]\d{6}(?![0-9A-Za-z]|\.\d)")
_PHONE_CONTEXT = (
    "电话",
    "手机",
    "联系",
    "致电",
    "tel",
    "phone",
    "mobile",
    "call",
    "热线",
    "contact",
    "cell",
    "fax",
)


_PHONE_PATTERNS = (
    (_MOBILE, _BIT["MOBILE"]),
    (_LANDLINE, _BIT["LANDLINE"]),
    (_US_PHONE, _BIT["US_PHONE"]),
    (_US_BARE, _BIT["US_BARE"]),
)


def find_phones(text: str, lower: str, windows: Windows) -> Iterator[Finding]:
    for pattern, bit in _PHONE_PATTERNS:
        for m in _scan(pattern, text, windows, bit):
            context = _context(text, m.start(), m.end())
            digits = re.sub(r"\D", "", m.group())
            separated = digits != m.group().lstrip("+")
            if _has(_NEGATIVE_CONTEXT, context) and not _has(_PHONE_CONTEXT, context):
                continue
            if pattern is _MOBILE and not separated and len(digits) == 11:
                score = 0.9  # a bare 11-digit 1[3-9] number: most likely a mobile
            elif pattern is _US_BARE:
                score = 0.9 if _has(_PHONE_CONTEXT, context) else 0.5
            else:
                score = 1.0 if separated or _has(_PHONE_CONTEXT, context) else 0.7
            yield Finding("PHONE", m.start(), m.end(), m.group(), score)


# --- email, IP, URLs with credentials ------------------------------------------------------
# ASCII-only boundaries: Chinese text may touch an address directly (邮箱a@b.com，).
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,24}(?![A-Za-z0-9-])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])")
_URL_CREDENTIALS = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@[^\s\"'<>]+")
_VERSION_CONTEXT = ("version", "版本", "v.", "ver")


def find_emails(text: str, lower: str, windows: Windows) -> Iterator[Finding]:
    if "@" not in text:
        return
    for m in _EMAIL.finditer(text):
        yield Finding("EMAIL", m.start(), m.end(), m.group(), 1.0)


def find_ips(text: str, lower: str, windows: Windows) -> Iterator[Finding]:
    for m in _scan(_IPV4, text, windows, _BIT["IPV4"]) if "." in text else ():
        if any(int(part) > 255 for part in m.group().split(".")):
            continue
        if _has(_VERSION_CONTEXT, _context(text, m.start(), m.end())):
            continue
        yield Finding("IP_ADDRESS", m.start(), m.end(), m.group(), 1.0)
    if text.count(":") < 2:
        return
    for m in _IPV6.finditer(text):
        candidate = m.group()
        if candidate.count(":") < 2 or len(candidate.replace(":", "")) < 4:
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield Finding("IP_ADDRESS", m.start(), m.end(), candidate, 1.0)


def find_url_credentials(text: str, lower: str, windows: Windows) -> Iterator[Finding]:
    if "://" not in text:
        return
    for m in _URL_CREDENTIALS.finditer(text):
        yield Finding("URL_CREDENTIALS", m.start(), m.end(), m.group(), 1.0)


# --- bank cards: 13-19 digits, Luhn, a plausible issuer prefix ----------------------------
_CARD = re.compile(r"(?<![0-9A-Za-z.-])(?:\d[ -]?){11,18}\d(?![0-9A-Za-z-]|\.\d)")
_CARD_CONTEXT = ("卡", "card", "账号", "账户", "account", "银行", "bank", "visa", "master", "银联")


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_prefix(digits: str) -> bool:
    """An issuer prefix: Amex/Diners/JCB 3, Visa 4, Mastercard 5 and 2221-2720, Discover/UnionPay/
    Maestro 6, Maestro 50 and 0604, legacy JCB 1800/2131."""
    if digits[0] in "3456":
        return True
    return 2221 <= int(digits[:4]) <= 2720 or digits[:4] in ("1800", "2131", "0604")


def find_bank_cards(text: str, lower: str, windows: Windows) -> Iterator[Finding]:
    for m in _scan(_CARD, text, windows, _BIT["BANK_CARD"]):
        digits = re.sub(r"\D", "", m.group())
        if not 12 <= len(digits) <= 19 or not _card_prefix(digits) or not luhn(digits):
            continue
        context = _context(text, m.start(), m.end())
        card_word = _has(_CARD_CONTEXT, context)
        if _has(_NEGATIVE_CONTEXT, context) and not card_word:
            continue
        if re.fullmatch(r"1[3-9]\d{9}", digits) or (len(digits) == 12 and not card_word):
            continue  # a mobile number; 12 digits (Maestro) only next to a card word
        separated = digits != m.group()
        score = 1.0 if separated or card_word else 0.8
        yield Finding("BANK_CARD", m.start(), m.end(), m.group(), score)


# --- passports and licence plates (need their shape; passports also need context) ----------
_PASSPORT = re.compile(r"(?<![A-Za-z0-9])(?:[EGDSP]\d{8}|E[A-HJ-NP-Z]\d{7}|[A-Z]\d{8})(?![A-Za-z0-9])")
_PASSPORT_CONTEXT = ("护照", "passport", "证件")
_PASSPORT_GATE = names.gate(_PASSPORT_CONTEXT)
_PLATE = re.compile(
    "[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
    r"[A-HJ-NP-Z][·\s-]?[A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳]?(?![A-Za-z0-9])"
)


def find_passports(text: str, lower: str, windows: Windows) -> Iterator[Finding]:
    if not _PASSPORT_GATE.search(lower):
        return
    for m in _PASSPORT.finditer(text):
        if _has(_PASSPORT_CONTEXT, _context(text, m.start(), m.end())):
            yield Finding("PASSPORT", m.start(), m.end(), m.group(), 1.0)


def find_plates(text: str, lower: str, windows: Windows) -> Iterator[Finding]:
    for m in _PLATE.finditer(text):
        tail = re.sub(r"[·\s-]", "", m.group())[2:]
        if len(tail) >= 5 and any(c.isdigit() for c in tail):
            yield Finding("LICENSE_PLATE", m.start(), m.end(), m.group(), 1.0)


# --- dates of birth: a date next to a birth word -------------------------------------------
_DATE = re.compile(
    r"(?<!\d)(?:(?:19|20)\d{2}[-/.年]\s?[01]?\d[-/.月]\s?[0-3]?\d日?|[01]?\d/[0-3]?\d/(?:19|20)?\d{2})(?!\d)"
)
_BIRTH_CONTEXT = ("出生", "生日", "出生日期", "birth", "dob", "born", "d.o.b")
_BIRTH_GATE = names.gate(_BIRTH_CONTEXT)


def find_birth_dates(text: str, lower: str, windows: Windows) -> Iterator[Finding]:
    if not _BIRTH_GATE.search(lower):
        return
    for m in _DATE.finditer(text):
        if _has(_BIRTH_CONTEXT, _context(text, m.start(), m.end())):
            yield Finding("DATE_OF_BIRTH", m.start(), m.end(), m.group(), 1.0)


# Each recognizer reads the text, the text lowercased (computed once for all) and the number windows.
RECOGNIZERS: dict[str, Callable[[str, str, Windows], Iterator[Finding]]] = {
    "ID_CARD": find_id_cards,
    "PHONE": find_phones,
    "EMAIL": find_emails,
    "BANK_CARD": find_bank_cards,
    "IP_ADDRESS": find_ips,
    "URL_CREDENTIALS": find_url_credentials,
    "PASSPORT": find_passports,
    "LICENSE_PLATE": find_plates,
    "DATE_OF_BIRTH": find_birth_dates,
}
# PERSON and ADDRESS are found by words, not digits: they run on every text (names.py).
PII_TYPES = (*RECOGNIZERS, "PERSON", "ADDRESS")
# A run of digits long enough to matter; texts without one skip the number recognizers.
_HAS_SIGNAL = re.compile(
    r"\d{4}|\d\.\d{1,3}\.\d|\d/\d{1,2}/\d\d|@|://|::|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:|[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z]"
)


@cache
def _recognizers(types: tuple[str, ...]) -> tuple[Callable[[str, str, Windows], Iterator[Finding]], ...]:
    return tuple(RECOGNIZERS[t] for t in types if t in RECOGNIZERS)


def find_pii(
    text: str, types: tuple[str, ...] = PII_TYPES, threshold: float = 0.75, thorough: bool = False
) -> list[Finding]:
    """All findings above `threshold`, overlaps resolved (longest span, then highest score).

    `thorough` also tags every Chinese sentence with jieba to find names that have no cue word.
    """
    found: list[Finding] = []
    lower = text.lower()
    if _HAS_SIGNAL.search(text):
        windows = number_windows(text)
        found = [
            f for find in _recognizers(types) for f in find(text, lower, windows) if f.score >= threshold
        ]
    if "PERSON" in types:
        found += [f for f in names.find_zh_names(text, thorough) if f.score >= threshold]
        found += [f for f in names.find_en_names(text, lower) if f.score >= threshold]
    if "ADDRESS" in types:
        found += [f for f in names.find_addresses(text) if f.score >= threshold]
    return resolve_overlaps(found)


def resolve_overlaps(found: list[Finding]) -> list[Finding]:
    """Sorted, non-overlapping findings: where two overlap, the longer span (then higher score) wins."""
    found = sorted(found, key=lambda f: (f.start, -(f.end - f.start), -f.score))
    kept: list[Finding] = []
    for finding in found:
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return kept
