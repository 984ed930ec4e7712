"""Knowledge-base answers on a real FAQ: Recall@1 and the hand-over rate of POST /v1/answer.

The FAQ is built from Bitext's customer-service utterances (../shared/datasets): each of the 27
intents gets one answer (written here, a help-centre sentence per intent; Bitext ships questions
only), and every utterance becomes a question whose right answer is its intent's. `tunesmith
negatives` adds BM25 hard negatives, `tunesmith run` trains a bi-encoder (multilingual-e5-small)
with a group split (every test question is new), and `tunesmith serve` answers over HTTP through
the Python SDK. Figures, on the run's held-out test questions:
- Recall@1: the top answer is the right one (whatever the threshold says);
- answered / handed over: the share above / below the hand-over threshold tuned on validation;
- precision answered: of the answered questions, the share given the right answer;
- off-topic hand-over: banking77 questions (another domain) that are handed over, as they should.

    python benchmarks/kb_answers.py --shared ../shared/datasets --work /tmp/kb [--questions 2400]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

import yaml
from cli_process import tunesmith

ANSWERS = {
    "create_account": "To open an account, choose Sign up on the home page, enter your e-mail and a "
    "password, and confirm the link we send you.",
    "delete_account": "To close your account, go to Settings > Account > Delete account; your data is "
    "erased within 30 days.",
    "edit_account": "You can change your name, e-mail and phone number under Settings > Profile; "
    "save to apply the changes.",
    "recover_password": "Choose Forgot password on the sign-in page and follow the reset link we "
    "e-mail you; it is valid for 24 hours.",
    "registration_problems": "If sign-up fails, check that the e-mail is not already registered and "
    "that the password has at least 8 characters, then try again.",
    "switch_account": "To use another account, sign out from the menu and sign in with the other "
    "account's e-mail.",
    "check_cancellation_fee": "Cancelling within 14 days is free; after that a fee of 10% of the "
    "order value applies.",
    "contact_customer_service": "Our customer service is open Monday to Friday, 8 am to 8 pm, by chat "
    "in the app or by e-mail.",
    "contact_human_agent": "Type 'agent' in the chat at any time and a person from our team will "
    "take over the conversation.",
    "delivery_options": "We offer standard delivery (3-5 working days), express (next day) and free "
    "pick-up at a partner store.",
    "delivery_period": "Standard orders arrive in 3 to 5 working days; express orders placed before "
    "2 pm arrive the next day.",
    "complaint": "We are sorry about your experience. Send us the details through the complaint form "
    "and we will reply within 2 working days.",
    "review": "We'd love your feedback: after delivery you can rate the order and leave a review "
    "from My Orders.",
    "check_invoice": "Your invoices are listed under My Orders > Invoices, where you can view every "
    "past invoice.",
    "get_invoice": "To download an invoice as a PDF, open the order in My Orders and choose "
    "Download invoice.",
    "newsletter_subscription": "Subscribe to or unsubscribe from the newsletter under Settings > "
    "Notifications, or with the link at the bottom of any newsletter.",
    "cancel_order": "You can cancel an order that has not shipped yet from My Orders > Cancel order; "
    "the money is returned automatically.",
    "change_order": "To change items or quantities, open the order in My Orders and choose Edit "
    "before it ships.",
    "place_order": "Add the products to your cart, open the cart, choose Checkout and confirm the "
    "payment to place your order.",
    "track_order": "Follow your parcel under My Orders > Track; the tracking number is in your "
    "shipping e-mail.",
    "check_payment_methods": "We accept credit and debit cards, PayPal, bank transfer and Apple Pay.",
    "payment_issue": "If a payment fails, check the card details and your bank's limit, or try "
    "another payment method; you are not charged for failed payments.",
    "check_refund_policy": "You can return any product within 30 days for a full refund, as long as "
    "it is unused and in its original packaging.",
    "get_refund": "To ask for a refund, open the order in My Orders, choose Return and refund, and "
    "tell us the reason.",
    "track_refund": "Refunds are sent to your original payment method within 5 to 10 working days "
    "after we receive the return; see the status in My Orders.",
    "change_shipping_address": "You can change the delivery address of an order under My Orders > "
    "Edit address until it ships.",
    "set_up_shipping_address": "Add or edit your saved addresses under Settings > Addresses; the "
    "default one is used at checkout.",
}


def build_faq(shared: Path, work: Path, questions: int, seed: int) -> Path:
    path = shared / "customer_service/bitext/Bitext_Sample_Customer_Service_Training_Dataset.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    random.Random(seed).shuffle(rows)
    rows = rows[:questions]
    faq = work / "faq.jsonl"
    with faq.open("w", encoding="utf-8") as out:
        for i, row in enumerate(rows):
            record = {
                "id": f"bitext-{i}",
                "question": row["utterance"],
                "answer": ANSWERS[row["intent"]],
                "category": row["category"],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return faq


def off_topic(shared: Path, count: int, seed: int) -> list[str]:
    with (shared / "customer_service/banking77/train.csv").open(encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    return random.Random(seed).sample(texts, count)


def check(step: str, result: tuple[int, str, float]) -> float:
    code, said, seconds = result
    if code != 0:
        sys.exit(f"{step} failed ({code}):\n{said[-3000:]}")
    print(f"{step}: {seconds:.0f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/kb-answers"))
    parser.add_argument("--questions", type=int, default=2400)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--off-topic", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    shared = args.shared.resolve()
    build_faq(shared, work, args.questions, args.seed)
    check(
        "negatives", tunesmith("negatives", "faq.jsonl", "-o", "pairs.jsonl", "--per-question", "2", cwd=work)
    )
    recipe = {
        "name": "bitext-faq",
        "seed": args.seed,
        "data": {
            "train": "pairs.jsonl",
            "text_field": "question",
            "pair_field": "answer",
            "label_field": "label",
        },
        "split": {"method": "group", "group_field": "question"},
        # near duplicates are judged on question + answer: at the default 0.8, two different
        # questions sharing one long FAQ answer look like copies (78% of validation was removed)
        "prepare": {"dedup": {"near_threshold": 0.95}},
        "model": {"name": "multilingual-e5-small", "max_length": 64},
        "task": {"type": "matching", "matching_mode": "bi", "top_k": 3},
        "training": {"epochs": args.epochs, "batch_size": 32, "learning_rate": 5.0e-5, "logging_steps": 50},
        "evaluation": {"batch_size": 64},
    }
    (work / "recipe.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    run = work / "runs" / "faq"
    if not (run / "manifest.json").is_file():
        check("run", tunesmith("run", "recipe.yaml", "--output", str(run), cwd=work))
    state = json.loads((run / "model" / "task_state.json").read_text(encoding="utf-8"))
    test = [
        json.loads(line) for line in (run / "data" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    right = {r["text"]: r["text_pair"] for r in test if r["label"] == "1"}
    measure(run, right, off_topic(shared, args.off_topic, args.seed), state)


def measure(run: Path, right: dict[str, str], unrelated: list[str], state: dict[str, float]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from cli_helpers import Server

    from tunesmith.client import Client

    with Server(run, "--state-dir", str(run.parent / "serve-state")) as server, Client(server.url) as client:
        started = time.perf_counter()
        replies = {q: client.answer(q) for q in right}
        seconds = time.perf_counter() - started
        strangers = [client.answer(q) for q in unrelated]
    top_right = [r["candidates"][0]["answer"] == right[q] for q, r in replies.items()]
    answered = [(q, r) for q, r in replies.items() if r["status"] == "answered"]
    precise = [r["answer"] == right[q] for q, r in answered]
    n = len(replies)
    print(
        f"\nheld-out questions: {n} (validation threshold {state['answer_threshold']:.3f}, "
        f"target precision {state.get('answer_precision', 0):.2f} reached on validation)"
    )
    print(f"Recall@1                 {sum(top_right) / n:.3f}")
    print(f"answered                 {len(answered) / n:.3f}")
    print(f"handed over              {1 - len(answered) / n:.3f}")
    print(f"precision when answered  {sum(precise) / max(1, len(precise)):.3f}")
    handed = sum(r["status"] == "handed_over" for r in strangers)
    print(f"off-topic handed over    {handed / len(strangers):.3f}  ({len(strangers)} banking77 questions)")
    print(f"latency                  {1000 * seconds / n:.1f} ms per question (one client, sequential)")
    example = next(iter(replies.items()))
    print(f"\nexample: {example[0]!r}\n  -> {example[1]['status']}: {example[1]['answer']!r}")


if __name__ == "__main__":
    main()
