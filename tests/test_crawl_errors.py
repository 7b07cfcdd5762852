"""What the crawl says when it cannot or need not collect anything (through the real CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ports import free_port

from replica.server import FaultConfig, FaultInjector, ReplicaServer
from replica.site import build_site
from scraper.locks import acquire_crawl_lock, release_crawl_lock
from scraper.options import COMMENTS_MODES
from tagdraw.cli import main as tagdraw
from warehouse.campaigns import create_campaign
from warehouse.db import run
from warehouse.settings import get_settings

FAST = ["--unthrottled", "--timeout", "3", "--quiet"]


def make_campaign(db_path: Path, site_url: str, keyword: str = "สังคมออนไลน์") -> None:
    run(
        lambda con: create_campaign(
            con,
            "demo",
            keywords=[keyword],
            opens_at="2013-08-06",
            closes_at="2013-08-31",
            prizes=4,
            site_url=site_url,
        ),
        db_path,
    )


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Short backoff so that the unreachable case gives up in a second, not 15."""
    monkeypatch.setenv("TAGDRAW_RETRY_BACKOFF_S", "0.05")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def crawled_rows(db_path: Path) -> tuple[Any, ...]:
    def count(con: Any) -> tuple[Any, ...]:
        return tuple(
            con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("posts", "comments", "campaign_posts", "crawl_frontier")
        )

    return run(count, db_path)


def test_unknown_campaign(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tagdraw(["--db", str(db_path), "crawl", "nope", *FAST]) == 2
    err = capsys.readouterr().err.strip()
    assert "nope" in err and len(err.splitlines()) == 1


def test_unknown_comments_mode_is_refused_with_the_modes(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_campaign(db_path, "http://127.0.0.1:9")
    with pytest.raises(SystemExit) as stop:
        tagdraw(["--db", str(db_path), "crawl", "demo", "--comments-mode", "fast"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "fast" in err and all(mode in err for mode in COMMENTS_MODES)
    assert crawled_rows(db_path) == (0, 0, 0, 0)


@pytest.mark.parametrize("command", ["crawl demo", "schedule --once"])
@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--rate 0", "argument --rate: must be from 0.01 to 1000, not '0'"),
        ("--concurrency 0", "argument --concurrency: must be from 1 to 64, not '0'"),
        ("--timeout -1", "argument --timeout: must be from 0.1 to 3600, not '-1'"),
    ],
)
def test_bad_site_options_are_refused_before_anything_runs(
    db_path: Path, capsys: pytest.CaptureFixture[str], command: str, option: str, message: str
) -> None:
    make_campaign(db_path, "http://127.0.0.1:9")
    with pytest.raises(SystemExit) as stop:
        tagdraw(["--db", str(db_path), *command.split(), *option.split()])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err, err
    assert crawled_rows(db_path) == (0, 0, 0, 0)
    assert run(lambda con: con.execute("SELECT count(*) FROM crawl_runs").fetchone(), db_path) == (
        0,
    )


@pytest.mark.browser
def test_keyword_with_no_posts(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = build_site(n_posts=20, seed=5)
    with ReplicaServer(site) as server:
        make_campaign(db_path, server.url, keyword="ไม่มีใครใช้คำนี้")
        assert tagdraw(["--db", str(db_path), "crawl", "demo", *FAST]) == 0
        out = capsys.readouterr().out
        assert "No posts carry this keyword" in out and "ไม่มีใครใช้คำนี้" in out
        assert set(server.hits()) <= {"/robots.txt", "/posts?tag=ไม่มีใครใช้คำนี้&page=1"}
    assert crawled_rows(db_path) == (0, 0, 0, 0)
    assert run(lambda con: con.execute("SELECT status FROM crawl_runs").fetchall(), db_path) == [
        ("ok",)
    ]


@pytest.mark.browser
def test_unreachable_site(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_campaign(db_path, f"http://127.0.0.1:{free_port()}")
    code = tagdraw(["--db", str(db_path), "crawl", "demo", *FAST])
    err = capsys.readouterr().err.strip()
    assert code == 5
    assert "Cannot reach" in err and "nothing was written" in err and len(err.splitlines()) == 1
    assert crawled_rows(db_path) == (0, 0, 0, 0)
    status = run(lambda con: con.execute("SELECT status FROM crawl_runs").fetchall(), db_path)
    assert status == [("failed",)]
    assert (
        run(lambda con: con.execute("SELECT count(*) FROM crawl_locks").fetchone(), db_path)[0] == 0
    )


class ForbiddingReplica(ReplicaServer):
    """The replica with a robots.txt that forbids the tag listing."""

    def _route(self, path: str, query: str) -> tuple[int, bytes, str, list[tuple[str, str]]]:
        if path == "/robots.txt":
            body = b"User-agent: *\nDisallow: /posts?tag=\n"
            return 200, body, "text/plain; charset=utf-8", []
        return super()._route(path, query)


@pytest.mark.browser
def test_robots_forbids_the_listing(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = build_site(n_posts=20, seed=5)
    with ForbiddingReplica(site) as server:
        make_campaign(db_path, server.url)
        code = tagdraw(["--db", str(db_path), "crawl", "demo", *FAST])
        hits = server.hits()
    err = capsys.readouterr().err.strip()
    assert code == 6
    assert "robots.txt" in err and "forbids" in err and len(err.splitlines()) == 1
    assert set(hits) == {"/robots.txt"}
    assert crawled_rows(db_path) == (0, 0, 0, 0)


def test_lock_is_exclusive_and_taken_over_from_the_dead(db_path: Path) -> None:
    make_campaign(db_path, "http://127.0.0.1:9")
    lock = acquire_crawl_lock(db_path, "demo")
    with pytest.raises(Exception, match="already running"):
        acquire_crawl_lock(db_path, "demo")
    release_crawl_lock(db_path, lock)
    again = acquire_crawl_lock(db_path, "demo")
    # A holder whose process is gone is taken over.
    run(
        lambda con: con.execute(
            "UPDATE crawl_locks SET pid = 999999999, holder = 'x:999999999:dead'"
        ),
        db_path,
    )
    taken = acquire_crawl_lock(db_path, "demo")
    assert taken.holder != again.holder
    # A stale heartbeat is taken over too, even from a live process.
    run(
        lambda con: con.execute("UPDATE crawl_locks SET heartbeat_at = now() - INTERVAL 1 HOUR"),
        db_path,
    )
    assert acquire_crawl_lock(db_path, "demo").holder != taken.holder


class BrokenPageReplica(ReplicaServer):
    """The replica, but one post page lacks its post number label while ``broken`` holds."""

    broken: int | None = None

    def _route(self, path: str, query: str) -> tuple[int, bytes, str, list[tuple[str, str]]]:
        status, body, ctype, headers = super()._route(path, query)
        if self.broken is not None and path == f"/posts/{self.broken}":
            body = body.replace("หมายเลขบันทึก".encode(), b"")
        return status, body, ctype, headers


@pytest.mark.browser
def test_permanent_failures_are_recorded_then_resumed(
    db_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    site = build_site(n_posts=30, seed=5)
    truth = site.ground_truth()
    public = [n for n in truth["listed"] if truth["posts"][str(n)]["state"] == "public"]
    broken, failing = public[0], public[1]
    faults = FaultConfig(always_fail=frozenset({f"/posts/{failing}"}))
    failed_dir = tmp_path / "failed"
    with BrokenPageReplica(site, faults=faults) as server:
        server.broken = broken
        make_campaign(db_path, server.url)
        args = ["--db", str(db_path), "crawl", "demo", *FAST]
        monkeypatch.setenv("TAGDRAW_FAILED_PAGES_DIR", str(failed_dir))
        get_settings.cache_clear()
        assert tagdraw(args) == 1
        out = capsys.readouterr().out
        assert "partial" in out and f"/posts/{broken}" in out and f"/posts/{failing}" in out
        assert "run the same command again" in out
        errors = run(
            lambda con: con.execute(
                "SELECT url, error, saved_html_path FROM crawl_errors WHERE permanent"
            ).fetchall(),
            db_path,
        )
        by_url = {url.rsplit("/", 1)[1]: (error, saved) for url, error, saved in errors}
        assert "no post number" in by_url[str(broken)][0]
        saved = Path(by_url[str(broken)][1])
        assert saved.is_file() and saved.parent.parent == failed_dir
        assert "HTTP 500" in by_url[str(failing)][0]
        stored = run(
            lambda con: con.execute(
                "SELECT post_number FROM posts WHERE post_number IN (?, ?)", [broken, failing]
            ).fetchall(),
            db_path,
        )
        assert stored == []  # never a silent empty row

        # The site recovers: the next run fetches just the two failed posts.
        server.broken = None
        server.faults = FaultInjector(None)
        server.reset_hits()
        assert tagdraw(args) == 0
        posts_hit = {p for p in server.hits() if p.startswith("/posts/")}
        assert {p.split("?")[0].split("/")[2] for p in posts_hit} == {str(broken), str(failing)}


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_a_crawl_that_loses_its_lock_stops(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process took the lock over (it judged this crawl dead): the crawl stops with
    CrawlLocked instead of crawling beside it, and its run is recorded as failed."""
    import asyncio
    import threading

    import scraper.crawl
    from scraper.crawl import crawl_campaign
    from scraper.errors import CrawlLocked

    # Not much shorter: in one process the thief's UPDATE and the heartbeat's conflict
    # (DuckDB's optimistic concurrency) and are retried; a heartbeat every 0.2 s can
    # starve the thief until the crawl ends.
    monkeypatch.setattr(scraper.crawl, "HEARTBEAT_EVERY_S", 0.5)
    site = build_site(n_posts=200, seed=4)
    with ReplicaServer(site) as server:
        make_campaign(db_path, server.url)

        def steal() -> None:
            # Once the crawl is fetching posts, a "takeover" replaces the holder.
            while not any(p.startswith("/posts/") for p in server.hits()):
                threading.Event().wait(0.05)

            # Until it reads back: in one process, this UPDATE (holder) and a heartbeat's
            # UPDATE of the same row (heartbeat_at) committing at the same moment can lose
            # this one; between processes DuckDB's file lock makes them take turns.
            def take(con: Any) -> str:
                con.execute(
                    "UPDATE crawl_locks SET holder = 'elsewhere:1:taken' WHERE campaign_slug = ?",
                    ["demo"],
                )
                return ""

            def holder() -> str:
                rows = run(
                    lambda con: con.execute("SELECT holder FROM crawl_locks").fetchall(), db_path
                )
                return str(rows[0][0]) if rows else ""

            while holder() not in ("elsewhere:1:taken", ""):  # "": the crawl ended
                run(take, db_path)
                threading.Event().wait(0.2)

        thief = threading.Thread(target=steal, daemon=True)
        thief.start()
        with pytest.raises(CrawlLocked, match="lost its lock"):
            # 20 requests/s: over 10 s of crawling, far longer than a heartbeat.
            asyncio.run(
                crawl_campaign(
                    db_path,
                    "demo",
                    progress=False,
                    rate_per_s=20,
                    failed_pages_dir=tmp_path / "failed",
                )
            )
        thief.join(5)
        hits_at_stop = sum(server.hits().values())
        threading.Event().wait(1.0)
        assert sum(server.hits().values()) == hits_at_stop, "the crawl went on fetching"
    status = run(lambda con: con.execute("SELECT status FROM crawl_runs").fetchall(), db_path)
    assert status == [("failed",)]
    holder = run(lambda con: con.execute("SELECT holder FROM crawl_locks").fetchall(), db_path)
    assert holder == [("elsewhere:1:taken",)]  # the new holder's lock is left alone
