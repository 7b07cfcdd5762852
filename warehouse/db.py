"""The one connection helper.

DuckDB lets one process hold a database file at a time; a second process cannot even
open it read-only. So every process follows the same pattern: open, run one short
transaction, close, and retry on ``Could not set lock`` with jittered backoff. No
connection is held while crawling, waiting or idle.

"Open" is an ``ATTACH`` of the file into an in-memory DuckDB kept for the life of the
process (one per set of DuckDB settings, see ``config``), and "close" the ``DETACH`` after
the last user of the file in this process is done:
the file lock is held exactly as long as with a connection of its own, but the instance
(its function catalog, its threads) is set up once, not for every transaction. At 100,000
entries that is 4 ms per open instead of 28 ms, and the dashboard opens the file several
times per click. Threads of one process using the same file at the same time share one
attachment, each with its own connection and transaction.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from functools import lru_cache
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
_CONFLICT_PATTERN = re.compile(r"conflict", re.IGNORECASE)

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
    cmd = " ".join(cmd.split())  # one line, however the holder was started
    if len(cmd) > 160:
        cmd = cmd[:157] + "..."
    return f"process {pid} ({cmd})"


DuckDBConfig = Mapping[str, str | int]


class _Host:
    """An in-memory DuckDB of this process, with its settings, and the warehouse files
    attached to it now."""

    def __init__(self, config: tuple[tuple[str, str | int], ...]) -> None:
        self.config = config
        self.guard = threading.Lock()
        self.pid = -1
        self.instance: duckdb.DuckDBPyConnection | None = None
        self.attached: dict[str, tuple[str, int]] = {}  # file -> (alias, users)
        self.serial = 0

    def _instance(self) -> duckdb.DuckDBPyConnection:
        # A child made by fork() must not reuse its parent's instance (its threads are gone).
        if self.instance is None or self.pid != os.getpid():
            self.instance = duckdb.connect(":memory:", config=dict(self.config))
            self.pid = os.getpid()
            self.attached = {}
        return self.instance

    def attach(self, path: Path) -> duckdb.DuckDBPyConnection:
        """A new connection whose default catalog is the file (attached if no one in this
        process has it attached). Raises DuckDB's error when the file cannot be opened."""
        key = str(path.resolve())
        with self.guard:
            con = self._instance().cursor()
            try:
                alias, users = self.attached.get(key, ("", 0))
                if not users:
                    self.serial += 1
                    alias = f"tagdraw_{self.serial}"
                    con.execute(f"ATTACH ? AS {alias}", [key])
                self.attached[key] = (alias, users + 1)
            except BaseException:
                con.close()
                raise
        try:
            con.execute(f"USE {alias}")
            con.execute(f"SET TimeZone = '{TIMEZONE}'")
        except BaseException:
            self.release(path, con)
            raise
        return con

    def release(self, path: Path, con: duckdb.DuckDBPyConnection) -> None:
        """Close ``con`` (rolling back what it left open); detach the file, releasing its
        lock, when no one else in this process uses it."""
        key = str(path.resolve())
        with self.guard:
            con.close()
            alias, users = self.attached[key]
            if users > 1:
                self.attached[key] = (alias, users - 1)
                return
            del self.attached[key]
            assert self.instance is not None
            detacher = self.instance.cursor()
            try:
                detacher.execute(f"DETACH {alias}")
            except duckdb.Error as exc:
                # DuckDB detaches even when the checkpoint it makes on the way fails (a full
                # disk): what was committed stays in the WAL and is replayed at the next
                # open, as after a failed checkpoint on close. Anything else still holds
                # the file.
                still = detacher.execute(
                    "SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [alias]
                ).fetchone()
                if still and still[0]:
                    raise
                logging.getLogger(__name__).warning(
                    "checkpoint of %s on close failed: %s", path, _first_line(exc)
                )
            finally:
                detacher.close()


# One host per set of DuckDB settings: settings such as ``threads`` and ``memory_limit``
# belong to an instance, so a caller that needs its own (the crawl's writes) gets an
# instance of its own rather than changing everyone's. Two hosts take turns at a file.
_hosts: dict[tuple[tuple[str, str | int], ...], _Host] = {}
_hosts_guard = threading.Lock()


def _host(config: DuckDBConfig | None) -> _Host:
    key = tuple(sorted((config or {}).items()))
    with _hosts_guard:
        if key not in _hosts:
            _hosts[key] = _Host(key)
        return _hosts[key]


def _open(
    path: Path, deadline_s: float, config: DuckDBConfig | None = None
) -> tuple[_Host, duckdb.DuckDBPyConnection]:
    host = _host(config)
    delay = 0.01
    started = time.monotonic()
    while True:
        try:
            return host, host.attach(path)
        except duckdb.IOException as exc:
            if not _LOCK_PATTERN.search(str(exc)):
                raise UserError(f"Cannot open the warehouse {path}: {_first_line(exc)}") from None
            waited = time.monotonic() - started
            if waited >= deadline_s:
                raise DatabaseBusy(
                    f"The warehouse {path} is locked by {describe_lock_holder(str(exc))}; "
                    f"gave up after {waited:.0f} s. Try again when it has finished."
                ) from None
            # Full jitter keeps several waiting processes from retrying in lock-step.
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 0.25)
        except duckdb.ResourceInUseException as exc:
            # The file attached by another host of this process, or opened by code with a
            # connection of its own ("Unique file handle conflict"): retried like the lock.
            if time.monotonic() - started >= deadline_s:
                raise DatabaseBusy(
                    f"The warehouse {path} stayed busy: {_first_line(exc)}"
                ) from None
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 0.25)
        except (duckdb.SerializationException, duckdb.InvalidInputException) as exc:
            # Not a DuckDB file, or one written by an incompatible version.
            raise UserError(f"Cannot open the warehouse {path}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    # A failed ROLLBACK must not hide the error that caused it.
    with suppress(duckdb.Error):
        con.execute("ROLLBACK")


@contextmanager
def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    deadline_s: float | None = None,
    migrate: bool = True,
    config: DuckDBConfig | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, run the body in one transaction, commit and close.

    The body should be short: the file is locked against every other process until it
    returns. An exception rolls the transaction back. ``read_only`` rolls back instead
    of committing and never creates the file, though it still applies missing
    migrations. (DuckDB's own read-only mode is not used: it would stop other threads of
    this process from opening the file read-write.) ``config`` holds DuckDB settings for
    this transaction's instance (``{"threads": 1, "memory_limit": "64MB"}``); a ``SET`` of
    such a setting inside the body would change it for the whole process.
    """
    db_path = resolve_db_path(path)
    deadline = get_settings().lock_timeout_s if deadline_s is None else deadline_s
    if not db_path.exists():
        if read_only:
            raise UserError(f"No warehouse at {db_path}: create a campaign or run a crawl first.")
        db_path.parent.mkdir(parents=True, exist_ok=True)
    host, con = _open(db_path, deadline, config)
    try:
        if migrate:  # also for readers: a schema upgrade is not user data
            _migrate_if_needed(con)
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            _rollback_quietly(con)
            raise
        con.execute("ROLLBACK" if read_only else "COMMIT")
    finally:
        host.release(db_path, con)


@contextmanager
def locked(
    path: str | os.PathLike[str] | None = None, *, deadline_s: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the (migrated) warehouse WITHOUT starting a transaction, for the few
    statements that cannot run inside one (CHECKPOINT, ATTACH). Holds the file lock
    until the block ends; keep it short."""
    db_path = resolve_db_path(path)
    deadline = get_settings().lock_timeout_s if deadline_s is None else deadline_s
    db_path.parent.mkdir(parents=True, exist_ok=True)
    host, con = _open(db_path, deadline)
    try:
        _migrate_if_needed(con)
        yield con
    finally:
        host.release(db_path, con)


def run(
    fn: Callable[[duckdb.DuckDBPyConnection], T],
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    deadline_s: float | None = None,
    config: DuckDBConfig | None = None,
) -> T:
    """Run ``fn(con)`` in one transaction; retry the whole transaction on a conflict
    between threads of this process (the file lock itself is retried by ``connect``).
    ``fn`` may therefore run more than once: keep side effects out of it."""
    deadline = get_settings().lock_timeout_s if deadline_s is None else deadline_s
    started = time.monotonic()
    delay = 0.01
    while True:
        try:
            with connect(path, read_only=read_only, deadline_s=deadline, config=config) as con:
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


@lru_cache(maxsize=1)
def _available_versions() -> frozenset[int]:
    return frozenset(v for v, _, _ in available_migrations())


def latest_version() -> int:
    return max(_available_versions(), default=0)


def _applied_versions(con: duckdb.DuckDBPyConnection) -> frozenset[int]:
    try:
        rows = con.execute("SELECT version FROM schema_migrations").fetchall()
    except duckdb.CatalogException:
        return frozenset()
    return frozenset(r[0] for r in rows)


def _migrate_if_needed(con: duckdb.DuckDBPyConnection) -> None:
    """One cheap query per connection; a file restored from an older backup (or replaced
    by another process) is brought up to date the next time anyone opens it."""
    # Compare sets, not the highest number: parts add their numbered migrations in any order.
    if _available_versions() <= _applied_versions(con):
        return
    with _migrate_lock:  # threads of one process share the database instance
        con.execute("BEGIN TRANSACTION")
        try:
            migrate(con)
        except BaseException:
            _rollback_quietly(con)
            raise
        con.execute("COMMIT")


def ensure_migrated(
    path: str | os.PathLike[str] | None = None, deadline_s: float | None = None
) -> None:
    """Create the file if needed and apply any pending migrations."""
    with connect(path, deadline_s=deadline_s):
        pass
