"""PII recognizers: real formats found, look-alike numbers left alone; operators."""

import re

import pytest

from tunesmith.data.pii.columns import ColumnPolicies, generalize
from tunesmith.data.pii.fake import FakeValues
from tunesmith.data.pii.operators import apply, partial_mask, pseudonym
from tunesmith.data.pii.recognizers import find_pii, luhn, valid_id_card

POSITIVES = [
    ("身份证号11010519491231002X,请核实", "ID_CARD", "11010519491231002X"),
    ("请致电 138 1234 5678 联系我", "PHONE", "138 1234 5678"),
    ("手机:+86-13912345678", "PHONE", "+86-13912345678"),
    ("我的手机是13912345678", "PHONE", "13912345678"),
    ("座机 (010) 62345678 或 021-58881234", "PHONE", "(010) 62345678"),
    ("call me at (415) 555-0132 tomorrow", "PHONE", "(415) 555-0132"),
    ("邮箱 zhang.wei@example.com.cn 收", "EMAIL", "zhang.wei@example.com.cn"),
    ("卡号 6222 0212 3456 7894 被冻结", "BANK_CARD", "6222 0212 3456 7894"),
    ("my card 4111111111111111 was declined", "BANK_CARD", "4111111111111111"),
    ("登录 IP 192.168.10.23 异常", "IP_ADDRESS", "192.168.10.23"),
    ("from 2001:db8:85a3::8a2e:370:7334 at night", "IP_ADDRESS", "2001:db8:85a3::8a2e:370:7334"),
    (
        "repo https://admin:s3cret@git.example.com/x.git",
        "URL_CREDENTIALS",
        "https://admin:s3cret@git.example.com/x.git",
    ),
    ("护照号码 E12345678 已过期", "PASSPORT", "E12345678"),
    ("车牌粤B·12345 违章", "LICENSE_PLATE", "粤B·12345"),
    ("新能源车牌沪AD12345", "LICENSE_PLATE", "沪AD12345"),
    ("出生日期:1990年3月7日", "DATE_OF_BIRTH", "1990年3月7日"),
    ("DOB 04/12/1985, male", "DATE_OF_BIRTH", "04/12/1985"),
    ("born 1/17/90, card", "DATE_OF_BIRTH", "1/17/90"),
    ("绑定邮箱li.na@example.com，请查收", "EMAIL", "li.na@example.com"),
    ("call (415)555-0132x204 after six", "PHONE", "(415)555-0132x204"),
    ("reach me on 001-415-555-0132", "PHONE", "001-415-555-0132"),
    ("phone 4155550132 please", "PHONE", "4155550132"),
    ("card 2221000000000009 expired", "BANK_CARD", "2221000000000009"),  # Mastercard 2-series
]

LOOK_ALIKES = [
    "订单号 202311291234567890 已发货",  # order id, 18 digits
    "订单号 440304199003071231 已发货",  # 18 chars but the checksum fails
    "交易流水 4111111111111112 失败",  # Luhn fails
    "订单 6222021234567894 金额 120.50 元",  # Luhn-valid 16 digits, but an order number
    "时间戳 1701234567890",  # 13-digit timestamp
    "金额 13812345678.00 元",  # an amount, not a phone
    "版本 version 1.2.3.4 发布",  # version, not an IP
    "产品编码 E12345678 库存 300",  # passport shape without passport context
    "快递单号 SF1234567890123",
    "2023-11-29 10:00 下单, 共 3 件",  # a date without birth context
    "请拨打 95588 客服热线",  # service number
    "退款 1,234,567.89 元",
    "trans_num 2da90c7d14912345454e0a3f",  # digits inside a hex id
    "txn a6222021234567894b settled",
    '{"loss": 1.3821234567897727, "grad_norm": 0.4111111111111111}',  # float digits
    "transaction id 4111111111111111 settled",  # Luhn-valid, but a transaction id
    "order 4155550132 shipped",  # ten digits with no phone word
    "ticket 402938471625 closed",  # twelve digits (Maestro length) with no card word
]


@pytest.mark.parametrize(("text", "kind", "value"), POSITIVES)
def test_recognizes(text: str, kind: str, value: str) -> None:
    found = [(f.type, f.value) for f in find_pii(text)]
    assert (kind, value) in found, found


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alike_numbers_are_not_pii(text: str) -> None:
    assert find_pii(text) == []


def test_validators() -> None:
    assert valid_id_card("11010519491231002X")
    assert not valid_id_card("110105194913310021")  # month 13
    assert luhn("4111111111111111") and not luhn("4111111111111112")


def test_operators() -> None:
    text = "手机13812345678,邮箱 li@example.com"
    found = find_pii(text)
    assert apply(text, found, "mask") == "手机[PHONE],邮箱 [EMAIL]"
    assert apply(text, found, "partial") == "手机138****5678,邮箱 l***@example.com"
    key = b"test-key"
    once = apply(text, found, "pseudonym", key)
    assert "13812345678" not in once and once == apply(text, found, "pseudonym", key)
    assert pseudonym("PHONE", "138 1234 5678", key) == pseudonym("PHONE", "13812345678", key)
    assert pseudonym("PHONE", "13812345678", b"other") != pseudonym("PHONE", "13812345678", key)
    assert partial_mask("6222 0212 3456 7894") == "622* **** **** 7894"


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("我叫王小明，有问题", "PERSON", "王小明"),
        ("请联系张伟经理处理", "PERSON", "张伟"),
        ("收件人：司马相如 已签收", "PERSON", "司马相如"),
        ("患者李秀英，女，45岁", "PERSON", "李秀英"),
        ("Dear Mary, thanks", "PERSON", "Mary"),
        ("Please ask Dr. Alan Turing", "PERSON", "Alan Turing"),
        ("my name is John Smith.", "PERSON", "John Smith"),
        ("家住广东省深圳市南山区科技园南路15号。", "ADDRESS", "广东省深圳市南山区科技园南路15号"),
        ("寄到北京市朝阳区建国路88号3单元502室，谢谢", "ADDRESS", "北京市朝阳区建国路88号3单元502室"),
        (
            "ship to 1234 Maple Avenue Apt. 5, Springfield, IL 62704 now",
            "ADDRESS",
            "1234 Maple Avenue Apt. 5, Springfield, IL 62704",
        ),
    ],
)
def test_recognizes_names_and_addresses(text: str, kind: str, value: str) -> None:
    found = [(f.type, f.value) for f in find_pii(text)]
    assert (kind, value) in found, found


@pytest.mark.parametrize(
    "text",
    [
        "高兴地告诉你，订单已发货",
        "张经理说明天到",  # a surname and a title, no name
        "The Customer Service team will call",
        "I am Very happy with it",
        "订单号123456789号已发货",
        "查看王老师的号码",  # 查 is a surname, 查看 a verb
        "我是周五晚上到的",  # 周五 is a day
        "然后和大堂经理交涉",  # 和 + 大堂 + 经理: a word between surname and title
        "去客户单位都很方便",  # 客户 is a cue, 单位 a word
    ],
)
def test_ordinary_words_are_not_names_or_addresses(text: str) -> None:
    assert [f for f in find_pii(text) if f.type in ("PERSON", "ADDRESS")] == []


def test_thorough_names_finds_a_name_without_a_cue() -> None:
    text = "昨天王小明来过了"
    assert not [f for f in find_pii(text) if f.type == "PERSON"]
    assert [f.value for f in find_pii(text, thorough=True) if f.type == "PERSON"] == ["王小明"]


def test_fake_values_are_realistic_and_stable() -> None:
    fake = FakeValues(b"key")
    name = fake.value("PERSON", "王小明")
    assert name == fake.value("PERSON", "王小明") and name != "王小明"
    assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name)
    assert re.fullmatch(r"[A-Za-z.' -]+", fake.value("PERSON", "John Smith"))
    assert valid_id_card(fake.value("ID_CARD", "11010519491231002X"))
    assert luhn(re.sub(r"\D", "", fake.value("BANK_CARD", "6222021234567894")))
    text = "请联系13912345678"
    replaced = apply(text, find_pii(text), "fake", fake=fake)
    assert "13912345678" not in replaced and re.search(r"\d{3}", replaced)


def test_column_policies() -> None:
    policies = ColumnPolicies(
        {
            "user_id": "pseudonym",
            "city": "generalize",
            "amount": "keep",
            "dob": "generalize",
            "first": "fake",
            "cc_num": "partial",
            "zip": "generalize",
            "street": "drop",
            "meta.phone": "mask",
        },
        key=b"k",
        fake=FakeValues(b"k"),
    )
    record = {
        "user_id": "u-1",
        "city": "Springfield, IL",
        "amount": 12.5,
        "dob": "1988-03-14",
        "first": "Jennifer",
        "cc_num": "4539578763621486",
        "zip": "62704",
        "street": "1 Elm St",
        "age": 37,
        "meta": {"phone": "555-201-3344"},
    }
    out = policies.apply(record)
    assert record["meta"]["phone"] == "555-201-3344" and "street" in record  # input untouched
    assert out["user_id"].startswith("<USER_ID_") and out["user_id"] == policies.apply(record)["user_id"]
    assert out["amount"] == 12.5 and out["age"] == 37
    assert out["city"] == "IL" and out["dob"] == "1988" and out["zip"] == "627**"
    assert out["first"] != "Jennifer" and out["cc_num"] == "453*********1486"
    assert "street" not in out and out["meta"]["phone"] == "[PHONE]"
    assert generalize(37) == "30-39" and generalize("广东省深圳市南山区") == "广东省"
    assert policies.counts["user_id:pseudonym"] == 2


def test_windows_skip_only_patterns_their_runs_cannot_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """The number recognizers skip a window whose runs cannot hold their pattern: on random
    number-shaped texts the findings are those of scanning every window with every pattern."""
    import random

    from tunesmith.data.pii import recognizers

    rng = random.Random(11)
    numbers = ["13912345678", "8613912345678", "008613912345678", "11010519491231002X", "4111111111111111"]
    numbers += ["6222021234567894", "4155550132", "192.168.1.23", "010-62345678", "(415) 555-0132"]
    pieces = [*numbers, " ", "-", ".", "(", ")", "+", "/", "a", "卡号", "电话", "x204", "手机", "7", "12"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 8))) for _ in range(3000)]
    fast = [find_pii(text) for text in texts]
    everything = [-1] * (recognizers._LONGEST + 1)
    monkeypatch.setattr(recognizers, "_DIGITS_ONLY_BITS", everything)
    monkeypatch.setattr(recognizers, "_SEPARATED_BITS", everything)
    assert [find_pii(text) for text in texts] == fast
    assert sum(map(len, fast)) > 1000  # the texts hold many findings to compare
