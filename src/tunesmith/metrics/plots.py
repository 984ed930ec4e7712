"""PNG plots for reports: confusion matrices, label distributions, length histograms."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Source Han Sans SC",
    "AR PL UMing CN",
)


def _use_cjk_font_if_installed(plt: Any) -> None:
    """Chinese labels render as boxes in the default font; use a CJK font when one exists."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    chosen = [name for name in _CJK_FONTS if name in installed]
    if chosen:
        plt.rcParams["font.sans-serif"] = [*chosen, *plt.rcParams["font.sans-serif"]]
    plt.rcParams["axes.unicode_minus"] = False


_ready = False


def pyplot() -> Any:
    """matplotlib's pyplot on the file backend, a CJK font chosen: imported at the first plot, so
    a process that only answers (a server) never loads matplotlib."""
    global _ready
    import matplotlib

    if not _ready:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not _ready:
        _use_cjk_font_if_installed(plt)
        _ready = True
    return plt


def _save(fig: Figure, path: Path) -> None:
    plt = pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing-glyph warnings when no CJK font is installed
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)


def plot_confusion_matrix(matrix: np.ndarray, labels: Sequence[str], path: Path, title: str) -> None:
    plt = pyplot()
    n = len(labels)
    size = min(4 + 0.35 * n, 24)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), labels=labels, rotation=90 if n > 6 else 0, fontsize=8)
    ax.set_yticks(range(n), labels=labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if n <= 20:
        peak = matrix.max() if matrix.size else 0
        for i in range(n):
            for j in range(n):
                color = "white" if peak and matrix[i, j] > peak / 2 else "black"
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=color, fontsize=8)
    _save(fig, path)


def plot_data_overview(label_counts: dict[str, dict[str, int]], lengths: Sequence[int], path: Path) -> None:
    """Label counts per split (bars) beside a histogram of text lengths in characters."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    labels = sorted({label for counts in label_counts.values() for label in counts})
    shown = labels[:40]
    x = np.arange(len(shown))
    width = 0.8 / max(len(label_counts), 1)
    for k, (split, counts) in enumerate(label_counts.items()):
        left.bar(x + k * width, [counts.get(label, 0) for label in shown], width, label=split)
    left.set_xticks(x + 0.4 - width / 2, labels=shown, rotation=90 if len(shown) > 6 else 0, fontsize=7)
    left.set_title("records per label" + (" (first 40)" if len(labels) > 40 else ""))
    left.legend()
    right.hist(lengths, bins=40, color="#4477aa")
    right.set_title("text length (characters)")
    right.set_xlabel("characters")
    right.set_ylabel("records")
    _save(fig, path)


def line_plot(
    panels: Sequence[tuple[str, dict[str, Sequence[tuple[float, float]]]]], xlabel: str, path: Path
) -> None:
    """Side-by-side panels of named (x, y) series."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    for ax, (title, series) in zip(axes[0], panels, strict=True):
        for name, points in series.items():
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o" if len(points) < 30 else None, label=name)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        if any(series.values()):
            ax.legend()
    _save(fig, path)


def data_uri(fig: Figure) -> str:
    """The figure as an inline PNG `data:` URI, for self-contained HTML (no files, no CDN)."""
    plt = pyplot()
    import base64
    import io

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def bar_chart(counts: dict[str, float], title: str, xlabel: str = "", horizontal: bool = True) -> Figure:
    """One bar per key, largest first (at most 30 shown)."""
    plt = pyplot()
    items = sorted(counts.items(), key=lambda kv: -kv[1])[:30]
    fig, ax = plt.subplots(figsize=(7, max(2.2, 0.32 * len(items) + 1)) if horizontal else (7, 3.5))
    names, values = [k for k, _ in items], [v for _, v in items]
    if horizontal:
        ax.barh(names[::-1], values[::-1], color="#4477aa")
        ax.set_xlabel(xlabel)
    else:
        ax.bar(names, values, color="#4477aa")
        ax.set_ylabel(xlabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x" if horizontal else "y")
    return fig


def paired_bars(
    names: Sequence[str], series: dict[str, Sequence[float | None]], title: str, marked: str | None = None
) -> Figure:
    """Horizontal bars, one group per name (top to bottom in the given order) and one bar per
    series (validation, test); a missing value leaves its bar out; `marked` is drawn in bold."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, max(2.4, 0.5 * len(names) * max(len(series), 1) + 1)))
    height = 0.8 / max(len(series), 1)
    colors = ("#4477aa", "#ee6677", "#228833")
    positions = np.arange(len(names))[::-1]
    for k, (label, values) in enumerate(series.items()):
        shown = [(p, v) for p, v in zip(positions, values, strict=True) if v is not None and v == v]
        if shown:
            ax.barh(
                [p + (k - (len(series) - 1) / 2) * height for p, _ in shown],
                [v for _, v in shown],
                height=height,
                color=colors[k % len(colors)],
                label=label,
            )
    ax.set_yticks(positions, names)
    for tick, name in zip(ax.get_yticklabels(), names, strict=True):
        if name == marked:
            tick.set_fontweight("bold")
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def histogram(values: Sequence[float], title: str, xlabel: str, marker: float | None = None) -> Figure:
    """A histogram; `marker` draws a dashed line (e.g. the model's max_length)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(values, bins=50, color="#4477aa")
    if marker is not None:
        ax.axvline(marker, color="#cc3311", linestyle="--", label=f"limit {marker:g}")
        ax.legend()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("records")
    ax.grid(alpha=0.3)
    return fig


def scatter_plot(truth: Sequence[float], predicted: Sequence[float], path: Path, title: str) -> None:
    """Predicted against true values, with the diagonal a perfect model would sit on."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.scatter(truth, predicted, s=10, alpha=0.5, color="#4477aa")
    if len(truth):
        low, high = min(min(truth), min(predicted)), max(max(truth), max(predicted))
        ax.plot([low, high], [low, high], color="#cc3311", linestyle="--", label="predicted = true")
        ax.legend()
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    _save(fig, path)


def save_figure(fig: Figure, path: Path) -> None:
    """Write a figure made by `bar_chart`, `histogram` ... as a PNG, atomically."""
    _save(fig, path)
