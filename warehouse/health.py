"""Crawl health: the history of a campaign's crawls, and whether they are keeping up.

``crawl_history`` lists runs (newest first); ``crawl_health`` says when the last good crawl
finished, whether that is too long ago, whether errors are rising, and when the scheduler
(``tagdraw schedule``) will crawl next. The scheduler records its plans in the
``schedule_state`` table (migration 0006; one row per scheduler process and campaign).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import psutil

from warehouse import crawl_ledger as ledger
from warehouse.campaigns import Campaign, find_campaign
from warehouse.settings import get_settings
from warehouse.thai import BANGKOK, as_bangkok

DEFAULT_STALE_AFTER = timedelta(hours=6)
FAILED_STATUSES = tuple(status.value for status in ledger.FAILED_STATUSES)
FAILED_PAGES_NAMED = 20  # post numbers named in the health message at most

# Re-exported: callers read crawl runs from here.
CrawlRun = ledger.CrawlRun
FailedPage = ledger.FailedPage


@dataclass(frozen=True)
class Health:
    slug: str
    last_good_at: datetime | None  # when the last 'ok' crawl finished
    last_run_status: str | None  # status of the newest run (None: never crawled)
    stale: bool  # in the crawl window and no good crawl for longer than stale_after
    error_trend_rising: bool
    next_scheduled_at: datetime | None  # from a live `tagdraw schedule`, if one covers it
    messages: tuple[str, ...]  # one English sentence per warning or note
    codes: tuple[str, ...] = ()  # machine-readable, for translation: see ``crawl_health``
    last_run: CrawlRun | None = None
    in_window: bool = False  # between opens_at and closes_at + crawl_after_close_days
    running: bool = False  # a run is in progress now
    # Post pages or threads left failed (incomplete): the next crawl reads them again.
    failed_pages: tuple[FailedPage, ...] = ()


def crawl_history(con: duckdb.DuckDBPyConnection, slug: str, limit: int = 50) -> list[CrawlRun]:
    """The campaign's crawl runs, newest first (at most ``limit``)."""
    return ledger.run_history(con, slug, limit)


def crawl_window(
    campaign: Campaign, after_close_days: int | None = None
) -> tuple[datetime, datetime]:
    """When the campaign is crawled: from ``opens_at`` to ``closes_at`` plus the days after
    the deadline (the campaign's ``crawl_after_close_days`` unless overridden)."""
    days = campaign.crawl_after_close_days if after_close_days is None else after_close_days
    return campaign.opens_at, campaign.closes_at + timedelta(days=max(0, int(days)))


def in_crawl_window(campaign: Campaign, now: datetime, after_close_days: int | None = None) -> bool:
    start, end = crawl_window(campaign, after_close_days)
    return start <= now <= end


# --- the scheduler's plans -----------------------------------------------------------------


# The scheduler's own row in ``schedule_state`` (beside one per campaign it will crawl):
# its heartbeat is there even when no campaign is open.
SCHEDULER_ROW = ""


def record_schedule_state(
    con: duckdb.DuckDBPyConnection,
    *,
    holder: str,
    host: str,
    pid: int,
    schedule: str,
    next_runs: Mapping[str, datetime | None],
    now: datetime,
    heartbeat_every_s: float | None = None,
    next_run_at: datetime | None = None,
) -> None:
    """Replace this scheduler's rows: its own (``SCHEDULER_ROW``: the heartbeat, and when
    it runs next) and one per campaign it will crawl (and when)."""
    con.execute("DELETE FROM schedule_state WHERE holder = ?", [holder])
    rows = {SCHEDULER_ROW: next_run_at, **next_runs}
    for slug, when in sorted(rows.items()):
        con.execute(
            "INSERT INTO schedule_state (holder, campaign_slug, host, pid, schedule, "
            "next_run_at, heartbeat_at, heartbeat_every_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [holder, slug, host, pid, schedule, when, now, heartbeat_every_s],
        )


def schedule_heartbeat(con: duckdb.DuckDBPyConnection, holder: str, now: datetime) -> None:
    """The scheduler is alive: refresh ``heartbeat_at`` on its rows."""
    con.execute("UPDATE schedule_state SET heartbeat_at = ? WHERE holder = ?", [now, holder])


@dataclass(frozen=True)
class SchedulerStatus:
    """One ``tagdraw schedule`` process as its rows tell it."""

    holder: str
    host: str
    pid: int
    schedule: str | None  # 'every 30 min' | 'cron */30 * * * *'
    heartbeat_at: datetime
    heartbeat_every_s: float | None
    next_run_at: datetime | None
    next_runs: dict[str, datetime | None]  # campaign -> its next crawl
    running: bool  # a heartbeat within two heartbeat intervals


def scheduler_statuses(
    con: duckdb.DuckDBPyConnection, now: datetime | None = None
) -> list[SchedulerStatus]:
    """Every scheduler that left rows, newest heartbeat first. ``running`` is false when it
    wrote no heartbeat for two of its intervals (a row without an interval, from before
    migration 0014: for two scheduler intervals of the settings)."""
    now = (now or datetime.now(BANGKOK)).astimezone(BANGKOK)
    fallback = get_settings().schedule_interval_min * 60.0
    by_holder: dict[str, dict[str, Any]] = {}
    for holder, slug, host, pid, schedule, next_run_at, heartbeat_at, every in con.execute(
        "SELECT holder, campaign_slug, host, pid, schedule, next_run_at, heartbeat_at, "
        "heartbeat_every_s FROM schedule_state ORDER BY holder, campaign_slug"
    ).fetchall():
        entry = by_holder.setdefault(
            holder,
            {
                "host": host,
                "pid": int(pid),
                "schedule": schedule,
                "heartbeat_at": as_bangkok(heartbeat_at),
                "every": every,
                "next_run_at": None,
                "next_runs": {},
            },
        )
        entry["heartbeat_at"] = max(entry["heartbeat_at"], as_bangkok(heartbeat_at))
        if slug == SCHEDULER_ROW:
            entry["next_run_at"] = as_bangkok(next_run_at)
        else:
            entry["next_runs"][slug] = as_bangkok(next_run_at)
    out = []
    for holder, e in by_holder.items():
        every = float(e["every"]) if e["every"] else fallback
        out.append(
            SchedulerStatus(
                holder=holder,
                host=e["host"],
                pid=e["pid"],
                schedule=e["schedule"],
                heartbeat_at=e["heartbeat_at"],
                heartbeat_every_s=e["every"],
                next_run_at=e["next_run_at"],
                next_runs=e["next_runs"],
                running=now - e["heartbeat_at"] <= timedelta(seconds=2 * every),
            )
        )
    return sorted(out, key=lambda s: s.heartbeat_at, reverse=True)


def clear_schedule_state(con: duckdb.DuckDBPyConnection, holder: str | None = None) -> None:
    """Forget one scheduler's rows (on a clean stop), or those of dead schedulers on this
    host when ``holder`` is None."""
    if holder is not None:
        con.execute("DELETE FROM schedule_state WHERE holder = ?", [holder])
        return
    here = socket.gethostname()
    for held, pid in con.execute(
        "SELECT DISTINCT holder, pid FROM schedule_state WHERE host = ?", [here]
    ).fetchall():
        if not _pid_alive(int(pid)):
            con.execute("DELETE FROM schedule_state WHERE holder = ?", [held])


def _pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def next_scheduled_crawl(
    con: duckdb.DuckDBPyConnection, slug: str, now: datetime | None = None
) -> datetime | None:
    """The soonest crawl a live scheduler has planned for the campaign (None if none).
    A scheduler on this host counts while its process lives; one elsewhere while its
    plan is not overdue by more than an hour."""
    now = now or datetime.now(BANGKOK)
    here = socket.gethostname()
    soonest: datetime | None = None
    for host, pid, next_run_at in con.execute(
        "SELECT host, pid, next_run_at FROM schedule_state WHERE campaign_slug = ?", [slug]
    ).fetchall():  # (the scheduler's own row has the slug SCHEDULER_ROW, never a campaign's)
        when = as_bangkok(next_run_at)
        if when is None:
            continue
        live = _pid_alive(int(pid)) if host == here else when > now - timedelta(hours=1)
        if live and (soonest is None or when < soonest):
            soonest = when
    return soonest


# --- health --------------------------------------------------------------------------------


def _errors_rising(finished: list[CrawlRun]) -> bool:
    """The two newest finished runs both failed or were partial, or the newest had errors
    well above the average of the (up to) five before it."""
    if len(finished) >= 2 and all(r.status in FAILED_STATUSES for r in finished[:2]):
        return True
    if not finished or finished[0].errors <= 0:
        return False
    before = finished[1:6]
    if not before:
        return False
    average = sum(r.errors for r in before) / len(before)
    return finished[0].errors > max(average * 1.5, average + 2)


def crawl_health(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    now: datetime | None = None,
    *,
    stale_after: timedelta | None = None,
) -> Health:
    """How the campaign's crawls are doing.

    ``stale``: the campaign is in its crawl window and the last good ('ok') crawl finished
    longer ago than ``stale_after`` (default: 6 hours, or 3 scheduler intervals if
    ``TAGDRAW_SCHEDULE_INTERVAL_MIN`` makes that longer), or there was none yet.
    ``codes`` (for translated messages): 'never_crawled', 'stale', 'errors_rising',
    'last_run_failed', 'pages_failed' (``failed_pages`` names them), 'running',
    'window_not_open', 'window_over'.
    """
    now = (now or datetime.now(BANGKOK)).astimezone(BANGKOK)
    if stale_after is None:
        interval = timedelta(minutes=get_settings().schedule_interval_min)
        stale_after = max(DEFAULT_STALE_AFTER, 3 * interval)
    campaign = find_campaign(con, slug)
    history = crawl_history(con, slug, limit=20)
    last = history[0] if history else None
    running = any(r.status == "running" for r in history[:3])
    last_good_at = ledger.last_good_finished_at(con, slug)
    failed = tuple(ledger.failed_pages(con, slug))
    in_window = campaign is not None and in_crawl_window(campaign, now)

    messages: list[str] = []
    codes: list[str] = []
    stale = False
    if campaign is not None and not in_window:
        start, end = crawl_window(campaign)
        if now < start:
            codes.append("window_not_open")
            messages.append(f"The campaign opens {start.isoformat()}; crawls start then.")
        else:
            codes.append("window_over")
            messages.append(
                f"Scheduled crawling ended {end.isoformat()} "
                f"({campaign.crawl_after_close_days} days after the deadline)."
            )
    if last is None:
        codes.append("never_crawled")
        messages.append("This campaign has never been crawled.")
    if in_window:
        if last_good_at is None:
            stale = True
            if last is not None:
                codes.append("stale")
                messages.append("No crawl of this campaign has finished cleanly yet.")
        elif now - last_good_at > stale_after:
            stale = True
            hours = (now - last_good_at).total_seconds() / 3600
            codes.append("stale")
            messages.append(
                f"The last good crawl finished {hours:.0f} hours ago "
                f"(more than {stale_after.total_seconds() / 3600:.0f} hours)."
            )
    finished = [r for r in history if r.status != "running"]
    rising = _errors_rising(finished)
    if rising:
        codes.append("errors_rising")
        messages.append(
            f"Crawl errors are rising: {finished[0].errors} pages failed in the last run "
            f"({finished[0].status})."
        )
    if finished and finished[0].status in FAILED_STATUSES and not rising:
        codes.append("last_run_failed")
        messages.append(
            f"The last crawl (run {finished[0].run_id}) ended '{finished[0].status}' "
            f"with {finished[0].errors} failed pages; the next crawl retries them."
        )
    if failed:
        codes.append("pages_failed")
        named = ", ".join(str(page.post_number) for page in failed[:FAILED_PAGES_NAMED])
        more = (
            f" and {len(failed) - FAILED_PAGES_NAMED} more"
            if len(failed) > FAILED_PAGES_NAMED
            else ""
        )
        messages.append(
            f"Posts not read completely (a page or part of the thread failed): {named}{more}; "
            "the next crawl reads them again."
        )
    if running:
        codes.append("running")
        messages.append("A crawl is running now.")
    return Health(
        slug=slug,
        last_good_at=last_good_at,
        last_run_status=last.status if last else None,
        stale=stale,
        error_trend_rising=rising,
        next_scheduled_at=next_scheduled_crawl(con, slug, now) if in_window else None,
        messages=tuple(messages),
        codes=tuple(codes),
        last_run=last,
        in_window=in_window,
        running=running,
        failed_pages=failed,
    )
