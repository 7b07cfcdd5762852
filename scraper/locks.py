"""One crawl per campaign at a time, across processes, in the ``crawl_locks`` table.

The holder is ``host:pid:token``. A lock is taken over when its holder is a dead process
on this host, or when its heartbeat is older than ``stale_after_s`` (a holder on another
host, or a hung one). Each call is one short transaction; no connection is held between.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import psutil

from scraper.errors import CrawlLocked
from warehouse.db import run

STALE_AFTER_S = 300.0  # a heartbeat older than this means the holder is gone
HEARTBEAT_EVERY_S = 30.0


@dataclass(frozen=True)
class CrawlLock:
    slug: str
    holder: str  # host:pid:token
    host: str
    pid: int
    token: str


def _now() -> datetime:
    return datetime.now(UTC)


def _holder_alive(host: str, pid: int) -> bool:
    if host != socket.gethostname():
        return True  # cannot tell from here; the heartbeat decides
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def acquire_crawl_lock(
    db: str | os.PathLike[str] | Path | None,
    slug: str,
    *,
    stale_after_s: float = STALE_AFTER_S,
) -> CrawlLock:
    """Take the campaign's crawl lock or raise ``CrawlLocked`` naming the live holder."""
    host, pid, token = socket.gethostname(), os.getpid(), secrets.token_hex(6)
    lock = CrawlLock(slug, f"{host}:{pid}:{token}", host, pid, token)

    def take(con: duckdb.DuckDBPyConnection) -> str | None:
        row = con.execute(
            "SELECT holder, host, pid, heartbeat_at FROM crawl_locks WHERE campaign_slug = ?",
            [slug],
        ).fetchone()
        now = _now()
        if row is not None:
            holder, held_host, held_pid, heartbeat = row
            stale = heartbeat is None or (now - heartbeat) > timedelta(seconds=stale_after_s)
            if _holder_alive(held_host, int(held_pid)) and not stale:
                return str(holder)
            con.execute("DELETE FROM crawl_locks WHERE campaign_slug = ?", [slug])
        con.execute(
            "INSERT INTO crawl_locks (campaign_slug, holder, pid, host, acquired_at, heartbeat_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [slug, lock.holder, pid, host, now, now],
        )
        return None

    busy = run(take, db)
    if busy is not None:
        raise CrawlLocked(
            f"A crawl of campaign {slug!r} is already running ({busy}); "
            "wait for it to finish or stop it first."
        )
    return lock


def heartbeat_crawl_lock(con: duckdb.DuckDBPyConnection, lock: CrawlLock) -> bool:
    """Refresh the heartbeat inside the caller's transaction; False if the lock was lost."""
    rows = con.execute(
        "UPDATE crawl_locks SET heartbeat_at = ? WHERE campaign_slug = ? AND holder = ? "
        "RETURNING campaign_slug",
        [_now(), lock.slug, lock.holder],
    ).fetchall()
    return bool(rows)


def release_crawl_lock(db: str | os.PathLike[str] | Path | None, lock: CrawlLock) -> None:
    """Give the lock back (only if we still hold it)."""

    def drop(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            "DELETE FROM crawl_locks WHERE campaign_slug = ? AND holder = ?",
            [lock.slug, lock.holder],
        )

    run(drop, db)
