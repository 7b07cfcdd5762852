"""warehouse.health: crawl history and health over a real DuckDB file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from warehouse.campaigns import create_campaign
from warehouse.db import run
from warehouse.health import (
    crawl_health,
    crawl_history,
    next_scheduled_crawl,
    record_schedule_state,
)
from warehouse.thai import BANGKOK

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BANGKOK)


def _campaign(con: duckdb.DuckDBPyConnection, slug: str = "demo", **kw: object) -> None:
    values: dict[str, object] = {
        "keywords": ["สังคมออนไลน์"],
        "opens_at": NOW - timedelta(days=10),
        "closes_at": NOW + timedelta(days=10),
        "prizes": 1,
    }
    values.update(kw)
    create_campaign(con, slug, **values)  # type: ignore[arg-type]


def _run(
    con: duckdb.DuckDBPyConnection,
    started: datetime,
    status: str,
    *,
    errors: int = 0,
    minutes: float = 2,
    slug: str = "demo",
) -> int:
    finished = None if status == "running" else started + timedelta(minutes=minutes)
    row = con.execute(
        "INSERT INTO crawl_runs (campaign_slug, mode, status, started_at, finished_at, trigger,"
        " post_pages, listing_pages, errors, duration_s) VALUES (?, 'incremental', ?, ?, ?,"
        " 'schedule', 10, 3, ?, ?) RETURNING run_id",
        [slug, status, started, finished, errors, minutes * 60],
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_history_newest_first_with_pages(db_path: Path) -> None:
    def setup(con: duckdb.DuckDBPyConnection) -> list[int]:
        _campaign(con)
        _campaign(con, "other")
        ids = [_run(con, NOW - timedelta(hours=h), "ok") for h in (5, 3, 1)]
        _run(con, NOW, "ok", slug="other")
        return ids

    ids = run(setup, db_path)
    history = run(lambda con: crawl_history(con, "demo", limit=2), db_path)
    assert [r.run_id for r in history] == [ids[2], ids[1]]
    assert history[0].pages == 13 and history[0].trigger == "schedule"
    assert history[0].started_at.utcoffset() == timedelta(hours=7)
    assert history[0].duration_s == 120


def test_fresh_good_crawl_is_healthy(db_path: Path) -> None:
    def setup(con: duckdb.DuckDBPyConnection) -> None:
        _campaign(con)
        _run(con, NOW - timedelta(hours=2), "ok")
        _run(con, NOW - timedelta(hours=1), "ok", errors=1)

    run(setup, db_path)
    health = run(lambda con: crawl_health(con, "demo", NOW), db_path)
    assert health.last_good_at == NOW - timedelta(minutes=58)
    assert health.last_run_status == "ok"
    assert not health.stale and not health.error_trend_rising and health.in_window
    assert health.messages == () and health.next_scheduled_at is None


def test_stale_when_last_good_crawl_is_too_old(db_path: Path) -> None:
    def setup(con: duckdb.DuckDBPyConnection) -> None:
        _campaign(con)
        _run(con, NOW - timedelta(hours=9), "ok")
        _run(con, NOW - timedelta(hours=1), "interrupted")

    run(setup, db_path)
    health = run(lambda con: crawl_health(con, "demo", NOW), db_path)
    assert health.stale and "stale" in health.codes
    assert health.last_run_status == "interrupted"
    assert any("9 hours ago" in m for m in health.messages), health.messages
    # A longer threshold: not stale.
    relaxed = run(
        lambda con: crawl_health(con, "demo", NOW, stale_after=timedelta(hours=12)), db_path
    )
    assert not relaxed.stale


def test_never_crawled_and_window_over(db_path: Path) -> None:
    def setup(con: duckdb.DuckDBPyConnection) -> None:
        _campaign(con)
        _campaign(
            con,
            "closed",
            opens_at=NOW - timedelta(days=40),
            closes_at=NOW - timedelta(days=20),
        )
        _run(con, NOW - timedelta(days=30), "ok", slug="closed")

    run(setup, db_path)
    never = run(lambda con: crawl_health(con, "demo", NOW), db_path)
    assert never.stale and never.last_run_status is None and "never_crawled" in never.codes
    closed = run(lambda con: crawl_health(con, "closed", NOW), db_path)
    # Old, but the crawl window (deadline + 7 days) is over: nothing is overdue.
    assert not closed.stale and not closed.in_window and "window_over" in closed.codes


def test_errors_rising(db_path: Path) -> None:
    def setup(con: duckdb.DuckDBPyConnection) -> None:
        _campaign(con)
        _campaign(con, "failing")
        for h, errors in ((6, 0), (5, 1), (4, 0), (3, 1), (2, 0)):
            _run(con, NOW - timedelta(hours=h), "ok", errors=errors)
        _run(con, NOW - timedelta(hours=1), "partial", errors=9)
        _run(con, NOW - timedelta(hours=3), "failed", slug="failing")
        _run(con, NOW - timedelta(hours=2), "partial", errors=1, slug="failing")
        _run(con, NOW - timedelta(minutes=5), "running", slug="failing")

    run(setup, db_path)
    spike = run(lambda con: crawl_health(con, "demo", NOW), db_path)
    assert spike.error_trend_rising and "errors_rising" in spike.codes
    assert spike.last_run_status == "partial" and not spike.stale
    twice = run(lambda con: crawl_health(con, "failing", NOW), db_path)
    assert twice.error_trend_rising and twice.running and twice.last_run_status == "running"
    # Another partial run: two in a row count as rising; a clean run ends it.
    run(lambda con: _run(con, NOW, "partial", errors=1), db_path)
    once = run(lambda con: crawl_health(con, "demo", NOW + timedelta(minutes=5)), db_path)
    assert once.error_trend_rising  # two partial runs in a row
    run(lambda con: _run(con, NOW + timedelta(minutes=10), "ok"), db_path)
    ok = run(lambda con: crawl_health(con, "demo", NOW + timedelta(minutes=15)), db_path)
    assert not ok.error_trend_rising and ok.last_run_status == "ok"


def test_next_scheduled_at_only_from_a_live_scheduler(db_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    here = socket.gethostname()
    soon, later = NOW + timedelta(minutes=30), NOW + timedelta(minutes=10)

    def setup(con: duckdb.DuckDBPyConnection) -> None:
        _campaign(con)
        record_schedule_state(
            con,
            holder=f"{here}:{os.getpid()}:a",
            host=here,
            pid=os.getpid(),
            schedule="every 30 min",
            next_runs={"demo": soon},
            now=NOW,
        )
        record_schedule_state(
            con,
            holder=f"{here}:{dead.pid}:b",
            host=here,
            pid=dead.pid,
            schedule="every 10 min",
            next_runs={"demo": later},
            now=NOW,
        )

    run(setup, db_path)
    assert run(lambda con: next_scheduled_crawl(con, "demo", NOW), db_path) == soon
    health = run(lambda con: crawl_health(con, "demo", NOW), db_path)
    assert health.next_scheduled_at == soon


def test_failed_threads_are_named_until_a_run_reads_them(db_path: Path) -> None:
    """A post left failed (a thread short of its declared count) is named by crawl health
    until a later run completes it."""
    from warehouse import crawl_ledger as ledger

    site = "https://www.gotoknow.org"

    def setup(con: duckdb.DuckDBPyConnection) -> int:
        _campaign(con)
        run_id, _ = ledger.start_run(con, "demo", "incremental", "cli", NOW)
        ledger.plan_frontier(con, "demo", site, run_id, [545000, 545001], NOW)
        ledger.record_outcomes(
            con,
            "demo",
            run_id,
            [
                (
                    f"{site}/posts/545000",
                    ledger.FrontierState.FAILED,
                    "thread incomplete: declared 57 comments, collected 20",
                ),
                (f"{site}/posts/545001", ledger.FrontierState.DONE, None),
            ],
            NOW,
        )
        return run_id

    run_id = run(setup, db_path)
    health = run(lambda con: crawl_health(con, "demo", NOW), db_path)
    assert [p.post_number for p in health.failed_pages] == [545000]
    assert health.failed_pages[0].run_id == run_id
    assert "declared 57" in (health.failed_pages[0].error or "")
    assert "pages_failed" in health.codes
    assert any("545000" in m and "545001" not in m for m in health.messages), health.messages

    def read_again(con: duckdb.DuckDBPyConnection) -> None:
        again, _ = ledger.start_run(con, "demo", "incremental", "cli", NOW)
        ledger.plan_frontier(con, "demo", site, again, [545000], NOW)
        ledger.record_outcomes(
            con, "demo", again, [(f"{site}/posts/545000", ledger.FrontierState.DONE, None)], NOW
        )

    run(read_again, db_path)
    health = run(lambda con: crawl_health(con, "demo", NOW), db_path)
    assert health.failed_pages == () and "pages_failed" not in health.codes


def test_the_crawls_page_names_the_failed_threads(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apptest_pages import goto
    from streamlit.testing.v1 import AppTest

    from warehouse import crawl_ledger as ledger
    from warehouse.settings import get_settings

    site = "https://www.gotoknow.org"

    def setup(con: duckdb.DuckDBPyConnection) -> None:
        _campaign(con)
        run_id, _ = ledger.start_run(con, "demo", "incremental", "cli", NOW)
        ledger.plan_frontier(con, "demo", site, run_id, [545000], NOW)
        ledger.record_outcomes(
            con,
            "demo",
            run_id,
            [(f"{site}/posts/545000", ledger.FrontierState.FAILED, "thread incomplete")],
            NOW,
        )

    run(setup, db_path)
    monkeypatch.setenv("TAGDRAW_DB", str(db_path))
    monkeypatch.setenv("TAGDRAW_DASHBOARD_DEMO_MODE", "1")
    get_settings.cache_clear()
    try:
        app = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
        at = AppTest.from_file(str(app), default_timeout=180)
        at.run()
        goto(at, "crawls")
        assert not at.exception, at.exception
        assert any("545000" in w.value for w in at.warning), [w.value for w in at.warning]
        tables = [d.value.to_string() for d in at.dataframe]
        assert any("545000" in t and "thread incomplete" in t for t in tables), tables
    finally:
        get_settings.cache_clear()
