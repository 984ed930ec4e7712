"""Person names and places swapped for others of the same kind: a model should not change its
answer because a customer is called Wang rather than Smith, or writes from Ohio rather than Texas.

Names are found by the de-identification recognizers (`data/pii/names.py`: cues and titles in
English and Chinese) and, in English, as a capitalised first name followed by a last name from
Faker's en_US lists. Places are the countries and US states of Faker's English address data and the
provinces and cities of its zh_CN data. Replacements come from the same lists, seeded per record.
"""

from __future__ import annotations

import random
import re
from functools import cache

from tunesmith.data.pii.names import find_en_names, find_zh_names


@cache
def _lists() -> dict[str, tuple[str, ...]]:
    from faker.providers.address.en import Provider as EnglishAddress
    from faker.providers.address.en_US import Provider as UsAddress
    from faker.providers.address.zh_CN import Provider as ChineseAddress
    from faker.providers.person.en_US import Provider as EnglishPerson
    from faker.providers.person.zh_CN import Provider as ChinesePerson

    return {
        "en_first": tuple(EnglishPerson.first_names),
        "en_last": tuple(EnglishPerson.last_names),
        "zh_name": tuple(
            f"{s}{g}" for s in list(ChinesePerson.last_names)[:40] for g in ChinesePerson.first_names[:40]
        ),
        "en_place": tuple(EnglishAddress.countries) + tuple(UsAddress.states),
        "zh_place": tuple(ChineseAddress.provinces) + tuple(ChineseAddress.cities),
    }


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    lists = _lists()

    def alternation(words: tuple[str, ...]) -> str:
        return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))

    return {
        "en_full_name": re.compile(
            rf"\b(?:{alternation(lists['en_first'])}) (?:{alternation(lists['en_last'])})\b"
        ),
        "en_place": re.compile(rf"\b(?:{alternation(lists['en_place'])})\b"),
        "zh_place": re.compile(alternation(lists["zh_place"])),
    }


def _spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of names and places, the earliest first, none overlapping."""
    found = [
        (f.start, f.end, "zh_name" if re.search(r"[\u4e00-\u9fff]", f.value) else "en_name")
        for f in find_zh_names(text)
    ]
    found += [(f.start, f.end, "en_name") for f in find_en_names(text)]
    patterns = _patterns()
    found += [(m.start(), m.end(), "en_name") for m in patterns["en_full_name"].finditer(text)]
    found += [(m.start(), m.end(), "en_place") for m in patterns["en_place"].finditer(text)]
    found += [(m.start(), m.end(), "zh_place") for m in patterns["zh_place"].finditer(text)]
    kept: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(found, key=lambda s: (s[0], -s[1])):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end, kind))
    return kept


def _replacement(kind: str, original: str, rng: random.Random) -> str:
    lists = _lists()
    for _ in range(10):  # another value than the one there
        if kind == "en_name":
            value = f"{rng.choice(lists['en_first'])} {rng.choice(lists['en_last'])}"
            if " " not in original:
                value = value.split(" ")[0]
        else:
            value = rng.choice(lists[kind])
        if value != original:
            return value
    return value


def names_places(text: str, rng: random.Random) -> str:
    """Each person name and place in the text replaced by another of the same kind."""
    out, last = [], 0
    for start, end, kind in _spans(text):
        out.append(text[last:start])
        out.append(_replacement(kind, text[start:end], rng))
        last = end
    out.append(text[last:])
    return "".join(out)
