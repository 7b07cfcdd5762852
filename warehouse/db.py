"""The one connection helper.

DuckDB lets one process hold a database file at a time; a second process cannot even
open it read-only. So every process follows the same pattern: open, run one short
transaction, close, and retry on ``Could not set lock`` with jittered backoff. No
connection is held while crawling, waiting or idle.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TypeVar

import duckdb

from warehouse.errors import DatabaseBusy, UserError
from warehouse.settings import TIMEZONE, get_settings

T = TypeVar("T")

_LOCK_PATTERN = re.compile(r"Could not set lock", re.IGNORECASE)
_HOLDER_PATTERN = re.compile(r"held in (?P<prog>.+?) \(PID (?P<pid>\d+)\)")
# Conflicts between threads of one process (Streamlit sessions) are retried as well.
_CONFLICT_PATTERN = re.compile(r"(Transaction conflict|write-write conflict)", re.IGNORECASE)

_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def resolve_db_path(path: str | os.PathLike[str] | None = None) -> Path:
    """``--db`` wins, then ``$TAGDRAW_DB``, then ``./data/tagdraw.duckdb``."""
    return Path(path) if path else Path(get_settings().db)


def describe_lock_holder(message: str) -> str:
    match = _HOLDER_PATTERN.search(message)
    if not match:
        return "another process"
    pid = int(match.group("pid"))
    try:
        import psutil

        cmd = " ".join(psutil.Process(pid).cmdline()) or match.group("prog")
    except Exception:  # the holder may have exited meanwhile
        cmd = match.group("prog")
    return f"process {pid} ({cmd})"


def _open(path: Path, read_only: bool, deadline_s: float) -> duckdb.DuckDBPyConnection:
    delay = 0.01
    started = time.monotonic()
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            con.execute(f"SET TimeZone = '{TIMEZONE}'")
            return con
        except duckdb.IOException as exc:
            if not _LOCK_PATTERN.search(str(exc)):
                raise
            waited = time.monotonic() - started
            if waited >= deadline_s:
                raise DatabaseBusy(
                    f"The warehouse {path} is locked by {describe_lock_holder(str(exc))}; "
                    f"gave up after {waited:.0f} s. Try again when it has finished."
                ) from None
            # Full jitter keeps several waiting processes from retrying in lock-step.
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 0.25)


@contextmanager
def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    deadline_s: float | None = None,
    migrate: bool = True,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, run the body in one transaction, commit and close.

    The body should be short: the file is locked against every other process until it
    returns. An exception rolls the transaction back.
    """
    db_path = resolve_db_path(path)
    deadline = get_settings().lock_timeout_s if deadline_s is None else deadline_s
    if migrate and not read_only:
        ensure_migrated(db_path, deadline)
    elif read_only and not db_path.exists():
        raise UserError(f"No warehouse at {db_path}: create a campaign or run a crawl first.")
    con = _open(db_path, read_only, deadline)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


def run(
    fn: Callable[[duckdb.DuckDBPyConnection], T],
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    deadline_s: float | None = None,
) -> T:
    """Run ``fn(con)`` in one transaction; retry the whole transaction on a conflict
    between threads of this process (the file lock itself is retried by ``connect``)."""
    deadline = get_settings().lock_timeout_s if deadline_s is None else deadline_s
    started = time.monotonic()
    delay = 0.01
    while True:
        try:
            with connect(path, read_only=read_only, deadline_s=deadline) as con:
                return fn(con)
        except duckdb.TransactionException as exc:
            if not _CONFLICT_PATTERN.search(str(exc)) or time.monotonic() - started > deadline:
                raise
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 0.25)


# --- migrations -------------------------------------------------------------------------

_MIGRATION_FILE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")


def available_migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every file in ``warehouse/migrations``, in order."""
    found = []
    for entry in resources.files("warehouse.migrations").iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match:
            found.append((int(match["version"]), match["name"], entry.read_text("utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a version number: {versions}")
    return found


def applied_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return []
    return [
        row[0] for row in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
    ]


def migrate(con: duckdb.DuckDBPyConnection, up_to: int | None = None) -> list[str]:
    """Apply the migrations not yet recorded (each in the caller's transaction)."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    done = set(applied_migrations(con))
    applied = []
    for version, name, sql in available_migrations():
        if version in done or (up_to is not None and version > up_to):
            continue
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
        applied.append(f"{version:04d}_{name}")
    return applied


def ensure_migrated(path: Path, deadline_s: float | None = None) -> None:
    key = str(path.resolve())
    with _migrate_lock:
        if key in _migrated:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        deadline = get_settings().lock_timeout_s if deadline_s is None else deadline_s
        con = _open(path, False, deadline)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                migrate(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()
        _migrated.add(key)
