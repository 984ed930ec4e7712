"""`tunesmith insights` through the real CLI with the shared tiny intent run: a CSV export and a
real SQLite database, scored incrementally (a second run scores only the new records), an insight
report that finds a planted spike, and the mistakes a user makes named plainly."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import tunesmith
from helpers import faq_records

SPIKE_DAY = "2026-10-15"


def tickets(first_id: int, count: int, seed: int) -> list[dict[str, Any]]:
    """Questions spread over 60 days on three channels; every 50th holds a phone number."""
    rng = random.Random(seed)
    rows = []
    for i, record in enumerate(faq_records(count, seed)):
        question = record["question"] + (" 我的电话 13812345678" if i % 50 == 0 else "")
        day = dt.date(2026, 9, 1) + dt.timedelta(days=rng.randrange(60))
        channel = rng.choice(["app", "web", "phone"])
        rows.append({"id": first_id + i, "question": question, "date": day.isoformat(), "channel": channel})
    return rows


def said(done: subprocess.CompletedProcess[str]) -> str:
    return " ".join((done.stdout + done.stderr).split())


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_a_csv_export_is_scored_incrementally_into_a_report_with_its_spike(
    trained: Path, tmp_path: Path
) -> None:
    rows = tickets(0, 600, seed=1)
    rows += [
        {"id": 1000 + j, "question": "忘记登录密码怎么办", "date": SPIKE_DAY, "channel": "app"}
        for j in range(40)
    ]
    rows.append({"id": 2000, "question": " ", "date": "2026-10-01", "channel": "web"})  # no text
    rows.append({"id": 2001, "question": "物流太慢了", "date": "last week", "channel": "web"})  # bad date
    rows.append({"id": 7, "question": "物流太慢了", "date": "2026-10-02", "channel": "web"})  # repeated id
    write_csv(tmp_path / "tickets.csv", rows)
    first = tunesmith("insights", str(trained), "tickets.csv", "-o", "out", cwd=tmp_path)
    assert "read 640 records, scored 640 new (640 in all)" in said(first), said(first)
    assert "rejected 3 records" in said(first)
    out = tmp_path / "out"
    scored = [json.loads(line) for line in (out / "scored.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(scored) == 640 and {"label", "score", "scored_at"} <= set(scored[0])
    assert scored[0]["question"].endswith("我的电话 [PHONE]")  # de-identified as the recipe says
    assert "13812345678" not in (out / "scored.jsonl").read_text(encoding="utf-8")
    rejected = {
        r["line"]: r["reason"] for r in map(json.loads, (out / "rejected.jsonl").read_text().splitlines())
    }
    assert rejected[642] == "missing or empty text" and "'last week' is not a date" in rejected[643]
    assert rejected[644] == "duplicate id 7 (first at line 9)", rejected
    figures = list(csv.DictReader((out / "figures.csv").open(encoding="utf-8")))
    spikes = [f for f in figures if f["section"].startswith("spike:")]
    assert any(f["section"] == "spike:volume" and f["key"] == SPIKE_DAY for f in spikes), spikes
    assert any(f["section"] == "spike:password" and f["key"] == SPIKE_DAY for f in spikes), spikes
    channels = {f["key"] for f in figures if f["section"] == "segment:channel"}  # found without asking
    assert channels == {"app", "web", "phone"}
    password_terms = [f["key"] for f in figures if f["section"] == "term" and f["label"] == "password"]
    assert "密码" in password_terms[:5], password_terms  # jieba words
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2 and "<script" not in page  # two plots, inline
    assert f"<b>{SPIKE_DAY}: 'password'" in page and "忘记登录密码怎么办" in page  # the spike's examples
    before = {r["id"]: r["scored_at"] for r in scored}

    write_csv(tmp_path / "tickets.csv", rows + tickets(5000, 30, seed=2))  # the next day's export
    second = tunesmith("insights", str(trained), "tickets.csv", "-o", "out", cwd=tmp_path)
    assert "read 670 records, scored 30 new (670 in all)" in said(second), said(second)
    again = [json.loads(line) for line in (out / "scored.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(again) == 670 and {r["id"]: r["scored_at"] for r in again[:640]} == before
    assert "<b>670</b>records" in (out / "report.html").read_text(encoding="utf-8")


def test_a_sqlite_table_gets_its_scores_table_and_only_new_rows_are_scored(
    trained: Path, tmp_path: Path
) -> None:
    database = tmp_path / "crm.db"
    with sqlite3.connect(database) as connection:
        connection.execute(
            "create table tickets (ticket_id integer primary key, body text, created_at text, region text)"
        )
        rows = [
            (r["id"], r["question"], r["date"] + " 10:00:00", r["channel"]) for r in tickets(0, 200, seed=3)
        ]
        connection.executemany("insert into tickets values (?, ?, ?, ?)", rows)
    flags = [
        "--table",
        "tickets",
        "--id-column",
        "ticket_id",
        "--text-column",
        "body",
        "--time-column",
        "created_at",
        "--segment",
        "region",
        "--by",
        "time",
    ]
    first = tunesmith("insights", str(trained), str(database), *flags, "-o", "out", cwd=tmp_path)
    assert "scored 200 new (200 in all) -> table tickets_insights" in said(first), said(first)
    with sqlite3.connect(database) as connection:
        later = [(r["id"], r["question"], "2026-11-05 09:00:00", "app") for r in tickets(900, 12, seed=4)]
        connection.executemany("insert into tickets values (?, ?, ?, ?)", later)
    second = tunesmith("insights", str(trained), str(database), *flags, "-o", "out", cwd=tmp_path)
    assert "scored 12 new (212 in all)" in said(second), said(second)
    with sqlite3.connect(database) as connection:
        runs = dict(connection.execute("select scored_at, count(*) from tickets_insights group by scored_at"))
        joined = connection.execute(
            "select count(*) from tickets t join tickets_insights s on s.key = cast(t.ticket_id as text)"
        ).fetchone()[0]
        masked = connection.execute("select text from tickets_insights where key = '0'").fetchone()[0]
    assert sorted(runs.values()) == [12, 200] and joined == 212 and masked.endswith("[PHONE]")
    figures = list(csv.DictReader((tmp_path / "out" / "figures.csv").open(encoding="utf-8")))
    assert {f["key"] for f in figures if f["section"] == "segment:region"} == {"app", "web", "phone"}


def test_bad_sources_are_named_and_nothing_is_written(trained: Path, tmp_path: Path) -> None:
    from tunesmith.errors import TunesmithError
    from tunesmith.insights.stage import Options, insights

    write_csv(tmp_path / "tickets.csv", tickets(0, 20, seed=5))
    done = tunesmith(
        "insights",
        str(trained),
        "tickets.csv",
        "--text-column",
        "body",
        "-o",
        "out",
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 2 and (
        "tickets.csv: no column 'body' for the text (columns: id, question, date, channel)" in said(done)
    ), said(done)

    def refused(source: str, table: str | None, **options: str) -> str:  # what the CLI prints
        with pytest.raises(TunesmithError) as error:
            insights(trained, source, table, tmp_path / "out", Options(**options))  # type: ignore[arg-type]
        return str(error.value)

    message = refused("sqlite:////no/such/folder/crm.db", "tickets")
    assert "cannot reach the database" in message and "check the URL" in message
    message = refused("postgresql://crm:s3cret@127.0.0.1:9/crm", "tickets")
    assert "s3cret" not in message and "postgresql://crm:***@127.0.0.1:9/crm" in message
    with sqlite3.connect(tmp_path / "crm.db") as connection:
        connection.execute("create table calls (id integer, note text)")
        connection.execute("insert into calls values (1, '你好')")
    assert "no table 'tickets' (tables: calls)" in refused(str(tmp_path / "crm.db"), "tickets")
    message = refused(str(tmp_path / "crm.db"), "calls", text_column="note", by="time")
    assert "--by time needs a time column" in message
    assert "a database source needs --table" in refused(str(tmp_path / "crm.db"), None)
    assert not (tmp_path / "out").exists()


def _crm(path: Path, count: int) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("create table tickets (id integer primary key, question text, date text)")
        rows = [(r["id"], r["question"], r["date"]) for r in tickets(1, count, seed=9)]
        connection.executemany("insert into tickets values (?, ?, ?)", rows)


def _scores(path: Path) -> list[tuple[str, str, float]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("select key, label, score from tickets_insights order by key").fetchall()
    return [(key, label, round(score, 5)) for key, label, score in rows]


def test_a_run_killed_mid_table_resumes_without_losing_or_repeating_a_row(
    trained: Path, tmp_path: Path
) -> None:
    """Pages of 40 rows, each committed with its watermark: SIGKILL once some pages are in, run
    again, and every ticket has exactly one score."""
    import os
    import signal
    import time

    from cli_helpers import TUNESMITH, environment

    count = 4000
    _crm(tmp_path / "crm.db", count)
    command = [*TUNESMITH, "insights", str(trained), "crm.db", "--table", "tickets", "-o", "out"]
    command += ["--page-size", "40", "--batch-size", "40"]
    process = subprocess.Popen(command, cwd=tmp_path, env=environment(), start_new_session=True)
    done_before_kill = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with sqlite3.connect(tmp_path / "crm.db", timeout=1) as connection:
                done_before_kill = connection.execute("select count(*) from tickets_insights").fetchone()[0]
        except sqlite3.OperationalError:  # the table does not exist yet, or is being written
            done_before_kill = 0
        if done_before_kill >= 200:
            os.killpg(process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed mid-table"
    assert 200 <= done_before_kill < count
    with sqlite3.connect(tmp_path / "crm.db") as connection:
        committed = connection.execute("select count(*) from tickets_insights").fetchone()[0]
    resumed = tunesmith("insights", str(trained), "crm.db", "--table", "tickets", "-o", "out", cwd=tmp_path)
    # the watermark is in the query: only the rows after the last committed page are read again
    left = count - committed
    assert f"read {left:,} records, scored {left:,} new ({count:,} in all)" in said(resumed), said(resumed)
    scores = _scores(tmp_path / "crm.db")
    keys = [key for key, _, _ in scores]
    assert len(keys) == len(set(keys)) == count, (len(keys), len(set(keys)))
    assert set(keys) == {str(i) for i in range(1, count + 1)}
    again = tunesmith("insights", str(trained), "crm.db", "--table", "tickets", "-o", "out", cwd=tmp_path)
    assert "read 0 records, scored 0 new" in said(again), said(again)


def test_ray_actors_score_a_table_as_this_process_does(trained: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    for name in ("local.db", "ray.db"):
        _crm(tmp_path / name, 300)
    flags = ["--table", "tickets", "--page-size", "50"]
    tunesmith("insights", str(trained), "local.db", *flags, "-o", "local", cwd=tmp_path)
    ray = tunesmith(
        "insights",
        str(trained),
        "ray.db",
        *flags,
        "--engine",
        "ray",
        "--workers",
        "2",
        "-o",
        "ray",
        cwd=tmp_path,
    )
    assert "scored 300 new (300 in all)" in said(ray), said(ray)
    assert _scores(tmp_path / "ray.db") == _scores(tmp_path / "local.db")
