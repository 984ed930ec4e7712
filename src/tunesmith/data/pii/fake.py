"""Realistic fake values (Faker, zh_CN and en_US) in place of personal data.

The same original value always gets the same fake value within a dataset: Faker is seeded with
an HMAC of the value, keyed by the pseudonym key when one is set (then stable across runs too),
else by a random key made for this run (a fake value can then not be traced back by hashing
guesses, e.g. all 10^8 phone numbers of one prefix).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from functools import cache
from typing import Any

_CJK = re.compile(r"[\u4e00-\u9fff]")


@cache
def _faker(locale: str) -> Any:
    from faker import Faker

    return Faker(locale)


def _generators(locale: str) -> dict[str, Any]:
    fake = _faker(locale)
    zh = locale == "zh_CN"
    return {
        "PERSON": fake.name,
        "FIRST_NAME": fake.first_name,
        "LAST_NAME": fake.last_name,
        "ADDRESS": (lambda: fake.address().split(" ")[0]) if zh else fake.street_address,
        "PHONE": fake.phone_number,
        "EMAIL": fake.email,
        "ID_CARD": fake.ssn,
        "BANK_CARD": fake.credit_card_number,
        "IP_ADDRESS": fake.ipv4,
        "URL_CREDENTIALS": fake.url,
        "PASSPORT": fake.passport_number,
        "LICENSE_PLATE": fake.license_plate,
        "DATE_OF_BIRTH": lambda: fake.date_of_birth().isoformat(),
    }


_CN_PHONE = re.compile(r"^(?:\+?86)?(?:1[3-9]\d{9}|0\d{9,11})$")


def _is_chinese(kind: str, original: str, context: str) -> bool:
    if kind in ("ID_CARD", "LICENSE_PLATE"):
        return True  # mainland formats by definition
    if kind == "PHONE":
        return bool(_CN_PHONE.match(re.sub(r"[\s()-]", "", original)))
    return bool(_CJK.search(original) or _CJK.search(context))


class FakeValues:
    """Stable fake replacements: `value(kind, original)`."""

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key if key is not None else os.urandom(32)

    def value(self, kind: str, original: str, context: str = "") -> str:
        locale = "zh_CN" if _is_chinese(kind, original, context) else "en_US"
        generate = _generators(locale).get(kind)
        if generate is None:
            return f"[{kind}]"
        seed = hmac.new(self.key, f"{kind}:{original}".encode(), hashlib.sha256).digest()
        _faker(locale).seed_instance(int.from_bytes(seed[:8], "big"))
        for _ in range(8):  # common names collide: a fake must not be the original by chance
            value = str(generate())
            if value.strip().lower() != original.strip().lower():
                break
        return value
