"""A slim install (`pip install tunesmith[serve]`: onnxruntime and tokenizers, no PyTorch,
transformers, scikit-learn or matplotlib) predicts and serves a run through its ONNX export with
the answers of the full install, and says what to install for what it cannot do. The slim process
is this environment with the `train` extra's modules made unimportable (cli_helpers.SLIM_INSTALL)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
from cli_helpers import Server, slim_environment, tunesmith

TEXTS = ["如何重置密码?", "物流太慢了!", "my card was declined"]


def _answers(run: Path, cwd: Path, env: dict[str, str] | None = None, *flags: str) -> list[dict]:
    inputs = cwd / "inputs.jsonl"
    inputs.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS), encoding="utf-8")
    printed = tunesmith("predict", str(run), "--file", str(inputs), *flags, cwd=cwd, env=env)
    return [json.loads(line) for line in printed.stdout.splitlines() if line.strip()]


def _libraries(pid: int) -> str:
    """The shared libraries a process and its children have mapped."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return Path(f"/proc/{pid}/maps").read_text() + "".join(_libraries(int(c)) for c in children)


def test_a_slim_install_predicts_and_serves_the_onnx_export_as_the_full_install(
    trained: Path, tmp_path: Path
) -> None:
    slim = slim_environment(tmp_path / "slim")
    full = _answers(trained, tmp_path, None, "--backend", "onnx")
    assert _answers(trained, tmp_path, slim) == full  # auto picks the proven export
    with Server(trained, cwd=tmp_path, env=slim) as server:
        served = httpx.post(f"{server.url}/v1/predict", json={"texts": TEXTS}, timeout=60).json()
        assert [a["label"] for a in served["predictions"]] == [a["label"] for a in full]
        libraries = _libraries(server.process.pid)
        assert "onnxruntime" in libraries and "libtorch" not in libraries
    refused = tunesmith(
        "predict", str(trained), TEXTS[0], "--backend", "torch", cwd=tmp_path, env=slim, check=False
    )
    assert refused.returncode == 2 and "tunesmith[train]" in refused.stderr, refused.stderr
    training = tunesmith("run", "recipe.yaml", cwd=trained.parents[1], env=slim, check=False)
    assert training.returncode == 2 and "pip install 'tunesmith[train]'" in training.stdout + training.stderr


def test_importing_the_cli_loads_no_heavy_library() -> None:
    """`tunesmith --help` and every command start without PyTorch, transformers, scikit-learn or
    matplotlib: a command imports what it uses when it runs."""
    heavy = ("torch", "transformers", "sklearn", "matplotlib", "datasets")
    code = f"import sys, tunesmith.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
