"""Revalidation against the replica: a post deleted while the stale tag index still lists it
(same title, same comment count) is found by the first crawl after the revalidation period,
with and without HTTP validators; a 304 costs no parse and counts as seen live; ``crawl
--verify`` and ``verify_posts`` check now."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from crawl_truth import post_paths, warehouse_differences

from replica.server import ReplicaServer
from replica.site import Site, build_site
from scraper.crawl import CrawlSummary, RunStatus, crawl_campaign, verify_posts
from tagdraw.cli import main as tagdraw
from warehouse.campaigns import create_campaign
from warehouse.db import run

FAST: dict[str, Any] = {
    "unthrottled": True,
    "request_timeout_s": 15.0,
    "retry_backoff_s": 0.05,
    "max_attempts": 6,
    "progress": False,
}


class ValidatingReplica(ReplicaServer):
    """The replica, sending ETag and Last-Modified on post pages and answering 304 to a
    request whose If-None-Match (or If-Modified-Since) matches. The ETag is a hash of the
    page; Last-Modified follows the post's revision."""

    def __init__(self, site: Site, **kw: Any) -> None:
        super().__init__(site, **kw)
        self._request = threading.local()
        self.not_modified = 0

    def handle(self, h: Any, method: str) -> None:
        self._request.headers = h.headers
        super().handle(h, method)

    def _route(self, path: str, query: str) -> tuple[int, bytes, str, list[tuple[str, str]]]:
        status, body, ctype, headers = super()._route(path, query)
        parts = path.strip("/").split("/")
        if status != 200 or len(parts) != 2 or parts[0] != "posts" or not parts[1].isdigit():
            return status, body, ctype, headers
        post = self.site.post(int(parts[1]))
        assert post is not None
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        modified = format_datetime(
            datetime(2020, 1, 1, tzinfo=UTC).replace(second=post.revision % 60), usegmt=True
        )
        headers = [*headers, ("ETag", etag), ("Last-Modified", modified)]
        sent = getattr(self._request, "headers", None)
        if sent is not None and (
            sent.get("If-None-Match") == etag
            or (sent.get("If-None-Match") is None and sent.get("If-Modified-Since") == modified)
        ):
            self.not_modified += 1
            return 304, b"", ctype, headers
        return status, body, ctype, headers


def make_campaign(db_path: Path, truth: dict[str, Any], site_url: str) -> None:
    c = truth["campaign"]
    run(
        lambda con: create_campaign(
            con,
            "demo",
            keywords=c["keywords"],
            near_miss_tags=c["near_miss_tags"],
            opens_at=c["opens"],
            closes_at="2099-12-31",  # open: revalidation applies
            prizes=4,
            site_url=site_url,
            announcement_post=c["announcement_post"],
        ),
        db_path,
    )


def crawl(db_path: Path, tmp_path: Path, **options: Any) -> CrawlSummary:
    settings = {**FAST, "failed_pages_dir": tmp_path / "failed", **options}
    return asyncio.run(crawl_campaign(db_path, "demo", **settings))


def query(db_path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return run(lambda con: con.execute(sql, list(params)).fetchall(), db_path)


def delete_but_keep_listed(site: Site, number: int) -> None:
    """Deleted (404), but the stale tag index keeps listing it with its title and count."""
    site.delete_post(number)
    with site.lock:
        post = site.posts[number]
        post.stale_listed = True
        site._changed(post)


def age_all_fetches(db_path: Path, hours: int) -> None:
    run(
        lambda con: con.execute(
            f"UPDATE posts SET last_fetched_at = last_fetched_at - INTERVAL {hours} HOUR"
        ),
        db_path,
    )


@pytest.mark.browser
@pytest.mark.timeout(600)
@pytest.mark.parametrize("validators", [True, False], ids=["validators", "no-validators"])
def test_deleted_while_listed_is_gone_after_the_revalidation_period(
    db_path: Path, tmp_path: Path, validators: bool
) -> None:
    site = build_site(n_posts=40, seed=3)
    truth = site.ground_truth()
    server_type = ValidatingReplica if validators else ReplicaServer
    with server_type(site) as server:
        make_campaign(db_path, truth, server.url)
        assert crawl(db_path, tmp_path).status == RunStatus.OK
        live = [
            n
            for n in truth["listed"]
            if truth["posts"][str(n)]["state"] == "public"
            and n != truth["campaign"]["announcement_post"]
        ]
        deleted = live[3]
        delete_but_keep_listed(site, deleted)
        assert deleted in site.listing(truth["campaign"]["keywords"][0])

        # Within the period nothing on the listing changed: the post is not fetched.
        server.reset_hits()
        crawl(db_path, tmp_path)
        assert deleted not in post_paths(server.hits())
        assert query(db_path, "SELECT gone FROM posts WHERE post_number = ?", deleted) == [(False,)]

        # The first crawl after the period marks it gone.
        age_all_fetches(db_path, 25)
        before = datetime.now(UTC)
        server.reset_hits()
        summary = crawl(db_path, tmp_path)
        hits = server.hits()
        assert summary.status == RunStatus.OK, summary.format()
        assert deleted in summary.posts_gone
        assert query(
            db_path, "SELECT gone, gone_reason FROM posts WHERE post_number = ?", deleted
        ) == [(True, "not_found")]
        assert warehouse_differences(db_path, site.ground_truth()) == []
        revalidated = {
            n for n in truth["listed"] if truth["posts"][str(n)]["state"] == "public"
        } - {deleted}
        assert revalidated <= set(post_paths(hits))
        # Every live post counts as seen live now (the draw reads last_fetched_at).
        stale = query(
            db_path,
            "SELECT post_number FROM posts WHERE NOT gone AND last_fetched_at < ? "
            "AND post_number IN (SELECT unnest(?::BIGINT[]))",
            before,
            sorted(revalidated),
        )
        assert stale == []
        # A 304 costs no parse; without validators the page is read and, showing what is
        # stored, its comment pages are not.
        assert [p for p in hits if "/comments?" in p] == []
        if validators:
            assert summary.not_modified == len(revalidated) == server.not_modified
        else:
            assert summary.not_modified == 0
            assert summary.unchanged_on_check == len(revalidated)


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_verify_checks_every_candidate_now(db_path: Path, tmp_path: Path) -> None:
    """``crawl --verify`` right after a crawl: every listed post asked again (conditional),
    the deleted one found; ``verify_posts`` fetches just the posts it is given."""
    site = build_site(n_posts=30, seed=3)
    truth = site.ground_truth()
    with ValidatingReplica(site) as server:
        make_campaign(db_path, truth, server.url)
        crawl(db_path, tmp_path)
        live = [
            n
            for n in truth["listed"]
            if truth["posts"][str(n)]["state"] == "public"
            and n != truth["campaign"]["announcement_post"]
        ]
        deleted = live[1]
        delete_but_keep_listed(site, deleted)
        server.reset_hits()
        code = tagdraw(
            ["--db", str(db_path), "crawl", "demo", "--verify", "--unthrottled", "--quiet"]
        )
        assert code == 0
        assert set(live) <= set(post_paths(server.hits()))
        assert query(db_path, "SELECT gone FROM posts WHERE post_number = ?", deleted) == [(True,)]

        other = live[2]
        site.delete_post(other)
        server.reset_hits()
        summary = verify_posts(db_path, "demo", [other, live[4]], **FAST)
        assert summary.mode == "verify" and summary.listing_pages == 0
        assert set(post_paths(server.hits())) == {other, live[4]}
        assert summary.posts_gone == [other]
        assert summary.not_modified == 1
        assert query(
            db_path, "SELECT mode, status FROM crawl_runs ORDER BY run_id DESC LIMIT 1"
        ) == [("verify", "ok")]

        # A post stored gone that is public again, unchanged: verified, it is live again
        # (showing the stored version must not pass for "still as stored" while gone).
        site.make_public(deleted)
        summary = verify_posts(db_path, "demo", [deleted], **FAST)
        assert summary.status == RunStatus.OK, summary.format()
        assert query(db_path, "SELECT gone FROM posts WHERE post_number = ?", deleted) == [(False,)]
