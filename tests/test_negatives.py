"""Negatives for question-answer data: random, same category, BM25; never a near-duplicate."""

import json
from pathlib import Path

import pytest
from cli_helpers import tunesmith

from tunesmith.data.negatives import build_pairs, tokenize

REFUND = "在订单页面点击申请退款，三个工作日内到账"
RECORDS = [
    {"question": "怎么申请退款", "answer": REFUND, "category": "refund"},
    {"question": "退款到账要几天", "answer": REFUND + "哦", "category": "refund"},  # near-dup answer
    {"question": "退款会退到哪里", "answer": "退款原路退回您的支付账户", "category": "refund"},
    {
        "question": "如何修改密码",
        "answer": "在设置页面点击修改密码，输入旧密码和新密码",
        "category": "account",
    },
    {"question": "忘记密码怎么办", "answer": "点击登录页的忘记密码，用手机验证码重置", "category": "account"},
    {"question": "快递到哪了", "answer": "在订单详情里查看物流信息", "category": "delivery"},
    {"question": "可以换货吗", "answer": "签收七天内可以在订单页面申请换货", "category": "delivery"},
]


def test_tokenize_chinese_with_jieba_and_english_by_words() -> None:
    assert tokenize("How do I RESET my password?") == ["how", "do", "i", "reset", "my", "password"]
    assert "退款" in tokenize("怎么申请退款？")


@pytest.mark.parametrize("method", ["random", "category", "bm25"])
def test_negatives_never_repeat_or_nearly_repeat_the_right_answer(method: str) -> None:
    pairs, report = build_pairs(RECORDS, per_question=2, method=method, seed=1)
    positives = {(p["question"], p["answer"]) for p in pairs if p["label"] == 1}
    assert len(positives) == len(RECORDS)
    for pair in pairs:
        if pair["label"] == 0:
            assert pair["kind"] == method
            assert not pair["answer"].startswith(REFUND) or not pair["question"].startswith(
                ("怎么申请", "退款到账")
            )
    if method == "category":
        category = {r["answer"]: r["category"] for r in RECORDS}
        question_category = {r["question"]: r["category"] for r in RECORDS}
        assert all(category[p["answer"]] == question_category[p["question"]] for p in pairs)
    if method == "bm25":
        assert report.skipped_near_duplicates >= 2  # the near-dup refund answers rank first


def test_bm25_picks_the_lexically_closest_wrong_answer() -> None:
    pairs, _ = build_pairs(RECORDS, per_question=1, method="bm25")
    hardest = {p["question"]: p["answer"] for p in pairs if p["label"] == 0}
    assert hardest["忘记密码怎么办"] == "在设置页面点击修改密码，输入旧密码和新密码"
    assert hardest["退款会退到哪里"].startswith(REFUND)


def test_negatives_command(tmp_path: Path) -> None:
    rows = ["q,a,c"] + [f'{r["question"]},"{r["answer"]}",{r["category"]}' for r in RECORDS] + ["没有答案,,x"]
    (tmp_path / "faq.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = tunesmith(
        "negatives",
        "faq.csv",
        "-o",
        "pairs.jsonl",
        "--question",
        "q",
        "--answer",
        "a",
        "--category",
        "c",
        "--method",
        "category",
        "--per-question",
        "1",
        cwd=tmp_path,
    )
    pairs = [json.loads(x) for x in (tmp_path / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sum(p["label"] for p in pairs) == len(RECORDS) and len(pairs) > len(RECORDS)
    assert "rejected 1 records" in result.stderr
    rejected = json.loads((tmp_path / "pairs.rejected.jsonl").read_text(encoding="utf-8"))
    assert rejected["line"] == 9 and rejected["field"] == "a"
