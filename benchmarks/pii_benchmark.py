"""PII detection: tunesmith's recognizers against Presidio on sentences generated with Faker.

Faker (zh_CN, en_US) fills customer-service, transaction, medical and contract sentences with
personal data at known spans; look-alike numbers (order ids, amounts, timestamps, tracking and
product codes, transaction ids) are planted as hard negatives. Precision and recall are counted
per type at span level (a finding of the right type that overlaps a planted value is a hit), and
throughput in MB/s. Presidio runs its pattern recognizers with a blank spaCy pipeline (no NER
model can be downloaded here) on the English part, in the same process.

    python benchmarks/pii_benchmark.py --sentences 2000
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from faker import Faker

from tunesmith.data.pii.recognizers import find_pii, luhn

STRUCTURED = ("ID_CARD", "PHONE", "EMAIL", "BANK_CARD", "IP_ADDRESS")


@dataclass
class Sample:
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)


def _unionpay(rng: random.Random) -> str:
    body = "62" + "".join(str(rng.randrange(10)) for _ in range(13))
    check = next(d for d in "0123456789" if luhn(body + d))
    number = body + check
    return " ".join(number[i : i + 4] for i in range(0, 16, 4)) if rng.random() < 0.5 else number


def _zh_phone(fake: Faker, rng: random.Random) -> str:
    mobile = fake.phone_number()
    style = rng.randrange(5)
    if style == 0:
        return f"+86 {mobile}"
    if style == 1:
        return f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
    if style == 2:
        return f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    if style == 3:
        return (
            f"0{rng.choice(['10', '21', '755', '571'])}-{rng.randrange(2, 10)}{rng.randrange(10**6, 10**7)}"
        )
    return mobile


def _zh_address(fake: Faker, rng: random.Random) -> str:
    unit = (
        f"{rng.randrange(1, 30)}栋{rng.randrange(1, 6)}单元{rng.randrange(101, 2999)}室"
        if rng.random() < 0.5
        else ""
    )
    street = f"{fake.street_name()}{rng.randrange(1, 999)}号"
    return f"{fake.province()}{fake.city()}{fake.district()}区{street}{unit}"


def value_makers(locale: str, rng: random.Random) -> dict[str, Callable[[], str]]:
    fake = Faker(locale)
    fake.seed_instance(rng.randrange(10**9))
    if locale == "zh_CN":
        return {
            "PERSON": fake.name,
            "PHONE": lambda: _zh_phone(fake, rng),
            "EMAIL": fake.email,
            "ID_CARD": fake.ssn,
            "BANK_CARD": lambda: _unionpay(rng) if rng.random() < 0.5 else fake.credit_card_number(),
            "IP_ADDRESS": lambda: fake.ipv4() if rng.random() < 0.7 else fake.ipv6(),
            "ADDRESS": lambda: _zh_address(fake, rng),
            "LICENSE_PLATE": fake.license_plate,
            "DATE_OF_BIRTH": lambda: fake.date_of_birth().strftime(rng.choice(["%Y-%m-%d", "%Y年%m月%d日"])),
        }
    return {
        "PERSON": fake.name,
        "PHONE": fake.phone_number,
        "EMAIL": fake.email,
        "BANK_CARD": fake.credit_card_number,
        "IP_ADDRESS": lambda: fake.ipv4() if rng.random() < 0.7 else fake.ipv6(),
        "ADDRESS": fake.street_address,
        "DATE_OF_BIRTH": lambda: fake.date_of_birth().strftime(rng.choice(["%Y-%m-%d", "%m/%d/%Y"])),
    }


TEMPLATES = {
    "zh_CN": [
        "您好，我是{PERSON}，手机{PHONE}，订单号{ORDER}一直没有发货。",
        "客户{PERSON}来电（{PHONE}）反映退款{AMOUNT}元还没到账，交易时间{TIMESTAMP}。",
        "请把发票寄到{ADDRESS}，收件人{PERSON}，电话{PHONE}。",
        "身份证{ID_CARD}实名认证失败，绑定的银行卡{BANK_CARD}被冻结。",
        "患者{PERSON}，出生日期{DATE_OF_BIRTH}，主诉头痛三天，联系电话{PHONE}。",
        "甲方：{PERSON}，身份证号码{ID_CARD}，住所{ADDRESS}。",
        "登录异常，IP地址{IP_ADDRESS}，绑定邮箱{EMAIL}，快递单号{TRACKING}。",
        "车牌{LICENSE_PLATE}的车主{PERSON}申请理赔，保单号{ORDER}，金额{AMOUNT}元。",
        "商品编码{SKU}，订单{ORDER}，支付流水号{TXN}，金额{AMOUNT}。",
        "系统版本{VERSION}，时间戳{TIMESTAMP}，工单编号{ORDER}。",
        "{PERSON}反映快递一直没到，订单{ORDER}。",  # a name with no cue word: rules alone miss it
    ],
    "en_US": [
        "Hi, this is {PERSON}, call me at {PHONE} about order {ORDER}.",
        "Customer {PERSON} ({EMAIL}) says the refund of ${AMOUNT} is missing, ref {TXN}.",
        "Please ship the replacement to {ADDRESS}, phone {PHONE}.",
        "Card {BANK_CARD} was declined twice; transaction id {TXN} at {TIMESTAMP}.",
        "Patient {PERSON}, DOB {DATE_OF_BIRTH}, reports chest pain; contact {PHONE}.",
        "The tenant {PERSON} of {ADDRESS} signs this lease; email {EMAIL}.",
        "Suspicious login from {IP_ADDRESS} for account {EMAIL}, tracking {TRACKING}.",
        "Invoice {ORDER} for SKU {SKU}: amount ${AMOUNT}, build {VERSION}.",
        "Order {ORDER} shipped, tracking number {TRACKING}, at {TIMESTAMP}.",
        "{PERSON} wrote that order {ORDER} never arrived.",  # a name with no cue word
    ],
}


def negative_makers(rng: random.Random) -> dict[str, Callable[[], str]]:
    return {
        "ORDER": lambda: str(rng.randrange(10**11, 10**16)),
        "AMOUNT": lambda: f"{rng.randrange(1, 99999):,}.{rng.randrange(100):02d}",
        "TIMESTAMP": lambda: str(rng.randrange(1_600_000_000_000, 1_800_000_000_000)),
        "TRACKING": lambda: f"SF{rng.randrange(10**12, 10**13)}",
        "SKU": lambda: f"SKU-{rng.randrange(10000, 99999)}-{rng.choice(['XL', 'M', 'S'])}",
        "TXN": lambda: str(rng.randrange(10**15, 10**16)),
        "VERSION": lambda: (
            f"{rng.randrange(1, 12)}.{rng.randrange(10)}.{rng.randrange(10)}.{rng.randrange(100)}"
        ),
    }


def generate(locale: str, count: int, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    values, negatives = value_makers(locale, rng), negative_makers(rng)
    samples = []
    for _ in range(count):
        template = rng.choice(TEMPLATES[locale])
        sample, pos = Sample(""), 0
        parts = []
        for chunk in template.replace("}", "{").split("{"):
            if chunk in values:
                value = values[chunk]()
                sample.spans.append((pos, pos + len(value), chunk))
            elif chunk in negatives:
                value = negatives[chunk]()
            else:
                value = chunk
            parts.append(value)
            pos += len(value)
        sample.text = "".join(parts)
        samples.append(sample)
    return samples


def score(
    samples: list[Sample], predict: Callable[[str], list[tuple[int, int, str]]], types: tuple[str, ...]
) -> tuple[dict[str, tuple[float, float, int]], float]:
    """Per type (precision, recall, support), and MB/s."""
    tp, fp, fn = Counter(), Counter(), Counter()
    megabytes = sum(len(s.text.encode()) for s in samples) / 1e6
    started = time.perf_counter()
    predictions = [predict(s.text) for s in samples]
    seconds = time.perf_counter() - started
    for sample, found in zip(samples, predictions, strict=True):
        found = [f for f in found if f[2] in types]
        for start, end, kind in sample.spans:
            if kind not in types:
                continue
            if any(k == kind and s < end and start < e for s, e, k in found):
                tp[kind] += 1
            else:
                fn[kind] += 1
        for s, e, kind in found:
            if not any(k == kind and s < end and start < e for start, end, k in sample.spans):
                fp[kind] += 1
    result = {}
    for kind in types:
        support = tp[kind] + fn[kind]
        if support == 0 and fp[kind] == 0:
            continue
        precision = tp[kind] / (tp[kind] + fp[kind]) if tp[kind] + fp[kind] else 0.0
        recall = tp[kind] / support if support else 0.0
        result[kind] = (precision, recall, support)
    return result, megabytes / seconds


def tunesmith_predict(text: str) -> list[tuple[int, int, str]]:
    return [(f.start, f.end, f.type) for f in find_pii(text)]


_PRESIDIO_TYPES = {
    "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "CREDIT_CARD": "BANK_CARD",
    "IP_ADDRESS": "IP_ADDRESS",
    "PERSON": "PERSON",
    "LOCATION": "ADDRESS",
    "DATE_TIME": "DATE_OF_BIRTH",
}


def presidio_predictor() -> Callable[[str], list[tuple[int, int, str]]] | None:
    try:
        import spacy
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError:
        return None
    import tldextract.tldextract

    # Presidio's email check asks tldextract, which fetches the public suffix list from the
    # internet before falling back to its bundled copy: use the bundled copy from the start.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
    folder = tempfile.mkdtemp(prefix="blank-en-")
    spacy.blank("en").to_disk(folder)
    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": folder}]}
    analyzer = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=config).create_engine())
    entities = list(_PRESIDIO_TYPES)

    def predict(text: str) -> list[tuple[int, int, str]]:
        return [
            (r.start, r.end, _PRESIDIO_TYPES[r.entity_type])
            for r in analyzer.analyze(text, "en", entities)
            if r.score >= 0.4
        ]

    return predict


def _print(title: str, result: dict[str, tuple[float, float, int]], speed: float) -> None:
    print(f"\n{title}: {speed:.2f} MB/s")
    print(f"  {'type':15s} {'precision':>9s} {'recall':>7s} {'support':>8s}")
    for kind, (precision, recall, support) in result.items():
        print(f"  {kind:15s} {precision:9.4f} {recall:7.4f} {support:8d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sentences", type=int, default=2000, help="sentences per language")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    find_pii("客户王小明 13812345678")  # load jieba's dictionary before timing
    zh, en = generate("zh_CN", args.sentences, args.seed), generate("en_US", args.sentences, args.seed + 1)
    all_types = (
        "ID_CARD",
        "PHONE",
        "EMAIL",
        "BANK_CARD",
        "IP_ADDRESS",
        "PERSON",
        "ADDRESS",
        "LICENSE_PLATE",
        "DATE_OF_BIRTH",
    )
    result, speed = score(zh, tunesmith_predict, all_types)
    _print("tunesmith, Chinese sentences", result, speed)
    ours, our_speed = score(en, tunesmith_predict, all_types)
    _print("tunesmith, English sentences", ours, our_speed)
    presidio = presidio_predictor()
    if presidio is None:
        print("\nPresidio is not installed (pip install presidio-analyzer): no comparison")
        return
    theirs, their_speed = score(en, presidio, all_types)
    _print("Presidio (pattern recognizers, blank spaCy), English sentences", theirs, their_speed)
    print(
        f"\nthroughput on the English part: tunesmith {our_speed:.2f} MB/s, Presidio {their_speed:.3f} MB/s, "
        f"ratio {our_speed / their_speed:.1f}x"
    )
    for name, table in (("tunesmith zh", result), ("tunesmith en", ours)):
        weak = [k for k in STRUCTURED if k in table and (table[k][0] < 0.98 or table[k][1] < 0.99)]
        print(f"{name}: structured types below the goal (precision 0.98, recall 0.99): {weak or 'none'}")


if __name__ == "__main__":
    main()
