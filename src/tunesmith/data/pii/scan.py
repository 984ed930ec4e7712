"""`tunesmith scan`: look for personal data in any file or folder (text files and TensorBoard logs)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tunesmith.data.pii.operators import partial_mask
from tunesmith.data.pii.recognizers import find_pii

MAX_FILE_BYTES = 256 << 20
_SKIP_SUFFIXES = {".safetensors", ".png", ".jpg", ".jpeg", ".gif", ".bin", ".pt", ".onnx", ".so"}


@dataclass
class ScanReport:
    files: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    by_file: dict[str, Counter[str]] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _texts(path: Path) -> list[str]:
    """The readable text of a file: decoded lines; binary files give their printable runs."""
    data = path.read_bytes()[:MAX_FILE_BYTES]
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding).splitlines()
        except UnicodeDecodeError:
            continue
    # Binary (e.g. TensorBoard event files): scan the UTF-8 text inside, ignoring the rest.
    return data.decode("utf-8", errors="ignore").splitlines()


def scan(root: Path, values: tuple[str, ...] = ()) -> ScanReport:
    """Scan `root` with the recognizers, and also for the literal `values` (canaries)."""
    report = ScanReport()
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for path in paths:
        if path.suffix.lower() in _SKIP_SUFFIXES:
            continue
        report.files += 1
        found: Counter[str] = Counter()
        for line_no, line in enumerate(_texts(path), start=1):
            for finding in find_pii(line):
                found[finding.type] += 1
                if len(report.examples) < 20:
                    report.examples.append(f"{path}:{line_no}: {finding.type} {partial_mask(finding.value)}")
            for value in values:
                if value in line:
                    found["CANARY"] += 1
                    report.examples.append(f"{path}:{line_no}: CANARY {partial_mask(value)}")
        if found:
            report.by_file[str(path)] = found
            report.counts.update(found)
    return report
