"""Killed and resumed training ends exactly where an uninterrupted run ends (the real CLI)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cli_helpers import TUNESMITH, environment, tunesmith
from helpers import write_faq_recipe

from tunesmith.train.checkpoints import is_complete, latest_complete


def _recipe(folder: Path, model: Path) -> Path:
    # 5 epochs of 40 steps, a checkpoint every 15 steps (mid-epoch), no early stop.
    return write_faq_recipe(
        folder,
        model,
        "{epochs: 5, batch_size: 8, learning_rate: 0.003, logging_steps: 5, checkpoint_steps: 15, "
        "early_stopping_patience: null}",
    )


def _stop_at_first_checkpoint(args: list[str], cwd: Path, checkpoints: Path, signum: int) -> int:
    """Start `tunesmith ARGS`, send `signum` once a checkpoint is complete, return the exit code."""
    process = subprocess.Popen(
        [*TUNESMITH, *args],
        cwd=cwd,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        if checkpoints.is_dir() and any(is_complete(c) for c in checkpoints.iterdir()):
            process.send_signal(signum)
            break
        time.sleep(0.01)
    output, _ = process.communicate(timeout=300)
    assert process.returncode is not None
    if signum == signal.SIGINT:
        assert "tunesmith train" in output and "--resume" in output, output
    return process.returncode


def _weights(run: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(run / "model" / "model.safetensors")


def _losses(run: Path) -> list[float]:
    return [e["loss"] for e in json.loads((run / "training_log.json").read_text()) if "loss" in e]


def _assert_same_run(resumed: Path, reference: Path, same_losses: bool = True) -> None:
    summary = json.loads((resumed / "train_summary.json").read_text())
    assert summary["resumed_from"], "the run finished before it was stopped: nothing was resumed"
    a, b = _weights(reference), _weights(resumed)
    assert a.keys() == b.keys()
    assert max(float((a[k] - b[k]).abs().max()) for k in a) <= 1e-6
    if same_losses:
        assert _losses(resumed) == pytest.approx(_losses(reference), abs=1e-6)
    first = json.loads((reference / "metrics.json").read_text())["test"]
    second = json.loads((resumed / "metrics.json").read_text())["test"]
    assert first["accuracy"] > 0.5  # the model learned: equal weights are not trivially equal
    assert second["accuracy"] == pytest.approx(first["accuracy"], abs=1e-6)
    assert second["macro_f1"] == pytest.approx(first["macro_f1"], abs=1e-6)


def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(tmp_path: Path, tiny_model: Path) -> None:
    recipe = _recipe(tmp_path, tiny_model)
    tunesmith("run", str(recipe), "-o", "whole", cwd=tmp_path)

    code = _stop_at_first_checkpoint(
        ["run", str(recipe), "-o", "killed"],
        tmp_path,
        tmp_path / ".killed.partial" / "checkpoints",
        signal.SIGKILL,
    )
    assert code == -signal.SIGKILL
    assert not (tmp_path / "killed").exists()  # a killed run leaves no half-finished run folder
    tunesmith("run", str(recipe), "-o", "killed", "--resume", cwd=tmp_path)
    _assert_same_run(tmp_path / "killed", tmp_path / "whole")
    assert not (tmp_path / "killed" / "checkpoints").exists()  # removed once the run is finished

    # Ctrl-C on `tunesmith train`: the step finishes, a checkpoint is saved, exit 130; then --resume.
    tunesmith("prepare", str(recipe), "-o", "stopped", cwd=tmp_path)
    code = _stop_at_first_checkpoint(
        ["train", "stopped"], tmp_path, tmp_path / "stopped" / "checkpoints", signal.SIGINT
    )
    assert code == 130
    assert latest_complete(tmp_path / "stopped" / "checkpoints") is not None
    tunesmith("train", "stopped", "--resume", cwd=tmp_path)
    tunesmith("evaluate", "stopped", cwd=tmp_path)
    # Stopped between logging steps, the first logged loss after resuming averages fewer steps
    # (the Trainer keeps no partial loss sum in a checkpoint); weights and metrics are the same.
    _assert_same_run(tmp_path / "stopped", tmp_path / "whole", same_losses=False)


def test_an_incomplete_checkpoint_is_removed_and_the_last_complete_one_is_used(tmp_path: Path) -> None:
    for step, state in ((10, {"global_step": 10}), (20, {"global_step": 20}), (30, None)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"x")
        if state is not None:
            (folder / "trainer_state.json").write_text(json.dumps(state))
    (tmp_path / "checkpoint-40").mkdir()
    (tmp_path / "checkpoint-40" / "trainer_state.json").write_text('{"global_ste')  # killed mid-write
    assert latest_complete(tmp_path) == tmp_path / "checkpoint-20"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-10", "checkpoint-20"]
    assert latest_complete(tmp_path / "none") is None


def test_resume_never_replaces_a_finished_run_without_overwrite(tmp_path: Path, tiny_model: Path) -> None:
    from tunesmith import recipe as recipe_io
    from tunesmith.errors import TunesmithError
    from tunesmith.pipeline.run import run, start_run_folder

    recipe = recipe_io.load(_recipe(tmp_path, tiny_model))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "manifest.json").write_text("{}")  # a finished run
    start_run_folder(recipe, tmp_path / ".out.partial")  # and an interrupted one of the same recipe
    with pytest.raises(TunesmithError, match="already holds a run"):
        run(recipe, tmp_path / "out", resume=True)
    assert (tmp_path / "out" / "manifest.json").is_file() and (tmp_path / ".out.partial").is_dir()
