"""Detect a text file's encoding: BOMs, then strict UTF-8, then GB18030, then a statistical guess."""

from __future__ import annotations

import codecs
from pathlib import Path

SAMPLE_BYTES = 1 << 20

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decodes(sample: bytes, encoding: str) -> bool:
    """True when `sample` decodes, ignoring a multi-byte character cut off at the sample's end."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """Return a Python codec name for `path`.

    GB18030 (a superset of GBK and GB2312) is tried right after UTF-8 because Chinese enterprise
    CSVs are most often GBK, and a generic detector mistakes short GBK files for other code pages.
    """
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    if _decodes(sample, "utf-8"):
        return "utf-8"
    if _decodes(sample, "gb18030"):
        return "gb18030"
    from charset_normalizer import from_bytes  # the statistical guess: the last resort

    best = from_bytes(sample).best()
    return best.encoding if best is not None else "utf-8"
