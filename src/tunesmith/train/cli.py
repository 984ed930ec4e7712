"""`tunesmith train`: fine-tune on a prepared run, on one process or many (torchrun)."""

from __future__ import annotations

import typer

from tunesmith.console import console
from tunesmith.options import (
    ForceOption,
    MasterAddrOption,
    MasterPortOption,
    NnodesOption,
    NodeRankOption,
    NprocOption,
    ResumeOption,
    RunDir,
)

app = typer.Typer()


def processes_for(nproc: int, nnodes: int, node_rank: int, master_addr: str, master_port: int):  # type: ignore[no-untyped-def]
    from tunesmith.train.launch import Processes

    processes = Processes(nproc, nnodes, node_rank, master_addr, master_port)
    processes.check()
    return processes


@app.command()
def train(
    run_dir: RunDir,
    resume: ResumeOption = False,
    nproc: NprocOption = 1,
    nnodes: NnodesOption = 1,
    node_rank: NodeRankOption = 0,
    master_addr: MasterAddrOption = "127.0.0.1",
    master_port: MasterPortOption = 29500,
    force: ForceOption = False,
) -> None:
    """Fine-tune the recipe's model on RUN_DIR/data (after `prepare`).

    Checkpoints go to RUN_DIR/checkpoints every training.checkpoint_steps; Ctrl-C saves one and
    stops. Several processes train with DDP through torchrun (FSDP or DeepSpeed by
    training.distributed); rank 0 alone writes.

    Examples:

        tunesmith train runs/faq

        tunesmith train runs/faq --resume

        tunesmith train runs/faq --nproc 4

        tunesmith train runs/faq --nproc 8 --nnodes 2 --node-rank 0 --master-addr 10.0.0.1
    """
    from tunesmith.train.stage import train as train_stage

    processes = processes_for(nproc, nnodes, node_rank, master_addr, master_port)
    train_stage(run_dir, resume=resume, processes=processes, force=force)
    console.print(f"next: tunesmith evaluate {run_dir}")
