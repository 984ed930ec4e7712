"""The figures of an insight report, from scored records: label shares by period, by segment, the
terms that characterise each label, and spikes in volume or share against a baseline.

Characteristic terms are the weighted log-odds ratio with an informative Dirichlet prior (Monroe,
Colaresi and Quinn 2008: a term's z-score for one label against all others); written here because
no maintained library computes it, while the counting is scikit-learn's CountVectorizer. Chinese
text is cut into words with jieba, other text into word tokens; stop words and placeholders such
as [PHONE] are left out. A spike is a period whose volume, or one label's share, is at least
`SPIKE_Z` standard errors above the mean of the `BASELINE` periods before it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

BASELINE = 4  # periods before the one judged
MIN_BASELINE = 2
SPIKE_Z = 3.0
MIN_SHARE_MOVE = 0.05
MIN_COUNT = 5
TOP_VALUES = 12  # values of a segment column shown; the rest are 'other'
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[^\W\d_](?:[\w'-]*\w)?", re.UNICODE)
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]|<[A-Z_]+_[0-9a-f]+>")
ZH_STOP = frozenset(
    "的 了 是 我 你 他 她 它 们 也 都 就 和 与 在 有 很 还 又 这 那 个 吧 啊 呢 吗 哦 嗯 没有 一个 不是 什么 "  # noqa: SIM905
    "自己 还是 但是 因为 所以 如果 可以 这个 那个 就是 感觉 我们 你们 他们 已经 非常 比较 而且 一下 真的 "
    "觉得 这样 那么 然后 这么 知道 现在 东西 时候".split()
)


@dataclass
class Item:
    key: str
    text: str
    label: str
    score: float | None
    time: pd.Timestamp | None
    segments: dict[str, str] = field(default_factory=dict)


@dataclass
class Spike:
    period: pd.Timestamp
    what: str  # "volume", or a label (its share)
    value: float  # the count, or the share
    baseline: float
    z: float
    examples: list[Item]


def choose_period(times: Sequence[pd.Timestamp]) -> str:
    """day, week or month: the finest that keeps the report to about 120 periods at most."""
    span = (max(times) - min(times)).days if times else 0
    return "day" if span <= 120 else "week" if span <= 2 * 365 else "month"


def period_start(time: pd.Timestamp, period: str) -> pd.Timestamp:
    day = time.normalize()
    if period == "week":
        return day - pd.Timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def counts_by_period(items: Sequence[Item], period: str, labels: list[str]) -> pd.DataFrame:
    """Rows: period starts (every period in the range, empty ones as 0); columns: labels."""
    timed = [(period_start(i.time, period), i.label) for i in items if i.time is not None]
    frame = pd.DataFrame(timed, columns=["period", "label"])
    table = pd.crosstab(frame["period"], frame["label"]).reindex(columns=labels, fill_value=0)
    frequency = {"day": "D", "week": "W-MON", "month": "MS"}[period]
    full = pd.date_range(table.index.min(), table.index.max(), freq=frequency)
    return table.reindex(full, fill_value=0)


def counts_by_segment(items: Sequence[Item], column: str, labels: list[str]) -> pd.DataFrame:
    """Rows: the segment's values (most frequent first, the rest as 'other'); columns: labels."""
    values = pd.Series([i.segments.get(column) or "(none)" for i in items])
    top = values.value_counts().index[:TOP_VALUES]
    values = values.where(values.isin(top), "other")
    table = pd.crosstab(values, pd.Series([i.label for i in items])).reindex(columns=labels, fill_value=0)
    return table.loc[table.sum(axis=1).sort_values(ascending=False).index]


def find_segment_columns(rows: Sequence[dict[str, Any]], skip: set[str]) -> list[str]:
    """Columns that look like segments: 2 to 30 distinct values filling most rows."""
    found = []
    for column in dict.fromkeys(k for row in rows[:2000] for k in row):
        if column in skip or column.startswith("_"):
            continue
        values = [row.get(column) for row in rows]
        filled = [v for v in values if v not in (None, "") and isinstance(v, str | int | bool)]
        distinct = len(set(map(str, filled)))
        if 2 <= distinct <= 30 and len(filled) >= 0.9 * len(rows) and distinct < len(rows) / 2:
            found.append(column)
    return found


def tokenize(text: str) -> list[str]:
    text = _PLACEHOLDER.sub(" ", text)
    if _CJK.search(text):
        from tunesmith.data.pii.names import load_jieba

        words = [w.strip() for w in load_jieba().lcut(text)]
        return [w for w in words if len(w) > 1 and w not in ZH_STOP and not w.isdigit() and _has_letter(w)]
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = [w.lower() for w in _WORD.findall(text)]
    return [w for w in words if len(w) > 2 and w not in ENGLISH_STOP_WORDS]


def _has_letter(word: str) -> bool:
    return any(ch.isalpha() for ch in word)


def characteristic_terms(
    items: Sequence[Item], labels: list[str], top: int = 12, prior: float = 500.0
) -> dict[str, list[tuple[str, int, float]]]:
    """Label -> its `top` terms as (term, count in the label, z-score against the other labels)."""
    from sklearn.feature_extraction.text import CountVectorizer

    texts = [i.text for i in items]
    if len(texts) < 2:
        return {}
    vectorizer = CountVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None, min_df=3)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # no term occurs three times
        return {}
    terms = vectorizer.get_feature_names_out()
    label_of = np.asarray([i.label for i in items])
    total = np.asarray(matrix.sum(axis=0)).ravel().astype(float)
    alpha = prior * total / total.sum()
    out = {}
    for label in labels:
        rows = label_of == label
        if not rows.any() or rows.all():
            continue
        mine = np.asarray(matrix[rows].sum(axis=0)).ravel().astype(float)
        rest = total - mine
        n_mine, n_rest, a0 = mine.sum(), rest.sum(), alpha.sum()
        delta = np.log((mine + alpha) / (n_mine + a0 - mine - alpha)) - np.log(
            (rest + alpha) / (n_rest + a0 - rest - alpha)
        )
        z = delta / np.sqrt(1 / (mine + alpha) + 1 / (rest + alpha))
        best = [j for j in np.argsort(-z) if mine[j] >= MIN_COUNT and z[j] > 0][:top]
        out[label] = [(str(terms[j]), int(mine[j]), round(float(z[j]), 2)) for j in best]
    return out


def find_spikes(table: pd.DataFrame, items: Sequence[Item], period: str) -> list[Spike]:
    """Volume and share spikes of each period against the `BASELINE` periods before it."""
    spikes = []
    volume = table.sum(axis=1)
    by_period: dict[pd.Timestamp, list[Item]] = {}
    for item in items:
        if item.time is not None:
            by_period.setdefault(period_start(item.time, period), []).append(item)
    for position in range(MIN_BASELINE, len(table)):
        start = max(0, position - BASELINE)
        window = table.iloc[start:position]
        when = table.index[position]
        here = by_period.get(when, [])
        count = float(volume.iloc[position])
        mean = float(window.sum(axis=1).mean())
        spread = max(float(window.sum(axis=1).std(ddof=0)), math.sqrt(max(mean, 1.0)))
        z = (count - mean) / spread
        if z >= SPIKE_Z and count >= 2 * MIN_COUNT:
            grown = (table.iloc[position] - window.mean()).idxmax()  # the label behind the rise
            spikes.append(
                Spike(when, "volume", count, round(mean, 1), round(z, 2), _examples(here, str(grown)))
            )
        if count < MIN_COUNT:
            continue
        for label in table.columns:
            base = float(window[label].sum() / max(1.0, window.values.sum()))
            share = float(table[label].iloc[position] / count)
            error = math.sqrt(max(base * (1 - base), 1e-4) / count)
            z = (share - base) / error
            moved = abs(share - base) >= MIN_SHARE_MOVE and table[label].iloc[position] >= MIN_COUNT
            if z >= SPIKE_Z and moved:  # a rise; a fall in one label is another's rise
                spikes.append(
                    Spike(
                        when,
                        str(label),
                        round(share, 4),
                        round(base, 4),
                        round(z, 2),
                        _examples(here, str(label)),
                    )
                )
    return sorted(spikes, key=lambda s: -abs(s.z))


def _examples(items: Sequence[Item], label: str | None, count: int = 3) -> list[Item]:
    """The records of a finding the model is surest of."""
    chosen = [i for i in items if label is None or i.label == label]
    return sorted(chosen, key=lambda i: -(i.score or 0.0))[:count]


def examples_by_label(items: Sequence[Item], labels: list[str], count: int = 3) -> dict[str, list[Item]]:
    return {label: _examples(items, label, count) for label in labels}
