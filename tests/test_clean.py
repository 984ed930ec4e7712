from types import SimpleNamespace

import pytest

from tunesmith.data.clean import build_cleaner, nfkc, strip_html
from tunesmith.recipe import CleanSection


def test_chinese_text_and_punctuation_survive_every_step() -> None:
    clean = build_cleaner(CleanSection())
    text = "你好，世界！这是“测试”吗？《合同》第3条：甲方（买方）、乙方……——完。"
    assert clean(text) == text


def test_each_step() -> None:
    clean = build_cleaner(CleanSection())
    assert clean("ＡＢＣ１２３　ｘｙｚ") == "ABC123 xyz"
    assert clean("密\u200b码\u200d重\ufeff置\x07") == "密码重置"
    assert (
        clean("<p>退款<b>什么时候</b>到账?</p><script>x()</script>&amp; &lt;ok&gt;")
        == "退款什么时候到账? & <ok>"
    )
    assert clean("  a \t\n\n b  ") == "a b"
    assert clean("x < 3 and y > 2") == "x < 3 and y > 2"  # not markup: left alone
    assert nfkc("ﬁ ① ㎏") == "fi 1 kg"


def test_steps_can_be_switched_off() -> None:
    options = CleanSection(
        nfkc=False,
        fullwidth_to_halfwidth=False,
        strip_html=False,
        collapse_whitespace=False,
        remove_control=False,
    )
    clean = build_cleaner(options)
    assert clean("ＡＢ <b>x</b>  y") == "ＡＢ <b>x</b>  y"


def test_block_tags_become_spaces() -> None:
    assert strip_html("line one<br>line two<li>three</li>").split() == ["line", "one", "line", "two", "three"]


def test_traditional_to_simplified() -> None:
    pytest.importorskip("zhconv")
    clean = build_cleaner(
        SimpleNamespace(**{**CleanSection().model_dump(), "traditional_to_simplified": True})
    )
    assert clean("請問訂單何時發貨") == "请问订单何时发货"


def test_every_recipe_switch_has_a_step_in_order() -> None:
    from tunesmith.data.clean import STEPS

    assert [name for name, _ in STEPS] == list(CleanSection.model_fields)
