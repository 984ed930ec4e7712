"""A distilled student as a serving candidate (`export.student: auto`): the trained transformer
with half its encoder layers (or `export.student: N`), taught by the trained model's scores over
the training texts (train/distillation.py, as `tunesmith distill`), written as an fp32 ONNX
graph in export/student/, judged on validation by the quality rule as int8 is, and timed beside
the other exports; it answers only where it holds and is faster (export/choose_served.py). It
reads the trained model's tokenizer, labels and decision settings: only the graph differs.

A student that does not hold is not kept (its time is spent, its verdict recorded in
export/not_kept.json and serving.json)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.console import console
from tunesmith.errors import TunesmithError
from tunesmith.export.quality import QualityRule, judge
from tunesmith.prepare.stage import read_split
from tunesmith.runtime.engines import OnnxEngine
from tunesmith.runtime.formats import EXPORT_DIR, FORMATS, PARITY_FILE, export_dir

STUDENT = "student"


def export_student(run_dir: Path) -> dict[str, Any]:
    """Distil, export and judge the student of the run's transformer; its parity record. Raises
    ExportFailed (nothing kept) when it does not hold by the quality rule, TunesmithError when the
    run has no transformer served alone to distil."""
    from tunesmith.export.stage import ExportFailed, model_examples, prove, write_graph
    from tunesmith.runtime.predict import Predictor
    from tunesmith.train.distillation import (
        DistillOptions,
        check_distillable,
        layer_stack,
        student_layers,
        student_of,
        teach,
    )

    reference = Predictor.from_run(run_dir, verify=False, backend="torch")
    task, recipe = reference.task, reference.recipe
    check_distillable(reference)
    total = len(layer_stack(reference.model))
    layers = student_layers(recipe.export.student, total)
    if layers >= total:
        raise TunesmithError(f"the trained model has {total} layers: a student keeps fewer")
    student, keep = student_of(reference.model, layers)
    train_texts = [r["text"] for r in read_split(run_dir, "train")]
    validation = read_split(run_dir, "validation") or read_split(run_dir, "test")
    test_records = read_split(run_dir, "test")
    size = recipe.evaluation.batch_size
    console.print(
        f"student: {len(keep)} of {total} layers, taught by the trained model on {len(train_texts):,} texts"
    )
    examples = model_examples(task, validation)
    taught = teach(student, reference, train_texts, [e["text"] for e in examples], DistillOptions())
    # the trained model's validation answers, from the scores it was taught with (not a second pass)
    ours = task.decode(taught.teacher_validation, examples, reference.labels, reference.state)
    fmt = FORMATS[STUDENT]
    (run_dir / EXPORT_DIR).mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".student-", dir=run_dir / EXPORT_DIR) as scratch:
        work = Path(scratch)
        out = work / STUDENT
        out.mkdir()
        alone = Predictor(run_dir, recipe, task, student, reference.tokenizer, reference.labels)
        details = write_graph(
            alone, FORMATS["onnx"], model_examples(task, test_records), validation, work, out / fmt.file
        )
        candidate = reference.on_engine(OnnxEngine(out / fmt.file, task.graph_outputs, STUDENT))
        theirs = candidate.predict(examples, size)
        verdict = judge(task, validation, ours, theirs, reference.labels, QualityRule.of(recipe.export))
        console.print(f"student: {verdict.reason}")
        if not verdict.holds:
            raise ExportFailed(f"the {len(keep)}-layer student does not keep the quality: {verdict.reason}")
        parity = prove(reference, candidate, fmt, test_records)
        parity |= {
            **details,
            "quality": verdict.summary(),
            "student": {
                "layers_kept": keep,
                "of_layers": total,
                "epoch_kept": taught.best["epoch"],
                "history": taught.history,
                "train_runtime_s": round(taught.seconds, 1),
            },
        }
        atomic.write_json(out / PARITY_FILE, parity)
        atomic.replace_dir(out, export_dir(run_dir, STUDENT))
    return parity
