"""Write the small sample data of the scenario examples (seeded: the same files every time).

The records are made up for this project, in the shapes the source scenarios use: an FAQ export,
card transactions as CSV (with fake personal data in columns), nested medical visit records,
terms-of-service clauses, and an English-Chinese TSV. Run from the repository root:

    python examples/write_samples.py
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

FAQ = {
    "账户": [
        (
            [
                "如何重置登录密码?",
                "忘记密码了怎么找回?",
                "登录密码想不起来了怎么办",
                "密码丢了还能登录吗?",
                "我要改一个新的登录密码",
            ],
            "在登录页点击“忘记密码”,用手机验证码即可重置。",
        ),
        (
            [
                "怎么修改绑定的手机号?",
                "换了新号码要怎么改绑?",
                "旧手机号不用了,账号怎么换绑",
                "绑定手机能更换吗?",
                "手机号码变了账户要改哪里",
            ],
            "进入“我的-设置-账户安全”,验证旧手机后更换。",
        ),
        (
            [
                "账户被锁定了怎么办?",
                "输错几次密码就登不上了",
                "提示账号已冻结无法登录",
                "为什么我的账户突然被锁了?",
                "登录说账户暂时锁定是什么意思",
            ],
            "连续输错密码会锁定30分钟,到时自动解锁。",
        ),
    ],
    "退款": [
        (
            [
                "退款多久能到账?",
                "钱什么时候退回来?",
                "退款申请通过了还没收到钱",
                "退的钱几天能回到卡里?",
                "多长时间能收到退款",
            ],
            "退款审核通过后三到五个工作日原路退回。",
        ),
        (
            [
                "怎么申请退货退款?",
                "东西不想要了怎么退?",
                "收到的商品有问题要退货",
                "退货流程是怎样的?",
                "在哪里提交退款申请",
            ],
            "在订单详情点击“申请售后”,选择退货退款。",
        ),
        (
            [
                "退款被拒绝了怎么办?",
                "售后申请没通过还能再申请吗?",
                "商家驳回了我的退款",
                "为什么我的退款审核失败?",
                "退款被驳回要怎么处理",
            ],
            "请查看拒绝原因,补充凭证后可再次申请。",
        ),
    ],
    "物流": [
        (
            [
                "快递什么时候到?",
                "我的包裹到哪里了?",
                "怎么查物流进度",
                "下单好几天了还没送到",
                "预计几号能收到货?",
            ],
            "发货后可在订单详情查看物流进度和预计送达时间。",
        ),
        (
            [
                "包裹显示签收但没收到?",
                "物流说已签收可我没拿到",
                "快递被别人签收了怎么办",
                "显示送达但家里没有包裹",
                "没收到货却显示已经签收",
            ],
            "请先联系快递员核实,24小时未解决可申请客服介入。",
        ),
        (
            [
                "可以修改收货地址吗?",
                "地址填错了能改吗?",
                "下单后想换个收货地方",
                "怎么更改配送地址?",
                "收件地址写错了怎么办",
            ],
            "未发货订单可在订单详情修改地址,已发货请联系快递。",
        ),
    ],
    "支付": [
        (
            [
                "银行卡支付失败怎么办?",
                "付款一直不成功",
                "用储蓄卡付不了钱是什么原因",
                "支付时提示交易失败",
                "为什么刷卡付款被拒?",
            ],
            "请确认卡片余额和限额,或更换其他支付方式。",
        ),
        (
            [
                "信用卡可以分期吗?",
                "买东西能分几期付?",
                "支持分期付款吗?",
                "大额订单怎么分期",
                "可以用信用卡分12期吗",
            ],
            "单笔满600元可选择3到12期分期付款。",
        ),
        (
            [
                "重复扣款了怎么处理?",
                "一笔订单扣了我两次钱",
                "付了一次却被扣款两遍",
                "同一个订单重复收费了",
                "多扣的钱怎么退给我?",
            ],
            "重复扣款会在24小时内自动退回,无需操作。",
        ),
    ],
}
ASK = ["", "请问", "你好,", "麻烦问下,", "客服,"]


def faq(rng: random.Random) -> None:
    """An FAQ export: different wordings of each question with its answer and category (JSONL)."""
    rows = []
    for category, entries in FAQ.items():
        for questions, answer in entries:
            for question in questions:
                asked = rng.choice(ASK) + question
                rows.append(
                    {"id": f"faq-{len(rows)}", "question": asked, "answer": answer, "category": category}
                )
    _jsonl(HERE / "customer_service_faq" / "data" / "faq.jsonl", rows)


def fraud(rng: random.Random) -> None:
    """Card transactions in the Sparkov shape, with fake names, streets, birth dates and cards."""
    first = ["James", "Mary", "Robert", "Linda", "David", "Susan", "Daniel", "Karen"]
    last = ["Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Moore"]
    categories = ["grocery_pos", "gas_transport", "shopping_net", "misc_net", "food_dining", "travel"]
    path = HERE / "fraud_csv" / "data" / "transactions.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = ["trans_date_trans_time", "cc_num", "merchant", "category", "amt", "first", "last", "street",
              "city", "state", "dob", "trans_num", "unix_time", "is_fraud"]  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for i in range(400):
            hour = rng.randrange(24)
            category = rng.choice(categories)
            amount = round(rng.lognormvariate(3.5, 1.1), 2)
            at_night = hour < 4 or hour > 21
            fraud_row = (category.endswith("_net") and amount > 200 and at_night) or rng.random() < 0.01
            if fraud_row:
                amount = round(amount * 3, 2)
            writer.writerow(
                {
                    "trans_date_trans_time": f"2024-03-{1 + i // 20:02d} {hour:02d}:{rng.randrange(60):02d}",
                    "cc_num": str(rng.choice([4, 5]) * 10**15 + rng.randrange(10**15)),
                    "merchant": f"fraud_{rng.choice(['Kirlin', 'Sporer', 'Swaniawski', 'Haley', 'Lind'])}",
                    "category": category,
                    "amt": amount,
                    "first": rng.choice(first),
                    "last": rng.choice(last),
                    "street": f"{rng.randrange(100, 9999)} {rng.choice(['Oak', 'Pine', 'Maple'])} Street",
                    "city": rng.choice(["Columbus", "Dallas", "Denver"]),
                    "state": rng.choice(["OH", "TX", "CO"]),
                    "dob": f"19{rng.randrange(50, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(9)}",
                    "trans_num": f"{rng.getrandbits(64):016x}",
                    "unix_time": 1709251200 + i * 3600,
                    "is_fraud": int(fraud_row),
                }
            )


def medical(rng: random.Random) -> None:
    """Nested visit records: patient, symptoms list, free-text notes (with names and phones)."""
    diseases = {
        "influenza": ["fever", "dry cough", "muscle aches", "fatigue", "sore throat", "chills", "headache"],
        "migraine": ["throbbing headache", "nausea", "sensitivity to light", "blurred vision", "dizziness"],
        "gastroenteritis": ["diarrhea", "vomiting", "stomach cramps", "nausea", "loss of appetite", "fever"],
        "allergy": ["sneezing", "itchy eyes", "runny nose", "skin rash", "watery eyes", "congestion"],
    }
    names = ["Mr. John Carter", "Mrs. Emily Stone", "Ms. Sara Lee", "Mr. Omar Haddad", "Mrs. Ana Silva"]
    notes = [
        "Patient {name} reports {s} for {d} days, worse at night. Temperature {t} C.",
        "{name} came in with {s}; started {d} days ago after travel. Call back at {phone}.",
        "Seen by the nurse. {s} since {d} days, no known allergies, BP {bp}.",
        "Follow-up for {name}: {s} persists ({d} days). Advised rest and fluids; phone {phone}.",
        "Walk-in visit, {s} and poor sleep for {d} days. Temperature {t} C, BP {bp}.",
    ]
    records = []
    for i in range(240):
        diagnosis = rng.choice(sorted(diseases))
        symptoms = rng.sample(diseases[diagnosis], rng.randrange(2, 5))
        note = rng.choice(notes).format(
            name=rng.choice(names),
            s=rng.choice(symptoms),
            d=rng.randrange(1, 15),
            t=round(rng.uniform(36.4, 39.8), 1),
            bp=f"{rng.randrange(100, 160)}/{rng.randrange(60, 100)}",
            phone=f"555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
        )
        records.append(
            {
                "visit_id": f"v{i}",
                "patient": {"id": f"p{rng.randrange(120)}", "age": rng.randrange(5, 90)},
                "visit": {"symptoms": symptoms, "notes": note},
                "diagnosis": diagnosis,
            }
        )
    path = HERE / "medical_json" / "data" / "visits.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"records": records}, ensure_ascii=False, indent=1), encoding="utf-8")


def legal(rng: random.Random) -> None:
    """Terms-of-service sentences (the CLAUDETTE shape): unfair categories and a risk level.
    Built from parts, so documents word the same kind of clause differently."""
    subjects = ["We", "The company", "The provider", "{name}", "{name} Inc."]
    kinds = {
        ("ter", "高"): (
            ["may suspend", "can terminate", "reserves the right to close", "may disable"],
            ["your account", "the service", "your access", "your subscription", "any user profile"],
            ["at any time", "without notice", "for any reason", "at its sole discretion", "without refund"],
        ),
        ("ltd", "中"): (
            ["is not liable for", "accepts no responsibility for", "shall not be responsible for"],
            [
                "any indirect damages",
                "lost profits",
                "loss of data",
                "consequential losses",
                "service outages",
            ],
            ["to the extent permitted by law", "in any event", "however caused", "even if advised of them"],
        ),
        ("ch", "中"): (
            ["may change", "can modify", "may update", "reserves the right to amend"],
            ["these terms", "the fees", "this agreement", "the privacy policy"],
            ["at any time", "by posting a new version", "without telling you", "from time to time"],
        ),
        ("law", "低"): (
            ["applies the laws of", "is governed by the law of", "follows the courts of"],
            ["New York", "England", "Ireland", "California", "Delaware"],
            ["for every dispute", "for these terms", "exclusively", "unless the law says otherwise"],
        ),
    }
    plain = [
        "Welcome to {name}, we are glad you are here.",
        "Please read these terms carefully before using {name}.",
        "You can contact {name} support through the help page.",
        "{name} offers its service in several countries.",
        "Questions about billing go to the account page.",
        "This page was last updated in March.",
    ]
    names = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"]
    names += ["Stark", "Wayne", "Wonka", "Cyberdyne", "Tyrell", "Soylent"]
    rows = []
    for name in names:
        sentences = [(rng.choice(plain).format(name=name), [], "低") for _ in range(3)]
        for (tag, risk), (verbs, objects, conditions) in kinds.items():
            subject = rng.choice(subjects).format(name=name)
            text = f"{subject} {rng.choice(verbs)} {rng.choice(objects)} {rng.choice(conditions)}."
            sentences.append((text, [tag], risk))
        subject = rng.choice(subjects).format(name=name)
        both = (
            f"{subject} may {rng.choice(['close', 'terminate'])} your account and is not liable for any loss."
        )
        sentences.append((both, ["ltd", "ter"], "高"))
        rng.shuffle(sentences)
        for index, (text, tags, risk) in enumerate(sentences):
            rows.append({"doc": name, "sent_idx": index, "clause": text, "unfair_categories": tags,
                         "risk_level": risk})  # fmt: skip
    _jsonl(HERE / "legal_clauses" / "data" / "clauses.jsonl", rows)


def translation(rng: random.Random) -> None:
    """English <TAB> Chinese sentence pairs (the Tatoeba shape), customer-service phrases."""
    items = [("order", "订单"), ("package", "包裹"), ("card", "卡"), ("refund", "退款"), ("invoice", "发票")]
    items += [("password", "密码"), ("account", "账户"), ("coupon", "优惠券"), ("address", "地址")]
    templates = [
        ("Where is my {en}?", "我的{zh}在哪里?"),
        ("I cannot find my {en}.", "我找不到我的{zh}。"),
        ("Please check my {en}.", "请查一下我的{zh}。"),
        ("Is my {en} ready?", "我的{zh}好了吗?"),
        ("I want to change my {en}.", "我想修改我的{zh}。"),
        ("Something is wrong with my {en}.", "我的{zh}有问题。"),
        ("Thank you for fixing my {en}.", "谢谢你处理我的{zh}。"),
        ("When will my {en} arrive?", "我的{zh}什么时候到?"),
    ]
    pairs = [(en.format(en=a), zh.format(zh=b)) for en, zh in templates for a, b in items]
    rng.shuffle(pairs)
    path = HERE / "translation_tsv" / "data" / "pairs.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["en\tzh"] + [f"{en}\t{zh}" for en, zh in pairs]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    for write in (faq, fraud, medical, legal, translation):
        write(random.Random(write.__name__))
        print(f"wrote {write.__name__}")


if __name__ == "__main__":
    main()
