"""``tagdraw crawl SLUG``: every post on the campaign's keyword listing(s), with every
comment, into the warehouse; politely, resumably and incrementally.

The orchestration, in stages (read -> plan -> write): lock the campaign -> robots.txt ->
walk each listing to its last page (``scraper.listing``) -> plan: read what the warehouse knows, decide with the
pure ``scraper.plan.plan_fetches``, write the listing facts and the frontier (one short
transaction) -> fetch post pages with bounded concurrency, writing in batches (each batch
stores posts AND marks their frontier rows in one transaction, so a SIGKILL never loses a
finished page and never stores one twice) -> record the run. Every statement on the crawl
tables goes through ``warehouse.crawl_ledger``; when a post is rendered in Chromium is the
``scraper.render_policy.RenderPolicy``'s decision.

A post is stored from what the server sent, whichever way it was fetched: its HTML and the
comments JSON, parsed by ``scraper.parse``. A thread whose comments still number other than
the page declares after retries leaves its post ``failed``: the run is ``partial``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from scraper.errors import CrawlLocked, RobotsForbidden
from scraper.fetch import Captured, Fetched, Fetcher, FetchFailed, Validators
from scraper.listing import listing_url, walk_listing
from scraper.locks import (
    HEARTBEAT_EVERY_S,
    CrawlLock,
    acquire_crawl_lock,
    heartbeat_crawl_lock,
    release_crawl_lock,
)
from scraper.options import COMMENTS_MODES, DEFAULT_COMMENTS_MODE, CommentsMode
from scraper.parse import LOAD_MORE_LABEL, parse_post
from scraper.plan import (
    ANNOUNCEMENT,
    VERIFY,
    FetchPlan,
    ListedBefore,
    StoredPost,
    plan_fetches,
)
from scraper.render_policy import RENDER_CHECK_EVERY, RENDER_CHECK_FIRST, RenderPolicy
from scraper.thread import load_post, read_thread
from warehouse import crawl_ledger as ledger
from warehouse.campaigns import Campaign, get_campaign
from warehouse.crawl_ledger import CrawlMode, FrontierState, RunCounts, RunStatus
from warehouse.db import resolve_db_path, run
from warehouse.errors import TagdrawError, UserError
from warehouse.logs import kv
from warehouse.models import ListingItem, Post
from warehouse.settings import Settings, get_settings
from warehouse.store import (
    StoreResult,
    content_hash,
    mark_gone,
    mark_unlisted,
    record_campaign_posts,
    store_posts,
)
from warehouse.thai import squash_whitespace

__all__ = [
    "LOAD_MORE_LABEL",
    "RENDER_CHECK_EVERY",
    "RENDER_CHECK_FIRST",
    "CrawlSummary",
    "RunStatus",
    "crawl_campaign",
    "run_crawl",
    "verify_posts",
]

log = logging.getLogger("tagdraw.crawl")

FLUSH_EVERY_S = 3.0
# How often a running crawl writes its counts to crawl_runs (the dashboard follows them)
# and learns whether an admin asked it to stop (one short UPDATE; batches write them too).
PROGRESS_EVERY_S = 2.0
GONE_CONFIRM_AFTER_S = 2.0  # the second look at a post that answered "not found"
RENDER_CHECKERS = 1  # checks in Chromium at once, beside the plain-HTTP workers
# Reads of a thread (its post page and comment pages) before a count that still differs
# from the declared one leaves the post failed.
THREAD_READS = 2
# The crawl's transactions run DuckDB on one thread: each writing thread holds its own
# buffers while the batch is written and checkpointed, so two threads raise the crawl's
# peak memory (measured: bench_crawl.py --memory-sizes) while the second core is wanted by
# the fetching and parsing going on beside the write anyway. What is stored is the same.
DB_THREADS = 1


@dataclass
class CrawlSummary:
    slug: str
    run_id: int
    mode: CrawlMode
    status: RunStatus = RunStatus.RUNNING
    resumed_from: int | None = None
    listing_pages: int = 0
    post_pages: int = 0
    comment_pages: int = 0
    requests: int = 0
    bytes_received: int = 0  # response bodies the site sent
    listed: int = 0  # posts on the keyword listing(s)
    near_miss_listed: int = 0
    planned: int = 0  # post pages this run set out to fetch
    revalidated: int = 0  # of those, fetched only to check they are unchanged and live
    not_modified: int = 0  # answered 304 to a conditional request
    unchanged_on_check: int = 0  # read again (no validators) and found as stored
    posts_new: int = 0
    posts_changed: int = 0
    posts_unchanged: int = 0
    posts_gone: list[int] = field(default_factory=list)
    comments_new: int = 0
    comments_collected: int = 0
    listing_complete: bool = True  # every keyword listing read to its last page
    # Threads whose comments still differ from the declared count after retries: failed.
    incomplete_threads: list[dict[str, Any]] = field(default_factory=list)
    render_checks: int = 0  # posts also loaded in Chromium with the page's script (adaptive)
    render_mismatches: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    # Stopped on request (the dashboard's cancel): no new page was started after it.
    cancelled: bool = False
    duration_s: float = 0.0
    requests_per_s: float = 0.0

    @property
    def exit_code(self) -> int:
        return 0 if self.status == RunStatus.OK else 1

    def finished_status(self) -> RunStatus:
        """'partial' when a page or a thread failed for good or a listing was not read to
        its end; else 'ok'."""
        failed = any(e.get("permanent") for e in self.errors)
        if failed or self.incomplete_threads or not self.listing_complete or self.cancelled:
            return RunStatus.PARTIAL
        return RunStatus.OK

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
        if self.revalidated or self.not_modified or self.unchanged_on_check:
            lines.append(
                f"  revalidated: {self.revalidated} posts; {self.not_modified} answered "
                f"'not modified', {self.unchanged_on_check} read again unchanged"
            )
        lines += [f"  {message}" for message in self.messages]
        for thread in self.incomplete_threads:
            lines.append(
                f"  thread incomplete on post {thread['post_number']}: declared "
                f"{thread['declared']}, collected {thread['collected']} (failed; the next "
                "run reads it again)"
            )
        if self.errors:
            lines.append(f"  errors ({len(self.errors)}):")
            for error in self.errors[:50]:
                kind = "failed" if error.get("permanent") else "retried"
                lines.append(f"    [{kind}] {error['url']}: {error['error']}")
            if len(self.errors) > 50:
                lines.append(f"    … and {len(self.errors) - 50} more (see crawl_errors)")
        if self.cancelled:
            lines.append("  Stopped on request; run the crawl again to resume where it stopped.")
        elif self.status == RunStatus.PARTIAL:
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
    not_modified: bool = False  # revalidated: the stored post is still current
    answered_304: bool = False  # ... known from a 304 (nothing parsed)
    validators: Validators | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def post_url(site_url: str, post_number: int) -> str:
    return f"{site_url.rstrip('/')}/posts/{post_number}"


# --- plan: read, decide (pure), write --------------------------------------------------------


def _read_plan_inputs(
    con: duckdb.DuckDBPyConnection, slug: str, numbers: set[int]
) -> tuple[dict[int, ListedBefore], dict[int, StoredPost], dict[int, str]]:
    previous = {
        int(r[0]): ListedBefore(r[1], r[2], bool(r[3]), r[4])
        for r in con.execute(
            "SELECT post_number, listing_title, listing_comment_count, listed, source "
            "FROM campaign_posts WHERE campaign_slug = ?",
            [slug],
        ).fetchall()
    }
    stored = {
        int(r[0]): StoredPost(r[1], r[2], r[3], bool(r[4]), tuple(r[5] or ()), r[6])
        for r in con.execute(
            "SELECT p.post_number, p.content_hash, p.comment_count_declared, "
            "p.comments_collected, p.gone, p.tags, p.last_fetched_at FROM posts p "
            "JOIN (SELECT unnest(?::BIGINT[]) AS post_number) w USING (post_number)",
            [sorted(numbers | set(previous))],
        ).fetchall()
    }
    return previous, stored, ledger.frontier_states(con, slug)


def _plan(
    con: duckdb.DuckDBPyConnection,
    *,
    campaign: Campaign,
    run_id: int,
    full: bool,
    verify: bool,
    resuming: bool,
    keyword_items: dict[int, ListingItem],
    near_miss_items: dict[int, ListingItem],
    keyword_complete: bool,
    near_miss_complete: bool,
    seen_at: datetime,
    settings: Settings,
) -> FetchPlan:
    """Read what the warehouse knows, plan (``plan_fetches``), write the listing facts and
    the frontier: one transaction."""
    slug = campaign.slug
    previous, stored, frontier = _read_plan_inputs(
        con, slug, set(keyword_items) | set(near_miss_items)
    )
    plan = plan_fetches(
        keywords=campaign.keywords,
        keyword_items=keyword_items,
        near_miss_items=near_miss_items,
        keyword_complete=keyword_complete,
        previous=previous,
        stored=stored,
        frontier=frontier,
        now=seen_at,
        recheck_gone_after=timedelta(hours=settings.recheck_gone_after_h),
        full=full,
        resuming=resuming,
        announcement_post=campaign.announcement_post,
        # Also after the crawl window: a crawl run by hand before the freeze must see a
        # post deleted while the stale tag index still lists it.
        revalidate_after=timedelta(hours=settings.revalidate_after_h),
        revalidate_limit=settings.revalidate_per_run,
        verify=verify,
    )
    record_campaign_posts(
        con, slug, list(keyword_items.values()), source="listing", seen_at=seen_at
    )
    near_only = [i for n, i in near_miss_items.items() if n not in keyword_items]
    record_campaign_posts(con, slug, near_only, source="near_miss_listing", seen_at=seen_at)
    if keyword_complete:
        mark_unlisted(con, slug, list(keyword_items), source="listing")
    if near_miss_complete:
        mark_unlisted(con, slug, list(near_miss_items), source="near_miss_listing")
    ledger.plan_frontier(con, slug, campaign.site_url, run_id, list(plan.to_fetch), _now())
    return plan


def _read_validators(
    con: duckdb.DuckDBPyConnection, numbers: Sequence[int]
) -> dict[int, Validators]:
    return {n: Validators(*v) for n, v in ledger.read_validators(con, numbers).items()}


def _shows_what_is_stored(post: Post, known: StoredPost) -> bool:
    """The page shows the stored version (same title, body, tags and updated_at) and the
    same comment count, all of which was collected: its comment pages need no reading."""
    declared = post.comment_count_declared
    return (
        not known.gone
        and known.content_hash is not None
        and content_hash(post.title or "", post.body_text or "", post.tags, post.updated_at)
        == known.content_hash
        and declared == known.comment_count_declared
        and (known.comments_collected or 0) >= (declared or 0)
    )


def post_differences(fetched: Post, rendered: Post) -> list[str]:
    """What differs between a post read over plain HTTP and the same post read from what
    Chromium received (empty when they agree)."""
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


# --- write -----------------------------------------------------------------------------------


def write_batch(
    con: duckdb.DuckDBPyConnection,
    batch: Sequence[_PostResult],
    *,
    slug: str,
    run_id: int,
    seen_at: datetime,
) -> tuple[StoreResult, list[int]]:
    """The write stage, in the caller's transaction: posts and comments stored, revalidated
    posts marked seen, gone posts marked (returns those newly gone), validators kept, the
    announcement recorded, each post's frontier row and errors through the ledger."""
    posts = [r.post for r in batch if r.post is not None]
    stored = store_posts(con, posts, seen_at=seen_at)
    ledger.mark_not_modified(con, [r.post_number for r in batch if r.not_modified], seen_at)
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
    ledger.save_validators(
        con,
        {
            r.post_number: (r.validators.etag, r.validators.last_modified)
            if r.validators is not None and r.gone_reason is None
            else None
            for r in batch
            if r.post is not None or r.gone_reason is not None or r.not_modified
        },
        seen_at,
    )
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
        if r.post is not None and r.source == ANNOUNCEMENT
    ]
    if announcement:
        record_campaign_posts(con, slug, announcement, source="announcement", seen_at=seen_at)
    now = _now()
    outcomes = []
    for r in batch:
        state = (
            FrontierState.FAILED
            if r.error
            else (FrontierState.GONE if r.gone_reason else FrontierState.DONE)
        )
        outcomes.append((r.url, state, r.error))
        if r.error:
            ledger.record_error(
                con,
                run_id,
                r.url,
                "post",
                r.error,
                at=now,
                http_status=r.http_status,
                saved=r.saved_html,
            )
    ledger.record_outcomes(con, slug, run_id, outcomes, now)
    return stored, gone


T = TypeVar("T")


def crawl_transaction(
    fn: Callable[[duckdb.DuckDBPyConnection], T], db_path: Path, settings: Settings
) -> T:
    """One of the crawl's transactions (``warehouse.db.run``), in a DuckDB instance of its
    own: ``DB_THREADS`` threads, memory capped at ``settings.crawl_db_memory_mb``. The cap
    also bounds the checkpoint DuckDB runs when the file is closed after the write."""
    started = time.monotonic()

    def body(con: duckdb.DuckDBPyConnection) -> T:
        opened = time.monotonic()
        result = fn(con)
        log.debug("db: open %.2f s, work %.2f s", opened - started, time.monotonic() - opened)
        return result

    return run(
        body,
        db_path,
        config={"threads": DB_THREADS, "memory_limit": f"{int(settings.crawl_db_memory_mb)}MB"},
    )


# --- the crawl -----------------------------------------------------------------------------


class _Crawl:
    def __init__(
        self,
        db_path: Path,
        campaign: Campaign,
        settings: Settings,
        *,
        mode: CrawlMode,
        run_id: int,
        resumed_from: int | None,
        lock: CrawlLock,
        progress: bool,
        unthrottled: bool,
        comments_mode: CommentsMode,
        only_posts: Sequence[int] | None = None,
    ) -> None:
        self.db_path = db_path
        self.campaign = campaign
        self.settings = settings
        self.mode = mode
        self.only_posts = only_posts  # verify_posts: these and no listing walk
        self.lock = lock
        self.progress = progress
        self.unthrottled = unthrottled
        self.policy = RenderPolicy(comments_mode)
        self.site = campaign.site_url.rstrip("/")
        self.summary = CrawlSummary(
            slug=campaign.slug, run_id=run_id, mode=mode, resumed_from=resumed_from
        )
        self.started = time.monotonic()
        self.fetcher: Fetcher | None = None
        self._buffer: list[_PostResult] = []
        self._posts_done = 0  # post pages written (stored, unchanged or gone)
        self._planned = False  # the listing is read and the fetches planned
        self._db_lock = asyncio.Lock()
        self._last_flush = time.monotonic()
        self._bar: Any = None
        self._checks: asyncio.Queue[_PostResult] = asyncio.Queue()
        self._queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        self._gone_once: dict[int, float] = {}  # post -> when it first answered gone
        self._validators: dict[int, Validators] = {}  # for conditional requests
        self._known: dict[int, StoredPost] = {}  # stored facts of posts to revalidate

    async def _db(self, fn: Any) -> Any:
        """One short transaction off the event loop (fetching goes on meanwhile)."""
        async with self._db_lock:
            return await asyncio.to_thread(self._timed_run, fn)

    def _timed_run(self, fn: Any) -> Any:
        return crawl_transaction(fn, self.db_path, self.settings)

    def _error(self, url: str, error: str, *, permanent: bool = True, **extra: Any) -> None:
        self.summary.errors.append({"url": url, "error": error, "permanent": permanent, **extra})

    async def execute(self) -> CrawlSummary:
        async with Fetcher(
            self.settings,
            self.site,
            unthrottled=self.unthrottled,
            javascript=self.policy.uses_javascript,
            # Adaptive: a context per render checker; otherwise every worker renders.
            browser_slots=RENDER_CHECKERS
            if self.policy.mode == "adaptive"
            else self.settings.concurrency,
        ) as fetcher:
            self.fetcher = fetcher
            crawl = asyncio.create_task(self._crawl(fetcher))
            heartbeat = asyncio.create_task(self._heartbeat())
            progress = asyncio.create_task(self._progress_loop())
            try:
                await asyncio.wait({crawl, heartbeat}, return_when=asyncio.FIRST_COMPLETED)
                if heartbeat.done() and not crawl.done():
                    crawl.cancel()  # the lock was lost: stop before writing more
                    await asyncio.gather(crawl, return_exceptions=True)
                    heartbeat.result()  # raises CrawlLocked
                await crawl
            finally:
                for task in (crawl, heartbeat, progress):
                    task.cancel()
                await asyncio.gather(crawl, heartbeat, progress, return_exceptions=True)
                self.summary.requests = fetcher.stats.requests
                self.summary.bytes_received = fetcher.stats.bytes_received
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

    def _progress_counts(self) -> dict[str, Any]:
        """What ``ledger.record_progress`` writes: the counts so far."""
        summary = self.summary
        return {
            "listing_pages": summary.listing_pages,
            "post_pages": summary.post_pages,
            "comment_pages": summary.comment_pages,
            "requests": self.fetcher.stats.requests if self.fetcher is not None else 0,
            "posts_planned": summary.planned if self._planned else None,
            "posts_done": self._posts_done,
            "comments_new": summary.comments_new,
            "errors": sum(1 for e in summary.errors if e.get("permanent")),
        }

    def _note_cancel(self, asked: bool) -> None:
        """A stop was asked for: workers take no new page; what is fetched is written."""
        if asked and not self.summary.cancelled:
            self.summary.cancelled = True
            log.info("crawl stopping on request %s", kv(run=self.summary.run_id))

    async def _progress_loop(self) -> None:
        run_id = self.summary.run_id
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            counts = self._progress_counts()

            def write(con: duckdb.DuckDBPyConnection, counts: dict[str, Any] = counts) -> bool:
                return ledger.record_progress(con, run_id, **counts)

            self._note_cancel(await self._db(write))

    async def _crawl(self, fetcher: Fetcher) -> None:
        await fetcher.load_robots()
        log.info("robots.txt read in %.1f s", time.monotonic() - self.started)
        if not fetcher.allowed(post_url(self.site, 1)):
            raise RobotsForbidden(
                f"robots.txt at {self.site} forbids post pages (/posts/<n>); nothing was written."
            )
        if self.only_posts is not None:
            plan = await self._plan_given(self.only_posts)
        else:
            plan = await self._walk_and_plan(fetcher)
        self.summary.planned = len(plan.to_fetch)
        self._planned = True
        self.summary.revalidated = len(plan.revalidated)
        self._known = dict(plan.known)
        wanted = list(plan.known)
        if wanted:
            self._validators = await self._db(lambda con: _read_validators(con, wanted))
        if plan.done_before:
            self.summary.messages.append(
                f"Resumed: {len(plan.done_before)} post pages finished by run "
                f"{self.summary.resumed_from} were not fetched again."
            )
        log.info("fetching %d post pages", len(plan.to_fetch))
        await self._fetch_posts(plan.to_fetch)
        if not self.summary.listing_complete:
            self.summary.messages.append(
                "The keyword listing could not be read to its end; run again to complete it."
            )

    async def _plan_given(self, numbers: Sequence[int]) -> FetchPlan:
        to_fetch = {int(n): VERIFY for n in numbers}
        slug, site, run_id = self.campaign.slug, self.site, self.summary.run_id

        def plan(con: duckdb.DuckDBPyConnection) -> dict[int, StoredPost]:
            _previous, stored, _frontier = _read_plan_inputs(con, slug, set(to_fetch))
            ledger.plan_frontier(con, slug, site, run_id, list(to_fetch), _now())
            return {n: facts for n, facts in stored.items() if n in to_fetch}

        return FetchPlan(to_fetch=to_fetch, known=await self._db(plan))

    async def _walk_and_plan(self, fetcher: Fetcher) -> FetchPlan:
        campaign = self.campaign
        keyword_urls = [listing_url(self.site, kw) for kw in campaign.keywords]
        near_urls = [listing_url(self.site, t) for t in campaign.near_miss_tags]
        for url in keyword_urls:
            if not fetcher.allowed(url):
                raise RobotsForbidden(
                    f"robots.txt at {self.site} forbids the tag listing {url}; nothing was "
                    "crawled or written."
                )
        keyword_items: dict[int, ListingItem] = {}
        keyword_complete = True
        for kw, url in zip(campaign.keywords, keyword_urls, strict=True):
            items, complete = await self._walk(url, kw)
            keyword_items.update({n: i for n, i in items.items() if n not in keyword_items})
            keyword_complete &= complete
        near_items: dict[int, ListingItem] = {}
        near_complete = True
        for tag, url in zip(campaign.near_miss_tags, near_urls, strict=True):
            if not fetcher.allowed(url):
                self._error(url, "robots.txt forbids this near-miss listing", permanent=False)
                near_complete = False
                continue
            items, complete = await self._walk(url, tag)
            near_items.update({n: i for n, i in items.items() if n not in near_items})
            near_complete &= complete
        self.summary.listed = len(keyword_items)
        self.summary.near_miss_listed = len(near_items)
        self.summary.listing_complete = keyword_complete
        if keyword_complete and not keyword_items:
            self.summary.messages.append(
                "No posts carry this keyword yet: "
                + ", ".join(campaign.keywords)
                + f" (listing at {keyword_urls[0]})."
            )
        log.info("listings read in %.1f s", time.monotonic() - self.started)
        seen_at = _now()
        planned_at = time.monotonic()
        plan: FetchPlan = await self._db(
            lambda con: _plan(
                con,
                campaign=campaign,
                run_id=self.summary.run_id,
                full=self.mode == "full",
                verify=self.mode == "verify",
                resuming=self.summary.resumed_from is not None,
                keyword_items=keyword_items,
                near_miss_items=near_items,
                keyword_complete=keyword_complete,
                near_miss_complete=near_complete,
                seen_at=seen_at,
                settings=self.settings,
            )
        )
        log.info(
            "plan written in %.2f s: %d posts listed (%d near-miss), %d to fetch",
            time.monotonic() - planned_at,
            len(keyword_items),
            len(near_items),
            len(plan.to_fetch),
        )
        return plan

    async def _walk(self, url: str, tag: str) -> tuple[dict[int, ListingItem], bool]:
        """Read one listing to its end; its problems go to the summary and the ledger."""
        assert self.fetcher is not None
        walk = await walk_listing(self.fetcher, url, tag)
        self.summary.listing_pages += walk.pages
        failed = [p for p in walk.problems if p.permanent]
        for problem in walk.problems:
            self._error(
                problem.url,
                problem.reason,
                permanent=problem.permanent,
                http_status=problem.http_status,
                kind="listing",
            )
        if failed:
            run_id = self.summary.run_id

            def record(con: duckdb.DuckDBPyConnection) -> None:
                for p in failed:
                    ledger.record_error(
                        con,
                        run_id,
                        p.url,
                        "listing",
                        p.reason,
                        at=_now(),
                        http_status=p.http_status,
                    )

            await self._db(record)
        return walk.items, walk.complete

    # --- post pages --------------------------------------------------------------------------

    async def _fetch_posts(self, to_fetch: dict[int, str]) -> None:
        assert self.fetcher is not None
        queue = self._queue
        for number in sorted(to_fetch, reverse=True):
            queue.put_nowait((number, to_fetch[number]))
        if self.progress and sys.stderr.isatty() and to_fetch:
            from tqdm import tqdm

            self._bar = tqdm(total=len(to_fetch), unit="post", desc=self.campaign.slug)

        async def worker() -> None:
            while not self.summary.cancelled:
                try:
                    number, source = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                result = await self._fetch_post(number, source)
                if result is not None:  # None: asked again later in the run
                    await self._collect(result)

        background = [asyncio.create_task(self._render_checker()) for _ in range(RENDER_CHECKERS)]
        if self.policy.way() == "http" and len(to_fetch) >= RENDER_CHECK_EVERY:
            # A check is certain: start Chromium now, beside the first fetches, rather than
            # when the first check is due.
            background.append(asyncio.create_task(self.fetcher.start_browser()))
        try:
            # A render check that finds a difference puts the posts fetched without
            # rendering back on the queue: go round until both are empty.
            while not queue.empty() and not self.summary.cancelled:
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
        way = self.policy.way()
        try:
            known = self._known.pop(number, None)
            validators = self._validators.pop(number, None)
            if known is not None and (validators is not None or way == "http"):
                # Revalidation: "changed since?" over plain HTTP (a 304 costs no parse), or
                # the page read and compared with what is stored (no comment pages if same).
                checked = await self.fetcher.get(url, parse_post, html=True, validators=validators)
                self.summary.post_pages += 1
                if checked.not_modified or (
                    checked.value is not None and _shows_what_is_stored(checked.value, known)
                ):
                    result.not_modified = True
                    result.answered_304 = checked.not_modified
                    result.validators = checked.validators or validators
                    return result
                if way == "http" or checked.gone_reason:
                    finished = await self._finish_post(result, checked, None, way="http")
                    if finished is not None and finished.post is not None:
                        self._check_thread(finished)
                    return finished
            for read in range(1, THREAD_READS + 1):
                fetched, captured = await self._load_post(url, way)
                self.summary.post_pages += 1
                finished = await self._finish_post(result, fetched, captured, way=way)
                if finished is None or finished.post is None or finished.error:
                    return finished
                if self._thread_complete(finished.post) or read == THREAD_READS:
                    self._check_thread(finished)
                    return finished
                log.info(
                    "post %d: %d comments of %s declared; reading the thread again",
                    number,
                    len(finished.post.comments),
                    finished.post.comment_count_declared,
                )
                result = _PostResult(number, url, source=source)
            raise AssertionError("unreachable")  # the last read returns
        except FetchFailed as exc:
            result.error = exc.reason
            result.http_status = exc.status
            if exc.text:
                result.saved_html = self._save_failed_page(number, exc.text)
            log.warning("post %d: failed: %s", number, exc.reason)
            return result

    async def _load_post(
        self, url: str, way: str
    ) -> tuple[Fetched[Post], dict[str, Captured] | None]:
        assert self.fetcher is not None
        return await load_post(self.fetcher, url, way)

    async def _finish_post(
        self,
        result: _PostResult,
        fetched: Fetched[Post],
        captured: dict[str, Captured] | None,
        *,
        way: str,
    ) -> _PostResult | None:
        """The post page answered: gone (confirmed by a second look), or the post with its
        whole thread (the comments the browser captured, the rest over plain HTTP)."""
        number, source = result.post_number, result.source
        if fetched.gone_reason and number not in self._gone_once:
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
        assert fetched.value is not None
        result.validators = fetched.validators
        result.post = await self._all_comments(fetched.value, result, captured or {})
        if way == "http":
            if self.policy.clicking_everything:
                # A render check found a difference while this page was on its way: again,
                # rendered.
                self._queue.put_nowait((number, source))
            elif self.policy.mode == "adaptive" and self.policy.read_over_http(
                number, source, comment_pages=result.comment_pages
            ):
                self._checks.put_nowait(result)
        log.info("post %d: %d comments", number, len(result.post.comments))
        return result

    @staticmethod
    def _thread_complete(post: Post) -> bool:
        declared = post.comment_count_declared
        return declared is None or declared == len(post.comments)

    def _check_thread(self, result: _PostResult) -> None:
        """A thread whose comments number other than declared is not complete: unless
        read again, its post is failed (the next run reads it again)."""
        post = result.post
        assert post is not None
        if self._thread_complete(post) or result.error:
            return
        result.error = (
            f"thread incomplete: declared {post.comment_count_declared} comments, "
            f"collected {len(post.comments)}"
        )

    async def _all_comments(
        self, post: Post, result: _PostResult, captured: Mapping[str, Captured]
    ) -> Post:
        """The whole thread (``scraper.thread.read_thread``); a comments page that failed
        for good leaves ``result`` failed, so that the next run reads the thread again."""
        assert self.fetcher is not None
        thread = await read_thread(self.fetcher, self.site, post, captured)
        self.summary.comment_pages += thread.pages
        result.comment_pages += thread.pages
        if thread.error:
            result.error, result.http_status = thread.error, thread.http_status
        return thread.post

    # --- render checks -----------------------------------------------------------------------

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
        """Compare the plain-HTTP result with what Chromium receives when the page is
        clicked through. On any difference, store the rendered result, and fetch every post
        this run read without rendering again, rendered and clicked (never silently keep a
        result that may miss comments)."""
        assert self.fetcher is not None and result.post is not None
        post = result.post
        try:
            fetched, captured = await self._load_post(result.url, "click")
        except FetchFailed as exc:
            log.info("post %d: render check skipped (%s)", post.post_number, exc.reason)
            self.policy.check_skipped(self.summary.render_checks)
            return
        if fetched.value is None:
            return
        checked = _PostResult(result.post_number, result.url, source=result.source)
        rendered = await self._all_comments(fetched.value, checked, captured or {})
        self.summary.render_checks += 1
        differences = post_differences(post, rendered)
        if not differences:
            return
        self.summary.render_mismatches.append(
            {"post_number": post.post_number, "differences": differences}
        )
        checked.post = rendered
        checked.validators = fetched.validators
        self._check_thread(checked)
        await self._collect(checked)
        self.policy.rendered(post.post_number)
        await self._switch_to_click(
            post.post_number, f"differs when rendered ({'; '.join(differences)})"
        )

    async def _switch_to_click(self, post_number: int, why: str) -> None:
        assert self.fetcher is not None
        first, again = self.policy.switch_to_click(why)
        if first:
            self.fetcher.browser_slots = max(1, self.settings.concurrency)
            message = (
                f"post {post_number} {why}: rendering every post in Chromium, "
                f"including the {len(again)} already read without rendering"
            )
            self.summary.messages.append(message)
            log.warning(message)
        if not again:
            return
        # Written down first, so that a crawl killed from here on fetches them on resume.
        await self._flush()
        urls = [post_url(self.site, n) for n in again]
        slug = self.campaign.slug
        await self._db(lambda con: ledger.set_pending(con, slug, urls))
        for number, source in sorted(again.items(), reverse=True):
            self._queue.put_nowait((number, source))

    def _save_failed_page(self, number: int, text: str) -> str:
        directory = Path(self.settings.failed_pages_dir) / self.campaign.slug
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"post-{number}-run{self.summary.run_id}.html"
        path.write_text(text, encoding="utf-8")
        return str(path)

    # --- writes ------------------------------------------------------------------------------

    async def _flush(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        self._last_flush = time.monotonic()
        slug, run_id = self.campaign.slug, self.summary.run_id
        summary = self.summary
        seen_at = _now()

        lock = self.lock
        self._posts_done += sum(1 for r in batch if not r.error)
        counts = self._progress_counts()

        def write(con: duckdb.DuckDBPyConnection) -> tuple[StoreResult, list[int], bool]:
            written = write_batch(con, batch, slug=slug, run_id=run_id, seen_at=seen_at)
            asked = ledger.record_progress(con, run_id, **counts)
            heartbeat_crawl_lock(con, lock)
            return (*written, asked)

        stored, gone, asked = await self._db(write)
        self._note_cancel(asked)
        summary.posts_new += len(stored.new)
        summary.posts_changed += len(stored.changed)
        summary.posts_unchanged += len(stored.unchanged)
        summary.not_modified += sum(1 for r in batch if r.answered_304)
        summary.unchanged_on_check += sum(1 for r in batch if r.not_modified and not r.answered_304)
        summary.comments_new += stored.comments_new
        summary.comments_collected += sum(len(r.post.comments) for r in batch if r.post)
        summary.posts_gone += gone
        for r in batch:
            if r.post is not None and not self._thread_complete(r.post):
                summary.incomplete_threads.append(
                    {
                        "post_number": r.post_number,
                        "declared": r.post.comment_count_declared,
                        "collected": len(r.post.comments),
                    }
                )
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
    verify: bool = False,
    trigger: str = "cli",
    progress: bool = True,
    unthrottled: bool = False,
    comments_mode: CommentsMode = DEFAULT_COMMENTS_MODE,
    only_posts: Sequence[int] | None = None,
    **overrides: Any,
) -> CrawlSummary:
    """Crawl one campaign. ``overrides`` are Settings fields (rate_per_s, concurrency,
    request_timeout_s, max_attempts, retry_backoff_s, context_recycle_pages,
    write_batch_size, failed_pages_dir, revalidate_after_h, revalidate_per_run, ...).

    ``comments_mode``: 'adaptive' (the default: pages and the load-more chain over plain
    HTTP, with a sample of posts loaded in Chromium and clicked through to prove nothing is
    missed; any difference renders and clicks every post from then on), 'render' (every
    post page navigated in Chromium, the comments JSON over plain HTTP) or 'click' (every
    post rendered and its button clicked until it is gone). ``verify``: every candidate
    entry (every post on the keyword listing) is checked again now. ``only_posts``: fetch
    just these posts (no listing walk), each checked again now.

    Raises UserError (unknown campaign), CrawlLocked, SiteUnreachable, RobotsForbidden;
    returns the summary otherwise (``summary.exit_code`` is 1 when the run is partial).
    """
    if comments_mode not in COMMENTS_MODES:
        raise ValueError(
            f"comments_mode must be one of {tuple(COMMENTS_MODES)}, not {comments_mode!r}"
        )
    if full and (verify or only_posts is not None):
        raise UserError("--full and --verify do not go together: --full fetches every post.")
    settings = _settings_with(overrides)
    path = resolve_db_path(db_path)
    campaign: Campaign = run(lambda con: get_campaign(con, slug), path)
    mode: CrawlMode = (
        "full" if full else ("verify" if verify or only_posts is not None else "incremental")
    )
    lock = acquire_crawl_lock(path, slug)
    try:
        run_id, resumed_from = run(
            lambda con: ledger.start_run(con, slug, mode, trigger, _now()), path
        )
        log.info(
            "crawl started %s",
            kv(campaign=slug, run=run_id, trigger=trigger, resumed_from=resumed_from),
        )
        crawl = _Crawl(
            path,
            campaign,
            settings,
            mode=mode,
            run_id=run_id,
            resumed_from=resumed_from,
            lock=lock,
            progress=progress,
            unthrottled=unthrottled,
            comments_mode=comments_mode,
            only_posts=only_posts,
        )
        summary = crawl.summary
        try:
            await crawl.execute()
        except (asyncio.CancelledError, KeyboardInterrupt):
            summary.status = RunStatus.INTERRUPTED
            raise
        except TagdrawError as exc:
            summary.status = RunStatus.FAILED
            summary.messages.append(str(exc))
            raise
        except BaseException as exc:
            summary.status = RunStatus.FAILED
            summary.messages.append(f"{type(exc).__name__}: {exc}")
            raise
        else:
            summary.status = summary.finished_status()
            if summary.cancelled:
                summary.messages.append("The crawl was stopped on request (see the audit log).")
        finally:
            summary.duration_s = time.monotonic() - crawl.started
            summary.requests_per_s = (
                summary.requests / summary.duration_s if summary.duration_s else 0
            )
            counts = RunCounts(
                requests=summary.requests,
                listing_pages=summary.listing_pages,
                post_pages=summary.post_pages,
                comment_pages=summary.comment_pages,
                posts_new=summary.posts_new,
                posts_changed=summary.posts_changed,
                posts_unchanged=summary.posts_unchanged,
                posts_gone=len(summary.posts_gone),
                comments_new=summary.comments_new,
                errors=sum(1 for e in summary.errors if e.get("permanent")),
                duration_s=summary.duration_s,
            )
            summary_json = json.dumps(summary.to_json(), ensure_ascii=False, default=str)
            run(
                lambda con: ledger.finish_run(
                    con, run_id, summary.status, counts, summary_json, _now()
                ),
                path,
            )
        return summary
    finally:
        release_crawl_lock(path, lock)


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


def verify_posts(
    db_path: str | os.PathLike[str] | None,
    slug: str,
    post_numbers: Sequence[int],
    *,
    trigger: str = "verify",
    progress: bool = False,
    **overrides: Any,
) -> CrawlSummary:
    """Fetch these posts of the campaign again now (conditional requests where the site
    sent validators): for the draw, to see that each winner's post is still live and
    unchanged. A run of mode 'verify' in ``crawl_runs``; no listing is read."""
    numbers = sorted({int(n) for n in post_numbers})
    return run_crawl(
        db_path, slug, trigger=trigger, progress=progress, only_posts=numbers, **overrides
    )


def threading_is_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def unfinished_posts(con: duckdb.DuckDBPyConnection, slug: str) -> Sequence[int]:
    """Post numbers of the campaign's frontier not yet done (pending or failed)."""
    return ledger.unfinished_posts(con, slug)
