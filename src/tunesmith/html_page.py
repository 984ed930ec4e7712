"""One self-contained HTML page (inline style and images, no CDN, works offline): what the data
validation report and the run report share."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;margin:2rem auto;
max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .6rem;
text-align:left;font-size:.9rem}th{background:#f4f6f8}td.n{text-align:right}
.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:.5rem 1rem;margin:.4rem 0}
.ok{background:#eef8ee;border-left:4px solid #3a3;padding:.5rem 1rem}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{background:#f4f6f8;padding:.7rem 1rem;border-radius:6px}
.card b{display:block;font-size:1.4rem}img{max-width:100%}.grid{display:grid;
grid-template-columns:1fr 1fr;gap:1rem}code{background:#f4f6f8;padding:0 .2rem}
"""


def escape(value: Any) -> str:
    return html.escape(str(value))


def table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{v:,}</td>' if isinstance(v, int | float) else f"<td>{escape(v)}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def png(path: Path, alt: str) -> str:
    """An image file inlined as a data: URI; empty when the file does not exist."""
    if not path.is_file():
        return ""
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{encoded}">'


def page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table: what report.md and the model card paste."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
