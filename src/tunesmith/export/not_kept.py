"""Exports the recipe asked for that missed their proof: noted in export/not_kept.json (what the
report and the model card say instead), and forgotten when a later export passes."""

from __future__ import annotations

from pathlib import Path

from tunesmith import atomic
from tunesmith.runtime.formats import EXPORT_DIR
from tunesmith.runtime.parity import NOT_KEPT_FILE, not_kept


def record_not_kept(run_dir: Path, name: str, reason: str, instead: str) -> None:
    """Note that the export `name` missed its proof and `instead` answers (for the report and card)."""
    notes = not_kept(run_dir)
    notes[name] = {"reason": reason, "instead": instead}
    atomic.write_json(run_dir / EXPORT_DIR / NOT_KEPT_FILE, notes)


def forget_not_kept(run_dir: Path, name: str) -> None:
    """`name` was exported and proven after all: drop its note."""
    notes = not_kept(run_dir)
    if notes.pop(name, None) is not None:
        atomic.write_json(run_dir / EXPORT_DIR / NOT_KEPT_FILE, notes)
