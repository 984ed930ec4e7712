"""Robustness: the test set perturbed in ways real input varies, and what that does to answers.

Each perturbation named in `evaluation.robustness` rewrites every test text (seeded per record).
The model answers the rewritten texts the way the server does (input cleaning and
de-identification first, so a perturbation that cleaning undoes costs nothing). The report gives
the task's lead metric (accuracy for classification) under each perturbation and the flip rate:
the share of answers whose decision (label, labels, entities, answer text, match) changed from the
clean text's answer. That is an invariance expectation in the CheckList sense: none of these
rewrites should change the answer. A number (regression) has no decision to flip: its tasks get
the metric only.
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


# Rewrites that keep every character's position: the only ones a task whose labels are character
# spans in the text (NER) can be scored under.
KEEPS_POSITIONS = frozenset({"case", "width", "chinese_script"})


def perturbed(records: Sequence[dict[str, Any]], name: str, seed: int) -> list[dict[str, Any]]:
    perturb = PERTURBATIONS[name]
    return [
        {**r, "text": perturb(r["text"], random.Random(seed + i)) or r["text"]} for i, r in enumerate(records)
    ]


_DECISIONS = ("label", "labels", "entities", "answer", "answers", "match", "text")


def decision(answer: dict[str, Any]) -> Any:
    """What an answer decides, without its scores; None when it decides nothing (a number)."""
    for key in _DECISIONS:
        if key in answer:
            value = answer[key]
            if key == "entities":
                return [(e["start"], e["end"], e["label"]) for e in value]
            if key == "answers":
                return [a["answer"] for a in value]
            return value
    return None


def robustness_report(
    records: Sequence[dict[str, Any]],
    clean_answers: Sequence[dict[str, Any]],
    answer: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    names: Sequence[str],
    seed: int,
    score: Callable[[Sequence[dict[str, Any]]], float],
    metric: str = "accuracy",
) -> dict[str, Any]:
    """{suites: {name: {metric, flip_rate, changed_texts}}, metric, flip_rate: the worst}; `score`
    gives `metric` of a list of answers to `records`."""
    clean = [decision(a) for a in clean_answers]
    flips_count = clean[0] is not None if clean else False
    suites: dict[str, Any] = {"clean": {metric: score(clean_answers)}}
    for name in names:
        changed = perturbed(records, name, seed)
        answers = answer(changed)
        suites[name] = {
            metric: score(answers),
            "changed_texts": sum(a["text"] != b["text"] for a, b in zip(records, changed, strict=True)),
            "example": {"before": records[0]["text"][:120], "after": changed[0]["text"][:120]},
        }
        if flips_count:
            flipped = sum(c != decision(a) for c, a in zip(clean, answers, strict=True))
            suites[name]["flip_rate"] = flipped / len(records)
    found: dict[str, Any] = {"suites": suites, "metric": metric}
    if flips_count:
        found["flip_rate"] = max((v["flip_rate"] for k, v in suites.items() if k != "clean"), default=0.0)
    return found


def plot_robustness(report: dict[str, Any], path: Path) -> None:
    from tunesmith.metrics.plots import pyplot, save_figure

    plt = pyplot()
    names = list(report["suites"])
    metric = report.get("metric", "accuracy")
    fig, ax = plt.subplots(figsize=(7, 3.6))
    values = [report["suites"][n][metric] for n in names]
    bars = ax.bar(names, values, color=["#6acc64"] + ["#4878d0"] * (len(names) - 1))
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
    top = max(values, default=1.0)
    ax.set_ylim(0, 1.12 if top <= 1 else 1.12 * top)
    ax.set_ylabel(f"test {metric}")
    ax.set_title(f"Robustness: {metric} under each perturbation (flip rate on top)")
    ax.tick_params(axis="x", labelrotation=30)
    save_figure(fig, path)
