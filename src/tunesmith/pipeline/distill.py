"""`tunesmith distill`: a smaller student learns a finished run's answers (the teacher's scores)
over the training texts plus any unlabelled texts the user has, and becomes a run of its own,
evaluated, exported and proven like any other; the proof is the share of identical answers on the
test split, beside both headline metrics. The student and its training loop are
train/distillation.py's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith import recipe as recipe_io
from tunesmith.bundle import LABELS_FILE, MODEL_DIR, TASK_STATE_FILE
from tunesmith.console import console
from tunesmith.prepare.stage import DATA_DIR, read_split
from tunesmith.runtime.parity import agreement
from tunesmith.train.distillation import (
    DistillOptions,
    check_distillable,
    layer_stack,
    student_layers,
    student_of,
    teach,
)

DISTILL_FILE = "distill.json"


def unlabelled_texts(path: Path, recipe: Any, clean: Any) -> list[str]:
    """The texts of a data file read as the training data was (its text field or template; a plain
    line is a text), cleaned and de-identified as training texts were."""
    from tunesmith.data.fields import FieldMissing, extract_text
    from tunesmith.data.read import Unreadable, read_records

    texts, skipped = [], 0
    for _, record in read_records(path):
        if isinstance(record, Unreadable):
            skipped += 1
            continue
        if isinstance(record, str):
            texts.append(record)
            continue
        try:
            data = recipe.data
            texts.append(extract_text(record, data.text_field, data.text_template, data.list_separator))
        except (FieldMissing, TypeError, AttributeError):
            skipped += 1
    if skipped:
        console.print(f"[yellow]note:[/] {skipped:,} records of {path} had no readable text; not used")
    return [t for t in clean(texts) if t.strip()]


def distill(teacher_dir: Path, output: Path, options: DistillOptions) -> Path:
    """Train the student of `teacher_dir` into the run folder `output` (evaluated, exported as the
    teacher's recipe asks, bundled); returns `output`."""

    from tunesmith.data.model_input import ModelInput
    from tunesmith.runtime.predict import Predictor
    from tunesmith.train.stage import calibrate_on_validation

    teacher = Predictor.from_run(teacher_dir, backend="torch")
    recipe = teacher.recipe
    check_distillable(teacher)
    total = len(layer_stack(teacher.model))
    student, keep = student_of(teacher.model, student_layers(options.layers, total))
    train_records = read_split(teacher_dir, "train")
    validation = read_split(teacher_dir, "validation") or read_split(teacher_dir, "test")
    held_out = {r["text"] for split in ("validation", "test") for r in read_split(teacher_dir, split)}
    texts = [r["text"] for r in train_records]
    extra: list[str] = []
    if options.unlabelled is not None:  # held-out texts stay out: the proof is on them
        seen = set(texts) | held_out
        extra = [
            t
            for t in dict.fromkeys(unlabelled_texts(options.unlabelled, recipe, ModelInput(recipe)))
            if t not in seen
        ]
        texts += extra
    console.print(
        f"student: {len(keep)} of the teacher's {total} layers ({', '.join(map(str, keep))}); "
        f"trained on the teacher's scores over {len(train_records):,} training texts"
        + (f" and {len(extra):,} unlabelled texts" if extra else "")
    )
    taught = teach(student, teacher, texts, [r["text"] for r in validation], options)
    best = taught.best
    console.print(
        f"[bold]distilled[/] in {taught.seconds:.0f} s: epoch {best['epoch']} kept, "
        f"{best['agreement']:.2%} of validation answers as the teacher's"
    )
    staging = output.with_name(f".{output.name}.partial")
    if staging.exists():
        shutil.rmtree(staging)
    _write_run(teacher, student, staging, calibrate_on_validation)
    summary = {
        "model": f"{_model_name(teacher_dir)}, distilled to {len(keep)} of {total} layers",
        "distilled_from": str(teacher_dir),
        "layers_kept": keep,
        "texts": len(texts),
        "unlabelled_texts": len(extra),
        "epochs": options.epochs,
        "history": taught.history,
        "train_runtime_s": round(taught.seconds, 1),
    }
    atomic.write_json(staging / "train_summary.json", summary)
    return _finish(teacher, staging, output, summary)


def _model_name(run_dir: Path) -> str:
    summary = run_dir / "train_summary.json"
    return (
        str(json.loads(summary.read_text(encoding="utf-8")).get("model", "?")) if summary.is_file() else "?"
    )


def _write_run(teacher: Any, student: Any, staging: Path, calibrate: Any) -> None:
    """The student's run folder: the teacher's recipe and prepared data, the student's model."""
    staging.mkdir(parents=True)
    shutil.copyfile(teacher.run_dir / recipe_io.RECIPE_FILE, staging / recipe_io.RECIPE_FILE)
    shutil.copytree(teacher.run_dir / DATA_DIR, staging / DATA_DIR)
    with atomic.staged_dir(staging / MODEL_DIR) as model_dir:
        student.save_pretrained(model_dir, safe_serialization=True)
        teacher.tokenizer.save_pretrained(model_dir)
        atomic.write_json(model_dir / LABELS_FILE, teacher.labels)
        teacher.task.save_extras(staging, model_dir)
        state, _ = calibrate(
            staging, teacher.recipe, teacher.task, student, teacher.tokenizer, teacher.labels, model_dir, None
        )
        if state is not None:
            atomic.write_json(model_dir / TASK_STATE_FILE, state)


def _finish(teacher: Any, staging: Path, output: Path, summary: dict[str, Any]) -> Path:
    """Evaluate, export and bundle the student's run, prove it against the teacher on test, and
    move it into place."""
    from tunesmith.evaluate.stage import evaluate
    from tunesmith.pipeline.run import bundle, export_all
    from tunesmith.runtime.parity import headline_metrics
    from tunesmith.runtime.predict import Predictor

    recipe = teacher.recipe
    console.rule("evaluate")
    results = evaluate(staging, defer_export_gates=bool(recipe.export.formats))
    if recipe.export.formats:
        export_all(staging, recipe, results)
    test = read_split(staging, "test")
    student = Predictor.from_run(staging, verify=False, backend="auto")
    size = recipe.evaluation.batch_size
    theirs, ours = teacher.predict(test, size), student.predict(test, size)
    proof = {
        "teacher": str(teacher.run_dir),
        "student_backend": student.backend,
        "test_records": len(test),
        "test_agreement": agreement(theirs, ours),
        "metrics": {
            "teacher": headline_metrics(teacher.task, test, theirs, teacher.labels, teacher.run_dir),
            "student": headline_metrics(teacher.task, test, ours, teacher.labels, staging),
        },
        **summary,
    }
    atomic.write_json(staging / DISTILL_FILE, proof)
    bundle(staging)
    atomic.replace_dir(staging, output)
    lead = next(iter(proof["metrics"]["teacher"]), None)
    figures = (
        f"; {lead} {proof['metrics']['student'][lead]:.4f} (teacher {proof['metrics']['teacher'][lead]:.4f})"
        if lead
        else ""
    )
    console.print(
        f"[bold green]student[/] {output}: {proof['test_agreement']:.2%} of {len(test):,} test answers as "
        f"the teacher's ({student.backend}){figures}"
    )
    return output
