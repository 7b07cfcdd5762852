"""``tagdraw schedule``: crawl every open campaign on an interval or a cron expression.

A campaign is open from ``opens_at`` until ``closes_at`` plus ``crawl_after_close_days``
(default 7: late edits and deletions are still caught), then it is no longer crawled.
Each tick re-reads the campaigns from the warehouse (new ones are picked up), crawls the
open ones one after another in this process, then recomputes their review suggestions.

One crawl per campaign at a time, across processes, through the warehouse lock
(``scraper.locks``): a campaign another process is crawling is skipped ("already
running"), not an error. A crash leaves a stale lock that the next crawl takes over (a dead
process on this host at once). SIGTERM / SIGINT stop the scheduler cleanly: the crawl in
progress is cancelled and its run recorded as 'interrupted' (the next crawl resumes it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import duckdb

from warehouse import crawl_ledger
from warehouse.campaigns import Campaign, get_campaign, list_campaigns
from warehouse.db import resolve_db_path, run
from warehouse.errors import TagdrawError, UserError
from warehouse.health import clear_schedule_state, in_crawl_window, record_schedule_state
from warehouse.logs import kv
from warehouse.thai import BANGKOK

log = logging.getLogger("tagdraw.schedule")

CRAWL_STATUSES_WITH_SUGGESTIONS = ("ok", "partial")
# The scheduler's heartbeat in ``schedule_state`` (a job of its own, so it goes on while a
# round crawls): at most this many seconds apart, or the interval if that is shorter. The
# dashboard shows a scheduler without a heartbeat for two of them as stopped.
HEARTBEAT_EVERY_S = 60.0


@dataclass(frozen=True)
class Outcome:
    """What one scheduled crawl of one campaign came to."""

    slug: str
    status: str  # crawl status 'ok' | 'partial' | 'failed' | 'interrupted', or 'skipped' | 'error'
    started_at: datetime
    duration_s: float
    run_id: int | None = None
    posts_new: int = 0
    posts_changed: int = 0
    posts_gone: int = 0
    comments_new: int = 0
    errors: int = 0  # pages that failed for good
    requests: int = 0
    message: str | None = None  # why it was skipped, failed or erred
    suggestions: str | None = None  # 'ok' | 'error' | None (not attempted)

    @property
    def ok(self) -> bool:
        """Nothing for the operator to look at: a clean crawl, or a skip."""
        return self.status in ("ok", "skipped") and self.suggestions != "error"


class CrawlControl:
    """Stops a scheduler: no new crawl starts, and the one in progress is cancelled
    (``crawl_campaign`` then records its run as 'interrupted' and releases the lock)."""

    def __init__(self) -> None:
        self._stopped = threading.Event()
        self._guard = threading.Lock()
        self._current: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def wait(self, timeout: float | None) -> bool:
        return self._stopped.wait(timeout)

    def stop(self) -> None:
        self._stopped.set()
        with self._guard:
            current = self._current
        if current is not None:
            loop, task = current
            # RuntimeError: the loop already closed, so the crawl is over.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)

    def _attach(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
        with self._guard:
            self._current = (loop, task)

    def _detach(self) -> None:
        with self._guard:
            self._current = None


# --- which campaigns -----------------------------------------------------------------------


def open_campaigns(
    con: duckdb.DuckDBPyConnection,
    now: datetime,
    *,
    after_close_days: int | None = None,
    slugs: Sequence[str] | None = None,
) -> list[Campaign]:
    """Campaigns to crawl at ``now``: opened, and not more than their
    ``crawl_after_close_days`` (or ``after_close_days``) past their deadline. With
    ``slugs``, only those (an unknown slug is a ``UserError``), still within their window."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=BANGKOK)
    if slugs:
        candidates = [get_campaign(con, slug) for slug in dict.fromkeys(slugs)]
    else:
        candidates = list_campaigns(con)
    return [c for c in candidates if in_crawl_window(c, now, after_close_days)]


# --- one crawl -----------------------------------------------------------------------------


def _crawl_cancellable(
    db_path: Path, slug: str, control: CrawlControl, options: dict[str, Any]
) -> Any:
    from scraper.crawl import crawl_campaign

    async def main() -> Any:
        task = asyncio.current_task()
        assert task is not None
        control._attach(asyncio.get_running_loop(), task)
        try:
            if control.stopped:
                raise asyncio.CancelledError
            return await crawl_campaign(
                db_path, slug, trigger="schedule", progress=False, **options
            )
        finally:
            control._detach()

    return asyncio.run(main())


def _last_run_of_this_process(db_path: Path, slug: str) -> tuple[int | None, str | None]:
    return run(
        lambda con: crawl_ledger.last_run_of_process(con, slug, os.getpid(), socket.gethostname()),
        db_path,
    )


def recompute_suggestions(db_path: Path, slug: str) -> str:
    """Run the review step's ``compute_suggestions``; 'ok' or 'error' (logged)."""
    # Imported here: the review's detectors (numpy, scipy) load only when a review runs.
    from warehouse.review import compute_suggestions

    started = time.monotonic()
    try:
        compute_suggestions(db_path, slug)
    except Exception as exc:  # a review bug must not stop the scheduler
        log.error(
            "suggestions failed %s",
            kv(campaign=slug, error=f"{type(exc).__name__}: {exc}"),
            exc_info=not isinstance(exc, TagdrawError),
        )
        return "error"
    log.info("suggestions recomputed %s", kv(campaign=slug, duration_s=time.monotonic() - started))
    return "ok"


def crawl_for_schedule(
    db_path: str | os.PathLike[str] | None,
    slug: str,
    *,
    control: CrawlControl | None = None,
    crawl_options: dict[str, Any] | None = None,
    suggestions: bool = True,
) -> Outcome:
    """Crawl one campaign in this process and recompute its suggestions. Never raises for
    crawl failures: another live crawl -> 'skipped'; an error -> 'error' (logged)."""
    from scraper.errors import CrawlLocked

    path = resolve_db_path(db_path)
    control = control or CrawlControl()
    options = dict(crawl_options or {})
    started_at = datetime.now(BANGKOK)
    started = time.monotonic()

    def outcome(status: str, **fields: Any) -> Outcome:
        return Outcome(slug, status, started_at, time.monotonic() - started, **fields)

    # "crawl started" is logged by the crawl once it holds the campaign's lock.
    log.info("crawl due %s", kv(campaign=slug, trigger="schedule"))
    try:
        summary = _crawl_cancellable(path, slug, control, options)
    except CrawlLocked as exc:
        log.info("crawl skipped: already running %s", kv(campaign=slug, detail=str(exc)))
        return outcome("skipped", message=f"already running: {exc}")
    except (asyncio.CancelledError, KeyboardInterrupt):
        run_id, status = _last_run_of_this_process(path, slug)
        log.warning("crawl interrupted %s", kv(campaign=slug, run=run_id, status=status))
        return outcome("interrupted", run_id=run_id, message="stopped by a signal")
    except TagdrawError as exc:
        run_id, status = _last_run_of_this_process(path, slug)
        log.error("crawl failed %s", kv(campaign=slug, run=run_id, status=status, error=str(exc)))
        return outcome("error", run_id=run_id, message=str(exc))
    except Exception as exc:  # anything else: logged with its traceback, never fatal
        log.error(
            "crawl error %s",
            kv(campaign=slug, error=f"{type(exc).__name__}: {exc}"),
            exc_info=True,
        )
        return outcome("error", message=f"{type(exc).__name__}: {exc}")

    failed_pages = sum(1 for e in summary.errors if e.get("permanent"))
    fields = {
        "run_id": summary.run_id,
        "posts_new": summary.posts_new,
        "posts_changed": summary.posts_changed,
        "posts_gone": len(summary.posts_gone),
        "comments_new": summary.comments_new,
        "errors": failed_pages,
        "requests": summary.requests,
    }
    level = logging.INFO if summary.status == "ok" else logging.WARNING
    log.log(
        level,
        "crawl finished %s",
        kv(
            campaign=slug,
            run=summary.run_id,
            status=summary.status,
            duration_s=summary.duration_s,
            listed=summary.listed,
            fetched=summary.planned,
            posts_new=summary.posts_new,
            posts_changed=summary.posts_changed,
            posts_gone=len(summary.posts_gone),
            comments_new=summary.comments_new,
            errors=failed_pages,
            requests=summary.requests,
        ),
    )
    if summary.status == "interrupted":
        return outcome("interrupted", **fields, message="stopped by a signal")
    suggestion_state = None
    if suggestions and summary.status in CRAWL_STATUSES_WITH_SUGGESTIONS and not control.stopped:
        suggestion_state = recompute_suggestions(path, slug)
    message = "; ".join(summary.messages) or None
    return outcome(summary.status, **fields, message=message, suggestions=suggestion_state)


def run_due_crawls(
    db_path: str | os.PathLike[str] | None,
    now: datetime | None = None,
    *,
    slugs: Sequence[str] | None = None,
    after_close_days: int | None = None,
    crawl_options: dict[str, Any] | None = None,
    control: CrawlControl | None = None,
    suggestions: bool = True,
) -> list[Outcome]:
    """One tick: crawl every campaign open at ``now`` (default: the current time), one
    after another, stopping early if ``control`` is stopped. Returns one Outcome each."""
    path = resolve_db_path(db_path)
    now = now or datetime.now(BANGKOK)
    control = control or CrawlControl()
    campaigns = run(
        lambda con: open_campaigns(con, now, after_close_days=after_close_days, slugs=slugs),
        path,
    )
    if not campaigns:
        log.info("tick: no open campaigns %s", kv(named=",".join(slugs) if slugs else None))
        return []
    log.info("tick %s", kv(campaigns=",".join(c.slug for c in campaigns)))
    outcomes: list[Outcome] = []
    for campaign in campaigns:
        if control.stopped:
            break
        outcomes.append(
            crawl_for_schedule(
                path,
                campaign.slug,
                control=control,
                crawl_options=crawl_options,
                suggestions=suggestions,
            )
        )
    return outcomes


# --- the scheduler -------------------------------------------------------------------------


class _BusyRoundFilter(logging.Filter):
    """APScheduler warns on every trigger that fires while a round is still running; that
    is expected (max_instances=1: rounds never overlap), so it becomes a DEBUG line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances reached" in record.getMessage():
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


@dataclass
class Counters:
    ticks: int = 0
    crawls: int = 0
    skipped: int = 0
    errors: int = 0  # crawls that failed, erred or were partial, and suggestion errors
    by_status: dict[str, int] = field(default_factory=dict)


class Scheduler:
    """Runs ``run_due_crawls`` on an interval (minutes) or a cron expression, in this
    process, until ``stop()`` or SIGTERM/SIGINT. ``tick()`` runs one round directly."""

    JOB_ID = "crawl-open-campaigns"

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None,
        *,
        interval_min: float | None = None,
        cron: str | None = None,
        slugs: Sequence[str] = (),
        after_close_days: int | None = None,
        crawl_options: dict[str, Any] | None = None,
        publish_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        from warehouse.settings import get_settings

        self.publish_dir = publish_dir  # refresh each crawled campaign's public site there

        if interval_min is not None and cron is not None:
            raise UserError("Give either --interval or --cron, not both.")
        if after_close_days is not None and after_close_days < 0:
            raise UserError("--after-close-days must be 0 or more.")
        self.db_path = resolve_db_path(db_path)
        self.slugs = tuple(dict.fromkeys(slugs))
        self.after_close_days = after_close_days
        self.crawl_options = dict(crawl_options or {})
        self.control = CrawlControl()
        self.counters = Counters()
        self.outcomes: list[Outcome] = []
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.holder = f"{self.host}:{self.pid}:{secrets.token_hex(4)}"
        self.cron = cron
        if cron is None:
            minutes = get_settings().schedule_interval_min if interval_min is None else interval_min
            if not minutes or minutes <= 0:
                raise UserError("--interval must be a positive number of minutes.")
            self.interval_min: float | None = float(minutes)
            self.description = f"every {self.interval_min:g} min"
        else:
            self.interval_min = None
            self.description = f"cron {cron}"
        self.trigger = self._make_trigger()
        self.heartbeat_every_s = min(
            HEARTBEAT_EVERY_S, self.interval_min * 60 if self.interval_min else HEARTBEAT_EVERY_S
        )
        self._scheduler: Any = None
        self._signals = 0

    def _make_trigger(self) -> Any:
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        if self.cron is not None:
            try:
                return CronTrigger.from_crontab(self.cron, timezone=BANGKOK)
            except ValueError as exc:
                raise UserError(
                    f"Bad --cron expression {self.cron!r}: {exc}. Use five fields "
                    "'minute hour day month weekday', for example '*/30 * * * *'."
                ) from None
        assert self.interval_min is not None
        return IntervalTrigger(seconds=self.interval_min * 60, timezone=BANGKOK)

    def check(self) -> None:
        """Fail early (UserError) on named campaigns that do not exist."""
        if self.slugs:
            run(lambda con: [get_campaign(con, s) for s in self.slugs], self.db_path)

    # one round ---------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> list[Outcome]:
        """Crawl what is open now; never raises for crawl or database trouble (logged)."""
        self.counters.ticks += 1
        try:
            outcomes = run_due_crawls(
                self.db_path,
                now,
                slugs=self.slugs or None,
                after_close_days=self.after_close_days,
                crawl_options=self.crawl_options,
                control=self.control,
            )
        except Exception as exc:  # e.g. the warehouse unreadable for a while: try next tick
            self.counters.errors += 1
            log.error(
                "tick failed %s",
                kv(error=f"{type(exc).__name__}: {exc}"),
                exc_info=not isinstance(exc, TagdrawError),
            )
            return []
        for outcome in outcomes:
            self.counters.by_status[outcome.status] = (
                self.counters.by_status.get(outcome.status, 0) + 1
            )
            if outcome.status == "skipped":
                self.counters.skipped += 1
            else:
                self.counters.crawls += 1
            if outcome.status in ("failed", "partial", "error") or outcome.suggestions == "error":
                self.counters.errors += 1
        self.outcomes.extend(outcomes)
        if self.publish_dir:
            from warehouse.publish import publish_after_crawls

            crawled = [o.slug for o in outcomes if o.status in ("ok", "partial")]
            publish_after_crawls(self.db_path, crawled, self.publish_dir)
        return outcomes

    def _job(self) -> None:
        if self.control.stopped:
            return
        self.tick()
        if self.control.stopped:
            return
        self._record_state()
        log.info(
            "tick done %s",
            kv(
                ticks=self.counters.ticks,
                crawls=self.counters.crawls,
                skipped=self.counters.skipped,
                errors=self.counters.errors,
                next_run=_iso(self._next_run_at()),
            ),
        )

    def _next_run_at(self) -> datetime | None:
        """The trigger's next time after now. Computed from the trigger, not asked of the
        scheduler: the job thread must not call into APScheduler while it shuts down
        (``shutdown(wait=True)`` holds its locks while waiting for this very job)."""
        return self.trigger.get_next_fire_time(None, datetime.now(BANGKOK))

    def _record_state(self) -> None:
        """Tell the dashboard that this scheduler is alive (its heartbeat) and when each
        open campaign will be crawled next. Run after each round and by the heartbeat job,
        so the heartbeat goes on whether or not a crawl is due."""
        if self.control.stopped:
            return
        next_run = self._next_run_at()
        try:

            def write(con: duckdb.DuckDBPyConnection) -> None:
                clear_schedule_state(con)  # rows of dead schedulers on this host
                campaigns = open_campaigns(
                    con,
                    next_run or datetime.now(BANGKOK),
                    after_close_days=self.after_close_days,
                    slugs=self.slugs or None,
                )
                record_schedule_state(
                    con,
                    holder=self.holder,
                    host=self.host,
                    pid=self.pid,
                    schedule=self.description,
                    next_runs={c.slug: next_run for c in campaigns},
                    now=datetime.now(BANGKOK),
                    heartbeat_every_s=self.heartbeat_every_s,
                    next_run_at=next_run,
                )

            run(write, self.db_path)
        except Exception as exc:
            log.warning("schedule state not recorded %s", kv(error=str(exc)))

    # running -----------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals > 1:
            log.error("second %s: exiting at once", name)
            os._exit(130)
        log.info("stopping %s", kv(signal=name))
        self.stop()

    def _install_signals(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous: dict[int, Any] = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    @staticmethod
    def _restore_signals(previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def stop(self) -> None:
        """Stop after cancelling the crawl in progress (callable from any thread)."""
        self.control.stop()

    def run_once(self) -> list[Outcome]:
        """One tick now (crawls in a worker thread, so signals stop them cleanly)."""
        self.check()
        previous = self._install_signals()
        result: list[Outcome] = []
        worker = threading.Thread(
            target=lambda: result.extend(self.tick()), name="tagdraw-schedule", daemon=True
        )
        try:
            worker.start()
            while worker.is_alive():
                worker.join(0.2)
        finally:
            self._restore_signals(previous)
        return result

    def run_forever(self) -> Counters:
        """Tick on the trigger until stopped (SIGTERM/SIGINT or ``stop()``). An interval
        schedule ticks at once, then every interval; a cron schedule at its next time."""
        from apscheduler.schedulers.background import BackgroundScheduler

        self.check()
        scheduler = BackgroundScheduler(
            timezone=BANGKOK,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        first = datetime.now(BANGKOK) if self.cron is None else None
        extra = {"next_run_time": first} if first is not None else {}
        scheduler.add_job(
            self._job,
            self.trigger,
            id=self.JOB_ID,
            name="crawl open campaigns",
            max_instances=1,
            coalesce=True,
            **extra,
        )
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler.add_job(
            self._record_state,
            IntervalTrigger(seconds=self.heartbeat_every_s, timezone=BANGKOK),
            id="heartbeat",
            name="scheduler heartbeat",
            next_run_time=datetime.now(BANGKOK),
        )
        previous = self._install_signals()
        busy_filter = _BusyRoundFilter()
        logging.getLogger("apscheduler.scheduler").addFilter(busy_filter)
        self._scheduler = scheduler
        scheduler.start()
        log.info(
            "scheduler started %s",
            kv(
                schedule=self.description,
                campaigns=",".join(self.slugs) if self.slugs else "all open",
                after_close_days=self.after_close_days,
                db=str(self.db_path),
                pid=self.pid,
            ),
        )
        try:
            while not self.control.wait(0.5):
                pass
        finally:
            scheduler.shutdown(wait=True)  # the cancelled crawl records 'interrupted' first
            self._restore_signals(previous)
            logging.getLogger("apscheduler.scheduler").removeFilter(busy_filter)
            try:
                run(lambda con: clear_schedule_state(con, self.holder), self.db_path)
            except Exception as exc:
                log.warning("schedule state not cleared %s", kv(error=str(exc)))
            log.info(
                "scheduler stopped %s",
                kv(
                    ticks=self.counters.ticks,
                    crawls=self.counters.crawls,
                    skipped=self.counters.skipped,
                    errors=self.counters.errors,
                ),
            )
        return self.counters


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
