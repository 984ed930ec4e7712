"""The web console as its users meet it: Playwright drives Debian's headless Chromium (through
`executable_path`: no browser download is possible here) against a real `tunesmith console`
process that trains real runs with the tiny model. Screenshots of every page land in
$TUNESMITH_SCREENSHOTS when it is set."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import TUNESMITH, Server, tunesmith
from conftest import fast_overrides
from helpers import faq_records, write_jsonl

from tunesmith.serve.auth import create_key

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)"
)
# Chromium as root in a container, on a closed network: no sandbox, no background connections.
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LIMIT_MB = 0.05  # the console's upload limit here: the FAQ file fits, a 100 KB file does not
QUESTION = "我的密码忘了怎么办,电话13812345678"


class Console:
    def __init__(self, server: Server, root: Path, work: Path, run_key: str, read_key: str) -> None:
        self.server, self.url, self.root, self.work = server, server.url, root, work
        self.run_key, self.read_key = run_key, read_key


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Any:
    work = tmp_path_factory.mktemp("console")
    keys = work / "keys.json"
    run_key = create_key(keys, "analyst", ["run"], None)
    read_key = create_key(keys, "reviewer", ["read"], None)
    root = work / "runs"
    command = [
        *TUNESMITH, "console", "--root", str(root), "--port", "PORT", "--api-keys", str(keys),
        "--max-upload-mb", str(LIMIT_MB),
    ]  # fmt: skip
    with Server("", command=command, cwd=work, probe="/login") as server:
        yield Console(server, root, work, run_key, read_key)


def _start_run(
    page: Any, url: str, data: Path, name: str, overrides: list[str], shot: Any = lambda name: None
) -> str:
    """Upload `data`, check init's guesses, fill the recipe form and start; the job page's URL."""
    from playwright.sync_api import expect

    page.goto(f"{url}/new")
    page.get_by_label("Data file").set_input_files(str(data))
    page.get_by_role("button", name="Analyse").click()
    expect(page.get_by_role("heading", name="What init found")).to_be_visible()
    expect(page.locator(".findings")).to_contain_text("task classification")
    field = lambda key: page.locator(f"[name='{key}']")  # noqa: E731 - each field is a recipe key
    expect(field("data.label_field")).to_have_value("intent")
    expect(field("data.text_field")).to_have_value("question")
    field("name").fill(name)
    form = dict(item.split("=", 1) for item in overrides)
    field("model.name").fill(form.pop("model.name"))
    field("training.epochs").fill(form.pop("training.epochs"))
    shot("03-new-run-form")
    page.get_by_label("More settings").fill("\n".join(f"{k}={v}" for k, v in form.items()))
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url("**/jobs/*")
    return str(page.url)


def test_console_in_a_browser(console: Console, tiny_model: Path, tmp_path: Path) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("TUNESMITH_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    data = write_jsonl(console.work / "faq.jsonl", faq_records(240))
    overrides = fast_overrides(tiny_model)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)

        problems: list[str] = []

        def shot(name: str, on: Any = None) -> None:
            """A screenshot, and axe-core's accessibility rules on the page (serious and critical)."""
            target = on or page
            target.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            if not target.url.startswith(console.url) or "/files/" in target.url:
                return  # a run's own report: not the console's page
            for v in Axe().run(target).response["violations"]:
                if v["impact"] in ("serious", "critical"):
                    problems.append(f"{name}: {v['id']} ({v['impact']}) {v['help']}: {v['nodes'][0]['html']}")

        page.goto(f"{console.url}/")  # keys are on: the login page first
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        shot("01-login")
        page.get_by_label("API key").fill(console.run_key)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Runs")).to_be_visible()

        big = console.work / "big.jsonl"  # over the upload limit: refused with the reason
        big.write_text(json.dumps({"question": "x" * 200, "intent": "card"}) * 600, encoding="utf-8")
        page.goto(f"{console.url}/new")
        page.get_by_label("Data file").set_input_files(str(big))
        page.get_by_role("button", name="Analyse").click()
        expect(page.get_by_role("alert")).to_contain_text(f"limit of {LIMIT_MB:g} MB")

        first = _start_run(page, console.url, data, "faq-a", overrides, shot)
        shot("04-job-running")
        # a second run while the first trains: it waits in the queue (one at a time); stop it,
        # then resume it - the CLI's Ctrl-C and --resume
        page2 = context.new_page()  # the same signed-in session
        page2.set_default_timeout(30_000)
        _start_run(page2, console.url, data, "faq-b", [*overrides, "training.epochs=2"])
        page2.get_by_role("button", name="Stop").click()
        expect(page2.locator("#state")).to_have_text("stopped", timeout=120_000)
        shot("05-job-stopped", page2)

        page.goto(first)
        expect(page.locator("#state")).to_have_text("finished", timeout=240_000)  # live, then reloaded
        expect(page.locator("#log")).to_contain_text("done in")
        shot("06-job-finished")
        page2.get_by_role("button", name="Resume").click()
        expect(page2.locator("#state")).to_have_text("finished", timeout=240_000)
        assert "--resume" in page2.locator("#log").inner_text()

        page.goto(f"{console.url}/")
        rows = page.locator("table.runs tbody tr")
        expect(rows).to_have_count(2)
        expect(page.locator("table.runs")).to_contain_text("accuracy")
        page.get_by_role("link", name="Run", exact=True).click()  # sort by name
        expect(rows.first.locator("th")).to_have_text("faq-a")
        page.get_by_label("Find").fill("faq-b")
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(1)
        shot("02-runs-filtered")
        page.goto(f"{console.url}/?sort=name&order=asc")
        shot("02-runs")

        page.get_by_role("link", name="faq-a").click()
        expect(page.get_by_role("heading", name="Release gates")).to_be_visible()
        expect(page.locator("#gates")).to_contain_text("Releasable")
        expect(page.locator("#card")).to_contain_text("faq-a")
        expect(page.locator("#files")).to_contain_text("model/model.safetensors")
        assert page.locator("img[alt^='Training curves']").evaluate("img => img.naturalWidth") > 100
        shot("07-run")
        page.get_by_role("link", name="Data validation report").click()
        expect(page.locator("h1")).to_contain_text("Data")
        shot("08-data-report")
        page.go_back()
        page.get_by_role("link", name="Full report").click()
        expect(page.get_by_role("heading", name="Release gates")).to_be_visible()
        shot("09-report")

        page.goto(f"{console.url}/compare")
        page.get_by_label("Run A").select_option("faq-a")
        page.get_by_label("Run B").select_option("faq-b")
        page.get_by_role("button", name="Compare").click()
        expect(page.get_by_role("heading", name="Verdict")).to_be_visible(timeout=120_000)
        expect(page.locator("#diff-h + table")).to_contain_text("training.epochs")
        expect(page.locator("table").first).to_contain_text("95% CI")
        shot("10-compare")

        page.goto(f"{console.url}/playground")
        page.get_by_label("Run").select_option("faq-a")
        page.get_by_label("Text", exact=True).fill(QUESTION)
        page.get_by_role("button", name="Ask").click()
        expect(page.get_by_role("heading", name="Answer")).to_be_visible(timeout=60_000)
        shot("11-playground")
        shown = json.loads(page.locator("#answer-json").text_content() or "")
        seen = page.locator("#seen-text").inner_text()
        backend = page.locator("#answer-backend").inner_text()
        expect(page.locator("table.bars tbody tr")).to_have_count(len(shown["probabilities"]))
        page.goto(f"{console.url}/served")
        shot("12-served-none")

        # without JavaScript: signing in, the list, a run, a job's log and the playground all work
        plain = browser.new_context(java_script_enabled=False).new_page()
        plain.goto(f"{console.url}/login")
        plain.get_by_label("API key").fill(console.read_key)
        plain.get_by_role("button", name="Sign in").click()
        expect(plain.locator("table.runs tbody tr")).to_have_count(2)
        expect(plain.get_by_role("link", name="New run")).to_have_count(0)  # a read-only key
        plain.goto(first)
        expect(plain.locator("#log")).to_contain_text("done in")
        plain.goto(f"{console.url}/playground")
        plain.get_by_label("Text", exact=True).fill(QUESTION)
        plain.get_by_role("button", name="Ask").click()
        expect(plain.locator("#answer-label")).to_contain_text(shown["label"])
        browser.close()
    assert not problems, "\n".join(problems)

    printed = json.loads(tunesmith("predict", str(console.root / "faq-a"), QUESTION, cwd=console.work).stdout)
    assert shown["label"] == printed["label"]
    assert shown["probabilities"] == pytest.approx(printed["probabilities"], abs=1e-6)
    assert "13812345678" not in seen and "密码" in seen  # the model saw the text de-identified
    assert backend in ("torch", "onnx", "onnx-int8", "torchscript")


def test_refusals(console: Console) -> None:
    url, root = console.url, console.root
    data = write_jsonl(console.work / "small.jsonl", faq_records(20)).read_bytes()
    run = {"authorization": f"Bearer {console.run_key}"}
    read = {"authorization": f"Bearer {console.read_key}"}
    with httpx.Client(base_url=url, timeout=60) as client:
        assert client.get("/").status_code == 303  # nobody signed in: to the login page
        assert client.post("/new", files={"file": ("faq.jsonl", data)}).status_code == 401
        before = sorted(p.relative_to(root) for p in root.rglob("*"))
        for name in ("../../evil.jsonl", "..\\evil.jsonl", ".hidden.jsonl", "a/b.jsonl"):
            answer = client.post("/new", headers=run, files={"file": (name, data)})
            assert answer.status_code == 400, (name, answer.status_code)
            assert "refused" in answer.text
        exe = client.post("/new", headers=run, files={"file": ("tool.exe", b"MZ\x00\x00")})
        assert exe.status_code == 415
        assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing stored
        assert not list(console.work.parent.rglob("evil.jsonl"))

        # a read-only key reads, asks the playground, and starts nothing
        assert client.get("/", headers=read).status_code == 200
        assert client.get("/new", headers=read).status_code == 403
        refused = client.post("/new", headers=read, files={"file": ("faq.jsonl", data)})
        assert refused.status_code == 403 and "run scope" in refused.text
        jobs = sorted((root / ".console" / "jobs").glob("*"))
        for job in jobs:
            assert client.post(f"/jobs/{job.name}/resume", headers=read).status_code == 403
        # a page on another site cannot post to the console, even with a valid session
        foreign = client.post(
            "/new", headers={**run, "origin": "http://elsewhere.example"}, files={"file": ("faq.jsonl", data)}
        )
        assert foreign.status_code == 403
        assert sorted((root / ".console" / "jobs").glob("*")) == jobs
        # a run's files only: no way out of the run folder
        for path in (
            "/runs/x/files/../../keys.json",
            "/runs/x/files/%2e%2e/%2e%2e/keys.json",
            "/runs/..%2f/files/x",
        ):
            assert client.get(path, headers=read).status_code == 404, path
