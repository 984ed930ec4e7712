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


FAQ_ANSWERS = {
    "password": "请在登录页点击忘记密码,按短信验证码重置。",
    "refund": "退款将在三到五个工作日内原路退回。",
    "delivery": "您可以在订单详情里查看物流进度。",
    "card": "请拨打客服电话激活或挂失银行卡。",
}


# the bi-encoder's knowledge base holds a phone number in one answer, for /v1/answer's filter to mask
FAQ_ANSWERS_WITH_PHONE = FAQ_ANSWERS | {"card": "请拨打客服电话 13812345678 激活或挂失银行卡。"}


def matching_records(n: int, seed: int = 0, answers: dict[str, str] = FAQ_ANSWERS) -> list[dict]:
    """FAQ question-answer pairs, each question with its answer (1) and two other answers (0)."""
    from helpers import faq_records

    rng = random.Random(seed)
    pairs = []
    for record in faq_records(n, seed):
        intent = record["intent"]
        pairs.append({"question": record["question"], "answer": answers[intent], "label": 1})
        for other in rng.sample([k for k in answers if k != intent], 2):
            pairs.append({"question": record["question"], "answer": answers[other], "label": 0})
    return pairs


def transaction_rows(n: int, seed: int = 0) -> list[dict]:
    """Card transactions; fraud is a large transfer (a rule both models can find)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        kind = rng.choice(["PAYMENT", "TRANSFER", "CASH_OUT", "DEBIT"])
        hour = rng.randrange(24)
        amount = round(rng.uniform(5, 9000), 2)
        fraud = kind == "TRANSFER" and amount > 4000
        rows.append(
            {
                "step": i,
                "type": kind,
                "amount": amount,
                "hour": hour,
                "merchant": f"m{rng.randrange(8)}",
                "is_fraud": int(fraud),
            }
        )
    return rows


QA_FILLERS = ["本季度业务平稳。", "会议在周一召开。", "相关材料已经归档。", "后续安排另行通知。"]


def qa_records(n: int, seed: int = 0) -> list[dict]:
    """Short contexts about a person (with filler sentences, so long ones span several windows)
    and a question whose answer is a span of the context."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        person, place, org = rng.choice(PEOPLE), rng.choice(PLACES), rng.choice(ORGS)
        facts = [f"{person}住在{place}。", f"{person}的单位是{org}。"]
        rng.shuffle(facts)
        fillers = rng.sample(QA_FILLERS, rng.randrange(4))
        context = "".join(fillers[:1] + facts[:1] + fillers[1:] + facts[1:])
        question, answer = rng.choice([(f"{person}住在哪里?", place), (f"{person}在哪个单位?", org)])
        records.append({"id": f"qa{i}", "question": question, "context": context, "answer": answer})
    return records


EN_ZH = {
    "hello": "你好",
    "thank you": "谢谢",
    "good morning": "早上好",
    "see you tomorrow": "明天见",
    "where is the bank": "银行在哪里",
    "my card is lost": "我的卡丢了",
    "please wait": "请稍等",
    "how much is it": "多少钱",
}


def translation_rows(n: int, seed: int = 0) -> list[dict]:
    """English -> Chinese pairs (a TSV-like shape: en, zh)."""
    rng = random.Random(seed)
    items = sorted(EN_ZH.items())
    return [{"en": en, "zh": zh} for en, zh in (rng.choice(items) for _ in range(n))]


SUPPORT_ANSWERS = {
    "password": "Open settings and choose reset password.",
    "refund": "Refunds arrive in three to five days.",
    "delivery": "Track the parcel on the order page.",
    "card": "Call us to block or activate the card.",
}


def instruction_records(n: int, seed: int = 0) -> list[dict]:
    """Customer questions -> the support answer for their intent (English: SmolLM2's language)."""
    from helpers import INTENTS

    rng = random.Random(seed)
    english = {k: [p for p in v if p.isascii()] for k, v in INTENTS.items()}
    records = []
    for i in range(n):
        intent = sorted(english)[i % len(english)]
        records.append({"instruction": rng.choice(english[intent]), "response": SUPPORT_ANSWERS[intent]})
    return records


CLAUSES = [
    ("We may terminate your account at any time without notice.", ["ter"], "high"),
    ("The provider may close accounts at its sole discretion.", ["ter"], "high"),
    ("We are not liable for any loss or damage arising from use.", ["ltd"], "medium"),
    ("Our liability is limited to the amount you paid.", ["ltd"], "medium"),
    ("We may terminate the service and are not liable for any loss.", ["ter", "ltd"], "high"),
    ("These terms are governed by the laws of Ireland.", ["law"], "low"),
    ("Welcome to our website.", [], "low"),
    ("Please read these terms carefully.", [], "low"),
]


def clause_records(n: int, seed: int = 0) -> list[dict]:
    """Terms-of-service clauses (the CLAUDETTE shape): unfair-category tags and a risk level."""
    rng = random.Random(seed)
    prefixes = ["", "Section 4. ", "Note: ", "In addition, ", "1.2 "]
    records = []
    for i in range(n):
        text, tags, risk = CLAUSES[i % len(CLAUSES)]
        records.append(
            {
                "doc": f"doc{i % 12}",
                "clause": rng.choice(prefixes) + text,
                "unfair_categories": tags,
                "risk_level": risk,
            }
        )
    return records


SIGNS = {
    "bronchitis": ["咳嗽", "咳痰", "喘息", "发热"],
    "diarrhea": ["腹泻", "稀便", "呕吐", "脱水"],
    "indigestion": ["腹胀", "厌食", "呕吐", "口臭"],
    "cold": ["流涕", "鼻塞", "发热", "打喷嚏"],
}
ALL_SIGNS = sorted({s for signs in SIGNS.values() for s in signs})


def visit_records(n: int, seed: int = 0) -> list[dict]:
    """Paediatric visits as MuZhi records them: the symptoms reported (a list) and findings the
    doctor asked about (an item -> true/false map); a diagnosis that follows the signs with noise
    (one visit in five shows signs of another disease), so no single learner is perfect."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        diagnosis = rng.choice(sorted(SIGNS))
        shown = diagnosis if rng.random() > 0.2 else rng.choice(sorted(SIGNS))
        reported = rng.sample(SIGNS[shown], rng.randint(1, 3))
        asked = rng.sample(ALL_SIGNS, 3)
        findings = {sign: sign in SIGNS[shown] and rng.random() > 0.15 for sign in asked}
        records.append(
            {"patient": f"P{i:04d}", "symptoms": reported, "findings": findings, "diagnosis": diagnosis}
        )
    return records
