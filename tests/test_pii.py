"""PII recognizers: real formats found, look-alike numbers left alone; operators."""

import pytest

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
