"""After a run's exports are made: judge each proven export by the quality rule, time each at the
batch sizes the server forms on the run's validation texts, and write which one serves, and
why, to export/serving.json (read by `serve` and `predict`; see runtime/serving_choice.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.console import console
from tunesmith.export.quality import exact
from tunesmith.prepare.stage import read_split
from tunesmith.runtime.backend import proven_exports
from tunesmith.runtime.formats import EXPORT_DIR, FORMATS
from tunesmith.runtime.parity import machine_id, not_kept
from tunesmith.runtime.serving_choice import (
    SERVING_FILE,
    Candidate,
    batch_sizes,
    pick,
    shown_pace,
    time_engines,
)

TEXTS_AT_ONE = 24  # texts timed one at a time
TEXTS_BATCHED = 128  # texts timed in batches (at least four batches)


def verdict_of(parity: dict[str, Any]) -> dict[str, Any]:
    """An export's quality verdict: fp32 exports were proven answer for answer on the test split;
    int8 and a student were judged on validation by the rule (an int8 made before the rule: by
    agreement alone)."""
    if FORMATS[parity["format"]].fp32:
        return exact(parity["records"]).summary()
    judged = parity.get("quality")
    if judged is not None:
        return dict(judged)
    share = parity.get("int8", {}).get("validation_agreement", parity["agreement"])
    return {"agreement": share, "holds": True, "reason": f"{share:.1%} of answers agree (agreement alone)"}


def decide_served(run_dir: Path) -> dict[str, Any] | None:
    """Decide and write which proven export serves; None (and no file) when none is proven."""
    from tunesmith import recipe as recipe_io
    from tunesmith.runtime.predict import Predictor

    path = run_dir / EXPORT_DIR / SERVING_FILE
    proven = proven_exports(run_dir)
    if not proven:
        path.unlink(missing_ok=True)
        return None
    recipe = recipe_io.load_resolved(run_dir)
    sizes = batch_sizes(recipe.serve.max_batch_size)
    verdicts = {name: verdict_of(parity) for name, parity in sorted(proven.items())}
    times: dict[str, dict[int, float]] = {name: {} for name in verdicts}
    if len(verdicts) > 1:
        with console.status(f"timing {', '.join(verdicts)} at batch sizes {', '.join(map(str, sizes))}..."):
            predictors = {name: Predictor.from_run(run_dir, verify=False, backend=name) for name in verdicts}
            first = next(iter(predictors.values()))
            examples = [
                {k: r[k] for k in first.task.inputs if r.get(k) is not None}
                for r in (read_split(run_dir, "validation") or read_split(run_dir, "test"))
            ]
            timed = {
                size: examples[: TEXTS_AT_ONE if size == 1 else max(TEXTS_BATCHED, 4 * size)]
                for size in sizes
            }
            batches = {  # each with its own tokenizer: TorchScript's reads what PyTorch's gives
                name: {size: p.engine_batches(chunk, size) for size, chunk in timed.items()}
                for name, p in predictors.items()
            }
            texts = {size: len(chunk) for size, chunk in timed.items()}
            times = time_engines({name: p.infer for name, p in predictors.items()}, batches, texts)
    candidates = [Candidate(name, bool(v["holds"]), v["reason"], times[name]) for name, v in verdicts.items()]
    missed = not_kept(run_dir)
    candidates += [Candidate(name, False, note["reason"], {}) for name, note in missed.items()]
    if not any(c.holds for c in candidates):  # cannot happen with an fp32 export
        path.unlink(missing_ok=True)
        return None
    chosen, why = pick(candidates)
    record = {
        "chosen": chosen,
        "reason": why,
        "machine": machine_id(),
        "batch_sizes": sizes,
        "candidates": {
            c.name: {
                "holds": c.holds,
                "reason": c.reason,
                "quality": verdicts.get(c.name),
                "ms_per_text": {str(k): v for k, v in c.ms_per_text.items()},
            }
            for c in candidates
        },
    }
    atomic.write_json(path, record)
    for c in candidates:
        kept = "holds" if c.holds else "[yellow]not kept[/]"
        mark = "[bold green]serves[/]" if c.name == chosen else kept
        timing = f"; {shown_pace(c)}" if c.ms_per_text else ""
        console.print(f"  {c.name}: {mark} - {c.reason}{timing}", highlight=False)
    console.print(f"serving: {chosen} (export/{SERVING_FILE})", highlight=False)
    return record
