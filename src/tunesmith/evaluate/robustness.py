"""Robustness: the test set perturbed in ways real input varies, and what that does to answers.

Each perturbation named in `evaluation.robustness` rewrites every test text (seeded per record).
The model answers the rewritten texts the way the server does (input cleaning and
de-identification first, so a perturbation that cleaning undoes costs nothing). The report gives
accuracy under each perturbation and the flip rate: the share of answers that changed from the
clean text's answer. That is an invariance expectation in the CheckList sense: none of these
rewrites should change the label.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Perturb = Callable[[str, random.Random], str]

TYPO_RATE = 0.05  # share of characters hit by a swap, drop or insert


def typos(text: str, rng: random.Random) -> str:
    """Swap two neighbours, drop one, or double one, at about TYPO_RATE of the characters."""
    chars = list(text)
    i = 0
    while i < len(chars):
        if chars[i].strip() and rng.random() < TYPO_RATE:
            kind = rng.choice(("swap", "drop", "insert"))
            if kind == "swap" and i + 1 < len(chars):
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
                i += 1
            elif kind == "drop":
                del chars[i]
                continue
            else:
                chars.insert(i, chars[i])
                i += 1
        i += 1
    return "".join(chars)


def case(text: str, rng: random.Random) -> str:
    return text.upper() if rng.random() < 0.5 else text.lower()


def punctuation(text: str, rng: random.Random) -> str:
    return "".join(c for c in text if not unicodedata.category(c).startswith("P"))


def whitespace(text: str, rng: random.Random) -> str:
    return re.sub(r"\s+", lambda _: rng.choice(("  ", "\t", " \n ", "   ")), f" {text} ").strip() or text


def width(text: str, rng: random.Random) -> str:
    """Half-width ASCII to its full-width form (Ａ１！), as some Chinese input methods type it."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


def chinese_script(text: str, rng: random.Random) -> str:
    """Simplified to traditional Chinese (zhconv, the `zh` extra)."""
    import zhconv

    return str(zhconv.convert(text, "zh-hant"))


_NUMBER = re.compile(r"\d[\d\s-]{5,}\d")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def pii_masks(text: str, rng: random.Random) -> str:
    """Long numbers and e-mail addresses replaced by the masks de-identification writes."""
    return _NUMBER.sub("<PHONE_NUMBER>", _EMAIL.sub("<EMAIL_ADDRESS>", text))


def truncation(text: str, rng: random.Random) -> str:
    """The first half of the text only, as a cut-off message arrives."""
    return text[: max(1, len(text) // 2)]


def names_places(text: str, rng: random.Random) -> str:
    """Person names and places swapped for others of the same kind (`entity_swaps`)."""
    from tunesmith.evaluate.entity_swaps import names_places as swap

    return swap(text, rng)


PERTURBATIONS: dict[str, Perturb] = {
    "typos": typos,
    "case": case,
    "punctuation": punctuation,
    "whitespace": whitespace,
    "width": width,
    "chinese_script": chinese_script,
    "names_places": names_places,
    "pii_masks": pii_masks,
    "truncation": truncation,
}


def perturbed(records: Sequence[dict[str, Any]], name: str, seed: int) -> list[dict[str, Any]]:
    perturb = PERTURBATIONS[name]
    return [
        {**r, "text": perturb(r["text"], random.Random(seed + i)) or r["text"]} for i, r in enumerate(records)
    ]


def robustness_report(
    records: Sequence[dict[str, Any]],
    clean_answers: Sequence[dict[str, Any]],
    answer: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    names: Sequence[str],
    seed: int,
) -> dict[str, Any]:
    """{name: {accuracy, flip_rate, changed_texts}} and the worst flip rate over them."""
    truth = [str(r["label"]) for r in records]
    clean = [a["label"] for a in clean_answers]
    suites: dict[str, Any] = {
        "clean": {"accuracy": sum(t == p for t, p in zip(truth, clean, strict=True)) / len(truth)}
    }
    for name in names:
        changed = perturbed(records, name, seed)
        answers = [a["label"] for a in answer(changed)]
        suites[name] = {
            "accuracy": sum(t == p for t, p in zip(truth, answers, strict=True)) / len(truth),
            "flip_rate": sum(c != p for c, p in zip(clean, answers, strict=True)) / len(truth),
            "changed_texts": sum(a["text"] != b["text"] for a, b in zip(records, changed, strict=True)),
            "example": {"before": records[0]["text"][:120], "after": changed[0]["text"][:120]},
        }
    flips = [v["flip_rate"] for k, v in suites.items() if k != "clean"]
    return {"suites": suites, "flip_rate": max(flips) if flips else 0.0}


def plot_robustness(report: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    from tunesmith.evaluate.plots import save_figure

    names = list(report["suites"])
    fig, ax = plt.subplots(figsize=(7, 3.6))
    accuracy = [report["suites"][n]["accuracy"] for n in names]
    bars = ax.bar(names, accuracy, color=["#6acc64"] + ["#4878d0"] * (len(names) - 1))
    for bar, name in zip(bars, names, strict=True):
        flip = report["suites"][name].get("flip_rate")
        if flip is not None:
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                bar.get_height(),
                f"flips {flip:.0%}",
                ha="center",
                va="bottom",
                fontsize=8,
            )
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("test accuracy")
    ax.set_title("Robustness: accuracy under each perturbation (flip rate on top)")
    ax.tick_params(axis="x", labelrotation=30)
    save_figure(fig, path)
