"""``tagdraw crawl SLUG``: every post on the campaign's keyword listing(s), with every
comment, into the warehouse; politely, resumably and incrementally.

Steps: lock the campaign -> robots.txt -> walk each listing to its last page -> plan (one
short transaction: what changed since the last crawl, which posts to fetch; the plan is
written to ``crawl_frontier``) -> fetch post pages with bounded concurrency, writing in
batches (each batch stores posts AND marks their frontier rows done in one transaction,
so a SIGKILL never loses a finished page and never stores one twice) -> record the run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import duckdb

from scraper.errors import CrawlLocked, RobotsForbidden
from scraper.fetch import Fetcher, FetchFailed
from scraper.locks import (
    HEARTBEAT_EVERY_S,
    CrawlLock,
    acquire_crawl_lock,
    heartbeat_crawl_lock,
    release_crawl_lock,
)
from scraper.options import COMMENTS_MODES, DEFAULT_COMMENTS_MODE
from scraper.parse import (
    LOAD_MORE_LABEL,
    parse_comments_json,
    parse_listing,
    parse_post,
    renumber,
)
from warehouse.campaigns import Campaign, get_campaign
from warehouse.db import resolve_db_path, run
from warehouse.errors import TagdrawError
from warehouse.logs import kv
from warehouse.models import ListingItem, ListingPage, Post
from warehouse.settings import Settings, get_settings
from warehouse.store import mark_gone, mark_unlisted, record_campaign_posts, store_posts
from warehouse.thai import normalise_tag, squash_whitespace

log = logging.getLogger("tagdraw.crawl")

# How many extra passes over a listing when it names fewer posts than its "พบ N บันทึก"
# count (a post deleted while we page shifts the rest up by one and hides one from us).
LISTING_REPASSES = 2
FLUSH_EVERY_S = 3.0
_PAGE_TWO = re.compile(r"([?&]page=)2(?=&|#|$)")


@dataclass
class CrawlSummary:
    slug: str
    run_id: int
    mode: str  # 'incremental' | 'full'
    status: str = "running"  # 'ok' | 'partial' | 'failed' | 'interrupted'
    resumed_from: int | None = None
    listing_pages: int = 0
    post_pages: int = 0
    comment_pages: int = 0
    requests: int = 0
    listed: int = 0  # posts on the keyword listing(s)
    near_miss_listed: int = 0
    planned: int = 0  # post pages this run set out to fetch
    posts_new: int = 0
    posts_changed: int = 0
    posts_unchanged: int = 0
    posts_gone: list[int] = field(default_factory=list)
    comments_new: int = 0
    comments_collected: int = 0
    comment_mismatches: list[dict[str, Any]] = field(default_factory=list)
    render_checks: int = 0  # posts also loaded in Chromium with the page's script (adaptive)
    render_mismatches: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    requests_per_s: float = 0.0

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "ok" else 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def format(self) -> str:
        lines = [
            f"crawl of {self.slug!r} (run {self.run_id}, {self.mode}): {self.status}"
            + (f", resumed run {self.resumed_from}" if self.resumed_from else ""),
            f"  pages: {self.listing_pages} listing, {self.post_pages} post, "
            f"{self.comment_pages} comments; {self.requests} requests "
            f"in {self.duration_s:.1f} s ({self.requests_per_s:.1f}/s)",
            f"  posts: {self.listed} listed, {self.near_miss_listed} near-miss, "
            f"{self.planned} fetched: {self.posts_new} new, {self.posts_changed} changed, "
            f"{self.posts_unchanged} unchanged, {len(self.posts_gone)} gone",
            f"  comments: {self.comments_new} new ({self.comments_collected} collected)",
            f"  checked in Chromium (clicking ดูความเห็นเพิ่มเติม): {self.render_checks} posts, "
            f"{len(self.render_mismatches)} differed",
        ]
        lines += [f"  {message}" for message in self.messages]
        for mismatch in self.comment_mismatches:
            lines.append(
                f"  comment count differs on post {mismatch['post_number']}: declared "
                f"{mismatch['declared']}, collected {mismatch['collected']}"
            )
        if self.errors:
            lines.append(f"  errors ({len(self.errors)}):")
            for error in self.errors[:50]:
                kind = "failed" if error.get("permanent") else "retried"
                lines.append(f"    [{kind}] {error['url']}: {error['error']}")
            if len(self.errors) > 50:
                lines.append(f"    … and {len(self.errors) - 50} more (see crawl_errors)")
        if self.status == "partial":
            lines.append("  Some pages failed for good; run the same command again to resume.")
        return "\n".join(lines)


@dataclass
class _PostResult:
    post_number: int
    url: str
    post: Post | None = None
    gone_reason: str | None = None
    error: str | None = None  # permanent failure (nothing or an incomplete thread stored)
    http_status: int | None = None
    saved_html: str | None = None
    comment_pages: int = 0
    source: str = "listing"


@dataclass
class _Plan:
    to_fetch: dict[int, str]  # post number -> source
    vanished: list[int]
    done_before: set[int]


def _now() -> datetime:
    return datetime.now(UTC)


def listing_url(site_url: str, tag: str) -> str:
    return f"{site_url.rstrip('/')}/posts?tag={quote(tag, safe='')}&page=1"


def post_url(site_url: str, post_number: int) -> str:
    return f"{site_url.rstrip('/')}/posts/{post_number}"


# --- runs and frontier ---------------------------------------------------------------------


def _start_run(
    con: duckdb.DuckDBPyConnection, slug: str, mode: str, trigger: str
) -> tuple[int, int | None]:
    """Insert the run; an earlier run still 'running' (its holder died: we hold the lock)
    becomes 'interrupted' and its frontier is continued."""
    now = _now()
    earlier = con.execute(
        "UPDATE crawl_runs SET status = 'interrupted', finished_at = ? "
        "WHERE campaign_slug = ? AND status = 'running' RETURNING run_id",
        [now, slug],
    ).fetchall()
    # Continue the latest run if it did not finish: killed ('running' with a dead holder,
    # now marked) or stopped by Ctrl-C/SIGTERM ('interrupted').
    latest = con.execute(
        "SELECT run_id, status FROM crawl_runs WHERE campaign_slug = ? "
        "ORDER BY run_id DESC LIMIT 1",
        [slug],
    ).fetchone()
    resumed_from = int(latest[0]) if latest and latest[1] == "interrupted" else None
    del earlier
    if resumed_from is None:
        # A fresh crawl: forget what the last one finished; keep what it left pending/failed.
        con.execute(
            "DELETE FROM crawl_frontier WHERE campaign_slug = ? AND state IN ('done', 'gone')",
            [slug],
        )
    row = con.execute(
        "INSERT INTO crawl_runs (campaign_slug, mode, status, started_at, pid, host, trigger) "
        "VALUES (?, ?, 'running', ?, ?, ?, ?) RETURNING run_id",
        [slug, mode, now, os.getpid(), socket.gethostname(), trigger],
    ).fetchone()
    assert row is not None
    return int(row[0]), resumed_from


def _finish_run(con: duckdb.DuckDBPyConnection, summary: CrawlSummary, stats_requests: int) -> None:
    con.execute(
        """
        UPDATE crawl_runs SET status = ?, finished_at = ?, requests = ?, listing_pages = ?,
            post_pages = ?, comment_pages = ?, posts_new = ?, posts_changed = ?,
            posts_unchanged = ?, posts_gone = ?, comments_new = ?, errors = ?, duration_s = ?,
            summary = ?
        WHERE run_id = ?
        """,
        [
            summary.status,
            _now(),
            stats_requests,
            summary.listing_pages,
            summary.post_pages,
            summary.comment_pages,
            summary.posts_new,
            summary.posts_changed,
            summary.posts_unchanged,
            len(summary.posts_gone),
            summary.comments_new,
            sum(1 for e in summary.errors if e.get("permanent")),
            summary.duration_s,
            json.dumps(summary.to_json(), ensure_ascii=False, default=str),
            summary.run_id,
        ],
    )


def _record_error(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    url: str,
    kind: str,
    error: str,
    *,
    http_status: int | None = None,
    saved: str | None = None,
    permanent: bool = True,
) -> None:
    con.execute(
        "INSERT INTO crawl_errors (run_id, url, kind, error, http_status, saved_html_path, "
        'permanent, "at") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [run_id, url, kind, error, http_status, saved, permanent, _now()],
    )


# --- planning ------------------------------------------------------------------------------


def _plan(
    con: duckdb.DuckDBPyConnection,
    *,
    campaign: Campaign,
    run_id: int,
    full: bool,
    resuming: bool,
    keyword_items: dict[int, ListingItem],
    near_miss_items: dict[int, ListingItem],
    keyword_complete: bool,
    near_miss_complete: bool,
    seen_at: datetime,
    recheck_gone_after: timedelta,
) -> _Plan:
    """Decide what to fetch and write the listing facts and the frontier, in one go.

    A post is fetched when it is new; when what the listing shows about it (title, comment
    count) differs from the last listing or from what we stored; when its last fetch did not
    finish (frontier pending/failed) or collected fewer comments than declared; when the
    tags we stored disagree with the listing it is on (a keyword added or put back); when it
    vanished from the keyword listing (to learn whether it is gone or lost the tag); when it
    is stored gone but still listed and was last fetched ``recheck_gone_after`` ago (a 404
    may have been passing, a private post may be public again); and always with ``full``.
    A page an interrupted run already finished is not fetched again unless its listing facts
    changed since, or it vanished, after that run read them.
    """
    keywords = {normalise_tag(k) for k in campaign.keywords}
    slug = campaign.slug
    previous = {
        int(r[0]): (r[1], r[2], bool(r[3]), r[4])
        for r in con.execute(
            "SELECT post_number, listing_title, listing_comment_count, listed, source "
            "FROM campaign_posts WHERE campaign_slug = ?",
            [slug],
        ).fetchall()
    }
    stored = {
        int(r[0]): (r[1], r[2], r[3], bool(r[4]), r[5], r[6])
        for r in con.execute(
            "SELECT p.post_number, p.content_hash, p.comment_count_declared, "
            "p.comments_collected, p.gone, p.tags, p.last_fetched_at FROM posts p "
            "JOIN (SELECT unnest(?::BIGINT[]) AS post_number) w USING (post_number)",
            [sorted(set(keyword_items) | set(near_miss_items) | set(previous))],
        ).fetchall()
    }
    frontier = {
        int(r[0]): r[1]
        for r in con.execute(
            "SELECT post_number, state FROM crawl_frontier "
            "WHERE campaign_slug = ? AND kind = 'post'",
            [slug],
        ).fetchall()
    }
    done_before = (
        {n for n, state in frontier.items() if state in ("done", "gone")} if resuming else set()
    )
    stale_before = seen_at - recheck_gone_after

    changed_since_listed: set[int] = set()

    def needs_fetch(item: ListingItem, *, on_keyword_listing: bool) -> bool:
        number = item.post_number
        old = previous.get(number)
        listing_changed = (
            old is None
            or squash_whitespace(old[0] or "") != squash_whitespace(item.title)
            or old[1] != item.comment_count
        )
        if listing_changed:
            changed_since_listed.add(number)
        if full or frontier.get(number) in ("pending", "failed"):
            return True
        facts = stored.get(number)
        if facts is None:
            return True
        content_hash, declared, collected, gone, tags, last_fetched = facts
        if gone:
            # A stale index keeps listing gone posts: check them on a change, and now and
            # then in case the 404 was passing or the post is public again.
            return listing_changed or last_fetched is None or last_fetched < stale_before
        if content_hash is None:
            return True
        # Re-normalised here too, so that tags stored by an older normaliser are read again.
        tagged = bool(keywords & {normalise_tag(t) for t in tags or ()})
        if tagged != on_keyword_listing:
            return True  # the listing says the keyword was added (or removed): read the tags
        if item.comment_count is None or item.comment_count != declared:
            return True
        return listing_changed or (collected or 0) < (declared or 0)

    to_fetch: dict[int, str] = {}
    for number, item in keyword_items.items():
        if needs_fetch(item, on_keyword_listing=True):
            to_fetch[number] = "listing"
    for number, item in near_miss_items.items():
        if number not in keyword_items and needs_fetch(item, on_keyword_listing=False):
            to_fetch[number] = "near_miss_listing"
    vanished: list[int] = []
    if keyword_complete:
        for number, (_title, _count, listed, source) in previous.items():
            if source == "listing" and listed and number not in keyword_items:
                vanished.append(number)
                to_fetch.setdefault(number, "vanished")
    announcement = campaign.announcement_post
    if announcement and announcement not in keyword_items:
        # Not on the listing: nothing tells us whether its thread grew, so fetch it.
        to_fetch.setdefault(announcement, "announcement")
    for number in done_before:
        # Finished by the interrupted run: skip it, unless it changed (or vanished) on the
        # listing after that run read it, which that run's fetch cannot have seen.
        if number not in changed_since_listed and to_fetch.get(number) != "vanished":
            to_fetch.pop(number, None)

    record_campaign_posts(
        con, slug, list(keyword_items.values()), source="listing", seen_at=seen_at
    )
    near_only = [i for n, i in near_miss_items.items() if n not in keyword_items]
    record_campaign_posts(con, slug, near_only, source="near_miss_listing", seen_at=seen_at)
    if keyword_complete:
        mark_unlisted(con, slug, list(keyword_items), source="listing")
    if near_miss_complete:
        mark_unlisted(con, slug, list(near_miss_items), source="near_miss_listing")

    site = campaign.site_url
    now = _now()
    if to_fetch:
        # One set-based statement (executemany costs a round trip per row).
        con.execute(
            "INSERT INTO crawl_frontier (campaign_slug, url, kind, post_number, state, attempts,"
            " run_id, updated_at) SELECT $slug, $site || '/posts/' || n::VARCHAR, 'post', n,"
            " 'pending', 0, $run, $now FROM (SELECT unnest($numbers::BIGINT[]) AS n) "
            "ON CONFLICT (campaign_slug, url) DO UPDATE SET state = 'pending', "
            "run_id = excluded.run_id, updated_at = excluded.updated_at",
            {
                "slug": slug,
                "site": site.rstrip("/"),
                "run": run_id,
                "now": now,
                "numbers": sorted(to_fetch),
            },
        )
    return _Plan(to_fetch=to_fetch, vanished=vanished, done_before=done_before)


# Adaptive crawling (as Crawlee's AdaptivePlaywrightCrawler does): pages are read over plain
# HTTP, and a sample is loaded in Chromium with the page's own script to prove that nothing
# is lost by not rendering.
RENDER_CHECK_FIRST = 3
RENDER_CHECK_EVERY = 100
GONE_CONFIRM_AFTER_S = 2.0  # the second look at a post that answered "not found"
RENDER_CHECKERS = 1  # checks in Chromium at once, beside the plain-HTTP workers


def post_differences(fetched: Post, rendered: Post) -> list[str]:
    """What differs between a post read from its HTML + the comments JSON and the same post
    read from the page after its script ran (empty when they agree)."""
    differences = []
    for name in ("title", "author_username", "book_slug", "created_at", "updated_at"):
        if getattr(fetched, name) != getattr(rendered, name):
            differences.append(name)
    if squash_whitespace(fetched.body_text) != squash_whitespace(rendered.body_text):
        differences.append("body_text")
    if fetched.tags != rendered.tags:
        differences.append("tags")
    ids = [c.comment_id for c in fetched.comments]
    shown = [c.comment_id for c in rendered.comments]
    if ids != shown:
        differences.append(f"comments: {len(ids)} fetched, {len(shown)} on the page")
    else:
        for ours, theirs in zip(fetched.comments, rendered.comments, strict=True):
            if squash_whitespace(ours.body_text) != squash_whitespace(theirs.body_text) or (
                ours.author_username != theirs.author_username
            ):
                differences.append(f"comment {ours.comment_id}")
                break
    return differences


# --- the crawl -----------------------------------------------------------------------------


class _Crawl:
    def __init__(
        self,
        db_path: Path,
        campaign: Campaign,
        settings: Settings,
        *,
        full: bool,
        run_id: int,
        resumed_from: int | None,
        lock: CrawlLock,
        progress: bool,
        unthrottled: bool,
        comments_mode: str,
    ) -> None:
        self.db_path = db_path
        self.campaign = campaign
        self.settings = settings
        self.full = full
        self.lock = lock
        self.progress = progress
        self.unthrottled = unthrottled
        self.comments_mode = comments_mode
        self.site = campaign.site_url.rstrip("/")
        self.summary = CrawlSummary(
            slug=campaign.slug,
            run_id=run_id,
            mode="full" if full else "incremental",
            resumed_from=resumed_from,
        )
        self.started = time.monotonic()
        self.fetcher: Fetcher | None = None
        self._buffer: list[_PostResult] = []
        self._db_lock = asyncio.Lock()
        self._last_flush = time.monotonic()
        self._bar: Any = None
        self._posts_fetched = 0
        self._checks_due = 0
        self._checks: asyncio.Queue[_PostResult] = asyncio.Queue()
        # Posts read without rendering this run (number -> source): fetched again, rendered,
        # if a render check finds a difference.
        self._unrendered: dict[int, str] = {}
        self._queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        self._gone_once: dict[int, float] = {}  # post -> when it first answered gone

    async def _db(self, fn: Any) -> Any:
        """One short transaction off the event loop (fetching goes on meanwhile)."""
        async with self._db_lock:
            return await asyncio.to_thread(self._timed_run, fn)

    def _timed_run(self, fn: Any) -> Any:
        started = time.monotonic()

        def body(con: duckdb.DuckDBPyConnection) -> Any:
            opened = time.monotonic()
            result = fn(con)
            log.debug("db: open %.2f s, work %.2f s", opened - started, time.monotonic() - opened)
            return result

        return run(body, self.db_path)

    def _error(self, url: str, error: str, *, permanent: bool = True, **extra: Any) -> None:
        self.summary.errors.append({"url": url, "error": error, "permanent": permanent, **extra})

    async def execute(self) -> CrawlSummary:
        async with Fetcher(
            self.settings,
            self.site,
            unthrottled=self.unthrottled,
            javascript=self.comments_mode in ("adaptive", "click"),
            # Adaptive: a context per render checker; otherwise every worker
            # renders.
            browser_slots=RENDER_CHECKERS
            if self.comments_mode == "adaptive"
            else self.settings.concurrency,
        ) as fetcher:
            self.fetcher = fetcher
            crawl = asyncio.create_task(self._crawl(fetcher))
            heartbeat = asyncio.create_task(self._heartbeat())
            try:
                await asyncio.wait({crawl, heartbeat}, return_when=asyncio.FIRST_COMPLETED)
                if heartbeat.done() and not crawl.done():
                    crawl.cancel()  # the lock was lost: stop before writing more
                    await asyncio.gather(crawl, return_exceptions=True)
                    heartbeat.result()  # raises CrawlLocked
                await crawl
            finally:
                for task in (crawl, heartbeat):
                    task.cancel()
                await asyncio.gather(crawl, heartbeat, return_exceptions=True)
                self.summary.requests = fetcher.stats.requests
        return self.summary

    async def _heartbeat(self) -> None:
        """Keep the campaign's lock fresh; if another process took it over (it judged this
        one dead), stop rather than crawl beside it."""
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY_S)
            held = await self._db(lambda con: heartbeat_crawl_lock(con, self.lock))
            if not held:
                raise CrawlLocked(
                    f"This crawl of {self.campaign.slug!r} lost its lock to another process "
                    "(which found its heartbeat too old) and stopped; the other crawl goes on "
                    "from the same frontier."
                )

    async def _crawl(self, fetcher: Fetcher) -> None:
        campaign = self.campaign
        await fetcher.load_robots()
        log.info("robots.txt read in %.1f s", time.monotonic() - self.started)
        keyword_urls = [listing_url(self.site, kw) for kw in campaign.keywords]
        near_urls = [listing_url(self.site, t) for t in campaign.near_miss_tags]
        for url in keyword_urls:
            if not fetcher.allowed(url):
                raise RobotsForbidden(
                    f"robots.txt at {self.site} forbids the tag listing {url}; nothing was "
                    "crawled or written."
                )
        if not fetcher.allowed(post_url(self.site, 1)):
            raise RobotsForbidden(
                f"robots.txt at {self.site} forbids post pages (/posts/<n>); nothing was written."
            )

        keyword_items: dict[int, ListingItem] = {}
        keyword_complete = True
        for kw, url in zip(campaign.keywords, keyword_urls, strict=True):
            items, complete = await self._walk_listing(url, kw)
            keyword_items.update({n: i for n, i in items.items() if n not in keyword_items})
            keyword_complete &= complete
        near_items: dict[int, ListingItem] = {}
        near_complete = True
        for tag, url in zip(campaign.near_miss_tags, near_urls, strict=True):
            if not fetcher.allowed(url):
                self._error(url, "robots.txt forbids this near-miss listing", permanent=False)
                near_complete = False
                continue
            items, complete = await self._walk_listing(url, tag)
            near_items.update({n: i for n, i in items.items() if n not in near_items})
            near_complete &= complete
        self.summary.listed = len(keyword_items)
        self.summary.near_miss_listed = len(near_items)
        if keyword_complete and not keyword_items:
            self.summary.messages.append(
                "No posts carry this keyword yet: "
                + ", ".join(campaign.keywords)
                + f" (listing at {keyword_urls[0]})."
            )

        log.info("listings read in %.1f s", time.monotonic() - self.started)
        seen_at = _now()
        planned_at = time.monotonic()
        plan: _Plan = await self._db(
            lambda con: _plan(
                con,
                campaign=campaign,
                run_id=self.summary.run_id,
                full=self.full,
                resuming=self.summary.resumed_from is not None,
                keyword_items=keyword_items,
                near_miss_items=near_items,
                keyword_complete=keyword_complete,
                near_miss_complete=near_complete,
                seen_at=seen_at,
                recheck_gone_after=timedelta(hours=self.settings.recheck_gone_after_h),
            )
        )
        self.summary.planned = len(plan.to_fetch)
        log.info("plan written in %.2f s", time.monotonic() - planned_at)
        if plan.done_before:
            self.summary.messages.append(
                f"Resumed: {len(plan.done_before)} post pages finished by run "
                f"{self.summary.resumed_from} were not fetched again."
            )
        log.info(
            "listing: %d posts (%d near-miss); fetching %d post pages",
            len(keyword_items),
            len(near_items),
            len(plan.to_fetch),
        )
        await self._fetch_posts(plan.to_fetch)
        if not keyword_complete:
            self.summary.messages.append(
                "The keyword listing could not be read to its end; run again to complete it."
            )

    async def _walk_listing(self, start_url: str, tag: str) -> tuple[dict[int, ListingItem], bool]:
        """Follow rel=next from page 1 to the last page. The whole listing is read every
        time, by design: it is sorted by creation date, so a new comment or an edit on an
        old post shows up only deep in the listing, and a deleted post shifts every later
        page. Stopping at the first known page would miss both; the listing is cheap (20
        posts a request) next to the post pages it lets us skip."""
        assert self.fetcher is not None
        items: dict[int, ListingItem] = {}
        complete = False
        expected: int | None = None
        for _pass in range(1 + LISTING_REPASSES):
            url: str | None = start_url
            seen_urls: set[str] = set()
            ahead: dict[str, asyncio.Task[Any]] = {}
            complete = True
            try:
                while url and url not in seen_urls:
                    seen_urls.add(url)
                    if not self.fetcher.allowed(url):
                        self._error(url, "robots.txt forbids this listing page")
                        complete = False
                        break
                    try:
                        task = ahead.pop(url, None)
                        fetched = await (
                            task if task else self.fetcher.get(url, parse_listing, html=True)
                        )
                    except FetchFailed as exc:
                        await self._listing_failed(url, exc.reason, exc.status)
                        complete = False
                        break
                    if not ahead and fetched.value is not None and fetched.value.page == 1:
                        ahead = self._read_ahead(url, fetched.value)
                    self.summary.listing_pages += 1
                    if fetched.gone_reason:
                        # Page 1 of an unknown tag may answer 404: no posts carry it. A later
                        # page that rel=next named cannot vanish on its own: the listing is
                        # unfinished, so nothing past it may count as unlisted.
                        if len(seen_urls) > 1:
                            await self._listing_failed(
                                url,
                                f"listing page named by rel=next answered {fetched.gone_reason}",
                            )
                            complete = False
                        break
                    page: ListingPage = fetched.value  # type: ignore[assignment]
                    if page.page == 1 and page.result_count is not None:
                        expected = page.result_count
                    for item in page.items:
                        items.setdefault(item.post_number, item)
                    log.info("listing %s page %d: %d posts", tag, page.page, len(page.items))
                    url = urljoin(url, page.next_url) if page.next_url else None
            finally:
                for task in ahead.values():
                    task.cancel()
                await asyncio.gather(*ahead.values(), return_exceptions=True)
            if not complete or expected is None or len(items) >= expected:
                break
            log.info(
                "listing %s named %d posts but %d were found; reading it again",
                tag,
                expected,
                len(items),
            )
        if complete and expected is not None and len(items) < expected:
            self._error(
                start_url,
                f"the listing says {expected} posts but only {len(items)} could be found",
                permanent=False,
                kind="listing",
            )
        return items, complete

    async def _listing_failed(self, url: str, reason: str, status: int | None = None) -> None:
        """A listing page lost for good: in the summary and in ``crawl_errors``."""
        self._error(url, reason, http_status=status, kind="listing")
        await self._db(
            lambda con: _record_error(
                con, self.summary.run_id, url, "listing", reason, http_status=status
            )
        )

    def _read_ahead(self, url: str, first: ListingPage) -> dict[str, asyncio.Task[Any]]:
        """Start fetching the pages the first page's "พบ N บันทึก" predicts (same URL, page=k),
        so that the listing is read with the crawl's concurrency. The walk itself still
        follows rel=next and uses a prefetched page only when rel=next names its URL."""
        assert self.fetcher is not None
        if not first.next_url or not first.result_count or not first.items:
            return {}
        per_page = len(first.items)
        last_page = min(-(-first.result_count // per_page), 10_000)
        second = urljoin(url, first.next_url)
        if not _PAGE_TWO.search(second):
            return {}
        return {
            page_url: asyncio.create_task(self.fetcher.get(page_url, parse_listing, html=True))
            for k in range(2, last_page + 1)
            if self.fetcher.allowed(page_url := _PAGE_TWO.sub(rf"\g<1>{k}", second))
        }

    async def _fetch_posts(self, to_fetch: dict[int, str]) -> None:
        assert self.fetcher is not None
        queue = self._queue
        for number in sorted(to_fetch, reverse=True):
            queue.put_nowait((number, to_fetch[number]))
        if self.progress and sys.stderr.isatty() and to_fetch:
            from tqdm import tqdm

            self._bar = tqdm(total=len(to_fetch), unit="post", desc=self.campaign.slug)

        async def worker() -> None:
            while True:
                try:
                    number, source = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                result = await self._fetch_post(number, source)
                if result is not None:  # None: asked again later in the run
                    await self._collect(result)

        background = [asyncio.create_task(self._render_checker()) for _ in range(RENDER_CHECKERS)]
        if self.comments_mode == "adaptive" and len(to_fetch) >= RENDER_CHECK_EVERY:
            # A check is certain: start Chromium now, beside the first fetches, rather than
            # when the first check is due.
            background.append(asyncio.create_task(self.fetcher.start_browser()))
        try:
            # A render check that finds a difference puts the posts fetched without
            # rendering back on the queue: go round until both are empty.
            while not queue.empty():
                workers = [
                    asyncio.create_task(worker()) for _ in range(max(1, self.settings.concurrency))
                ]
                try:
                    await asyncio.gather(*workers)
                finally:
                    for task in workers:
                        task.cancel()
                await self._checks.join()
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            if self._bar is not None:
                self._bar.close()
        await self._flush()

    async def _collect(self, result: _PostResult) -> None:
        self._buffer.append(result)
        if self._bar is not None:
            self._bar.update(1)
        if (
            len(self._buffer) >= self.settings.write_batch_size
            or time.monotonic() - self._last_flush >= FLUSH_EVERY_S
        ):
            await self._flush()

    async def _fetch_post(self, number: int, source: str) -> _PostResult | None:
        assert self.fetcher is not None
        url = post_url(self.site, number)
        first_gone = self._gone_once.get(number)
        if first_gone is not None:
            await asyncio.sleep(max(0.0, first_gone + GONE_CONFIRM_AFTER_S - time.monotonic()))
        result = _PostResult(number, url, source=source)
        if not self.fetcher.allowed(url):
            result.error = "robots.txt forbids this post page"
            return result
        mode = self.comments_mode
        try:
            if mode == "adaptive":
                # The page's HTML as plain HTTP; Chromium only for the sampled checks.
                fetched = await self.fetcher.get(url, parse_post, html=True)
            else:
                async with self.fetcher.slot() as slot:
                    if mode == "click":
                        fetched = await self.fetcher.load_with_clicks(
                            slot, url, parse_post, LOAD_MORE_LABEL
                        )
                    else:
                        fetched = await self.fetcher.load(slot, url, parse_post)
            self.summary.post_pages += 1
            if fetched.gone_reason and first_gone is None:
                # One "not found" may be passing (a cache, a lagging replica of the site's
                # database): a post is called gone only when a second look, later in the
                # run, agrees. Until then its frontier row stays pending.
                self._gone_once[number] = time.monotonic()
                self._queue.put_nowait((number, source))
                log.info("post %d: %s; asking again later", number, fetched.gone_reason)
                return None
            if fetched.gone_reason:
                result.gone_reason = fetched.gone_reason
                log.info("post %d: gone (%s)", number, fetched.gone_reason)
                return result
            post: Post = fetched.value  # type: ignore[assignment]
            post = await self._all_comments(post, result)
        except FetchFailed as exc:
            result.error = exc.reason
            result.http_status = exc.status
            if exc.text:
                result.saved_html = self._save_failed_page(number, exc.text)
            log.warning("post %d: failed: %s", number, exc.reason)
            return result
        result.post = post
        if mode == "adaptive" and self.comments_mode == "click":
            # A render check found a difference while this page was on its way: again, rendered.
            self._queue.put_nowait((number, source))
        elif mode == "adaptive":
            self._unrendered[number] = source
            if self._due_for_render_check(result):
                self._checks.put_nowait(result)
        self._note_comment_count(result)
        log.info("post %d: %d comments", number, len(post.comments))
        return result

    def _note_comment_count(self, result: _PostResult) -> None:
        post = result.post
        assert post is not None
        declared = post.comment_count_declared
        if declared is not None and declared != len(post.comments):
            self.summary.comment_mismatches.append(
                {
                    "post_number": post.post_number,
                    "declared": declared,
                    "collected": len(post.comments),
                }
            )

    def _due_for_render_check(self, result: _PostResult) -> bool:
        """Adaptive crawling: the first posts whose comments come partly from the page's
        script, then one post in every ``RENDER_CHECK_EVERY``, are also loaded in Chromium
        and their button clicked until it is gone."""
        self._posts_fetched += 1
        if self._checks_due < RENDER_CHECK_FIRST and result.comment_pages > 0:
            self._checks_due += 1
            return True
        return self._posts_fetched % RENDER_CHECK_EVERY == 0

    async def _render_checker(self) -> None:
        """Runs beside the workers (they never wait for Chromium): loads each sampled post
        in Chromium, clicks ดูความเห็นเพิ่มเติม until it is gone, and compares."""
        while True:
            result = await self._checks.get()
            try:
                await self._render_check(result)
            except Exception:  # a broken check must not pass silently: count it as differing
                log.exception("render check of post %d failed", result.post_number)
                self.summary.render_mismatches.append(
                    {"post_number": result.post_number, "differences": ["check failed"]}
                )
                await self._switch_to_click(result.post_number, "the check itself failed")
            finally:
                self._checks.task_done()

    async def _render_check(self, result: _PostResult) -> None:
        """Compare the plain-HTTP result with what a real page shows after clicking
        ดูความเห็นเพิ่มเติม. On any difference, store what the page shows, and fetch every
        post this run read without rendering again, rendered and clicked (never silently
        keep a result that may miss comments)."""
        assert self.fetcher is not None and result.post is not None
        post = result.post
        started = time.monotonic()
        try:
            async with self.fetcher.slot() as slot:
                fetched = await self.fetcher.load_with_clicks(
                    slot, result.url, parse_post, LOAD_MORE_LABEL
                )
        except FetchFailed as exc:
            log.info("post %d: render check skipped (%s)", post.post_number, exc.reason)
            if self.summary.render_checks < RENDER_CHECK_FIRST:
                self._checks_due -= 1  # sample another post instead
            return
        if fetched.value is None:
            return
        rendered = replace(fetched.value, comments=renumber(list(fetched.value.comments)))
        self.summary.render_checks += 1
        log.debug(
            "post %d: render check (%d comments) in %.2f s",
            post.post_number,
            len(rendered.comments),
            time.monotonic() - started,
        )
        differences = post_differences(post, rendered)
        if not differences:
            return
        self.summary.render_mismatches.append(
            {"post_number": post.post_number, "differences": differences}
        )
        await self._collect(replace(result, post=rendered))
        self._unrendered.pop(post.post_number, None)
        await self._switch_to_click(
            post.post_number, f"differs when rendered ({'; '.join(differences)})"
        )

    async def _switch_to_click(self, post_number: int, why: str) -> None:
        assert self.fetcher is not None
        if self.comments_mode != "click":
            self.comments_mode = "click"
            self.fetcher.browser_slots = max(1, self.settings.concurrency)
            message = (
                f"post {post_number} {why}: rendering every post in Chromium, "
                f"including the {len(self._unrendered)} already read without rendering"
            )
            self.summary.messages.append(message)
            log.warning(message)
        again, self._unrendered = self._unrendered, {}
        if not again:
            return
        # Written down first, so that a crawl killed from here on fetches them on resume.
        await self._flush()
        urls = [post_url(self.site, n) for n in again]
        slug = self.campaign.slug
        await self._db(
            lambda con: con.execute(
                "UPDATE crawl_frontier SET state = 'pending' WHERE campaign_slug = ? "
                "AND url IN (SELECT unnest(?::VARCHAR[]))",
                [slug, urls],
            )
        )
        for number, source in sorted(again.items(), reverse=True):
            self._queue.put_nowait((number, source))

    async def _all_comments(self, post: Post, result: _PostResult) -> Post:
        """Follow the load-more chain (``data-next`` -> JSON ``next``) over plain HTTP: the
        same requests the page's script makes, minus the rendering."""
        assert self.fetcher is not None
        comments = list(post.comments)
        next_url = post.comments_next_url if self.comments_mode != "click" else None
        seen: set[str] = set()
        while next_url:
            absolute = urljoin(self.site + "/", next_url)
            if absolute in seen:
                break
            seen.add(absolute)
            try:
                fetched = await self.fetcher.get(
                    absolute,
                    lambda text, _u: parse_comments_json(json.loads(text), post.post_number),
                )
            except FetchFailed as exc:
                # Keep what we have (the entry itself is complete); the frontier row stays
                # failed so the next run fetches the thread again.
                result.error = f"comments page {absolute}: {exc.reason}"
                result.http_status = exc.status
                break
            self.summary.comment_pages += 1
            result.comment_pages += 1
            page = fetched.value
            if page is None:
                # The post answered, its next comment page did not: keep what we have and
                # leave the frontier row failed, so that the next run reads the thread again.
                result.error = f"comments page {absolute}: {fetched.gone_reason}"
                result.http_status = fetched.status
                break
            comments.extend(page.comments)
            next_url = page.next_url
        return replace(post, comments=renumber(comments), comments_next_url=None)

    def _save_failed_page(self, number: int, text: str) -> str:
        directory = Path(self.settings.failed_pages_dir) / self.campaign.slug
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"post-{number}-run{self.summary.run_id}.html"
        path.write_text(text, encoding="utf-8")
        return str(path)

    async def _flush(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        self._last_flush = time.monotonic()
        slug, run_id = self.campaign.slug, self.summary.run_id
        seen_at = _now()

        def write(con: duckdb.DuckDBPyConnection) -> tuple[Any, list[int]]:
            posts = [r.post for r in batch if r.post is not None]
            stored = store_posts(con, posts, seen_at=seen_at)
            gone: list[int] = []
            for reason in ("not_found", "private"):
                numbers = [r.post_number for r in batch if r.gone_reason == reason]
                if numbers:
                    before = {
                        int(row[0])
                        for row in con.execute(
                            "SELECT post_number FROM posts WHERE gone AND post_number IN "
                            "(SELECT unnest(?::BIGINT[]))",
                            [numbers],
                        ).fetchall()
                    }
                    mark_gone(con, numbers, reason, seen_at=seen_at)
                    gone += [n for n in numbers if n not in before]
            announcement = [
                ListingItem(
                    r.post.post_number,
                    r.post.url,
                    r.post.title,
                    r.post.author_username,
                    r.post.author_name,
                    None,
                    r.post.comment_count_declared,
                )
                for r in batch
                if r.post is not None and r.source == "announcement"
            ]
            if announcement:
                record_campaign_posts(
                    con, slug, announcement, source="announcement", seen_at=seen_at
                )
            now = _now()
            rows = []
            for r in batch:
                state = "failed" if r.error else ("gone" if r.gone_reason else "done")
                rows.append([state, r.error, run_id, now, slug, r.url])
                if r.post is not None and r.post.comment_count_declared is not None:
                    collected = len(r.post.comments)
                    if collected != r.post.comment_count_declared:
                        _record_error(
                            con,
                            run_id,
                            r.url,
                            "comment_count",
                            f"declared {r.post.comment_count_declared} comments, "
                            f"collected {collected}",
                            permanent=False,
                        )
                if r.error:
                    _record_error(
                        con,
                        run_id,
                        r.url,
                        "post",
                        r.error,
                        http_status=r.http_status,
                        saved=r.saved_html,
                    )
            con.execute(
                "UPDATE crawl_frontier AS f SET state = u.state, attempts = f.attempts + 1, "
                "last_error = u.err, run_id = $run, updated_at = $now FROM (SELECT "
                "unnest($urls::VARCHAR[]) AS url, unnest($states::VARCHAR[]) AS state, "
                "unnest($errs::VARCHAR[]) AS err) AS u "
                "WHERE f.campaign_slug = $slug AND f.url = u.url",
                {
                    "run": run_id,
                    "now": now,
                    "slug": slug,
                    "urls": [r[5] for r in rows],
                    "states": [r[0] for r in rows],
                    "errs": [r[1] for r in rows],
                },
            )
            con.execute(
                "UPDATE crawl_runs SET post_pages = ?, comment_pages = ?, listing_pages = ? "
                "WHERE run_id = ?",
                [
                    self.summary.post_pages,
                    self.summary.comment_pages,
                    self.summary.listing_pages,
                    run_id,
                ],
            )
            heartbeat_crawl_lock(con, self.lock)
            return stored, gone

        stored, gone = await self._db(write)
        self.summary.posts_new += len(stored.new)
        self.summary.posts_changed += len(stored.changed)
        self.summary.posts_unchanged += len(stored.unchanged)
        self.summary.comments_new += stored.comments_new
        self.summary.comments_collected += sum(len(r.post.comments) for r in batch if r.post)
        self.summary.posts_gone += gone
        for r in batch:
            if r.error:
                self._error(r.url, r.error, http_status=r.http_status, saved_html=r.saved_html)


def _settings_with(overrides: dict[str, Any]) -> Settings:
    settings = get_settings()
    known = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(known) - set(Settings.model_fields)
    if unknown:
        raise TypeError(f"unknown crawl settings: {', '.join(sorted(unknown))}")
    return settings.model_copy(update=known)


async def crawl_campaign(
    db_path: str | os.PathLike[str] | None,
    slug: str,
    *,
    full: bool = False,
    trigger: str = "cli",
    progress: bool = True,
    unthrottled: bool = False,
    comments_mode: str = DEFAULT_COMMENTS_MODE,
    **overrides: Any,
) -> CrawlSummary:
    """Crawl one campaign. ``overrides`` are Settings fields (rate_per_s, concurrency,
    request_timeout_s, max_attempts, retry_backoff_s, context_recycle_pages,
    write_batch_size, failed_pages_dir, ...). ``comments_mode``: 'adaptive' (the default:
    pages and the load-more chain over plain HTTP, with a sample of posts loaded in Chromium
    and clicked through to prove nothing is missed; any difference switches the run to
    'click'), 'render' (every post page navigated in Chromium, the comments JSON over plain
    HTTP) or 'click' (every post rendered and its button clicked until it is gone).

    Raises UserError (unknown campaign), CrawlLocked, SiteUnreachable, RobotsForbidden;
    returns the summary otherwise (``summary.exit_code`` is 1 when pages failed for good).
    """
    if comments_mode not in COMMENTS_MODES:
        raise ValueError(
            f"comments_mode must be one of {tuple(COMMENTS_MODES)}, not {comments_mode!r}"
        )
    settings = _settings_with(overrides)
    path = resolve_db_path(db_path)
    campaign: Campaign = run(lambda con: get_campaign(con, slug), path)
    lock = acquire_crawl_lock(path, slug)
    try:
        run_id, resumed_from = run(
            lambda con: _start_run(con, slug, "full" if full else "incremental", trigger), path
        )
        log.info(
            "crawl started %s",
            kv(campaign=slug, run=run_id, trigger=trigger, resumed_from=resumed_from),
        )
        crawl = _Crawl(
            path,
            campaign,
            settings,
            full=full,
            run_id=run_id,
            resumed_from=resumed_from,
            lock=lock,
            progress=progress,
            unthrottled=unthrottled,
            comments_mode=comments_mode,
        )
        summary = crawl.summary
        try:
            await crawl.execute()
        except (asyncio.CancelledError, KeyboardInterrupt):
            summary.status = "interrupted"
            raise
        except TagdrawError as exc:
            summary.status = "failed"
            summary.messages.append(str(exc))
            raise
        except BaseException as exc:
            summary.status = "failed"
            summary.messages.append(f"{type(exc).__name__}: {exc}")
            raise
        else:
            failed = any(e.get("permanent") for e in summary.errors)
            summary.status = "partial" if failed or _listing_incomplete(summary) else "ok"
        finally:
            summary.duration_s = time.monotonic() - crawl.started
            summary.requests_per_s = (
                summary.requests / summary.duration_s if summary.duration_s else 0
            )
            run(lambda con: _finish_run(con, summary, summary.requests), path)
        return summary
    finally:
        release_crawl_lock(path, lock)


def _listing_incomplete(summary: CrawlSummary) -> bool:
    return any("listing could not be read" in m for m in summary.messages)


def run_crawl(
    db_path: str | os.PathLike[str] | None,
    slug: str,
    *,
    full: bool = False,
    trigger: str = "cli",
    progress: bool = True,
    **overrides: Any,
) -> CrawlSummary:
    """Synchronous ``crawl_campaign``; SIGTERM stops it like Ctrl-C (run marked interrupted)."""

    async def main() -> CrawlSummary:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if task is not None and threading_is_main():
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        return await crawl_campaign(
            db_path, slug, full=full, trigger=trigger, progress=progress, **overrides
        )

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None


def threading_is_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def unfinished_posts(con: duckdb.DuckDBPyConnection, slug: str) -> Sequence[int]:
    """Post numbers of the campaign's frontier not yet done (pending or failed)."""
    return [
        int(r[0])
        for r in con.execute(
            "SELECT post_number FROM crawl_frontier WHERE campaign_slug = ? AND kind = 'post' "
            "AND state IN ('pending', 'failed') ORDER BY post_number",
            [slug],
        ).fetchall()
    ]
