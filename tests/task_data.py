"""Small, learnable data for each task type, in the record shapes users bring (written for tests)."""

from __future__ import annotations

import random

PEOPLE = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇"]
PLACES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京"]
ORGS = ["新华社", "中国银行", "清华大学", "人民医院", "国家电网", "南方航空"]
NER_TEMPLATES = [
    "{p}/nr 昨天/o 在/o {l}/ns 参加/o 了/o {o}/nt 的/o 会议/o 。/o",
    "{o}/nt 派/o {p}/nr 前往/o {l}/ns 调研/o 。/o",
    "来自/o {l}/ns 的/o {p}/nr 加入/o {o}/nt 。/o",
    "{p}/nr 说/o {l}/ns 的/o 天气/o 很/o 好/o 。/o",
]


def ner_records(n: int, seed: int = 0) -> list[dict]:
    """MSRA-style word/tag lines: person (nr), place (ns), organisation (nt)."""
    rng = random.Random(seed)
    return [
        {
            "id": f"s{i}",
            "tagged": rng.choice(NER_TEMPLATES).format(
                p=rng.choice(PEOPLE), l=rng.choice(PLACES), o=rng.choice(ORGS)
            ),
        }
        for i in range(n)
    ]


def plain_text(tagged: str) -> str:
    return "".join(item.rpartition("/")[0] for item in tagged.split())
