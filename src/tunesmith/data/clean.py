"""Text cleaning, each step switchable in the recipe (`prepare.clean`).

Chinese text and punctuation survive every step: nothing here deletes characters by a
whitelist. Punctuation that Chinese writing uses (，！？；：（）～…) is kept as it is;
full-width letters, digits and the ideographic space become their ASCII forms.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

_KEEP_FULLWIDTH = frozenset("，！？；：（）～…")
_FULLWIDTH_ALNUM = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH_ALNUM[0x3000] = 0x20  # ideographic space
for _ch in _KEEP_FULLWIDTH:
    _FULLWIDTH_ALNUM.pop(ord(_ch), None)
_FULLWIDTH_HINT = re.compile("[" + "".join(map(chr, sorted(_FULLWIDTH_ALNUM))) + "]")
_NFKC_RUN = re.compile("[^" + "".join(sorted(_KEEP_FULLWIDTH)) + "]+")
_KEPT = re.compile("[" + "".join(sorted(_KEEP_FULLWIDTH)) + "]")
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _ZERO_WIDTH + "\u202a-\u202e\u2066-\u2069]")
_TAG_HINT = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?>|&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")
_BLOCK_TAGS = frozenset(
    {
        "br",
        "p",
        "div",
        "li",
        "tr",
        "td",
        "th",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "ul",
        "ol",
        "section",
        "article",
        "blockquote",
    }
)


class _TextOnly(HTMLParser):
    """Collect the text of an HTML fragment; block tags become spaces; script/style dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def strip_html(text: str) -> str:
    """Strip tags and unescape entities, but only from text that holds markup."""
    if not _TAG_HINT.search(text):
        return text
    parser = _TextOnly()
    parser.feed(text)
    parser.close()
    return html.unescape("".join(parser.parts))


def nfkc(text: str) -> str:
    """NFKC everywhere except the full-width punctuation Chinese writing uses."""
    if unicodedata.is_normalized("NFKC", _KEPT.sub(" ", text)):  # the common case: one quick check
        return text  # (a space is a boundary NFKC never composes across, as the kept marks are)
    return _NFKC_RUN.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)


def fullwidth_to_halfwidth(text: str) -> str:
    if not _FULLWIDTH_HINT.search(text):  # most texts have none: a scan is 10x cheaper than translate
        return text
    return text.translate(_FULLWIDTH_ALNUM)


def remove_control(text: str) -> str:
    """Drop control, zero-width and bidi-override characters; tabs and newlines stay."""
    return _CONTROL.sub("", text)


def collapse_whitespace(text: str) -> str:
    return " ".join(text.split())  # str.split and the regex \s agree on what whitespace is


def traditional_to_simplified(text: str) -> str:
    try:
        import zhconv
    except ImportError:
        raise RuntimeError(
            "prepare.clean.traditional_to_simplified needs the zhconv package: pip install 'tunesmith[zh]'"
        ) from None
    return str(zhconv.convert(text, "zh-cn"))


# The order steps run in; each name is a switch in the recipe's prepare.clean section.
STEPS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("strip_html", strip_html),
    ("remove_control", remove_control),
    ("nfkc", nfkc),
    ("fullwidth_to_halfwidth", fullwidth_to_halfwidth),
    ("traditional_to_simplified", traditional_to_simplified),
    ("collapse_whitespace", collapse_whitespace),
)


def build_cleaner(options: Any) -> Callable[[str], str]:
    """Compose the enabled steps, in STEPS order, into one function."""
    steps = [step for name, step in STEPS if getattr(options, name)]

    def clean(text: str) -> str:
        for step in steps:
            text = step(text)
        return text.strip()

    return clean
