"""The insight report: one self-contained HTML page (plots inlined) and a CSV of the same figures."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from tunesmith import atomic
from tunesmith.html_page import escape, page, png, table
from tunesmith.insights.analysis import Item, Spike
from tunesmith.metrics.plots import pyplot

REPORT_FILE = "report.html"
LISTED_LABELS = 25  # rows of the labels table
SHOWN_LABELS = 10  # the largest labels drawn and listed; the rest as 'other' (figures.csv has all)
FIGURES_FILE = "figures.csv"


def _plot_over_time(shares: pd.DataFrame, counts: pd.DataFrame, spikes: list[Spike], path: Path) -> None:
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True, height_ratios=[3, 1])
    top.stackplot(
        shares.index,
        [shares[c] for c in shares.columns],
        labels=[str(c) for c in shares.columns],
        colors=_colours(list(shares.columns)),
        alpha=0.9,
    )
    top.set_ylim(0, 1)
    top.set_ylabel("share of records")
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    volume = counts.sum(axis=1)
    bottom.bar(volume.index, volume.values, width=_bar_width(volume.index), color="#7a8ca3")
    bottom.set_ylabel("records")
    for spike in spikes:
        axis = bottom if spike.what == "volume" else top
        y = volume.get(spike.period, 0) if spike.what == "volume" else 0.97
        axis.annotate(
            "▲" if spike.what == "volume" else f"▲ {spike.what}",
            (spike.period, y),
            color="#c0392b",
            fontsize=8,
            ha="center",
            va="top",
        )
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _colours(labels: list[str]) -> list[Any]:
    """A distinct colour per label (tab10, then tab20), grey for 'other'."""
    import matplotlib

    palette = matplotlib.colormaps["tab10" if len(labels) <= 10 else "tab20"]
    return ["#b0b0b0" if label == "other" else palette(i % palette.N) for i, label in enumerate(labels)]


def _bar_width(index: pd.Index) -> float:
    if len(index) < 2:
        return 0.8
    return 0.8 * float((index[1] - index[0]).days)


def _plot_segments(tables: dict[str, pd.DataFrame], path: Path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(
        len(tables),
        1,
        figsize=(10, 1.2 + 0.45 * sum(len(t) for t in tables.values()) + 0.6 * len(tables)),
        squeeze=False,
    )
    for axis, (column, counts) in zip(axes[:, 0], tables.items(), strict=True):
        shares = counts.div(counts.sum(axis=1), axis=0)
        colours = dict(zip(shares.columns, _colours(list(shares.columns)), strict=True))
        left = pd.Series(0.0, index=shares.index)
        for label in shares.columns:
            axis.barh(
                [str(v) for v in shares.index],
                shares[label],
                left=left,
                label=str(label),
                color=colours[label],
            )
            left += shares[label]
        axis.invert_yaxis()
        axis.set_xlim(0, 1)
        axis.set_title(f"label shares by {column}", fontsize=10, loc="left")
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _top(table_: pd.DataFrame, shown: list[str]) -> pd.DataFrame:
    """The shown labels' columns, the others summed as 'other'."""
    rest = [c for c in table_.columns if c not in shown]
    top = table_[[c for c in shown if c in table_.columns]].copy()
    if rest:
        top["other"] = table_[rest].sum(axis=1)
    return top


def _quote(item: Item, limit: int = 220) -> str:
    text = item.text if len(item.text) <= limit else item.text[:limit] + "…"
    score = f" ({item.score:.2f})" if item.score is not None else ""
    return f"<li><b>{escape(item.label)}</b>{score}: {escape(text)}</li>"


def figures_rows(
    counts: pd.DataFrame | None,
    segments: dict[str, pd.DataFrame],
    terms: dict[str, list[tuple[str, int, float]]],
    spikes: list[Spike],
) -> list[list[Any]]:
    """section, key, label, count, share, baseline, z: one row per figure in the report."""
    rows: list[list[Any]] = []
    if counts is not None:
        for when, row in counts.iterrows():
            total = row.sum()
            for label, n in row.items():
                rows.append(
                    [
                        "over_time",
                        when.date().isoformat(),
                        label,
                        int(n),
                        round(n / total, 4) if total else "",
                        "",
                        "",
                    ]
                )
    for column, table_ in segments.items():
        for value, row in table_.iterrows():
            total = row.sum()
            for label, n in row.items():
                rows.append([f"segment:{column}", value, label, int(n), round(n / total, 4), "", ""])
    for label, found in terms.items():
        for term, n, z in found:
            rows.append(["term", term, label, n, "", "", z])
    for spike in spikes:
        share = "" if spike.what == "volume" else spike.value
        count = spike.value if spike.what == "volume" else ""
        rows.append(
            [
                f"spike:{spike.what}",
                spike.period.date().isoformat(),
                spike.what,
                count,
                share,
                spike.baseline,
                spike.z,
            ]
        )
    return rows


def write_report(
    out: Path,
    title: str,
    summary: dict[str, Any],
    items: list[Item],
    labels: list[str],
    counts: pd.DataFrame | None,
    period: str | None,
    segments: dict[str, pd.DataFrame],
    terms: dict[str, list[tuple[str, int, float]]],
    spikes: list[Spike],
    examples: dict[str, list[Item]],
) -> Path:
    parts = [f"<h1>{escape(title)}</h1>"]
    cards = "".join(f'<div class="card"><b>{escape(v)}</b>{escape(k)}</div>' for k, v in summary.items())
    parts.append(f'<div class="cards">{cards}</div>')
    overall = pd.Series([i.label for i in items]).value_counts().reindex(labels, fill_value=0)
    parts.append("<h2>Labels</h2>")
    parts.append(
        table(
            ["label", "records", "share"],
            [[label, int(n), f"{n / max(1, len(items)):.1%}"] for label, n in overall.items()][
                :LISTED_LABELS
            ],
        )
    )
    if len(overall) > LISTED_LABELS:
        parts.append(
            f"<p>... and {len(overall) - LISTED_LABELS} smaller labels (figures.csv has them all).</p>"
        )
    shown = labels[:SHOWN_LABELS]
    if len(labels) > len(shown):
        parts.append(
            f"<p>Plots, terms and examples show the {len(shown)} largest of {len(labels)} labels "
            "(the rest as 'other'); figures.csv has every label.</p>"
        )
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if counts is not None and len(counts):
            drawn = _top(counts, shown)
            shares = drawn.div(drawn.sum(axis=1).replace(0, 1), axis=0)
            _plot_over_time(shares, drawn, spikes, folder / "time.png")
            parts.append(f"<h2>Label shares by {escape(period)}</h2>")
            parts.append(png(folder / "time.png", "label shares over time"))
        else:
            parts.append(
                '<div class="warn">No time column: shares over time and spikes need one '
                "(--time-column).</div>"
            )
        if segments:
            segments = {column: _top(counts_, shown) for column, counts_ in segments.items()}
            _plot_segments(segments, folder / "segments.png")
            parts.append("<h2>Segments</h2>")
            parts.append(png(folder / "segments.png", "label shares by segment"))
            for column, counts_ in segments.items():
                rows = [
                    [str(v), int(r.sum()), *[f"{n / max(1, r.sum()):.1%}" for n in r]]
                    for v, r in counts_.iterrows()
                ]
                parts.append(
                    f"<h3>{escape(column)}</h3>" + table([column, "records", *counts_.columns], rows)
                )
        parts.append(_spikes_html(spikes, period))
        parts.append("<h2>Terms that characterise each label</h2>")
        parts.append(
            "<p>Weighted log-odds with an informative prior: a term's z-score in this label "
            "against all others (≥ 2 is notable).</p>"
        )
        cells = []
        for label in shown:
            found = terms.get(label, [])
            rows = [[term, n, z] for term, n, z in found]
            cells.append(
                f"<div><h3>{escape(label)}</h3>"
                + (table(["term", "count", "z"], rows) if rows else "<p>no term stands out</p>")
                + "</div>"
            )
        parts.append(f'<div class="grid">{"".join(cells)}</div>')
        parts.append(
            "<h2>Examples per label</h2><p>The records the model is surest of (texts as "
            "scored: de-identified).</p>"
        )
        for label in shown:
            quotes = "".join(_quote(i) for i in examples.get(label, []))
            parts.append(f"<h3>{escape(label)}</h3><ul>{quotes or '<li>none</li>'}</ul>")
        html = page(title, "".join(parts))
    path = out / REPORT_FILE
    atomic.write_text(path, html)
    return path


def _spikes_html(spikes: list[Spike], period: str | None) -> str:
    if period is None:
        return ""
    if not spikes:
        return (
            f"<h2>Spikes</h2><p class='ok'>No {escape(period)} rose above its baseline (the "
            "4 periods before it) by 3 standard errors.</p>"
        )
    items = []
    for spike in spikes:
        when = spike.period.date().isoformat()
        if spike.what == "volume":
            head = (
                f"{when}: {int(spike.value):,} records against a baseline of {spike.baseline:,.1f} "
                f"(z = {spike.z})"
            )
        else:
            head = (
                f"{when}: '{escape(spike.what)}' at {spike.value:.1%} of records against "
                f"{spike.baseline:.1%} before (z = {spike.z})"
            )
        quotes = "".join(_quote(i) for i in spike.examples)
        items.append(f'<div class="warn"><b>{head}</b><ul>{quotes}</ul></div>')
    return f"<h2>Spikes ({len(spikes)})</h2>" + "".join(items)


def write_figures(out: Path, rows: list[list[Any]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "key", "label", "count", "share", "baseline", "z"])
    writer.writerows(rows)
    path = out / FIGURES_FILE
    atomic.write_text(path, buffer.getvalue())
    return path
