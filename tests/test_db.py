"""The connection helper and the schema, on real DuckDB files."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from warehouse.db import (
    available_migrations,
    connect,
    ensure_migrated,
    migrate,
    resolve_db_path,
    run,
)
from warehouse.errors import DatabaseBusy, UserError

ROOT = Path(__file__).resolve().parent.parent


def schema_of(path: Path) -> dict[str, Any]:
    """Everything a migration defines: columns (with types, defaults, nullability),
    constraints, indexes, sequences, and the migration log."""
    con = duckdb.connect(str(path))
    try:
        columns = con.execute(
            "SELECT table_name, column_name, data_type, column_default, is_nullable "
            "FROM duckdb_columns() WHERE database_name = current_database() "
            "ORDER BY table_name, column_index"
        ).fetchall()
        constraints = con.execute(
            "SELECT table_name, constraint_type, constraint_column_names::VARCHAR "
            "FROM duckdb_constraints() WHERE database_name = current_database() ORDER BY ALL"
        ).fetchall()
        indexes = con.execute(
            "SELECT index_name, table_name FROM duckdb_indexes() "
            "WHERE database_name = current_database() ORDER BY ALL"
        ).fetchall()
        sequences = con.execute(
            "SELECT sequence_name FROM duckdb_sequences() "
            "WHERE database_name = current_database() ORDER BY ALL"
        ).fetchall()
        versions = con.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
    finally:
        con.close()
    return {
        "columns": columns,
        "constraints": constraints,
        "indexes": indexes,
        "sequences": sequences,
        "versions": versions,
    }


def test_migrations_from_empty_apply_everything_and_twice_is_a_no_op(db_path: Path) -> None:
    ensure_migrated(db_path)
    names = [f"{v:04d}_{n}" for v, n, _ in available_migrations()]
    before = schema_of(db_path)
    assert [f"{v:04d}_{n}" for v, n in before["versions"]] == names
    assert {"posts", "comments", "decisions", "audit_log", "campaigns"} <= {
        c[0] for c in before["columns"]
    }
    with connect(db_path) as con:
        assert migrate(con) == []  # nothing left to apply
    ensure_migrated(db_path)
    assert schema_of(db_path) == before


@pytest.fixture(scope="module")
def fresh_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("fresh") / "fresh.duckdb"
    ensure_migrated(path)
    return schema_of(path)


@pytest.mark.parametrize("up_to", [0] + [v for v, _, _ in available_migrations()])
def test_migrating_from_every_earlier_version_gives_the_fresh_schema(
    tmp_path: Path, up_to: int, fresh_schema: dict[str, Any]
) -> None:
    path = tmp_path / f"from-{up_to}.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("BEGIN TRANSACTION")
        applied = migrate(con, up_to=up_to)
        con.execute("COMMIT")
    finally:
        con.close()
    assert all(int(name[:4]) <= up_to for name in applied)
    # The next ordinary connection applies the rest.
    with connect(path) as con:
        con.execute("SELECT count(*) FROM posts").fetchall()
    assert schema_of(path) == fresh_schema


def test_a_restored_older_file_is_migrated_on_next_open(tmp_path: Path) -> None:
    """The migration check runs on every connection, not once per process."""
    path = tmp_path / "w.duckdb"
    # As if restored from a backup made before the later migrations existed.
    con = duckdb.connect(str(path))
    con.execute("BEGIN TRANSACTION")
    migrate(con, up_to=1)
    con.execute("COMMIT")
    con.close()
    with connect(path) as con:
        versions = [r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()]
    assert versions == sorted(v for v, _, _ in available_migrations())


CONTRACT = {
    "posts": {
        "post_number": "BIGINT",
        "url": "VARCHAR",
        "title": "VARCHAR",
        "author_username": "VARCHAR",
        "author_name": "VARCHAR",
        "book_slug": "VARCHAR",
        "created_at": "TIMESTAMP WITH TIME ZONE",
        "updated_at": "TIMESTAMP WITH TIME ZONE",
        "tags": "VARCHAR[]",
        "body_text": "VARCHAR",
        "comment_count_declared": "INTEGER",
        "gone": "BOOLEAN",
        "first_seen_at": "TIMESTAMP WITH TIME ZONE",
        "last_seen_at": "TIMESTAMP WITH TIME ZONE",
    },
    "comments": {
        "comment_id": "BIGINT",
        "post_number": "BIGINT",
        "author_username": "VARCHAR",
        "author_name": "VARCHAR",
        "created_at": "TIMESTAMP WITH TIME ZONE",
        "body_text": "VARCHAR",
    },
}


def test_contract_tables_have_the_contract_columns_types_and_keys(db_path: Path) -> None:
    ensure_migrated(db_path)
    with connect(db_path, read_only=True) as con:
        for table, wanted in CONTRACT.items():
            rows = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?",
                [table],
            ).fetchall()
            assert {name: dtype for name, dtype in rows if name in wanted} == wanted, table
        keys = dict(
            con.execute(
                "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
                "WHERE constraint_type = 'PRIMARY KEY' AND table_name IN ('posts', 'comments')"
            ).fetchall()
        )
    assert keys == {"posts": ["post_number"], "comments": ["comment_id"]}


def test_connect_commits_on_success_and_rolls_back_on_error(db_path: Path) -> None:
    with connect(db_path) as con:
        con.execute("INSERT INTO audit_log (actor, action) VALUES ('t', 'kept')")
    with pytest.raises(RuntimeError), connect(db_path) as con:
        con.execute("INSERT INTO audit_log (actor, action) VALUES ('t', 'dropped')")
        raise RuntimeError("boom")
    with connect(db_path, read_only=True) as con:
        con.execute("INSERT INTO audit_log (actor, action) VALUES ('t', 'read-only')")
    actions = run(lambda c: c.execute("SELECT action FROM audit_log").fetchall(), db_path)
    assert actions == [("kept",)]


def test_timestamps_come_back_in_bangkok(db_path: Path) -> None:
    value = run(
        lambda c: c.execute("SELECT TIMESTAMPTZ '2013-08-31 16:59:59+00'").fetchone()[0], db_path
    )
    assert value.utcoffset().total_seconds() == 7 * 3600
    assert (value.hour, value.minute) == (23, 59)


def test_read_only_on_a_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with (
        pytest.raises(UserError, match="No warehouse"),
        connect(tmp_path / "none.duckdb", read_only=True),
    ):
        pass
    assert not (tmp_path / "none.duckdb").exists()


def test_a_file_that_is_not_a_database_is_a_user_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("this is not a database\n" * 100)
    with pytest.raises(UserError, match="Cannot open the warehouse"), connect(bogus):
        pass


def test_resolve_db_path_prefers_the_argument_then_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from warehouse.settings import get_settings

    assert resolve_db_path(tmp_path / "a.duckdb") == tmp_path / "a.duckdb"
    monkeypatch.setenv("TAGDRAW_DB", str(tmp_path / "env.duckdb"))
    get_settings.cache_clear()
    try:
        assert resolve_db_path(None) == tmp_path / "env.duckdb"
    finally:
        get_settings.cache_clear()


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from warehouse.db import connect
    with connect(sys.argv[1]) as con:
        con.execute("INSERT INTO audit_log (actor, action) VALUES ('holder', 'hold')")
        Path(sys.argv[2]).write_text("ready")
        time.sleep(float(sys.argv[3]))
    """
)


def _start(script: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, "the helper process died"
        assert time.monotonic() < deadline, "the helper process never got ready"
        time.sleep(0.02)


def test_busy_database_waits_then_names_the_holder(db_path: Path, tmp_path: Path) -> None:
    ensure_migrated(db_path)
    ready = tmp_path / "ready"
    holder = _start(HOLDER, str(db_path), str(ready), "2.5")
    try:
        _wait_for(ready, holder)
        started = time.monotonic()
        with pytest.raises(DatabaseBusy) as info, connect(db_path, deadline_s=0.5):
            pass
        assert time.monotonic() - started >= 0.5
        message = str(info.value)
        assert f"process {holder.pid}" in message and "python" in message.lower()
        assert "\n" not in message
        # With a longer deadline we simply wait until the holder commits.
        rows = run(
            lambda c: c.execute("SELECT action FROM audit_log").fetchall(), db_path, deadline_s=30
        )
        assert rows == [("hold",)]
    finally:
        holder.kill()
        holder.wait()


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime
    from pathlib import Path
    from warehouse.db import connect
    from warehouse.models import Post
    from warehouse.store import store_posts
    from warehouse.thai import BANGKOK
    db, ready, first, n, mode = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    now = datetime.now(BANGKOK)
    def batch(start):
        return [Post(k, f"/posts/{k}", f"title {k}", "u", "U", None, now, None, ("kw",), ("kw",),
                     "body " * 50, None, 0) for k in range(start, start + n)]
    if mode == "sleep-before-commit":
        with connect(db) as con:
            store_posts(con, batch(first), seen_at=now)
            ready.write_text("ready")
            time.sleep(60)
    else:  # commit batch after batch until killed at a random moment
        start, done = first, 0
        while True:
            with connect(db) as con:
                store_posts(con, batch(start), seen_at=now)
            start, done = start + n, done + 1
            ready.with_suffix(".tmp").write_text(str(done))
            ready.with_suffix(".tmp").replace(ready)
    """
)


@pytest.mark.slow
def test_sigkill_before_commit_leaves_none_of_the_batch(db_path: Path, tmp_path: Path) -> None:
    ensure_migrated(db_path)
    ready = tmp_path / "ready"
    proc = _start(KILLED_WRITER, str(db_path), str(ready), "1000", "5000", "sleep-before-commit")
    try:
        _wait_for(ready, proc, timeout=60)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with connect(db_path) as con:
        assert con.execute("SELECT count(*) FROM posts").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM post_versions").fetchone() == (0,)
        con.execute("INSERT INTO audit_log (actor, action) VALUES ('after', 'write works')")


@pytest.mark.slow
def test_sigkill_mid_stream_leaves_whole_batches_only(db_path: Path, tmp_path: Path) -> None:
    ensure_migrated(db_path)
    ready = tmp_path / "ready"
    batch = 2000
    proc = _start(KILLED_WRITER, str(db_path), str(ready), "1", str(batch), "loop")
    try:
        _wait_for(ready, proc, timeout=60)
        while int(ready.read_text() or 0) < 2:
            time.sleep(0.01)
        time.sleep(random.uniform(0.0, 0.3))  # somewhere inside the next batch
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with connect(db_path) as con:
        posts, top = con.execute(
            "SELECT count(*), coalesce(max(post_number), 0) FROM posts"
        ).fetchone()
        versions = con.execute("SELECT count(*) FROM post_versions").fetchone()[0]
    print(f"after SIGKILL: {posts} posts in {posts // batch} whole batches")
    assert posts >= 2 * batch
    assert posts % batch == 0 and posts == top and versions == posts


def test_threads_of_one_process_share_the_file(db_path: Path) -> None:
    """Streamlit serves sessions from threads of one process: they share DuckDB's database
    instance, and conflicting transactions are retried by run()."""
    from concurrent.futures import ThreadPoolExecutor

    ensure_migrated(db_path)

    def work(thread: int) -> int:
        for i in range(15):
            run(
                lambda con, i=i: con.execute(
                    "INSERT INTO audit_log (actor, action) VALUES (?, ?)", [f"t{thread}", f"a{i}"]
                ),
                db_path,
            )
            run(
                lambda con: con.execute("SELECT count(*) FROM audit_log").fetchone(),
                db_path,
                read_only=True,
            )
        return thread

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(work, range(4))) == [0, 1, 2, 3]
    assert run(lambda con: con.execute("SELECT count(*) FROM audit_log").fetchone(), db_path) == (
        60,
    )


def test_the_file_is_released_when_the_last_user_in_the_process_is_done(db_path: Path) -> None:
    """Transactions of one process overlapping in threads share one opening of the file;
    the lock goes when the last of them ends, not before and not later."""
    import threading

    ensure_migrated(db_path)
    probe = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"

    def other_process_can_open() -> bool:
        done = subprocess.run(
            [sys.executable, "-c", probe, str(db_path)], capture_output=True, text=True
        )
        return done.returncode == 0

    first_in = threading.Event()
    second_done = threading.Event()

    def second() -> None:
        first_in.wait()
        run(
            lambda con: con.execute("INSERT INTO audit_log (actor, action) VALUES ('b', 'x')"),
            db_path,
        )
        second_done.set()

    worker = threading.Thread(target=second)
    worker.start()
    with connect(db_path) as con:
        con.execute("INSERT INTO audit_log (actor, action) VALUES ('a', 'x')")
        first_in.set()
        assert second_done.wait(30)
        # The other thread has finished; this one still holds the file.
        assert not other_process_can_open()
    worker.join()
    assert other_process_can_open()
    assert run(lambda c: c.execute("SELECT count(*) FROM audit_log").fetchone(), db_path) == (2,)


def test_settings_of_one_transaction_stay_with_it(db_path: Path) -> None:
    """The crawl's writes run DuckDB on one thread with capped memory; the transactions
    after them, in the same process, have DuckDB's defaults again."""
    ensure_migrated(db_path)

    def settings(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
        row = con.execute(
            "SELECT current_setting('threads')::VARCHAR, current_setting('memory_limit')"
        ).fetchone()
        assert row is not None
        return str(row[0]), str(row[1])

    default = run(settings, db_path)
    capped = run(settings, db_path, config={"threads": 1, "memory_limit": "64MB"})
    assert capped == ("1", "61.0 MiB"), capped  # 64 MB as DuckDB shows it
    assert run(settings, db_path) == default != capped
