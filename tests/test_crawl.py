"""The crawler against the replica, in a real Chromium: complete, incremental, resumable,
and clear about what it cannot do."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from crawl_truth import fetched_post_numbers, post_paths, warehouse_differences

from replica.server import FaultConfig, ReplicaServer
from replica.site import KEYWORD, NEAR_MISS_TAG, build_site
from scraper.crawl import RENDER_CHECK_FIRST, CrawlSummary, crawl_campaign
from tagdraw.cli import main as tagdraw
from warehouse.campaigns import create_campaign
from warehouse.db import run

ROOT = Path(__file__).resolve().parent.parent
FAST: dict[str, Any] = {
    "unthrottled": True,
    "request_timeout_s": 15.0,
    "retry_backoff_s": 0.05,
    "max_attempts": 6,
    "progress": False,
}


def make_campaign(db_path: Path, truth: dict[str, Any], site_url: str, **extra: Any) -> None:
    c = truth["campaign"]
    values: dict[str, Any] = {
        "keywords": c["keywords"],
        "near_miss_tags": c["near_miss_tags"],
        "opens_at": c["opens"],
        "closes_at": c["closes"],
        "prizes": 4,
        "site_url": site_url,
        "announcement_post": c["announcement_post"],
    }
    values.update(extra)
    run(lambda con: create_campaign(con, "demo", **values), db_path)


def crawl(db_path: Path, tmp_path: Path, **options: Any) -> CrawlSummary:
    settings = {**FAST, "failed_pages_dir": tmp_path / "failed", **options}
    return asyncio.run(crawl_campaign(db_path, "demo", **settings))


def query(db_path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return run(lambda con: con.execute(sql, list(params)).fetchall(), db_path)


def listing_or_robots(path: str) -> bool:
    return path == "/robots.txt" or path.startswith("/posts?")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(900)  # ~60 s on an idle 2-core machine; far more when it is shared
def test_complete_with_faults_then_unchanged_then_incremental(
    db_path: Path, tmp_path: Path
) -> None:
    site = build_site(n_posts=300, seed=7, drift=7)  # markup drifting per post, as a real site
    faults = FaultConfig(
        seed=3, error_rate=0.05, throttle_rate=0.01, truncate_rate=0.05, drop_rate=0.05
    )
    with ReplicaServer(site, faults=faults) as server:
        make_campaign(db_path, site.ground_truth(), server.url)

        # 1. Complete, with transient faults on.
        first = crawl(db_path, tmp_path)
        truth = site.ground_truth()
        assert sum(server.fault_counts().values()) > 20, "the faults did not fire"
        assert first.status == "ok", first.format()
        assert warehouse_differences(db_path, truth) == []
        # Adaptive: a sample was loaded in Chromium and its button clicked to the end, and
        # the page showed exactly what plain HTTP had collected.
        assert first.render_checks >= RENDER_CHECK_FIRST, first.format()
        assert first.render_mismatches == []
        assert first.listed == len(truth["listed"])
        gone = set(truth["labels"]["deleted"]) | set(truth["labels"]["private"])
        assert set(first.posts_gone) == gone
        runs = query(db_path, "SELECT status, posts_new, summary FROM crawl_runs")
        assert runs[0][0] == "ok" and runs[0][1] == first.posts_new
        assert json.loads(runs[0][2])["listed"] == len(truth["listed"])

        # 2. Unchanged: only the listing (and robots.txt) is fetched.
        server.reset_hits()
        again = crawl(db_path, tmp_path)
        assert again.status == "ok" and again.planned == 0
        assert all(listing_or_robots(p) for p in server.hits()), server.hits()
        assert warehouse_differences(db_path, truth) == []

        # 3. The site changes: only the listing and the changed posts are fetched.
        listed = truth["listed"]
        public = [n for n in listed if truth["posts"][str(n)]["state"] == "public"]
        commented, edited, deleted = public[5], public[40], public[80]
        new_post = site.add_post(n_comments=12)
        site.add_comments(commented, 3)
        site.edit_post(edited, title="หัวเรื่องที่แก้ไขแล้ว")
        site.delete_post(deleted)
        server.reset_hits()
        third = crawl(db_path, tmp_path)
        assert third.status == "ok", third.format()
        assert fetched_post_numbers(server.hits()) == {new_post, commented, edited, deleted}
        assert all(
            listing_or_robots(p)
            or int(p.split("/")[2].split("?")[0]) in fetched_post_numbers(server.hits())
            for p in server.hits()
        )
        truth = site.ground_truth()
        assert warehouse_differences(db_path, truth) == []
        assert third.posts_gone == [deleted]
        versions = query(
            db_path,
            "SELECT version_no, title FROM post_versions WHERE post_number = ? ORDER BY 1",
            edited,
        )
        assert len(versions) == 2 and versions[-1][1] == "หัวเรื่องที่แก้ไขแล้ว"
        unlisted = query(
            db_path,
            "SELECT listed FROM campaign_posts WHERE campaign_slug = 'demo' AND post_number = ?",
            deleted,
        )
        assert unlisted == [(False,)]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_sigkill_halfway_then_resume(db_path: Path, tmp_path: Path) -> None:
    site = build_site(n_posts=120, seed=11, drift=11)
    truth = site.ground_truth()
    with ReplicaServer(site) as server:
        make_campaign(db_path, truth, server.url)
        env = {
            **os.environ,
            "TAGDRAW_RETRY_BACKOFF_S": "0.05",
            "TAGDRAW_WRITE_BATCH_SIZE": "10",
            "TAGDRAW_FAILED_PAGES_DIR": str(tmp_path / "failed"),
        }
        cmd = [sys.executable, "-m", "tagdraw", "--db", str(db_path), "crawl", "demo"]
        proc = subprocess.Popen(
            # 40 requests/s: the crawl cannot finish in the 50 ms between two looks.
            [*cmd, "--rate", "40", "--concurrency", "2", "--quiet"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        n_posts = len(truth["posts"])
        deadline = time.monotonic() + 150
        try:
            while len(post_paths(server.hits())) < n_posts // 2:
                assert proc.poll() is None, "the crawl ended before it could be killed"
                assert time.monotonic() < deadline, "the crawl made no progress"
                time.sleep(0.05)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the crawler, its driver and its Chromium
            proc.wait()
        first_hits = post_paths(server.hits())
        assert len(first_hits) < n_posts
        done = {
            int(r[0])
            for r in query(
                db_path,
                "SELECT post_number FROM crawl_frontier WHERE state IN ('done', 'gone')",
            )
        }
        assert done, "nothing was written before the kill"
        assert query(db_path, "SELECT status FROM crawl_runs") == [("running",)]
        # Between the kill and the resume, one finished post is deleted and another retitled:
        # the killed run's fetch of them is out of date, so these two are read again.
        finished = sorted(
            n for n in done if n in truth["listed"] and truth["posts"][str(n)]["state"] == "public"
        )
        deleted, retitled = finished[0], finished[-1]
        site.delete_post(deleted)
        site.edit_post(retitled, title="ชื่อใหม่หลังการหยุด")
        truth = site.ground_truth()

        server.reset_hits()
        exit_code = tagdraw(["--db", str(db_path), "crawl", "demo", "--unthrottled", "--quiet"])
        assert exit_code == 0
        assert warehouse_differences(db_path, truth) == []
        resumed_hits = post_paths(server.hits())
        assert done & set(resumed_hits) == {deleted, retitled}, "finished pages fetched again"
        assert set(first_hits) | set(resumed_hits) == {int(n) for n in truth["posts"]}
        statuses = query(db_path, "SELECT status FROM crawl_runs ORDER BY run_id")
        assert statuses == [("interrupted",), ("ok",)]
        assert query(db_path, "SELECT count(*) FROM crawl_locks") == [(0,)]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_render_check_difference_renders_everything(db_path: Path, tmp_path: Path) -> None:
    """A site that serves non-browser clients fewer comments: the sampled render check sees
    the difference, the run switches to clicking in Chromium, and every post read before
    the switch is fetched again, rendered; nothing is kept short."""
    site = build_site(n_posts=80, seed=5)
    truth = site.ground_truth()
    with ReplicaServer(site, cloak_comments=True) as server:
        make_campaign(db_path, truth, server.url)
        summary = crawl(db_path, tmp_path)
        assert summary.render_mismatches, summary.format()
        assert any("rendering every post in Chromium" in m for m in summary.messages)
        assert warehouse_differences(db_path, truth) == []
        assert query(
            db_path, "SELECT count(*) FROM crawl_frontier WHERE state NOT IN ('done', 'gone')"
        ) == [(0,)]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("mode", ["click", "render"])
def test_every_post_in_chromium_modes_are_complete(
    db_path: Path, tmp_path: Path, mode: str
) -> None:
    """--comments-mode click (every post rendered, its button clicked until gone) and render
    (every post navigated, the comments JSON fetched): both equal the ground truth."""
    site = build_site(n_posts=40, seed=9)
    truth = site.ground_truth()
    with ReplicaServer(site) as server:
        make_campaign(db_path, truth, server.url)
        summary = crawl(db_path, tmp_path, comments_mode=mode)
        assert summary.status == "ok", summary.format()
        assert warehouse_differences(db_path, truth) == []
        assert summary.render_checks == 0  # nothing to check: every post was rendered


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_what_a_title_or_a_comment_count_would_not_show(db_path: Path, tmp_path: Path) -> None:
    """Changes the listing's title and comment count do not reveal, and failures that look
    like an end: a 404 that passes, a keyword added or put back, a comment page or a later
    listing page that answers 404."""
    site = build_site(n_posts=60, seed=7)
    truth = site.ground_truth()
    states = {int(n): p["state"] for n, p in truth["posts"].items()}
    announcement = truth["campaign"]["announcement_post"]
    listed = [n for n in truth["listed"] if states[n] == "public" and n != announcement]
    near = next(
        n for n in site.listing(NEAR_MISS_TAG) if n not in truth["listed"] and states[n] == "public"
    )
    flaky, retagged = listed[3], listed[5]
    with ReplicaServer(site) as server:
        make_campaign(db_path, truth, server.url)
        # A post that answers "not found" once is asked again, and stored.
        server.faults.config = FaultConfig(
            always_fail=frozenset({f"/posts/{flaky}"}), always_fail_status=404, always_fail_times=1
        )
        first = crawl(db_path, tmp_path)
        assert first.exit_code == 0 and flaky not in first.posts_gone
        assert server.hits()[f"/posts/{flaky}"] == 2
        assert warehouse_differences(db_path, site.ground_truth()) == []
        server.faults.config = None

        # Tags change, title and comment count do not: a near-miss post gets the keyword,
        # a keyword post loses it, then gets it back.
        site.edit_post(near, tags=[*site.post(near).raw_tags, KEYWORD])
        site.edit_post(retagged, tags=[NEAR_MISS_TAG])
        server.reset_hits()
        crawl(db_path, tmp_path)
        assert {near, retagged} <= fetched_post_numbers(server.hits())
        assert warehouse_differences(db_path, site.ground_truth()) == []
        site.edit_post(retagged, tags=[KEYWORD])
        server.reset_hits()
        crawl(db_path, tmp_path)
        assert fetched_post_numbers(server.hits()) == {retagged}
        assert warehouse_differences(db_path, site.ground_truth()) == []
        assert query(db_path, "SELECT tags FROM posts WHERE post_number = ?", retagged) == [
            ([KEYWORD],)
        ]

        # A comment page that answers 404 for good: the thread is unfinished, the run says
        # so, and the next run reads it again.
        commented = site.showcase_post
        server.faults.config = FaultConfig(
            always_fail=frozenset({f"/posts/{commented}/comments?page=3"}), always_fail_status=404
        )
        partial = crawl(db_path, tmp_path, full=True)
        assert partial.exit_code == 1
        assert query(
            db_path, "SELECT state FROM crawl_frontier WHERE post_number = ?", commented
        ) == [("failed",)]
        server.faults.config = None
        assert crawl(db_path, tmp_path).exit_code == 0
        assert warehouse_differences(db_path, site.ground_truth()) == []

        # A listing page after the first that answers 404 is not the end of the listing:
        # the run is partial and no post past it counts as unlisted or gone.
        server.faults.config = FaultConfig(
            always_fail=frozenset({f"/posts?tag={KEYWORD}&page=2"}), always_fail_status=404
        )
        broken = crawl(db_path, tmp_path)
        assert broken.exit_code == 1 and broken.posts_gone == []
        assert query(
            db_path,
            "SELECT count(*) FROM campaign_posts WHERE campaign_slug = 'demo' AND NOT listed "
            "AND source = 'listing'",
        ) == [(0,)]
        assert warehouse_differences(db_path, site.ground_truth()) == []


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_a_listed_gone_post_is_looked_at_again_a_day_later(db_path: Path, tmp_path: Path) -> None:
    """The site's index keeps listing some gone posts, so they are not fetched on every
    crawl; but one that is public again is found by the first crawl a day later."""
    site = build_site(n_posts=60, seed=7)
    truth = site.ground_truth()
    stale = next(
        p.post_number
        for p in site.posts.values()
        if p.state != "public" and p.stale_listed and p.post_number in truth["listed"]
    )
    with ReplicaServer(site) as server:
        make_campaign(db_path, truth, server.url)
        assert stale in crawl(db_path, tmp_path).posts_gone
        site.make_public(stale)
        server.reset_hits()
        crawl(db_path, tmp_path)
        assert stale not in fetched_post_numbers(server.hits())  # within the day: not yet
        run(
            lambda con: con.execute(
                "UPDATE posts SET last_fetched_at = last_fetched_at - INTERVAL 25 HOUR "
                "WHERE post_number = ?",
                [stale],
            ),
            db_path,
        )
        server.reset_hits()
        crawl(db_path, tmp_path)
        assert fetched_post_numbers(server.hits()) == {stale}
        assert query(db_path, "SELECT gone FROM posts WHERE post_number = ?", stale) == [(False,)]
        assert warehouse_differences(db_path, site.ground_truth()) == []


class GivingUpReplica(ReplicaServer):
    """The replica, but its page script removes ดูความเห็นเพิ่มเติม when a comments page
    fails to load (as the site of issue 15 did) instead of letting it be clicked again: a
    rendered page then ends its thread early with no sign of trouble in the DOM."""

    def _route(self, path: str, query: str) -> tuple[int, bytes, str, list[tuple[str, str]]]:
        status, body, ctype, headers = super()._route(path, query)
        if ctype.startswith("text/html"):
            body = body.replace(
                b".catch(function () { button.disabled = false; });",
                b".catch(function () { button.parentNode.removeChild(button); });",
            )
        return status, body, ctype, headers


def stored_comments(db_path: Path, post_number: int) -> int:
    return query(db_path, "SELECT count(*) FROM comments WHERE post_number = ?", post_number)[0][0]


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_a_comments_page_failing_once_while_clicking_leaves_no_gap(
    db_path: Path, tmp_path: Path
) -> None:
    """Issue 15, failure 1: every post rendered in Chromium, a comments page of the 57-comment
    thread answers 503 once and the page's script gives up. The thread is still read whole
    (the failed page is asked again); the run is ok only because nothing is missing."""
    site = build_site(n_posts=20, seed=3)
    truth = site.ground_truth()
    thread = site.showcase_post
    assert thread is not None and truth["posts"][str(thread)]["comment_count_declared"] == 57
    faults = FaultConfig(
        always_fail=frozenset({f"/posts/{thread}/comments?page=3"}),
        always_fail_status=503,
        always_fail_times=1,
    )
    with GivingUpReplica(site, faults=faults) as server:
        make_campaign(db_path, truth, server.url)
        summary = crawl(db_path, tmp_path, comments_mode="click")
        assert server.fault_counts()["always_fail"] == 1, "the 503 did not fire"
        assert stored_comments(db_path, thread) == 57, summary.format()
        assert summary.status == "ok", summary.format()
        assert warehouse_differences(db_path, truth) == []


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_a_thread_short_after_retries_makes_the_run_partial(db_path: Path, tmp_path: Path) -> None:
    """A comments page that keeps failing: the thread stays failed, the run is partial (exit
    1), crawl health names the thread, and the next run reads it again and completes it."""
    from warehouse.health import crawl_health

    site = build_site(n_posts=20, seed=3)
    truth = site.ground_truth()
    thread = site.showcase_post
    assert thread is not None
    faults = FaultConfig(
        always_fail=frozenset({f"/posts/{thread}/comments?page=3"}), always_fail_status=503
    )
    with GivingUpReplica(site, faults=faults) as server:
        make_campaign(db_path, truth, server.url)
        summary = crawl(db_path, tmp_path, comments_mode="click", max_attempts=2)
        assert summary.status == "partial", summary.format()
        assert summary.exit_code == 1
        assert query(db_path, "SELECT status FROM crawl_runs") == [("partial",)]
        assert query(db_path, "SELECT state FROM crawl_frontier WHERE post_number = ?", thread) == [
            ("failed",)
        ]
        health = run(lambda con: crawl_health(con, "demo"), db_path)
        assert thread in [page.post_number for page in health.failed_pages]
        assert any(str(thread) in message for message in health.messages), health.messages

        server.faults.config = None
        server.reset_hits()
        again = crawl(db_path, tmp_path, comments_mode="click")
        assert again.status == "ok", again.format()
        assert thread in fetched_post_numbers(server.hits())
        assert stored_comments(db_path, thread) == 57
        assert warehouse_differences(db_path, truth) == []
        health = run(lambda con: crawl_health(con, "demo"), db_path)
        assert health.failed_pages == ()


ONERROR = (
    b'<img src="x" onerror="this.parentNode.append(\' INJECTED BY SCRIPT\');'
    b"fetch('/onerror-ran')\">"
)


class HostileCommentReplica(ReplicaServer):
    """The replica, with an ``<img onerror>`` in a comment of the first page of the
    57-comment thread and in one on its second comments page: markup that runs its handler
    in a browser that blocks images, appending text and calling home."""

    thread: int = 0

    def _route(self, path: str, query: str) -> tuple[int, bytes, str, list[tuple[str, str]]]:
        status, body, ctype, headers = super()._route(path, query)
        if path == f"/posts/{self.thread}" and status == 200:
            first = body.index(b'<li class="comment"')
            end = body.index(b"</p>", first)
            body = body[:end] + ONERROR + body[end:]
        if path == f"/posts/{self.thread}/comments" and query == "page=2" and status == 200:
            data = json.loads(body)
            data["comments"][0]["html"] = data["comments"][0]["html"].replace(
                "</p>", ONERROR.decode() + "</p>", 1
            )
            body = json.dumps(data, ensure_ascii=False).encode()
        return status, body, ctype, headers


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_page_script_never_changes_what_is_stored(db_path: Path, tmp_path: Path) -> None:
    """Issue 15, failure 5: every post clicked through in Chromium; a comment's onerror
    handler runs there (the replica sees its call) but the stored text is the server's."""
    site = build_site(n_posts=20, seed=3)
    truth = site.ground_truth()
    with HostileCommentReplica(site) as server:
        server.thread = site.showcase_post or 0
        make_campaign(db_path, truth, server.url)
        summary = crawl(db_path, tmp_path, comments_mode="click")
        assert server.hits()["/onerror-ran"] >= 2, "the handlers did not run in Chromium"
    assert summary.status == "ok", summary.format()
    assert query(db_path, "SELECT count(*) FROM comments WHERE body_text LIKE '%INJECTED%'") == [
        (0,)
    ]
    assert warehouse_differences(db_path, truth) == []


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_a_post_rendered_in_chromium_is_requested_once(db_path: Path, tmp_path: Path) -> None:
    """Every post clicked through in Chromium, counted at the replica: one request per post
    page (two for a gone post: the second look), one per comments page, and no read-count
    call (/posts/N/views), which the crawl never needs."""
    site = build_site(n_posts=30, seed=3)
    truth = site.ground_truth()
    with ReplicaServer(site) as server:
        make_campaign(db_path, truth, server.url)
        summary = crawl(db_path, tmp_path, comments_mode="click")
        hits = server.hits()
    assert summary.status == "ok", summary.format()
    assert warehouse_differences(db_path, truth) == []
    views = {p: n for p, n in hits.items() if p.endswith("/views")}
    assert views == {}, views
    states = {int(n): p["state"] for n, p in truth["posts"].items()}
    pages = post_paths(hits)
    assert pages, hits
    for number, count in pages.items():
        assert count == (1 if states.get(number) == "public" else 2), (number, count)
    comment_pages = {p: n for p, n in hits.items() if "/comments?" in p}
    assert comment_pages and set(comment_pages.values()) == {1}, comment_pages
    needed = sum(
        max(0, -(-(truth["posts"][str(n)]["comment_count_declared"] - 10) // 10))
        for n in pages
        if states.get(n) == "public"
    )
    assert len(comment_pages) == needed


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_a_private_post_costs_no_request_for_the_login_page(db_path: Path, tmp_path: Path) -> None:
    """A private post redirects to /login: that answers the question, so the login page
    itself is never requested (at the live site's 1 request/s every request counts)."""
    site = build_site(n_posts=60, seed=7)
    truth = site.ground_truth()
    private = set(truth["labels"]["private"])
    with ReplicaServer(site) as server:
        make_campaign(db_path, truth, server.url)
        summary = crawl(db_path, tmp_path)
        hits = server.hits()
    assert private and private <= set(summary.posts_gone), summary.format()
    assert "/login" not in hits, hits["/login"]
    assert warehouse_differences(db_path, truth) == []
