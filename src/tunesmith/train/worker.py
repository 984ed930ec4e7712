"""One training process of a torchrun launch (see `launch.py`); not a user command."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tunesmith.console import console
from tunesmith.errors import TrainingStopped, TunesmithError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tunesmith.train.worker")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--start-from", type=Path, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from tunesmith.train.stage import fit

    try:
        fit(args.run_dir, args.start_from)
    except TrainingStopped:
        # A clean stop, not a failure: torchrun exits 0 and the launcher reports the stop
        # (rank 0 left STOPPED_FILE beside the checkpoint).
        return 0
    except TunesmithError as error:
        console.print(f"[bold red]error (rank {os.environ.get('RANK', '0')}):[/] {error}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
