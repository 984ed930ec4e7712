"""Two-process DDP (gloo, CPU) through the real CLI against one process with the same global batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import tunesmith
from helpers import write_faq_recipe

# Stated tolerance: the processes draw different dropout masks and DDP shards the shuffled data
# differently from one process, so the runs are not bit-identical; their test metrics must agree
# within 0.05 and both must have learned the task.
TOLERANCE = 0.05


def test_two_gloo_processes_match_one_process_with_the_same_global_batch(
    tmp_path: Path, tiny_model: Path
) -> None:
    recipe = write_faq_recipe(
        tmp_path,
        tiny_model,
        "{epochs: 6, batch_size: 8, learning_rate: 0.003, early_stopping_patience: null}",
    )
    tunesmith("run", str(recipe), "-o", "one", cwd=tmp_path)
    # 2 processes x 4 per batch = the single process's 8.
    tunesmith("run", str(recipe), "-o", "two", "--nproc", "2", "--set", "training.batch_size=4", cwd=tmp_path)

    one = json.loads((tmp_path / "one" / "metrics.json").read_text())["test"]
    two = json.loads((tmp_path / "two" / "metrics.json").read_text())["test"]
    assert one["accuracy"] > 0.9 and two["accuracy"] > 0.9
    assert two["accuracy"] == pytest.approx(one["accuracy"], abs=TOLERANCE)
    assert two["macro_f1"] == pytest.approx(one["macro_f1"], abs=TOLERANCE)

    summary = json.loads((tmp_path / "two" / "train_summary.json").read_text())
    single = json.loads((tmp_path / "one" / "train_summary.json").read_text())
    assert summary["world_size"] == 2 and summary["distributed"] == "ddp"
    assert summary["global_batch_size"] == single["global_batch_size"] == 8
    assert summary["steps"] == single["steps"]  # the same number of optimizer steps over the data
    # Written once, by rank 0: one TensorBoard event file, one log, no leftover checkpoints.
    assert len(list((tmp_path / "two" / "logs").glob("events.out.tfevents.*"))) == 1
    assert not (tmp_path / "two" / "checkpoints").exists()
    tunesmith("predict", "two", "怎么修改密码", cwd=tmp_path)


def test_sharding_strategies_ship_valid_configs_and_refuse_cleanly_without_gpus(
    tmp_path: Path, tiny_model: Path
) -> None:
    import torch
    from transformers import TrainingArguments

    from tunesmith.train.arguments import CONFIGS

    # The shipped FSDP configuration is one the Trainer accepts (it shards only on GPUs).
    args = TrainingArguments(
        output_dir=str(tmp_path / "x"), fsdp=True, fsdp_config=str(CONFIGS / "fsdp.json")
    )
    assert args.fsdp_config["auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    for stage in (2, 3):
        config = json.loads((CONFIGS / f"deepspeed_zero{stage}.json").read_text())
        assert config["zero_optimization"]["stage"] == stage
    if torch.cuda.is_available():
        return
    recipe = write_faq_recipe(tmp_path, tiny_model, "{}", rows=40)
    tunesmith("prepare", str(recipe), "-o", "run", "--set", "training.distributed=fsdp", cwd=tmp_path)
    result = tunesmith("train", "run", "--nproc", "2", cwd=tmp_path, check=False)
    assert result.returncode == 2 and "ddp on CPUs" in result.stdout + result.stderr


def test_ctrl_c_stops_every_process_after_the_same_step_and_resume_finishes(
    tmp_path: Path, tiny_model: Path
) -> None:
    import os
    import signal
    import subprocess
    import time

    from cli_helpers import TUNESMITH, environment

    from tunesmith.train.checkpoints import is_complete

    recipe = write_faq_recipe(
        tmp_path,
        tiny_model,
        "{epochs: 4, batch_size: 4, learning_rate: 0.003, checkpoint_steps: 15, "
        "early_stopping_patience: null}",
    )
    tunesmith("prepare", str(recipe), "-o", "run", cwd=tmp_path)
    # Its own session, like a terminal's foreground group: Ctrl-C reaches launcher and workers.
    process = subprocess.Popen(
        [*TUNESMITH, "train", "run", "--nproc", "2"],
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    checkpoints = tmp_path / "run" / "checkpoints"
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        if checkpoints.is_dir() and any(is_complete(c) for c in checkpoints.iterdir()):
            os.killpg(process.pid, signal.SIGINT)
            break
        time.sleep(0.02)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 130, output
    assert "--resume --nproc 2" in output
    assert (checkpoints / "stopped.json").is_file(), output
    stopped = json.loads((checkpoints / "stopped.json").read_text())
    assert is_complete(checkpoints / f"checkpoint-{stopped['step']}")  # both ranks saved that step
    tunesmith("train", "run", "--nproc", "2", "--resume", cwd=tmp_path)
    summary = json.loads((tmp_path / "run" / "train_summary.json").read_text())
    assert summary["resumed_from"] == f"checkpoint-{stopped['step']}" and summary["epochs"] == 4
