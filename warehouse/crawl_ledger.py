"""The crawl ledger: every SQL statement on ``crawl_runs``, ``crawl_frontier`` and
``crawl_errors`` (and the crawler's HTTP validators, ``post_validators``).

The crawler writes through it (``scraper.crawl``), crawl health and the dashboard read
through it (``warehouse.health``, ``dashboard.queries``). Functions take an open connection
and do no transaction of their own: callers run them inside ``warehouse.db.run``.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import duckdb

from warehouse.audit import audit
from warehouse.thai import as_bangkok
from warehouse.users import Role, require_actor

CrawlMode = Literal["incremental", "full", "verify"]


class RunStatus(StrEnum):
    """A crawl run's status, as stored in ``crawl_runs.status``."""

    RUNNING = "running"
    OK = "ok"  # every listed post stored (complete threads) or known gone
    PARTIAL = "partial"  # some pages or threads failed for good: the next run retries them
    FAILED = "failed"  # the run stopped on an error
    INTERRUPTED = "interrupted"  # killed or stopped; the next run resumes its frontier


FAILED_STATUSES = (RunStatus.FAILED, RunStatus.PARTIAL)


class FrontierState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # fetched but not complete (or not at all): the next run fetches it
    GONE = "gone"


@dataclass(frozen=True)
class CrawlRun:
    """One row of ``crawl_runs``."""

    run_id: int
    campaign_slug: str
    mode: CrawlMode
    status: str  # a RunStatus value
    trigger: str | None
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    requests: int
    listing_pages: int
    post_pages: int
    comment_pages: int
    posts_new: int
    posts_changed: int
    posts_unchanged: int
    posts_gone: int
    comments_new: int
    errors: int  # pages that failed for good
    host: str | None
    pid: int | None

    @property
    def pages(self) -> int:
        return self.listing_pages + self.post_pages + self.comment_pages


@dataclass(frozen=True)
class FailedPage:
    """A post page (or its thread) the last crawl could not complete; the next one reads it."""

    post_number: int
    url: str
    error: str | None
    attempts: int
    run_id: int | None
    updated_at: datetime | None


@dataclass(frozen=True)
class RunCounts:
    """What a finished run reports in ``crawl_runs``."""

    requests: int
    listing_pages: int
    post_pages: int
    comment_pages: int
    posts_new: int
    posts_changed: int
    posts_unchanged: int
    posts_gone: int
    comments_new: int
    errors: int
    duration_s: float


# --- runs ------------------------------------------------------------------------------------

_RUN_COLUMNS = (
    "run_id, campaign_slug, mode, status, trigger, started_at, finished_at, duration_s, "
    "requests, listing_pages, post_pages, comment_pages, posts_new, posts_changed, "
    "posts_unchanged, posts_gone, comments_new, errors, host, pid"
)


def _run_from_row(row: tuple[Any, ...]) -> CrawlRun:
    values = list(row)
    values[5] = as_bangkok(values[5])
    values[6] = as_bangkok(values[6])
    return CrawlRun(*values)


def start_run(
    con: duckdb.DuckDBPyConnection, slug: str, mode: CrawlMode, trigger: str, now: datetime
) -> tuple[int, int | None]:
    """Insert a 'running' run; returns (run_id, the run it resumes or None).

    An earlier run still 'running' (its holder died: the caller holds the lock) becomes
    'interrupted'. The latest run, if interrupted or cancelled on request, is resumed: its
    frontier is continued.
    Otherwise what the last crawl finished is forgotten (pending and failed rows are kept).
    """
    con.execute(
        "UPDATE crawl_runs SET status = $interrupted, finished_at = $now "
        "WHERE campaign_slug = $slug AND status = $running",
        {
            "interrupted": RunStatus.INTERRUPTED.value,
            "running": RunStatus.RUNNING.value,
            "now": now,
            "slug": slug,
        },
    )
    latest = con.execute(
        "SELECT run_id, status, cancel_requested_at IS NOT NULL FROM crawl_runs "
        "WHERE campaign_slug = ? ORDER BY run_id DESC LIMIT 1",
        [slug],
    ).fetchone()
    # A run stopped on request (the dashboard's cancel) is resumed like an interrupted one.
    resumable = latest is not None and (
        latest[1] == RunStatus.INTERRUPTED or (latest[1] == RunStatus.PARTIAL and latest[2])
    )
    resumed_from = int(latest[0]) if latest is not None and resumable else None
    if resumed_from is None:
        con.execute(
            "DELETE FROM crawl_frontier WHERE campaign_slug = ? AND state IN (?, ?)",
            [slug, FrontierState.DONE.value, FrontierState.GONE.value],
        )
    row = con.execute(
        "INSERT INTO crawl_runs (campaign_slug, mode, status, started_at, pid, host, trigger) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING run_id",
        [slug, mode, RunStatus.RUNNING.value, now, os.getpid(), socket.gethostname(), trigger],
    ).fetchone()
    assert row is not None
    return int(row[0]), resumed_from


def record_progress(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    *,
    listing_pages: int,
    post_pages: int,
    comment_pages: int,
    requests: int | None = None,
    posts_planned: int | None = None,
    posts_done: int | None = None,
    comments_new: int | None = None,
    errors: int | None = None,
) -> bool:
    """Write a running run's counts so far (a count given as None is left as it is);
    returns whether a stop was asked for (``request_cancel``), so that the crawler learns
    it from the write it makes anyway."""
    row = con.execute(
        "UPDATE crawl_runs SET post_pages = $post, comment_pages = $comment, "
        "listing_pages = $listing, requests = coalesce($requests, requests), "
        "posts_planned = coalesce($planned, posts_planned), "
        "posts_done = coalesce($done, posts_done), "
        "comments_new = coalesce($comments, comments_new), errors = coalesce($errors, errors) "
        # Only while running: a progress write that lands late never undoes finish_run.
        "WHERE run_id = $run AND status = $running RETURNING cancel_requested_at IS NOT NULL",
        {
            "post": post_pages,
            "comment": comment_pages,
            "listing": listing_pages,
            "requests": requests,
            "planned": posts_planned,
            "done": posts_done,
            "comments": comments_new,
            "errors": errors,
            "run": run_id,
            "running": RunStatus.RUNNING.value,
        },
    ).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class RunProgress:
    """A run as the dashboard follows it: its counts so far and its pace."""

    run: CrawlRun
    posts_planned: int | None  # None until the listing is read
    posts_done: int
    cancel_requested_at: datetime | None
    cancel_requested_by: str | None
    elapsed_s: float
    summary: dict[str, Any] | None  # the finished run's summary (None while running)

    @property
    def requests_per_s(self) -> float:
        return self.run.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def running(self) -> bool:
        return self.run.status == RunStatus.RUNNING


def get_run(con: duckdb.DuckDBPyConnection, run_id: int) -> CrawlRun | None:
    row = con.execute(
        f"SELECT {_RUN_COLUMNS} FROM crawl_runs WHERE run_id = ?", [run_id]
    ).fetchone()
    return _run_from_row(row) if row else None


def running_run(con: duckdb.DuckDBPyConnection, slug: str) -> CrawlRun | None:
    """The campaign's run in progress (the newest 'running' one), or None."""
    row = con.execute(
        f"SELECT {_RUN_COLUMNS} FROM crawl_runs WHERE campaign_slug = ? AND status = ? "
        "ORDER BY run_id DESC LIMIT 1",
        [slug, RunStatus.RUNNING.value],
    ).fetchone()
    return _run_from_row(row) if row else None


def run_progress(
    con: duckdb.DuckDBPyConnection, run_id: int, now: datetime | None = None
) -> RunProgress | None:
    """The run's counts so far, with the time since it started (or its duration)."""
    row = con.execute(
        f"SELECT {_RUN_COLUMNS}, posts_planned, posts_done, cancel_requested_at, "
        "cancel_requested_by, summary FROM crawl_runs WHERE run_id = ?",
        [run_id],
    ).fetchone()
    if row is None:
        return None
    width = len(_RUN_COLUMNS.split(","))
    run = _run_from_row(row[:width])
    planned, done, cancel_at, cancel_by, summary = row[width:]
    if run.duration_s is not None:
        elapsed = float(run.duration_s)
    else:
        end = as_bangkok(now) if now is not None else datetime.now(run.started_at.tzinfo)
        elapsed = max(0.0, (end - run.started_at).total_seconds())
    return RunProgress(
        run=run,
        posts_planned=planned,
        posts_done=int(done or 0),
        cancel_requested_at=as_bangkok(cancel_at),
        cancel_requested_by=cancel_by,
        elapsed_s=elapsed,
        summary=json.loads(summary) if summary else None,
    )


def request_cancel(
    con: duckdb.DuckDBPyConnection, run_id: int, *, actor: str, now: datetime
) -> bool:
    """Ask a running run to stop (an admin's request, audited); False when it is not
    running any more."""
    require_actor(con, actor, Role.ADMIN)
    rows = con.execute(
        "UPDATE crawl_runs SET cancel_requested_at = coalesce(cancel_requested_at, ?), "
        "cancel_requested_by = coalesce(cancel_requested_by, ?) "
        "WHERE run_id = ? AND status = ? RETURNING campaign_slug",
        [now, actor, run_id, RunStatus.RUNNING.value],
    ).fetchall()
    if not rows:
        return False
    audit(con, actor, "crawl.cancel", str(rows[0][0]), run_id=run_id)
    return True


def cancel_requested(con: duckdb.DuckDBPyConnection, run_id: int) -> bool:
    row = con.execute(
        "SELECT cancel_requested_at IS NOT NULL FROM crawl_runs WHERE run_id = ?", [run_id]
    ).fetchone()
    return bool(row and row[0])


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    status: RunStatus,
    counts: RunCounts,
    summary_json: str,
    now: datetime,
) -> None:
    con.execute(
        """
        UPDATE crawl_runs SET status = ?, finished_at = ?, requests = ?, listing_pages = ?,
            post_pages = ?, comment_pages = ?, posts_new = ?, posts_changed = ?,
            posts_unchanged = ?, posts_gone = ?, comments_new = ?, errors = ?, duration_s = ?,
            summary = ?
        WHERE run_id = ?
        """,
        [
            RunStatus(status).value,
            now,
            counts.requests,
            counts.listing_pages,
            counts.post_pages,
            counts.comment_pages,
            counts.posts_new,
            counts.posts_changed,
            counts.posts_unchanged,
            counts.posts_gone,
            counts.comments_new,
            counts.errors,
            counts.duration_s,
            summary_json,
            run_id,
        ],
    )


def run_history(con: duckdb.DuckDBPyConnection, slug: str, limit: int = 50) -> list[CrawlRun]:
    """The campaign's crawl runs, newest first (at most ``limit``)."""
    rows = con.execute(
        f"SELECT {_RUN_COLUMNS} FROM crawl_runs WHERE campaign_slug = ? "
        "ORDER BY started_at DESC, run_id DESC LIMIT ?",
        [slug, int(limit)],
    ).fetchall()
    return [_run_from_row(r) for r in rows]


def last_good_finished_at(con: duckdb.DuckDBPyConnection, slug: str) -> datetime | None:
    """When the campaign's last 'ok' run finished (None: never)."""
    row = con.execute(
        "SELECT max(coalesce(finished_at, started_at)) FROM crawl_runs "
        "WHERE campaign_slug = ? AND status = ?",
        [slug, RunStatus.OK.value],
    ).fetchone()
    return as_bangkok(row[0]) if row else None


def last_finished_at(con: duckdb.DuckDBPyConnection, slug: str) -> datetime | None:
    """When the campaign's last run that stored pages ('ok' or 'partial') finished."""
    row = con.execute(
        "SELECT max(finished_at) FROM crawl_runs WHERE campaign_slug = ? "
        "AND status IN (?, ?) AND finished_at IS NOT NULL",
        [slug, RunStatus.OK.value, RunStatus.PARTIAL.value],
    ).fetchone()
    return as_bangkok(row[0]) if row else None


def last_run_of_process(
    con: duckdb.DuckDBPyConnection, slug: str, pid: int, host: str
) -> tuple[int | None, str | None]:
    """(run_id, status) of the newest run of ``slug`` started by that process."""
    row = con.execute(
        "SELECT run_id, status FROM crawl_runs WHERE campaign_slug = ? AND pid = ? "
        "AND host = ? ORDER BY run_id DESC LIMIT 1",
        [slug, pid, host],
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else (None, None)


# --- errors ----------------------------------------------------------------------------------


def record_error(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    url: str,
    kind: str,
    error: str,
    *,
    at: datetime,
    http_status: int | None = None,
    saved: str | None = None,
    permanent: bool = True,
) -> None:
    con.execute(
        "INSERT INTO crawl_errors (run_id, url, kind, error, http_status, saved_html_path, "
        'permanent, "at") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [run_id, url, kind, error, http_status, saved, permanent, at],
    )


def run_errors(
    con: duckdb.DuckDBPyConnection, run_id: int, *, limit: int = 500
) -> list[dict[str, Any]]:
    """A run's errors, oldest first: at, kind, url, http_status, permanent, error."""
    rows = con.execute(
        'SELECT "at", kind, url, http_status, permanent, error FROM crawl_errors '
        'WHERE run_id = ? ORDER BY "at" LIMIT ?',
        [run_id, limit],
    ).fetchall()
    return [
        {
            "at": as_bangkok(r[0]),
            "kind": r[1],
            "url": r[2],
            "http_status": r[3],
            "permanent": r[4],
            "error": r[5],
        }
        for r in rows
    ]


# --- frontier --------------------------------------------------------------------------------


def frontier_states(con: duckdb.DuckDBPyConnection, slug: str) -> dict[int, str]:
    """Post number -> frontier state, for the campaign's post rows."""
    return {
        int(r[0]): str(r[1])
        for r in con.execute(
            "SELECT post_number, state FROM crawl_frontier "
            "WHERE campaign_slug = ? AND kind = 'post'",
            [slug],
        ).fetchall()
    }


def plan_frontier(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    site_url: str,
    run_id: int,
    post_numbers: Sequence[int],
    now: datetime,
) -> None:
    """The posts this run will fetch become pending (one set-based statement)."""
    if not post_numbers:
        return
    con.execute(
        "INSERT INTO crawl_frontier (campaign_slug, url, kind, post_number, state, attempts,"
        " run_id, updated_at) SELECT $slug, $site || '/posts/' || n::VARCHAR, 'post', n,"
        " 'pending', 0, $run, $now FROM (SELECT unnest($numbers::BIGINT[]) AS n) "
        "ON CONFLICT (campaign_slug, url) DO UPDATE SET state = 'pending', "
        "run_id = excluded.run_id, updated_at = excluded.updated_at",
        {
            "slug": slug,
            "site": site_url.rstrip("/"),
            "run": run_id,
            "now": now,
            "numbers": sorted(set(post_numbers)),
        },
    )


def set_pending(con: duckdb.DuckDBPyConnection, slug: str, urls: Sequence[str]) -> None:
    """Rows to be fetched again (a crawl killed from here on fetches them on resume)."""
    con.execute(
        "UPDATE crawl_frontier SET state = ? WHERE campaign_slug = ? "
        "AND url IN (SELECT unnest(?::VARCHAR[]))",
        [FrontierState.PENDING.value, slug, list(urls)],
    )


def record_outcomes(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    run_id: int,
    outcomes: Sequence[tuple[str, FrontierState, str | None]],
    now: datetime,
) -> None:
    """(url, state, error) per fetched post page, in one statement."""
    if not outcomes:
        return
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
            "urls": [o[0] for o in outcomes],
            "states": [FrontierState(o[1]).value for o in outcomes],
            "errs": [o[2] for o in outcomes],
        },
    )


def unfinished_posts(con: duckdb.DuckDBPyConnection, slug: str) -> list[int]:
    """Post numbers of the campaign's frontier not yet done (pending or failed)."""
    return [
        int(r[0])
        for r in con.execute(
            "SELECT post_number FROM crawl_frontier WHERE campaign_slug = ? AND kind = 'post' "
            "AND state IN (?, ?) ORDER BY post_number",
            [slug, FrontierState.PENDING.value, FrontierState.FAILED.value],
        ).fetchall()
    ]


def failed_pages(con: duckdb.DuckDBPyConnection, slug: str, limit: int = 200) -> list[FailedPage]:
    """Post pages (or threads) that the last crawl left failed, by post number."""
    rows = con.execute(
        "SELECT post_number, url, last_error, attempts, run_id, updated_at FROM crawl_frontier "
        "WHERE campaign_slug = ? AND kind = 'post' AND state = ? ORDER BY post_number LIMIT ?",
        [slug, FrontierState.FAILED.value, int(limit)],
    ).fetchall()
    return [FailedPage(int(r[0]), str(r[1]), r[2], int(r[3]), r[4], as_bangkok(r[5])) for r in rows]


# --- revalidation ----------------------------------------------------------------------------


def read_validators(
    con: duckdb.DuckDBPyConnection, post_numbers: Sequence[int]
) -> dict[int, tuple[str | None, str | None]]:
    """Post number -> (etag, last_modified) for the posts that have validators."""
    if not post_numbers:
        return {}
    return {
        int(r[0]): (r[1], r[2])
        for r in con.execute(
            "SELECT post_number, etag, last_modified FROM post_validators "
            "WHERE post_number IN (SELECT unnest(?::BIGINT[]))",
            [sorted(set(post_numbers))],
        ).fetchall()
    }


def save_validators(
    con: duckdb.DuckDBPyConnection,
    validators: dict[int, tuple[str | None, str | None] | None],
    now: datetime,
) -> None:
    """The validators of each post page just fetched; None (no validators sent, or the
    post is gone) forgets the old ones."""
    forget = [n for n, v in validators.items() if v is None]
    keep = {n: v for n, v in validators.items() if v is not None}
    if forget:
        con.execute(
            "DELETE FROM post_validators WHERE post_number IN (SELECT unnest(?::BIGINT[]))",
            [sorted(forget)],
        )
    if keep:
        numbers = sorted(keep)
        con.execute(
            "INSERT INTO post_validators (post_number, etag, last_modified, stored_at) "
            "SELECT unnest($n::BIGINT[]), unnest($e::VARCHAR[]), unnest($m::VARCHAR[]), $now "
            "ON CONFLICT (post_number) DO UPDATE SET etag = excluded.etag, "
            "last_modified = excluded.last_modified, stored_at = excluded.stored_at",
            {
                "n": numbers,
                "e": [keep[n][0] for n in numbers],
                "m": [keep[n][1] for n in numbers],
                "now": now,
            },
        )


def mark_not_modified(
    con: duckdb.DuckDBPyConnection, post_numbers: Sequence[int], seen_at: datetime
) -> None:
    """Posts whose page answered 304: seen live now, nothing else changes (the draw reads
    ``gone = false AND last_fetched_at >= closes_at`` as "seen live since the close")."""
    if not post_numbers:
        return
    con.execute(
        "UPDATE posts SET last_fetched_at = $seen, last_seen_at = $seen "
        "WHERE post_number IN (SELECT unnest($n::BIGINT[])) AND NOT gone",
        {"seen": seen_at, "n": sorted(set(post_numbers))},
    )
