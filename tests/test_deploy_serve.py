"""The serving Dockerfiles and Kubernetes manifests parse, use only commands and flags the CLI
has, and probe routes the server answers (no Docker engine or cluster runs here)."""

from __future__ import annotations

import re

import pytest
from cli_helpers import tunesmith
from deploy_files import DEPLOY, containers, dockerfile, exec_form, manifests, stages

from tunesmith.serve.app import build_app
from tunesmith.serve.settings import ServeSettings


@pytest.fixture(scope="module")
def serve_help(tmp_path_factory: pytest.TempPathFactory) -> str:
    return tunesmith("serve", "--help", cwd=tmp_path_factory.mktemp("help")).stdout


def routes() -> set[str]:
    app = build_app(ServeSettings(runs={"v": "/nowhere"}, auth=False, state_dir="/tmp/tunesmith-routes"))
    return set(app.app.app.openapi()["paths"])


def flags_of(args: list[str]) -> list[str]:
    return [a for a in args if a.startswith("--")]


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.torch", "Dockerfile.cuda"])
def test_dockerfile_is_multistage_non_root_with_a_healthcheck(name: str, serve_help: str) -> None:
    steps = dockerfile(DEPLOY / "docker" / name)
    build, final = stages(steps)
    assert " AS build" in build[0][1]
    assert any(i == "COPY" and a.startswith("--from=build") for i, a in final)
    user = [a for i, a in final if i == "USER"]
    assert user and user[-1] not in ("root", "0")
    health = next(a for i, a in final if i == "HEALTHCHECK")
    assert "/v2/health/live" in health and "/v2/health/live" in routes()
    entry = exec_form(next(a for i, a in final if i == "ENTRYPOINT"))
    command = exec_form(next(a for i, a in final if i == "CMD"))
    assert entry == ["tunesmith", "serve"]
    for flag in flags_of(command):
        assert re.search(rf"{flag}\b", serve_help), flag
    assert not any(i == "RUN" and "pip install" in a for i, a in final)  # the runtime stage is slim


def test_kubernetes_manifests_probe_v2_health_and_use_real_flags(serve_help: str) -> None:
    docs = manifests(DEPLOY / "k8s" / "serve.yaml") + manifests(
        DEPLOY / "k8s" / "kserve-inferenceservice.yaml"
    )
    kinds = {d["kind"] for d in docs}
    assert {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "InferenceService",
    } <= kinds
    served = routes()
    for doc in docs:
        if doc["kind"] not in ("Deployment", "InferenceService"):
            continue
        for container in containers(doc):
            assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
            assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
            assert {"/v2/health/ready", "/v2/health/live"} <= served
            for flag in flags_of(container["args"]):
                assert re.search(rf"{flag}\b", serve_help), flag
            assert "--open-health" in container["args"]  # probes carry no key
            port = int(container["args"][container["args"].index("--port") + 1])
            assert port == container["ports"][0]["containerPort"]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > 30  # > graceful 30 s
    names = {d["metadata"]["name"] for d in docs if d["kind"] != "InferenceService"}
    assert names == {"tunesmith-serve"}
    for doc in docs:
        if doc["kind"] in ("HorizontalPodAutoscaler",):
            assert doc["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
