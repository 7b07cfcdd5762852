"""scraper.schedule: which campaigns are open, and the scheduler against the replica in a
real Chromium: it follows a changing site, two schedulers never crawl one campaign at
once, and a scheduler killed mid-crawl resumes on restart (the stale lock taken over)."""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from crawl_truth import warehouse_differences
from waiting import wait_until

from scraper.schedule import Scheduler, open_campaigns
from warehouse.campaigns import create_campaign
from warehouse.db import run
from warehouse.errors import UserError
from warehouse.health import crawl_history, next_scheduled_crawl
from warehouse.thai import BANGKOK

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BANGKOK)
SLUG = "demo"
N_POSTS = 40
TAGDRAW = str(Path(sys.executable).with_name("tagdraw"))


# --- which campaigns are open (no browser) -------------------------------------------------


def test_open_campaigns_respects_window_and_after_close_days(db_path: Path) -> None:
    def setup(con: duckdb.DuckDBPyConnection) -> None:
        def make(slug: str, opens: timedelta, closes: timedelta, **kw: Any) -> None:
            create_campaign(
                con,
                slug,
                keywords=["สังคมออนไลน์"],
                opens_at=NOW + opens,
                closes_at=NOW + closes,
                prizes=1,
                **kw,
            )

        make("running", -timedelta(days=3), timedelta(days=3))
        make("future", timedelta(hours=1), timedelta(days=3))
        make("closed-3d", -timedelta(days=30), -timedelta(days=3))  # within default 7 days
        make("closed-10d", -timedelta(days=30), -timedelta(days=10))
        make("no-grace", -timedelta(days=30), -timedelta(hours=1), crawl_after_close_days=0)
        make("just-opened", timedelta(0), timedelta(days=1))

    run(setup, db_path)

    def slugs(**kw: Any) -> list[str]:
        now = kw.pop("now", NOW)
        return sorted(c.slug for c in run(lambda con: open_campaigns(con, now, **kw), db_path))

    assert slugs() == ["closed-3d", "just-opened", "running"]
    assert slugs(after_close_days=14) == [
        "closed-10d",
        "closed-3d",
        "just-opened",
        "no-grace",
        "running",
    ]
    assert slugs(after_close_days=0) == ["just-opened", "running"]
    assert slugs(now=NOW + timedelta(hours=2)) == ["closed-3d", "future", "just-opened", "running"]
    # Exactly at the end of the grace period: still open; a second later: closed.
    end = NOW - timedelta(days=3) + timedelta(days=7)
    assert "closed-3d" in slugs(now=end)
    assert "closed-3d" not in slugs(now=end + timedelta(seconds=1))
    # Named campaigns: only those, and still only while open.
    assert slugs(slugs=["closed-10d", "running"]) == ["running"]
    with pytest.raises(UserError, match="Unknown campaign 'nope'"):
        slugs(slugs=["nope"])


def test_bad_schedule_options_are_one_line_errors(db_path: Path) -> None:
    with pytest.raises(UserError, match="Bad --cron expression"):
        Scheduler(db_path, cron="every day")
    with pytest.raises(UserError, match="positive number of minutes"):
        Scheduler(db_path, interval_min=0)
    with pytest.raises(UserError, match="either --interval or --cron"):
        Scheduler(db_path, interval_min=5, cron="*/5 * * * *")
    assert Scheduler(db_path, cron="*/30 * * * *").description == "cron */30 * * * *"


# --- against the replica -------------------------------------------------------------------


def _make_campaign(db_path: Path, site: Any, url: str) -> dict[str, Any]:
    truth = site.ground_truth()
    campaign = truth["campaign"]
    run(
        lambda con: create_campaign(
            con,
            SLUG,
            keywords=campaign["keywords"],
            near_miss_tags=campaign["near_miss_tags"],
            opens_at=campaign["opens"],
            # Open now, so that the real clock's ticks crawl it.
            closes_at=datetime.now(BANGKOK) + timedelta(days=1),
            prizes=2,
            site_url=url,
            announcement_post=campaign["announcement_post"],
        ),
        db_path,
    )
    return truth


def _runs(db_path: Path) -> list[tuple[Any, ...]]:
    return run(
        lambda con: con.execute(
            "SELECT run_id, status, started_at, finished_at, pid, summary FROM crawl_runs "
            "WHERE campaign_slug = ? ORDER BY started_at",
            [SLUG],
        ).fetchall(),
        db_path,
    )


@contextmanager
def _processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Child `tagdraw` processes, each in its own session; every one (and any browser it
    left) is killed at the end, whatever happened."""
    procs: list[subprocess.Popen[str]] = []
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)


def _spawn(
    procs: list[subprocess.Popen[str]], db_path: Path, log: Path, *args: str
) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [TAGDRAW, "--db", str(db_path), "schedule", *args],
        stdout=log.with_suffix(".out").open("w"),
        stderr=log.open("w"),
        text=True,
        start_new_session=True,
        env={**os.environ, "TAGDRAW_LOG_DIR": str(log.parent / "logs"), "PYTHONUNBUFFERED": "1"},
    )
    procs.append(proc)
    return proc


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(420)
def test_scheduler_follows_a_changing_replica(db_path: Path) -> None:
    from replica.server import ReplicaServer
    from replica.site import build_site

    site = build_site(n_posts=N_POSTS, seed=5)
    with ReplicaServer(site) as server:
        truth = _make_campaign(db_path, site, server.url)
        scheduler = Scheduler(
            db_path,
            interval_min=0.04,  # 2.4 s: the next round starts as soon as a crawl ends
            crawl_options={"unthrottled": True, "request_timeout_s": 15},
        )
        thread = threading.Thread(target=scheduler.run_forever, daemon=True)
        thread.start()

        def crawled_after(moment: datetime) -> bool:
            return any(o.started_at > moment and o.status == "ok" for o in list(scheduler.outcomes))

        try:
            wait_until(lambda: scheduler.outcomes, 180, "the first scheduled crawl")
            assert warehouse_differences(db_path, truth) == []
            # After each round the scheduler records its next one (for the dashboard).
            wait_until(
                lambda: run(lambda con: next_scheduled_crawl(con, SLUG), db_path),
                60,
                "the next scheduled crawl to be recorded",
            )

            # The site changes: a new post with comments, comments on an old post, an edit,
            # a deletion; the next scheduled crawl brings the warehouse level again.
            public = [int(n) for n, p in truth["posts"].items() if p["state"] == "public"]
            listed = [n for n in truth["listed"] if n in public]
            new_post = site.add_post(title="บันทึกใหม่ระหว่างแคมเปญ", n_comments=12)
            site.add_comments(listed[3], 4)
            site.edit_post(listed[5], title="หัวเรื่องที่แก้ไขแล้วระหว่างแคมเปญ")
            site.delete_post(listed[7])
            changed_at = datetime.now(BANGKOK)
            wait_until(lambda: crawled_after(changed_at), 180, "a crawl after the changes")
            assert warehouse_differences(db_path, site.ground_truth()) == []
        finally:
            scheduler.stop()
            thread.join(120)
        assert not thread.is_alive()

    def facts(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
        return (
            con.execute(
                "SELECT count(*) FROM comments WHERE post_number = ?", [new_post]
            ).fetchone(),
            con.execute("SELECT gone FROM posts WHERE post_number = ?", [listed[7]]).fetchone(),
            crawl_history(con, SLUG, limit=50),
        )

    (new_comments,), (gone,), history = run(facts, db_path)
    assert new_comments == 12 and gone
    assert len(history) >= 2
    assert {r.trigger for r in history} == {"schedule"}
    assert all(r.status in ("ok", "interrupted") for r in history), history
    assert scheduler.counters.errors == 0 and scheduler.counters.crawls >= 2
    # A clean stop forgets the plan (the dashboard shows no next crawl).
    assert run(lambda con: next_scheduled_crawl(con, SLUG), db_path) is None


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(420)
def test_two_schedulers_never_crawl_one_campaign_at_once(db_path: Path, tmp_path: Path) -> None:
    from replica.server import ReplicaServer
    from replica.site import build_site

    site = build_site(n_posts=N_POSTS, seed=6)
    logs = [tmp_path / "a.err", tmp_path / "b.err"]

    def text(path: Path) -> str:
        return path.read_text(encoding="utf-8") if path.exists() else ""

    with ReplicaServer(site) as server, _processes() as procs:
        _make_campaign(db_path, site, server.url)
        options = ("--interval", "0.03", "--unthrottled", "--timeout", "15")
        for log in logs:
            _spawn(procs, db_path, log, *options)

        def progressed() -> bool:
            combined = "".join(text(log) for log in logs)
            return "crawl finished" in combined and "crawl skipped: already running" in combined

        wait_until(progressed, 240, "a finished crawl and a skip")
        # Stop them while the next crawl runs: it is cancelled and recorded 'interrupted'.
        wait_until(lambda: len(_runs(db_path)) >= 2, 120, "a second crawl to start")
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=120) for proc in procs]
        assert codes == [0, 0], [text(log)[-2000:] for log in logs]

    runs = _runs(db_path)
    assert len(runs) >= 2
    assert all(r[1] in ("ok", "interrupted") for r in runs), runs
    for earlier, later in itertools.pairwise(runs):
        assert earlier[3] is not None and earlier[3] <= later[2], (earlier, later)
    skips = [log for log in logs if "crawl skipped: already running" in text(log)]
    assert skips
    for log in logs:
        assert "scheduler stopped" in text(log)
        lines = text(log).splitlines()
        assert all(re.match(r"^\d{4}-\d\d-\d\dT\S+\+07:00 [A-Z]+ ", line) for line in lines)
    shared = (tmp_path / "logs" / "tagdraw.log").read_text(encoding="utf-8")
    assert "crawl skipped: already running campaign=demo" in shared


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(420)
def test_killed_scheduler_resumes_and_takes_over_the_stale_lock(
    db_path: Path, tmp_path: Path
) -> None:
    from replica.server import ReplicaServer
    from replica.site import build_site

    site = build_site(n_posts=N_POSTS, seed=8)
    log = tmp_path / "first.err"
    with ReplicaServer(site) as server, _processes() as procs:
        truth = _make_campaign(db_path, site, server.url)
        # Slow and one page at a time, so that it is surely killed mid-crawl.
        first = _spawn(
            procs, db_path, log, "--once", "--rate", "6", "--concurrency", "1", "--timeout", "15"
        )

        def posts_fetched() -> int:
            text = log.read_text(encoding="utf-8") if log.exists() else ""
            return len(re.findall(r"tagdraw\.crawl post \d+: ", text))

        wait_until(lambda: posts_fetched() >= 8, 240, "the first scheduler to fetch some posts")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)

        def state(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
            return (
                con.execute(
                    "SELECT run_id, status FROM crawl_runs WHERE campaign_slug = ?", [SLUG]
                ).fetchall(),
                con.execute(
                    "SELECT pid FROM crawl_locks WHERE campaign_slug = ?", [SLUG]
                ).fetchall(),
            )

        killed_runs, locks = run(state, db_path)
        assert [status for _id, status in killed_runs] == ["running"]
        assert locks == [(first.pid,)]  # the dead holder's lock is still there

        second = subprocess.run(
            [
                TAGDRAW,
                "--db",
                str(db_path),
                "schedule",
                "--once",
                "--unthrottled",
                "--timeout",
                "15",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "TAGDRAW_LOG_DIR": str(tmp_path / "logs")},
        )
        assert second.returncode == 0, second.stderr[-3000:]
        assert re.search(r"^demo: ok \(run \d+", second.stdout, re.M), second.stdout
        assert "skipped" not in second.stdout
        assert warehouse_differences(db_path, truth) == []

    runs = _runs(db_path)
    assert [r[1] for r in runs] == ["interrupted", "ok"]
    import json

    summary = json.loads(runs[1][5])
    assert summary["resumed_from"] == killed_runs[0][0]
    assert run(lambda con: con.execute("SELECT count(*) FROM crawl_locks").fetchone(), db_path) == (
        0,
    )


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_scheduled_review_runs_its_spam_worker_in_a_fresh_interpreter(
    db_path: Path, tmp_path: Path
) -> None:
    """Under `tagdraw schedule` (interval mode) the review runs in the scheduler's worker
    thread; its second process must be a fresh interpreter that finishes, not a fork that
    can hang on a lock another thread held."""
    from replica.server import ReplicaServer
    from replica.site import build_site

    site = build_site(n_posts=N_POSTS, seed=9)
    log = tmp_path / "review.err"
    with ReplicaServer(site) as server, _processes() as procs:
        _make_campaign(db_path, site, server.url)
        proc = subprocess.Popen(
            [TAGDRAW, "--db", str(db_path), "schedule", "--interval", "5", "--unthrottled"],
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
            text=True,
            start_new_session=True,
            env={
                **os.environ,
                "TAGDRAW_LOG_DIR": str(tmp_path / "logs"),
                "PYTHONUNBUFFERED": "1",
                # Every campaign, however small, takes the two-process path.
                "TAGDRAW_REVIEW_PARALLEL_FROM": "1",
            },
        )
        procs.append(proc)

        def text() -> str:
            return log.read_text(encoding="utf-8") if log.exists() else ""

        wait_until(lambda: "suggestions recomputed" in text(), 240, "the review after the crawl")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 0, text()[-3000:]

    lines = text().splitlines()
    started = [line for line in lines if "spam worker started" in line]
    done = [line for line in lines if "spam worker done" in line]
    assert started and done, text()[-3000:]
    (pid,) = set(re.findall(r"pid=(\d+)", started[0]))
    assert f"pid={pid}" in done[0]
    assert int(pid) != proc.pid
    assert "computing here" not in text()  # the worker's answer was used, no fallback
    suggestions = run(
        lambda con: con.execute(
            "SELECT count(*) FROM suggestions WHERE campaign_slug = ? AND kind = 'spam'", [SLUG]
        ).fetchone(),
        db_path,
    )
    assert suggestions is not None and suggestions[0] > 0
