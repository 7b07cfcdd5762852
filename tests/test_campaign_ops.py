"""Running a campaign from the dashboard, the library parts, on real DuckDB files: campaign
states, a run's progress and its cancel (the real crawler against the replica: stopped
cleanly, 'partial', resumed without fetching a finished page twice), and the scheduler's
heartbeat."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from crawl_truth import post_paths, warehouse_differences

from replica.server import FaultConfig, ReplicaServer
from replica.site import build_site
from scraper.crawl import crawl_campaign
from warehouse import crawl_ledger as ledger
from warehouse import users
from warehouse.audit import audit_entries
from warehouse.campaign_state import CampaignState, campaign_state, campaigns_with_state
from warehouse.campaigns import create_campaign, freeze_campaign, get_campaign
from warehouse.db import run
from warehouse.errors import UserError
from warehouse.health import record_schedule_state, scheduler_statuses
from warehouse.thai import BANGKOK

OPENS = datetime(2026, 1, 1, tzinfo=BANGKOK)
CLOSES = datetime(2026, 1, 31, 23, 59, 59, tzinfo=BANGKOK)


def _campaign(db: Path, slug: str = "demo", **extra: Any) -> None:
    values: dict[str, Any] = {
        "keywords": ["แท็ก"],
        "opens_at": OPENS,
        "closes_at": CLOSES,
        "prizes": 2,
        **extra,
    }
    run(lambda con: create_campaign(con, slug, **values), db)


def test_campaign_states(db_path: Path) -> None:
    _campaign(db_path)
    campaign = run(lambda con: get_campaign(con, "demo"), db_path)
    day = timedelta(days=1)
    assert campaign_state(campaign, OPENS - day, drawn=False) == CampaignState.UPCOMING
    assert campaign_state(campaign, OPENS, drawn=False) == CampaignState.OPEN
    assert campaign_state(campaign, CLOSES, drawn=False) == CampaignState.OPEN
    assert campaign_state(campaign, CLOSES + timedelta(seconds=1), drawn=False) == "closed"
    assert campaign_state(campaign, CLOSES + day, drawn=True) == CampaignState.DRAWN
    frozen = run(lambda con: freeze_campaign(con, "demo", actor="test"), db_path)
    # Frozen before the deadline is frozen all the same.
    assert campaign_state(frozen, OPENS + day, drawn=False) == CampaignState.FROZEN
    _campaign(db_path, "later", opens_at=CLOSES + day, closes_at=CLOSES + 9 * day)
    states = run(lambda con: campaigns_with_state(con, OPENS + day), db_path)
    assert [(s.campaign.slug, s.state) for s in states] == [
        ("demo", CampaignState.FROZEN),
        ("later", CampaignState.UPCOMING),
    ]


def test_progress_and_cancel_in_the_ledger(db_path: Path) -> None:
    _campaign(db_path)
    run(lambda con: users.add_user(con, "boss", "password123", role="admin", actor="t"), db_path)
    run(lambda con: users.add_user(con, "mod", "password123", role="moderator", actor="t"), db_path)
    started = datetime.now(BANGKOK) - timedelta(seconds=10)
    run_id, _ = run(
        lambda con: ledger.start_run(con, "demo", "incremental", "cli", started), db_path
    )
    assert run(lambda con: ledger.running_run(con, "demo"), db_path).run_id == run_id  # type: ignore[union-attr]
    asked = run(
        lambda con: ledger.record_progress(
            con,
            run_id,
            listing_pages=3,
            post_pages=40,
            comment_pages=12,
            requests=60,
            posts_planned=50,
            posts_done=38,
            comments_new=90,
            errors=1,
        ),
        db_path,
    )
    assert asked is False
    before = datetime.now(BANGKOK)
    progress = run(lambda con: ledger.run_progress(con, run_id), db_path)
    after = datetime.now(BANGKOK)
    assert progress is not None and progress.running
    assert (progress.posts_done, progress.posts_planned, progress.run.requests) == (38, 50, 60)
    assert (progress.run.comment_pages, progress.run.errors) == (12, 1)
    # 60 requests since ``started`` (about 10 s ago), over however long this test took.
    slowest = 60 / (after - started).total_seconds()
    fastest = 60 / (before - started).total_seconds()
    assert slowest - 0.01 <= progress.requests_per_s <= fastest + 0.01

    # Only an admin may stop a crawl; the request is audited, and the crawler learns it
    # from its next progress write.
    now = datetime.now(BANGKOK)
    with pytest.raises(UserError):
        run(lambda con: ledger.request_cancel(con, run_id, actor="mod", now=now), db_path)
    assert run(lambda con: ledger.cancel_requested(con, run_id), db_path) is False
    assert run(lambda con: ledger.request_cancel(con, run_id, actor="boss", now=now), db_path)
    assert run(lambda con: ledger.cancel_requested(con, run_id), db_path) is True
    again = run(
        lambda con: ledger.record_progress(
            con, run_id, listing_pages=3, post_pages=41, comment_pages=12
        ),
        db_path,
    )
    assert again is True
    entries = run(lambda con: audit_entries(con, "demo", action="crawl.cancel"), db_path)
    assert [(e.actor, e.details["run_id"]) for e in entries] == [("boss", run_id)]


def cancel(db: Path, run_id: int, actor: str) -> bool:
    now = datetime.now(BANGKOK)
    return run(lambda con: ledger.request_cancel(con, run_id, actor=actor, now=now), db)


FAST: dict[str, Any] = {
    "request_timeout_s": 15.0,
    "retry_backoff_s": 0.05,
    "max_attempts": 6,
    "progress": False,
    "write_batch_size": 5,
}


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_cancelled_crawl_stops_cleanly_and_resumes_without_refetching(
    db_path: Path, tmp_path: Path
) -> None:
    site = build_site(n_posts=120, seed=13)
    truth = site.ground_truth()
    faults = FaultConfig(seed=5, error_rate=0.03, truncate_rate=0.03, drop_rate=0.03)
    run(lambda con: users.add_user(con, "boss", "password123", role="admin", actor="t"), db_path)
    with ReplicaServer(site, faults=faults) as server:
        c = truth["campaign"]
        _campaign(
            db_path,
            keywords=c["keywords"],
            near_miss_tags=c["near_miss_tags"],
            opens_at=c["opens"],
            closes_at=c["closes"],
            site_url=server.url,
            announcement_post=c["announcement_post"],
        )
        options = {**FAST, "failed_pages_dir": tmp_path / "failed"}

        def cancel_when_halfway() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if len(post_paths(server.hits())) >= 30:
                    running = run(lambda con: ledger.running_run(con, "demo"), db_path)
                    assert running is not None
                    cancel(db_path, running.run_id, "boss")
                    return
                time.sleep(0.05)

        canceller = threading.Thread(target=cancel_when_halfway)
        canceller.start()
        # 15 requests/s: the crawl of ~130 post pages cannot end before the cancel lands.
        first = asyncio.run(crawl_campaign(db_path, "demo", rate_per_s=15, **options))
        canceller.join()
        assert first.cancelled and first.status == "partial", first.format()
        assert "Stopped on request" in first.format()
        first_hits = post_paths(server.hits())
        states = run(lambda con: ledger.frontier_states(con, "demo"), db_path)
        finished = {n for n, state in states.items() if state in ("done", "gone")}
        assert finished, "nothing was written before the cancel"
        assert len(first_hits) < len(truth["posts"]), "the cancel came too late to test"
        progress = run(lambda con: ledger.run_progress(con, first.run_id), db_path)
        assert progress is not None and not progress.running
        assert progress.posts_planned == first.planned
        assert progress.cancel_requested_by == "boss"
        assert run(
            lambda con: con.execute("SELECT count(*) FROM crawl_locks").fetchone(), db_path
        ) == (0,)

        server.reset_hits()
        second = asyncio.run(crawl_campaign(db_path, "demo", unthrottled=True, **options))
        assert second.status == "ok", second.format()
        assert second.resumed_from == first.run_id
        resumed_hits = post_paths(server.hits())
        assert not finished & set(resumed_hits), "a finished page was fetched again"
        # Asked again: only what the first run left unfinished (a post that answered "not
        # found" once waits for a second look, which the cancel left to the next run).
        again = set(first_hits) & set(resumed_hits)
        assert all(states[n] == "pending" for n in again), {n: states[n] for n in again}
        assert set(first_hits) | set(resumed_hits) == {int(n) for n in truth["posts"]}
        assert warehouse_differences(db_path, site.ground_truth()) == []


def test_schedule_heartbeat_running_then_stopped(db_path: Path) -> None:
    _campaign(db_path)
    now = datetime(2026, 1, 10, 12, 0, tzinfo=BANGKOK)
    here = socket.gethostname()

    def beat(at: datetime, next_runs: dict[str, datetime | None]) -> None:
        run(
            lambda con: record_schedule_state(
                con,
                holder=f"{here}:1:a",
                host=here,
                pid=1,
                schedule="every 1 min",
                next_runs=next_runs,
                now=at,
                heartbeat_every_s=60.0,
                next_run_at=at + timedelta(minutes=1),
            ),
            db_path,
        )

    # No campaign open: the scheduler's own row still carries its heartbeat.
    beat(now, {})
    [status] = run(lambda con: scheduler_statuses(con, now + timedelta(seconds=119)), db_path)
    assert status.running and status.schedule == "every 1 min" and status.next_runs == {}
    [status] = run(lambda con: scheduler_statuses(con, now + timedelta(seconds=121)), db_path)
    assert not status.running  # no heartbeat for two intervals: stopped
    beat(now, {"demo": now + timedelta(minutes=1)})
    [status] = run(lambda con: scheduler_statuses(con, now), db_path)
    assert status.next_runs == {"demo": now + timedelta(minutes=1)}


@pytest.mark.timeout(120)
def test_the_scheduler_writes_its_heartbeat_when_no_crawl_is_due(db_path: Path) -> None:
    """A real ``tagdraw schedule`` process, nothing open to crawl: a heartbeat all the same,
    every interval; after it is stopped, nothing claims it runs."""
    _campaign(db_path)  # January 2026: not open now
    env = {**os.environ, "TAGDRAW_LOG_DIR": str(db_path.parent / "logs")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tagdraw", "--db", str(db_path), "schedule", "--interval", "0.05"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        beats: list[datetime] = []
        deadline = time.monotonic() + 60
        while len(set(beats)) < 3 and time.monotonic() < deadline:
            statuses = run(scheduler_statuses, db_path, read_only=True)
            if statuses:
                assert statuses[0].running and statuses[0].heartbeat_every_s == 3.0
                assert statuses[0].pid == proc.pid
                beats.append(statuses[0].heartbeat_at)
            time.sleep(0.5)
        assert len(set(beats)) >= 3, beats
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert run(scheduler_statuses, db_path, read_only=True) == []  # a clean stop clears it
