"""Several training processes through torchrun: one per device (or CPU share) and node.

`tunesmith train RUN --nproc N [--nnodes M --node-rank R --master-addr HOST]` starts
`python -m torch.distributed.run ... -m tunesmith.train.worker RUN` on this node; every node of a
multi-node job runs the same command with its own --node-rank. The workers train with DDP (gloo on
CPU, NCCL on GPU) or the recipe's FSDP/DeepSpeed configuration; rank 0 alone writes artifacts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tunesmith.console import console
from tunesmith.errors import TrainingStopped, TunesmithError
from tunesmith.train.checkpoints import CHECKPOINTS_DIR, STOPPED_FILE


@dataclass(frozen=True)
class Processes:
    nproc: int = 1
    nnodes: int = 1
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int = 29500

    @property
    def world_size(self) -> int:
        return self.nproc * self.nnodes

    def check(self) -> None:
        if self.nproc < 1 or self.nnodes < 1:
            raise TunesmithError("--nproc and --nnodes must be at least 1")
        if not 0 <= self.node_rank < self.nnodes:
            raise TunesmithError(f"--node-rank {self.node_rank} must be between 0 and {self.nnodes - 1}")


def in_worker() -> bool:
    """True inside a process torchrun started."""
    return "TORCHELASTIC_RUN_ID" in os.environ or "LOCAL_RANK" in os.environ


def torchrun_command(run_dir: Path, start_from: Path | None, processes: Processes) -> list[str]:
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={processes.nproc}"]
    if processes.nnodes == 1:
        command.append("--standalone")  # a free port on this machine, no rendezvous server
    else:
        command += [
            f"--nnodes={processes.nnodes}",
            f"--node-rank={processes.node_rank}",
            f"--master-addr={processes.master_addr}",
            f"--master-port={processes.master_port}",
        ]
    command += ["-m", "tunesmith.train.worker", str(run_dir)]
    if start_from is not None:
        command += ["--start-from", str(start_from)]
    return command


def launch(run_dir: Path, start_from: Path | None, processes: Processes) -> None:
    """Run the workers to the end; raise when any of them fails."""
    processes.check()
    env = dict(os.environ)
    cpus = os.cpu_count() or 1
    # Each CPU process gets its share of the cores (torchrun's default is one thread each).
    env.setdefault("OMP_NUM_THREADS", str(max(1, cpus // processes.nproc)))
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    console.print(
        f"launching {processes.nproc} processes x {processes.nnodes} node(s) "
        f"(world size {processes.world_size}) through torchrun"
    )
    interrupted: list[int] = []
    # The terminal's Ctrl-C reaches the workers directly (one process group); they finish the step,
    # save and exit. This process waits for them instead of dying first (a handler, not SIG_IGN,
    # which torchrun would inherit).
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: interrupted.append(signum))
    try:
        result = subprocess.run(torchrun_command(run_dir, start_from, processes), env=env, check=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted or (run_dir / CHECKPOINTS_DIR / STOPPED_FILE).is_file():
        raise TrainingStopped(
            f"stopped; completed checkpoints are in {run_dir / 'checkpoints'}. "
            f"Continue with: tunesmith train {run_dir} --resume --nproc {processes.nproc}"
        )
    if result.returncode != 0:
        raise TunesmithError(
            f"distributed training failed (torchrun exit code {result.returncode}); the messages above "
            f"name the failing rank. Completed checkpoints stay in {run_dir / 'checkpoints'}: resume "
            f"with --resume"
        )
