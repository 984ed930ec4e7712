"""Production serving over real HTTP with the shared tiny run: dynamic batching, keys and rate
limits, a full queue, A/B routing with sticky users, a shadow and feedback read by
`tunesmith ab-test`, the V2 protocol and the WebSocket giving /v1/predict's answers, admin
changes, several workers with graceful shutdown, and a model that fails to load."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import JAVA_MAIN, Server, java, tunesmith
from websockets.sync.client import connect

TEXTS = ["如何重置密码?", "物流太慢了!", "退款什么时候到账", "my card was declined", "密码忘了怎么办", "好"]


def make_key(folder: Path, name: str, *flags: str) -> str:
    out = tunesmith("keys", "create", name, "--file", "keys.json", *flags, cwd=folder).stdout
    return out.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def ab_server(
    trained: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, dict[str, str]]]:
    """Versions a (70%) and b (30%) of the run, a shadow s, keys on, batches of up to 16."""
    folder = tmp_path_factory.mktemp("ab")
    keys = {
        "user": make_key(folder, "user"),
        "admin": make_key(folder, "ops", "--scope", "admin"),
        "slow": make_key(folder, "slow", "--rate-limit", "6"),
        "burst": make_key(folder, "burst", "--rate-limit", "60"),  # 5 at once, then one a second
    }
    flags = ["--split", "a=70,b=30", "--sticky-header", "X-User-Id", "--shadow", f"s={trained}"]
    flags += [
        "--api-keys",
        "keys.json",
        "--max-batch-size",
        "16",
        "--max-wait-ms",
        "20",
        "--rate-limit",
        "100000",
    ]
    with Server(f"a={trained}", f"b={trained}", *flags, cwd=folder, key=keys["user"]) as server:
        yield server, keys


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        head = line.startswith(name + "{") or line.startswith(name + " ")
        if head and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def _many(
    url: str, bodies: list[dict[str, Any]], headers: list[dict[str, str]], limit: int
) -> list[Any]:
    gate = asyncio.Semaphore(limit)
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(body: dict[str, Any], head: dict[str, str]) -> Any:
            async with gate:
                return await client.post(url, json=body, headers=head)

        return await asyncio.gather(*(one(b, h) for b, h in zip(bodies, headers, strict=True)))


def many(url: str, bodies: list[dict[str, Any]], headers: list[dict[str, str]], limit: int = 32) -> list[Any]:
    return asyncio.run(_many(url, bodies, headers, limit))


def test_concurrent_requests_are_batched_and_answer_as_alone(
    ab_server: tuple[Server, dict[str, str]],
) -> None:
    server, keys = ab_server
    head = bearer(keys["user"]) | {"x-model-version": "a"}
    url = f"{server.url}/v1/predict"
    alone = [httpx.post(url, json={"text": t}, headers=head).json()["predictions"][0] for t in TEXTS]
    before = httpx.get(f"{server.url}/metrics", headers=bearer(keys["user"])).text
    bodies = [{"text": TEXTS[i % len(TEXTS)]} for i in range(96)]
    responses = many(url, bodies, [head] * len(bodies), limit=48)
    after = httpx.get(f"{server.url}/metrics", headers=bearer(keys["user"])).text
    assert all(r.status_code == 200 for r in responses)
    for i, response in enumerate(responses):
        answer = response.json()["predictions"][0]
        assert answer["label"] == alone[i % len(TEXTS)]["label"]
        assert answer["probabilities"] == pytest.approx(alone[i % len(TEXTS)]["probabilities"], abs=1e-5)
    batches = metric(after, "tunesmith_batch_size_count", version="a") - metric(
        before, "tunesmith_batch_size_count", version="a"
    )
    singles = metric(after, "tunesmith_batch_size_bucket", version="a", le="1.0") - metric(
        before, "tunesmith_batch_size_bucket", version="a", le="1.0"
    )
    assert batches < 96 and batches - singles >= 1, (batches, singles)  # batches of more than one text
    for name in ("tunesmith_requests_total", "tunesmith_queue_wait_seconds_bucket", "tunesmith_queue_depth"):
        assert name in after
    assert "tunesmith_model_load_seconds" in after and "process_resident_memory_bytes" in after


def test_keys_scopes_and_rate_limits(ab_server: tuple[Server, dict[str, str]]) -> None:
    server, keys = ab_server
    url = f"{server.url}/v1/predict"
    missing = httpx.post(url, json={"text": "hi"})
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert httpx.post(url, json={"text": "hi"}, headers=bearer("tsk_wrong")).status_code == 403
    assert httpx.get(f"{server.url}/admin/versions", headers=bearer(keys["user"])).status_code == 403
    assert httpx.get(f"{server.url}/admin/versions", headers=bearer(keys["admin"])).status_code == 200
    assert httpx.get(f"{server.url}/metrics").status_code == 401  # not opened by --open-health
    statuses = [httpx.post(url, json={"text": "hi"}, headers=bearer(keys["slow"])) for _ in range(7)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and int(limited[0].headers["retry-after"]) >= 1
    assert "rate limit" in limited[0].json()["error"]
    log = server.output()
    assert '"status": 429' in log and "如何" not in log and '"key": "slow"' in log  # JSON logs, no raw text


def test_ab_split_sticky_users_shadow_and_feedback_to_ab_test(
    ab_server: tuple[Server, dict[str, str]],
) -> None:
    server, keys = ab_server
    url = f"{server.url}/v1/predict"
    head = bearer(keys["user"])
    responses = many(url, [{"text": TEXTS[i % 6]} for i in range(1000)], [head] * 1000)
    versions = Counter(r.json()["version"] for r in responses)
    assert set(versions) == {"a", "b"}  # the shadow never answers
    assert abs(versions["a"] / 1000 - 0.70) < 0.05, versions  # 3.4 standard errors of a 1,000-draw share
    assert all(r.headers["x-model-version"] == r.json()["version"] for r in responses)
    users = [f"user-{i}" for i in range(40)]
    first = {
        u: httpx.post(url, json={"text": "hi"}, headers=head | {"x-user-id": u}).json()["version"]
        for u in users
    }
    again = many(url, [{"text": "hi"}] * 120, [head | {"x-user-id": users[i % 40]} for i in range(120)])
    assert all(r.json()["version"] == first[users[i % 40]] for i, r in enumerate(again))
    assert set(first.values()) == {"a", "b"}
    # Outcomes for the answers (b is made to do better), then the A/B test reads the server's log.
    feedback = [
        {"request_id": r.json()["request_id"], "outcome": int(r.json()["version"] == "b" or i % 2 == 0)}
        for i, r in enumerate(responses[:400])
    ]
    recorded = many(f"{server.url}/v1/feedback", feedback, [head] * len(feedback))
    assert all(r.status_code == 200 for r in recorded)
    assert (
        httpx.post(
            f"{server.url}/v1/feedback", json={"request_id": "a.00.forged", "outcome": 1}, headers=head
        ).status_code
        == 404
    )
    state = server.cwd / "serve-state"
    result = tunesmith("ab-test", str(state / "feedback.jsonl"), "--a", "a", "--b", "b", cwd=server.cwd)
    assert "B - A = +" in result.stdout + result.stderr
    answers = [
        json.loads(line) for line in (state / "answers.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    served_ids = {r.json()["request_id"] for r in responses}
    shadowed = {a["request_id"] for a in answers if a.get("shadow")}
    assert all(a["version"] == "s" for a in answers if a.get("shadow"))
    assert len(shadowed & served_ids) > 900  # the shadow saw (nearly) every request, answered none
    assert all("text_sha256" in a for a in answers if not a.get("shadow"))
    assert "如何" not in (state / "answers.jsonl").read_text(encoding="utf-8")  # never the raw text


def test_v2_protocol_and_websocket_answer_as_v1(
    ab_server: tuple[Server, dict[str, str]], trained: Path
) -> None:
    server, keys = ab_server
    head = bearer(keys["user"]) | {"x-model-version": "a"}
    v1 = httpx.post(f"{server.url}/v1/predict", json={"texts": TEXTS}, headers=head).json()["predictions"]
    model = httpx.get(f"{server.url}/ready", headers=head).json()["model"]
    meta = httpx.get(f"{server.url}/v2/models/{model}", headers=head).json()
    assert meta["inputs"][0] == {"name": "text", "datatype": "BYTES", "shape": [-1]}
    body = {
        "id": "r1",
        "inputs": [{"name": "text", "shape": [len(TEXTS)], "datatype": "BYTES", "data": TEXTS}],
    }
    v2 = httpx.post(f"{server.url}/v2/models/{model}/versions/a/infer", json=body, headers=head).json()
    outputs = {o["name"]: o for o in v2["outputs"]}
    assert v2["model_version"] == "a" and v2["id"] == "r1"
    assert outputs["label"]["data"] == [p["label"] for p in v1]
    labels = outputs["probabilities"]["parameters"]["labels"]
    width = len(labels)
    for i, p in enumerate(v1):
        row = outputs["probabilities"]["data"][i * width : (i + 1) * width]
        assert row == pytest.approx([p["probabilities"][k] for k in labels], abs=1e-5)
    wrong = httpx.post(
        f"{server.url}/v2/models/{model}/infer",
        json={"inputs": [{"name": "text", "shape": [1], "datatype": "FP32", "data": [1.0]}]},
        headers=head,
    )
    assert wrong.status_code == 400 and "BYTES" in wrong.json()["error"]
    with connect(f"ws://127.0.0.1:{server.port}/v1/ws", additional_headers=head) as socket:
        for i, text in enumerate(TEXTS):
            socket.send(json.dumps({"id": i, "text": text}))
        socket.send("{not json")
        got = [json.loads(socket.recv(timeout=30)) for _ in range(len(TEXTS) + 1)]
    errors = [g for g in got if "error" in g]
    assert len(errors) == 1 and errors[0]["status"] == 400
    by_id = {g["id"]: g for g in got if "error" not in g}
    for i, p in enumerate(v1):
        assert by_id[i]["predictions"][0]["label"] == p["label"] and by_id[i]["version"] == "a"
        assert by_id[i]["predictions"][0]["probabilities"] == pytest.approx(p["probabilities"], abs=1e-5)
    embeddings = httpx.post(f"{server.url}/v1/embeddings", json={"input": "hi"}, headers=head)
    assert embeddings.status_code == 400 and "classification" in embeddings.json()["error"]


def test_sdk_sync_and_async_clients_agree_retry_after_429_and_pin_versions(
    ab_server: tuple[Server, dict[str, str]],
) -> None:
    from tunesmith.client import AsyncClient, Client, ClientError

    server, keys = ab_server
    texts = TEXTS + TEXTS[:4]  # 10 texts, sent 4 at a time and put back in order
    with Client(server.url, api_key=keys["user"], version="b", batch_size=4) as client:
        sync = client.predict(texts)
        one = client.predict(TEXTS[1])
        assert client.feedback(one.request_id, True)["version"] == "b"

    async def in_async() -> list[Any]:
        async with AsyncClient(server.url, api_key=keys["user"], version="b", batch_size=4) as client:
            return list(await client.predict(texts))

    asynchronous = asyncio.run(in_async())
    assert [a["label"] for a in sync] == [a["label"] for a in asynchronous] and len(sync) == 10
    assert all(a.version == "b" for a in [*sync, *asynchronous]) and sync[1]["label"] == one["label"]
    assert sync[0]["probabilities"] == pytest.approx(asynchronous[0]["probabilities"], abs=1e-6)
    admin = bearer(keys["admin"])
    before = httpx.get(f"{server.url}/metrics", headers=admin).text
    with Client(server.url, api_key=keys["burst"], retries=5, backoff=0.01) as client:
        answers = [client.predict("hi") for _ in range(8)]  # the 6th is refused with 429: retried
    # Five retries 10 ms apart would all meet an empty bucket (one token a second) and fail: the
    # client succeeded because it waited the Retry-After the server asked for.
    refusals = metric(
        httpx.get(f"{server.url}/metrics", headers=admin).text, "tunesmith_requests_total", status="429"
    )
    assert len(answers) == 8 and refusals > metric(before, "tunesmith_requests_total", status="429")
    before = metric(
        httpx.get(f"{server.url}/metrics", headers=admin).text, "tunesmith_requests_total", status="403"
    )
    with Client(server.url, api_key="tsk_wrong", retries=5) as client, pytest.raises(ClientError) as refused:
        client.predict("hi")
    after = metric(
        httpx.get(f"{server.url}/metrics", headers=admin).text, "tunesmith_requests_total", status="403"
    )
    assert refused.value.status == 403 and after - before == 1  # a 403 is sent once, not retried


def test_java_client_answers_as_the_python_client_retries_after_429_and_refuses_once(
    ab_server: tuple[Server, dict[str, str]], java_client: Path
) -> None:
    from tunesmith.client import Client

    server, keys = ab_server
    texts = TEXTS + TEXTS[:4]  # 10 texts in requests of 4: answers put back in order
    flags = ["--key", keys["user"], "--version", "b", "--batch-size", "4"]
    ran = java(java_client, JAVA_MAIN, server.url, "predict", *flags, stdin="\n".join(texts))
    assert ran.returncode == 0, ran.stderr
    from_java = [json.loads(line) for line in ran.stdout.splitlines()]
    with Client(server.url, api_key=keys["user"], version="b", batch_size=4) as client:
        from_python = client.predict(texts)
    assert [a["label"] for a in from_java] == [a["label"] for a in from_python] and len(from_java) == 10
    for j, p in zip(from_java, from_python, strict=True):
        assert j["probabilities"] == pytest.approx(p["probabilities"], abs=1e-6) and j["version"] == "b"
    assert len({a["request_id"] for a in from_java}) == 3  # one request id per request of 4, 4 and 2
    admin = bearer(keys["admin"])

    def counted(status: str) -> float:
        page = httpx.get(f"{server.url}/metrics", headers=admin).text
        return metric(page, "tunesmith_requests_total", status=status)

    before = counted("429")
    burst = ["--key", keys["burst"], "--batch-size", "1", "--retries", "5", "--backoff", "0.01"]
    ran = java(java_client, JAVA_MAIN, server.url, "predict", *burst, stdin="\n".join(["hi"] * 8))
    assert ran.returncode == 0 and len(ran.stdout.splitlines()) == 8, ran.stderr
    assert counted("429") > before  # refused on the way, answered after waiting the Retry-After
    before = counted("403")
    ran = java(java_client, JAVA_MAIN, server.url, "predict", "--key", "tsk_wrong", "--retries", "5", "hi")
    assert ran.returncode == 1 and "403: unknown API key" in ran.stderr and counted("403") - before == 1
    ran = java(java_client, JAVA_MAIN, server.url, "answer", "--key", keys["user"], "如何重置密码?")
    assert ran.returncode == 1 and "400: version" in ran.stderr and "needs a matching run" in ran.stderr


def test_admin_adds_a_version_moves_traffic_and_rolls_back(
    ab_server: tuple[Server, dict[str, str]], trained: Path
) -> None:
    server, keys = ab_server
    admin, head, url = bearer(keys["admin"]), bearer(keys["user"]), f"{server.url}/v1/predict"
    added = httpx.post(f"{server.url}/admin/versions", json={"name": "c", "run": str(trained)}, headers=admin)
    assert added.status_code == 200 and added.json()["weights"]["c"] == 0.0
    assert (
        httpx.post(url, json={"text": "hi"}, headers=head | {"x-model-version": "c"}).json()["version"] == "c"
    )
    broken = httpx.post(f"{server.url}/admin/versions", json={"name": "d", "run": "/nowhere"}, headers=admin)
    assert broken.status_code == 409 and "not a finished run" in broken.json()["error"]
    moved = httpx.put(f"{server.url}/admin/weights", json={"weights": {"a": 0, "b": 100}}, headers=admin)
    assert moved.status_code == 200 and moved.json()["weights"] == {"a": 0.0, "b": 100.0, "c": 0.0}
    assert {httpx.post(url, json={"text": "hi"}, headers=head).json()["version"] for _ in range(20)} == {"b"}
    assert (
        httpx.put(f"{server.url}/admin/weights", json={"weights": {"zz": 1}}, headers=admin).status_code
        == 409
    )
    assert httpx.post(f"{server.url}/admin/rollback", headers=admin).json()["weights"] == {
        "a": 70.0,
        "b": 30.0,
        "c": 0.0,
    }


def test_full_queue_answers_503_at_once_and_deadlines_504(trained: Path) -> None:
    flags = ("--max-queue", "2", "--max-batch-size", "1", "--max-wait-ms", "0", "--timeout", "0.05")
    with Server(trained, *flags) as server:
        responses = many(f"{server.url}/v1/predict", [{"texts": TEXTS[:2]}] * 64, [{}] * 64, limit=64)
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {200, 503, 504} and statuses[503] > 0, statuses
    busy = next(r for r in responses if r.status_code == 503)
    assert int(busy.headers["retry-after"]) >= 1 and "busy" in busy.json()["error"]
    # nothing hangs: every request was answered, refused or timed out (many() raises otherwise)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_workers_are_replaced_and_sigterm_loses_no_accepted_request(trained: Path) -> None:
    with Server(trained, "--workers", "2") as server:
        url = f"{server.url}/v1/predict"
        workers = [p for p in _children(server.process.pid) if p != server.process.pid]
        workers = [p for p in workers if "resource_tracker" not in Path(f"/proc/{p}/cmdline").read_text()]
        assert len(workers) >= 2, workers
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            alive = [p for p in _children(server.process.pid) if p not in workers]
            if alive and httpx.get(f"{server.url}/v2/health/ready").status_code == 200:
                break
            time.sleep(0.5)
        assert alive, "the killed worker was not replaced"
        results: list[Any] = []

        def client() -> None:
            with httpx.Client(timeout=60) as http:
                for _ in range(40):
                    try:
                        results.append(http.post(url, json={"texts": TEXTS}).status_code)
                    except httpx.ConnectError:
                        results.append("refused")  # not accepted: the server had stopped listening
                    except httpx.HTTPError as error:
                        results.append(f"lost: {error!r}")

        threads = [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        server.process.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join()
        assert server.process.wait(timeout=60) == 0
    assert 200 in results and not [r for r in results if r not in (200, "refused")], Counter(
        map(str, results)
    )
    text = server.output()
    assert "Traceback" not in text


def test_a_model_that_fails_to_load_keeps_ready_false_and_says_why(trained: Path, tmp_path: Path) -> None:
    copy = tmp_path / "tampered"
    shutil.copytree(trained, copy)
    with (copy / "model" / "labels.json").open("a", encoding="utf-8") as handle:
        handle.write(" ")
    with Server(copy, ready=False) as server:
        for _ in range(100):
            ready = httpx.get(f"{server.url}/ready")
            if "loading" not in ready.text:
                break
            time.sleep(0.2)
        assert ready.status_code == 503 and re.search("labels.json: checksum differs", ready.text)
        predict = httpx.post(f"{server.url}/v1/predict", json={"text": "hi"})
        assert predict.status_code == 503 and "checksum" in predict.text


def test_the_image_entrypoint_serves_from_a_clean_install_as_the_dockerfile_makes_it(
    trained: Path, tmp_path: Path
) -> None:
    """The Dockerfile's build stage run command by command: WORKDIR and COPY into a folder, RUN
    as written with its paths moved under it, then ENTRYPOINT + CMD with the run folder and key
    file where the image expects them. One difference, since no image can be pulled here: the
    new venv sees this environment's installed dependencies through a .pth file (pip then finds
    torch and the rest already satisfied, offline); tunesmith itself is built from the copied
    source and installed into the new venv, as in the image."""
    import site
    import sys

    from deploy_files import DEPLOY, dockerfile, exec_form, stages

    root = Path(__file__).parents[2]
    build, final = stages(dockerfile(DEPLOY / "docker" / "Dockerfile"))
    image = tmp_path / "image"
    mapping = {"/opt/tunesmith": str(image / "opt" / "tunesmith")}
    workdir = image / "src"
    for instruction, arguments in build[1:]:
        for old, new in mapping.items():
            arguments = arguments.replace(old, new)
        if instruction == "WORKDIR":
            workdir = image / arguments.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY":
            *sources, target = arguments.split()
            for source in sources:
                destination = (
                    workdir / target / Path(source).name if target.endswith("/") else workdir / target
                )
                if (root / source).is_dir():
                    shutil.copytree(root / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(root / source, destination)
        elif instruction == "RUN":
            command = arguments.replace("python -m venv", f"{sys.executable} -m venv", 1)
            done = subprocess.run(
                command, shell=True, cwd=workdir, capture_output=True, text=True, timeout=600
            )
            assert done.returncode == 0, f"RUN {arguments}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            if "-m venv" in arguments:
                venv_site = next((Path(mapping["/opt/tunesmith"]) / "lib").glob("python3*/site-packages"))
                (venv_site / "host-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    venv_bin = Path(mapping["/opt/tunesmith"]) / "bin"
    installed = subprocess.run(
        [str(venv_bin / "python"), "-c", "import tunesmith; print(tunesmith.__file__)"],
        capture_output=True,
        text=True,
    )
    assert str(image) in installed.stdout  # the copy built into the new venv, not this checkout
    entry = exec_form(next(a for i, a in final if i == "ENTRYPOINT"))
    command = exec_form(next(a for i, a in final if i == "CMD"))
    keys = tmp_path / "keys.json"
    key = make_key(tmp_path, "probe").strip()
    replaced = {"/models/run": str(trained), "/etc/tunesmith/keys.json": str(keys)}
    command = [replaced.get(a, a) for a in command]
    port = command.index("--port") + 1
    command = [*command[:port], "PORT", *command[port + 1 :]]
    state = command.index("--state-dir") + 1
    command[state] = str(tmp_path / "state")
    env_path = {"PATH": f"{venv_bin}:{os.environ['PATH']}"}
    server = Server(
        "", ready=True, key=key, command=[str(venv_bin / entry[0]), *entry[1:], *command], env=env_path
    )
    with server:
        assert "0.0.0.0" in command
        answer = httpx.post(f"{server.url}/v1/predict", json={"text": TEXTS[0]}, headers=bearer(key)).json()[
            "predictions"
        ][0]
        assert answer["label"]
        assert httpx.get(f"{server.url}/v2/health/live").status_code == 200  # --open-health


def test_console_served_view_reads_versions_split_and_live_load(
    ab_server: tuple[Server, dict[str, str]],
) -> None:
    """What the console's served-models page shows, read from this real server."""
    from tunesmith.web.served import ServedWatch

    server, keys = ab_server
    watch = ServedWatch(server.url, keys["admin"])
    watch.look()  # the first reading
    for _ in range(12):
        httpx.post(f"{server.url}/v1/predict", json={"text": "hi"}, headers=bearer(keys["user"]))
    view = watch.look()
    state = httpx.get(f"{server.url}/admin/versions", headers=bearer(keys["admin"])).json()
    assert not view.problems
    assert view.weights == state["weights"] and {"a", "b", "s"} <= {v["name"] for v in view.versions}
    assert all(v["weight"] == state["weights"].get(v["name"], 0.0) for v in view.versions)
    answered = {load.version: load for load in view.loads if load.rate > 0}
    assert answered and set(answered) <= {"a", "b", "s", "c"}
    assert sum(load.rate for load in answered.values()) * view.window_s == pytest.approx(12, abs=0.5)
    assert all(load.mean_ms is not None and load.mean_ms > 0 for load in answered.values())
    assert all(load.p95_ms is not None and load.error_rate == 0 for load in answered.values())
    user_view = ServedWatch(server.url, keys["user"]).look()  # not an admin: says what it needs
    assert any("admin scope" in p for p in user_view.problems)
