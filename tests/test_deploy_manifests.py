"""The Kubernetes training manifest parses and launches `tunesmith train` with the flags the CLI has."""

from __future__ import annotations

from pathlib import Path

import yaml
from cli_helpers import tunesmith

MANIFEST = Path(__file__).parents[1] / "deploy" / "k8s" / "train-multinode.yaml"


def test_multinode_job_gives_each_pod_its_rank_and_the_rank0_address(tmp_path: Path) -> None:
    service, job = list(yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8")))
    assert service["kind"] == "Service" and service["spec"]["clusterIP"] == "None"
    spec = job["spec"]
    assert job["kind"] == "Job" and spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"]
    pod = spec["template"]["spec"]
    assert pod["subdomain"] == service["metadata"]["name"]
    container = pod["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert int(env["NNODES"]["value"]) == spec["completions"]
    assert "job-completion-index" in env["NODE_RANK"]["valueFrom"]["fieldRef"]["fieldPath"]
    command = container["args"][0]
    assert f"{job['metadata']['name']}-0.{service['metadata']['name']}" in command
    # Every flag the manifest passes exists on `tunesmith train`.
    help_text = tunesmith("train", "--help", cwd=tmp_path).stdout
    for flag in ("--nproc", "--nnodes", "--node-rank", "--master-addr", "--master-port"):
        assert flag in command and flag in help_text
    assert "--resume" in help_text and "$RESUME" in command  # RESUME="--resume" reruns a failed job
